"""The benchmark workloads: each one a name, a data set and two callables.

A workload runs "ours" (turbocluster) and a "reference" (scikit-learn) on the
same data and reads a quality figure (inertia) from each result, so that a
speed-up is never bought with a worse clustering. ``run.py`` does the timing;
this module only says what is timed.

Data sets are built by :class:`DataCache`, once per (kind, dtype), and dropped
as soon as no remaining workload needs them.
"""

import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp
import sklearn.cluster
import sklearn.metrics
import sklearn.mixture
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning

import turbocluster

DTYPES = (np.float64, np.float32)


@dataclass(frozen=True)
class Sizes:
    """Problem sizes shared by every workload of one run."""

    n_samples: int
    n_features: int
    n_clusters: int  # also the number of blobs generated
    max_iter: int
    # Sparse data: scipy.sparse.random's shape, and the TF-IDF documents'.
    sparse_shape: tuple = (50_000, 20_000)
    text_shape: tuple = (200_000, 50_000)  # documents, vocabulary
    # predict / score / transform: samples and fitted centers.
    predict_shape: tuple = (200_000, 16)
    predict_clusters: int = 20
    # silhouette_score: samples x features, and the generator's clusters.
    silhouette_shape: tuple = (30_000, 16)
    silhouette_clusters: int = 10
    # MiniBatchKMeans: samples x features (as many blobs as clusters), passes.
    minibatch_shape: tuple = (1_000_000, 32)
    minibatch_clusters: int = 64
    minibatch_max_iter: int = 20
    # Gaussian mixtures: samples x features (as many blobs as components),
    # EM iterations; the variational mixture's data, blobs and components.
    gmm_shape: tuple = (100_000, 16)
    gmm_components: int = 16
    gmm_max_iter: int = 50
    bgmm_shape: tuple = (50_000, 8)
    bgmm_centers: int = 10
    bgmm_components: int = 20
    # DBSCAN: the samples of dbscan_2d (before its 5% noise), dbscan_10d and
    # dbscan_dense (the sizes; eps and min_samples do not change).
    dbscan_2d_samples: int = 300_000
    dbscan_10d_samples: int = 100_000
    dbscan_dense_samples: int = 200_000
    # Agglomerative clustering: the samples of linkage_* (scikit-learn's
    # condensed matrix: 1.6 GB at 20,000) and of linkage_large_* (ours only:
    # scikit-learn would need 40 GB).
    linkage_samples: int = 20_000
    linkage_large_samples: int = 100_000


FULL = Sizes(n_samples=500_000, n_features=32, n_clusters=64, max_iter=50)
# Seconds for the whole suite: used by tests/test_benchmarks.py.
QUICK = Sizes(n_samples=20_000, n_features=32, n_clusters=16, max_iter=10,
              sparse_shape=(5_000, 2_000), text_shape=(5_000, 5_000),
              predict_shape=(20_000, 16), silhouette_shape=(3_000, 16),
              minibatch_shape=(50_000, 32), minibatch_max_iter=3,
              gmm_shape=(5_000, 16), gmm_max_iter=5, bgmm_shape=(5_000, 8),
              dbscan_2d_samples=5_000, dbscan_10d_samples=3_000,
              dbscan_dense_samples=5_000, linkage_samples=1_000,
              linkage_large_samples=2_000)

# cluster_std of make_blobs per data-set kind. "overlap" blobs are so wide
# that Lloyd never reaches strict convergence: every fit runs max_iter
# iterations, which makes the seconds-per-iteration figure comparable.
CLUSTER_STD = {"blobs": 1.0, "overlap": 4.0}


###############################################################################
# Data


class DataCache:
    """Builds each data set once and frees it after its last user.

    ``uses`` counts, per (kind, dtype) key, the workloads still to run on it;
    :meth:`release` is called once per workload when it is done.
    """

    def __init__(self, sizes, workloads):
        self.sizes = sizes
        self.uses = {}
        for w in workloads:
            self.uses[w.data_key] = self.uses.get(w.data_key, 0) + 1
        self._X = {}
        self._init = {}

    def X(self, key):
        if key not in self._X:
            kind, dtype = key
            if kind in CLUSTER_STD:
                X, _ = make_blobs(
                    n_samples=self.sizes.n_samples,
                    n_features=self.sizes.n_features,
                    centers=self.sizes.n_clusters,
                    cluster_std=CLUSTER_STD[kind],
                    random_state=0,
                )
            else:
                X = DATA[kind](self.sizes)
            if sp.issparse(X):
                self._X[key] = X.astype(dtype)
            elif kind == "fortran":
                self._X[key] = np.asfortranarray(X, dtype=dtype)
            else:
                self._X[key] = np.ascontiguousarray(X, dtype=dtype)
        return self._X[key]

    def fixed_init(self, key):
        """k-means++ centers computed once (by scikit-learn, untimed).

        The same array seeds ours and the reference in the per-iteration
        timing, so both start from the same point and run the same number of
        iterations.
        """
        if key not in self._init:
            centers, _ = sklearn.cluster.kmeans_plusplus(
                self.X(key), self.sizes.n_clusters, random_state=0
            )
            self._init[key] = centers
        return self._init[key]

    def release(self, key):
        self.uses[key] -= 1
        if self.uses[key] <= 0:
            self._X.pop(key, None)
            self._init.pop(key, None)


def tfidf_documents(n_documents, n_terms, n_topics=20, terms_per_document=80,
                    zipf_a=1.2, random_state=0):
    """TF-IDF-like documents: each a topic and Zipf-drawn terms.

    Each topic is a seeded permutation of the vocabulary; a document draws
    ``terms_per_document`` ranks from a Zipf distribution truncated to the
    vocabulary (P(rank r) proportional to r^-zipf_a) and maps them through
    its topic's permutation; the counts become TF-IDF (TfidfTransformer).
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.default_rng(random_state)
    topics = np.stack([rng.permutation(n_terms) for _ in range(n_topics)])
    p = np.arange(1, n_terms + 1, dtype=np.float64) ** -zipf_a
    ranks = rng.choice(n_terms, size=(n_documents, terms_per_document), p=p / p.sum())
    doc_topic = rng.integers(n_topics, size=n_documents)
    terms = topics[doc_topic[:, None], ranks]
    rows = np.repeat(np.arange(n_documents), terms_per_document)
    counts = sp.csr_matrix((np.ones(rows.size), (rows, terms.ravel())),
                           shape=(n_documents, n_terms))
    counts.sum_duplicates()
    return TfidfTransformer().fit_transform(counts).tocsr()


# Data sets other than blobs: kind -> builder from the run's Sizes.
DATA = {
    "sparse_random": lambda sizes: sp.random(
        *sizes.sparse_shape, density=0.001, format="csr", random_state=0),
    "sparse_text": lambda sizes: tfidf_documents(*sizes.text_shape),
    "digits": lambda sizes: load_digits().data,
    "elbow_blobs": lambda sizes: make_blobs(
        n_samples=5_000, n_features=8, centers=5, random_state=0)[0],
    "predict_blobs": lambda sizes: make_blobs(
        n_samples=sizes.predict_shape[0], n_features=sizes.predict_shape[1],
        centers=sizes.predict_clusters, random_state=0)[0],
    "silhouette_blobs": lambda sizes: silhouette_blobs(sizes)[0],
    "gmm_blobs": lambda sizes: make_blobs(
        n_samples=sizes.gmm_shape[0], n_features=sizes.gmm_shape[1],
        centers=sizes.gmm_components, random_state=0)[0],
    "bgmm_blobs": lambda sizes: make_blobs(
        n_samples=sizes.bgmm_shape[0], n_features=sizes.bgmm_shape[1],
        centers=sizes.bgmm_centers, random_state=0)[0],
    "minibatch_blobs": lambda sizes: make_blobs(
        n_samples=sizes.minibatch_shape[0], n_features=sizes.minibatch_shape[1],
        centers=sizes.minibatch_clusters, random_state=0)[0],
    "dbscan_2d": lambda sizes: dbscan_2d_data(sizes.dbscan_2d_samples),
    "dbscan_10d": lambda sizes: make_blobs(
        n_samples=sizes.dbscan_10d_samples, n_features=10, centers=20,
        random_state=0)[0],
    # A mean neighbourhood of 985 samples within eps=0.83 at 200,000 samples
    # (counted with a KDTree on every 20th sample).
    "dbscan_dense": lambda sizes: make_blobs(
        n_samples=sizes.dbscan_dense_samples, n_features=3, centers=10,
        random_state=0)[0],
    "linkage_blobs": lambda sizes: make_blobs(
        n_samples=sizes.linkage_samples, n_features=16, centers=20, random_state=0)[0],
    "linkage_large": lambda sizes: make_blobs(
        n_samples=sizes.linkage_large_samples, n_features=16, centers=20,
        random_state=0)[0],
    "fortran": lambda sizes: make_blobs(
        n_samples=sizes.n_samples, n_features=sizes.n_features,
        centers=sizes.n_clusters, cluster_std=CLUSTER_STD["overlap"],
        random_state=0)[0],
}


def dbscan_2d_data(n_samples, noise=0.05, box=(-50.0, 50.0)):
    """20 tight 2-D blobs in ``box`` plus ``noise`` x n_samples uniform samples
    over the same box (seeded), shuffled together."""
    X, _ = make_blobs(n_samples=n_samples, n_features=2, centers=20,
                      cluster_std=0.5, random_state=0, center_box=box)
    rng = np.random.default_rng(0)
    uniform = rng.uniform(*box, size=(int(noise * n_samples), 2))
    X = np.concatenate([X, uniform])
    return X[rng.permutation(X.shape[0])]


def labels_fingerprint(labels):
    """A positive number that depends on a clustering only up to a renaming
    of its clusters: equal for two label arrays that are the same partition
    (noise -1 included), different (with near certainty) otherwise.

    The clusters are renumbered 1, 2, ... in the order of their first sample
    (noise 0); the figure is the sum of those numbers weighted by fixed
    pseudo-random weights in [1, 2), summed in float64 in sample order.
    """
    labels = np.asarray(labels)
    clustered = labels >= 0
    _, first, inverse = np.unique(labels[clustered], return_index=True,
                                  return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(1, first.size + 1)
    canonical = np.zeros(labels.shape[0], dtype=np.float64)
    canonical[clustered] = rank[inverse]
    weights = np.random.default_rng(0).uniform(1.0, 2.0, size=labels.shape[0])
    return float(np.dot(canonical, weights))


def silhouette_blobs(sizes):
    """The silhouette workload's samples and the generator's labels."""
    return make_blobs(n_samples=sizes.silhouette_shape[0],
                      n_features=sizes.silhouette_shape[1],
                      centers=sizes.silhouette_clusters, random_state=0)


def potential(X, centers, chunk_rows=65_536):
    """Sum of squared distances of X to its nearest center, in float64.

    Computed chunk by chunk so that the distance matrix stays small.
    """
    centers = np.asarray(centers, dtype=np.float64)
    c_sq = np.einsum("ij,ij->i", centers, centers)
    total = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        chunk = X[start:start + chunk_rows]
        chunk = np.asarray(chunk.toarray() if sp.issparse(chunk) else chunk,
                           dtype=np.float64)
        d = np.einsum("ij,ij->i", chunk, chunk)[:, None] - 2.0 * (chunk @ centers.T)
        d += c_sq[None, :]
        total += float(np.maximum(d.min(axis=1), 0.0).sum())
    return total


def labelled_potential(X, centers, labels, chunk_rows=65_536):
    """Sum of squared distances of X to the centers its labels name, in float64."""
    centers = np.asarray(centers, dtype=np.float64)
    total = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        chunk = X[start:start + chunk_rows]
        chunk = np.asarray(chunk.toarray() if sp.issparse(chunk) else chunk,
                           dtype=np.float64)
        diff = chunk - centers[labels[start:start + chunk_rows]]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


###############################################################################
# Workloads


@dataclass(frozen=True)
class Workload:
    """One line of the benchmark table.

    ``ours`` and ``reference`` take X and return a result; ``inertia`` reads
    the quality figure from a result (given X too) and ``n_iter`` the number
    of iterations (None where it does not apply). ``reference`` None: ours
    alone (scikit-learn could not run it). ``anchors``: other libraries'
    callables on X (name -> callable), timed as the reference is and reported
    in the notes, not compared. When ``from_init`` is set,
    it is a pair (ours, reference) of callables taking (X, init) that fit from
    a fixed init array: the runner times them separately and reports seconds
    per iteration.
    """

    name: str
    dtype: type
    kind: str  # data-set kind, a key of CLUSTER_STD
    ours: Callable
    reference: Optional[Callable]
    inertia: Callable
    n_iter: Optional[Callable] = None
    from_init: Optional[tuple] = None
    memory: bool = False  # report peak traced memory under --memory
    # Report seconds per iteration as the fit's seconds over n_iter (fits
    # whose initialisation is a small part of the time).
    per_iteration: bool = False
    anchors: dict = field(default_factory=dict)

    @property
    def label(self):
        return f"{self.name}[{np.dtype(self.dtype).name}]"

    @property
    def data_key(self):
        return (self.kind, self.dtype)


def _kmeans_workload(name, kind, algorithm, dtype, sizes, per_iteration):
    params = dict(
        n_clusters=sizes.n_clusters,
        algorithm=algorithm,
        init="k-means++",
        n_init=1,
        max_iter=sizes.max_iter,
        tol=0,
        random_state=0,
    )

    def fit(cls):
        return lambda X: cls(**params).fit(X)

    def fit_from(cls):
        return lambda X, init: cls(**{**params, "init": init}).fit(X)

    return Workload(
        name=name,
        dtype=dtype,
        kind=kind,
        ours=fit(turbocluster.KMeans),
        reference=fit(sklearn.cluster.KMeans),
        inertia=lambda est, X: est.inertia_,
        n_iter=lambda est: est.n_iter_,
        from_init=(
            (fit_from(turbocluster.KMeans), fit_from(sklearn.cluster.KMeans))
            if per_iteration else None
        ),
        memory=algorithm == "elkan",
    )


def _init_workload(dtype, sizes):
    def seed(fn):
        return lambda X: fn(X, sizes.n_clusters, random_state=0)

    return Workload(
        name="kmeans_init",
        dtype=dtype,
        kind="blobs",
        ours=seed(turbocluster.kmeans_plusplus),
        reference=seed(sklearn.cluster.kmeans_plusplus),
        inertia=lambda result, X: potential(X, result[0]),
    )


def _fit_workload(name, kind, dtype, **params):
    """A plain fit of both KMeans on a data set (all iterations timed)."""
    def fit(cls):
        return lambda X: cls(**params).fit(X)

    return Workload(
        name=name, dtype=dtype, kind=kind,
        ours=fit(turbocluster.KMeans), reference=fit(sklearn.cluster.KMeans),
        inertia=lambda est, X: est.inertia_, n_iter=lambda est: est.n_iter_,
        memory=kind.startswith("sparse"),
    )


def _elbow_workload(dtype):
    """The loop a user writes for an inertia curve: k = 1..10, n_init=10."""
    def loop(cls):
        return lambda X: [cls(n_clusters=k, n_init=10, random_state=0).fit(X)
                          for k in range(1, 11)]

    return Workload(
        name="kmeans_small_elbow", dtype=dtype, kind="elbow_blobs",
        ours=loop(turbocluster.KMeans), reference=loop(sklearn.cluster.KMeans),
        inertia=lambda fits, X: sum(est.inertia_ for est in fits),
    )


def _method_workload(name, kind, dtype, method, n_clusters):
    """One method of a fitted KMeans (fitted once, untimed, in the warm-up)."""
    fitted = {}

    def call(cls):
        def run(X):
            if cls not in fitted:
                fitted[cls] = cls(n_clusters=n_clusters, random_state=0).fit(X)
            return fitted[cls], getattr(fitted[cls], method)(X)
        return run

    def quality(result, X):
        # Each method's output as the inertia it implies.
        est, out = result
        if method == "score":
            return -out
        if method == "transform":
            return float(np.sum(np.min(np.asarray(out, dtype=np.float64), axis=1) ** 2))
        return labelled_potential(X, est.cluster_centers_, out)

    return Workload(
        name=name, dtype=dtype, kind=kind,
        ours=call(turbocluster.KMeans), reference=call(sklearn.cluster.KMeans),
        inertia=quality,
    )


def _silhouette_workload(dtype, sizes):
    """silhouette_score of blobs labelled by their generator (the score is
    shown in the inertia columns)."""
    labels = {}

    def score(fn):
        def run(X):
            if "y" not in labels:  # untimed: in the warm-up
                labels["y"] = silhouette_blobs(sizes)[1]
            return fn(X, labels["y"])
        return run

    return Workload(
        name="silhouette", dtype=dtype, kind="silhouette_blobs",
        ours=score(turbocluster.silhouette_score),
        reference=score(sklearn.metrics.silhouette_score),
        inertia=lambda result, X: result, memory=True,
    )


def _minibatch_workload(dtype, sizes):
    """MiniBatchKMeans on blobs, every step run (no early stop); the quality
    figure is the inertia of the whole data (compute_labels)."""
    params = dict(n_clusters=sizes.minibatch_clusters, batch_size=4096,
                  max_iter=sizes.minibatch_max_iter, n_init=1, random_state=0,
                  max_no_improvement=None, tol=0)

    def fit(cls):
        return lambda X: cls(**params).fit(X)

    return Workload(
        name="minibatch", dtype=dtype, kind="minibatch_blobs",
        ours=fit(turbocluster.MiniBatchKMeans),
        reference=fit(sklearn.cluster.MiniBatchKMeans),
        inertia=lambda est, X: est.inertia_, n_iter=lambda est: est.n_steps_,
    )


def _mixture_workload(name, kind, dtype, estimator, **params):
    """A Gaussian mixture fitted by both libraries for a fixed number of EM
    iterations (tol=0). The quality figure is minus the final lower bound
    (for GaussianMixture the mean negative log-likelihood): lower is better,
    as for an inertia."""
    params = dict(tol=0, n_init=1, random_state=0, init_params="random_from_data",
                  **params)

    def fit(cls):
        def run(X):
            with warnings.catch_warnings():
                # tol=0 never converges: the warning is expected.
                warnings.simplefilter("ignore", ConvergenceWarning)
                return cls(**params).fit(X)
        return run

    return Workload(
        name=name, dtype=dtype, kind=kind,
        ours=fit(getattr(turbocluster, estimator)),
        reference=fit(getattr(sklearn.mixture, estimator)),
        inertia=lambda est, X: -est.lower_bound_, n_iter=lambda est: est.n_iter_,
        memory=True, per_iteration=True,
    )


def _dbscan_workload(name, dtype, **params):
    """DBSCAN fitted by both libraries on the data set of the same name. The
    quality figure is :func:`labels_fingerprint` of the labels: a zero
    difference says the two clusterings are the same up to cluster ids, as
    ``tests/test_dbscan.py`` asserts on smaller data."""

    def fit(cls):
        return lambda X: cls(**params).fit(X)

    return Workload(
        name=name, dtype=dtype, kind=name,
        ours=fit(turbocluster.DBSCAN), reference=fit(sklearn.cluster.DBSCAN),
        inertia=lambda est, X: labels_fingerprint(est.labels_), memory=True,
    )


def _linkage_anchors(linkage):
    """SciPy's linkage (always there) and fastcluster's (where installed) on
    the same samples: anchors for the reader, not references (they return a
    linkage matrix, not labels)."""
    from scipy.cluster import hierarchy

    anchors = {"scipy": lambda X: hierarchy.linkage(X, method=linkage)}
    try:
        import fastcluster
    except ImportError:
        return anchors
    anchors["fastcluster"] = lambda X: fastcluster.linkage_vector(X, method=linkage) \
        if linkage in ("ward", "single") else fastcluster.linkage(X, method=linkage)
    return anchors


def _linkage_workload(name, kind, dtype, linkage, reference=True):
    """AgglomerativeClustering(n_clusters=20, linkage=linkage) on blobs. The
    quality figure is :func:`labels_fingerprint` of the labels: equal figures
    say the two clusterings are the same up to cluster ids
    (``tests/test_agglomerative.py`` asserts identical labels on smaller
    data)."""

    def fit(cls):
        return lambda X: cls(n_clusters=20, linkage=linkage).fit(X)

    return Workload(
        name=name, dtype=dtype, kind=kind,
        ours=fit(turbocluster.AgglomerativeClustering),
        reference=fit(sklearn.cluster.AgglomerativeClustering) if reference else None,
        inertia=lambda est, X: labels_fingerprint(est.labels_), memory=True,
        anchors=_linkage_anchors(linkage) if reference else {},
    )


def _choose_k_workload(dtype, sizes):
    """k = 2..12 on the kmeans_lloyd data, the inertia and the silhouette (on
    20,000 samples) of each: select_n_clusters against the loop a user writes
    with scikit-learn. The quality figure is the sum of the inertias."""
    candidates = range(2, 13)
    sample_size = min(20_000, sizes.n_samples // 10)

    def ours(X):
        return turbocluster.select_n_clusters(
            X, candidates, criteria=("inertia", "silhouette"),
            silhouette_sample_size=sample_size, random_state=0).inertia

    def reference(X):
        inertias = []
        for k in candidates:
            km = sklearn.cluster.KMeans(n_clusters=k, random_state=0).fit(X)
            inertias.append(km.inertia_)
            sklearn.metrics.silhouette_score(X, km.labels_, sample_size=sample_size,
                                             random_state=0)
        return np.array(inertias)

    return Workload(name="choose_k", dtype=dtype, kind="blobs", ours=ours,
                    reference=reference, inertia=lambda result, X: float(np.sum(result)))


def build_workloads(sizes=FULL):
    """All workloads, ordered so that each data set is built once per dtype."""
    workloads = []
    for dtype in DTYPES:
        workloads += [
            _kmeans_workload("kmeans_lloyd", "blobs", "lloyd", dtype, sizes, False),
            _kmeans_workload("kmeans_elkan", "blobs", "elkan", dtype, sizes, False),
            _init_workload(dtype, sizes),
            _kmeans_workload("kmeans_lloyd_overlap", "overlap", "lloyd", dtype,
                             sizes, True),
            _kmeans_workload("kmeans_elkan_overlap", "overlap", "elkan", dtype,
                             sizes, True),
            _fit_workload("kmeans_lloyd_fortran", "fortran", dtype,
                          n_clusters=sizes.n_clusters, n_init=1,
                          max_iter=sizes.max_iter, tol=0, random_state=0),
            _fit_workload("kmeans_sparse_random", "sparse_random", dtype,
                          n_clusters=8, random_state=0),
            _method_workload("kmeans_sparse_random_predict", "sparse_random", dtype,
                             "predict", 8),
            _method_workload("kmeans_sparse_random_score", "sparse_random", dtype,
                             "score", 8),
            _fit_workload("kmeans_sparse_text", "sparse_text", dtype, n_clusters=20,
                          n_init=1, max_iter=30, tol=0, random_state=0),
            _fit_workload("kmeans_small_digits", "digits", dtype, n_clusters=10,
                          n_init=10, random_state=0),
            _elbow_workload(dtype),
            _method_workload("kmeans_predict", "predict_blobs", dtype, "predict",
                             sizes.predict_clusters),
            _method_workload("kmeans_score", "predict_blobs", dtype, "score",
                             sizes.predict_clusters),
            _method_workload("kmeans_transform", "predict_blobs", dtype, "transform",
                             sizes.predict_clusters),
            _silhouette_workload(dtype, sizes),
            _minibatch_workload(dtype, sizes),
            _choose_k_workload(dtype, sizes),
            _mixture_workload("gmm_full", "gmm_blobs", dtype, "GaussianMixture",
                              n_components=sizes.gmm_components, covariance_type="full",
                              max_iter=sizes.gmm_max_iter),
            _mixture_workload("gmm_diag", "gmm_blobs", dtype, "GaussianMixture",
                              n_components=sizes.gmm_components, covariance_type="diag",
                              max_iter=sizes.gmm_max_iter),
            _mixture_workload("bgmm", "bgmm_blobs", dtype, "BayesianGaussianMixture",
                              n_components=sizes.bgmm_components, covariance_type="full",
                              max_iter=sizes.gmm_max_iter),
            _dbscan_workload("dbscan_2d", dtype, eps=0.1, min_samples=10),
            _dbscan_workload("dbscan_10d", dtype, eps=2.12, min_samples=10),
            _dbscan_workload("dbscan_dense", dtype, eps=0.83, min_samples=50),
            *[_linkage_workload(f"linkage_{linkage}", "linkage_blobs", dtype, linkage)
              for linkage in ("ward", "single", "complete", "average")],
            *[_linkage_workload(f"linkage_large_{linkage}", "linkage_large", dtype,
                                linkage, reference=False)
              for linkage in ("ward", "single")],
        ]
    return workloads


def select(workloads, names):
    """Workloads matching ``names``: a bare name (both dtypes) or a full label.

    An empty ``names`` selects everything. Raises ValueError on an unknown name.
    """
    if not names:
        return list(workloads)
    known = {w.name for w in workloads} | {w.label for w in workloads}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown workload(s) {unknown}; known: "
            + ", ".join(w.label for w in workloads)
        )
    wanted = set(names)
    return [w for w in workloads if w.name in wanted or w.label in wanted]
