"""
The dendrogram of a hierarchical clustering
===========================================

Agglomerative clustering starts from one cluster per sample and merges the
two closest clusters until one is left; the *dendrogram* draws that tree,
each merge at the height of its distance. Cutting the tree at a height gives
a flat clustering, and long vertical branches show where a cut is safe.

Here :class:`~turbocluster.AgglomerativeClustering` builds the full Ward tree
of the iris measurements (``distance_threshold=0`` keeps every merge and its
distance), :func:`~turbocluster.plot_dendrogram` draws its top levels, and
:func:`~turbocluster.linkage_matrix` turns the fitted model into SciPy's
linkage matrix, so that SciPy's ``fcluster`` can cut it.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.cluster import AgglomerativeClustering as SklearnAgglomerative
from sklearn.datasets import load_iris
from sklearn.metrics import adjusted_rand_score

from turbocluster import AgglomerativeClustering, linkage_matrix, plot_dendrogram

iris = load_iris()
X = iris.data


def median_time(run):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up."""
    run()
    return float(np.median(repeat(run, number=1, repeat=3)))


# %%
# The whole tree, its top levels drawn
# ------------------------------------

model = AgglomerativeClustering(n_clusters=None, distance_threshold=0,
                                linkage="ward").fit(X)
reference = SklearnAgglomerative(n_clusters=None, distance_threshold=0,
                                 linkage="ward").fit(X)
# Iris has duplicate samples, so some merges happen at equal heights, and
# those may come in another order than scikit-learn's. The heights are its
# own, and so are the cuts into 2 to 7 clusters (checked here).
np.testing.assert_allclose(model.distances_, reference.distances_, rtol=1e-10)
for k in range(2, 8):
    assert np.array_equal(AgglomerativeClustering(k).fit(X).labels_,
                          SklearnAgglomerative(k).fit(X).labels_)
print("merges:", model.children_.shape[0], " highest merge:",
      round(float(model.distances_.max()), 2))

fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
plot_dendrogram(model, ax=ax, truncate_mode="level", p=4, color_threshold=10)
ax.axhline(10, color="tab:red", linestyle="--", linewidth=1)
ax.set_title("Ward tree of iris, top 4 levels (a leaf: a sample's index, or "
             "a subtree's size in brackets)")
plt.show()

# %%
# Cutting the tree
# ----------------
# SciPy's ``fcluster`` cuts the linkage matrix at the dashed height; the cut
# agrees with the labels that ``AgglomerativeClustering(n_clusters=3)``
# gives, up to the numbering of the clusters.

Z = linkage_matrix(model)
cut = fcluster(Z, t=10, criterion="distance")
three = AgglomerativeClustering(n_clusters=3, linkage="ward").fit(X)
print("clusters below height 10:", np.unique(cut).size)
print("agreement with n_clusters=3 (adjusted Rand index):",
      adjusted_rand_score(cut, three.labels_))
print("agreement with the iris species (adjusted Rand index):",
      round(adjusted_rand_score(iris.target, three.labels_), 3))

# %%
# Time against scikit-learn
# -------------------------
# The full Ward tree with its distances, same data and parameters (medians
# of 3 runs after a warm-up).

ours = median_time(lambda: AgglomerativeClustering(
    n_clusters=None, distance_threshold=0, linkage="ward").fit(X))
theirs = median_time(lambda: SklearnAgglomerative(
    n_clusters=None, distance_threshold=0, linkage="ward").fit(X))
print(f"AgglomerativeClustering (ward, full tree), 150 x 4: turbocluster "
      f"{ours * 1e3:.2f} ms, scikit-learn {theirs * 1e3:.2f} ms "
      f"({theirs / ours:.1f}x)")
