"""turbocluster: faster drop-in replacements for scikit-learn's unsupervised estimators."""

from ._kmeans import KMeans, kmeans_plusplus
from ._minibatch import MiniBatchKMeans
from ._silhouette import silhouette_samples, silhouette_score

__version__ = "0.1.0.dev0"

__all__ = ["KMeans", "MiniBatchKMeans", "kmeans_plusplus", "silhouette_samples",
           "silhouette_score", "__version__"]
