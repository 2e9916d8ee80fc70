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

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN as _SkDBSCAN
from sklearn.neighbors import NearestNeighbors, sort_graph_by_row_values
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, check_non_negative

from ._kernels import _dbscan
from ._state import restores_state
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
    validate_samples,
)

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


# The range search behind the passes: a uniform grid up to this many features,
# blocked brute force above. The grid's runs per cell grow as 3^(d-1); up to 6
# features it was at least 3x faster than brute force from 20,000 samples on,
# at 7 barely, at 8 slower (measurements in _kernels/_dbscan.pyx). Brute
# force with tile pruning is faster from 7 features on clustered data (3x),
# and at 6 on blobs (1.3x) but 3.8x slower on uniform data, so 6 stays.
GRID_MAX_FEATURES = 6


class _Grid:
    """Cells of side eps over a box, numbered by a row-major key.

    Side eps rather than eps/sqrt(d): every candidate is decided on its exact
    distance anyway, so the cells only have to contain the candidates, and
    the 3^d cells of side eps around a sample cover less than the
    (2 ceil(sqrt d) + 1)^d cells of side eps/sqrt(d) would (9 eps^2 against
    12.5 eps^2 in 2-D), in fewer, longer runs. The side is eps widened by a
    relative 2^-20, far more than the rounding of the cell coordinates
    ((x - origin) / side, a few ulps of n_cells along an axis, which is
    bounded below): two samples within eps therefore always fall in cells at
    most one apart per axis. One empty padding cell on each side of every
    axis keeps the key +-1 of a row's ends from reaching another row.
    """

    # Cells along one axis, at most: keeps the coordinates' rounding below
    # 2^-20 of a cell, and the keys within int64.
    MAX_AXIS_CELLS = 2 ** 26

    def __init__(self, lo, hi, eps):
        self.origin = np.asarray(lo, dtype=np.float64)
        self.side = float(eps) * (1.0 + 2.0 ** -20)
        axis = np.floor((np.asarray(hi, dtype=np.float64) - self.origin) / self.side)
        self.fits = bool(np.all(axis < self.MAX_AXIS_CELLS))
        if not self.fits:
            return
        self.extent = [int(a) + 3 for a in axis]
        n_keys = 1
        for e in self.extent:
            n_keys *= e
        self.fits = n_keys < 2 ** 62
        mult = [1] * len(self.extent)
        for k in range(len(self.extent) - 2, -1, -1):
            mult[k] = mult[k + 1] * self.extent[k + 1]
        self.mult = mult

    def keys(self, X):
        """The cell key of every row of X."""
        keys = np.zeros(X.shape[0], dtype=np.int64)
        for k in range(X.shape[1]):
            c = np.floor((X[:, k].astype(np.float64) - self.origin[k]) / self.side) + 1
            np.clip(c, 0, self.extent[k] - 1, out=c)
            keys += c.astype(np.int64) * self.mult[k]
        return keys

    @staticmethod
    def cells(sorted_keys):
        """The distinct keys of sorted keys and where each one's run starts
        (plus the end)."""
        start = np.flatnonzero(np.diff(sorted_keys)) + 1
        start = np.concatenate([[0], start, [sorted_keys.shape[0]]]).astype(np.intp)
        return sorted_keys[start[:-1]], start

    # Entries of a ranges table computed at once: 16 MiB, so that its memory
    # stays bounded whatever 3^(d-1), the rows per cell.
    MAX_RANGE_ENTRIES = 2 ** 21

    def ranges(self, query_keys, query_start, data_keys, data_start):
        """Yield, chunk by chunk of query cells, (query_start's slice of the
        chunk, the [lo, hi) positions of the data's cells among each query
        cell's 3^d neighbours): one run of 3 consecutive keys per row along
        the last axis, 3^(d-1) rows."""
        d = len(self.extent)
        offsets = [0]
        for k in range(d - 1):
            offsets = [o + s * self.mult[k] for o in offsets for s in (-1, 0, 1)]
        n_cells = query_keys.shape[0]
        step = max(64, self.MAX_RANGE_ENTRIES // (2 * len(offsets)))
        for c0 in range(0, n_cells, step):
            c1 = min(c0 + step, n_cells)
            out = np.empty((c1 - c0, 2 * len(offsets)), dtype=np.intp)
            for r, off in enumerate(offsets):
                row = query_keys[c0:c1] + off
                out[:, 2 * r] = data_start[np.searchsorted(data_keys, row - 1, side="left")]
                out[:, 2 * r + 1] = data_start[
                    np.searchsorted(data_keys, row + 1, side="right")]
            yield query_start[c0:c1 + 1], out


class _GridSearch:
    """The passes' range search over a grid: the samples sorted by cell
    once. The order inside a cell is the sort's (deterministic, and not
    index order: a stable sort costs 3.5x more on dbscan_2d). Labels do not
    depend on it (roots are renumbered by smallest index, borders take a
    minimum, predict breaks ties by index); a count with non-integer
    weights depends on it only in its rounding, as scikit-learn's depends on
    its tree's order."""

    def __init__(self, X, grid, keys=None):
        self.grid = grid
        keys = grid.keys(X) if keys is None else keys
        self.order = np.argsort(keys)
        self.sorted_keys = keys[self.order]
        self.X = np.ascontiguousarray(X[self.order])
        self.cell_keys, self.cell_start = grid.cells(self.sorted_keys)

    @property
    def n_samples(self):
        return self.X.shape[0]

    def self_ranges(self):
        """The chunks of (cell starts, neighbour ranges) of these samples'
        own cells."""
        return self.grid.ranges(self.cell_keys, self.cell_start, self.cell_keys,
                                self.cell_start)

    def neighbour_weights(self, sample_weight, eps, n_threads):
        out = np.empty(self.n_samples, dtype=np.float64)
        weight = np.ascontiguousarray(sample_weight[self.order])
        for cell_start, ranges in self.self_ranges():
            _dbscan.grid_neighbour_weights(self.X, weight, cell_start, ranges, eps, out,
                                           n_threads)
        counts = np.empty_like(out)
        counts[self.order] = out
        return counts

    def subset(self, mask):
        """The search over the rows of X where mask holds, in their order."""
        sub = _GridSearch.__new__(_GridSearch)
        sub.grid = self.grid
        keep = mask[self.order]
        rank = np.cumsum(mask) - 1
        sub.order = rank[self.order[keep]]
        sub.sorted_keys = self.sorted_keys[keep]
        sub.X = np.ascontiguousarray(self.X[keep])
        sub.cell_keys, sub.cell_start = self.grid.cells(sub.sorted_keys)
        return sub

    def components(self, eps, n_threads):
        """A component id of every row (equal ids: one component)."""
        parent = np.arange(self.n_samples, dtype=np.intp)
        for cell_start, ranges in self.self_ranges():
            _dbscan.grid_union_core_pairs(self.X, cell_start, ranges, eps, parent, n_threads)
        roots = np.empty_like(parent)
        _dbscan.find_roots(parent, roots)
        component = np.empty_like(roots)
        component[self.order] = roots
        return component

    def nearest_core_labels(self, Y, core_labels, eps, mode, n_threads):
        """nearest_core_labels of Y's rows against these (core) samples."""
        keys = self.grid.keys(Y)
        order = np.argsort(keys)
        y_keys, y_start = self.grid.cells(keys[order])
        Y = np.ascontiguousarray(Y[order])
        core_labels = np.ascontiguousarray(core_labels[self.order])
        out = np.empty(Y.shape[0], dtype=np.intp)
        for cell_start, ranges in self.grid.ranges(y_keys, y_start, self.cell_keys,
                                                   self.cell_start):
            _dbscan.grid_nearest_core_labels(Y, cell_start, ranges, self.X, core_labels,
                                             self.order, eps, mode, out, n_threads)
        labels = np.empty_like(out)
        labels[order] = out
        return labels


# Rows and columns of the brute-force kernels' tiles (_kernels/_dbscan.pyx).
_ROW_BLOCK = 128
_COL_BLOCK = 128


def _spatial_order(X, leaf=_ROW_BLOCK):
    """A permutation of X's rows that keeps near samples together: a k-d
    tree's order, each segment of more than leaf rows split along its
    feature of largest spread, at a multiple of leaf near its median, so that
    every block of leaf rows (and mostly every block of _COL_BLOCK) has a
    small bounding box. Deterministic (np.argpartition's introselect)."""
    n = X.shape[0]
    order = np.arange(n, dtype=np.intp)
    stack = [(0, n)]
    while stack:
        a, b = stack.pop()
        if b - a <= leaf:
            continue
        idx = order[a:b]
        pts = X[idx]
        # In float64: float32 samples near FLT_MAX have a spread beyond it.
        spread = pts.max(axis=0).astype(np.float64) - pts.min(axis=0)
        k = int(np.argmax(spread))
        if not spread[k] > 0:
            continue
        m = max(leaf, ((b - a) // 2 + leaf // 2) // leaf * leaf)
        if m >= b - a:
            m = b - a - leaf if b - a > leaf else (b - a) // 2
        part = np.argpartition(pts[:, k], m)
        order[a:b] = idx[part]
        stack.append((a + m, b))
        stack.append((a, a + m))
    return order


def _block_boxes(X, block):
    """Per-feature float64 min and max of each block of `block` rows."""
    if X.shape[0] == 0:
        empty = np.empty((0, X.shape[1]), dtype=np.float64)
        return empty, empty
    starts = np.arange(0, X.shape[0], block)
    lo = np.minimum.reduceat(X, starts, axis=0).astype(np.float64)
    hi = np.maximum.reduceat(X, starts, axis=0).astype(np.float64)
    return np.ascontiguousarray(lo), np.ascontiguousarray(hi)


class _BruteSearch:
    """The passes' range search by blocked brute force (GEMM tiles), the
    samples in a k-d tree's order (_spatial_order) so that the kernels skip
    every tile of rows and columns whose bounding boxes are farther apart
    than eps (an exact, conservative test: labels do not change)."""

    def __init__(self, X, order=None):
        self.order = _spatial_order(X) if order is None else order
        self.X = np.ascontiguousarray(X[self.order])
        self.sq = _row_sq_norms(self.X)
        self.row_box = _block_boxes(self.X, _ROW_BLOCK)
        self.col_box = _block_boxes(self.X, _COL_BLOCK)

    @property
    def n_samples(self):
        return self.X.shape[0]

    def _boxes(self, row_box=None):
        row_box = self.row_box if row_box is None else row_box
        return row_box + self.col_box

    def neighbour_weights(self, sample_weight, eps, n_threads):
        out = np.empty(self.n_samples, dtype=np.float64)
        weight = np.ascontiguousarray(sample_weight[self.order])
        _dbscan.neighbour_weights(self.X, self.sq, weight, eps, out, n_threads,
                                  *self._boxes())
        counts = np.empty_like(out)
        counts[self.order] = out
        return counts

    def subset(self, mask):
        """The search over the rows of X where mask holds (kept in this
        search's order, still spatially sorted)."""
        keep = mask[self.order]
        rank = np.cumsum(mask) - 1
        sub = _BruteSearch.__new__(_BruteSearch)
        sub.order = rank[self.order[keep]]
        sub.X = np.ascontiguousarray(self.X[keep])
        sub.sq = self.sq[keep]
        sub.row_box = _block_boxes(sub.X, _ROW_BLOCK)
        sub.col_box = _block_boxes(sub.X, _COL_BLOCK)
        return sub

    def components(self, eps, n_threads):
        parent = np.arange(self.n_samples, dtype=np.intp)
        _dbscan.union_core_pairs(self.X, self.sq, eps, parent, n_threads, *self._boxes())
        roots = np.empty_like(parent)
        _dbscan.find_roots(parent, roots)
        component = np.empty_like(roots)
        component[self.order] = roots
        return component

    def nearest_core_labels(self, Y, core_labels, eps, mode, n_threads):
        order = _spatial_order(Y)
        Y = np.ascontiguousarray(Y[order])
        core_labels = np.ascontiguousarray(core_labels[self.order])
        out = np.empty(Y.shape[0], dtype=np.intp)
        _dbscan.nearest_core_labels(Y, _row_sq_norms(Y), self.X, self.sq, core_labels, eps,
                                    mode, out, n_threads,
                                    *self._boxes(_block_boxes(Y, _ROW_BLOCK)),
                                    core_index=self.order)
        labels = np.empty_like(out)
        labels[order] = out
        return labels


def _range_search(X, eps, method="auto", box=None):
    """The range search for the rows of X: a grid ('grid', or 'auto' up to
    GRID_MAX_FEATURES features) over box (default: X's bounding box) when its
    keys fit, else brute force."""
    if method != "brute" and X.shape[0] and (
            method == "grid" or X.shape[1] <= GRID_MAX_FEATURES):
        lo, hi = box if box is not None else (X.min(axis=0), X.max(axis=0))
        grid = _Grid(lo, hi, eps)
        if grid.fits:
            return _GridSearch(X, grid)
    return _BruteSearch(X)


def _number_components(component):
    """Cluster ids 0, 1, ... numbered in the order of each component's first
    (smallest-index) member, as scikit-learn's scan numbers its clusters.
    component: an id in [0, n) per member, equal ids for one component."""
    n = component.shape[0]
    first = np.full(n, n, dtype=np.intp)
    np.minimum.at(first, component, np.arange(n))
    ids = np.flatnonzero(first < n)
    cluster = np.empty(n, dtype=np.intp)
    cluster[ids[np.argsort(first[ids])]] = np.arange(ids.shape[0])
    return cluster[component]


def _euclidean_dbscan(X, eps, min_samples, sample_weight, n_threads, method="auto"):
    """Core mask and labels of dense X under the Euclidean metric."""
    search = _range_search(X, eps, method)
    is_core = search.neighbour_weights(sample_weight, eps, n_threads) >= min_samples

    labels = np.full(X.shape[0], -1, dtype=np.intp)
    core = np.flatnonzero(is_core)
    if core.shape[0] == 0:
        return is_core, labels
    core_search = search.subset(is_core)
    core_labels = _number_components(core_search.components(eps, n_threads))
    labels[core] = core_labels
    other = np.flatnonzero(~is_core)
    if other.shape[0]:
        labels[other] = core_search.nearest_core_labels(
            X[other], core_labels, eps, _dbscan.SMALLEST_LABEL, n_threads)
    return is_core, labels


# Other metrics, precomputed distances and sparse X: scikit-learn's own
# neighbour search (NearestNeighbors with the estimator's metric, algorithm,
# leaf_size, p and n_jobs, as scikit-learn's DBSCAN builds it), so the
# neighbourhoods are exactly scikit-learn's, but asked for a chunk of query
# rows at a time, and the same three passes as the kernels' (weighted counts,
# union of core pairs, smallest core label of the rest) run on each chunk.
# scikit-learn keeps every neighbourhood at once; here at most
# _NEIGHBOURS_HELD indices (8 bytes each) are kept. When all of them fit, the
# first pass keeps them for the other two (one search, as scikit-learn);
# otherwise the core and the other samples are searched again (two searches
# in all), with memory O(n_samples) plus one chunk.
_NEIGHBOURS_HELD = 1 << 23
_FIRST_QUERY_ROWS = 256


def _neighbourhood_chunks(search, X, rows, return_distance=False):
    """(query rows, neighbourhoods, their sizes[, distances]) of ``rows``, a
    chunk at a time. A chunk holds about _NEIGHBOURS_HELD / 4 indices, sized
    from the previous chunk's mean neighbourhood (growing at most 4x)."""
    start, size = 0, _FIRST_QUERY_ROWS
    while start < rows.shape[0]:
        chunk = rows[start:start + size]
        found = search.radius_neighbors(X[chunk], return_distance=return_distance)
        hoods = found[1] if return_distance else found
        sizes = np.fromiter(map(len, hoods), dtype=np.intp, count=len(hoods))
        yield (chunk, hoods, sizes) + ((found[0],) if return_distance else ())
        start += chunk.shape[0]
        per_row = max(sizes.sum() / chunk.shape[0], 1.0)
        size = int(min(4 * size, max(1.0, (_NEIGHBOURS_HELD // 4) / per_row)))


def _pairs(chunk, hoods, sizes):
    """The chunk's (query row, neighbour) pairs as two flat arrays."""
    if not sizes.any():
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return (np.repeat(chunk, sizes),
            np.concatenate([h for h in hoods if len(h)]).astype(np.intp, copy=False))


def _searched_dbscan(search, X, min_samples, sample_weight):
    """Core mask and labels from a fitted NearestNeighbors (other metrics)."""
    n = X.shape[0]
    weights = np.empty(n, dtype=np.float64)
    kept, held = [], 0
    for chunk, hoods, sizes in _neighbourhood_chunks(search, X, np.arange(n)):
        if sample_weight is None:
            weights[chunk] = sizes
        else:
            # Summed as scikit-learn sums them (np.sum per neighbourhood), so
            # that a weight total at min_samples is decided the same way.
            weights[chunk] = [np.sum(sample_weight[h]) for h in hoods]
        held += int(sizes.sum())
        if held > _NEIGHBOURS_HELD:
            kept = None
        elif kept is not None:
            kept.append((chunk, hoods, sizes))
    is_core = weights >= min_samples

    def chunks_of(mask):
        if kept is None:
            return _neighbourhood_chunks(search, X, np.flatnonzero(mask))
        return ((chunk[mask[chunk]], [h for h, m in zip(hoods, mask[chunk]) if m],
                 sizes[mask[chunk]]) for chunk, hoods, sizes in kept)

    labels = np.full(n, -1, dtype=np.intp)
    core = np.flatnonzero(is_core)
    if core.shape[0] == 0:
        return is_core, labels
    parent = np.arange(n, dtype=np.intp)
    for chunk, hoods, sizes in chunks_of(is_core):
        a, b = _pairs(chunk, hoods, sizes)
        keep = is_core[b] & (b < a)
        _dbscan.union_pairs(parent, a[keep], b[keep])
    roots = np.empty_like(parent)
    _dbscan.find_roots(parent, roots)
    # A root is its component's smallest core sample: ids in that order.
    labels[core] = np.unique(roots[core], return_inverse=True)[1]

    other = ~is_core
    if other.any():
        best = np.full(n, n, dtype=np.intp)
        for chunk, hoods, sizes in chunks_of(other):
            a, b = _pairs(chunk, hoods, sizes)
            keep = is_core[b]
            np.minimum.at(best, a[keep], labels[b[keep]])
        found = other & (best < n)
        labels[found] = best[found]
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
        runs on turbocluster's kernels. Any other metric scikit-learn accepts
        ('manhattan', 'chebyshev', 'minkowski' with any p, 'cosine', a
        callable ...), 'precomputed' (a dense matrix, or a sparse
        radius-neighbours graph whose missing entries are not neighbours) and
        sparse X use scikit-learn's neighbour search, so the neighbourhoods
        are exactly its own, asked for a chunk of rows at a time (see Notes).
    metric_params : dict, default=None
        Extra keyword arguments of the metric.
    algorithm : {'auto', 'ball_tree', 'kd_tree', 'brute'}, default='auto'
        scikit-learn's neighbour search, used where it runs (see ``metric``).
    leaf_size : int, default=30
        Leaf size of scikit-learn's trees (see ``algorithm``).
    p : float, default=None
        The power of the Minkowski metric; None means 2.
    n_jobs : int, default=None
        Jobs of scikit-learn's neighbour search (see ``metric``); our
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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string feature names.

    See Also
    --------
    sklearn.cluster.DBSCAN : the reference implementation.

    Notes
    -----
    Euclidean, dense: three passes of a range search. Up to 6 features, a
    uniform grid of cells of side eps, the samples sorted by cell: each
    sample's candidates are the samples of its 3^d neighbouring cells, time
    O(n_samples 3^d (1 + samples per cell)). More features, blocked brute
    force over the samples in a k-d tree's order, skipping every tile whose
    rows' and columns' bounding boxes are more than eps apart (an exact
    bound): O(n_samples^2 n_features) time per pass at worst, far less on
    clustered data (6% of the pairs on 100,000 samples in 20 blobs in 10-D).
    Either way memory is
    O(n_samples n_features) (sorted copies of the samples, the cells'
    bounds, one tile per thread), however large the neighbourhoods
    (scikit-learn's grows with their total size). A pair's distance is
    decided on its exact float64 value (the grid always, brute force when
    its GEMM estimate is within rounding error of eps), so neighbourhoods
    are those of scikit-learn's trees (up to a pair at eps to the last ulp,
    which scikit-learn's own algorithms decide differently). Labels are
    identical for any number of threads.

    Other metrics, precomputed distances and sparse X: scikit-learn's
    ``NearestNeighbors`` with this estimator's parameters (the search its
    DBSCAN makes), asked for a chunk of rows at a time, and the same three
    passes on each chunk. scikit-learn holds every neighbourhood at once;
    here at most 2^23 neighbour indices (64 MiB) are held: when they all
    fit, one search serves the three passes, otherwise the core samples and
    the others are searched again (about twice scikit-learn's search time),
    in O(n_samples) memory plus one chunk.

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

    @restores_state
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
        X = validate_samples(self, X, accept_sparse="csr", accept_strings=False)
        sample_weight_arg = sample_weight
        sample_weight = _check_dbscan_weight(sample_weight, X.shape[0])

        if sp.issparse(X) or not self._is_euclidean():
            if self.metric == "precomputed" and sp.issparse(X):
                # A sample is its own neighbour: its diagonal entry is made
                # explicit (zero when absent), on a copy, rows kept sorted.
                X = X.copy()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                    X.setdiag(X.diagonal())
                X = sort_graph_by_row_values(X, warn_when_not_sorted=False)
            search = self._neighbours_model().fit(X)
            is_core, labels = _searched_dbscan(
                search, X, self.min_samples,
                None if sample_weight_arg is None else sample_weight)
            self._store(X, is_core, labels)
            self._X_fit_sparse = sp.issparse(X)
            return self

        X = np.ascontiguousarray(X)
        with blas_single_threaded():
            is_core, labels = _euclidean_dbscan(
                X, float(self.eps), self.min_samples, sample_weight, effective_n_threads())
        self._store(X, is_core, labels)
        self._X_fit_sparse = False
        return self

    def _store(self, X, is_core, labels):
        self.core_sample_indices_ = np.flatnonzero(is_core)
        self.labels_ = labels
        if self.core_sample_indices_.shape[0]:
            self.components_ = X[self.core_sample_indices_].copy()
        else:
            # No core sample: an empty dense array, sparse X too, as
            # scikit-learn's (in X's dtype, where scikit-learn's is float64).
            self.components_ = np.empty((0, X.shape[1]), dtype=X.dtype)

    def _neighbours_model(self, algorithm=None):
        # The search scikit-learn's DBSCAN runs, with the same parameters.
        return NearestNeighbors(
            radius=self.eps, metric=self.metric, metric_params=self.metric_params,
            algorithm=self.algorithm if algorithm is None else algorithm,
            leaf_size=self.leaf_size, p=self.p, n_jobs=self.n_jobs)

    @restores_state
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
        X = validate_samples(self, X, reset=False, accept_sparse="csr",
                             accept_strings=False)
        if precomputed:
            check_non_negative(X, "precomputed distance matrix")
        core_labels = self.labels_[self.core_sample_indices_].astype(np.intp)
        n_core = self.core_sample_indices_.shape[0]
        if n_core == 0:
            return np.full(X.shape[0], -1, dtype=np.intp)
        if not (sp.issparse(X) or self._X_fit_sparse or precomputed) and self._is_euclidean():
            X = np.ascontiguousarray(X)
            components = np.ascontiguousarray(self.components_, dtype=X.dtype)
            # A grid over the box of both the core samples and X.
            box = (np.minimum(components.min(axis=0), X.min(axis=0)),
                   np.maximum(components.max(axis=0), X.max(axis=0)))
            with blas_single_threaded():
                search = _range_search(components, float(self.eps), box=box)
                return search.nearest_core_labels(
                    X, core_labels, float(self.eps), _dbscan.NEAREST_CORE,
                    effective_n_threads())
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
        # A tree built on dense core samples cannot be queried with sparse
        # rows: those are searched by brute force.
        search = self._neighbours_model(
            algorithm="brute" if sp.issparse(X) else None).fit(self.components_)
        out = np.full(X.shape[0], -1, dtype=np.intp)
        for chunk, hoods, _, distances in _neighbourhood_chunks(
                search, X, np.arange(X.shape[0]), return_distance=True):
            for i, ind, dist in zip(chunk, hoods, distances):
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

    Fits a :class:`DBSCAN` and returns its core samples and labels.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
            (n_samples, n_samples)
        The samples, or their distances with ``metric='precomputed'``.

    eps : float, default=0.5
        Largest distance between two samples for one to be in the
        neighbourhood of the other.

    min_samples : int, default=5
        Weight of a neighbourhood (the sample itself included) that makes a
        sample a core sample.

    metric : str or callable, default='minkowski'
        Note the default: 'minkowski' with p=2, scikit-learn's, the Euclidean
        distance. Other values as for :class:`DBSCAN`.

    metric_params, algorithm, leaf_size, p, n_jobs
        As for :class:`DBSCAN`.

    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the neighbourhood weights.

    Returns
    -------
    core_samples : ndarray of shape (n_core_samples,)
        Indices of the core samples.
    labels : ndarray of shape (n_samples,)
        Cluster of each sample, -1 for noise.

    See Also
    --------
    DBSCAN : The estimator, with ``predict``.

    Notes
    -----
    Time and memory: those of :class:`DBSCAN` (memory O(n_samples) with the
    Euclidean metric).

    Examples
    --------
    >>> from turbocluster import dbscan
    >>> X = [[1, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]]
    >>> core_samples, labels = dbscan(X, eps=3, min_samples=2)
    >>> core_samples
    array([0, 1, 2, 3, 4])
    >>> labels
    array([ 0,  0,  0,  1,  1, -1])
    """
    validate_parameter_constraints(
        {"X": ["array-like", "sparse matrix"], "sample_weight": ["array-like", None]},
        {"X": X, "sample_weight": sample_weight}, caller_name="dbscan")
    est = DBSCAN(eps=eps, min_samples=min_samples, metric=metric,
                 metric_params=metric_params, algorithm=algorithm, leaf_size=leaf_size,
                 p=p, n_jobs=n_jobs)
    try:
        est.fit(X, sample_weight=sample_weight)
    except InvalidParameterError as exc:
        # The user called dbscan: its name, not the class's, in the message.
        raise InvalidParameterError(
            str(exc).replace("parameter of DBSCAN ", "parameter of dbscan ")) from None
    return est.core_sample_indices_, est.labels_
