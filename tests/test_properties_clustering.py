"""Property tests (hypothesis) of DBSCAN and dbscan (predict included),
AgglomerativeClustering and linkage_matrix, silhouette_samples and
silhouette_score, select_n_clusters and knee_point.

Generated data as in ``test_properties_kmeans.py`` (``property_strategies``).
Each test checks invariants that hold for any input: labels in range, every
label used, scikit-learn's dtypes; DBSCAN's definition (core samples, border
samples, noise) recomputed in float64 and its labels equal to scikit-learn's;
a valid merge tree with non-decreasing heights for the reducible linkages; the
silhouette coefficients in [-1, 1] and equal to their definition; the same bits
with 1 and 2 OpenMP threads; the caller's array unchanged. For a long search::

    HYPOTHESIS_PROFILE=thorough python -m pytest -q tests/test_properties_*.py \
        --hypothesis-show-statistics

Where the math allows, per estimator (the largest magnitude of the values is
10**exponent):

- DBSCAN decides each pair on its float64 distance, float32 samples included
  (as scikit-learn's trees, which compute in float64): squared distances must
  stay normal float64 numbers, 1e-140 to 1e140 for float64 samples (squares
  of 1e-280 to 1e280, with room for differences 1000 times smaller than the
  values and for 64 features); float32 samples reach their own limits, 1e-37
  to 1e37, whose squares float64 holds.
- AgglomerativeClustering computes distances in X's dtype (float32 stays
  float32): squares must stay normal in that dtype, 1e-15 to 1e15 in float32,
  1e-140 to 1e140 in float64.
- The silhouette works in float64 whatever X's dtype, as scikit-learn, but
  rounds float32 samples' squared distances to float32 as scikit-learn does
  (its float32 distance matrix holds them): beyond 1.8e19 they overflow and
  both return zeros (with RuntimeWarnings), below 1e-19 they are subnormal.
  float32 samples go from 1e-15 to 1e17, float64 from 1e-140 to 1e140.
- Sparse X in DBSCAN goes to scikit-learn's brute force, float32 squares
  included: float32 samples up to 1e12 (and eps up to 1e18).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, event, given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy.cluster import hierarchy
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import AgglomerativeClustering as SkAgglomerativeClustering
from sklearn.metrics import silhouette_samples as sk_silhouette_samples
from sklearn.metrics import silhouette_score as sk_silhouette_score
from sklearn.neighbors import kneighbors_graph

from property_strategies import (
    assert_few_warnings,
    assert_same_bits,
    cluster_counts,
    data,
    in_threads,
    recorded,
    same_error_as_reference,
    sq_distances,
)
from turbocluster import (
    DBSCAN,
    AgglomerativeClustering,
    KMeans,
    MiniBatchKMeans,
    dbscan,
    knee_point,
    linkage_matrix,
    select_n_clusters,
    silhouette_samples,
    silhouette_score,
)

DBSCAN_EXPONENTS = {"float64": (-140, 140), "float32": (-37, 37)}
# Sparse X goes to scikit-learn's brute force, which expands the squared
# distances in X's dtype: float32 squares, of eps too (the largest eps drawn
# is 1e6 times the values), must stay below FLT_MAX.
DBSCAN_SPARSE_EXPONENTS = {"float64": (-140, 140), "float32": (-37, 12)}
AGGLOMERATIVE_EXPONENTS = {"float64": (-140, 140), "float32": (-15, 15)}
SILHOUETTE_EXPONENTS = {"float64": (-140, 140), "float32": (-15, 17)}

# Relative band around eps inside which a pair's float64 distance, computed
# here from differences, may round to the other side of eps than the
# estimator's own computation: the definition is checked outside the band,
# and the agreement with scikit-learn decides the pairs inside it.
EPS_BAND = 1e-9


def _distances(A, B):
    with np.errstate(over="ignore", under="ignore"):
        return np.sqrt(sq_distances(A, B))


def _within(A, B, eps, dtype, exact):
    """(sure, maybe, S, band): the pairs of rows of A and B within eps beyond
    doubt and those that may be, their float64 squared distances S from
    differences and the rounding band about S of the estimator's own.
    exact: the estimator decides on the float64 distance (dense X: our
    kernels, as scikit-learn's trees); otherwise on scikit-learn's brute
    force (sparse X), ||a||^2 - 2 <a, b> + ||b||^2 in X's dtype, off by up
    to 4 (n_features + 2) eps (||a||^2 + ||b||^2)."""
    S = sq_distances(A, B)
    if exact:
        band = S * 2 * EPS_BAND + 1e-300
    else:
        with np.errstate(over="ignore", under="ignore"):
            norms = (np.asarray(A, dtype=np.float64) ** 2).sum(axis=1)[:, None] + (
                np.asarray(B, dtype=np.float64) ** 2).sum(axis=1)[None, :]
        info = np.finfo(dtype)
        band = 4 * (A.shape[1] + 2) * (float(info.eps) * norms + float(info.tiny))
    eps2 = eps * eps
    return S <= eps2 - band, S <= eps2 + band, S, band


###############################################################################
# DBSCAN


@st.composite
def dbscan_problems(draw):
    d = draw(data(exponents=DBSCAN_EXPONENTS, sparse_exponents=DBSCAN_SPARSE_EXPONENTS,
                  sparse=None, max_samples=1500))
    D = _distances(d.dense, d.dense)
    positive = D[D > 0]
    scale = 10.0 ** d.recipe.exponent
    # eps: a distance between two samples (a pair exactly at eps), halfway
    # between two consecutive distances (no pair near eps), or far smaller
    # or larger than the data's spread (a grid of cells of side eps over a
    # box of the data's size).
    choice = draw(st.sampled_from(["pair", "between", "between", "tiny", "huge"]))
    distances = np.unique(positive)
    if distances.size > 1 and choice == "between":
        k = draw(st.integers(0, distances.size - 2))
        eps = float(distances[k] + distances[k + 1]) / 2
    elif distances.size and choice in ("pair", "between"):
        eps = float(distances[draw(st.integers(0, distances.size - 1))])
    elif choice == "huge":
        eps = 1e6 * scale
    else:
        eps = 1e-9 * scale
    eps = max(eps, 5e-324)
    min_samples = draw(st.sampled_from([1, 2, 3, 5, 10, d.n_samples + 1]))
    sample_weight = draw(st.one_of(st.none(), st.lists(
        st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0]), min_size=d.n_samples,
        max_size=d.n_samples).filter(any).map(np.array)))
    # metric: Euclidean, by name or as Minkowski's p=2 (scikit-learn's DBSCAN
    # fails on metric="minkowski" with its default p=None; dbscan passes p=2).
    metric = draw(st.sampled_from(["euclidean", "euclidean", "minkowski"]))
    return d, eps, min_samples, sample_weight, metric


def _check_dbscan_definition(sure, maybe, min_samples, weights, is_core, labels):
    """DBSCAN's definition on the pairs sure and maybe within eps (see
    _within)."""
    band = maybe & ~sure
    # Neighbourhood weights, the sample itself included: the sure ones, plus
    # the band's weights that help (its positive ones for a core sample, its
    # negative ones for another).
    count = sure @ weights
    assert np.all((count + (band * np.maximum(weights, 0)).sum(axis=1))[is_core]
                  >= min_samples)
    assert np.all((count + (band * np.minimum(weights, 0)).sum(axis=1))[~is_core]
                  < min_samples)
    # Core samples: those within eps of each other share a cluster.
    core = np.flatnonzero(is_core)
    assert np.all(labels[core] >= 0)
    linked = sure[np.ix_(core, core)]
    assert np.all((labels[core][:, None] == labels[core][None, :])[linked])
    # Border samples are within eps of a core sample of their cluster;
    # noise is within eps of no core sample.
    for i in np.flatnonzero(~is_core):
        if labels[i] >= 0:
            assert np.any(maybe[i, core] & (labels[core] == labels[i]))
        else:
            assert not np.any(sure[i, core])


@given(dbscan_problems())
def test_dbscan(problem):
    d, eps, min_samples, sample_weight, metric = problem
    params = dict(eps=eps, min_samples=min_samples, metric=metric, p=2)
    # The reference: scikit-learn with a tree on dense X, which decides each
    # pair on sum_k (a_k - b_k)^2 <= eps^2 in float64, as ours. Its 'brute'
    # search ('auto' above 15 features) rounds a GEMM expansion instead: a
    # pair exactly at eps, or a sample and itself, can fall out of range.
    reference_params = dict(params, algorithm="brute" if sp.issparse(d.X) else "kd_tree")

    def fit():
        return DBSCAN(**params).fit(d.X, sample_weight=sample_weight)

    def fit_reference():
        return SkDBSCAN(**reference_params).fit(d.X, sample_weight=sample_weight)

    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(fit, 1)), fit_reference)
    d.assert_unchanged()
    if error is not None:
        event(f"DBSCAN raised as scikit-learn: {type(error).__name__}")
        return
    one, caught = result
    two, _ = recorded(lambda: in_threads(fit, 2))
    reference, reference_caught = recorded(fit_reference)
    # No warning that scikit-learn does not give (e.g. its own overflow
    # warnings for a radius whose square float32 cannot hold, sparse X).
    assert ({str(w.message) for w in caught}
            <= {str(w.message) for w in reference_caught}), [str(w.message) for w in caught]
    labels = one.labels_
    assert labels.dtype == reference.labels_.dtype
    assert one.core_sample_indices_.dtype == reference.core_sample_indices_.dtype
    # Labels -1 (noise) to max, every one used.
    assert labels.shape == (d.n_samples,) and labels.min() >= -1
    assert_array_equal(np.unique(labels[labels >= 0]), np.arange(labels.max() + 1))
    is_core = np.zeros(d.n_samples, dtype=bool)
    is_core[one.core_sample_indices_] = True
    components = one.components_
    assert sp.issparse(components) == sp.issparse(reference.components_)
    if sp.issparse(components):
        components = components.toarray()
    assert components.dtype == d.dtype
    assert np.array_equal(components, d.dense[is_core].astype(d.dtype))
    weights = np.ones(d.n_samples) if sample_weight is None else sample_weight
    sure, maybe, _, _ = _within(d.dense, d.dense, eps, d.dtype, not sp.issparse(d.X))
    _check_dbscan_definition(sure, maybe, min_samples, weights, is_core, labels)
    # scikit-learn's core samples and labels, cluster numbers included,
    # unless a pair lies at eps to rounding: scikit-learn decides those by
    # its search (a tree's leaf on the squared distance, a whole node on its
    # box's distance, brute force on an expansion), its algorithms
    # disagreeing among themselves.
    if sp.issparse(d.X) or not np.any(maybe & ~sure):
        event("DBSCAN: compared with scikit-learn")
        assert_array_equal(one.core_sample_indices_, reference.core_sample_indices_)
        assert_array_equal(labels, reference.labels_)
        assert one.components_.shape == reference.components_.shape

    core, labels_fn = dbscan(d.X, eps=eps, min_samples=min_samples, metric=metric, p=2,
                             sample_weight=sample_weight)
    assert_array_equal(core, one.core_sample_indices_)
    assert_array_equal(labels_fn, labels)
    for name in ("labels_", "core_sample_indices_"):
        assert_same_bits(getattr(one, name), getattr(two, name), name)
    d.assert_unchanged()


@given(dbscan_problems(), st.integers(0, 2**32 - 1))
def test_dbscan_predict(problem, seed):
    d, eps, min_samples, sample_weight, metric = problem
    model = DBSCAN(eps=eps, min_samples=min_samples, metric=metric, p=2)
    model.fit(d.X, sample_weight=sample_weight)
    # New samples: the training ones, and as many moved by up to 2 eps.
    rng = np.random.default_rng(seed)
    moved = d.dense + rng.uniform(-2, 2, size=d.dense.shape) * eps / np.sqrt(
        d.n_features)
    with np.errstate(over="ignore"):
        moved = moved.astype(d.dtype)
    assume(np.all(np.isfinite(moved)))
    queries = np.vstack([d.dense.astype(d.dtype), moved])
    if sp.issparse(d.X):
        queries = sp.csr_matrix(queries)

    predicted = in_threads(lambda: model.predict(queries), 1)
    assert_same_bits(predicted, in_threads(lambda: model.predict(queries), 2),
                     "predict")
    d.assert_unchanged()
    assert predicted.dtype == np.intp and predicted.shape == (2 * d.n_samples,)
    core = model.core_sample_indices_
    # A core sample gets its own cluster back.
    assert_array_equal(predicted[core], model.labels_[core])
    # Each query: the cluster of its nearest core sample within eps, else -1.
    Q = queries.toarray() if sp.issparse(queries) else queries
    components = model.components_
    if sp.issparse(components):
        components = components.toarray()
    sure, maybe, S, band = _within(Q, components, eps, d.dtype, not sp.issparse(d.X))
    core_labels = model.labels_[core]
    for i, label in enumerate(predicted):
        if label == -1:
            assert not np.any(sure[i])
        else:
            # One of the nearest core samples that may be within eps (up to
            # ties and rounding).
            nearest = np.min((S[i] - band[i])[maybe[i]])
            close = maybe[i] & (S[i] - band[i] <= nearest + 2 * band[i])
            assert label in core_labels[close]


###############################################################################
# AgglomerativeClustering and linkage_matrix


@st.composite
def agglomerative_problems(draw):
    d = draw(data(exponents=AGGLOMERATIVE_EXPONENTS, sparse=False, max_samples=400))
    linkage = draw(st.sampled_from(["ward", "complete", "average", "single"]))
    metric = "euclidean" if linkage == "ward" else draw(
        st.sampled_from(["euclidean", "euclidean", "manhattan", "cosine"]))
    connectivity = None
    if d.n_samples > 1 and draw(st.booleans()):
        n_neighbors = draw(st.integers(1, min(5, d.n_samples - 1)))
        connectivity = kneighbors_graph(d.dense, n_neighbors, include_self=False)
    if draw(st.booleans()):
        params = dict(n_clusters=draw(st.one_of(st.integers(1, max(1, d.n_samples // 2)),
                                                cluster_counts(d.n_samples,
                                                               d.n_distinct()))),
                      compute_distances=True)
        if connectivity is not None:
            params["compute_full_tree"] = draw(st.sampled_from(["auto", True, False]))
    else:
        params = dict(n_clusters=None, distance_threshold=draw(st.sampled_from(
            [0.0, 1e-3, 0.1, 0.5, 1.0])) * 10.0 ** d.recipe.exponent)
    params.update(linkage=linkage, metric=metric, connectivity=connectivity)
    return d, params


def _assert_merge_tree(children, n_samples, n_merges):
    """children: merges of existing, distinct nodes, each node merged once."""
    assert children.shape == (n_merges, 2)
    nodes = children.ravel()
    assert np.unique(nodes).size == nodes.size
    made = n_samples + np.arange(n_merges)
    assert np.all(children.max(axis=1) < made) and np.all(children >= 0)


def _partition_after(children, n_samples, n_merges):
    """Cluster of each sample once the first n_merges merges are made."""
    parent = np.arange(2 * n_samples)

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, (a, b) in enumerate(children[:n_merges]):
        parent[root(a)] = parent[root(b)] = n_samples + i
    return np.array([root(i) for i in range(n_samples)])


def _same_partition(a, b):
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    return (pairs.shape[0] == np.unique(a).size == np.unique(b).size)


@given(agglomerative_problems())
def test_agglomerative(problem):
    d, params = problem

    def fit():
        return AgglomerativeClustering(**params).fit(d.X)

    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(fit, 1)),
        lambda: SkAgglomerativeClustering(**params).fit(d.X))
    d.assert_unchanged()
    if error is not None:
        event(f"AgglomerativeClustering raised as scikit-learn: {type(error).__name__}")
        return
    one, caught = result
    two, _ = recorded(lambda: in_threads(fit, 2))
    assert_few_warnings(caught)
    n = d.n_samples
    labels, children = one.labels_, one.children_
    if children.shape[0] == 0:
        # No merge at all (n_clusters == n_samples on a graph, stopped early):
        # scikit-learn 1.9 fails there (an IndexError for complete and
        # average, float64 children for ward); ours is an empty int tree.
        event("agglomerative: no merge")
        assert children.shape == (0, 2) and children.dtype == np.intp
        assert_array_equal(np.sort(labels), np.arange(n))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SkAgglomerativeClustering(**params).fit(d.X)
    assert labels.dtype == reference.labels_.dtype and labels.shape == (n,)
    assert children.dtype == reference.children_.dtype
    assert one.n_leaves_ == n and one.n_connected_components_ >= 1
    # Labels 0 .. n_clusters_ - 1, each used.
    assert_array_equal(np.unique(labels), np.arange(one.n_clusters_))
    full = children.shape[0] == n - 1
    _assert_merge_tree(children, n, children.shape[0])
    if params["connectivity"] is None:
        assert full
    if hasattr(one, "distances_"):
        heights = one.distances_
        assert heights.shape == (children.shape[0],) and np.all(heights >= 0)
        assert heights.dtype == np.float64
        if params["connectivity"] is None:
            # The four linkages are reducible: heights never decrease.
            assert np.all(np.diff(heights) >= 0)
        if params.get("distance_threshold") is not None:
            assert one.n_clusters_ == np.count_nonzero(
                heights >= params["distance_threshold"]) + 1
        if full:
            Z = linkage_matrix(one)
            assert hierarchy.is_valid_linkage(Z) and Z[-1, 3] == n
    # labels_ undo the last n_clusters_ - 1 merges of a full tree
    # (scikit-learn's cut; SciPy's cut_tree undoes others among merges of
    # equal height), or are the trees of a partial one.
    n_made = n - one.n_clusters_ if full else children.shape[0]
    assert _same_partition(_partition_after(children, n, n_made), labels)
    if params["connectivity"] is not None and d.dtype == np.float64:
        # Along a graph, ties included: scikit-learn's own merges.
        event("agglomerative: compared with scikit-learn")
        assert_array_equal(children, reference.children_)
        assert_array_equal(labels, reference.labels_)
    elif params["linkage"] == "single" and d.dtype == np.float64 and full:
        # The minimum spanning tree's weights do not depend on ties; they
        # agree to rounding (cosine distances, 1 - cos in [0, 2], to a few
        # eps absolute).
        atol = 8 * np.finfo(np.float64).eps if params["metric"] == "cosine" else 1e-300
        np.testing.assert_allclose(np.sort(one.distances_),
                                   np.sort(reference.distances_), rtol=1e-9, atol=atol)
    for name in ("labels_", "children_", "distances_", "n_clusters_"):
        if hasattr(one, name):
            assert_same_bits(getattr(one, name), getattr(two, name), name)


###############################################################################
# Silhouette


def _silhouette_by_definition(X, labels):
    """(a, b) of each sample from float64 distances computed from differences."""
    D = _distances(X, X)
    clusters = np.unique(labels)
    sums = np.stack([D[:, labels == c].sum(axis=1) for c in clusters], axis=1)
    sizes = np.array([np.count_nonzero(labels == c) for c in clusters])
    own = np.searchsorted(clusters, labels)
    rows = np.arange(len(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[rows, own] / (sizes[own] - 1)
        means = sums / sizes
    means[rows, own] = np.inf
    return a, means.min(axis=1), sizes[own]


@st.composite
def silhouette_problems(draw):
    d = draw(data(exponents=SILHOUETTE_EXPONENTS, sparse=False, max_samples=1500))
    # 1 label and n_samples labels are errors (as in scikit-learn).
    n_labels = draw(st.sampled_from([2, 3, max(1, d.n_samples // 2), 2, 1, d.n_samples]))
    seed = draw(st.integers(0, 2**32 - 1))
    # Arbitrary label values (LabelEncoder numbers them).
    labels = np.random.default_rng(seed).integers(0, n_labels, d.n_samples) * 7 - 3
    return d, labels


@given(silhouette_problems())
def test_silhouette(problem):
    d, labels = problem
    result, error = same_error_as_reference(
        lambda: in_threads(lambda: silhouette_samples(d.X, labels), 1),
        lambda: sk_silhouette_samples(d.X, labels))
    d.assert_unchanged()
    if error is not None:
        event(f"silhouette raised as scikit-learn: {type(error).__name__}")
        return
    ours = result
    assert_same_bits(ours, in_threads(lambda: silhouette_samples(d.X, labels), 2),
                     "silhouette_samples")
    reference = sk_silhouette_samples(d.X, labels)
    assert ours.dtype == reference.dtype and ours.shape == (d.n_samples,)
    assert np.all((ours >= -1) & (ours <= 1))

    # Against the definition (for scikit-learn's too), within the rounding.
    bound_ours, bound_reference, exact = _silhouette_bounds(d.dense, labels, d.dtype)
    for values, bound in ((ours, bound_ours), (reference, bound_reference)):
        compared = bound < 1
        event(f"silhouette compared with its definition: {compared.mean() > 0.5}")
        assert np.all(np.abs(values - exact)[compared] <= bound[compared])
    score = silhouette_score(d.X, labels)
    assert score == pytest.approx(float(np.mean(ours)), rel=1e-6, abs=1e-12)


def _silhouette_bounds(dense, labels, dtype):
    """(bound on ours, bound on scikit-learn's, the exact coefficients).

    The exact coefficients come from float64 distances computed from
    differences. A distance by ||x||^2 + ||y||^2 - 2 <x, y> (on centered
    samples ours, on the raw ones scikit-learn's) is off by up to its
    rounding noise, about sqrt(4 (n_features + 2) eps) ||x||, which moves a
    coefficient by up to 4 noise / max(a, b); plus the output's rounding.
    """
    a, b, sizes = _silhouette_by_definition(dense, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        exact = np.where(sizes > 1, (b - a) / np.maximum(a, b), 0.0)
        exact = np.nan_to_num(exact)
        relative_noise = np.sqrt(4 * (dense.shape[1] + 2) * np.finfo(np.float64).eps)
        centered = np.sqrt(sq_distances(dense, dense.mean(axis=0, keepdims=True)))
        raw = np.sqrt((dense ** 2).sum(axis=1))
        tol = 1e-9 if dtype == np.float64 else 1e-5
        bounds = [np.where(sizes > 1, tol + 4 * relative_noise * norm.max()
                           / np.maximum(a, b), 0.0) for norm in (centered, raw)]
    # (0 / 0 where a sample and its neighbours coincide: no bound.)
    return (np.nan_to_num(bounds[0], nan=np.inf), np.nan_to_num(bounds[1], nan=np.inf),
            exact)


@given(silhouette_problems(), st.integers(3, 60), st.integers(0, 2**31 - 1))
def test_silhouette_score_sample_size(problem, sample_size, seed):
    d, labels = problem
    result, error = same_error_as_reference(
        lambda: silhouette_score(d.X, labels, sample_size=sample_size,
                                 random_state=seed),
        lambda: sk_silhouette_score(d.X, labels, sample_size=sample_size,
                                    random_state=seed))
    d.assert_unchanged()
    if error is not None:
        event(f"silhouette_score raised as scikit-learn: {type(error).__name__}")
        return
    assert -1 <= result <= 1
    reference = sk_silhouette_score(d.X, labels, sample_size=sample_size,
                                    random_state=seed)
    # scikit-learn's subset (the same draw), scored by the definition.
    subset = np.random.RandomState(seed).permutation(d.n_samples)[:sample_size]
    bound_ours, bound_reference, exact = _silhouette_bounds(d.dense[subset],
                                                            labels[subset], d.dtype)
    assert abs(result - np.mean(exact)) <= np.mean(np.minimum(bound_ours, 2))
    assert abs(reference - np.mean(exact)) <= np.mean(np.minimum(bound_reference, 2))


###############################################################################
# select_n_clusters and knee_point


@given(data(sparse=False, max_samples=200, max_features=8, min_samples=3), st.data())
def test_select_n_clusters(d, draw):
    top = min(d.n_samples, 8)
    candidates = draw.draw(st.lists(st.integers(2, top), min_size=1,
                                    max_size=min(4, top - 1), unique=True), "n_clusters")
    estimator = draw.draw(st.sampled_from(
        [None, MiniBatchKMeans(random_state=0, n_init=1)]), "estimator")
    selection, caught = recorded(
        lambda: select_n_clusters(d.X, candidates, estimator=estimator))
    d.assert_unchanged()
    assert_array_equal(selection.n_clusters, candidates)
    assert np.all(np.isfinite(selection.inertia)) and np.all(selection.inertia >= 0)
    silhouette = selection.silhouette[~np.isnan(selection.silhouette)]
    assert np.all((silhouette >= -1) & (silhouette <= 1))
    assert selection.best_n_clusters_ in candidates
    for name, k in selection.recommended.items():
        assert k is None or k in candidates, name
    best = selection.best_labels_
    assert best.min() >= 0 and best.max() < selection.best_n_clusters_
    for k, model in zip(candidates, selection.estimators_):
        assert model.n_clusters == k and model.cluster_centers_.dtype == d.dtype
    if estimator is None:
        # The shared centered copy gives each candidate KMeans's own fit.
        for k, model in zip(candidates, selection.estimators_):
            alone = KMeans(k, random_state=0).fit(d.X)
            assert_same_bits(model.labels_, alone.labels_, "labels")
            assert_same_bits(model.cluster_centers_, alone.cluster_centers_, "centers")


@given(st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=12), st.data())
def test_knee_point(y, draw):
    x = draw.draw(st.lists(st.integers(-50, 50), min_size=len(y), max_size=len(y),
                           unique=True), "x")
    knee = knee_point(x, y)
    if len(y) < 3 or np.ptp(y) == 0:
        assert knee is None
        return
    assert knee in x
    # The same point for y scaled by a power of two (an exact scaling) and
    # for the points in another order, unless the farthest point is a tie.
    x_n = (np.array(x) - min(x)) / np.ptp(x)
    y_n = (np.array(y) - min(y)) / np.ptp(y)
    gaps = (1 - x_n) - y_n
    if np.count_nonzero(gaps == gaps.max()) == 1:
        assert knee_point(x, [4.0 * v for v in y]) == knee
        order = np.random.default_rng(len(y)).permutation(len(y))
        assert knee_point([x[i] for i in order], [y[i] for i in order]) == knee


###############################################################################
# Regressions found by the property tests (plain tests: they stay when
# hypothesis's example database is gone)


def test_dbscan_float32_products_beyond_flt_max():
    # Brute force (7 features and more): -2 <a, b> of float32 samples near
    # 1.3e19 overflows to -inf in the GEMM, and the estimate -inf read as
    # "within eps" for samples 1e17 apart (eps 1e10); predict read NaN
    # estimates as "not within" and gave a core sample -1.
    X = np.zeros((2, 7), dtype=np.float32)
    X[0, 0], X[1, 0] = 1.35e19, 1.34e19
    for eps, min_samples in ((1e10, 2), (2e17, 2), (1.0, 1)):
        ours = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
        reference = SkDBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(X)
        assert_array_equal(ours.labels_, reference.labels_)
        core = ours.core_sample_indices_
        assert_array_equal(ours.predict(X)[core], ours.labels_[core])


def test_dbscan_float32_squares_below_flt_min():
    # Brute force on float32 samples of 1e-22: their products underflow to
    # subnormals or zero, off by more than the relative error margin, so
    # pairs near eps were decided on the estimate (3 blobs, 200 samples).
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 10
    X = ((centers[rng.integers(0, 3, 200)] + rng.normal(size=(200, 8)))
         * 1e-22).astype(np.float32)
    D = _distances(X, X)
    eps = float(np.quantile(D[D > 0], 0.05))
    ours = DBSCAN(eps=eps, min_samples=3).fit(X)
    reference = SkDBSCAN(eps=eps, min_samples=3, algorithm="kd_tree").fit(X)
    assert_array_equal(ours.labels_, reference.labels_)


def test_dbscan_spatial_order_of_float32_near_flt_max_does_not_warn():
    # The k-d order's spread (max - min of float32 samples near FLT_MAX)
    # overflowed float32: "overflow encountered in subtract".
    X = np.zeros((300, 7), dtype=np.float32)
    X[::2, 0], X[1::2, 0] = 3e38, -3e38
    with warnings.catch_warnings():
        # (scikit-learn's check_array warns about its own float32 sum.)
        warnings.filterwarnings("error", category=RuntimeWarning,
                                module=r"turbocluster\.")
        labels = DBSCAN(eps=1.0, min_samples=2).fit(X).labels_
    assert_array_equal(labels, np.arange(300) % 2)


@pytest.mark.parametrize("sparse", [False, True])
def test_dbscan_components_without_core_samples(sparse):
    # scikit-learn's components_ without a core sample: an empty dense
    # array, for sparse X too (ours was an empty CSR matrix).
    X = np.array([[0.0, 0.0], [5.0, 5.0]])
    model = DBSCAN(eps=1.0, min_samples=2).fit(sp.csr_matrix(X) if sparse else X)
    assert isinstance(model.components_, np.ndarray)
    assert model.components_.shape == (0, 2)


def test_select_n_clusters_with_as_many_clusters_as_samples():
    # A candidate with n_samples clusters (or a silhouette subset whose
    # labels are all distinct) made silhouette_score raise "Number of labels
    # is 3"; its scores are undefined: NaN, as for a single cluster.
    X = np.array([[0.0], [1.0], [5.0]])
    selection = select_n_clusters(X, [2, 3])
    assert np.isfinite(selection.silhouette[0]) and np.isnan(selection.silhouette[1])
    assert np.isnan(selection.calinski_harabasz[1])
    assert np.isnan(selection.davies_bouldin[1])
    X = np.random.default_rng(0).normal(size=(40, 2))
    selection = select_n_clusters(X, [2, 3], silhouette_sample_size=2)
    assert np.all(np.isnan(selection.silhouette))
