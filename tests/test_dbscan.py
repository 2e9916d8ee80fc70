"""Tests of turbocluster.DBSCAN.

scikit-learn 1.9's DBSCAN is the reference, and the agreement is exact: the
same core samples and the same labels, cluster ids included (both number the
clusters by their smallest core sample and give a border sample the smallest
id among its core neighbours' clusters; see src/_dbscan.py). No tolerance is
needed: a pair near eps is decided on its exact float64 distance, the test
scikit-learn's trees make, and the data sets include pairs exactly at eps
(integer grids). Our own promises are tested on their own: labels identical for
1, 2 or 3 threads, float32 kept, predict.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import dbscan as sk_dbscan
from sklearn.datasets import make_blobs, make_moons
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from turbocluster import DBSCAN, dbscan
from turbocluster import _dbscan as dbscan_module
from turbocluster._kernels import _dbscan

DTYPES = [np.float32, np.float64]


@pytest.fixture(params=["grid", "brute"])
def range_search(request, monkeypatch):
    """Runs a test on both range searches: the grid (here up to 8 features,
    beyond the automatic rule's 3) and blocked brute force."""
    monkeypatch.setattr(dbscan_module, "GRID_MAX_FEATURES",
                        8 if request.param == "grid" else 0)
    return request.param


def _moons(dtype=np.float64):
    rng = np.random.RandomState(0)
    X, _ = make_moons(3000, noise=0.08, random_state=0)
    return np.vstack([X, rng.uniform(-1.5, 2.5, (300, 2))]).astype(dtype)


def _blobs_with_noise(n_samples=5000, n_features=2, random_state=1, dtype=np.float64):
    rng = np.random.RandomState(random_state)
    X, _ = make_blobs(n_samples, n_features=n_features, centers=8, cluster_std=0.6,
                      random_state=random_state)
    noise = rng.uniform(-12, 12, (n_samples // 10, n_features))
    return np.vstack([X, noise]).astype(dtype)


def _assert_same_as_sklearn(X, sample_weight=None, **params):
    ours = DBSCAN(**params).fit(X, sample_weight=sample_weight)
    ref = SkDBSCAN(**params).fit(X, sample_weight=sample_weight)
    assert_array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
    assert_array_equal(ours.labels_, ref.labels_)
    assert ours.components_.shape == ref.components_.shape
    return ours, ref


@pytest.mark.parametrize("dtype", DTYPES)
def test_moons_with_noise(range_search, dtype):
    ours, _ = _assert_same_as_sklearn(_moons(dtype), eps=0.1, min_samples=5)
    assert ours.components_.dtype == dtype
    assert ours.labels_.max() == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_blobs_with_uniform_noise(range_search, dtype):
    ours, _ = _assert_same_as_sklearn(_blobs_with_noise(dtype=dtype), eps=0.3,
                                      min_samples=8)
    assert (ours.labels_ == -1).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_high_dimensional(dtype):
    # 10-D (scikit-learn: KD tree) and 20-D (scikit-learn: brute force).
    _assert_same_as_sklearn(_blobs_with_noise(4000, 10, random_state=2, dtype=dtype),
                            eps=2.5, min_samples=10)
    X, _ = make_blobs(3000, n_features=20, centers=6, random_state=2)
    _assert_same_as_sklearn(X.astype(dtype), eps=4.0, min_samples=10)


def test_duplicates(range_search):
    X = _blobs_with_noise(1500)
    _assert_same_as_sklearn(np.vstack([X[:1000], X[:1000], X[:300]]), eps=0.3,
                            min_samples=8)


@pytest.mark.parametrize("kind", ["uniform", "integer", "negative"])
def test_sample_weight(range_search, kind):
    X = _blobs_with_noise(3000)
    rng = np.random.RandomState(0)
    sample_weight = {
        "uniform": rng.uniform(0, 2, X.shape[0]),
        "integer": rng.randint(0, 4, X.shape[0]).astype(float),
        "negative": rng.randint(-1, 4, X.shape[0]).astype(float),
    }[kind]
    _assert_same_as_sklearn(X, sample_weight=sample_weight, eps=0.3, min_samples=8)


def test_integer_weight_equals_repetition(range_search):
    X = _blobs_with_noise(1000)
    sample_weight = np.random.RandomState(0).randint(1, 3, X.shape[0])
    weighted = DBSCAN(eps=0.3, min_samples=6).fit(X, sample_weight=sample_weight)
    repeated = DBSCAN(eps=0.3, min_samples=6).fit(np.repeat(X, sample_weight, axis=0))
    assert_array_equal(np.repeat(weighted.labels_, sample_weight), repeated.labels_)


@pytest.mark.parametrize("seed", range(40))
def test_random_boundary_cases(range_search, seed):
    # Small data on integer grids put many pairs exactly at eps (1, sqrt(2),
    # 2) and many border samples between two clusters.
    rng = np.random.RandomState(seed)
    n_samples = rng.randint(5, 300)
    n_features = rng.choice([1, 2, 3, 5])
    X = rng.randint(0, 12, (n_samples, n_features)).astype(float)
    if seed % 3 == 0:
        X = X.astype(np.float32)
    eps = rng.choice([1.0, 1.5, 2.0, np.sqrt(2), 0.7])
    sample_weight = rng.randint(-1, 4, n_samples).astype(float) if seed % 4 == 0 else None
    _assert_same_as_sklearn(X, sample_weight=sample_weight, eps=eps,
                            min_samples=int(rng.randint(1, 8)))


@pytest.mark.parametrize("n_features", [3, 4, 6, 8])
def test_distance_summed_in_feature_order(range_search, n_features):
    # Pairs whose squared distance, summed in feature order as scikit-learn's
    # trees do, is exactly eps^2 while other orders of the sum (a compiler's
    # reassociation or vectorisation) give a neighbouring float: the pair is
    # a neighbourhood exactly when the order is the same.
    rng = np.random.RandomState(n_features)
    far = 100.0 + 10.0 * np.arange(20.0)[:, None] + np.zeros((20, n_features))
    n_cases = 0
    while n_cases < 10:
        a = rng.uniform(-3, 3, n_features)
        b = a + rng.uniform(-0.3, 0.3, n_features)
        terms = (a - b) ** 2
        sq = 0.0
        for t in terms:
            sq = sq + t
        eps = np.sqrt(sq)
        other_orders = {np.sum(terms[::-1]), terms[0::2].sum() + terms[1::2].sum()}
        if eps * eps != sq or other_orders == {sq}:
            continue
        n_cases += 1
        _assert_same_as_sklearn(np.vstack([a, b, far]), eps=eps, min_samples=2)


def test_far_from_origin_float32(range_search):
    # ||x||^2 ~ 2e6 against eps^2 = 0.04: the GEMM estimate's error is far
    # larger than eps^2 there, and the exact re-check must decide.
    X, _ = make_blobs(3000, centers=5, cluster_std=0.5, random_state=3,
                      center_box=(1000, 1010))
    _assert_same_as_sklearn(X.astype(np.float32), eps=0.2, min_samples=6)


def test_minkowski_p2_is_the_fast_path_and_function(range_search):
    X = _moons()
    core, labels = dbscan(X, eps=0.1, min_samples=5)
    ref_core, ref_labels = sk_dbscan(X, eps=0.1, min_samples=5)
    assert_array_equal(core, ref_core)
    assert_array_equal(labels, ref_labels)


@pytest.fixture(params=["kept", "searched again"])
def held(request, monkeypatch):
    """Runs a test with every neighbourhood kept after the first pass, and
    with room for 200 indices only: chunks of a few rows, each pass
    searching again."""
    if request.param == "searched again":
        monkeypatch.setattr(dbscan_module, "_NEIGHBOURS_HELD", 200)
    return request.param


@pytest.mark.parametrize("params", [
    {"metric": "manhattan"},
    {"metric": "chebyshev"},
    {"metric": "minkowski", "p": 3},
    {"metric": "minkowski", "p": 1.5, "algorithm": "ball_tree"},
    {"metric": "cosine", "eps": 0.01},
    {"metric": "euclidean", "algorithm": "brute", "metric_params": {}},
])
@pytest.mark.parametrize("weighted", [False, True])
def test_other_metrics_equal_sklearn(params, weighted, held):
    # scikit-learn's own neighbour search, a chunk of rows at a time.
    X = _blobs_with_noise(1000)
    weight = np.random.RandomState(0).uniform(0.2, 1.9, X.shape[0]) if weighted else None
    params = {"eps": 0.3, "min_samples": 6, **params}
    _assert_same_as_sklearn(X, sample_weight=weight, **params)


def test_other_metric_float32_and_callable(held):
    X = _blobs_with_noise(600, dtype=np.float32)
    ours, _ = _assert_same_as_sklearn(X, eps=0.3, min_samples=6, metric="manhattan")
    assert ours.components_.dtype == np.float32

    def l1(a, b):
        return np.abs(a - b).sum()

    _assert_same_as_sklearn(X[:300], eps=0.6, min_samples=4, metric=l1)


def test_precomputed_and_sparse(held):
    from sklearn.metrics import pairwise_distances
    from sklearn.neighbors import radius_neighbors_graph

    X = _blobs_with_noise(800)
    ref = SkDBSCAN(eps=0.3, min_samples=6).fit(X)
    D = pairwise_distances(X)
    assert_array_equal(DBSCAN(eps=0.3, min_samples=6, metric="precomputed").fit(D).labels_,
                       ref.labels_)
    G = radius_neighbors_graph(X, 0.3, mode="distance")
    G_before = G.copy()
    ours = DBSCAN(eps=0.3, min_samples=6, metric="precomputed").fit(G)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
    # The diagonal is made explicit on a copy, not in the caller's graph.
    assert (G != G_before).nnz == 0 and G.nnz == G_before.nnz
    X_sparse = sp.csr_matrix(X)
    ours = DBSCAN(eps=0.3, min_samples=6).fit(X_sparse)
    assert_array_equal(ours.labels_, ref.labels_)
    assert sp.issparse(ours.components_)


def test_other_metric_all_noise_and_all_core(held):
    X = _blobs_with_noise(300)
    _assert_same_as_sklearn(X, eps=1e-6, min_samples=2, metric="manhattan")
    _assert_same_as_sklearn(X, eps=1e3, min_samples=2, metric="manhattan")


@pytest.mark.parametrize("n_features", [2, 3])
def test_thread_count_identity(range_search, n_features):
    # Non-integer weights too: each sample's sum is added in one fixed order.
    X = _blobs_with_noise(20000 if n_features == 2 else 8000, n_features, random_state=0)
    sample_weight = np.random.RandomState(0).uniform(0.3, 1.7, X.shape[0])
    X_new = np.random.RandomState(1).uniform(-12, 12, (3000, n_features))
    results = []
    for n_threads in (1, 2, 3):
        with threadpool_limits(n_threads, "openmp"):
            est = DBSCAN(eps=0.15 * n_features, min_samples=10).fit(
                X, sample_weight=sample_weight)
            results.append((est.labels_, est.core_sample_indices_, est.predict(X_new)))
    for labels, core, predicted in results[1:]:
        assert_array_equal(labels, results[0][0])
        assert_array_equal(core, results[0][1])
        assert_array_equal(predicted, results[0][2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_brute_force_tiles_skipped_by_boxes(dtype):
    # 10-D blobs far apart: brute force over the k-d order skips most tile
    # pairs (bounding boxes more than eps apart), with scikit-learn's labels,
    # non-integer weights included, for any number of threads; and the
    # same labels as with no box (every tile computed).
    X, _ = make_blobs(6000, n_features=10, centers=12, cluster_std=0.8, random_state=3)
    X = np.vstack([X, np.random.RandomState(3).uniform(-10, 10, (600, 10))]).astype(dtype)
    sample_weight = np.random.RandomState(4).uniform(0.3, 1.7, X.shape[0])
    search = dbscan_module._BruteSearch(X)
    assert_array_equal(np.sort(search.order), np.arange(X.shape[0]))
    (lo, hi), (clo, chi) = search.row_box, search.col_box
    gap = np.maximum(0, np.maximum(clo[None] - hi[:, None], lo[:, None] - chi[None]))
    assert ((gap ** 2).sum(axis=-1) > 1.7 ** 2).mean() > 0.5
    ours, _ = _assert_same_as_sklearn(X, sample_weight=sample_weight, eps=1.7,
                                      min_samples=8)
    results = []
    for n_threads in (1, 2, 3):
        with threadpool_limits(n_threads, "openmp"):
            est = DBSCAN(eps=1.7, min_samples=8).fit(X, sample_weight=sample_weight)
            results.append((est.labels_, est.predict(X[::5] + 0.1)))
    for labels, predicted in results:
        assert_array_equal(labels, ours.labels_)
        assert_array_equal(predicted, results[0][1])
    counts_pruned = search.neighbour_weights(sample_weight, 1.7, 2)
    plain = np.empty(X.shape[0])
    _dbscan.neighbour_weights(search.X, search.sq, sample_weight[search.order], 1.7,
                              plain, 2)
    assert_array_equal(counts_pruned[search.order], plain)


def test_grid_in_chunks_of_cells(monkeypatch):
    # The neighbour ranges computed 64 cells at a time give the same labels.
    X = _blobs_with_noise(6000, 3, random_state=6)
    whole = DBSCAN(eps=0.5, min_samples=8).fit(X)
    monkeypatch.setattr(dbscan_module._Grid, "MAX_RANGE_ENTRIES", 1)
    chunked = DBSCAN(eps=0.5, min_samples=8).fit(X)
    assert_array_equal(chunked.labels_, whole.labels_)
    assert_array_equal(chunked.predict(X[::3] + 0.05), whole.predict(X[::3] + 0.05))
    _assert_same_as_sklearn(X, eps=0.5, min_samples=8)


def test_range_search_rule():
    # The grid up to GRID_MAX_FEATURES features, brute force above, and brute
    # force where the grid's keys would not fit (eps tiny against the box).
    for n_features, kind in [(1, "_GridSearch"), (2, "_GridSearch"), (6, "_GridSearch"),
                             (7, "_BruteSearch")]:
        X = np.random.RandomState(0).uniform(0, 10, (50, n_features))
        assert type(dbscan_module._range_search(X, 0.5)).__name__ == kind
    X = np.array([[0.0, 0.0, 0.0], [1e12, 1e12, 1e12], [1e12, 1e12, 1e12 + 1e-3]])
    assert type(dbscan_module._range_search(X, 1e-3)).__name__ == "_BruteSearch"
    _assert_same_as_sklearn(X, eps=1e-3, min_samples=2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_3d(range_search, dtype):
    # Large neighbourhoods (hundreds of samples): many cells, long runs.
    X, _ = make_blobs(6000, n_features=3, centers=4, cluster_std=0.4, random_state=4)
    _assert_same_as_sklearn(X.astype(dtype), eps=0.3, min_samples=40)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [1e3, -1e6])
def test_far_from_origin(range_search, dtype, offset):
    X = _blobs_with_noise(3000, 3, random_state=5) * 0.1 + offset
    _assert_same_as_sklearn(X.astype(dtype), eps=0.05, min_samples=5)


@pytest.mark.parametrize("n_features", [1, 2, 3])
def test_integer_lattice_exactly_eps_apart(range_search, n_features):
    # A full lattice with spacing 1 and eps 1: every neighbour pair is exactly
    # eps apart and lies on the cells' boundaries; repeated points and a
    # lattice with spacing eps = 0.1 (not exact in binary) too. At least 12
    # samples: below that scikit-learn's neighbour search is brute force on
    # ||x||^2 - 2 <x, y> + ||y||^2, whose rounding differs from its trees'.
    axes = [np.arange(30.0 if n_features == 1 else 6.0)] * n_features
    X = np.stack(np.meshgrid(*axes), -1).reshape(-1, n_features)
    X = np.vstack([X, X[::7]])
    for eps, min_samples in [(1.0, 2 * n_features + 1), (1.0, 2 * n_features + 2),
                             (np.sqrt(2), 5)]:
        _assert_same_as_sklearn(X, eps=eps, min_samples=min_samples)
    _assert_same_as_sklearn(X * 0.1, eps=0.1, min_samples=2 * n_features + 1)


def test_one_cell_and_single_sample(range_search):
    X = _blobs_with_noise(500)
    _assert_same_as_sklearn(X, eps=100.0, min_samples=5)
    _assert_same_as_sklearn(X[:1], eps=0.5, min_samples=1)
    _assert_same_as_sklearn(X[:1], eps=0.5, min_samples=2)


def test_predict_outside_the_fitted_box(range_search):
    est = DBSCAN(eps=0.5, min_samples=3).fit(_blobs_with_noise(800))
    core = est.components_
    X_new = np.vstack([core[:5] + 0.1, [[1e6, -1e6], [-40.0, 3.0]]])
    pred = est.predict(X_new)
    assert_array_equal(pred[-2:], [-1, -1])
    d = np.sqrt(((X_new[:5, None, :] - core[None, :, :]) ** 2).sum(-1))
    assert_array_equal(pred[:5], est.labels_[est.core_sample_indices_][np.argmin(d, 1)])


def test_union_find_kernel_alone():
    # Points on a line 1 apart form one chain; the roots are the smallest
    # index of each component.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [30.0]])
    parent = np.arange(6, dtype=np.intp)
    _dbscan.union_core_pairs(X, (X ** 2).ravel(), 1.0, parent, 2)
    roots = np.empty_like(parent)
    _dbscan.find_roots(parent, roots)
    assert_array_equal(roots, [0, 0, 0, 3, 3, 5])


@pytest.mark.parametrize("dtype", DTYPES)
def test_predict(range_search, dtype):
    X = _moons(dtype)
    est = DBSCAN(eps=0.1, min_samples=5).fit(X)
    # Core samples get their own cluster back.
    assert_array_equal(est.predict(est.components_),
                       est.labels_[est.core_sample_indices_])
    # Far away: noise.
    assert_array_equal(est.predict(np.array([[100.0, 100.0]], dtype=dtype)), [-1])
    # A new sample takes the label of its nearest core sample within eps.
    rng = np.random.RandomState(0)
    X_new = rng.uniform(-1.5, 2.5, (500, 2)).astype(dtype)
    pred = est.predict(X_new)
    d = np.sqrt(((X_new[:, None, :].astype(np.float64)
                  - est.components_[None, :, :].astype(np.float64)) ** 2).sum(-1))
    nearest = np.argmin(d, axis=1)
    expected = np.where(d[np.arange(500), nearest] <= 0.1,
                        est.labels_[est.core_sample_indices_][nearest], -1)
    assert_array_equal(pred, expected)


def test_predict_ties_to_lowest_core_index(range_search):
    # Every sample is its own core sample and cluster. 1.0 is exactly 1 from
    # cores 0 and 2 (labels 0, 2), 3.0 exactly 1 from cores 1 and 2 (labels
    # 1, 2): ties go to the lower core index, and distance eps counts.
    est = DBSCAN(eps=1.0, min_samples=1).fit(np.array([[0.0], [4.0], [2.0], [10.0]]))
    assert_array_equal(est.labels_, [0, 1, 2, 3])
    assert_array_equal(est.predict(np.array([[1.0], [3.0], [7.0]])), [0, 1, -1])


def test_predict_other_metric():
    X = _blobs_with_noise(800)
    est = DBSCAN(eps=0.5, min_samples=6, metric="manhattan").fit(X)
    assert_array_equal(est.predict(est.components_), est.labels_[est.core_sample_indices_])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_raises(bad):
    X = _moons()
    X[3, 1] = bad
    with pytest.raises(ValueError):
        DBSCAN().fit(X)


@pytest.mark.parametrize("params", [{"eps": 0.0}, {"eps": -1.0}, {"min_samples": 0},
                                    {"metric": "nope"}, {"algorithm": "grid"}])
def test_bad_parameters(params):
    with pytest.raises(InvalidParameterError):
        DBSCAN(**params).fit(_moons())


def test_empty_and_bad_weights():
    with pytest.raises(ValueError):
        DBSCAN().fit(np.empty((0, 2)))
    with pytest.raises(ValueError):
        DBSCAN().fit(_moons(), sample_weight=np.ones(5))


def test_input_not_modified_clone_pickle_pipeline():
    X = _moons()
    X_copy = X.copy()
    est = DBSCAN(eps=0.1).fit(X)
    assert_array_equal(X, X_copy)
    assert_array_equal(pickle.loads(pickle.dumps(est)).labels_, est.labels_)
    assert_array_equal(clone(est).fit(X).labels_, est.labels_)
    pipe = make_pipeline(StandardScaler(), DBSCAN(eps=0.2)).fit(X)
    assert pipe[-1].labels_.shape == (X.shape[0],)
