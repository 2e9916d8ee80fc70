"""MiniBatchKMeans against scikit-learn's, and its own invariants."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from turbocluster import MiniBatchKMeans
from turbocluster._kernels import _minibatch
from turbocluster._kernels._openmp import openmp_enabled
from turbocluster._kmeans_loops import _weight_cdf


def _blobs(n_samples=20_000, n_features=8, centers=10, dtype=np.float64):
    X, _ = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      random_state=0)
    return X.astype(dtype)


@pytest.mark.parametrize("params", [
    dict(),
    dict(init="random"),
    dict(tol=1e-3),
    dict(max_no_improvement=None, max_iter=3),
    dict(batch_size=256, reassignment_ratio=0.2),
    dict(init_size=50, n_init=2),
    dict(compute_labels=False),
])
def test_same_run_as_sklearn(params):
    # The same draws (init, validation, batches, reassignments) and the same
    # update: the same number of steps and the same centers, to rounding.
    X = _blobs()
    ours = MiniBatchKMeans(10, random_state=0, **params).fit(X)
    ref = SkMiniBatchKMeans(10, random_state=0, **params).fit(X)
    assert ours.n_steps_ == ref.n_steps_
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    if params.get("compute_labels", True):
        assert_array_equal(ours.labels_, ref.labels_)


def test_sample_weight_and_float32_as_sklearn():
    X = _blobs()
    w = np.random.RandomState(0).uniform(0.5, 2, len(X))
    ours = MiniBatchKMeans(10, random_state=0).fit(X, sample_weight=w)
    ref = SkMiniBatchKMeans(10, random_state=0).fit(X, sample_weight=w)
    assert ours.n_steps_ == ref.n_steps_
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    X32 = X.astype(np.float32)
    ours = MiniBatchKMeans(10, random_state=0).fit(X32)
    ref = SkMiniBatchKMeans(10, random_state=0).fit(X32)
    assert ours.cluster_centers_.dtype == np.float32
    assert ours.n_steps_ == ref.n_steps_
    # scikit-learn updates float32 centers in float32; ours in float64.
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)


def test_partial_fit_as_sklearn():
    X = _blobs()
    ours, ref = MiniBatchKMeans(10, random_state=0), SkMiniBatchKMeans(10, random_state=0)
    for start in range(0, len(X), 2000):
        ours.partial_fit(X[start:start + 2000])
        ref.partial_fit(X[start:start + 2000])
    assert ours.n_steps_ == ref.n_steps_ == 10
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)


def test_no_empty_cluster_after_fit():
    # Reassignment moves any center that receives nothing (documented rule).
    X = _blobs(n_samples=5000, centers=3)
    init = np.vstack([X[:7], [[1e3] * X.shape[1]]])  # one center far from all
    km = MiniBatchKMeans(8, init=init, n_init=1, random_state=0, batch_size=500).fit(X)
    assert np.bincount(km.labels_, minlength=8).min() > 0


def test_draws_are_numpys_choice():
    rng = np.random.RandomState(0)
    for w in (np.ones(5000), rng.uniform(size=5000),
              rng.uniform(size=5000) * (rng.uniform(size=5000) < 0.01)):
        cdf = _weight_cdf(w)
        guide = np.empty(len(w), dtype=np.intp)
        _minibatch.guide_table(cdf, guide)
        draws = np.empty(4000, dtype=np.intp)
        u = np.random.RandomState(1).random_sample(4000)
        _minibatch.draw(cdf, guide, u, draws, 2)
        expected = np.random.RandomState(1).choice(len(w), 4000, p=w / w.sum())
        assert_array_equal(draws, expected)


@pytest.mark.skipif(not openmp_enabled(), reason="kernels built without OpenMP")
def test_identical_for_1_2_3_threads():
    X = _blobs()
    results = []
    for n in (1, 2, 3):
        with threadpool_limits(limits=n, user_api="openmp"):
            km = MiniBatchKMeans(10, random_state=0, batch_size=3000).fit(X)
            results.append((km.cluster_centers_, km.labels_, km.inertia_))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert_array_equal(a, b)


def test_clone_pickle_and_unchanged_input():
    X = _blobs(n_samples=3000)
    before = X.copy()
    km = MiniBatchKMeans(5, random_state=0).fit(X)
    assert_array_equal(X, before)
    restored = pickle.loads(pickle.dumps(km))
    assert_array_equal(restored.predict(X), km.predict(X))
    assert clone(km).get_params() == km.get_params()


@pytest.mark.parametrize("call, match", [
    (lambda X: MiniBatchKMeans(batch_size=0).fit(X), "batch_size"),
    (lambda X: MiniBatchKMeans(reassignment_ratio=-1).fit(X), "reassignment_ratio"),
    (lambda X: MiniBatchKMeans(n_clusters=11).fit(X[:10]), "n_samples=10 should be"),
    (lambda X: MiniBatchKMeans(2).fit(np.where(X == X[0, 0], np.nan, X)),
     "Input X contains NaN"),
])
def test_bad_input_raises_like_sklearn(call, match):
    X = _blobs(n_samples=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            call(X)


def test_sparse_input_as_sklearn_and_as_dense():
    import scipy.sparse as sp

    X = _blobs(n_samples=5000, n_features=20, centers=6)
    X[np.abs(X) < 4] = 0
    X_csr = sp.csr_matrix(X)
    ours = MiniBatchKMeans(6, random_state=0, batch_size=300).fit(X_csr)
    ref = SkMiniBatchKMeans(6, random_state=0, batch_size=300).fit(X_csr)
    dense = MiniBatchKMeans(6, random_state=0, batch_size=300).fit(X)
    assert ours.n_steps_ == ref.n_steps_ == dense.n_steps_
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert_allclose(ours.cluster_centers_, dense.cluster_centers_, rtol=1e-10,
                    atol=1e-10)
    assert_array_equal(ours.predict(X_csr), dense.predict(X))
