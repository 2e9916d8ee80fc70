"""Agglomerative clustering: scikit-learn's tree and labels, on our kernels.

The story of a fit: validate, build the tree (one kernel call: a linkage on
the samples or on their condensed distance matrix, or an agglomeration along
the edges of a connectivity graph), then cut it into clusters as
scikit-learn does. The tree is in scikit-learn's form (``children_``, node
n_samples + i made by the i-th merge, ``distances_``); ``linkage_matrix``
turns it into SciPy's.

Kernels: ``_kernels/_linkage.pyx`` (the unstructured linkages: Ward's
nearest-neighbour chain, the single-linkage minimum spanning tree, complete
and average on a condensed matrix) and ``_kernels/_linkage_graph.pyx`` (the
agglomeration along a graph and the passes over a finished tree).
"""

import heapq
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import AgglomerativeClustering as _SkAgglomerativeClustering
from sklearn.metrics import DistanceMetric, pairwise_distances
from sklearn.metrics.pairwise import paired_distances
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, check_memory

from ._kernels import _linkage, _linkage_graph, _linkage_matrix
from ._state import restores_state
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import FLOAT_DTYPES, Interval, StrOptions, validate_samples, warn_at_caller

__all__ = ["AgglomerativeClustering", "linkage_matrix"]

# The metrics our kernels compute, by every name scikit-learn accepts for them.
_KERNEL_METRICS = {"euclidean": "euclidean", "l2": "euclidean", "l1": "manhattan",
                   "manhattan": "manhattan", "cityblock": "manhattan", "cosine": "cosine"}

# compute_full_tree='auto' builds the whole tree below this many clusters
# (or this fraction of the samples), as scikit-learn: stopping early pays only
# for many clusters.
_AUTO_FULL_TREE_CLUSTERS = 100
_AUTO_FULL_TREE_FRACTION = 0.02


###############################################################################
# The connectivity graph


def _symmetric_graph(X, connectivity, metric):
    """The connectivity made symmetric (CSR, sorted indices, no explicit
    zeros) and connected, and its number of connected components.

    A graph of several components is completed as scikit-learn does, with a
    warning: for every pair of components (i, j < i), an edge between their
    closest samples (the first in row-major order among equal distances).
    """
    n_samples = X.shape[0]
    if connectivity.shape[0] != n_samples or connectivity.shape[1] != n_samples:
        raise ValueError(
            f"Wrong shape for connectivity matrix: {connectivity.shape} when X is {X.shape}")
    graph = sp.csr_array(connectivity)
    graph = (graph + graph.T).tocsr()
    graph.eliminate_zeros()
    n_components, component = connected_components(graph)
    if n_components > 1:
        warn_at_caller(
            f"the number of connected components of the connectivity matrix is "
            f"{n_components} > 1. Completing it to avoid stopping the tree early.")
        members = [np.flatnonzero(component == c) for c in range(n_components)]
        rows, cols = [], []
        for i in range(n_components):
            for j in range(i):
                if metric == "precomputed":
                    D = X[np.ix_(members[i], members[j])]
                else:
                    D = pairwise_distances(X[members[i]], X[members[j]], metric=metric)
                ii, jj = np.unravel_index(np.argmin(D), D.shape)
                rows += [members[i][ii], members[j][jj]]
                cols += [members[j][jj], members[i][ii]]
        extra = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=graph.shape)
        graph = (graph + extra).tocsr()
    graph.sum_duplicates()
    graph.sort_indices()
    return graph, n_components


def _edge_distances(X, graph, metric):
    """The distance along every stored edge of a graph without diagonal,
    in float64 (scikit-learn's paired distances, in X's dtype)."""
    coo = graph.tocoo()
    if metric == "precomputed":
        return np.asarray(X[coo.row, coo.col], dtype=np.float64)
    return np.asarray(paired_distances(X[coo.row], X[coo.col], metric=metric),
                      dtype=np.float64)


def _graph_tree(X, connectivity, n_clusters, linkage, metric):
    """Agglomeration along the graph: (children, n_components, parents,
    distances). n_clusters: stop there (None: the full tree)."""
    n_samples = X.shape[0]
    graph, n_components = _symmetric_graph(
        X, connectivity, "euclidean" if linkage == "ward" else metric)
    n_merges = n_samples - 1 if n_clusters is None else n_samples - n_clusters
    if n_clusters is not None and n_clusters > n_samples:
        raise ValueError(
            f"Cannot provide more clusters than samples. {n_clusters} n_clusters was "
            f"asked, and there are {n_samples} samples.")
    if linkage == "ward":
        children = np.empty((n_merges, 2), dtype=np.intp)
        distances = np.empty(n_merges)
        parents = np.empty(n_samples + n_merges, dtype=np.intp)
        _linkage_graph.ward_graph(np.ascontiguousarray(X), graph.indptr.astype(np.intp),
                                  graph.indices.astype(np.intp), distances, children, parents)
        # Twice the increase of inertia, square-rooted: the scale of the
        # unstructured Ward distances.
        return children, n_components, parents, np.sqrt(2.0 * distances)

    graph.setdiag(0)
    graph.eliminate_zeros()
    graph.sort_indices()
    weights = _edge_distances(X, graph, metric)
    if linkage == "single":
        # A minimum spanning tree of the graph, its edges sorted by weight
        # (stable), labelled as merges. A zero distance is stored as the
        # smallest positive float so that the sparse graph keeps the edge.
        tiny = np.finfo(np.float64).eps
        weighted = sp.csr_array((np.where(weights == 0, tiny, weights), graph.indices,
                                 graph.indptr), shape=graph.shape)
        mst = minimum_spanning_tree(weighted).tocoo()
        heights = np.where(mst.data == tiny, 0.0, mst.data)
        # The edges in order of weight (stable), each merge as (cluster of
        # its row end, cluster of its column end): scikit-learn's children.
        Z = _linkage.linkage_from_merges(mst.row.astype(np.intp), mst.col.astype(np.intp),
                                         heights, n_samples, smaller_first=False)
        children = Z[:, :2].astype(np.intp)
        parents = np.arange(n_samples + n_merges, dtype=np.intp)
        for k in range(n_merges):
            parents[children[k]] = n_samples + k
        return children, n_components, parents, np.ascontiguousarray(Z[:, 2])

    children = np.empty((n_merges, 2), dtype=np.intp)
    distances = np.empty(n_merges)
    parents = np.empty(n_samples + n_merges, dtype=np.intp)
    _linkage_graph.linkage_graph(graph.indptr.astype(np.intp), graph.indices.astype(np.intp),
                                 weights, linkage == "average", distances, children, parents)
    return children, n_components, parents, distances


###############################################################################
# The unstructured tree


def _square_distances(X, metric):
    """The full distance matrix of a metric that our kernels do not compute:
    precomputed, a callable, or another of scikit-learn's names."""
    if metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"Distance matrix should be square, got matrix of shape {X.shape}")
        D = X
    elif callable(metric):
        D = metric(X)
    else:
        D = pairwise_distances(X, metric=metric)
    D = np.asarray(D)
    return np.ascontiguousarray(D, dtype=D.dtype if D.dtype in FLOAT_DTYPES else np.float64)


def _sklearn_single_order(metric):
    """Whether scikit-learn labels its unstructured single linkage itself
    (each merge as (cluster of the tree's older end, cluster of the newer))
    rather than taking SciPy's (smaller node id first): for the metrics of
    its DistanceMetric, on which it runs its own minimum spanning tree."""
    if not isinstance(metric, str) or metric in ("precomputed", "cosine"):
        return False
    try:
        DistanceMetric.get_metric(metric)
    except (ValueError, TypeError):
        return False
    return True


def _check_finite_distances(distances, linkage):
    """ValueError where distances between samples overflow (as scikit-learn
    raises for these linkages, through SciPy's check of the distances)."""
    # The largest, not an elementwise test: no temporary the size of the
    # condensed matrix (NaN, from inf - inf, propagates through max).
    if not np.isfinite(np.max(distances)):
        raise ValueError(
            f"The distances between samples are not all finite (they overflow "
            f"float64 at this scale of the data): {linkage} linkage needs finite "
            "distances. Scale the input data.")


def _full_tree(X, linkage, metric, n_threads):
    """Unstructured linkage: (children, distances), node n_samples + i made
    by the i-th merge, merges in SciPy's order."""
    n_samples = X.shape[0]
    kernel_metric = _KERNEL_METRICS.get(metric) if isinstance(metric, str) else None
    # SciPy's order within each merge (the smaller node first) but for
    # scikit-learn's own single-linkage tree.
    smaller_first = True
    if linkage == "ward":
        # Every Ward score is at most n_samples / 2 times the squared diameter
        # of the samples' bounding box: finite when that product is.
        with np.errstate(over="ignore", invalid="ignore"):
            span = X.max(axis=0).astype(np.float64) - X.min(axis=0)
            _check_finite_distances(n_samples * np.sum(span * span), linkage)
        a, b, height = _linkage.ward_linkage(X, n_threads)
    elif linkage == "single":
        if kernel_metric is not None:
            a, b, height = _linkage.single_linkage(X, kernel_metric, n_threads)
        else:
            a, b, height = _linkage_matrix.single_linkage_precomputed(_square_distances(X, metric),
                                                              n_threads)
        smaller_first = not _sklearn_single_order(metric)
    else:
        if kernel_metric is not None:
            condensed = _linkage_matrix.pairwise_condensed(X, kernel_metric, n_threads)
        else:
            D = _square_distances(X, metric)
            condensed = np.ascontiguousarray(D[np.triu_indices(n_samples, k=1)])
        _check_finite_distances(condensed, linkage)
        a, b, height = _linkage_matrix.matrix_linkage(condensed, linkage, n_threads)
    Z = _linkage.linkage_from_merges(a, b, height, n_samples, smaller_first=smaller_first)
    return Z[:, :2].astype(np.intp), np.ascontiguousarray(Z[:, 2])


def _build_tree(X, connectivity, n_clusters, linkage, metric):
    """The tree of a fit: (children, n_connected_components, n_leaves,
    parents or None, distances). A module-level function, so that
    ``memory`` (joblib) can cache it by its arguments."""
    if linkage != "ward" and metric == "cosine" and np.any(~np.any(X, axis=1)):
        raise ValueError("Cosine affinity cannot be used when X contains zero vectors")
    with blas_single_threaded():
        if connectivity is None:
            children, distances = _full_tree(X, linkage, metric, effective_n_threads())
            return children, 1, X.shape[0], None, distances
        children, n_components, parents, distances = _graph_tree(
            X, connectivity, n_clusters, linkage, metric)
    return children, n_components, X.shape[0], parents, distances


###############################################################################
# Cutting the tree


def _cut_tree(n_clusters, children, n_leaves):
    """Labels of the n_clusters clusters below the top merges, numbered as
    scikit-learn numbers them: it splits the newest node n_clusters - 1
    times, keeping the nodes in a heap (of negated ids), and cluster i is the
    i-th node of the heap's list."""
    if n_clusters > n_leaves:
        raise ValueError(
            "Cannot extract more clusters than samples: "
            f"{n_clusters} clusters were given for a tree with {n_leaves} leaves.")
    heap = [-(int(max(children[-1])) + 1)]
    for _ in range(n_clusters - 1):
        pair = children[-heap[0] - n_leaves]
        heapq.heappush(heap, -int(pair[0]))
        heapq.heappushpop(heap, -int(pair[1]))
    labels = np.empty(n_leaves, dtype=np.intp)
    _linkage_graph.cut_labels(np.ascontiguousarray(children, dtype=np.intp),
                              np.array([-node for node in heap], dtype=np.intp), labels)
    return labels


def _forest_labels(parents, n_samples):
    """Labels of a partial tree: the clusters are the trees of the forest,
    numbered in the order of their root's id."""
    heads = np.array(parents, dtype=np.intp)
    _linkage_graph.forest_heads(heads)
    return np.unique(heads[:n_samples], return_inverse=True)[1].astype(np.intp)


###############################################################################
# The estimator


class AgglomerativeClustering(ClusterMixin, BaseEstimator):
    """Agglomerative clustering, with scikit-learn's tree and labels.

    A drop-in replacement for :class:`sklearn.cluster.AgglomerativeClustering`:
    the same parameters, fitted attributes and labels (cluster numbers
    included), from parallel kernels that, on the metrics they compute, store
    nothing quadratic for ward and single linkage and the condensed distance
    matrix in X's dtype for complete and average.

    Parameters
    ----------
    n_clusters : int or None, default=2
        The number of clusters to find; None when ``distance_threshold`` is
        given.
    metric : str or callable, default='euclidean'
        The distance between samples. 'euclidean' ('l2'), 'manhattan' ('l1',
        'cityblock') and 'cosine' run on our kernels; 'precomputed' takes X as
        a distance matrix; a callable returns the distance matrix of X; any
        other of scikit-learn's metric names goes through
        :func:`sklearn.metrics.pairwise_distances` (a full matrix). Ward takes
        only 'euclidean' and 'l2'.
    memory : str or object with the joblib.Memory interface, default=None
        Caches the tree: a path to a folder, or a ``joblib.Memory``.
    connectivity : array-like, sparse matrix or callable, default=None
        A graph of the samples that may be merged (its edges, made
        symmetric), or a callable that returns it from X, such as
        :func:`sklearn.neighbors.kneighbors_graph`. A graph of several
        connected components is first completed (with a warning) by an edge
        between the closest samples of every pair of components.
    compute_full_tree : 'auto' or bool, default='auto'
        With a connectivity graph, False stops merging at ``n_clusters``.
        'auto' builds the full tree when ``distance_threshold`` is given or
        ``n_clusters < max(100, 0.02 * n_samples)``. Without a graph the full
        tree is always built.
    linkage : {'ward', 'complete', 'average', 'single'}, default='ward'
        The distance between clusters: the increase of variance (ward), the
        largest, mean or smallest distance between their samples.
    distance_threshold : float, default=None
        Clusters are the subtrees whose merge distance is below it; then
        ``n_clusters`` must be None and ``compute_full_tree`` not False.
    compute_distances : bool, default=False
        Keep the merge distances (``distances_``) without a threshold, e.g. to
        draw a dendrogram.

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters: ``n_clusters``, or with ``distance_threshold``
        one more than the number of merges at or above it.
    labels_ : ndarray of shape (n_samples,)
        The cluster of each sample.
    n_leaves_ : int
        The leaves of the tree (n_samples).
    n_connected_components_ : int
        The connected components of the connectivity graph (1 without one).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string feature names.
    children_ : ndarray of shape (n_merges, 2)
        The nodes merged by each merge, which makes node n_samples + i;
        nodes below n_samples are the samples. n_merges is n_samples - 1, or
        fewer when a graph's tree stops early.
    distances_ : ndarray of shape (n_merges,)
        The distance of each merge; only with ``distance_threshold`` or
        ``compute_distances``.

    See Also
    --------
    sklearn.cluster.AgglomerativeClustering : the reference implementation.
    linkage_matrix : the tree as SciPy's linkage matrix.
    plot_dendrogram : draw the tree.

    Notes
    -----
    Without a graph, time and memory:

    - ward: the nearest-neighbour chain on cluster centroids, O(n_samples^2
      n_features) time, O(n_samples n_features) memory;
    - single: Prim's minimum spanning tree, distances computed as needed,
      O(n_samples^2 n_features) time, O(n_samples) memory;
    - complete, average: the condensed distance matrix (n_samples (n_samples -
      1) / 2 values in X's dtype: 1 GB for 16,000 float64 samples) and the
      nearest-neighbour chain over it, O(n_samples^2) time.

    scikit-learn (through SciPy) keeps the same condensed matrix in float64
    for every linkage, and ward's O(n^2) matrix besides.

    With a graph of E edges: a heap of candidate merges, O(E log E) time,
    O(n_samples + E) memory; the same merges as scikit-learn in the same
    order, equal distances included (the heap is Python's heapq step for
    step).

    Without a graph, equal distances (duplicate samples, grids) may be met
    in another order than SciPy's: the tree is then another, equally valid,
    one (ward, complete, average) or the same merges in another order
    (single).

    float32 X is not converted: distances are computed in float32 (scikit-learn
    computes them in float64), so ``distances_`` agree to float32's precision
    and merges at nearly equal heights may come in another order. The graph
    linkages sum ward's centroids in float64 whatever X's dtype, as
    scikit-learn does.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import AgglomerativeClustering
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [4, 2], [4, 4], [4, 0]])
    >>> clustering = AgglomerativeClustering().fit(X)
    >>> clustering.labels_
    array([1, 1, 1, 0, 0, 0])
    >>> AgglomerativeClustering(n_clusters=None, distance_threshold=2.5,
    ...                         linkage="single").fit(X).n_clusters_
    2
    """

    # The metric names, the memory type and the linkages are scikit-learn's
    # own (private lists), read from its estimator's public class attribute
    # so that both accept the same values.
    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "metric": list(_SkAgglomerativeClustering._parameter_constraints["metric"]),
        "memory": list(_SkAgglomerativeClustering._parameter_constraints["memory"]),
        "connectivity": ["array-like", "sparse matrix", callable, None],
        "compute_full_tree": [StrOptions({"auto"}), "boolean"],
        # scikit-learn's own options object, so that a bad value's message
        # lists them in the same order.
        "linkage": list(_SkAgglomerativeClustering._parameter_constraints["linkage"]),
        "distance_threshold": [Interval(Real, 0, None, closed="left"), None],
        "compute_distances": ["boolean"],
    }

    def __init__(self, n_clusters=2, *, metric="euclidean", memory=None, connectivity=None,
                 compute_full_tree="auto", linkage="ward", distance_threshold=None,
                 compute_distances=False):
        self.n_clusters = n_clusters
        self.metric = metric
        self.memory = memory
        self.connectivity = connectivity
        self.compute_full_tree = compute_full_tree
        self.linkage = linkage
        self.distance_threshold = distance_threshold
        self.compute_distances = compute_distances

    def _check_params(self, n_samples):
        """The checks between parameters; the tree's n_clusters (None: full)."""
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise ValueError(
                "Exactly one of n_clusters and distance_threshold has to be set, and "
                "the other needs to be None.")
        if self.distance_threshold is not None and not self.compute_full_tree:
            raise ValueError("compute_full_tree must be True if distance_threshold is set.")
        if self.linkage == "ward" and self.metric not in ("euclidean", "l2"):
            raise ValueError(
                f"{self.metric} was provided as metric. Ward can only work with "
                "euclidean distances (i.e. 'euclidean' and 'l2').")
        full_tree = self.compute_full_tree
        if self.connectivity is None or self.distance_threshold is not None:
            full_tree = True
        elif full_tree == "auto":
            full_tree = self.n_clusters < max(_AUTO_FULL_TREE_CLUSTERS,
                                              _AUTO_FULL_TREE_FRACTION * n_samples)
        return None if full_tree else self.n_clusters

    @restores_state
    def fit(self, X, y=None):
        """Build the tree of X and cut it into clusters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples,
            n_samples) with metric='precomputed'
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_samples(self, X, ensure_min_samples=2, order="C",
                             accept_strings=False)
        memory = check_memory(self.memory)
        tree_n_clusters = self._check_params(X.shape[0])
        connectivity = self.connectivity
        if connectivity is not None:
            if callable(connectivity):
                connectivity = connectivity(X)
            connectivity = check_array(connectivity, accept_sparse=["csr", "coo", "lil"])

        children, n_components, n_leaves, parents, distances = memory.cache(_build_tree)(
            X, connectivity, tree_n_clusters, self.linkage, self.metric)
        self.children_ = children
        self.n_connected_components_ = n_components
        self.n_leaves_ = n_leaves
        if self.distance_threshold is not None or self.compute_distances:
            self.distances_ = distances
        elif hasattr(self, "distances_"):
            del self.distances_

        if self.distance_threshold is not None:
            self.n_clusters_ = int(np.count_nonzero(distances >= self.distance_threshold)) + 1
        else:
            self.n_clusters_ = self.n_clusters
        if tree_n_clusters is None:
            self.labels_ = _cut_tree(self.n_clusters_, children, n_leaves)
        else:
            self.labels_ = _forest_labels(parents, n_leaves)
        return self

    @restores_state
    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples,
            n_samples) with metric='precomputed'
        y : ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X).labels_


###############################################################################
# SciPy's linkage matrix


def linkage_matrix(model):
    """The tree of a fitted :class:`AgglomerativeClustering` as SciPy's
    linkage matrix, for :func:`scipy.cluster.hierarchy.dendrogram`,
    :func:`~scipy.cluster.hierarchy.fcluster` and the like.

    Parameters
    ----------
    model : AgglomerativeClustering (ours or scikit-learn's), fitted with
        ``distance_threshold`` or ``compute_distances=True`` (the matrix
        needs the merge distances) and with the full tree (not stopped early
        by ``compute_full_tree=False`` on a graph).

    Returns
    -------
    Z : ndarray of shape (n_samples - 1, 4)
        Row i merges nodes Z[i, 0] and Z[i, 1] (samples below n_samples, node
        n_samples + j made by row j) at distance Z[i, 2] into a cluster of
        Z[i, 3] samples.

    Raises
    ------
    TypeError
        If model is not an AgglomerativeClustering.
    NotFittedError
        If it is not fitted.
    ValueError
        If the model kept no distances, or its tree is partial.

    Notes
    -----
    The rows are the model's merges in its order. With a connectivity graph,
    ward's (and average's) merge distances need not increase from row to
    row, which SciPy allows (a dendrogram then draws inversions).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.cluster.hierarchy import fcluster
    >>> from turbocluster import AgglomerativeClustering, linkage_matrix
    >>> X = np.array([[0.0], [1.0], [5.0], [6.5]])
    >>> model = AgglomerativeClustering(linkage="single", compute_distances=True).fit(X)
    >>> linkage_matrix(model)
    array([[0. , 1. , 1. , 2. ],
           [2. , 3. , 1.5, 2. ],
           [4. , 5. , 4. , 4. ]])
    >>> fcluster(linkage_matrix(model), t=2, criterion="maxclust")
    array([1, 1, 2, 2], dtype=int32)
    """
    if not isinstance(model, (AgglomerativeClustering, _SkAgglomerativeClustering)):
        raise TypeError(
            "linkage_matrix needs an AgglomerativeClustering model (turbocluster's or "
            f"scikit-learn's), got {type(model).__name__}")
    check_is_fitted(model, "children_")
    if not hasattr(model, "distances_"):
        raise ValueError(
            "the linkage matrix needs the merge distances: fit the model with "
            "compute_distances=True (or with distance_threshold)")
    children = np.asarray(model.children_, dtype=np.intp)
    n_samples = model.n_leaves_
    if children.shape[0] != n_samples - 1:
        raise ValueError(
            f"the tree is partial ({children.shape[0]} merges of {n_samples - 1}): fit "
            "the model with compute_full_tree=True")
    counts = np.ones(2 * n_samples - 1, dtype=np.intp)
    _linkage_graph.subtree_sizes(np.ascontiguousarray(children), counts)
    return np.column_stack([children.astype(np.float64),
                            np.asarray(model.distances_, dtype=np.float64),
                            counts[n_samples:].astype(np.float64)])
