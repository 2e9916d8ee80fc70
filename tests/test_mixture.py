"""Tests of turbocluster.GaussianMixture.

scikit-learn 1.9's GaussianMixture is the reference: from the same start and
for the same number of EM iterations, the fitted parameters, the bounds and the
scores must agree to the tolerances written beside each assertion (with the
reason for each). Our own promises are tested on their own: float32 kept as
float32, results bit-identical for 1, 2 or 3 threads, no non-positive variance,
and degenerate fits finished with a warning where scikit-learn raises.
"""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from turbocluster import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]
DTYPES = [np.float32, np.float64]
FITTED_ARRAYS = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]

# Agreement with scikit-learn in float64 after the same EM iterations from the
# same start. Both compute the same sums in different orders (and scikit-learn
# partly through ||x||^2 - 2<x, m> + ||m||^2 expansions): differences start at
# ~1e-15 relative and EM, a contraction near its fixed points, does not amplify
# them by 1e9 in ten iterations. 1e-6 is the bound and leaves room.
SK_RTOL = 1e-6
# float32 fit vs float64 fit of the same data from the same start: float32
# rounding (~6e-8 per operation) over sums of a few thousand terms stays near
# 1e-5 relative in the mean log-likelihood; 1e-4 is the bound.
F32_LOWER_BOUND_RTOL = 1e-4


def _blobs(n_samples=2000, n_features=3, centers=4, random_state=0, dtype=np.float64):
    # Overlapping, anisotropic (sheared) blobs: 'full' differs from 'diag', and
    # EM from a crude start needs several iterations, so agreement is tested
    # on moving parameters rather than on a fixed point.
    X, _ = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      center_box=(-6.0, 6.0), random_state=random_state)
    shear = np.eye(n_features)
    shear[0, 1] = 0.5
    if n_features > 2:
        shear[1, 2] = 0.3
        shear[2, 0] = 0.2
    return (X @ shear).astype(dtype)


def _separated_blobs(n_samples=1000, dtype=np.float64, random_state=0):
    # Three blobs 20 standard deviations apart: any sensible model finds them.
    centers = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 5.0], [0.0, 20.0, -5.0]])
    X, _ = make_blobs(n_samples=n_samples, centers=centers, cluster_std=1.0,
                      random_state=random_state)
    return X.astype(dtype)


def _start(X, covariance_type, n_components=4, seed=0):
    # A well-conditioned start built from the data alone: random rows as means,
    # equal weights, the precision of the whole data set for every component.
    rng = np.random.RandomState(seed)
    X = np.asarray(X, dtype=np.float64)
    cov = np.cov(X.T, bias=True)
    precision = np.linalg.inv(cov)
    precisions = {
        "full": np.stack([precision] * n_components),
        "tied": precision,
        "diag": np.tile(1.0 / np.diag(cov), (n_components, 1)),
        "spherical": np.full(n_components, 1.0 / np.mean(np.diag(cov))),
    }[covariance_type]
    means = X[rng.choice(X.shape[0], n_components, replace=False)].copy()
    return {"weights_init": np.full(n_components, 1.0 / n_components),
            "means_init": means, "precisions_init": precisions}


def _fit(cls, X, **params):
    # ConvergenceWarning is expected whenever max_iter is deliberately small.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params).fit(X)


def _assert_close(actual, desired, rtol, name=""):
    # Relative to each entry, with entries near zero (off-diagonal covariances,
    # the zero triangle of a Cholesky factor) measured against the array's
    # largest entry: a norm-wise relative comparison.
    desired = np.asarray(desired, dtype=np.float64)
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    assert_allclose(np.asarray(actual, dtype=np.float64), desired, rtol=rtol,
                    atol=rtol * scale, err_msg=name)


def _full_covariances(gm):
    # The fitted covariances as one (n_components, d, d) stack for any type.
    k, d = gm.means_.shape
    cov = np.asarray(gm.covariances_, dtype=np.float64)
    if gm.covariance_type == "full":
        return cov
    if gm.covariance_type == "tied":
        return np.stack([cov] * k)
    if gm.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([c * np.eye(d) for c in cov])


def _assert_positive_definite(gm):
    # Diagonal/spherical variances strictly positive, full/tied matrices with
    # strictly positive eigenvalues (symmetric up to rounding).
    cov = np.asarray(gm.covariances_, dtype=np.float64)
    assert np.all(np.isfinite(cov))
    if gm.covariance_type in ("diag", "spherical"):
        assert np.all(cov > 0), cov
    else:
        mats = cov[None] if gm.covariance_type == "tied" else cov
        for m in mats:
            assert_allclose(m, m.T, rtol=1e-5, atol=1e-6 * np.max(np.abs(m)))
            assert np.linalg.eigvalsh(m).min() > 0, np.linalg.eigvalsh(m)


def _user_warnings(record, *words):
    # Our warnings (UserWarning but not ConvergenceWarning, itself a
    # UserWarning subclass) whose message contains every one of the words.
    return [w for w in record
            if issubclass(w.category, UserWarning)
            and not issubclass(w.category, ConvergenceWarning)
            and all(word.lower() in str(w.message).lower() for word in words)]


# --------------------------------------------------------------------------
# 1. Agreement with scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_iterations_as_sklearn_from_given_start(covariance_type):
    # Same start, same 10 iterations (tol=0: no early stop): every fitted
    # parameter and the per-iteration bounds agree with scikit-learn to 1e-6.
    X = _blobs()
    params = dict(n_components=4, covariance_type=covariance_type, max_iter=10, tol=0.0,
                  **_start(X, covariance_type))
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(SkGaussianMixture, X, **params)
    for name in FITTED_ARRAYS:
        assert getattr(ours, name).shape == getattr(ref, name).shape, name
        _assert_close(getattr(ours, name), getattr(ref, name), SK_RTOL, name)
    assert ours.n_iter_ == ref.n_iter_ == 10
    assert ours.converged_ == ref.converged_
    assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=SK_RTOL)
    assert len(ours.lower_bounds_) == len(ref.lower_bounds_) == 10
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=SK_RTOL)
    assert ours.n_features_in_ == 3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scoring_methods_match_sklearn(covariance_type):
    # bic, aic, score, score_samples, predict_proba agree to 1e-6 and predict
    # exactly, on the training data and on new points (some far away).
    X = _blobs()
    X_new = np.vstack([_blobs(n_samples=300, random_state=1), [[40.0, -40.0, 25.0]]])
    params = dict(n_components=4, covariance_type=covariance_type, max_iter=10, tol=0.0,
                  **_start(X, covariance_type))
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(SkGaussianMixture, X, **params)
    for data in (X, X_new):
        assert_allclose(ours.bic(data), ref.bic(data), rtol=SK_RTOL)
        assert_allclose(ours.aic(data), ref.aic(data), rtol=SK_RTOL)
        assert_allclose(ours.score(data), ref.score(data), rtol=SK_RTOL)
        assert_allclose(ours.score_samples(data), ref.score_samples(data), rtol=SK_RTOL)
        # Relative even for tiny probabilities: an absolute error d in a
        # log-responsibility is a relative error d in the probability; the
        # atol only covers the subnormal range, where precision is lost.
        assert_allclose(ours.predict_proba(data), ref.predict_proba(data), rtol=SK_RTOL,
                        atol=1e-300)
        # The blobs overlap but no sample is within 1e-6 of a tie here.
        assert_array_equal(ours.predict(data), ref.predict(data))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_init_params_match_sklearn(init_params, covariance_type):
    # Our KMeans/kmeans_plusplus and the random initialisations draw exactly
    # what scikit-learn draws from the same random_state: same start, so the
    # same number of iterations to tol and the same bound (1e-6, as above).
    X = _blobs()
    params = dict(n_components=4, covariance_type=covariance_type,
                  init_params=init_params, random_state=3)
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(SkGaussianMixture, X, **params)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=SK_RTOL)
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=SK_RTOL)
    _assert_close(ours.means_, ref.means_, SK_RTOL, "means_")
    _assert_close(ours.weights_, ref.weights_, SK_RTOL, "weights_")


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_n_init_picks_same_best_as_sklearn(init_params):
    # Three initialisations drawn from one random_state: the best one (largest
    # bound) and its n_iter_ must be the ones scikit-learn keeps.
    X = _blobs()
    params = dict(n_components=4, init_params=init_params, n_init=3, random_state=5,
                  max_iter=30)
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(SkGaussianMixture, X, **params)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=SK_RTOL)
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=SK_RTOL)
    _assert_close(ours.means_, ref.means_, SK_RTOL, "means_")
    _assert_close(ours.covariances_, ref.covariances_, SK_RTOL, "covariances_")


@pytest.mark.parametrize("given", ["weights_init", "means_init", "precisions_init"])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_partial_init_matches_sklearn(given, covariance_type):
    # Only some *_init given: the rest comes from the k-means responsibilities,
    # exactly as scikit-learn computes it, then 5 iterations agree to 1e-6.
    X = _blobs()
    start = _start(X, covariance_type)
    params = dict(n_components=4, covariance_type=covariance_type, max_iter=5, tol=0.0,
                  random_state=0, **{given: start[given]})
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(SkGaussianMixture, X, **params)
    for name in FITTED_ARRAYS:
        _assert_close(getattr(ours, name), getattr(ref, name), SK_RTOL, name)
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=SK_RTOL)


def test_max_iter_zero_fits_initialisation_only():
    # max_iter=0 is the documented way to get the initial parameters: no
    # ConvergenceWarning, no iteration, means_ are means_init, the rest as
    # scikit-learn computes it from the k-means start (1e-6).
    X = _blobs()
    means_init = _start(X, "full")["means_init"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = GaussianMixture(4, max_iter=0, means_init=means_init, random_state=0).fit(X)
        ref = SkGaussianMixture(4, max_iter=0, means_init=means_init, random_state=0).fit(X)
    assert ours.n_iter_ == 0
    assert_array_equal(ours.means_, means_init)
    assert len(ours.lower_bounds_) == 0
    # As scikit-learn: no iteration, so no bound was computed.
    assert ours.lower_bound_ == ref.lower_bound_ == -np.inf
    for name in ("weights_", "covariances_", "precisions_cholesky_"):
        _assert_close(getattr(ours, name), getattr(ref, name), SK_RTOL, name)


def test_single_component_is_sample_mean_and_covariance():
    # One component, no regularisation: the MLE is the sample mean and the
    # biased sample covariance, independent of any reference implementation
    # (float64 sums of 2000 terms: 1e-10 relative).
    X = _blobs()
    mean = X.mean(axis=0)
    cov = np.cov(X.T, bias=True)
    expected = {"full": cov[None], "tied": cov, "diag": np.diag(cov)[None],
                "spherical": np.array([np.mean(np.diag(cov))])}
    for covariance_type in COVARIANCE_TYPES:
        gm = GaussianMixture(1, covariance_type=covariance_type, reg_covar=0.0).fit(X)
        assert_allclose(gm.weights_, [1.0], rtol=1e-12)
        assert_allclose(gm.means_, mean[None], rtol=1e-10, atol=1e-12)
        _assert_close(gm.covariances_, expected[covariance_type], 1e-10, covariance_type)


# --------------------------------------------------------------------------
# 2. float32
# --------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_in_float32_out(covariance_type):
    # float32 data is computed and returned in float32, never upcast.
    X = _blobs(dtype=np.float32)
    gm = _fit(GaussianMixture, X, n_components=4, covariance_type=covariance_type,
              max_iter=10, random_state=0)
    for name in FITTED_ARRAYS:
        assert getattr(gm, name).dtype == np.float32, name
    assert gm.predict_proba(X).dtype == np.float32
    assert gm.score_samples(X).dtype == np.float32
    # And float64 stays float64.
    gm64 = _fit(GaussianMixture, X.astype(np.float64), n_components=4,
                covariance_type=covariance_type, max_iter=10, random_state=0)
    for name in FITTED_ARRAYS:
        assert getattr(gm64, name).dtype == np.float64, name


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_lower_bound_close_to_float64(covariance_type):
    # Same data (the float32 values), same start, same 10 iterations: the
    # float32 bound is within 1e-4 of the float64 one (see
    # F32_LOWER_BOUND_RTOL) and the fit stays positive definite.
    X32 = _blobs(dtype=np.float32)
    X64 = X32.astype(np.float64)
    start = _start(X64, covariance_type)
    start32 = {k: v.astype(np.float32) for k, v in start.items()}
    common = dict(n_components=4, covariance_type=covariance_type, max_iter=10, tol=0.0)
    gm32 = _fit(GaussianMixture, X32, **common, **start32)
    gm64 = _fit(GaussianMixture, X64, **common, **start)
    assert_allclose(gm32.lower_bound_, gm64.lower_bound_, rtol=F32_LOWER_BOUND_RTOL)
    assert_allclose(gm32.lower_bounds_, gm64.lower_bounds_, rtol=F32_LOWER_BOUND_RTOL)
    # Means of size ~10 to float32 rounding amplified by EM: 1e-3 absolute.
    assert_allclose(gm32.means_, gm64.means_, atol=1e-3)
    _assert_positive_definite(gm32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_variances_positive_far_from_origin(covariance_type, dtype):
    # Blobs of unit spread 1e4 away from the origin: variances ~1 next to
    # squared coordinates ~1e8. scikit-learn's float32 E[x^2] - E[x]^2 loses
    # everything there (it raises for tied/diag/spherical); ours must stay
    # positive and accurate. The float64 fit of the same values from the same
    # start is the reference: the bound to 1e-3 relative (float32 keeps the
    # coordinates to ~1e-3 absolute, the bound depends on them through
    # differences of order 1), the variances to 1e-2 relative.
    X = (_blobs(n_samples=3000) + 1e4).astype(dtype)
    X64 = X.astype(np.float64)
    start = _start(X64, covariance_type)
    common = dict(n_components=4, covariance_type=covariance_type, max_iter=10, tol=0.0)
    gm = _fit(GaussianMixture, X, **common, **{k: v.astype(dtype) for k, v in start.items()})
    ref = _fit(GaussianMixture, X64, **common, **start)
    _assert_positive_definite(gm)
    assert np.all(np.isfinite(gm.score_samples(X)))
    assert_allclose(gm.lower_bound_, ref.lower_bound_, rtol=1e-3)
    _assert_close(_full_covariances(gm), _full_covariances(ref), 1e-2, "covariances_")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_single_component_float32_far_from_origin(covariance_type):
    # One component, data offset by 1e4 in float32: the variance must come
    # from centred sums (1e-3 relative to the exact value from float64),
    # not from E[x^2] - E[x]^2, which is pure rounding noise here.
    X = (_blobs() + 1e4).astype(np.float32)
    X64 = X.astype(np.float64)
    cov = np.cov(X64.T, bias=True)
    expected = {"full": cov[None], "tied": cov, "diag": np.diag(cov)[None],
                "spherical": np.array([np.mean(np.diag(cov))])}[covariance_type]
    gm = GaussianMixture(1, covariance_type=covariance_type).fit(X)
    # The mean is ~1e4, float32 spacing there is ~1e-3.
    assert_allclose(gm.means_, X64.mean(axis=0)[None], rtol=0, atol=4e-3)
    _assert_close(gm.covariances_, expected, 1e-3, covariance_type)


# --------------------------------------------------------------------------
# 3. Thread-count independence
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bit_identical_for_any_thread_count(covariance_type, dtype):
    # 20,000 rows = 79 chunks of 256: the reductions must combine the chunks
    # in a fixed order, so 1, 2 and 3 threads give the same bits.
    X = _blobs(n_samples=20_000, n_features=5, random_state=2, dtype=dtype)
    results = []
    for n_threads in (1, 2, 3):
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            gm = _fit(GaussianMixture, X, n_components=4, covariance_type=covariance_type,
                      init_params="k-means++", max_iter=8, tol=0.0, random_state=0)
            results.append((gm, gm.predict_proba(X), gm.score_samples(X), gm.predict(X)))
    gm1, proba1, scores1, labels1 = results[0]
    for gm, proba, scores, labels in results[1:]:
        for name in FITTED_ARRAYS:
            assert_array_equal(getattr(gm, name), getattr(gm1, name), err_msg=name)
        assert gm.lower_bound_ == gm1.lower_bound_
        assert_array_equal(gm.lower_bounds_, gm1.lower_bounds_)
        assert gm.n_iter_ == gm1.n_iter_
        assert_array_equal(proba, proba1)
        assert_array_equal(scores, scores1)
        assert_array_equal(labels, labels1)


# --------------------------------------------------------------------------
# 4. Responsibilities and labels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_predict_proba_rows_sum_to_one_and_predict_is_argmax(covariance_type, dtype):
    # Responsibilities are a distribution per sample (1e-10 in float64; in
    # float32 four terms each rounded to ~6e-8: 1e-5), and the label is the
    # most probable component.
    X = _blobs(dtype=dtype)
    gm = _fit(GaussianMixture, X, n_components=4, covariance_type=covariance_type,
              random_state=0)
    proba = gm.predict_proba(X)
    assert proba.shape == (X.shape[0], 4)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    atol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=atol)
    assert_array_equal(gm.predict(X), np.argmax(proba, axis=1))


@pytest.mark.parametrize("max_iter", [2, 100])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_predict_equals_fit_then_predict(covariance_type, max_iter):
    # fit_predict ends with an E-step on the final parameters, so its labels
    # are predict's, converged (max_iter=100) or not (max_iter=2).
    X = _blobs()
    params = dict(n_components=4, covariance_type=covariance_type, max_iter=max_iter,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = GaussianMixture(**params).fit_predict(X)
        gm = GaussianMixture(**params).fit(X)
    assert_array_equal(labels, gm.predict(X))


# --------------------------------------------------------------------------
# 5. Robustness beyond scikit-learn
# --------------------------------------------------------------------------


def _repeated_points():
    # 5 distinct points, each 10 times: 5 components each collapse onto a
    # single point and have zero empirical covariance.
    pts = np.random.RandomState(0).normal(size=(5, 2))
    return np.repeat(pts, 10, axis=0), 5


def _constant_feature():
    # A feature with one value: every component has zero variance along it.
    X = make_blobs(500, 3, centers=3, random_state=0)[0]
    X[:, 1] = 2.0
    return X, 3


DEGENERATE_CASES = [
    pytest.param(_repeated_points, "full", id="repeated-full"),
    pytest.param(_repeated_points, "diag", id="repeated-diag"),
    pytest.param(_repeated_points, "spherical", id="repeated-spherical"),
    pytest.param(_constant_feature, "full", id="constant-full"),
    pytest.param(_constant_feature, "tied", id="constant-tied"),
    pytest.param(_constant_feature, "diag", id="constant-diag"),
]


@pytest.mark.parametrize("make_data, covariance_type", DEGENERATE_CASES)
def test_ill_defined_covariance_finishes_with_jitter_warning(make_data, covariance_type):
    # Where scikit-learn gives up ("ill-defined empirical covariance"), ours
    # adds jitter to the singular component, says so in a UserWarning naming
    # the component and the jitter, and finishes with positive-definite
    # covariances and finite scores.
    X, n_components = make_data()
    params = dict(n_components=n_components, covariance_type=covariance_type,
                  reg_covar=0.0, random_state=0)
    # The premise: scikit-learn raises on this very fit.
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        _fit(SkGaussianMixture, X, **params)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gm = GaussianMixture(**params).fit(X)
    assert _user_warnings(record, "jitter", "component"), [str(w.message) for w in record]
    _assert_positive_definite(gm)
    assert np.all(np.isfinite(gm.means_)) and np.all(np.isfinite(gm.weights_))
    assert np.isfinite(gm.lower_bound_)
    assert np.all(np.isfinite(gm.score_samples(X)))
    assert_allclose(gm.predict_proba(X).sum(axis=1), 1.0, atol=1e-10)


def test_empty_component_is_reseeded():
    # A component placed 1e6 away gets no responsibility at all; scikit-learn
    # keeps it with weight ~1e-18. Ours re-seeds it with a UserWarning, and it
    # ends owning a real share of the data (> 1%, i.e. > 10 of 1000 samples)
    # with its mean among the data.
    centers = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]
    X, _ = make_blobs(1000, 2, centers=centers, random_state=0)
    means_init = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [1e6, 1e6]])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gm = GaussianMixture(4, means_init=means_init, random_state=0).fit(X)
    assert _user_warnings(record, "re-seeded"), [str(w.message) for w in record]
    assert gm.weights_[3] > 0.01, gm.weights_
    assert np.all(np.abs(gm.means_) < 20.0), gm.means_
    _assert_positive_definite(gm)
    assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-12)


# --------------------------------------------------------------------------
# 6. Bad input raises scikit-learn's exception
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_raises(bad):
    # NaN or infinity in X: ValueError, in fit and in every predicting method.
    X = _blobs(n_samples=100)
    X_bad = X.copy()
    X_bad[7, 1] = bad
    with pytest.raises(ValueError):
        GaussianMixture(2).fit(X_bad)
    gm = GaussianMixture(2, random_state=0).fit(X)
    for method in ("predict", "predict_proba", "score_samples", "score"):
        with pytest.raises(ValueError):
            getattr(gm, method)(X_bad)


def test_too_few_samples_raises():
    # Fewer samples than components, and a single sample, are refused as
    # scikit-learn refuses them.
    X = _blobs(n_samples=100)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).fit(X[:4])
    with pytest.raises(ValueError):
        GaussianMixture(1).fit(X[:1])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_wrong_init_shapes_raise(covariance_type):
    # Each *_init must have exactly the shape its covariance type implies.
    X = _blobs(n_samples=200)
    k, d = 4, 3
    start = _start(X, covariance_type)
    bad_precisions = {
        "full": np.stack([np.eye(d)] * (k - 1)),
        "tied": np.eye(d + 1),
        "diag": np.ones((k, d + 1)),
        "spherical": np.ones(k + 1),
    }[covariance_type]
    for name, bad in [("weights_init", np.full(k + 1, 1.0 / (k + 1))),
                      ("means_init", np.zeros((k, d + 1))),
                      ("means_init", np.zeros((k + 1, d))),
                      ("precisions_init", bad_precisions)]:
        params = dict(start, **{name: bad})
        with pytest.raises(ValueError, match="shape"):
            GaussianMixture(k, covariance_type=covariance_type, **params).fit(X)


@pytest.mark.parametrize("weights", [[0.3, 0.3, 0.3], [1.2, -0.2, 0.0], [0.5, 0.5, 0.5]])
def test_bad_weights_init_raises(weights):
    # Weights must lie in [0, 1] and sum to 1.
    X = _blobs(n_samples=200)
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(3, weights_init=weights).fit(X)


def _bad_precisions(covariance_type):
    d = 3
    indefinite = np.diag([1.0, -1.0, 2.0])
    asymmetric = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    if covariance_type == "full":
        return [np.stack([np.eye(d), indefinite]), np.stack([np.eye(d), asymmetric])]
    if covariance_type == "tied":
        return [indefinite, asymmetric]
    if covariance_type == "diag":
        return [np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]]),
                np.array([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]])]
    return [np.array([1.0, 0.0]), np.array([-1.0, 1.0])]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_invalid_precisions_init_raises(covariance_type):
    # Precisions must be symmetric positive definite (full, tied) or
    # strictly positive (diag, spherical).
    X = _blobs(n_samples=200)
    for precisions in _bad_precisions(covariance_type):
        with pytest.raises(ValueError, match="precision"):
            GaussianMixture(2, covariance_type=covariance_type,
                            precisions_init=precisions).fit(X)


@pytest.mark.parametrize("params", [
    {"covariance_type": "bogus"}, {"init_params": "kmeans+"}, {"tol": -1e-3},
    {"reg_covar": -1.0}, {"n_components": 0}, {"n_components": 1.5}, {"max_iter": -1},
    {"n_init": 0}, {"verbose_interval": 0}, {"warm_start": "yes"},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_invalid_parameters_raise_invalid_parameter_error(params):
    # Parameter validation is scikit-learn's: InvalidParameterError (a
    # ValueError), raised by fit.
    X = _blobs(n_samples=100)
    with pytest.raises(InvalidParameterError):
        GaussianMixture(**params).fit(X)
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_inputs_and_params_not_modified(covariance_type):
    # The caller's X and *_init arrays are never written to, and get_params()
    # returns the user's very objects after fit (a list stays a list).
    X = _blobs(n_samples=500)
    start = _start(X, covariance_type)
    weights = list(start["weights_init"])
    means = start["means_init"]
    precisions = start["precisions_init"]
    copies = [X.copy(), list(weights), means.copy(), precisions.copy()]
    gm = _fit(GaussianMixture, X, n_components=4, covariance_type=covariance_type,
              weights_init=weights, means_init=means, precisions_init=precisions,
              max_iter=5)
    assert_array_equal(X, copies[0])
    assert weights == copies[1]
    assert_array_equal(means, copies[2])
    assert_array_equal(precisions, copies[3])
    got = gm.get_params()
    assert got["weights_init"] is weights and isinstance(got["weights_init"], list)
    assert got["means_init"] is means
    assert got["precisions_init"] is precisions
    # The fitted weights_ is an array of its own, not the user's list.
    assert isinstance(gm.weights_, np.ndarray)


# --------------------------------------------------------------------------
# 7. sample
# --------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_follows_the_model(covariance_type):
    # sample(n) returns (X, y) with y the integer component of each row; the
    # counts follow weights_ (multinomial sd <= 0.0036 at n=20000: 0.02 is
    # over 5 sd) and each component's rows have its mean (sd ~0.03: 0.2) and
    # covariance (0.15 of the largest entry).
    X = _separated_blobs()
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    n = 20_000
    Xs, ys = gm.sample(n)
    assert Xs.shape == (n, 3) and ys.shape == (n,)
    assert np.issubdtype(ys.dtype, np.integer)
    assert set(np.unique(ys)) <= {0, 1, 2}
    assert_allclose(np.bincount(ys, minlength=3) / n, gm.weights_, atol=0.02)
    covs = _full_covariances(gm)
    for k in range(3):
        rows = Xs[ys == k]
        assert_allclose(rows.mean(axis=0), gm.means_[k], atol=0.2)
        assert_allclose(np.cov(rows.T), covs[k], atol=0.15 * np.max(np.abs(covs[k])))
    # An int random_state: each call draws from a fresh generator, as in
    # scikit-learn, so repeated calls are reproducible.
    Xs2, ys2 = gm.sample(n)
    assert_array_equal(Xs, Xs2)
    assert_array_equal(ys, ys2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_dtype_is_means_dtype(dtype):
    # Documented difference: a float32 fit samples float32 (scikit-learn
    # returns float64); float64 stays float64.
    X = _separated_blobs(dtype=dtype)
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xs, _ = gm.sample(10)
    assert gm.means_.dtype == dtype
    assert Xs.dtype == gm.means_.dtype


def test_sample_needs_at_least_one_sample():
    # sample(0) is refused with ValueError, as in scikit-learn; an unfitted
    # model raises NotFittedError.
    gm = GaussianMixture(2, random_state=0).fit(_blobs(n_samples=100))
    with pytest.raises(ValueError):
        gm.sample(0)
    with pytest.raises(NotFittedError):
        GaussianMixture(2).sample(5)


# --------------------------------------------------------------------------
# 8. warm_start, verbose, max_iter=0
# --------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_warm_start_continues_where_it_left_off(covariance_type):
    # 5 iterations, then 5 more with warm_start, are the 10 iterations of one
    # fit from the same start (same arithmetic: 1e-10), and the bound never
    # goes down.
    X = _blobs()
    common = dict(n_components=4, covariance_type=covariance_type, tol=0.0, random_state=0)
    warm = GaussianMixture(max_iter=5, warm_start=True, **common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X)
        first_bound = warm.lower_bound_
        warm.fit(X)
    cold = _fit(GaussianMixture, X, max_iter=10, **common)
    assert warm.n_iter_ == 5
    assert warm.lower_bound_ >= first_bound
    assert_allclose(warm.lower_bounds_, cold.lower_bounds_[5:], rtol=1e-10)
    for name in FITTED_ARRAYS:
        _assert_close(getattr(warm, name), getattr(cold, name), 1e-10, name)


def test_warm_start_after_convergence_stops_at_once():
    # Refitting a converged model with warm_start starts from its optimum:
    # one or two iterations, and a bound no lower than before (EM is monotone).
    X = _blobs()
    gm = GaussianMixture(4, warm_start=True, random_state=0, tol=1e-3).fit(X)
    assert gm.converged_
    bound = gm.lower_bound_
    gm.fit(X)
    assert gm.converged_
    assert gm.n_iter_ <= 2
    assert gm.lower_bound_ >= bound - 1e-12 * abs(bound)


def test_verbose_prints_iterations(capsys):
    # verbose=2 prints the initialisation and one line every verbose_interval
    # iterations, on stdout; verbose=0 prints nothing.
    X = _blobs(n_samples=300)
    _fit(GaussianMixture, X, n_components=2, max_iter=6, tol=0.0, verbose=2,
         verbose_interval=2, random_state=0)
    out = capsys.readouterr().out
    assert "Initialization" in out
    assert re.findall(r"Iteration\s+(\d+)", out) == ["2", "4", "6"]
    _fit(GaussianMixture, X, n_components=2, max_iter=6, random_state=0)
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------
# 9. scikit-learn machinery
# --------------------------------------------------------------------------


def test_clone_and_pickle():
    # clone copies the parameters only; a pickled fitted model predicts the
    # same, bit for bit.
    X = _blobs(n_samples=500)
    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    cloned = clone(gm)
    assert cloned.get_params() == gm.get_params()
    assert not hasattr(cloned, "means_")
    restored = pickle.loads(pickle.dumps(gm))
    assert_array_equal(restored.predict(X), gm.predict(X))
    assert_array_equal(restored.predict_proba(X), gm.predict_proba(X))
    assert_array_equal(restored.score_samples(X), gm.score_samples(X))
    for name in FITTED_ARRAYS:
        assert_array_equal(getattr(restored, name), getattr(gm, name))


def test_pipeline_with_scaler():
    # In a Pipeline the model sees the scaled data: same labels and score as
    # fitting the scaled data directly.
    X = _blobs(n_samples=500)
    pipe = make_pipeline(StandardScaler(), GaussianMixture(3, random_state=0)).fit(X)
    Xs = StandardScaler().fit_transform(X)
    gm = GaussianMixture(3, random_state=0).fit(Xs)
    assert_array_equal(pipe.predict(X), gm.predict(Xs))
    assert_allclose(pipe.score(X), gm.score(Xs), rtol=1e-12)


def test_grid_search_over_n_components():
    # GridSearchCV with the default score (mean held-out log-likelihood):
    # three well-separated blobs are best fit by 3 components, and the
    # cross-validated scores are scikit-learn's (1e-6).
    X = _separated_blobs(n_samples=600)
    grid = {"n_components": [1, 2, 3]}
    ours = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3).fit(X)
    ref = GridSearchCV(SkGaussianMixture(random_state=0), grid, cv=3).fit(X)
    assert ours.best_params_ == ref.best_params_ == {"n_components": 3}
    assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"],
                    rtol=SK_RTOL)


def test_pandas_feature_names():
    # A DataFrame's columns become feature_names_in_; predicting a bare array
    # after fitting with names warns as scikit-learn does.
    X = _blobs(n_samples=300)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    gm = GaussianMixture(2, random_state=0).fit(df)
    assert_array_equal(gm.feature_names_in_, ["a", "b", "c"])
    assert gm.n_features_in_ == 3
    assert_array_equal(gm.predict(df), GaussianMixture(2, random_state=0).fit(X).predict(X))
    with pytest.warns(UserWarning, match="feature names"):
        gm.predict(X)
    assert not hasattr(GaussianMixture(2, random_state=0).fit(X), "feature_names_in_")


def test_wrong_number_of_features_and_unfitted():
    # Predicting with another number of features is a ValueError; any
    # predicting method before fit is NotFittedError.
    X = _blobs(n_samples=200)
    gm = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        gm.predict(X[:, :2])
    for method in ("predict", "predict_proba", "score_samples", "score", "bic", "aic"):
        with pytest.raises(NotFittedError):
            getattr(GaussianMixture(2), method)(X)


def test_integer_input_is_fitted_in_float64():
    # Integer data is converted to float64, as scikit-learn does.
    X = np.round(_blobs(n_samples=300) * 10).astype(np.int64)
    gm = GaussianMixture(2, random_state=0).fit(X)
    assert gm.means_.dtype == np.float64
    assert gm.predict_proba(X).dtype == np.float64


# --------------------------------------------------------------------------
# 10. Sparse input
# --------------------------------------------------------------------------


def test_sparse_input_raises_type_error():
    # GaussianMixture needs dense data: scikit-learn raises TypeError
    # ("... dense data is required ..."), in fit and in predict.
    X = _blobs(n_samples=200)
    X_sparse = sp.csr_matrix(X)
    with pytest.raises(TypeError, match="dense data is required"):
        SkGaussianMixture(2).fit(X_sparse)
    with pytest.raises(TypeError, match="dense data is required"):
        GaussianMixture(2).fit(X_sparse)
    gm = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(TypeError, match="dense data is required"):
        gm.predict(X_sparse)


@pytest.mark.parametrize("n_features", [8, 24, 25, 40])
def test_both_full_kernels_agree_with_sklearn_and_across_threads(n_features):
    # 'full' computes its products without BLAS up to 24 features and by a
    # GEMM above (_em.pyx, SMALL_FULL_FEATURES): both sides of the switch
    # agree with scikit-learn to SK_RTOL and are bit-identical for 1 and 2
    # threads.
    X, _ = make_blobs(n_samples=3000, n_features=n_features, centers=3,
                      random_state=0)
    params = dict(n_components=3, covariance_type="full", max_iter=5, tol=0.0,
                  random_state=0, init_params="random_from_data")
    ours = _fit(GaussianMixture, X, **params)
    reference = _fit(SkGaussianMixture, X, **params)
    assert_allclose(ours.lower_bound_, reference.lower_bound_, rtol=SK_RTOL)
    _assert_close(ours.means_, reference.means_, SK_RTOL, "means_")
    _assert_close(ours.covariances_, reference.covariances_, SK_RTOL, "covariances_")
    fits = []
    for n_threads in (1, 2):
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            fits.append(_fit(GaussianMixture, X.astype(np.float32), **params))
    assert_array_equal(fits[0].means_, fits[1].means_)
    assert_array_equal(fits[0].covariances_, fits[1].covariances_)
    assert fits[0].lower_bound_ == fits[1].lower_bound_
