"""The order of the gallery's examples: the classic figures in teaching order.

sphinx-gallery imports this class by its name (``within_subsection_order``
in conf.py); an example missing from ORDER goes after the listed ones, by
file name.
"""

ORDER = [
    "plot_kmeans_elbow.py",
    "plot_silhouette_diagrams.py",
    "plot_dbscan_moons.py",
    "plot_dendrogram.py",
    "plot_gmm_density_anomalies.py",
    "plot_color_quantization.py",
    "plot_semi_supervised_digits.py",
    "plot_gmm_bic_aic.py",
]


class ExampleOrder:
    """Sort key of an example's file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        position = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return position, filename

    def __repr__(self):
        return f"{type(self).__name__}()"
