"""Tests of turbocluster.KMeans and turbocluster.kmeans_plusplus.

scikit-learn's KMeans is the reference: where results are compared to it, the
tolerance and the reason for it are written beside the assertion. Our own
paths (Lloyd vs Elkan, 1 vs 2 vs 3 threads, dense vs sparse, input layouts)
are compared with each other, bit for bit where the implementation promises it.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from turbocluster import KMeans, kmeans_plusplus
from turbocluster._kernels._openmp import openmp_enabled
from turbocluster._threads import effective_n_threads

DTYPES = [np.float32, np.float64]
ALGORITHMS = ["lloyd", "elkan"]
# Dense and sparse-CSR versions of the same data.
ARRAY_TYPES = [
    pytest.param(np.asarray, id="dense"),
    pytest.param(sp.csr_matrix, id="csr"),
]

# Inertia agreement with scikit-learn from the same start. float64: both sum
# the same squared distances, in different orders and (sklearn) partly from the
# ||x||^2 - 2<x, c> + ||c||^2 expansion: relative differences are ~1e-15 x the
# number of samples, far below 1e-6. float32: sklearn accumulates the centers
# and the inertia in float32 (relative rounding ~1e-7 per addition, ~1e-5 over
# a few hundred samples), we accumulate in float64: 1e-4 covers that.
INERTIA_RTOL = {np.float32: 1e-4, np.float64: 1e-6}
# Centers: cluster means. In float64 they differ by summation order only; in
# float32 by sklearn's float32 accumulation (a few ulps of the largest
# coordinate, ~1e-6 relative for data of size ~10).
CENTER_RTOL = {np.float32: 1e-5, np.float64: 1e-10}
CENTER_ATOL = {np.float32: 1e-4, np.float64: 1e-9}


def _blobs(n_samples=300, n_features=3, centers=4, cluster_std=1.0, dtype=np.float64,
           random_state=0):
    X, y = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=cluster_std, center_box=(-20.0, 20.0),
                      random_state=random_state)
    return X.astype(dtype), y


def _separated_blobs(dtype=np.float64, n_samples=400):
    # Blobs whose gaps are many standard deviations wide: no sample is anywhere
    # near equidistant from two centers, so rounding cannot flip a label.
    centers = np.array([[0.0, 0.0, 0.0], [30.0, 0.0, 5.0], [0.0, 30.0, -5.0],
                        [30.0, 30.0, 10.0], [15.0, -25.0, 0.0]])
    return _blobs(n_samples=n_samples, centers=centers, cluster_std=1.5, dtype=dtype,
                  random_state=7)


def _poor_init(X, n_clusters):
    # The first rows of X (blobs come shuffled): a start several iterations
    # away from convergence, identical for every implementation.
    return np.array(X[:n_clusters], copy=True)


def _sq_dists(X, centers):
    """(n_samples, n_clusters) squared distances in float64, from differences."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    diff = X[:, None, :] - np.asarray(centers, dtype=np.float64)[None, :, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def _as_dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


###############################################################################
# 2. Pipelines, grid search, clone, pickle


def test_pipeline_and_grid_search_on_digits():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    pipe = Pipeline([
        ("kmeans", KMeans(random_state=0)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=300)),
    ])
    search = GridSearchCV(pipe, {"kmeans__n_clusters": [3, 20]}, cv=2)
    search.fit(X, y)
    # 20 distances to centers describe a digit far better than 3.
    assert search.best_params_ == {"kmeans__n_clusters": 20}
    assert search.best_score_ > 0.7
    assert search.best_estimator_["kmeans"].cluster_centers_.shape == (20, 64)
    assert search.predict(X).shape == (600,)


def test_clone_gives_unfitted_copy_with_same_params():
    X, _ = _blobs()
    km = KMeans(n_clusters=3, init="random", n_init=2, max_iter=50, tol=1e-3,
                random_state=4, copy_x=False, algorithm="elkan").fit(X)
    twin = clone(km)
    assert twin.get_params() == km.get_params()
    assert not hasattr(twin, "cluster_centers_")
    twin.fit(X)
    assert_array_equal(twin.labels_, km.labels_)
    assert_array_equal(twin.cluster_centers_, km.cluster_centers_)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pickle_round_trip(dtype, algorithm):
    X, _ = _blobs(dtype=dtype)
    km = KMeans(n_clusters=4, random_state=0, algorithm=algorithm).fit(X)
    restored = pickle.loads(pickle.dumps(km))
    X_new, _ = _blobs(n_samples=50, dtype=dtype, random_state=1)
    assert_array_equal(restored.predict(X_new), km.predict(X_new))
    assert_array_equal(restored.transform(X_new), km.transform(X_new))
    assert restored.score(X_new) == km.score(X_new)
    assert_array_equal(restored.cluster_centers_, km.cluster_centers_)
    assert restored.get_params() == km.get_params()


###############################################################################
# 4. Agreement with scikit-learn, and between our own algorithms


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_as_sklearn_from_explicit_init(dtype, algorithm, array_type):
    X, _ = _separated_blobs(dtype)
    init = _poor_init(X, 5)
    X = array_type(X)
    ours = KMeans(n_clusters=5, init=init, n_init=1, algorithm=algorithm).fit(X)
    ref = SkKMeans(n_clusters=5, init=init, n_init=1, algorithm=algorithm).fit(X)

    # The start is poor enough that several iterations are compared.
    assert ref.n_iter_ >= 3
    # Well-separated blobs: no near-ties, so the labels are identical.
    assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.inertia_, ref.inertia_, rtol=INERTIA_RTOL[dtype])
    assert ours.cluster_centers_.dtype == ref.cluster_centers_.dtype == dtype
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_,
                    rtol=CENTER_RTOL[dtype], atol=CENTER_ATOL[dtype])
    assert_array_equal(ours.predict(X), ref.predict(X))
    # transform: same distances up to the centers' tolerance (distances are
    # ~10, a center error of atol moves them by at most ~atol * sqrt(3)).
    assert_allclose(ours.transform(X), ref.transform(X),
                    rtol=CENTER_RTOL[dtype], atol=10 * CENTER_ATOL[dtype])
    assert_allclose(ours.score(X), ref.score(X), rtol=INERTIA_RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_as_sklearn_with_default_tol_and_several_features(dtype):
    # Overlapping blobs and the default tol: stopping on the center shift
    # (rather than strict convergence) happens at the same iteration.
    X, _ = _blobs(n_samples=500, n_features=6, centers=6, cluster_std=2.0,
                  dtype=dtype, random_state=3)
    init = _poor_init(X, 6)
    for algorithm in ALGORITHMS:
        ours = KMeans(6, init=init, n_init=1, algorithm=algorithm).fit(X)
        ref = SkKMeans(6, init=init, n_init=1, algorithm=algorithm).fit(X)
        assert ours.n_iter_ == ref.n_iter_
        # Overlapping blobs may hold a near-tie in float32: compare the
        # objective (same tolerance reasons as above) and most labels.
        assert_allclose(ours.inertia_, ref.inertia_, rtol=INERTIA_RTOL[dtype])
        assert np.mean(ours.labels_ == ref.labels_) > 0.99


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lloyd_and_elkan_agree(dtype, array_type):
    X, _ = _blobs(n_samples=1000, n_features=4, centers=6, cluster_std=2.5,
                  dtype=dtype, random_state=11)
    X = array_type(X)
    lloyd = KMeans(n_clusters=6, random_state=5, algorithm="lloyd", tol=0).fit(X)
    elkan = KMeans(n_clusters=6, random_state=5, algorithm="elkan", tol=0).fit(X)
    assert lloyd.n_iter_ > 2
    # Documented: both values run the same bounded iteration (Elkan's
    # per-center bounds measured slower and are not kept), so every bit of
    # the result is the same.
    assert_array_equal(lloyd.labels_, elkan.labels_)
    assert lloyd.n_iter_ == elkan.n_iter_
    assert_array_equal(lloyd.cluster_centers_, elkan.cluster_centers_)
    assert lloyd.inertia_ == elkan.inertia_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_n_init_inertia_close_to_sklearn(dtype, algorithm):
    X, _ = _blobs(n_samples=600, n_features=4, centers=5, cluster_std=2.0,
                  dtype=dtype, random_state=2)
    ours = KMeans(5, init="k-means++", n_init=10, random_state=0,
                  algorithm=algorithm).fit(X)
    ref = SkKMeans(5, init="k-means++", n_init=10, random_state=0,
                   algorithm=algorithm).fit(X)
    # Ten restarts on blobs both find the global optimum or close to it; 1%
    # leaves room for a different local optimum of nearly equal cost.
    assert ours.inertia_ <= ref.inertia_ * 1.01
    assert ref.inertia_ <= ours.inertia_ * 1.01


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("random_state", [0, 1, 42])
def test_kmeans_plusplus_same_draws_as_sklearn(random_state, dtype, array_type):
    X, _ = _blobs(n_samples=700, n_features=3, centers=6, dtype=dtype)
    Xa = array_type(X)
    centers, indices = kmeans_plusplus(Xa, 6, random_state=random_state)
    ref_centers, ref_indices = sk_kmeans_plusplus(Xa, 6, random_state=random_state)
    assert_array_equal(indices, ref_indices)
    assert centers.dtype == dtype
    assert_array_equal(centers, X[indices])
    assert_array_equal(centers, ref_centers)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_options_same_as_sklearn(dtype):
    X, _ = _blobs(n_samples=500, n_features=2, centers=5, dtype=dtype)
    weights = np.random.RandomState(0).uniform(0.5, 3.0, size=X.shape[0])
    for kwargs in [dict(sample_weight=weights), dict(n_local_trials=1),
                   dict(n_local_trials=7, sample_weight=weights)]:
        _, indices = kmeans_plusplus(X, 5, random_state=3, **kwargs)
        _, ref_indices = sk_kmeans_plusplus(X, 5, random_state=3, **kwargs)
        assert_array_equal(indices, ref_indices)
    # x_squared_norms is accepted and does not change the draws.
    norms = (X.astype(np.float64) ** 2).sum(axis=1)
    _, with_norms = kmeans_plusplus(X, 5, random_state=3, x_squared_norms=norms)
    _, without = kmeans_plusplus(X, 5, random_state=3)
    assert_array_equal(with_norms, without)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_many_chunks_and_trials_same_as_sklearn(dtype):
    # Several chunks of samples, so that the distances kept from one scoring
    # (see _kernels/_kmeanspp.pyx) are found again chunk by chunk; more than
    # eight candidates take the kernel's path with several blocks of centers.
    X, _ = _blobs(n_samples=3000, n_features=6, centers=10, cluster_std=2.0,
                  dtype=dtype, random_state=4)
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=X.shape[0])
    weights[::7] = 0.0
    for kwargs in [dict(n_local_trials=12), dict(n_local_trials=9, sample_weight=weights),
                   dict(sample_weight=weights)]:
        _, indices = kmeans_plusplus(X, 10, random_state=5, **kwargs)
        _, ref_indices = sk_kmeans_plusplus(X, 10, random_state=5, **kwargs)
        assert_array_equal(indices, ref_indices)


@pytest.mark.parametrize("n_local_trials", [None, 12])
def test_kmeans_plusplus_reports_each_samples_nearest_center(n_local_trials):
    from turbocluster._kmeans_loops import _greedy_kmeans_plusplus

    X, _ = _blobs(n_samples=2000, n_features=4, centers=6, cluster_std=2.0,
                  random_state=3)
    centers, _, nearest = _greedy_kmeans_plusplus(
        X, 8, np.ones(X.shape[0]), np.random.RandomState(0), n_local_trials,
        effective_n_threads())
    sq = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    order = np.sort(sq, axis=1)
    clear = order[:, 1] - order[:, 0] > 1e-9 * order[:, 1]
    assert clear.mean() > 0.99
    assert_array_equal(nearest[clear], sq.argmin(axis=1)[clear])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("guess_kind", ["k-means++", "wrong"])
def test_first_lloyd_pass_from_a_guess_gives_the_same_fit(dtype, guess_kind):
    # The nearest centers found by k-means++ seed the first Lloyd pass; a
    # guess only saves work: even a wrong one changes nothing in the result.
    from turbocluster._kmeans_loops import _greedy_kmeans_plusplus, _kmeans_single

    X, _ = _blobs(n_samples=3000, n_features=5, centers=6, cluster_std=1.5,
                  dtype=dtype, random_state=6)
    weights = np.ones(X.shape[0], dtype=dtype)
    n_threads = effective_n_threads()
    centers, _, guess = _greedy_kmeans_plusplus(
        X, 6, weights, np.random.RandomState(2), None, n_threads)
    if guess_kind == "wrong":
        guess = np.random.RandomState(0).randint(0, 6, size=X.shape[0]).astype(np.int32)
    with_guess = _kmeans_single(X, weights, centers.copy(), 100, False, 0.0, n_threads,
                                "", guess)
    without = _kmeans_single(X, weights, centers.copy(), 100, False, 0.0, n_threads, "")
    assert_array_equal(with_guess[0], without[0])  # labels
    assert_array_equal(with_guess[2], without[2])  # centers
    assert with_guess[1] == without[1]  # inertia
    assert with_guess[3] == without[3] > 1  # iterations: the first never converges


def test_kmeans_plusplus_random_state_instance_and_distinct_centers():
    X, _ = _blobs(n_samples=200)
    rng = np.random.RandomState(8)
    _, first = kmeans_plusplus(X, 4, random_state=rng)
    _, second = kmeans_plusplus(X, 4, random_state=rng)
    _, ref_first = sk_kmeans_plusplus(X, 4, random_state=np.random.RandomState(8))
    assert_array_equal(first, ref_first)
    # The generator advanced: a second call draws afresh.
    assert not np.array_equal(first, second)
    assert np.unique(first).size == 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weights", ["ones", "uniform", "sparse"])
def test_first_center_drawn_as_numpy_choice_draws_it(dtype, weights):
    # The first k-means++ center comes from one cumulative distribution,
    # built once per fit: the same index, and the same stream afterwards, as
    # random_state.choice(n, p=w / w.sum()), which scikit-learn calls.
    from turbocluster._kmeans_loops import _draw_first_center, _weight_cdf

    rng = np.random.default_rng(0)
    w = {
        "ones": np.ones(1000),
        "uniform": rng.uniform(size=1000),
        "sparse": rng.uniform(size=1000) * (rng.uniform(size=1000) < 0.1),
    }[weights].astype(dtype)
    ours, ref = np.random.RandomState(5), np.random.RandomState(5)
    cdf = _weight_cdf(w)
    for _ in range(50):
        assert _draw_first_center(ours, cdf) == ref.choice(w.size, p=w / w.sum())
    assert ours.uniform() == ref.uniform()


def test_same_clustering_up_to_renaming():
    from turbocluster._kmeans_loops import _is_same_clustering

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=300).astype(np.int32)
    renamed = np.array([3, 0, 4, 1, 2], dtype=np.int32)[labels]
    assert _is_same_clustering(labels, renamed, 5)
    merged = np.where(labels == 4, 3, labels).astype(np.int32)  # two clusters as one
    assert not _is_same_clustering(labels, merged, 5)
    assert not _is_same_clustering(merged, labels, 5)
    moved = labels.copy()
    moved[0] = (moved[0] + 1) % 5                              # one sample elsewhere
    assert not _is_same_clustering(labels, moved, 5)
    assert _is_same_clustering(labels[:1], moved[:1], 5)


###############################################################################
# 5. dtypes, layouts, containers


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_is_preserved(dtype, algorithm, array_type):
    X, _ = _blobs(dtype=dtype)
    X = array_type(X)
    km = KMeans(n_clusters=3, random_state=0, algorithm=algorithm)
    distances = km.fit_transform(X)
    assert km.cluster_centers_.dtype == dtype
    assert distances.dtype == dtype
    assert km.transform(X).dtype == dtype
    assert km.labels_.dtype.kind == "i"
    assert km.predict(X).dtype.kind == "i"
    assert isinstance(km.inertia_, float)
    assert isinstance(km.score(X), float)


def test_integer_and_boolean_input_become_float64():
    X = np.arange(40).reshape(20, 2)
    km = KMeans(n_clusters=2, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float64
    assert_array_equal(km.labels_, KMeans(2, random_state=0).fit(X.astype(float)).labels_)
    assert KMeans(n_clusters=2, random_state=0).fit(X > 20).cluster_centers_.dtype \
        == np.float64


def _fit_summary(km, X_test):
    return (km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_,
            km.predict(X_test), km.transform(X_test), km.score(X_test))


def _assert_same_summary(a, b):
    for x, y in zip(a, b):
        assert_array_equal(x, y)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_input_layouts_give_identical_results(dtype, algorithm, tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = _blobs(n_samples=400, dtype=dtype)
    params = dict(n_clusters=4, random_state=0, algorithm=algorithm)
    expected = _fit_summary(KMeans(**params).fit(X), X)

    path = tmp_path / "X.dat"
    X.tofile(path)
    memmapped = np.memmap(path, dtype=dtype, mode="r", shape=X.shape)
    read_only = X.copy()
    read_only.flags.writeable = False
    np.save(tmp_path / "X.npy", X)
    loaded = np.load(tmp_path / "X.npy", mmap_mode="r")
    variants = {
        "fortran": np.asfortranarray(X),
        "memmap": memmapped,
        "np.load mmap": loaded,
        "read-only": read_only,
        "dataframe": pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]),
        "strided": np.repeat(X, 2, axis=1)[:, ::2],
    }
    for name, X_variant in variants.items():
        got = _fit_summary(KMeans(**params).fit(X_variant), X_variant)
        _assert_same_summary(got, expected)
    assert not memmapped.flags.writeable and not read_only.flags.writeable


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_gives_same_result_as_dense(dtype, algorithm):
    # More rows than one block of sparse prediction (4096), mostly zeros.
    rng = np.random.RandomState(0)
    X, _ = _blobs(n_samples=5000, n_features=6, centers=4, dtype=dtype)
    X[rng.uniform(size=X.shape) < 0.5] = 0
    X_csr = sp.csr_matrix(X)
    params = dict(n_clusters=4, random_state=0, algorithm=algorithm)
    dense = KMeans(**params).fit(X)
    sparse = KMeans(**params).fit(X_csr)
    # Same data, other arithmetic: sparse samples are not centered and their
    # distances come from ||x||^2 - 2<x, c> + ||c||^2 over the nonzeros (as in
    # scikit-learn); the tolerance's variance is the sparse mean-of-squares
    # formula. None of it moves a label or the stopping iteration here.
    assert_array_equal(sparse.labels_, dense.labels_)
    assert sparse.n_iter_ == dense.n_iter_
    assert_allclose(sparse.cluster_centers_, dense.cluster_centers_,
                    rtol=CENTER_RTOL[dtype], atol=CENTER_ATOL[dtype])
    assert_allclose(sparse.inertia_, dense.inertia_, rtol=INERTIA_RTOL[dtype])
    # predict, transform and score of sparse input read the CSR arrays.
    assert_array_equal(dense.predict(X_csr), dense.predict(X))
    assert_allclose(dense.transform(X_csr), dense.transform(X),
                    rtol=INERTIA_RTOL[dtype], atol=CENTER_ATOL[dtype])
    assert_allclose(dense.score(X_csr), dense.score(X), rtol=INERTIA_RTOL[dtype])
    # Other sparse formats are converted.
    assert_array_equal(KMeans(**params).fit(sp.csc_matrix(X)).labels_, sparse.labels_)


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, _ = _blobs()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    km = KMeans(n_clusters=3, random_state=0).fit(df)
    assert_array_equal(km.feature_names_in_, ["a", "b", "c"])
    assert km.n_features_in_ == 3
    assert_array_equal(km.get_feature_names_out(), ["kmeans0", "kmeans1", "kmeans2"])
    # Same names, other order: scikit-learn's check applies to us too.
    with pytest.raises(ValueError, match="feature names should match"):
        km.predict(df[["c", "b", "a"]])
    # A plain array has no names: no feature_names_in_.
    assert not hasattr(KMeans(n_clusters=3).fit(X), "feature_names_in_")


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X, _ = _blobs()
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(100, 100 + len(X)))
    km = KMeans(n_clusters=4, random_state=0).set_output(transform="pandas")
    out = km.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["kmeans0", "kmeans1", "kmeans2", "kmeans3"]
    assert_array_equal(out.index, df.index)
    assert_allclose(out.to_numpy(), KMeans(n_clusters=4, random_state=0).fit(X)
                    .transform(X), rtol=1e-12)
    assert isinstance(km.transform(df.iloc[:10]), pd.DataFrame)


###############################################################################
# 6. verbose


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_verbose_reports_each_iteration(algorithm, capsys):
    X, _ = _separated_blobs()
    init = _poor_init(X, 5)
    km = KMeans(5, init=init, n_init=1, tol=0, verbose=1, algorithm=algorithm).fit(X)
    out = capsys.readouterr().out
    assert "Initialization complete" in out
    iterations = re.findall(r"Iteration (\d+), inertia (\S+)", out)
    assert [int(i) for i, _ in iterations] == list(range(km.n_iter_))
    assert all(float(v.rstrip(".")) > 0 for _, v in iterations)
    assert f"Converged at iteration {km.n_iter_ - 1}: strict convergence." in out

    KMeans(5, init=init, n_init=1, tol=10.0, verbose=True, algorithm=algorithm).fit(X)
    out = capsys.readouterr().out
    assert re.search(r"Converged at iteration 0: center shift \S+ within tolerance",
                     out)


def test_verbose_prints_one_initialization_per_run(capsys):
    X, _ = _blobs()
    KMeans(3, init="random", n_init=3, random_state=0, verbose=1).fit(X)
    assert capsys.readouterr().out.count("Initialization complete") == 3
    KMeans(3, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


###############################################################################
# 7. Empty clusters and duplicate points


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_cluster_is_relocated(dtype, algorithm, array_type):
    X, _ = _blobs(n_samples=300, n_features=2, centers=3, dtype=dtype, random_state=1)
    # The third center is so far from the data that no sample picks it.
    init = np.vstack([X[:2], [[1e4, 1e4]]]).astype(dtype)
    X = array_type(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        km = KMeans(3, init=init, n_init=1, algorithm=algorithm).fit(X)
    assert np.unique(km.labels_).size == 3
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.abs(km.cluster_centers_).max() < 100
    assert_array_equal(km.predict(X), km.labels_)
    # scikit-learn relocates to the farthest sample too: same outcome.
    ref = SkKMeans(3, init=init, n_init=1, algorithm=algorithm).fit(X)
    assert_array_equal(km.labels_, ref.labels_)
    assert_allclose(km.inertia_, ref.inertia_, rtol=INERTIA_RTOL[dtype])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_several_empty_clusters(algorithm):
    X, _ = _blobs(n_samples=200, n_features=2, centers=4, random_state=2)
    init = np.vstack([X[:1], [[1e4, 1e4], [-1e4, 1e4], [1e4, -1e4]]])
    km = KMeans(4, init=init, n_init=1, algorithm=algorithm).fit(X)
    assert np.unique(km.labels_).size == 4
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.unique(km.cluster_centers_, axis=0).shape[0] == 4


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_cluster_is_not_given_a_zero_weight_sample(algorithm):
    # The farthest sample is a zero-weight outlier: moving the empty cluster
    # there would leave it empty (weight 0) and the real data one cluster
    # short. It must go to the farthest sample that counts instead, which
    # makes the result that of the data without the outlier.
    X, _ = make_blobs(200, n_features=2, centers=3, random_state=1)
    X_all = np.vstack([X, [[500.0, 500.0]]])
    weights = np.r_[np.ones(len(X)), 0.0]
    init = np.vstack([X[:2], [[1e4, 1e4]]])
    with_outlier = KMeans(3, init=init, n_init=1, tol=0, algorithm=algorithm).fit(
        X_all, sample_weight=weights)
    without = KMeans(3, init=init, n_init=1, tol=0, algorithm=algorithm).fit(X)
    assert_allclose(with_outlier.inertia_, without.inertia_, rtol=1e-10)
    assert_allclose(with_outlier.cluster_centers_, without.cluster_centers_,
                    rtol=1e-10)
    assert np.unique(with_outlier.labels_[:len(X)]).size == 3


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fewer_distinct_points_than_clusters_warns(algorithm):
    X = np.repeat([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], 4, axis=0)
    km = KMeans(n_clusters=5, random_state=0, algorithm=algorithm)
    with pytest.warns(ConvergenceWarning,
                      match=r"Number of distinct clusters \(3\) found smaller than "
                            r"n_clusters \(5\)"):
        km.fit(X)
    assert np.unique(km.labels_).size == 3
    assert np.all(np.isfinite(km.cluster_centers_))
    assert km.inertia_ == 0.0
    assert_array_equal(km.predict(X), km.labels_)


###############################################################################
# 8. Convergence rules


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_strict_convergence_stops_early(algorithm):
    X, _ = _blobs(n_samples=500, centers=5, cluster_std=2.0, random_state=4)
    init = _poor_init(X, 5)
    km = KMeans(5, init=init, n_init=1, tol=0, max_iter=300, algorithm=algorithm).fit(X)
    assert 2 < km.n_iter_ < 300
    # The result is a fixed point: one more iteration changes nothing.
    again = KMeans(5, init=km.cluster_centers_, n_init=1, tol=0, max_iter=1,
                   algorithm=algorithm).fit(X)
    assert again.n_iter_ == 1
    assert_array_equal(again.labels_, km.labels_)
    assert_allclose(again.cluster_centers_, km.cluster_centers_, rtol=1e-12, atol=1e-12)
    # The last iteration only confirmed that no label changed: stopping just
    # before it gives the same clustering ...
    before = KMeans(5, init=init, n_init=1, tol=0, max_iter=km.n_iter_ - 1,
                    algorithm=algorithm).fit(X)
    assert before.n_iter_ == km.n_iter_ - 1
    assert_array_equal(before.labels_, km.labels_)
    # ... but one iteration earlier still the labels were changing.
    early = KMeans(5, init=init, n_init=1, tol=0, max_iter=km.n_iter_ - 2,
                   algorithm=algorithm).fit(X)
    assert early.inertia_ > km.inertia_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tol_is_relative_to_the_data_variance(algorithm):
    X, _ = _blobs(n_samples=500, centers=5, cluster_std=2.0, random_state=4)
    init = _poor_init(X, 5)
    full = KMeans(5, init=init, n_init=1, tol=0, algorithm=algorithm).fit(X)
    # A large tol stops after the first iteration.
    large = KMeans(5, init=init, n_init=1, tol=10.0, algorithm=algorithm).fit(X)
    assert large.n_iter_ == 1 < full.n_iter_
    # tol is scaled by the variance: scaling the data by 1000 does not change
    # when a run stops (an absolute tol would stop at once on the small data).
    for tol in [1e-3, 1e-2, 1e-1]:
        small = KMeans(5, init=init / 1000, n_init=1, tol=tol,
                       algorithm=algorithm).fit(X / 1000)
        big = KMeans(5, init=init * 1000, n_init=1, tol=tol,
                     algorithm=algorithm).fit(X * 1000)
        assert small.n_iter_ == big.n_iter_
        assert_array_equal(small.labels_, big.labels_)
        # And the same stopping point as scikit-learn's rule.
        ref = SkKMeans(5, init=init, n_init=1, tol=tol, algorithm=algorithm).fit(X)
        assert small.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("max_iter", [1, 2, 3])
def test_max_iter_is_respected(max_iter, algorithm):
    X, _ = _blobs(n_samples=500, centers=5, cluster_std=2.0, random_state=4)
    init = _poor_init(X, 5)
    km = KMeans(5, init=init, n_init=1, tol=0, max_iter=max_iter,
                algorithm=algorithm).fit(X)
    # The run needs more than three iterations, so it stops at max_iter ...
    assert km.n_iter_ == max_iter
    # ... and labels_ is still consistent with the returned centers.
    assert_array_equal(km.predict(X), km.labels_)
    d = _sq_dists(X, km.cluster_centers_)
    assert_allclose(km.inertia_, d[np.arange(len(X)), km.labels_].sum(), rtol=1e-10)


###############################################################################
# 9. Determinism across thread counts


needs_openmp = pytest.mark.skipif(not openmp_enabled(),
                                  reason="kernels built without OpenMP")


def _run_with_threads(n_threads, fn):
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        # The limit reaches our kernels' OpenMP runtime.
        assert effective_n_threads() == n_threads
        return fn()


@needs_openmp
@pytest.mark.parametrize("path", ["small", "one-pass"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_identical_bits_for_1_2_3_threads(monkeypatch, dtype, algorithm, path):
    # 20_000 samples: 79 chunks of 256, so work is really split between
    # threads (the one-pass kernels), or the two runs are (small data).
    import turbocluster._kmeans_loops as loops

    if path == "one-pass":
        monkeypatch.setattr(loops, "_SMALL_WORK", 0)
    X, _ = _blobs(n_samples=20_000, n_features=5, centers=8, cluster_std=3.0,
                  dtype=dtype, random_state=0)
    X_test, _ = _blobs(n_samples=3000, n_features=5, centers=8, cluster_std=3.0,
                       dtype=dtype, random_state=1)
    weights = np.random.RandomState(0).uniform(0.5, 2.0, size=X.shape[0])

    def fit():
        km = KMeans(8, random_state=0, algorithm=algorithm, n_init=2).fit(
            X, sample_weight=weights)
        return (km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_,
                km.predict(X_test), km.transform(X_test), km.score(X_test),
                km.score(X_test, sample_weight=weights[:3000]))

    results = [_run_with_threads(n, fit) for n in (1, 2, 3)]
    assert results[0][3] > 2  # several iterations, so several reductions
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert_array_equal(a, b)


@needs_openmp
@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_identical_for_1_2_3_threads(dtype):
    X, _ = _blobs(n_samples=20_000, n_features=5, centers=8, cluster_std=3.0,
                  dtype=dtype, random_state=0)
    results = [_run_with_threads(n, lambda: kmeans_plusplus(X, 12, random_state=3))
               for n in (1, 2, 3)]
    for centers, indices in results[1:]:
        assert_array_equal(centers, results[0][0])
        assert_array_equal(indices, results[0][1])


@needs_openmp
def test_sparse_identical_for_1_and_2_threads():
    X, _ = _blobs(n_samples=6000, n_features=5, centers=5, cluster_std=3.0)
    X[X < 0] = 0
    X = sp.csr_matrix(X)

    def fit():
        km = KMeans(5, random_state=0).fit(X)
        return km.labels_, km.cluster_centers_, km.inertia_, km.transform(X)

    one, two = (_run_with_threads(n, fit) for n in (1, 2))
    for a, b in zip(one, two):
        assert_array_equal(a, b)


###############################################################################
# 10. Sample weights


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_integer_weights_equal_repeated_samples(dtype, algorithm, array_type):
    X, _ = _blobs(n_samples=200, centers=4, cluster_std=1.5, dtype=dtype,
                  random_state=5)
    repeats = np.random.RandomState(0).randint(0, 4, size=X.shape[0])
    init = _poor_init(X[repeats > 0], 4)
    # tol=0: the variance behind a nonzero tol is unweighted (as in
    # scikit-learn), so it differs between the two data sets.
    weighted = KMeans(4, init=init, n_init=1, tol=0, algorithm=algorithm).fit(
        array_type(X), sample_weight=repeats)
    repeated = KMeans(4, init=init, n_init=1, tol=0, algorithm=algorithm).fit(
        array_type(np.repeat(X, repeats, axis=0)))
    # Same sums, added in another order (and centered on another mean): equal
    # up to rounding, so the float64/float32 tolerances of the sklearn tests.
    assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_,
                    rtol=CENTER_RTOL[dtype], atol=CENTER_ATOL[dtype])
    assert_allclose(weighted.inertia_, repeated.inertia_, rtol=INERTIA_RTOL[dtype])
    assert_array_equal(np.repeat(weighted.labels_, repeats), repeated.labels_)
    assert weighted.n_iter_ == repeated.n_iter_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_weight_samples_do_not_count(algorithm):
    X, _ = _blobs(n_samples=200, centers=3, random_state=6)
    outliers = np.array([[500.0, 500.0, 500.0], [-400.0, 0.0, 300.0]])
    X_all = np.vstack([X, outliers])
    weights = np.r_[np.ones(len(X)), 0.0, 0.0]
    init = _poor_init(X, 3)
    # tol=0: a nonzero tol scales with the unweighted variance (scikit-learn's
    # rule), which the outliers inflate.
    with_zeros = KMeans(3, init=init, n_init=1, tol=0, algorithm=algorithm).fit(
        X_all, sample_weight=weights)
    without = KMeans(3, init=init, n_init=1, tol=0, algorithm=algorithm).fit(X)
    # Equal up to rounding: the data are centered on different means.
    assert_allclose(with_zeros.cluster_centers_, without.cluster_centers_, rtol=1e-10)
    assert_allclose(with_zeros.inertia_, without.inertia_, rtol=1e-10)
    assert_array_equal(with_zeros.labels_[:len(X)], without.labels_)
    # Zero-weight samples are still labelled, with their nearest center.
    assert_array_equal(with_zeros.labels_[len(X):], with_zeros.predict(outliers))
    # k-means++ and 'random' never seed on a zero-weight sample.
    for init in ["k-means++", "random"]:
        for seed in range(5):
            km = KMeans(3, init=init, n_init=1, max_iter=1, random_state=seed,
                        algorithm=algorithm).fit(X_all, sample_weight=weights)
            assert np.abs(km.cluster_centers_).max() < 100
    _, indices = kmeans_plusplus(X_all, 3, sample_weight=weights, random_state=0)
    assert np.all(indices < len(X))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_scaling_weights_scales_inertia_only(algorithm):
    X, _ = _blobs(n_samples=200, random_state=2)
    w = np.random.RandomState(1).uniform(0.1, 3.0, size=len(X))
    a = KMeans(4, random_state=0, algorithm=algorithm).fit(X, sample_weight=w)
    b = KMeans(4, random_state=0, algorithm=algorithm).fit(X, sample_weight=4 * w)
    assert_array_equal(a.labels_, b.labels_)
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    assert_allclose(b.inertia_, 4 * a.inertia_, rtol=1e-12)
    # A scalar weight is every sample's weight.
    c = KMeans(4, random_state=0, algorithm=algorithm).fit(X, sample_weight=2.0)
    d = KMeans(4, random_state=0, algorithm=algorithm).fit(X)
    assert_array_equal(c.labels_, d.labels_)
    assert_allclose(c.inertia_, 2 * d.inertia_, rtol=1e-12)


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_weights_in_score_and_predict(dtype, array_type):
    X, _ = _blobs(n_samples=300, dtype=dtype)
    km = KMeans(4, random_state=0).fit(X)
    X_new, _ = _blobs(n_samples=80, dtype=dtype, random_state=9)
    w = np.random.RandomState(2).uniform(0.0, 3.0, size=len(X_new))
    Xa = array_type(X_new)
    d = _sq_dists(X_new, km.cluster_centers_)
    # The score is computed in float64 from float32 values: only the rounding
    # of the sum separates it from numpy's.
    assert_allclose(km.score(Xa, sample_weight=w), -(w * d.min(axis=1)).sum(),
                    rtol=1e-6)
    assert km.score(Xa) == km.score(Xa, sample_weight=np.ones(len(X_new)))
    assert_allclose(km.score(Xa, sample_weight=3.0), 3 * km.score(Xa), rtol=1e-12)
    assert_array_equal(km.predict(Xa), d.argmin(axis=1))
    # predict takes no weights, as in scikit-learn 1.9.
    with pytest.raises(TypeError):
        km.predict(Xa, sample_weight=w)
    with pytest.raises(ValueError, match="at least one non-zero"):
        km.score(Xa, sample_weight=np.zeros(len(X_new)))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(79,\)"):
        km.score(Xa, sample_weight=w[:-1])


###############################################################################
# 11. Bad input


_X_BAD = np.random.RandomState(0).uniform(size=(10, 2))


def _with_value(value):
    X = _X_BAD.copy()
    X[3, 1] = value
    return X


def _fitted(X=_X_BAD):
    def fitted(cls):
        return cls(n_clusters=2, n_init=1, random_state=0).fit(X)
    return fitted


# (id, call taking the estimator class, exception, message pattern)
_BAD_INPUTS = [
    ("nan", lambda E: E(2, n_init=1).fit(_with_value(np.nan)), ValueError,
     "Input X contains NaN"),
    ("inf", lambda E: E(2, n_init=1).fit(_with_value(np.inf)), ValueError,
     "Input X contains infinity"),
    ("sparse nan", lambda E: E(2, n_init=1).fit(sp.csr_matrix(_with_value(np.nan))),
     ValueError, "Input X contains NaN"),
    ("empty", lambda E: E(2, n_init=1).fit(np.empty((0, 2))), ValueError,
     r"Found array with 0 sample\(s\)"),
    ("no features", lambda E: E(2, n_init=1).fit(np.empty((10, 0))), ValueError,
     r"Found array with 0 feature\(s\)"),
    ("1-D", lambda E: E(2, n_init=1).fit(_X_BAD[:, 0]), ValueError,
     "Expected 2D array, got 1D array"),
    ("3-D", lambda E: E(2, n_init=1).fit(_X_BAD[:, :, None]), ValueError,
     "Found array with dim 3"),
    ("too few samples", lambda E: E(11, n_init=1).fit(_X_BAD), ValueError,
     r"n_samples=10 should be >= n_clusters=11"),
    ("strings", lambda E: E(2, n_init=1).fit(np.array([["a", "b"]] * 10)),
     ValueError, "could not convert string to float"),
    ("objects", lambda E: E(2, n_init=1).fit(np.array([["a", 1]] * 10, dtype=object)),
     ValueError, "could not convert string to float"),
    ("complex", lambda E: E(2, n_init=1).fit(_X_BAD + 1j), ValueError,
     "Complex data not supported"),
    ("negative weight", lambda E: E(2, n_init=1).fit(
        _X_BAD, sample_weight=np.r_[-1.0, np.ones(9)]), ValueError, "[Nn]egative"),
    ("short weights", lambda E: E(2, n_init=1).fit(_X_BAD, sample_weight=np.ones(9)),
     ValueError, r"sample_weight.shape == \(9,\), expected \(10,\)"),
    ("2-D weights", lambda E: E(2, n_init=1).fit(
        _X_BAD, sample_weight=np.ones((10, 1))), ValueError,
     "Sample weights must be 1D array or scalar"),
    ("nan weights", lambda E: E(2, n_init=1).fit(
        _X_BAD, sample_weight=np.full(10, np.nan)), ValueError,
     "Input sample_weight contains NaN"),
    ("zero weights", lambda E: E(2, n_init=1).fit(_X_BAD, sample_weight=np.zeros(10)),
     ValueError, "Sample weights must contain at least one non-zero number"),
    ("init too many clusters", lambda E: E(2, init=_X_BAD[:3], n_init=1).fit(_X_BAD),
     ValueError, r"initial centers \(3, 2\) does not match the number of clusters 2"),
    ("init too few features", lambda E: E(2, init=_X_BAD[:2, :1], n_init=1).fit(_X_BAD),
     ValueError,
     r"initial centers \(2, 1\) does not match the number of features of the data 2"),
    ("callable init wrong shape", lambda E: E(
        2, init=lambda X, k, random_state: X[:3], n_init=1).fit(_X_BAD),
     ValueError, "does not match the number of clusters"),
    ("init with nan", lambda E: E(2, init=np.full((2, 2), np.nan), n_init=1).fit(_X_BAD),
     ValueError, "contains NaN"),
    ("predict features", lambda E: _fitted()(E).predict(_X_BAD[:, :1]), ValueError,
     "X has 1 features, but KMeans is expecting 2 features"),
    ("transform features", lambda E: _fitted()(E).transform(np.c_[_X_BAD, _X_BAD]),
     ValueError, "X has 4 features, but KMeans is expecting 2 features"),
    ("score features", lambda E: _fitted()(E).score(_X_BAD[:, :1]), ValueError,
     "X has 1 features, but KMeans is expecting 2 features"),
    ("predict nan", lambda E: _fitted()(E).predict(_with_value(np.nan)), ValueError,
     "Input X contains NaN"),
    ("predict inf", lambda E: _fitted()(E).predict(_with_value(np.inf)), ValueError,
     "Input X contains infinity"),
    ("predict -inf", lambda E: _fitted()(E).predict(_with_value(-np.inf)), ValueError,
     "Input X contains infinity"),
    ("predict float32 nan", lambda E: _fitted()(E).predict(
        _with_value(np.nan).astype(np.float32)), ValueError, "Input X contains NaN"),
    ("predict fortran inf", lambda E: _fitted()(E).predict(
        np.asfortranarray(_with_value(np.inf))), ValueError, "Input X contains infinity"),
    ("predict sparse nan", lambda E: _fitted()(E).predict(
        sp.csr_matrix(_with_value(np.nan))), ValueError, "Input X contains NaN"),
    ("score nan", lambda E: _fitted()(E).score(_with_value(np.nan)), ValueError,
     "Input X contains NaN"),
    ("score inf", lambda E: _fitted()(E).score(_with_value(np.inf)), ValueError,
     "Input X contains infinity"),
    ("score sparse inf", lambda E: _fitted()(E).score(
        sp.csr_matrix(_with_value(np.inf))), ValueError, "Input X contains infinity"),
    ("transform nan", lambda E: _fitted()(E).transform(_with_value(np.nan)), ValueError,
     "Input X contains NaN"),
    ("predict unfitted", lambda E: E(2).predict(_X_BAD), NotFittedError,
     "instance is not fitted yet"),
    ("transform unfitted", lambda E: E(2).transform(_X_BAD), NotFittedError,
     "instance is not fitted yet"),
    ("score unfitted", lambda E: E(2).score(_X_BAD), NotFittedError,
     "instance is not fitted yet"),
    ("n_clusters=0", lambda E: E(n_clusters=0).fit(_X_BAD), ValueError,
     "The 'n_clusters' parameter of KMeans must be an int in the range"),
    ("n_clusters=2.5", lambda E: E(n_clusters=2.5).fit(_X_BAD), ValueError,
     "The 'n_clusters' parameter of KMeans must be an int"),
    ("algorithm='foo'", lambda E: E(2, algorithm="foo").fit(_X_BAD), ValueError,
     "The 'algorithm' parameter of KMeans must be a str among"),
    ("n_init=0", lambda E: E(2, n_init=0).fit(_X_BAD), ValueError,
     "The 'n_init' parameter of KMeans must be"),
    ("n_init='foo'", lambda E: E(2, n_init="foo").fit(_X_BAD), ValueError,
     "The 'n_init' parameter of KMeans must be"),
    ("tol=-1", lambda E: E(2, tol=-1).fit(_X_BAD), ValueError,
     "The 'tol' parameter of KMeans must be a float in the range"),
    ("init='foo'", lambda E: E(2, init="foo").fit(_X_BAD), ValueError,
     "The 'init' parameter of KMeans must be a str among"),
    ("max_iter=0", lambda E: E(2, max_iter=0).fit(_X_BAD), ValueError,
     "The 'max_iter' parameter of KMeans must be an int"),
    ("copy_x='yes'", lambda E: E(2, copy_x="yes").fit(_X_BAD), ValueError,
     "The 'copy_x' parameter of KMeans must be"),
]


@pytest.mark.parametrize(
    "call, exception, match",
    [pytest.param(*case[1:], id=case[0]) for case in _BAD_INPUTS],
)
def test_bad_input_raises_like_sklearn(call, exception, match):
    with warnings.catch_warnings():
        # Our error is checked, not scikit-learn's incidental warnings.
        warnings.simplefilter("ignore")
        with pytest.raises(exception, match=match):
            call(KMeans)
        # scikit-learn raises the same type of error on the same input.
        with pytest.raises(exception):
            call(SkKMeans)


_PLUSPLUS_BAD_INPUTS = [
    ("too few samples", dict(X=_X_BAD, n_clusters=11), ValueError,
     r"n_samples=10 should be >= n_clusters=11"),
    ("n_clusters=0", dict(X=_X_BAD, n_clusters=0), ValueError,
     "The 'n_clusters' parameter of kmeans_plusplus must be"),
    ("nan", dict(X=_with_value(np.nan), n_clusters=2), ValueError, "contains NaN"),
    ("inf", dict(X=_with_value(np.inf), n_clusters=2), ValueError,
     "contains infinity"),
    ("-inf", dict(X=_with_value(-np.inf), n_clusters=2), ValueError,
     "contains infinity"),
    ("sparse nan", dict(X=sp.csr_matrix(_with_value(np.nan)), n_clusters=2), ValueError,
     "contains NaN"),
    # NaN in a sample of weight zero, or with the norms given: the pass that
    # checks X must still see it.
    ("nan, weight zero", dict(X=_with_value(np.nan), n_clusters=2,
                              sample_weight=np.where(np.arange(10) == 3, 0.0, 1.0)),
     ValueError, "contains NaN"),
    ("nan, norms given", dict(X=_with_value(np.nan), n_clusters=2,
                              x_squared_norms=np.ones(10)), ValueError, "contains NaN"),
    ("float32 inf", dict(X=_with_value(np.inf).astype(np.float32), n_clusters=2),
     ValueError, "contains infinity"),
    ("empty", dict(X=np.empty((0, 2)), n_clusters=1), ValueError,
     r"Found array with 0 sample\(s\)"),
    ("short weights", dict(X=_X_BAD, n_clusters=2, sample_weight=np.ones(3)),
     ValueError, r"sample_weight.shape == \(3,\)"),
    ("short norms", dict(X=_X_BAD, n_clusters=2, x_squared_norms=np.ones(3)),
     ValueError, "The length of x_squared_norms 3 should be equal"),
    ("n_local_trials=0", dict(X=_X_BAD, n_clusters=2, n_local_trials=0), ValueError,
     "The 'n_local_trials' parameter of kmeans_plusplus must be"),
]


@pytest.mark.parametrize(
    "kwargs, exception, match",
    [pytest.param(*case[1:], id=case[0]) for case in _PLUSPLUS_BAD_INPUTS],
)
def test_kmeans_plusplus_bad_input_raises_like_sklearn(kwargs, exception, match):
    with pytest.raises(exception, match=match):
        kmeans_plusplus(**kwargs)
    with pytest.raises(exception):
        sk_kmeans_plusplus(**kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_accepts_huge_finite_values_like_sklearn(dtype):
    # Their squares overflow, which the pass that checks X for NaN and
    # infinity sees too; finite input is still accepted, as check_array does.
    X = np.random.RandomState(0).uniform(size=(50, 3)).astype(dtype)
    X *= np.finfo(dtype).max / 4
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centers, indices = kmeans_plusplus(X, 3, random_state=0)
    assert centers.shape == (3, 3)
    assert np.all((0 <= indices) & (indices < 50))


@pytest.mark.parametrize("array_type", ARRAY_TYPES)
@pytest.mark.parametrize("copy_x", [True, False])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_callers_data_is_not_modified(dtype, algorithm, copy_x, array_type):
    X, _ = _blobs(n_samples=300, dtype=dtype)
    X += 1000  # far from the origin, where centering would matter
    X = array_type(X)
    X_before = X.copy()
    init = _poor_init(_as_dense(X), 4)
    init_before = init.copy()
    weights = np.random.RandomState(0).uniform(0.5, 2, size=X.shape[0])
    weights_before = weights.copy()

    for km_init in ["k-means++", "random", init]:
        km = KMeans(4, init=km_init, n_init=1, random_state=0, copy_x=copy_x,
                    algorithm=algorithm)
        km.fit(X, sample_weight=weights)
        km.predict(X)
        km.transform(X)
        km.score(X, sample_weight=weights)
        km.fit_predict(X)
        km.fit_transform(X)
    kmeans_plusplus(X, 4, sample_weight=weights, random_state=0)

    if sp.issparse(X):
        assert_array_equal(X.toarray(), X_before.toarray())
        assert_array_equal(X.indptr, X_before.indptr)
        assert_array_equal(X.indices, X_before.indices)
    else:
        assert_array_equal(X, X_before)
    assert_array_equal(init, init_before)
    assert_array_equal(weights, weights_before)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_copy_x_false_gives_the_same_clustering(algorithm):
    X, _ = _separated_blobs()
    X = X + 1e3
    a = KMeans(5, random_state=0, copy_x=True, algorithm=algorithm).fit(X)
    b = KMeans(5, random_state=0, copy_x=False, algorithm=algorithm).fit(X)
    assert_array_equal(a.labels_, b.labels_)
    # Without centering, distances are computed around 1e3: rounding
    # ~1e3 * eps on the centers.
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10)
    assert_allclose(a.inertia_, b.inertia_, rtol=1e-8)


###############################################################################
# 12. Warnings for pointless options


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_explicit_init_with_several_n_init_warns(algorithm):
    X, _ = _blobs()
    init = _poor_init(X, 3)
    with pytest.warns(RuntimeWarning, match="Explicit initial center position passed: "
                                            "performing only one init"):
        many = KMeans(3, init=init, n_init=5, algorithm=algorithm).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = KMeans(3, init=init, n_init=1, algorithm=algorithm).fit(X)
        auto = KMeans(3, init=init, algorithm=algorithm).fit(X)
    for other in (one, auto):
        assert_array_equal(many.labels_, other.labels_)
        assert_array_equal(many.cluster_centers_, other.cluster_centers_)
    # The public parameter is left as the user set it.
    assert KMeans(3, init=init, n_init=5).get_params()["n_init"] == 5


def test_elkan_with_one_cluster_warns_and_works():
    X, _ = _blobs()
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=len(X))
    km = KMeans(n_clusters=1, algorithm="elkan", random_state=0)
    with pytest.warns(RuntimeWarning, match="algorithm='elkan' doesn't make sense "
                                            "for a single cluster"):
        km.fit(X, sample_weight=w)
    assert km.algorithm == "elkan"  # not mutated
    assert_array_equal(km.labels_, np.zeros(len(X)))
    mean = np.average(X, axis=0, weights=w)
    assert_allclose(km.cluster_centers_, mean[None, :], rtol=1e-12)
    assert_allclose(km.inertia_, (w * ((X - mean) ** 2).sum(axis=1)).sum(), rtol=1e-10)


###############################################################################
# Other parameters


def test_callable_init_receives_data_and_random_state():
    X, _ = _blobs()
    seen = {}

    def init(X_passed, n_clusters, random_state):
        seen["shape"] = X_passed.shape
        seen["random_state"] = random_state
        return X_passed[:n_clusters]

    km = KMeans(3, init=init, n_init=1, random_state=0).fit(X)
    assert seen["shape"] == X.shape
    assert isinstance(seen["random_state"], np.random.RandomState)
    assert km.cluster_centers_.shape == (3, 3)
    # The callable sees the samples as fit sees them (centered on a copy, as in
    # scikit-learn), so the result is that of the explicit init X[:3].
    ref = KMeans(3, init=_poor_init(X, 3), n_init=1).fit(X)
    assert_array_equal(km.labels_, ref.labels_)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_n_init_keeps_the_best_run(algorithm):
    X, _ = _blobs(n_samples=400, centers=6, cluster_std=2.5, random_state=12)
    many = KMeans(6, init="random", n_init=8, random_state=0, algorithm=algorithm).fit(X)
    single_runs = []
    rng = np.random.RandomState(0)
    for _ in range(8):
        # Reproduce the 8 seeds the estimator draws from one generator.
        single_runs.append(KMeans(6, init="random", n_init=1, random_state=rng,
                                  algorithm=algorithm).fit(X).inertia_)
    # Runs of different inertia exist, or this would test nothing.
    assert max(single_runs) > min(single_runs) * 1.01
    assert_allclose(many.inertia_, min(single_runs), rtol=1e-12)


def test_fit_predict_and_fit_transform_match_fit():
    X, _ = _blobs()
    km = KMeans(4, random_state=0).fit(X)
    assert_array_equal(KMeans(4, random_state=0).fit_predict(X), km.labels_)
    assert_allclose(KMeans(4, random_state=0).fit_transform(X), km.transform(X),
                    rtol=1e-12)
    assert_array_equal(km.fit_predict(X), km.labels_)


def test_random_state_makes_results_reproducible():
    X, _ = _blobs(cluster_std=3.0)
    a = KMeans(4, init="random", n_init=3, random_state=5).fit(X)
    b = KMeans(4, init="random", n_init=3, random_state=5).fit(X)
    assert_array_equal(a.labels_, b.labels_)
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_


###############################################################################
# 13. Properties (hypothesis)


@st.composite
def _problems(draw):
    n_samples = draw(st.integers(1, 30))
    n_features = draw(st.integers(1, 4))
    n_clusters = draw(st.integers(1, min(5, n_samples)))
    dtype = draw(st.sampled_from(DTYPES))
    X = draw(hnp.arrays(np.float64, (n_samples, n_features),
                        elements=st.floats(-1e3, 1e3, allow_nan=False,
                                           allow_subnormal=False)))
    weights = draw(hnp.arrays(np.float64, n_samples,
                              elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5])))
    if not weights.any():
        weights[0] = 1.0
    algorithm = draw(st.sampled_from(ALGORITHMS))
    seed = draw(st.integers(0, 2**16))
    return X.astype(dtype), weights, n_clusters, algorithm, seed


# Rounding allowances for the properties. The nearest center is chosen from
# ||c||^2 - 2<x, c> (fit: on data centered on the unweighted mean; predict: on
# the raw data), whose error is about (n_features + 2) * eps times the squared
# norms involved: at most ~1.5e-6 of them in float32 and ~3e-15 in float64 for
# the <= 4 features generated here. The factors below leave a margin of ~10 and
# ~300; the checks recompute distances from differences in float64.
_EPS_FACTOR = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}


def _allowance(X, centers):
    """Per-sample rounding allowance on a squared distance to a center."""
    X64 = X.astype(np.float64)
    C64 = np.asarray(centers, dtype=np.float64)
    mean = X64.mean(axis=0)

    def sq(a):
        return (a ** 2).sum(axis=1)

    scale = sq(X64) + sq(C64).max() + sq(X64 - mean) + sq(C64 - mean).max()
    # Plus squares that underflow: in float32 a distance below ~1e-19 squares
    # to (nearly) zero, so such centers tie.
    return _EPS_FACTOR[X.dtype] * scale + 1e3 * np.finfo(X.dtype).tiny


def _inertia_slack(X, w):
    """Rounding allowance on a weighted inertia, for any centers inside X's hull."""
    hull_centers = X[[np.argmax((X.astype(np.float64) ** 2).sum(axis=1))]]
    far = np.argmax(((X - X.mean(axis=0)).astype(np.float64) ** 2).sum(axis=1))
    return 2 * (w * _allowance(X, np.vstack([hull_centers, X[[far]]]))).sum()


def _nearest_up_to_rounding(X, centers, labels):
    """Assert each label is a nearest center, up to the rounding allowance.

    Returns the mask of samples whose nearest center is unambiguous.
    """
    d = _sq_dists(X, centers)
    allowance = _allowance(X, centers)
    chosen = d[np.arange(len(X)), labels]
    assert np.all(chosen <= d.min(axis=1) + allowance)
    if d.shape[1] == 1:
        return np.ones(len(X), dtype=bool)
    two = np.partition(d, 1, axis=1)[:, :2]
    return two[:, 1] - two[:, 0] > 2 * allowance


_PROPERTY_SETTINGS = settings(max_examples=25, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])


def _quiet_fit(km, X, **kwargs):
    with warnings.catch_warnings():
        # Few distinct points (frequent in generated data) warn; expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # elkan with k=1
        return km.fit(X, **kwargs)


@_PROPERTY_SETTINGS
@given(_problems())
def test_property_labels_inertia_and_predict(problem):
    X, w, k, algorithm, seed = problem
    km = _quiet_fit(KMeans(k, random_state=seed, algorithm=algorithm), X,
                    sample_weight=w)
    labels = km.labels_
    assert labels.shape == (len(X),)
    assert labels.min() >= 0 and labels.max() < k
    assert km.cluster_centers_.shape == (k, X.shape[1])
    assert km.cluster_centers_.dtype == X.dtype
    assert np.all(np.isfinite(km.cluster_centers_))
    assert 1 <= km.n_iter_ <= km.max_iter

    # inertia_ is the weighted sum of squared distances to the assigned center.
    # fit sums differences of centered values, this sum differences of raw
    # values: they differ by the rounding of the centers, within the slack.
    d = _sq_dists(X, km.cluster_centers_)
    recomputed = (w * d[np.arange(len(X)), labels]).sum()
    rtol = 1e-6 if X.dtype == np.float64 else 1e-4
    assert_allclose(km.inertia_, recomputed, rtol=rtol, atol=_inertia_slack(X, w))

    # labels_ are nearest centers; predict agrees wherever there is no tie.
    clear = _nearest_up_to_rounding(X, km.cluster_centers_, labels)
    predicted = km.predict(X)
    _nearest_up_to_rounding(X, km.cluster_centers_, predicted)
    assert_array_equal(predicted[clear], labels[clear])


@_PROPERTY_SETTINGS
@given(_problems())
def test_property_transform_distances(problem):
    X, w, k, algorithm, seed = problem
    km = _quiet_fit(KMeans(k, random_state=seed, algorithm=algorithm), X,
                    sample_weight=w)
    distances = km.transform(X)
    assert distances.shape == (len(X), k)
    assert distances.dtype == X.dtype
    assert np.all(distances >= 0)
    # Distances from differences, summed in float64 then rounded to dtype.
    assert_allclose(distances, np.sqrt(_sq_dists(X, km.cluster_centers_)),
                    rtol=1e-6 if X.dtype == np.float32 else 1e-12, atol=1e-30)
    predicted = km.predict(X)
    clear = _nearest_up_to_rounding(X, km.cluster_centers_, predicted)
    assert_array_equal(distances.argmin(axis=1)[clear], predicted[clear])


@_PROPERTY_SETTINGS
@given(_problems())
def test_property_inertia_does_not_increase_over_iterations(problem):
    X, w, k, algorithm, seed = problem
    init = X[np.random.RandomState(seed).choice(len(X), size=k, replace=False)]
    inertias = []
    for max_iter in range(1, 6):
        km = _quiet_fit(KMeans(k, init=init, n_init=1, tol=0, max_iter=max_iter,
                               algorithm=algorithm), X, sample_weight=w)
        inertias.append(km.inertia_)
    # Each step lowers the objective in exact arithmetic; an assignment may
    # pick a center that is nearest only up to rounding (and in float32 the
    # means are rounded), which the slack allows for.
    slack = _inertia_slack(X, w)
    for before, after in zip(inertias, inertias[1:]):
        assert after <= before + slack


###############################################################################
# Small data (whole runs in one kernel call) and memory layouts


def _fit_both_paths(monkeypatch, X, **params):
    """The same fit through _kernels/_small.pyx and through the one-pass kernels."""
    import turbocluster._kmeans_loops as loops

    small = KMeans(**params).fit(X)
    monkeypatch.setattr(loops, "_SMALL_WORK", 0)
    one_pass = KMeans(**params).fit(X)
    return small, one_pass


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data, n_clusters", [
    ("digits", 10), ("blobs", 7), ("uniform", 4),
])
def test_small_data_runs_equal_the_one_pass_path(monkeypatch, dtype, data, n_clusters):
    # Same draws and the same first assignment: the same clustering. In
    # float32, k-means++'s candidate distances (||x||^2 - 2<x, t> + ||t||^2)
    # round differently in the GEMM of _small.pyx and the micro-kernel of
    # _kmeanspp.pyx; a near-tie between candidates can then tip, and a run
    # start elsewhere (on digits, the third of four).
    tipped = dtype == np.float32 and data == "digits"
    X = {
        "digits": lambda: load_digits().data,
        "blobs": lambda: make_blobs(3000, 8, centers=5, random_state=1)[0],
        "uniform": lambda: np.random.RandomState(0).rand(500, 3),
    }[data]().astype(dtype)
    small, one_pass = _fit_both_paths(monkeypatch, X, n_clusters=n_clusters, n_init=4,
                                      random_state=0)
    if tipped:
        # Both the best of four good starts: as good as each other.
        assert small.inertia_ == pytest.approx(one_pass.inertia_, rel=1e-3)
        return
    _assert_same_clustering(small, one_pass, X)


def _assert_same_clustering(small, one_pass, X):
    """Labels and iterations equal; centers and inertia to rounding.

    The small path's Elkan iterations move a sample between the cluster sums
    when it changes clusters, where the one-pass kernels add every sample
    again: the centers differ in the last bits."""
    assert_array_equal(small.labels_, one_pass.labels_)
    assert small.n_iter_ == one_pass.n_iter_
    scale = np.abs(X).max()
    rtol = 1e-6 if X.dtype == np.float32 else 1e-12
    assert_allclose(small.cluster_centers_, one_pass.cluster_centers_, rtol=rtol,
                    atol=rtol * scale)
    assert small.inertia_ == pytest.approx(one_pass.inertia_, rel=rtol)


@pytest.mark.parametrize("init", ["random", "array", "callable"])
def test_small_data_other_inits_equal_the_one_pass_path(monkeypatch, init):
    X, _ = _blobs(n_samples=400)
    init = {
        "random": "random",
        "array": X[:4].copy(),
        "callable": lambda X, k, random_state: X[random_state.permutation(len(X))[:k]],
    }[init]
    n_init = 1 if isinstance(init, np.ndarray) else 3
    small, one_pass = _fit_both_paths(monkeypatch, X, n_clusters=4, init=init,
                                      n_init=n_init, random_state=3)
    _assert_same_clustering(small, one_pass, X)


def test_small_data_run_that_empties_a_cluster(monkeypatch):
    # A center far from every sample loses them all on the first pass: that
    # run is handed to the one-pass path, which relocates as scikit-learn does.
    X, _ = _separated_blobs()
    init = np.vstack([_poor_init(X, 4), [[1e3, 1e3, 1e3]]])
    small, one_pass = _fit_both_paths(monkeypatch, X, n_clusters=5, init=init, n_init=1)
    ref = SkKMeans(n_clusters=5, init=init, n_init=1).fit(X)
    for ours in (small, one_pass):
        assert_array_equal(ours.labels_, ref.labels_)
        assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("n_samples", [500, 60_000])  # small and one-pass paths
@pytest.mark.parametrize("layout", ["fortran", "strided", "read-only"])
def test_memory_layouts_give_the_same_result(layout, n_samples):
    X, _ = _blobs(n_samples=2 * n_samples, n_features=8, centers=6)
    reference = np.ascontiguousarray(X[::2])
    X = {
        "fortran": lambda: np.asfortranarray(reference),
        "strided": lambda: X[::2],
        "read-only": lambda: reference.copy(),
    }[layout]()
    if layout == "read-only":
        X.setflags(write=False)
    before = X.copy()
    km = KMeans(n_clusters=6, n_init=2, random_state=0).fit(X)
    ref = KMeans(n_clusters=6, n_init=2, random_state=0).fit(reference)
    assert_array_equal(km.labels_, ref.labels_)
    assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_
    assert_array_equal(km.predict(X), ref.predict(reference))
    assert_array_equal(km.transform(X), ref.transform(reference))
    # Other layouts are scored a block of rows at a time: the same terms,
    # added in another grouping.
    assert km.score(X) == pytest.approx(ref.score(reference), rel=1e-12)
    assert_array_equal(X, before)


@pytest.mark.parametrize("small_path", [True, False])
def test_more_clusters_than_distinct_samples_stops_as_sklearn(monkeypatch, small_path):
    # init=X with a repeated row: two centers coincide, one cluster stays
    # empty, and every sample sits on its center. Relocating is pointless
    # then: scikit-learn keeps the centers, stops after one iteration and
    # warns; so do we.
    import turbocluster._kmeans_loops as loops

    if not small_path:
        monkeypatch.setattr(loops, "_SMALL_WORK", 0)
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    message = r"Number of distinct clusters \(3\) found smaller than n_clusters \(4\)"
    with pytest.warns(ConvergenceWarning, match=message):
        km = KMeans(n_clusters=4, init=X, n_init=1).fit(X)
    with pytest.warns(ConvergenceWarning, match=message):
        ref = SkKMeans(n_clusters=4, init=X, n_init=1).fit(X)
    assert km.n_iter_ == ref.n_iter_ == 1
    assert_array_equal(km.labels_, ref.labels_)
    assert_allclose(km.cluster_centers_, ref.cluster_centers_)


def test_predict_nan_message_is_sklearns():
    # predict finds NaN in the kernel, not by a pass of check_array: the
    # message is still check_array's, word for word.
    X_nan = _with_value(np.nan)
    messages = []
    for cls in (KMeans, SkKMeans):
        with pytest.raises(ValueError) as info:
            _fitted()(cls).predict(X_nan)
        messages.append(str(info.value).replace("SkKMeans", "KMeans"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_and_score_accept_huge_finite_values(dtype):
    # Finite samples whose scores overflow are not an error (check_array
    # accepts them); the kernel's non-finite scores only trigger the check.
    km = _fitted()(KMeans)
    X = np.full((5, 2), np.finfo(dtype).max / 4, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        labels = km.predict(X)
        km.score(X)
    assert labels.shape == (5,) and np.all((labels >= 0) & (labels < 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_clusters", [2, 9, 20, 40])
def test_predict_ties_go_to_the_first_center(dtype, n_clusters):
    # Every sample is at the same distance from two centers, in exact
    # arithmetic and in floating point: the first of them is nearest, as
    # argmin gives it, whichever block and lane each center falls in.
    rng = np.random.default_rng(n_clusters)
    centers = np.zeros((n_clusters, 3), dtype=dtype)
    centers[:, 0] = 4.0 * np.arange(n_clusters)
    tied = n_clusters - 1, 0              # the last center and the first
    centers[tied[0]] = [0.0, 0.0, 2.0]
    centers[tied[1]] = [0.0, 0.0, -2.0]
    km = KMeans(n_clusters=n_clusters, init=centers, n_init=1, max_iter=1)
    km.fit(np.r_[centers, centers])
    km.cluster_centers_ = centers
    X = np.zeros((37, 3), dtype=dtype)
    X[:, 1] = rng.integers(-3, 4, size=37)  # on the plane between the two
    assert_array_equal(km.predict(X), np.zeros(37))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_clusters", [1, 7, 8, 9, 17, 32, 33])
def test_predict_labels_are_the_nearest_centers(dtype, n_clusters):
    rng = np.random.default_rng(n_clusters)
    X = rng.normal(size=(700, 5)).astype(dtype)
    km = KMeans(n_clusters=n_clusters, n_init=1, random_state=0).fit(X)
    X_new = rng.normal(size=(900, 5)).astype(dtype)
    d = _sq_dists(X_new, km.cluster_centers_)
    assert_array_equal(km.predict(X_new), d.argmin(axis=1))
    assert_allclose(-km.score(X_new), d.min(axis=1).sum(), rtol=INERTIA_RTOL[dtype])
