"""The linkage kernels against SciPy and scikit-learn, and across threads.

Tolerances: float64 heights agree to 1e-10 relative (our distances are
summed in another order, with fused multiply-adds, and Ward's come from
centroids rather than SciPy's Lance-Williams recursion: a few ulps apart).
float32 inputs are compared with the reference run on the same float32
values cast to float64: the kernels compute distances in double from the
float32 values, so single and Ward heights keep 1e-10; the condensed matrix
is rounded to float32 once (1e-6 relative: a float32 ulp is 6e-8), and
complete/average run their Lance-Williams updates on that float32 matrix.
"""

import numpy as np
import pytest
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform
from sklearn.cluster import AgglomerativeClustering
from sklearn.datasets import make_blobs

from turbocluster._kernels import _linkage, _linkage_matrix

DTYPES = [np.float64, np.float32]
METRICS = ["euclidean", "manhattan", "cosine"]


def _blobs(n=60, d=3, seed=0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=4, random_state=seed)
    return X


def _uniform(n=50, d=4, seed=1):
    return np.random.RandomState(seed).uniform(size=(n, d))


def _duplicates(n=40, d=2, seed=2):
    # Few distinct rows, many exact copies: ties at height 0 and above.
    # Small integers keep every centroid and sum exact.
    rng = np.random.RandomState(seed)
    return rng.randint(0, 4, size=(n, d)).astype(np.float64)


DATASETS = {
    "blobs": _blobs,
    "uniform": _uniform,
    "duplicates": _duplicates,
    "n2": lambda: np.array([[0.0, 1.0], [2.0, 3.0]]),
    "n3": lambda: np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]),
}


def _data(name, dtype):
    X = np.ascontiguousarray(DATASETS[name](), dtype=dtype)
    if name != "duplicates":
        # Cosine needs non-zero rows.
        X += 1.0
    return X


def _clusters(Z):
    """The leaves of the cluster each row of Z creates."""
    n = Z.shape[0] + 1
    members = [frozenset([i]) for i in range(n)]
    for u, v in Z[:, :2].astype(int):
        members.append(members[u] | members[v])
    return members[n:]


def _assert_same_linkage(Z, Z_ref, rtol, ties=False):
    """Z equal to Z_ref: heights to rtol, children exactly. With ties, merges
    of equal height (to rtol) may come in another order, which renumbers
    the clusters: then each height must create the same clusters."""
    assert Z.shape == Z_ref.shape
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=rtol, atol=1e-12)
    if not ties:
        np.testing.assert_array_equal(Z[:, :2], Z_ref[:, :2])
        np.testing.assert_array_equal(Z[:, 3], Z_ref[:, 3])
        return
    ours, theirs = _clusters(Z), _clusters(Z_ref)
    start = 0
    for stop in range(1, len(Z) + 1):
        if stop == len(Z) or not np.isclose(Z_ref[stop, 2], Z_ref[start, 2],
                                            rtol=rtol, atol=1e-12):
            assert set(ours[start:stop]) == set(theirs[start:stop])
            start = stop


def _Z(merges, n):
    return _linkage.linkage_from_merges(*merges, n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_single_matches_scipy(name, metric, dtype):
    X = _data(name, dtype)
    if metric == "cosine" and name == "duplicates":
        X = X + 1.0
    n = X.shape[0]
    Z = _Z(_linkage.single_linkage(X, metric, 2), n)
    scipy_metric = "cityblock" if metric == "manhattan" else metric
    Z_ref = hierarchy.linkage(X.astype(np.float64), "single", metric=scipy_metric)
    _assert_same_linkage(Z, Z_ref, 1e-10)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_single_euclidean_with_zero_and_duplicate_rows(dtype, n_threads):
    # The float32 filter's bound is 0 * inf = NaN when the point added last
    # and an untouched candidate both have norm 0; it once skipped that lane
    # and returned -1 as the next point (garbage merges, a double free).
    rng = np.random.RandomState(3)
    X = rng.randint(-2, 3, size=(70, 3)).astype(dtype)
    X[[0, 5, 17, 39, 69]] = 0.0
    cases = [np.zeros((2, 1), dtype), np.zeros((5, 3), dtype),
             np.zeros((40, 2), dtype), X, np.repeat(X[:7], 9, axis=0)]
    for data in cases:
        n = data.shape[0]
        a, b, height = _linkage.single_linkage(data, "euclidean", n_threads)
        assert np.all((a >= 0) & (a < n)) and np.all((b >= 0) & (b < n))
        assert np.all(np.isfinite(height))
        Z = _Z((a, b, height), n)
        Z_ref = hierarchy.linkage(data.astype(np.float64), "single")
        np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-10, atol=1e-12)
        assert hierarchy.is_valid_linkage(Z)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "l1", "cosine"])
def test_single_matches_sklearn(metric):
    X = _blobs(200, 5) + 1.0
    model = AgglomerativeClustering(
        linkage="single", metric=metric, compute_full_tree=True,
        compute_distances=True).fit(X)
    merges = _linkage.single_linkage(X, metric, 2)
    Z = _Z(merges, X.shape[0])
    np.testing.assert_allclose(Z[:, 2], model.distances_, rtol=1e-10)
    np.testing.assert_array_equal(Z[:, :2], np.sort(model.children_, axis=1))
    # scikit-learn's own single linkage (the metrics of its DistanceMetric:
    # euclidean, manhattan, l1) keeps each row as (the cluster of the sample
    # added before, that of the sample added now), which smaller_first=False
    # reproduces; cosine goes through SciPy, smaller id first.
    smaller_first = metric == "cosine"
    Z = _linkage.linkage_from_merges(*merges, X.shape[0], smaller_first=smaller_first)
    np.testing.assert_array_equal(Z[:, :2], model.children_)


def test_single_precomputed_matches_sklearn():
    X = _blobs(150, 4)
    D = squareform(pdist(X, "cityblock"))
    model = AgglomerativeClustering(
        linkage="single", metric="precomputed", compute_full_tree=True,
        compute_distances=True).fit(D)
    Z = _Z(_linkage_matrix.single_linkage_precomputed(D, 2), X.shape[0])
    np.testing.assert_allclose(Z[:, 2], model.distances_, rtol=1e-10)
    np.testing.assert_array_equal(Z[:, :2], model.children_)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_single_precomputed_matches_scipy(name, dtype):
    X = _data(name, np.float64)
    D = np.ascontiguousarray(squareform(pdist(X)), dtype=dtype)
    n = X.shape[0]
    Z = _Z(_linkage_matrix.single_linkage_precomputed(D, 2), n)
    Z_ref = hierarchy.linkage(squareform(D.astype(np.float64), checks=False), "single")
    _assert_same_linkage(Z, Z_ref, 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_ward_matches_scipy(name, dtype):
    X = _data(name, dtype)
    n = X.shape[0]
    Z = _Z(_linkage.ward_linkage(X, 2), n)
    Z_ref = hierarchy.ward(X.astype(np.float64))
    # Ties: Ward heights equal in exact arithmetic come out a few ulps apart
    # (SciPy's from Lance-Williams, ours from centroids), and NN-chain
    # merges them in the order it meets them.
    _assert_same_linkage(Z, Z_ref, 1e-10, ties=name == "duplicates")


def test_ward_matches_sklearn():
    X = _blobs(300, 8)
    model = AgglomerativeClustering(
        linkage="ward", compute_full_tree=True, compute_distances=True).fit(X)
    Z = _Z(_linkage.ward_linkage(X, 2), X.shape[0])
    np.testing.assert_allclose(Z[:, 2], model.distances_, rtol=1e-10)
    np.testing.assert_array_equal(Z[:, :2], model.children_)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
def test_pairwise_condensed_matches_pdist(metric, dtype):
    X = _data("blobs", dtype)
    D = _linkage_matrix.pairwise_condensed(X, metric, 2)
    assert D.dtype == dtype
    scipy_metric = "cityblock" if metric == "manhattan" else metric
    D_ref = pdist(X.astype(np.float64), scipy_metric)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    # Cosine: 1 - cos cancels for nearly parallel rows, so both sides are
    # only good to an absolute ulp of 1 there.
    atol = 1e-15 if metric == "cosine" else 0.0
    np.testing.assert_allclose(D, D_ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["complete", "average"])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_matrix_linkage_matches_scipy(name, method, dtype):
    X = _data(name, dtype)
    n = X.shape[0]
    D = _linkage_matrix.pairwise_condensed(X, "euclidean", 2)
    D_ref = D.astype(np.float64)
    Z = _Z(_linkage_matrix.matrix_linkage(D, method, 2), n)
    Z_ref = hierarchy.linkage(D_ref, method)
    # float32: the averages are rounded to float32 at each update.
    _assert_same_linkage(Z, Z_ref, 1e-10 if dtype == np.float64 else 1e-5,
                         ties=name == "duplicates" or dtype == np.float32)


def _nn_chain_reference(D, method):
    """The nearest-neighbour chain with a search at every step and no cached
    neighbours: the merges (a, b, height) in discovery order, with the
    kernel's rules (first smallest index on ties, the chain's previous
    element wins unless something is strictly nearer, y = max survives)."""
    n = squareform(D).shape[0]
    S = squareform(D).astype(np.float64)
    active = list(range(n))
    size = [1.0] * n
    chain, merges = [], []
    while len(active) > 1:
        if not chain:
            chain = [active[0]]
        while True:
            x = chain[-1]
            best, y = np.inf, -1
            for i in active:
                if i != x and S[x, i] < best:
                    best, y = S[x, i], i
            if len(chain) > 1 and not best < S[chain[-2], x]:
                y, best = chain[-2], S[chain[-2], x]
                break
            chain.append(y)
        chain = chain[:-2]
        lo, hi = min(x, y), max(x, y)
        merges.append((lo, hi, best))
        for i in active:
            if i != lo and i != hi:
                d_lo, d_hi = float(S[i, lo]), float(S[i, hi])
                if method == "average":
                    new = (size[lo] * d_lo + size[hi] * d_hi) / (size[lo] + size[hi])
                else:
                    new = d_lo if d_lo > d_hi else d_hi
                S[i, hi] = S[hi, i] = new
        size[hi] += size[lo]
        active.remove(lo)
    return merges


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("method", ["complete", "average"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_matrix_linkage_cached_neighbours_exact(metric, method, n_threads):
    # The kernel keeps each cluster's first and second nearest neighbours
    # across merges instead of searching again; integer points on a small
    # grid make many exactly equal distances, where a wrong cache shows as a
    # different merge order. Merges and heights must be equal to the bit.
    X = np.random.RandomState(3).randint(0, 6, size=(90, 2)).astype(np.float64)
    D = _linkage_matrix.pairwise_condensed(X, metric, 1)
    expected = _nn_chain_reference(D.copy(), method)
    a, b, h = _linkage_matrix.matrix_linkage(D, method, n_threads)
    assert list(zip(a.tolist(), b.tolist(), h.tolist())) == expected


@pytest.mark.parametrize("method", ["complete", "average"])
@pytest.mark.parametrize("metric", METRICS)
def test_matrix_linkage_matches_sklearn(method, metric):
    X = _blobs(200, 5) + 1.0
    model = AgglomerativeClustering(
        linkage=method, metric=metric, compute_full_tree=True,
        compute_distances=True).fit(X)
    D = _linkage_matrix.pairwise_condensed(X, metric, 2)
    Z = _Z(_linkage_matrix.matrix_linkage(D, method, 2), X.shape[0])
    np.testing.assert_allclose(Z[:, 2], model.distances_, rtol=1e-10)
    np.testing.assert_array_equal(Z[:, :2], model.children_)


def test_linkage_from_merges_relabels():
    # Merges out of height order, named by any sample of each cluster.
    a = np.array([2, 0, 3], dtype=np.intp)
    b = np.array([3, 1, 1], dtype=np.intp)
    height = np.array([0.5, 0.2, 0.9])
    Z = _linkage.linkage_from_merges(a, b, height, 4)
    expected = np.array([[0, 1, 0.2, 2], [2, 3, 0.5, 2], [4, 5, 0.9, 4]], dtype=float)
    np.testing.assert_array_equal(Z, expected)


def _large_blobs(dtype):
    # Enough samples and features for several chunks, for searches shared by
    # the team (2100 candidates x 16 features, or 2100 matrix entries, pass
    # the kernels' PARALLEL_MIN_WORK) and for the arrays to be squeezed.
    X, _ = make_blobs(n_samples=2100, n_features=16, centers=5, random_state=3)
    return np.ascontiguousarray(X, dtype=dtype)


def _identical(results):
    for other in results[1:]:
        for u, v in zip(results[0], other):
            np.testing.assert_array_equal(u, v)
            assert u.tobytes() == v.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_identical_across_threads(dtype):
    X = _large_blobs(dtype)
    for metric in METRICS:
        _identical([_linkage.single_linkage(X, metric, t) for t in (1, 2, 3)])
        _identical([(_linkage_matrix.pairwise_condensed(X, metric, t),) for t in (1, 2, 3)])
    _identical([_linkage.ward_linkage(X, t) for t in (1, 2, 3)])
    D = np.ascontiguousarray(squareform(pdist(X)), dtype=dtype)
    _identical([_linkage_matrix.single_linkage_precomputed(D, t) for t in (1, 2, 3)])
    D = _linkage_matrix.pairwise_condensed(X, "euclidean", 1)
    for method in ("complete", "average"):
        _identical([_linkage_matrix.matrix_linkage(D.copy(), method, t) for t in (1, 2, 3)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_matches_scipy(dtype):
    # Several chunks and squeezed arrays, against the reference.
    X = _large_blobs(dtype)
    X64 = X.astype(np.float64)
    n = X.shape[0]
    _assert_same_linkage(_Z(_linkage.single_linkage(X, "euclidean", 2), n),
                         hierarchy.linkage(X64, "single"), 1e-10)
    _assert_same_linkage(_Z(_linkage.ward_linkage(X, 2), n), hierarchy.ward(X64), 1e-10)
    if dtype == np.float64:
        D = _linkage_matrix.pairwise_condensed(X, "euclidean", 2)
        Z_ref = hierarchy.linkage(D.copy(), "average")
        _assert_same_linkage(_Z(_linkage_matrix.matrix_linkage(D, "average", 2), n), Z_ref,
                             1e-10)


def test_heights_returned_in_float64():
    X = _data("blobs", np.float32)
    for merges in (_linkage.single_linkage(X, "euclidean", 1),
                   _linkage.ward_linkage(X, 1)):
        a, b, height = merges
        assert a.dtype == np.intp and b.dtype == np.intp
        assert height.dtype == np.float64
