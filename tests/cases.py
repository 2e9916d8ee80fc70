"""One run of every public estimator and function, as a table.

Shared by test_determinism.py (the same bits across runs and thread counts)
and test_thread_safety.py (the same bits when runs share the process's
threads). Each case fits on its own data set and returns what it produced
as a dict of arrays, so two runs compare with ``assert_same_bits``.

The data sets are large enough that every kernel cuts them into several
chunks (so that two threads really split the work) and small enough that
the whole table runs in a few seconds.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.datasets import make_blobs, make_moons

import turbocluster as tc


def _blobs(n_samples, n_features, centers, dtype=np.float64, seed=0):
    X, _ = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=1.5, random_state=seed)
    return X.astype(dtype)


def _fitted(estimator, *names):
    return {name: getattr(estimator, name) for name in names}


def _kmeans(algorithm, dtype):
    X = _blobs(6000, 8, 12, dtype)
    model = tc.KMeans(n_clusters=12, algorithm=algorithm, n_init=2, random_state=1).fit(X)
    return _fitted(model, "cluster_centers_", "labels_", "inertia_", "n_iter_") | {
        "transform": model.transform(X[:500])}


def _kmeans_sparse():
    X = sp.random(6000, 40, density=0.1, format="csr", random_state=2)
    model = tc.KMeans(n_clusters=8, n_init=2, random_state=1).fit(X)
    return _fitted(model, "cluster_centers_", "labels_", "inertia_")


def _minibatch(dtype):
    X = _blobs(8000, 6, 10, dtype)
    model = tc.MiniBatchKMeans(n_clusters=10, batch_size=512, random_state=3).fit(X)
    out = _fitted(model, "cluster_centers_", "labels_", "inertia_", "n_steps_")
    model.partial_fit(X[:1000])
    return out | {"after_partial_fit": model.cluster_centers_}


def _kmeans_plusplus():
    X = _blobs(6000, 8, 12)
    centers, indices = tc.kmeans_plusplus(X, 12, random_state=4)
    return {"centers": centers, "indices": indices}


def _mixture(estimator, dtype):
    X = _blobs(4000, 5, 4, dtype)
    model = estimator.fit(X)
    return _fitted(model, "weights_", "means_", "covariances_", "lower_bound_", "n_iter_") | {
        "score_samples": model.score_samples(X), "predict_proba": model.predict_proba(X)}


def _anomaly():
    X = _blobs(4000, 5, 4)
    model = tc.GaussianMixtureAnomalyDetector(n_components=4, contamination=0.05,
                                              random_state=0).fit(X)
    return _fitted(model, "offset_", "means_") | {"decision": model.decision_function(X)}


def _dbscan(dtype, n_features):
    X = _blobs(5000, n_features, 6, dtype)
    if n_features == 2:
        X = make_moons(n_samples=5000, noise=0.08, random_state=0)[0].astype(dtype)
    eps = 0.1 if n_features == 2 else 2.5
    model = tc.DBSCAN(eps=eps, min_samples=8).fit(X)
    return _fitted(model, "labels_", "core_sample_indices_", "components_") | {
        "predict": model.predict(X[:500] + 0.01)}


def _agglomerative(linkage, dtype, connectivity=False):
    X = _blobs(2500, 8, 10, dtype)
    graph = None
    if connectivity:
        from sklearn.neighbors import kneighbors_graph

        # One connected component: no warning, no completion.
        X = _blobs(2500, 8, 1, dtype)
        graph = kneighbors_graph(X, 10, include_self=False)
    model = tc.AgglomerativeClustering(n_clusters=10, linkage=linkage, connectivity=graph,
                                       compute_distances=True).fit(X)
    return _fitted(model, "labels_", "children_", "distances_") | {
        "linkage_matrix": tc.linkage_matrix(model)}


def _silhouette(dtype):
    X = _blobs(3000, 8, 6, dtype)
    labels = np.arange(len(X)) % 6
    return {"samples": tc.silhouette_samples(X, labels),
            "score": tc.silhouette_score(X, labels, sample_size=1000, random_state=0)}


def _select_n_clusters():
    X = _blobs(3000, 4, 5)
    selection = tc.select_n_clusters(X, range(2, 7))
    return {"inertia": selection.inertia, "silhouette": selection.silhouette,
            "best": selection.best_n_clusters_, "labels": selection.best_labels_}


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[], dict]

    def __repr__(self):
        return self.name


f32, f64 = np.float32, np.float64
CASES = [
    Case("KMeans-lloyd-f64", lambda: _kmeans("lloyd", f64)),
    Case("KMeans-lloyd-f32", lambda: _kmeans("lloyd", f32)),
    Case("KMeans-elkan-f64", lambda: _kmeans("elkan", f64)),
    Case("KMeans-sparse", _kmeans_sparse),
    Case("MiniBatchKMeans-f64", lambda: _minibatch(f64)),
    Case("MiniBatchKMeans-f32", lambda: _minibatch(f32)),
    Case("kmeans_plusplus", _kmeans_plusplus),
    *(Case(f"GaussianMixture-{kind}-{np.dtype(dtype).name}",
           lambda kind=kind, dtype=dtype: _mixture(
               tc.GaussianMixture(4, covariance_type=kind, random_state=0), dtype))
      for kind in ("full", "tied", "diag", "spherical") for dtype in (f64, f32)),
    Case("BayesianGaussianMixture-full",
         lambda: _mixture(tc.BayesianGaussianMixture(n_components=6, max_iter=500, random_state=0), f64)),
    Case("BayesianGaussianMixture-diag-f32",
         lambda: _mixture(tc.BayesianGaussianMixture(
             n_components=6, covariance_type="diag", max_iter=500, random_state=0), f32)),
    Case("GaussianMixtureAnomalyDetector", _anomaly),
    Case("DBSCAN-grid-f64", lambda: _dbscan(f64, 2)),
    Case("DBSCAN-grid-f32", lambda: _dbscan(f32, 2)),
    Case("DBSCAN-brute-f64", lambda: _dbscan(f64, 10)),
    *(Case(f"AgglomerativeClustering-{linkage}-{np.dtype(dtype).name}",
           lambda linkage=linkage, dtype=dtype: _agglomerative(linkage, dtype))
      for linkage in ("ward", "complete", "average", "single") for dtype in (f64, f32)),
    *(Case(f"AgglomerativeClustering-{linkage}-graph",
           lambda linkage=linkage: _agglomerative(linkage, f64, connectivity=True))
      for linkage in ("ward", "complete", "average", "single")),
    Case("silhouette-f64", lambda: _silhouette(f64)),
    Case("silhouette-f32", lambda: _silhouette(f32)),
    Case("select_n_clusters", _select_n_clusters),
]


def assert_same_bits(first, second):
    """Every output of two runs equal to the bit."""
    assert first.keys() == second.keys()
    for key in first:
        a, b = np.asarray(first[key]), np.asarray(second[key])
        assert a.dtype == b.dtype, key
        assert_array_equal(a, b, err_msg=key, strict=True)  # shows where they differ
        assert a.tobytes() == b.tobytes(), key              # and -0.0 != 0.0
