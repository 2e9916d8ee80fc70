"""Tests of k-means on CSR input without densifying (``_kmeans_sparse.py``,
``_kernels/_csr.pyx``).

scikit-learn's sparse KMeans and kmeans_plusplus are the reference; numpy on
the densified data checks the passes that read fitted centers. Our own paths
(1 vs 2 threads, int32 vs int64 indices, canonical vs messy CSR) are compared
bit for bit, as the implementation promises.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.utils.sparsefuncs import mean_variance_axis
from threadpoolctl import threadpool_limits

from turbocluster import KMeans, MiniBatchKMeans, _kmeans_sparse
from turbocluster._kmeans_sparse import (
    csr_kmeans_plusplus,
    csr_kmeans_single,
    csr_labels_inertia,
    csr_transform,
)

DTYPES = [np.float32, np.float64]
# Inertia against scikit-learn from the same start. float64: the same squared
# distances (both sum (x_f - c_f)^2 - c_f^2 over the nonzeros), added in other
# orders: ~1e-15 relative. float32: scikit-learn accumulates centers and
# inertia in float32 (~1e-7 per addition), we accumulate in float64.
INERTIA_RTOL = {np.float32: 1e-4, np.float64: 1e-6}


def _sparse_data(n_samples=1500, n_features=200, density=0.05, n_blobs=6,
                 dtype=np.float64, random_state=0):
    """Sparse samples with some cluster structure: each sample has a few
    features of its blob's pattern plus random ones, values in (0, 1]."""
    rng = np.random.RandomState(random_state)
    patterns = rng.rand(n_blobs, n_features) < 4 * density
    blob = rng.randint(n_blobs, size=n_samples)
    mask = (rng.rand(n_samples, n_features) < density) | (
        patterns[blob] & (rng.rand(n_samples, n_features) < 0.5))
    values = np.where(mask, rng.rand(n_samples, n_features) + 0.05, 0.0)
    return sp.csr_matrix(values.astype(dtype))


def _sklearn_tol(X, tol):
    """scikit-learn's tolerance rule: tol times the mean feature variance."""
    return float(np.mean(mean_variance_axis(X, axis=0)[1]) * tol)


def _messy_copy(X, random_state=0):
    """The same matrix with shuffled indices in every row and one stored value
    of each row split in two duplicate entries."""
    rng = np.random.RandomState(random_state)
    data, indices, indptr = [], [], [0]
    for i in range(X.shape[0]):
        row = slice(X.indptr[i], X.indptr[i + 1])
        d, j = X.data[row].copy(), X.indices[row].copy()
        order = rng.permutation(d.size)
        d, j = d[order], j[order]
        if d.size:
            half = d[0] / 2
            d = np.concatenate(([half], d[1:], [d[0] - half]))
            j = np.concatenate((j, [j[0]]))
        data.append(d)
        indices.append(j)
        indptr.append(indptr[-1] + d.size)
    messy = sp.csr_matrix((np.concatenate(data).astype(X.dtype),
                           np.concatenate(indices).astype(np.int32),
                           np.array(indptr, dtype=np.int32)), shape=X.shape)
    assert not messy.has_canonical_format
    return messy


def _int64_copy(X):
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    assert X64.indices.dtype == np.int64
    return X64


###############################################################################
# k-means++


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_kmeans_plusplus_matches_sklearn(dtype, seed):
    # Same draws, same D^2 arithmetic: the same centers, exactly.
    X = _sparse_data(dtype=dtype)
    sample_weight = np.ones(X.shape[0], dtype=dtype)
    centers, indices = csr_kmeans_plusplus(X, 7, sample_weight,
                                           np.random.RandomState(seed), None, 2)
    ref_centers, ref_indices = sk_kmeans_plusplus(X, 7, random_state=seed)
    assert centers.dtype == dtype
    assert_array_equal(indices, ref_indices)
    assert_array_equal(centers, ref_centers)
    assert_array_equal(centers, X[indices].toarray())


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_sample_weight_and_trials(dtype):
    X = _sparse_data(dtype=dtype, random_state=1)
    rng = np.random.RandomState(0)
    sample_weight = rng.uniform(0.5, 2.0, size=X.shape[0]).astype(dtype)
    sample_weight[::7] = 0  # never drawn
    for seed in range(3):
        centers, indices = csr_kmeans_plusplus(X, 9, sample_weight,
                                               np.random.RandomState(seed), 3, 2)
        ref_centers, ref_indices = sk_kmeans_plusplus(
            X, 9, sample_weight=sample_weight, random_state=seed, n_local_trials=3)
        assert_array_equal(indices, ref_indices)
        assert_array_equal(centers, ref_centers)
        assert np.all(sample_weight[indices] > 0)


###############################################################################
# Lloyd


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_lloyd_matches_sklearn(dtype, tol):
    X = _sparse_data(dtype=dtype)
    sample_weight = np.ones(X.shape[0], dtype=dtype)
    init = X[[3, 40, 500, 900, 1200, 1499]].toarray()
    labels, inertia, centers, n_iter = csr_kmeans_single(
        X, sample_weight, init, 300, 0, _sklearn_tol(X, tol), 2)
    ref = SkKMeans(6, init=init, n_init=1, algorithm="lloyd", tol=tol).fit(X)

    assert labels.dtype == np.int32 and centers.dtype == dtype
    if dtype == np.float64:
        # Same dot products, same argmin: the same labels at every iteration.
        assert_array_equal(labels, ref.labels_)
        assert n_iter == ref.n_iter_
    else:
        # sklearn's float32 dot products and sums round differently from our
        # float64 ones: a near-tie may go the other way.
        assert np.mean(labels == ref.labels_) > 0.99
    assert_allclose(inertia, ref.inertia_, rtol=INERTIA_RTOL[dtype])
    assert_allclose(centers, ref.cluster_centers_, rtol=1e-5, atol=1e-5)


def test_lloyd_sample_weight_matches_sklearn():
    X = _sparse_data(random_state=2)
    sample_weight = np.random.RandomState(0).uniform(0.1, 3.0, size=X.shape[0])
    init = X[:5].toarray()
    labels, inertia, centers, n_iter = csr_kmeans_single(
        X, sample_weight, init, 300, 0, 0.0, 2)
    ref = SkKMeans(5, init=init, n_init=1, tol=0).fit(X, sample_weight=sample_weight)
    assert_array_equal(labels, ref.labels_)
    assert n_iter == ref.n_iter_
    assert_allclose(inertia, ref.inertia_, rtol=INERTIA_RTOL[np.float64])


@pytest.mark.parametrize("dtype", DTYPES)
def test_lloyd_relocates_empty_cluster(dtype):
    # A center far from every sample gets none in the first pass: it moves to
    # the sample farthest from its center, as in scikit-learn.
    X = _sparse_data(dtype=dtype, random_state=3)
    sample_weight = np.ones(X.shape[0], dtype=dtype)
    init = X[[0, 100, 200, 300]].toarray()
    init[3] = 100.0
    labels, inertia, centers, n_iter = csr_kmeans_single(
        X, sample_weight, init, 300, 0, 0.0, 2)
    assert np.all(np.abs(centers[3]) < 10)
    assert np.unique(labels).size == 4
    ref = SkKMeans(4, init=init, n_init=1, tol=0).fit(X)
    if dtype == np.float64:
        assert_array_equal(labels, ref.labels_)
        assert n_iter == ref.n_iter_
    assert_allclose(inertia, ref.inertia_, rtol=INERTIA_RTOL[dtype])


def test_lloyd_max_iter_assigns_once_more():
    # Stopped by max_iter: the labels are those of the final centers.
    X = _sparse_data(random_state=4)
    sample_weight = np.ones(X.shape[0])
    init = X[:6].toarray()
    labels, inertia, centers, n_iter = csr_kmeans_single(
        X, sample_weight, init, 2, 0, 0.0, 2)
    assert n_iter == 2
    expected, expected_inertia = csr_labels_inertia(X, sample_weight, centers, 2)
    assert_array_equal(labels, expected)
    assert inertia == expected_inertia
    ref = SkKMeans(6, init=init, n_init=1, max_iter=2, tol=0).fit(X)
    assert_array_equal(labels, ref.labels_)


def test_lloyd_verbose_reports_like_sklearn(capsys):
    X = _sparse_data(random_state=5)
    init = X[:4].toarray()
    csr_kmeans_single(X, np.ones(X.shape[0]), init, 300, 1, 0.0, 2)
    ours = capsys.readouterr().out.splitlines()
    SkKMeans(4, init=init, n_init=1, tol=0, verbose=1).fit(X)
    ref = [line for line in capsys.readouterr().out.splitlines()
           if line.startswith(("Iteration", "Converged"))]
    assert len(ours) == len(ref)
    assert ours[-1] == ref[-1]  # "Converged at iteration i: strict convergence."
    for line, ref_line in zip(ours[:-1], ref[:-1]):
        ours_inertia = float(line.split("inertia ")[1].rstrip("."))
        ref_inertia = float(ref_line.split("inertia ")[1].rstrip("."))
        assert line.split(",")[0] == ref_line.split(",")[0]
        assert_allclose(ours_inertia, ref_inertia, rtol=1e-6)


###############################################################################
# Fitted centers: labels, inertia, distances


@pytest.mark.parametrize("dtype", DTYPES)
def test_labels_inertia_transform_match_dense(dtype):
    X = _sparse_data(dtype=dtype, random_state=6)
    rng = np.random.RandomState(0)
    centers = rng.rand(5, X.shape[1]).astype(dtype) * 0.3
    sample_weight = rng.uniform(0.5, 2.0, size=X.shape[0]).astype(dtype)
    dense = X.toarray().astype(np.float64)
    sq = cdist(dense, centers.astype(np.float64), "sqeuclidean")

    labels, inertia = csr_labels_inertia(X, sample_weight, centers, 2)
    assert_array_equal(labels, sq.argmin(axis=1))
    assert_array_equal(csr_labels_inertia(X, sample_weight, centers, 2,
                                          return_inertia=False), labels)
    # float64: the same sums in another order; float32: only the inputs are
    # float32, the sums are float64 both sides.
    assert_allclose(inertia, np.sum(sample_weight * sq.min(axis=1)), rtol=1e-10)

    distances = csr_transform(X, centers, 2)
    assert distances.dtype == dtype and distances.shape == (X.shape[0], 5)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert_allclose(distances, np.sqrt(sq), rtol=rtol)


def test_transform_of_a_center_is_zero():
    # A sample equal to a center: a squared distance of (nearly) zero, never
    # negative (the clipping), and not the NaN a negative square root gives.
    X = _sparse_data(random_state=7)
    centers = X[[10, 20]].toarray()
    distances = csr_transform(X, centers, 2)
    assert np.all(np.isfinite(distances))
    assert distances[10, 0] < 1e-7 and distances[20, 1] < 1e-7


def test_empty_rows_and_columns():
    X = _sparse_data(random_state=8).tolil()
    X[5] = 0
    X[:, 7] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    centers = np.random.RandomState(0).rand(3, X.shape[1])
    labels, _ = csr_labels_inertia(X, np.ones(X.shape[0]), centers, 2)
    norms = np.einsum("ij,ij->i", centers, centers)
    assert labels[5] == norms.argmin()
    assert_allclose(csr_transform(X, centers, 2)[5], np.sqrt(norms))


# The two tests below read empty buffers' addresses: the sanitizer build
# (.ci/sanitize, Cython's bounds checks on) raised IndexError in
# _csr.score_candidates on both before the kernels passed NULL for them.
@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_candidate_without_nonzero(dtype):
    # Half the rows empty: the first center drawn is one of them for some
    # seeds, and its table of features has no row. Same centers as
    # scikit-learn's.
    X = _sparse_data(n_samples=40, dtype=dtype, random_state=11).tolil()
    X[::2] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    weights = np.ones(X.shape[0], dtype=dtype)
    drew_empty = False
    for seed in range(4):
        ours, ours_ids = csr_kmeans_plusplus(X, 3, weights, np.random.RandomState(seed),
                                             None, 2)
        theirs, their_ids = sk_kmeans_plusplus(X, 3, sample_weight=weights,
                                               random_state=seed)
        assert_array_equal(ours_ids, their_ids)
        assert_allclose(ours, theirs)
        drew_empty |= X[ours_ids].getnnz(axis=1).min() == 0
    assert drew_empty


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_zero_matrix(dtype):
    # No stored value at all: every pass runs on empty data and indices.
    X = sp.csr_matrix((12, 5), dtype=dtype)
    model = KMeans(2, n_init=1, random_state=0)
    with pytest.warns(Warning, match="Number of distinct clusters"):
        model.fit(X)
    assert_array_equal(model.cluster_centers_, np.zeros((2, 5)))
    assert model.inertia_ == 0.0 and model.score(X) == 0.0
    assert_array_equal(model.predict(X), model.labels_)
    assert_array_equal(model.transform(X), np.zeros((12, 2)))
    # scikit-learn's MiniBatchKMeans does not warn here either.
    minibatch = MiniBatchKMeans(2, n_init=1, batch_size=4, random_state=0).fit(X)
    assert_array_equal(minibatch.cluster_centers_, np.zeros((2, 5)))
    assert minibatch.inertia_ == 0.0


###############################################################################
# Threads, index types, canonical form


def _everything(X, n_threads):
    """Every public result, with n_threads."""
    sample_weight = np.linspace(0.5, 1.5, X.shape[0]).astype(X.dtype)
    centers, indices = csr_kmeans_plusplus(X, 6, sample_weight,
                                           np.random.RandomState(0), None, n_threads)
    labels, inertia, fitted, n_iter = csr_kmeans_single(
        X, sample_weight, centers, 300, 0, 0.0, n_threads)
    predicted, score = csr_labels_inertia(X, sample_weight, fitted, n_threads)
    return (centers, indices, labels, np.float64(inertia), fitted, np.int64(n_iter),
            predicted, np.float64(score), csr_transform(X, fitted, n_threads))


def _assert_identical(results, others):
    for a, b in zip(results, others):
        assert a.dtype == b.dtype
        assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_identical_bits(dtype):
    # Many chunks and groups (3000 rows), two feature blocks with 2 threads.
    X = _sparse_data(n_samples=3000, dtype=dtype, random_state=9)
    with threadpool_limits(1, "openmp"):
        one = _everything(X, 1)
    _assert_identical(one, _everything(X, 2))
    _assert_identical(one, _everything(X, 3))


def test_int64_indices_are_narrowed():
    # int64 indices (which scikit-learn's KMeans refuses) are narrowed to
    # int32 on a copy of the index arrays: the same results, bit for bit.
    X = _sparse_data(random_state=10)
    X64 = _int64_copy(X)
    _assert_identical(_everything(X, 2), _everything(X64, 2))
    assert X64.indices.dtype == np.int64  # the caller's matrix is untouched


def test_too_large_for_int32_is_refused(monkeypatch):
    X64 = _int64_copy(_sparse_data(random_state=10))
    monkeypatch.setattr(_kmeans_sparse, "_INT32_MAX", X64.nnz - 1)
    with pytest.raises(ValueError, match="int32"):
        csr_labels_inertia(X64, np.ones(X64.shape[0]), np.zeros((2, X64.shape[1])), 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unsorted_indices_and_duplicates(dtype):
    # Unsorted indices and duplicate entries are put in canonical form (the
    # duplicates summed) on a copy: the results of the canonical matrix.
    X = _sparse_data(dtype=dtype, random_state=11)
    messy = _messy_copy(X)
    before = messy.indices.copy(), messy.data.copy()
    # Halves of a value add back to it exactly: the same bits.
    _assert_identical(_everything(X, 2), _everything(messy, 2))
    assert_array_equal(messy.indices, before[0])
    assert_array_equal(messy.data, before[1])


def test_caller_arrays_are_not_modified():
    X = _sparse_data(random_state=12)
    data = X.data.copy()
    init = X[:4].toarray()
    init_copy = init.copy()
    sample_weight = np.ones(X.shape[0])
    csr_kmeans_single(X, sample_weight, init, 300, 0, 0.0, 2)
    assert_array_equal(init, init_copy)
    assert_array_equal(X.data, data)
    csr_kmeans_plusplus(X, 4, sample_weight, np.random.RandomState(0), None, 2)
    assert_array_equal(X.data, data)
