"""turbocluster: faster drop-in replacements for scikit-learn's unsupervised estimators."""

from ._kmeans import KMeans, kmeans_plusplus

__version__ = "0.1.0.dev0"

__all__ = ["KMeans", "kmeans_plusplus", "__version__"]
