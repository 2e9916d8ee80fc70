"""silhouette_samples and silhouette_score against scikit-learn's."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import metrics
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from turbocluster import silhouette_samples, silhouette_score
from turbocluster._kernels._openmp import openmp_enabled


def _blobs(n_samples=600, n_features=5, centers=4, dtype=np.float64, random_state=0):
    X, y = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=2.0, random_state=random_state)
    return X.astype(dtype), y


@pytest.mark.parametrize("n_samples, centers", [
    (40, 3),          # one tile
    (601, 4),         # a partial block of rows
    (5000, 7),        # clusters across tiles of 2048 columns
])
def test_samples_equal_sklearn(n_samples, centers):
    X, y = _blobs(n_samples=n_samples, centers=centers)
    assert_allclose(silhouette_samples(X, y), metrics.silhouette_samples(X, y),
                    rtol=0, atol=1e-8)
    assert silhouette_score(X, y) == pytest.approx(metrics.silhouette_score(X, y),
                                                   abs=1e-10)


def test_float32_kept_and_rounded_as_sklearn_rounds_it():
    # float32 samples: float32 coefficients, with scikit-learn's roundings
    # (distances rounded to float32, means and ratios in float32).
    X, y = _blobs(dtype=np.float32)
    ours = silhouette_samples(X, y)
    assert ours.dtype == np.float32
    assert_allclose(ours, metrics.silhouette_samples(X, y), rtol=1e-6, atol=1e-7)
    assert isinstance(silhouette_score(X, y), float)


def test_singletons_unsorted_and_non_encoded_labels():
    # A sample alone in its cluster scores 0; labels in any order and of any
    # type name the clusters.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    labels = np.array(["b", "a", "c"])[rng.integers(0, 3, size=50)].astype(object)
    labels[7] = "alone"
    ours = silhouette_samples(X, labels)
    assert ours[7] == 0
    assert_allclose(ours, metrics.silhouette_samples(X, labels), atol=1e-12)


def test_duplicate_samples_have_zero_distance():
    # Every sample has a twin in its cluster: the distances between twins,
    # and of a sample to itself, are exactly 0 in the sums.
    X, y = _blobs(n_samples=100)
    X, y = np.vstack([X, X]), np.r_[y, y]
    assert_allclose(silhouette_samples(X, y), metrics.silhouette_samples(X, y),
                    atol=1e-8)


@pytest.mark.parametrize("case", ["manhattan", "precomputed", "sparse", "callable"])
def test_other_metrics_and_sparse_input_go_through_sklearn(case):
    X, y = _blobs(n_samples=200)
    if case == "manhattan":
        args, kwds = (X, y), dict(metric="manhattan")
    elif case == "precomputed":
        args, kwds = (metrics.pairwise_distances(X), y), dict(metric="precomputed")
    elif case == "sparse":
        args, kwds = (sp.csr_matrix(X), y), {}
    else:
        args, kwds = (X, y), dict(metric=lambda a, b: np.abs(a - b).max())
    assert_array_equal(silhouette_samples(*args, **kwds),
                       metrics.silhouette_samples(*args, **kwds))


def test_sample_size_draws_sklearns_subset():
    X, y = _blobs(n_samples=500)
    for seed in (0, 3):
        assert silhouette_score(X, y, sample_size=100, random_state=seed) == pytest.approx(
            metrics.silhouette_score(X, y, sample_size=100, random_state=seed), abs=1e-10)
    D = metrics.pairwise_distances(X)
    assert silhouette_score(D, y, metric="precomputed", sample_size=100,
                            random_state=1) == pytest.approx(
        metrics.silhouette_score(D, y, metric="precomputed", sample_size=100,
                                 random_state=1), abs=1e-12)


def test_n_jobs_is_accepted():
    X, y = _blobs(n_samples=100)
    assert_allclose(silhouette_samples(X, y, n_jobs=2), silhouette_samples(X, y))


@pytest.mark.parametrize("call, match", [
    (lambda X, y: silhouette_score(X, np.zeros_like(y)), "Number of labels is 1"),
    (lambda X, y: silhouette_samples(X, np.arange(len(y))), "Number of labels is"),
    (lambda X, y: silhouette_samples(X, y[:-1]), "inconsistent numbers of samples"),
    (lambda X, y: silhouette_samples(np.where(X == X[0, 0], np.nan, X), y),
     "Input X contains NaN"),
    (lambda X, y: silhouette_score(X, y, sample_size=0), "sample_size"),
])
def test_bad_input_raises_like_sklearn(call, match):
    X, y = _blobs(n_samples=50)
    with pytest.raises(ValueError, match=match):
        call(X, y)


def test_callers_arrays_are_unchanged():
    X, y = _blobs(n_samples=300)
    X = np.asfortranarray(X)
    X_before, y_before = X.copy(), y.copy()
    silhouette_samples(X, y)
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)


@pytest.mark.skipif(not openmp_enabled(), reason="kernels built without OpenMP")
def test_identical_for_1_2_3_threads():
    X, y = _blobs(n_samples=3000, centers=6)
    results = []
    for n in (1, 2, 3):
        with threadpool_limits(limits=n, user_api="openmp"):
            results.append(silhouette_samples(X, y))
    assert_array_equal(results[0], results[1])
    assert_array_equal(results[0], results[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_sums_match_direct_sums(dtype):
    # The kernel itself, in both precisions (silhouette_samples feeds it a
    # float64 copy): per sample, the sum of its distances to each cluster,
    # the distance to itself exactly 0.
    from turbocluster._kernels import _silhouette

    X, y = _blobs(n_samples=2500, centers=3)
    order = np.argsort(y, kind="stable")
    X = np.ascontiguousarray(X[order], dtype=dtype)
    counts = np.bincount(y)
    starts = np.r_[0, np.cumsum(counts)].astype(np.intp)
    sq_norms = np.einsum("ij,ij->i", X, X)
    out = np.full((len(X), 3), np.nan)
    _silhouette.cluster_distance_sums(X, sq_norms, starts, out, False, 0, len(X), 2)
    # silhouette_samples cuts the pass into slabs of whole row blocks: the
    # same bits as one call.
    slab = 3 * _silhouette.ROWS_PER_BLOCK
    in_slabs = np.full_like(out, np.nan)
    for start in range(0, len(X), slab):
        _silhouette.cluster_distance_sums(X, sq_norms, starts, in_slabs, False,
                                          start, min(start + slab, len(X)), 2)
    assert_array_equal(in_slabs, out)
    X64 = X.astype(np.float64)
    D = np.sqrt(((X64[:, None, :] - X64[None, :, :]) ** 2).sum(-1))
    expected = np.stack([D[:, a:b].sum(axis=1) for a, b in zip(starts, starts[1:])], 1)
    assert_allclose(out, expected, rtol=1e-4 if dtype == np.float32 else 1e-10)
