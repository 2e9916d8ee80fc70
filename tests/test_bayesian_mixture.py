"""Tests of turbocluster.BayesianGaussianMixture.

scikit-learn 1.9's BayesianGaussianMixture is the reference: from the same
start (same init_params and random_state) and for the same iterations, the
posteriors, the lower bounds and the scores must agree to the tolerances
written beside each assertion. Our own promises are tested on their own:
float32 kept as float32, results bit-identical for 1, 2 or 3 threads, unused
components left empty (never re-seeded), the priors validated as scikit-learn
validates them.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBayesianGaussianMixture
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from turbocluster import BayesianGaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
PRIOR_TYPES = ["dirichlet_process", "dirichlet_distribution"]
INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]
GAUSSIAN_ARRAYS = ["weights_", "means_", "covariances_", "precisions_",
                   "precisions_cholesky_"]
POSTERIORS = ["mean_precision_", "degrees_of_freedom_"]

# Agreement with scikit-learn in float64 from the same start after the same
# iterations. Both compute the same sums in different orders: differences
# start near 1e-15 relative (measured: below 1e-12 after 10 iterations) and
# the coordinate ascent, a contraction near its fixed points, does not
# amplify them by 1e9. 1e-6 is the bound and leaves room.
SK_RTOL = 1e-6
# float32 fit vs float64 fit of the same values from the same start: float32
# rounding (~6e-8 per operation) of data, means and precision factors moves
# the bound (a sum over thousands of samples) by ~1e-6 relative; 1e-4 is the
# issue's bound.
F32_LOWER_BOUND_RTOL = 1e-4


def _blobs(n_samples=2000, n_features=3, centers=4, random_state=0, dtype=np.float64):
    # Overlapping, sheared blobs: 'full' differs from 'diag', and the fit
    # needs several iterations, so agreement is tested on moving parameters.
    X, _ = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      center_box=(-6.0, 6.0), random_state=random_state)
    shear = np.eye(n_features)
    shear[0, 1] = 0.5
    if n_features > 2:
        shear[1, 2] = 0.3
        shear[2, 0] = 0.2
    return (X @ shear).astype(dtype)


def _separated_blobs(n_samples=600, random_state=0):
    # Three blobs 20 standard deviations apart.
    centers = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 5.0], [0.0, 20.0, -5.0]])
    X, _ = make_blobs(n_samples=n_samples, centers=centers, cluster_std=1.0,
                      random_state=random_state)
    return X


def _fit(cls, X, **params):
    # ConvergenceWarning is expected whenever max_iter is deliberately small.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params).fit(X)


def _assert_close(actual, desired, rtol, name=""):
    # Relative to the array's largest entry where entries are near zero (the
    # zero triangle of a Cholesky factor, off-diagonal covariances, the
    # weights of unused components): a norm-wise relative comparison.
    desired = np.asarray(desired, dtype=np.float64)
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    assert_allclose(np.asarray(actual, dtype=np.float64), desired, rtol=rtol,
                    atol=rtol * scale, err_msg=name)


def _assert_same_fit(ours, ref, rtol=SK_RTOL):
    for name in GAUSSIAN_ARRAYS + POSTERIORS:
        assert np.shape(getattr(ours, name)) == np.shape(getattr(ref, name)), name
        _assert_close(getattr(ours, name), getattr(ref, name), rtol, name)
    if ours.weight_concentration_prior_type == "dirichlet_process":
        assert isinstance(ours.weight_concentration_, tuple)
        for part, part_ref in zip(ours.weight_concentration_, ref.weight_concentration_):
            _assert_close(part, part_ref, rtol, "weight_concentration_")
    else:
        _assert_close(ours.weight_concentration_, ref.weight_concentration_, rtol,
                      "weight_concentration_")
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    # scikit-learn's 'tied' bound is an array of shape (1,); ours a float.
    assert isinstance(ours.lower_bound_, float)
    assert_allclose(ours.lower_bound_, np.ravel(ref.lower_bound_)[0], rtol=rtol)
    assert len(ours.lower_bounds_) == len(ref.lower_bounds_)
    assert_allclose(ours.lower_bounds_, np.ravel(ref.lower_bounds_), rtol=rtol)


# --------------------------------------------------------------------------
# 1. Agreement with scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_iterations_as_sklearn(covariance_type, prior_type):
    # Same k-means start, 10 iterations (tol=0: no early stop), more
    # components than blobs: every posterior and bound agrees to 1e-6.
    X = _blobs()
    params = dict(n_components=6, covariance_type=covariance_type,
                  weight_concentration_prior_type=prior_type, max_iter=10, tol=0.0,
                  random_state=0)
    ours = _fit(BayesianGaussianMixture, X, **params)
    ref = _fit(SkBayesianGaussianMixture, X, **params)
    _assert_same_fit(ours, ref)
    assert ours.n_iter_ == 10
    assert ours.n_features_in_ == 3
    assert ours.weight_concentration_prior_ == ref.weight_concentration_prior_
    assert ours.mean_precision_prior_ == ref.mean_precision_prior_
    assert ours.degrees_of_freedom_prior_ == ref.degrees_of_freedom_prior_
    # The default priors are the data's mean and unbiased covariance.
    assert_allclose(ours.mean_prior_, ref.mean_prior_, rtol=1e-12, atol=1e-12)
    _assert_close(ours.covariance_prior_, ref.covariance_prior_, 1e-12, "covariance_prior_")


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scoring_methods_match_sklearn(covariance_type, prior_type):
    # score, score_samples and predict_proba agree to 1e-6 and predict
    # exactly, on the training data and on new points (one far away).
    X = _blobs()
    X_new = np.vstack([_blobs(n_samples=300, random_state=1), [[40.0, -40.0, 25.0]]])
    params = dict(n_components=6, covariance_type=covariance_type,
                  weight_concentration_prior_type=prior_type, max_iter=10, tol=0.0,
                  random_state=0)
    ours = _fit(BayesianGaussianMixture, X, **params)
    ref = _fit(SkBayesianGaussianMixture, X, **params)
    for data in (X, X_new):
        assert_allclose(ours.score(data), ref.score(data), rtol=SK_RTOL)
        assert_allclose(ours.score_samples(data), ref.score_samples(data), rtol=SK_RTOL)
        # Relative even for tiny probabilities: an absolute error d in a
        # log-responsibility is a relative error d in the probability; the
        # atol only covers the subnormal range.
        assert_allclose(ours.predict_proba(data), ref.predict_proba(data), rtol=SK_RTOL,
                        atol=1e-300)
        assert_array_equal(ours.predict(data), ref.predict(data))


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_init_params_match_sklearn(init_params):
    # Our KMeans, kmeans_plusplus and random draws are scikit-learn's from
    # the same random_state: same start, so the same fit after 15 iterations.
    X = _blobs()
    params = dict(n_components=5, init_params=init_params, random_state=3, max_iter=15,
                  tol=0.0)
    ours = _fit(BayesianGaussianMixture, X, **params)
    ref = _fit(SkBayesianGaussianMixture, X, **params)
    _assert_same_fit(ours, ref)


def test_n_init_picks_same_best_as_sklearn():
    X = _blobs()
    params = dict(n_components=5, init_params="random_from_data", n_init=3,
                  random_state=5, max_iter=15)
    ours = _fit(BayesianGaussianMixture, X, **params)
    ref = _fit(SkBayesianGaussianMixture, X, **params)
    _assert_same_fit(ours, ref)


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
def test_unused_components_end_empty_as_sklearn(prior_type):
    # Ten components on three well separated blobs: seven end with weights
    # near zero (no re-seeding, unlike GaussianMixture), at scikit-learn's
    # values. The fit runs to convergence; both stop at the same iteration.
    X = _separated_blobs()
    params = dict(n_components=10, weight_concentration_prior_type=prior_type,
                  random_state=0, max_iter=500)
    with warnings.catch_warnings():
        # No repair or re-seed warning either.
        warnings.simplefilter("error")
        ours = BayesianGaussianMixture(**params).fit(X)
    ref = _fit(SkBayesianGaussianMixture, X, **params)
    _assert_same_fit(ours, ref)
    weights = np.sort(ours.weights_)
    assert np.all(weights[:7] < 1e-2), weights
    assert_allclose(weights[7:], 1 / 3, atol=0.02)
    assert len(np.unique(ours.predict(X))) == 3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_explicit_priors_match_sklearn(covariance_type):
    # Every prior given, away from its default: still scikit-learn's fit.
    X = _blobs()
    covariance_prior = {
        "full": np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]]),
        "tied": np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]]),
        "diag": np.array([2.0, 1.0, 0.5]),
        "spherical": 1.5,
    }[covariance_type]
    params = dict(n_components=5, covariance_type=covariance_type,
                  weight_concentration_prior=0.7, mean_precision_prior=3.0,
                  mean_prior=[1.0, -2.0, 0.5], degrees_of_freedom_prior=4.5,
                  covariance_prior=covariance_prior, max_iter=10, tol=0.0,
                  random_state=1)
    for prior_type in PRIOR_TYPES:
        ours = _fit(BayesianGaussianMixture, X, weight_concentration_prior_type=prior_type,
                    **params)
        ref = _fit(SkBayesianGaussianMixture, X,
                   weight_concentration_prior_type=prior_type, **params)
        _assert_same_fit(ours, ref)
        assert ours.weight_concentration_prior_ == 0.7
        assert ours.mean_precision_prior_ == 3.0
        assert ours.degrees_of_freedom_prior_ == 4.5
        assert_array_equal(ours.mean_prior_, [1.0, -2.0, 0.5])
        assert_array_equal(ours.covariance_prior_, covariance_prior)
        # The public parameters stay as given (clone, get_params).
        assert ours.get_params()["mean_prior"] == [1.0, -2.0, 0.5]
        assert ours.get_params()["covariance_prior"] is covariance_prior


def test_no_regularisation_keeps_singletons_as_sklearn():
    # reg_covar=0 with more components than a few samples support: the
    # empirical covariance of a singleton component is zero, which the
    # posterior (prior + data) does not mind. Nothing is re-seeded or
    # repaired, and nothing warns.
    X = _blobs(n_samples=40, n_features=2, random_state=4)
    params = dict(n_components=12, reg_covar=0.0, init_params="random_from_data",
                  max_iter=20, tol=0.0, random_state=0)
    for covariance_type in COVARIANCE_TYPES:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = BayesianGaussianMixture(covariance_type=covariance_type,
                                           **params).fit(X)
        ref = _fit(SkBayesianGaussianMixture, X, covariance_type=covariance_type, **params)
        _assert_same_fit(ours, ref)


def test_initial_covariances_relate_across_types():
    # scikit-learn's test_compare_covar_type through the public API: from
    # the same k-means start (max_iter=0), nu_k times the covariance gives
    # 'tied' = the mean of 'full', 'diag' = its diagonals, 'spherical' the
    # mean of those (up to rounding, 1e-10).
    X = _blobs()
    fits = {covariance_type: _fit(BayesianGaussianMixture, X, n_components=6, max_iter=0,
                                  covariance_type=covariance_type, random_state=0)
            for covariance_type in COVARIANCE_TYPES}
    full = fits["full"].covariances_ * fits["full"].degrees_of_freedom_[:, None, None]
    tied = fits["tied"].covariances_ * fits["tied"].degrees_of_freedom_
    diag = fits["diag"].covariances_ * fits["diag"].degrees_of_freedom_[:, None]
    spherical = fits["spherical"].covariances_ * fits["spherical"].degrees_of_freedom_
    _assert_close(tied, full.mean(axis=0), 1e-10)
    _assert_close(diag, np.array([np.diag(c) for c in full]), 1e-10)
    _assert_close(spherical, diag.mean(axis=1), 1e-10)
    assert fits["full"].lower_bound_ == -np.inf
    assert fits["full"].lower_bounds_ == []


# --------------------------------------------------------------------------
# 2. The priors' validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    dict(degrees_of_freedom_prior=2.0),                     # = n_features - 1
    dict(degrees_of_freedom_prior=0.5),
    dict(mean_prior=[0.0, 1.0]),                           # wrong shape
    dict(covariance_prior=np.eye(2)),                      # wrong shape
    dict(covariance_prior=np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    dict(covariance_prior=np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    dict(covariance_type="tied", covariance_prior=np.ones((3, 2))),
    dict(covariance_type="diag", covariance_prior=[1.0, 2.0]),
    dict(covariance_type="diag", covariance_prior=[1.0, -2.0, 1.0]),
    dict(covariance_type="diag", covariance_prior=np.eye(3)),
])
def test_bad_priors_raise_value_error_as_sklearn(params):
    # The same exception type as scikit-learn, for the same bad prior.
    X = _blobs(n_samples=50)
    with pytest.raises(ValueError) as ref_error:
        SkBayesianGaussianMixture(**params).fit(X)
    with pytest.raises(ValueError) as error:
        BayesianGaussianMixture(**params).fit(X)
    assert type(error.value) is type(ref_error.value)
    if "degrees_of_freedom_prior" in params:
        assert str(error.value) == str(ref_error.value)


@pytest.mark.parametrize("params", [
    dict(weight_concentration_prior=0.0),
    dict(weight_concentration_prior=-1.0),
    dict(mean_precision_prior=0.0),
    dict(degrees_of_freedom_prior=-3.0),
    dict(covariance_prior=-1.0),
    dict(covariance_prior="big"),
    dict(weight_concentration_prior_type="dirichlet"),
    dict(covariance_type="block"),
    dict(n_components=0),
])
def test_invalid_parameters_raise_invalid_parameter_error(params):
    X = _blobs(n_samples=50)
    with pytest.raises(InvalidParameterError):
        SkBayesianGaussianMixture(**params).fit(X)
    with pytest.raises(InvalidParameterError):
        BayesianGaussianMixture(**params).fit(X)


def test_spherical_covariance_prior_must_be_one_number():
    # scikit-learn takes any array here and broadcasts it silently; we
    # accept one number (also as a one-element array) and refuse the rest.
    X = _blobs(n_samples=50)
    fitted = _fit(BayesianGaussianMixture, X, covariance_type="spherical",
                  covariance_prior=np.array([2.0]))
    assert fitted.covariance_prior_ == 2.0
    with pytest.raises(ValueError, match="spherical covariance_prior"):
        BayesianGaussianMixture(covariance_type="spherical",
                                covariance_prior=[1.0, 2.0, 3.0]).fit(X)


# --------------------------------------------------------------------------
# 3. float32 and threads
# --------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_in_float32_out_and_close_to_float64(covariance_type):
    # float32 data is fitted in float32: the Gaussian arrays and the priors
    # keep the dtype (the posterior counts are float64 sums). The bound is
    # within 1e-4 of the float64 fit of the same values from the same start.
    X32 = _blobs(dtype=np.float32)
    X64 = X32.astype(np.float64)
    params = dict(n_components=6, covariance_type=covariance_type, max_iter=10, tol=0.0,
                  random_state=0)
    gm32 = _fit(BayesianGaussianMixture, X32, **params)
    gm64 = _fit(BayesianGaussianMixture, X64, **params)
    for name in GAUSSIAN_ARRAYS + ["mean_prior_", "covariance_prior_"]:
        assert getattr(gm32, name).dtype == np.float32, name
        assert getattr(gm64, name).dtype == np.float64, name
    assert gm32.predict_proba(X32).dtype == np.float32
    assert gm32.score_samples(X32).dtype == np.float32
    assert gm32.sample(5)[0].dtype == np.float32
    assert_allclose(gm32.lower_bound_, gm64.lower_bound_, rtol=F32_LOWER_BOUND_RTOL)
    assert_allclose(gm32.lower_bounds_, gm64.lower_bounds_, rtol=F32_LOWER_BOUND_RTOL)
    # Means of size ~10 to float32 rounding amplified by the iterations.
    assert_allclose(gm32.means_, gm64.means_, atol=1e-3)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bit_identical_for_any_thread_count(covariance_type):
    # 20,000 rows = 79 chunks of 256: the reductions combine the chunks in a
    # fixed order, so 1, 2 and 3 threads give the same bits.
    X = _blobs(n_samples=20_000, n_features=5, random_state=2)
    results = []
    for n_threads in (1, 2, 3):
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            gm = _fit(BayesianGaussianMixture, X, n_components=6, max_iter=8, tol=0.0,
                      covariance_type=covariance_type, init_params="k-means++",
                      random_state=0)
            results.append((gm, gm.predict_proba(X), gm.score_samples(X)))
    gm1, proba1, scores1 = results[0]
    for gm, proba, scores in results[1:]:
        for name in GAUSSIAN_ARRAYS + POSTERIORS + ["covariance_prior_", "mean_prior_"]:
            assert_array_equal(getattr(gm, name), getattr(gm1, name), err_msg=name)
        assert_array_equal(gm.weight_concentration_, gm1.weight_concentration_)
        assert gm.lower_bounds_ == gm1.lower_bounds_
        assert_array_equal(proba, proba1)
        assert_array_equal(scores, scores1)


# --------------------------------------------------------------------------
# 4. Properties and the estimator API
# --------------------------------------------------------------------------


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bound_never_decreases(covariance_type, prior_type):
    # Coordinate ascent on the evidence lower bound: each iteration raises
    # it, up to rounding (1e-9 relative).
    X = _blobs(n_samples=1000)
    gm = _fit(BayesianGaussianMixture, X, n_components=8, covariance_type=covariance_type,
              weight_concentration_prior_type=prior_type, init_params="random",
              max_iter=40, tol=0.0, random_state=0)
    bounds = np.asarray(gm.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:]))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_predictions_are_consistent(covariance_type):
    # Responsibilities sum to one, predict is their argmax, fit_predict is
    # fit then predict, and the weights sum to one.
    X = _blobs(n_samples=500)
    params = dict(n_components=5, covariance_type=covariance_type, random_state=0,
                  max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = BayesianGaussianMixture(**params).fit_predict(X)
        gm = BayesianGaussianMixture(**params).fit(X)
    proba = gm.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-10)
    assert_array_equal(gm.predict(X), np.argmax(proba, axis=1))
    assert_array_equal(labels, gm.predict(X))
    assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-12)
    assert_allclose(gm.score(X), gm.score_samples(X).mean(), rtol=1e-12)


def test_warm_start_continues_as_sklearn():
    # One iteration per fit with warm_start: the same sequence of bounds as
    # scikit-learn, never decreasing.
    X = _blobs(n_samples=500)
    params = dict(n_components=5, warm_start=True, max_iter=1, random_state=0)
    ours, ref = BayesianGaussianMixture(**params), SkBayesianGaussianMixture(**params)
    bounds, ref_bounds = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(6):
            bounds.append(ours.fit(X).lower_bound_)
            ref_bounds.append(ref.fit(X).lower_bound_)
    assert_allclose(bounds, ref_bounds, rtol=SK_RTOL)
    assert np.all(np.diff(bounds) >= 0)


def test_sample_follows_the_model():
    X = _separated_blobs()
    gm = BayesianGaussianMixture(n_components=3, random_state=0).fit(X)
    samples, labels = gm.sample(3000)
    assert samples.shape == (3000, 3) and labels.shape == (3000,)
    # Each component's samples have its mean, to a few standard errors.
    for k in range(3):
        assert_allclose(samples[labels == k].mean(axis=0), gm.means_[k], atol=0.2)


def test_clone_and_pickle():
    X = _blobs(n_samples=500)
    gm = BayesianGaussianMixture(n_components=4, covariance_prior=1.0,
                                 covariance_type="spherical", random_state=0).fit(X)
    fresh = clone(gm)
    assert fresh.get_params() == gm.get_params()
    assert not hasattr(fresh, "weights_")
    restored = pickle.loads(pickle.dumps(gm))
    assert_array_equal(restored.predict_proba(X), gm.predict_proba(X))
    assert_array_equal(restored.weight_concentration_, gm.weight_concentration_)
    assert_array_equal(clone(gm).fit(X).means_, gm.means_)
