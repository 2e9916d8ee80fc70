"""turbocluster: faster drop-in replacements for scikit-learn's unsupervised estimators."""

from ._agglomerative import AgglomerativeClustering, linkage_matrix
from ._anomaly import GaussianMixtureAnomalyDetector
from ._bayesian_mixture import BayesianGaussianMixture
from ._dbscan import DBSCAN, dbscan
from ._kmeans import KMeans, kmeans_plusplus
from ._minibatch import MiniBatchKMeans
from ._mixture import GaussianMixture
from ._plot import plot_dendrogram
from ._selection import ClusterCountSelection, knee_point, select_n_clusters
from ._silhouette import silhouette_samples, silhouette_score

__version__ = "0.1.0.dev0"

__all__ = ["AgglomerativeClustering", "linkage_matrix", "BayesianGaussianMixture", "DBSCAN", "dbscan",
           "ClusterCountSelection", "GaussianMixture", "GaussianMixtureAnomalyDetector", "KMeans", "MiniBatchKMeans", "kmeans_plusplus",
           "knee_point", "plot_dendrogram", "select_n_clusters", "silhouette_samples", "silhouette_score",
           "__version__"]
