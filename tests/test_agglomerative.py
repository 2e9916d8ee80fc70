"""AgglomerativeClustering: scikit-learn's tree, distances and labels, its
errors, the linkage matrix and the dendrogram."""

import pickle
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.cluster import hierarchy
from sklearn import cluster
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.neighbors import kneighbors_graph
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from turbocluster import AgglomerativeClustering, linkage_matrix, plot_dendrogram
from turbocluster._kernels import _linkage_graph

LINKAGES = ("ward", "complete", "average", "single")
METRICS = ("euclidean", "manhattan", "cosine", "precomputed")


@pytest.fixture(scope="module")
def X():
    # Blobs away from the origin: no zero row (cosine refuses them), and
    # distances without ties, so that the merge order is unique.
    X, _ = make_blobs(n_samples=120, n_features=4, centers=4, cluster_std=1.5,
                      random_state=0)
    return X + 20.0


def _input(X, metric, dtype):
    X = X.astype(dtype)
    return pairwise_distances(X).astype(dtype) if metric == "precomputed" else X


def _both(params, X):
    """Fit scikit-learn's and ours with the same parameters, warnings caught."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cluster.AgglomerativeClustering(**params).fit(X)
        ours = AgglomerativeClustering(**params).fit(X)
    return reference, ours


def _assert_same_fit(reference, ours, rtol):
    assert_array_equal(ours.children_, reference.children_)
    assert ours.children_.dtype == np.intp
    assert_allclose(ours.distances_, reference.distances_, rtol=rtol)
    assert_array_equal(ours.labels_, reference.labels_)  # the numbers too
    assert ours.n_clusters_ == reference.n_clusters_
    assert ours.n_leaves_ == reference.n_leaves_
    assert ours.n_connected_components_ == reference.n_connected_components_


###############################################################################
# Agreement with scikit-learn


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("graph", [False, True])
@pytest.mark.parametrize("linkage, metric", [
    (linkage, metric) for linkage in LINKAGES for metric in METRICS
    if linkage != "ward" or metric == "euclidean"])  # ward: euclidean only
def test_same_tree_distances_and_labels_as_scikit_learn(X, linkage, metric, graph, dtype):
    data = _input(X, metric, dtype)
    connectivity = kneighbors_graph(X, 8, include_self=False) if graph else None
    # Distances within 1e-10 in float64 (only the order of sums differs). In
    # float32 our unstructured kernels compute in float32, scikit-learn (via
    # SciPy) in float64: float32's precision. The graph linkages compute
    # their edges as scikit-learn does.
    rtol = 1e-10 if dtype == np.float64 else 2e-6
    base = dict(linkage=linkage, metric=metric, connectivity=connectivity)
    reference, ours = _both(dict(base, n_clusters=5, compute_distances=True), data)
    _assert_same_fit(reference, ours, rtol)
    # A threshold between two merges high in the tree.
    heights = np.sort(reference.distances_)
    threshold = float((heights[-4] + heights[-3]) / 2)
    reference, ours = _both(dict(base, n_clusters=None, distance_threshold=threshold), data)
    _assert_same_fit(reference, ours, rtol)
    assert ours.n_clusters_ == 4  # three merges at or above the threshold


@pytest.mark.parametrize("linkage", LINKAGES)
def test_early_stop_on_a_graph_gives_scikit_learn_partial_tree(X, linkage):
    connectivity = kneighbors_graph(X, 6, include_self=False)
    for params in (dict(n_clusters=10, compute_full_tree=False),
                   # 'auto' stops early from max(100, 2% of the samples) clusters.
                   dict(n_clusters=100)):
        reference, ours = _both(dict(params, linkage=linkage, connectivity=connectivity), X)
        assert_array_equal(ours.children_, reference.children_)
        assert_array_equal(ours.labels_, reference.labels_)
        assert ours.n_clusters_ == params["n_clusters"] == np.unique(ours.labels_).size
        if linkage != "single":  # scikit-learn's single keeps the whole tree
            assert ours.children_.shape == (X.shape[0] - params["n_clusters"], 2)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_disconnected_graph_is_completed_with_scikit_learn_warning(X, linkage):
    # Two neighbours each: the graph falls into several components.
    connectivity = kneighbors_graph(X, 2, include_self=False)
    params = dict(n_clusters=4, linkage=linkage, connectivity=connectivity,
                  compute_distances=True)
    with pytest.warns(UserWarning, match="the number of connected components of the "
                      "connectivity matrix is [0-9]+ > 1. Completing it"):
        ours = AgglomerativeClustering(**params).fit(X)
    reference = _both(params, X)[0]
    assert ours.n_connected_components_ > 1
    _assert_same_fit(reference, ours, 1e-10)


def test_callable_connectivity_metric_aliases_and_other_metrics(X):
    def graph(data):
        return kneighbors_graph(data, 5, include_self=False)

    cases = [dict(linkage="average", connectivity=graph),
             dict(linkage="ward", metric="l2"),
             dict(linkage="complete", metric="l1"),
             dict(linkage="average", metric="cityblock"),
             # Not on our kernels: a full matrix from scikit-learn's metric.
             dict(linkage="single", metric="chebyshev"),
             dict(linkage="complete", metric="correlation"),
             dict(linkage="average", metric=lambda A: pairwise_distances(A, metric="l1"))]
    for params in cases:
        reference, ours = _both(dict(params, n_clusters=4, compute_distances=True), X)
        _assert_same_fit(reference, ours, 1e-10)


def test_ties_resolve_as_scikit_learn_on_a_grid():
    # A regular grid: many equal distances, along a lattice graph as well.
    X = np.array([[i, j] for i in range(8) for j in range(6)], dtype=np.float64)
    lattice = kneighbors_graph(X, 4, include_self=False)
    for linkage in LINKAGES:
        for connectivity in (None, lattice):
            reference, ours = _both(dict(n_clusters=6, linkage=linkage,
                                         connectivity=connectivity,
                                         compute_distances=True), X)
            assert_allclose(ours.distances_, reference.distances_, rtol=1e-10)
            assert ours.n_clusters_ == reference.n_clusters_
            if connectivity is not None:
                # Along a graph our heap is Python's heapq move for move.
                assert_array_equal(ours.children_, reference.children_)
                assert_array_equal(ours.labels_, reference.labels_)


def test_same_bits_for_one_and_two_threads(X):
    results = []
    for n_threads in (1, 2):
        with threadpool_limits(n_threads, "openmp"):
            results.append([AgglomerativeClustering(n_clusters=3, linkage=linkage,
                                                    compute_distances=True).fit(X)
                            for linkage in LINKAGES])
    for one, two in zip(*results):
        assert_array_equal(one.children_, two.children_)
        assert_array_equal(one.distances_, two.distances_)


def test_integer_lists_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = [[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]]
    ours = AgglomerativeClustering().fit(X)
    assert_array_equal(ours.labels_, cluster.AgglomerativeClustering().fit(X).labels_)
    assert ours.n_features_in_ == 2 and not hasattr(ours, "feature_names_in_")
    frame = pd.DataFrame(X, columns=["a", "b"])
    assert_array_equal(AgglomerativeClustering().fit(frame).feature_names_in_, ["a", "b"])
    assert not hasattr(ours, "distances_")


###############################################################################
# Properties, and the graph kernel alone


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(2, 40),
       n_features=st.integers(1, 4), linkage=st.sampled_from(LINKAGES),
       n_clusters=st.integers(1, 6), graph=st.booleans())
def test_property_labels_tree_and_heights(seed, n_samples, n_features, linkage,
                                          n_clusters, graph):
    rng = np.random.default_rng(seed)
    # Integer coordinates: many equal distances.
    X = rng.integers(-3, 4, size=(n_samples, n_features)).astype(np.float64)
    n_clusters = min(n_clusters, n_samples)
    connectivity = (kneighbors_graph(X, min(3, n_samples - 1), include_self=False)
                    if graph else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AgglomerativeClustering(n_clusters=n_clusters, linkage=linkage,
                                        connectivity=connectivity,
                                        compute_distances=True).fit(X)
        reference = cluster.AgglomerativeClustering(
            n_clusters=n_clusters, linkage=linkage, connectivity=connectivity,
            compute_distances=True).fit(X)
    assert np.unique(model.labels_).size == n_clusters
    assert model.labels_.min() == 0 and model.labels_.max() == n_clusters - 1
    Z = linkage_matrix(model)
    assert hierarchy.is_valid_linkage(Z) and Z[-1, 3] == n_samples
    if not graph:
        # The unstructured linkages are reducible: heights never decrease.
        assert np.all(np.diff(model.distances_) >= 0)
        if linkage == "single":
            # The minimum spanning tree's weights do not depend on how ties
            # are broken. (Ward, complete and average may build another,
            # equally valid, tree when equal distances are met in another
            # order, as between SciPy versions: their heights then differ.)
            assert_allclose(model.distances_, reference.distances_, rtol=1e-10)
    else:
        # Along a graph, ties included, the very same tree as scikit-learn's.
        assert_array_equal(model.children_, reference.children_)
        assert_array_equal(model.labels_, reference.labels_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_single_linkage_with_several_zero_rows(dtype):
    # Duplicate points at the origin (zero norms) once crashed single
    # linkage's float32 filter.
    rng = np.random.default_rng(0)
    X = rng.integers(-2, 3, size=(40, 2)).astype(dtype)
    X[[0, 5, 17, 39]] = 0.0
    for data in (X, np.zeros((2, 1), dtype=dtype), np.zeros((5, 3), dtype=dtype)):
        for metric in ("euclidean", "l2"):
            reference, ours = _both(dict(n_clusters=2, linkage="single", metric=metric,
                                         compute_distances=True), data)
            assert_allclose(ours.distances_, reference.distances_, rtol=1e-6)
            assert adjusted_rand_score(reference.labels_, ours.labels_) == 1.0
            assert hierarchy.is_valid_linkage(linkage_matrix(ours))


def test_graph_kernel_alone_on_a_path():
    # 0 - 1 - 2 - 3 with edges 1, 3, 2: complete linkage merges (0, 1) at 1,
    # then (2, 3) at 2, then the two pairs at max(3, ...) = 3.
    indptr = np.array([0, 1, 3, 5, 6], dtype=np.intp)
    indices = np.array([1, 0, 2, 1, 3, 2], dtype=np.intp)
    weights = np.array([1.0, 1.0, 3.0, 3.0, 2.0, 2.0])
    children = np.empty((3, 2), dtype=np.intp)
    distances = np.empty(3)
    parents = np.empty(7, dtype=np.intp)
    _linkage_graph.linkage_graph(indptr, indices, weights, False, distances, children,
                                 parents)
    assert_array_equal(children, [[0, 1], [2, 3], [4, 5]])
    assert_array_equal(distances, [1.0, 2.0, 3.0])
    assert_array_equal(parents, [4, 4, 5, 5, 6, 6, 6])
    labels = np.empty(4, dtype=np.intp)
    _linkage_graph.cut_labels(children, np.array([5, 4], dtype=np.intp), labels)
    assert_array_equal(labels, [1, 1, 0, 0])
    heads = parents[:6].copy()
    heads[4:] = [4, 5]  # the forest of the first two merges
    _linkage_graph.forest_heads(heads)
    assert_array_equal(heads, [4, 4, 5, 5, 4, 5])


###############################################################################
# Errors: scikit-learn's types and messages


def _same_error(params, X, match=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as reference:
            cluster.AgglomerativeClustering(**params).fit(X)
        with pytest.raises(type(reference.value)) as ours:
            AgglomerativeClustering(**params).fit(X)
    assert str(ours.value) == str(reference.value).replace(
        "AgglomerativeClustering", "AgglomerativeClustering")
    if match is not None:
        assert match in str(ours.value)


@pytest.mark.parametrize("params, match", [
    (dict(linkage="median"), "'linkage' parameter"),
    (dict(n_clusters=0), "'n_clusters' parameter"),
    (dict(metric="nonsense"), "'metric' parameter"),
    (dict(distance_threshold=-1.0, n_clusters=None), "'distance_threshold'"),
    (dict(compute_full_tree="yes"), "'compute_full_tree'"),
    (dict(memory=3), "'memory' parameter"),
    (dict(linkage="ward", metric="manhattan"), "Ward can only work with euclidean"),
    (dict(linkage="ward", metric="cosine"), "Ward can only work"),
    (dict(n_clusters=None), "Exactly one of n_clusters and distance_threshold"),
    (dict(n_clusters=2, distance_threshold=1.0), "Exactly one of"),
    (dict(n_clusters=None, distance_threshold=1.0, compute_full_tree=False),
     "compute_full_tree must be True"),
    (dict(n_clusters=50), "Cannot extract more clusters than samples"),
])
def test_bad_parameters_raise_scikit_learn_errors(params, match):
    X = np.arange(20, dtype=np.float64).reshape(10, 2) ** 1.5
    _same_error(params, X, match)
    if "parameter" in match:
        with pytest.raises(InvalidParameterError):
            AgglomerativeClustering(**params).fit(X)


def test_bad_data_raise_scikit_learn_errors():
    good = np.arange(20, dtype=np.float64).reshape(10, 2) ** 1.5
    nan, inf = good.copy(), good.copy()
    nan[3, 1] = np.nan
    inf[0, 0] = np.inf
    zero = good.copy()
    zero[2] = 0.0
    _same_error({}, good[:1], "minimum of 2 is required")
    _same_error({}, nan, "NaN")
    _same_error({}, inf, "infinity")
    _same_error(dict(linkage="average", metric="cosine"), zero, "zero vectors")
    _same_error(dict(linkage="single", metric="precomputed"), good, "should be square")
    _same_error(dict(connectivity=np.ones((3, 3))), good, "Wrong shape for connectivity")
    _same_error({}, sp.csr_matrix(good), "dense data is required")


###############################################################################
# Caching, estimator protocol


def test_memory_caches_the_tree(X, tmp_path):
    params = dict(n_clusters=3, linkage="average", memory=str(tmp_path),
                  compute_distances=True)
    first = AgglomerativeClustering(**params).fit(X)
    assert any(tmp_path.rglob("output.pkl"))  # joblib's cache entry
    second = AgglomerativeClustering(**dict(params, n_clusters=5)).fit(X)
    assert_array_equal(first.children_, second.children_)
    assert_array_equal(second.labels_, cluster.AgglomerativeClustering(
        n_clusters=5, linkage="average").fit(X).labels_)


def test_pipeline_clone_pickle_fit_predict(X):
    model = AgglomerativeClustering(n_clusters=3, linkage="complete").fit(X)
    assert_array_equal(pickle.loads(pickle.dumps(model)).labels_, model.labels_)
    assert_array_equal(clone(model).fit_predict(X), model.labels_)
    pipe = make_pipeline(StandardScaler(), AgglomerativeClustering(n_clusters=4)).fit(X)
    assert pipe[-1].labels_.shape == (X.shape[0],)
    X_copy = X.copy()
    AgglomerativeClustering(linkage="average", compute_distances=True).fit(X)
    assert_array_equal(X, X_copy)


###############################################################################
# SciPy's linkage matrix and the dendrogram


@pytest.mark.parametrize("linkage", LINKAGES)
def test_linkage_matrix_is_scipys(X, linkage):
    model = AgglomerativeClustering(linkage=linkage, compute_distances=True).fit(X)
    Z = linkage_matrix(model)
    expected = hierarchy.linkage(X, method=linkage)
    # Single linkage: scikit-learn's children name the older end of each
    # tree edge first, SciPy the smaller node; the same merges.
    assert_array_equal(np.sort(Z[:, :2], axis=1), expected[:, :2])
    assert_array_equal(Z[:, 3], expected[:, 3])
    assert_allclose(Z[:, 2], expected[:, 2], rtol=1e-10)
    assert hierarchy.is_valid_linkage(Z)
    flat = hierarchy.fcluster(Z, t=4, criterion="maxclust")
    labels = AgglomerativeClustering(n_clusters=4, linkage=linkage).fit(X).labels_
    assert adjusted_rand_score(flat, labels) == 1.0
    # scikit-learn's fitted model too.
    sk = cluster.AgglomerativeClustering(linkage=linkage, compute_distances=True).fit(X)
    assert_array_equal(linkage_matrix(sk)[:, [0, 1, 3]], Z[:, [0, 1, 3]])


def test_linkage_matrix_of_a_graph_tree_and_its_errors(X):
    graph = kneighbors_graph(X, 10, include_self=False)
    with pytest.warns(UserWarning, match="connected components") as record:
        model = AgglomerativeClustering(n_clusters=None, distance_threshold=5.0,
                                        connectivity=graph).fit(X)
    assert record[0].filename == __file__  # the warning points at the call of fit
    assert model.n_connected_components_ > 1
    Z = linkage_matrix(model)
    assert hierarchy.is_valid_linkage(Z) and Z[-1, 3] == X.shape[0]
    hierarchy.dendrogram(Z, no_plot=True)
    with pytest.raises(ValueError, match="compute_distances=True"):
        linkage_matrix(AgglomerativeClustering().fit(X))
    partial = AgglomerativeClustering(n_clusters=10, connectivity=graph,
                                      compute_full_tree=False, compute_distances=True)
    with pytest.warns(UserWarning, match="connected components"):
        partial.fit(X)
    with pytest.raises(ValueError, match="compute_full_tree=True"):
        linkage_matrix(partial)


def test_plot_dendrogram_draws_scipys_dendrogram(X):
    pytest.importorskip("matplotlib")
    model = AgglomerativeClustering(linkage="average", compute_distances=True).fit(X[:20])
    ax = plot_dendrogram(model, color_threshold=3.0)
    expected = hierarchy.dendrogram(linkage_matrix(model), no_plot=True)
    assert ax.dendrogram_["ivl"] == expected["ivl"]
    assert len(ax.collections) + len(ax.lines) > 0
    big = AgglomerativeClustering(compute_distances=True).fit(X)
    truncated = plot_dendrogram(big, truncate_mode="lastp", p=5)
    assert len(truncated.dendrogram_["ivl"]) == 5


def test_plot_dendrogram_without_matplotlib_names_the_extra(X, monkeypatch):
    model = AgglomerativeClustering(compute_distances=True).fit(X)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises
    with pytest.raises(ImportError, match=r"turbocluster\[plot\]"):
        plot_dendrogram(model)
