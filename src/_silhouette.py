"""Silhouette coefficients (Rousseeuw, 1987) without an n x n distance matrix.

For a sample in cluster A, with a the mean distance to the other members of
A and b the smallest mean distance to the members of another cluster, the
coefficient is (b - a) / max(a, b); 0 for a sample alone in its cluster.
Both means come from one pass of the kernel in
``_kernels/_silhouette.pyx``: the samples sorted by cluster, each tile of
distances summed cluster by cluster and dropped.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import DBSCAN as _SkDBSCAN
from sklearn.metrics import silhouette_samples as _sklearn_silhouette_samples
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, check_X_y
from sklearn.utils._param_validation import Interval, validate_params

from ._kernels import _center, _silhouette
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import as_c_contiguous

# Center the samples when the squared norm of their mean exceeds this many
# times their variance (summed over features).
_CENTER_ABOVE = 100.0
# The work of one call of the distance-sum kernel (see silhouette_samples).
_SLAB_WORK = 1 << 28

# The metrics scikit-learn's silhouette functions accept: the names of its
# pairwise metrics and 'precomputed', or a callable. Read from its DBSCAN's
# class attribute, which holds the same list (tests/test_hostile_inputs.py
# compares the outcome of a bad name with scikit-learn's).
_METRIC_CONSTRAINT = list(_SkDBSCAN._parameter_constraints["metric"])

# Keyword arguments that the Euclidean kernel can take: n_jobs only says how
# many processes scikit-learn would start; the kernel's OpenMP threads follow
# OMP_NUM_THREADS and threadpoolctl instead.
_KERNEL_KWDS = {"n_jobs"}


def _check_number_of_labels(n_labels, n_samples):
    if not 1 < n_labels < n_samples:
        raise ValueError(
            f"Number of labels is {n_labels}. Valid values are 2 to n_samples - 1 "
            "(inclusive)"
        )


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": _METRIC_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def silhouette_samples(X, labels, *, metric="euclidean", **kwds):
    """Silhouette coefficient of each sample.

    Same signature and results as :func:`sklearn.metrics.silhouette_samples`.
    With the Euclidean metric on dense X, no n x n matrix is made: memory
    beyond X is a sorted float64 copy of X and O(n_samples x n_clusters) for
    the sums, and a parallel kernel computes the distances tile by tile in
    float64 (float32 X too, as scikit-learn does; its coefficients are
    returned in float32). Other metrics, precomputed distances and sparse X
    go through scikit-learn's implementation.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
            (n_samples, n_samples) if metric="precomputed"
        Samples, or pairwise distances between them.

    labels : array-like of shape (n_samples,)
        Cluster of each sample.

    metric : str or callable, default="euclidean"
        Metric between samples, as for :func:`sklearn.metrics.pairwise_distances`.

    **kwds : optional keyword parameters
        Passed on to the distance function. ``n_jobs`` is accepted and
        ignored by the Euclidean kernel, whose threads follow OpenMP.

    Returns
    -------
    silhouette : ndarray of shape (n_samples,)
        Silhouette coefficient of each sample, of X's floating dtype.

    See Also
    --------
    silhouette_score : Their mean, optionally on a subsample.
    sklearn.metrics.silhouette_samples : The reference implementation.

    Notes
    -----
    Time O(n_samples^2 * n_features) (every distance is computed once);
    memory O(n_samples * (n_features + n_clusters)) beyond X, where
    scikit-learn holds chunks of the n_samples x n_samples distance matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import silhouette_samples
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> silhouette_samples(X, [0, 0, 0, 1, 1, 1]).round(3)
    array([0.781, 0.679, 0.679, 0.781, 0.679, 0.679])
    """
    if (metric != "euclidean" or sp.issparse(X) or set(kwds) - _KERNEL_KWDS):
        return _sklearn_silhouette_samples(X, labels, metric=metric, **kwds)
    X, labels = check_X_y(X, labels, accept_sparse=["csr", "csc"])
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    labels = LabelEncoder().fit_transform(labels)
    n_samples = labels.shape[0]
    label_freqs = np.bincount(labels)
    _check_number_of_labels(label_freqs.shape[0], n_samples)

    # Sorted by cluster: a copy, which is centered when the samples lie far
    # from the origin compared with their spread (the mean's norm above 10
    # standard deviations): the ||x||^2 + ||y||^2 - 2 <x, y> of the tiles
    # then cancels less. Otherwise the arithmetic is scikit-learn's (exact on
    # small integers, as in its own tests).
    # The copy is in float64 whatever X's dtype (O(n_samples x n_features)):
    # float32 samples then get scikit-learn's accuracy, which computes their
    # distances in float64 too.
    order = np.argsort(labels, kind="stable")
    X_sorted = as_c_contiguous(X[order], dtype=np.float64)
    n_threads = effective_n_threads()
    mean = np.empty(X.shape[1])
    _center.column_means(X_sorted, mean, n_threads)
    sq_norms = np.einsum("ij,ij->i", X_sorted, X_sorted)
    offset = float(np.dot(mean, mean))
    spread = float(np.mean(sq_norms, dtype=np.float64)) - offset
    if offset > _CENTER_ABOVE * max(spread, 0.0):
        _center.center_rows(X_sorted, mean, X_sorted, sq_norms, n_threads)
    cluster_start = np.zeros(label_freqs.shape[0] + 1, dtype=np.intp)
    np.cumsum(label_freqs, out=cluster_start[1:])
    sums = np.empty((n_samples, label_freqs.shape[0]))
    # The O(n_samples^2) pass goes in slabs of rows, each about 2^28
    # multiply-adds (a few tenths of a second), so that Ctrl-C stops it
    # between slabs. Slabs start at multiples of the kernel's row block: the
    # blocks, and the bits, are those of a single call.
    block = _silhouette.ROWS_PER_BLOCK
    slab = max(_SLAB_WORK // max(n_samples * X.shape[1], 1), 4 * n_threads * block)
    slab = -(-slab // block) * block
    with blas_single_threaded():
        for start in range(0, n_samples, slab):
            _silhouette.cluster_distance_sums(
                X_sorted, sq_norms, cluster_start, sums, X.dtype == np.float32,
                start, min(start + slab, n_samples), n_threads)

    # The means and the coefficients in X's dtype, by scikit-learn's steps:
    # float32 samples get its float32 roundings.
    sums = sums.astype(X.dtype, copy=False)
    own = labels[order]
    rows = np.arange(n_samples)
    intra = sums[rows, own]
    sums[rows, own] = np.inf
    sums /= label_freqs
    inter = sums.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A sample alone in its cluster: 0 / 0, a coefficient of 0 below.
        intra /= label_freqs[own] - 1
        coefficients = inter - intra
        coefficients /= np.maximum(intra, inter)
    silhouette = np.empty(n_samples, dtype=X.dtype)
    silhouette[order] = np.nan_to_num(coefficients)
    return silhouette


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": _METRIC_CONSTRAINT,
        "sample_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def silhouette_score(X, labels, *, metric="euclidean", sample_size=None,
                     random_state=None, **kwds):
    """Mean silhouette coefficient of all samples.

    Same signature and results as :func:`sklearn.metrics.silhouette_score`
    (the same subsample for the same ``random_state``); the coefficients come
    from :func:`silhouette_samples`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
            (n_samples, n_samples) if metric="precomputed"
        Samples, or pairwise distances between them.

    labels : array-like of shape (n_samples,)
        Cluster of each sample.

    metric : str or callable, default="euclidean"
        Metric between samples, as for :func:`silhouette_samples`.

    sample_size : int, default=None
        Score a random subset of this many samples; None scores them all.

    random_state : int, RandomState instance or None, default=None
        Draws the subset when ``sample_size`` is given.

    **kwds : optional keyword parameters
        Passed on to :func:`silhouette_samples`.

    Returns
    -------
    silhouette : float
        Mean silhouette coefficient, from -1 to 1.

    See Also
    --------
    silhouette_samples : The coefficient of each sample.
    select_n_clusters : Scores several numbers of clusters at once.
    sklearn.metrics.silhouette_score : The reference implementation.

    Notes
    -----
    Time O(m^2 * n_features) on m samples (``sample_size``, or all of
    them), memory as :func:`silhouette_samples`'.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import silhouette_score
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> round(silhouette_score(X, [0, 0, 0, 1, 1, 1]), 4)
    0.7133
    """
    if sample_size is not None:
        X, labels = check_X_y(X, labels, accept_sparse=["csc", "csr"])
        random_state = check_random_state(random_state)
        indices = random_state.permutation(X.shape[0])[:sample_size]
        if metric == "precomputed":
            X, labels = X[indices].T[indices].T, labels[indices]
        else:
            X, labels = X[indices], labels[indices]
    return float(np.mean(silhouette_samples(X, labels, metric=metric, **kwds)))
