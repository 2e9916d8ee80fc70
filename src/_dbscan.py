"""DBSCAN: scikit-learn's clustering, without storing the eps-neighbourhoods.

Three kernel passes (``_kernels/_dbscan.pyx``): the weighted neighbour count
of every sample (which samples are core), the union of core samples within
eps of each other (the clusters), and the smallest cluster id among each
non-core sample's core neighbours (border samples; the others are noise).
That is exactly scikit-learn's labelling, cluster ids included: scikit-learn
scans the samples in order and expands a new cluster from each unlabelled
core sample, so its clusters are the connected components of the core graph
numbered by their smallest core sample, and a border sample goes to the
first of them that reaches it, the smallest id among its core neighbours.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN as _SkDBSCAN
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._kernels import _dbscan
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import FLOAT_DTYPES, Interval, StrOptions, validate_data

__all__ = ["DBSCAN", "dbscan"]


def _row_sq_norms(X):
    return np.einsum("ij,ij->i", X, X)


def _check_dbscan_weight(sample_weight, n_samples):
    """Weights as float64 (None: ones). Unlike the other estimators' weights,
    negative ones are allowed: scikit-learn's DBSCAN documents them as a way
    to keep a sample's neighbours from being core."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    if isinstance(sample_weight, Real):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                order="C", input_name="sample_weight")
    if sample_weight.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D array. "
            f"Expected either a scalar value or a 1D array of length {n_samples}.")
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected {(n_samples,)}!"
        )
    if not np.any(sample_weight):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def _euclidean_dbscan(X, eps, min_samples, sample_weight, n_threads):
    """Core mask and labels of dense X under the Euclidean metric."""
    x_sq = _row_sq_norms(X)
    counts = np.empty(X.shape[0], dtype=np.float64)
    _dbscan.neighbour_weights(X, x_sq, sample_weight, eps, counts, n_threads)
    is_core = counts >= min_samples

    core = np.flatnonzero(is_core)
    X_core = np.ascontiguousarray(X[core])
    core_sq = x_sq[core]
    parent = np.arange(core.shape[0], dtype=np.intp)
    _dbscan.union_core_pairs(X_core, core_sq, eps, parent, n_threads)
    roots = np.empty_like(parent)
    _dbscan.find_roots(parent, roots)
    # Every link points to the smaller root, so a component's root is its
    # smallest core sample: numbering the roots in index order numbers the
    # clusters as scikit-learn's scan does.
    cluster_of_root = np.cumsum(roots == np.arange(roots.shape[0])) - 1
    core_labels = cluster_of_root[roots].astype(np.intp)

    labels = np.full(X.shape[0], -1, dtype=np.intp)
    labels[core] = core_labels
    other = np.flatnonzero(~is_core)
    if other.shape[0] and core.shape[0]:
        out = np.empty(other.shape[0], dtype=np.intp)
        _dbscan.nearest_core_labels(
            np.ascontiguousarray(X[other]), x_sq[other], X_core, core_sq, core_labels,
            eps, _dbscan.SMALLEST_LABEL, out, n_threads)
        labels[other] = out
    return is_core, labels


class DBSCAN(ClusterMixin, BaseEstimator):
    """Density-based clustering (DBSCAN), with scikit-learn's exact labels.

    A drop-in replacement for :class:`sklearn.cluster.DBSCAN`: the same
    parameters, fitted attributes, core samples and labels (cluster ids
    included), computed without storing any eps-neighbourhood, in parallel.
    Also ``predict`` for new samples.

    Parameters
    ----------
    eps : float, default=0.5
        The largest distance between two samples for one to be considered in
        the neighbourhood of the other.
    min_samples : int, default=5
        The total weight of the neighbourhood (the sample itself included) for
        a sample to be a core sample.
    metric : str or callable, default='euclidean'
        The distance. 'euclidean' (and 'minkowski' with p=2) on dense data
        runs on turbocluster's kernels; any other metric, 'precomputed', and
        sparse X are handed to scikit-learn's DBSCAN (same results, its speed
        and memory).
    metric_params : dict, default=None
        Extra keyword arguments of the metric.
    algorithm : {'auto', 'ball_tree', 'kd_tree', 'brute'}, default='auto'
        scikit-learn's neighbour search, used only where scikit-learn's DBSCAN
        runs (see ``metric``).
    leaf_size : int, default=30
        Leaf size of scikit-learn's trees (see ``algorithm``).
    p : float, default=None
        The power of the Minkowski metric; None means 2.
    n_jobs : int, default=None
        Jobs of scikit-learn's neighbour search (see ``algorithm``); our
        kernels use the OpenMP threads that threadpoolctl allows.

    Attributes
    ----------
    core_sample_indices_ : ndarray of shape (n_core_samples,)
        Indices of the core samples.
    components_ : ndarray of shape (n_core_samples, n_features)
        The core samples, in the input's dtype.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each sample, -1 for noise.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has string feature names.

    See Also
    --------
    sklearn.cluster.DBSCAN : the reference implementation.

    Notes
    -----
    Euclidean, dense: three passes of blocked brute-force range search, each
    O(n_samples^2 n_features) time; memory O(n_samples n_features) for the
    copies of the core and non-core samples plus one tile per thread, however
    large the neighbourhoods (scikit-learn's grows with their total size).
    A pair's distance is decided exactly when the GEMM-based estimate is
    within its rounding error of eps, so neighbourhoods are those of
    scikit-learn's trees. Labels are identical for any number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import DBSCAN
    >>> X = np.array([[1, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]])
    >>> clustering = DBSCAN(eps=3, min_samples=2).fit(X)
    >>> clustering.labels_
    array([ 0,  0,  0,  1,  1, -1])
    >>> clustering.predict(np.array([[1.5, 2.5], [9, 9], [50, 50]]))
    array([ 0,  1, -1])
    """

    # The metric names are scikit-learn's own list (a private one), taken from
    # its DBSCAN's public class attribute so that both accept the same names.
    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0.0, None, closed="neither")],
        "min_samples": [Interval(Integral, 1, None, closed="left")],
        "metric": list(_SkDBSCAN._parameter_constraints["metric"]),
        "metric_params": [dict, None],
        "algorithm": [StrOptions({"auto", "ball_tree", "kd_tree", "brute"})],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 0.0, None, closed="left"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, eps=0.5, *, min_samples=5, metric="euclidean", metric_params=None,
                 algorithm="auto", leaf_size=30, p=None, n_jobs=None):
        self.eps = eps
        self.min_samples = min_samples
        self.metric = metric
        self.metric_params = metric_params
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.n_jobs = n_jobs

    def _is_euclidean(self):
        if self.metric_params:
            return False
        return self.metric == "euclidean" or (
            self.metric == "minkowski" and (self.p is None or self.p == 2))

    def fit(self, X, y=None, sample_weight=None):
        """Cluster X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or
            (n_samples, n_samples) with metric='precomputed'
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in its neighbours' counts; may be negative.

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=list(FLOAT_DTYPES))
        sample_weight_arg = sample_weight
        sample_weight = _check_dbscan_weight(sample_weight, X.shape[0])

        if sp.issparse(X) or not self._is_euclidean():
            # Other metrics, precomputed distances and sparse X: scikit-learn's
            # DBSCAN, correct but with its memory and speed.
            reference = _SkDBSCAN(**self.get_params()).fit(
                X, sample_weight=sample_weight_arg)
            self.core_sample_indices_ = reference.core_sample_indices_
            self.labels_ = reference.labels_
            self.components_ = reference.components_
            self._X_fit_sparse = sp.issparse(X)
            return self

        X = np.ascontiguousarray(X)
        with blas_single_threaded():
            is_core, labels = _euclidean_dbscan(
                X, float(self.eps), self.min_samples, sample_weight, effective_n_threads())
        self.core_sample_indices_ = np.flatnonzero(is_core)
        self.labels_ = labels
        self.components_ = X[self.core_sample_indices_].copy()
        self._X_fit_sparse = False
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Cluster X and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """The cluster of each new sample: that of its nearest core sample
        within eps (ties to the core sample of lowest index), else -1.

        Beyond scikit-learn, whose DBSCAN has no predict. A training sample
        gets back its fitted label if it is a core sample; a border sample
        may get another cluster than in ``labels_`` (its nearest core sample
        rather than the first cluster to reach it).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or
            (n_samples, n_samples_fit) with metric='precomputed'

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        precomputed = self.metric == "precomputed"
        X = validate_data(self, X, reset=False, accept_sparse="csr",
                          dtype=list(FLOAT_DTYPES))
        core_labels = self.labels_[self.core_sample_indices_].astype(np.intp)
        n_core = self.core_sample_indices_.shape[0]
        if n_core == 0:
            return np.full(X.shape[0], -1, dtype=np.intp)
        if not (sp.issparse(X) or self._X_fit_sparse or precomputed) and self._is_euclidean():
            X = np.ascontiguousarray(X)
            components = np.ascontiguousarray(self.components_, dtype=X.dtype)
            out = np.empty(X.shape[0], dtype=np.intp)
            with blas_single_threaded():
                _dbscan.nearest_core_labels(
                    X, _row_sq_norms(X), components, _row_sq_norms(components),
                    core_labels, float(self.eps), _dbscan.NEAREST_CORE, out,
                    effective_n_threads())
            return out
        return self._predict_other_metric(X, core_labels, precomputed)

    def _predict_other_metric(self, X, core_labels, precomputed):
        # scikit-learn's neighbour search over the core samples (columns of
        # the core samples, for precomputed distances).
        if precomputed:
            D = X[:, self.core_sample_indices_]
            D = D.toarray() if sp.issparse(D) else np.asarray(D)
            out = np.full(X.shape[0], -1, dtype=np.intp)
            for i in range(D.shape[0]):
                within = np.flatnonzero(D[i] <= self.eps)
                if within.shape[0]:
                    out[i] = core_labels[within[np.argmin(D[i, within])]]
            return out
        search = NearestNeighbors(
            radius=self.eps, metric=self.metric, metric_params=self.metric_params,
            algorithm=self.algorithm, leaf_size=self.leaf_size, p=self.p,
            n_jobs=self.n_jobs).fit(self.components_)
        distances, indices = search.radius_neighbors(X)
        out = np.full(X.shape[0], -1, dtype=np.intp)
        for i, (dist, ind) in enumerate(zip(distances, indices)):
            if ind.shape[0]:
                # Nearest first, ties to the lowest core index.
                out[i] = core_labels[ind[np.lexsort((ind, dist))[0]]]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.sparse = True
        return tags


def dbscan(X, eps=0.5, *, min_samples=5, metric="minkowski", metric_params=None,
           algorithm="auto", leaf_size=30, p=2, sample_weight=None, n_jobs=None):
    """DBSCAN as a function, as :func:`sklearn.cluster.dbscan`.

    Parameters are those of :class:`DBSCAN` (note the default metric here is
    'minkowski' with p=2, scikit-learn's, the Euclidean distance).

    Returns
    -------
    core_samples : ndarray of shape (n_core_samples,)
        Indices of the core samples.
    labels : ndarray of shape (n_samples,)
        Cluster of each sample, -1 for noise.
    """
    est = DBSCAN(eps=eps, min_samples=min_samples, metric=metric,
                 metric_params=metric_params, algorithm=algorithm, leaf_size=leaf_size,
                 p=p, n_jobs=n_jobs)
    est.fit(X, sample_weight=sample_weight)
    return est.core_sample_indices_, est.labels_
