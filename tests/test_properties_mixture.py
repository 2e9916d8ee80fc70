"""Property tests (hypothesis) of the Gaussian mixtures: GaussianMixture (the
four covariance types), BayesianGaussianMixture and
GaussianMixtureAnomalyDetector.

Generated data as in ``test_properties_kmeans.py`` (``property_strategies``).
Each test checks invariants that hold for any input: weights that sum to 1,
positive definite covariances, responsibilities (``predict_proba``) that sum
to 1, finite densities (``score_samples``), labels in range and of
scikit-learn's dtype, fitted arrays in X's dtype, the same bits with 1 and 2
OpenMP threads, the caller's array unchanged; and where a fit fails,
scikit-learn fails on the same input with the same exception type. For a long
search::

    HYPOTHESIS_PROFILE=thorough python -m pytest -q tests/test_properties_*.py \
        --hypothesis-show-statistics

Where the math allows: the statistics (sums of x and of x x^T) are float64
whatever X's dtype, and the covariances are kept in X's dtype. Their entries,
the squares of the values, must stay finite in that dtype: up to 1e150 in
float64 (squares of 1e300, still finite after sums over thousands of
samples since the means are subtracted first) and 1e17 in float32 (1e34,
below its 3.4e38). Downwards there is no limit: reg_covar (1e-6) keeps every
covariance positive definite once the data's own variances underflow, so the
scale goes down to 1e-300 in float64 and 1e-40 in float32.
"""

import warnings

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBayesianGaussianMixture
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from property_strategies import (
    assert_few_warnings,
    assert_same_bits,
    data,
    in_threads,
    recorded,
    same_error_as_reference,
)
from turbocluster import (
    BayesianGaussianMixture,
    GaussianMixture,
    GaussianMixtureAnomalyDetector,
)

MIXTURE_EXPONENTS = {"float64": (-300, 150), "float32": (-40, 17)}
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_", "lower_bound_"]
# Sums of probabilities to 1: float32 rounds each of up to n_components terms.
SUM_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def _components(n_samples):
    """n_components: at most 8 (the fits must stay fast), or n_samples when
    that is at most 8."""
    top = min(n_samples, 8)
    return st.one_of(st.sampled_from(sorted({1, top})), st.integers(1, top))


@st.composite
def mixture_problems(draw, max_samples=1500):
    # Dense only (the mixtures take no sparse input, as scikit-learn's); at
    # least 2 samples (one is an error, as in scikit-learn: drawn, it was
    # most examples, hypothesis favouring the bounds).
    d = draw(data(exponents=MIXTURE_EXPONENTS, sparse=False, max_samples=max_samples,
                  max_features=32, min_samples=2))
    params = dict(
        n_components=draw(_components(d.n_samples)),
        covariance_type=draw(st.sampled_from(COVARIANCE_TYPES)),
        init_params=draw(st.sampled_from(["kmeans", "k-means++", "random",
                                          "random_from_data"])),
        max_iter=draw(st.sampled_from([1, 10, 50])),
        random_state=draw(st.integers(0, 2**31 - 1)),
    )
    return d, params


def _assert_positive_definite(covariances, covariance_type):
    C = np.asarray(covariances, dtype=np.float64)
    assert np.all(np.isfinite(C))
    if covariance_type in ("diag", "spherical"):
        assert np.all(C > 0)
        return
    for matrix in (C[None] if covariance_type == "tied" else C):
        # Symmetric to rounding (scikit-learn's are not bit-symmetric either).
        scale = np.sqrt(np.outer(np.diag(matrix), np.diag(matrix)))
        assert np.all(np.abs(matrix - matrix.T) <= 1e-6 * scale)
        np.linalg.cholesky(matrix)  # raises LinAlgError if not positive definite


def _check_fitted_mixture(d, model, covariance_type, predict=None):
    """The fitted parameters, and the scores of X under them. predict: the
    mixture's predict (default: the model's own)."""
    k = model.n_components
    assert model.weights_.shape == (k,)
    assert np.all(model.weights_ >= 0)
    np.testing.assert_allclose(np.sum(model.weights_, dtype=np.float64), 1.0,
                               rtol=SUM_RTOL[d.dtype])
    assert model.means_.shape == (k, d.n_features) and np.all(np.isfinite(model.means_))
    for name in ("weights_", "means_", "covariances_", "precisions_",
                 "precisions_cholesky_"):
        assert getattr(model, name).dtype == d.dtype, name
    _assert_positive_definite(model.covariances_, covariance_type)
    assert np.isfinite(model.lower_bound_)
    assert 1 <= model.n_iter_ <= model.max_iter

    proba = model.predict_proba(d.X)
    assert proba.dtype == d.dtype and proba.shape == (d.n_samples, k)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1, dtype=np.float64), 1.0,
                               rtol=SUM_RTOL[d.dtype])
    log_density = model.score_samples(d.X)
    assert log_density.dtype == d.dtype and np.all(np.isfinite(log_density))
    labels = (model.predict if predict is None else predict)(d.X)
    assert labels.dtype == np.intp and labels.min() >= 0 and labels.max() < k
    # The most probable component (a tie may go either way).
    chosen = proba[np.arange(d.n_samples), labels]
    assert np.all(chosen >= proba.max(axis=1) * (1 - 1e-5))
    return labels


def _fit_both(d, make, reference):
    """Fit under 1 and 2 threads; (one, two, warnings of one) or None where
    the fit fails as scikit-learn's does."""
    result, error = same_error_as_reference(
        lambda: recorded(lambda: in_threads(lambda: make().fit(d.X), 1)),
        lambda: reference().fit(d.X))
    d.assert_unchanged()
    if error is not None:
        event(f"{type(make()).__name__} raised as scikit-learn: {type(error).__name__}")
        return None
    one, caught = result
    two, _ = recorded(lambda: in_threads(lambda: make().fit(d.X), 2))
    assert_few_warnings(caught)
    return one, two


@given(mixture_problems())
def test_gaussian_mixture(problem):
    d, params = problem
    fitted = _fit_both(d, lambda: GaussianMixture(**params),
                       lambda: SkGaussianMixture(**params))
    if fitted is None:
        return
    one, two = fitted
    labels = _check_fitted_mixture(d, one, params["covariance_type"])
    d.assert_unchanged()
    # fit_predict's labels are those of predict after the fit.
    again, _ = recorded(lambda: GaussianMixture(**params).fit_predict(d.X))
    assert_same_bits(again, labels, "fit_predict and predict")
    assert np.isfinite(one.bic(d.X)) and np.isfinite(one.aic(d.X))
    samples, components = one.sample(7)
    assert samples.shape == (7, d.n_features) and samples.dtype == d.dtype
    assert components.min() >= 0 and components.max() < one.n_components
    for name in FITTED + ["n_iter_"]:
        assert_same_bits(getattr(one, name), getattr(two, name), name)
    assert_same_bits(one.predict_proba(d.X), two.predict_proba(d.X), "predict_proba")


@given(mixture_problems(max_samples=400),
       st.sampled_from(["dirichlet_process", "dirichlet_distribution"]))
def test_bayesian_gaussian_mixture(problem, prior_type):
    d, params = problem
    params["weight_concentration_prior_type"] = prior_type
    fitted = _fit_both(d, lambda: BayesianGaussianMixture(**params),
                       lambda: SkBayesianGaussianMixture(**params))
    if fitted is None:
        return
    one, two = fitted
    _check_fitted_mixture(d, one, params["covariance_type"])
    d.assert_unchanged()
    assert np.all(one.mean_precision_ > 0)
    assert np.all(np.asarray(one.degrees_of_freedom_) > d.n_features - 1)
    for name in FITTED + ["n_iter_", "mean_precision_", "degrees_of_freedom_"]:
        assert_same_bits(getattr(one, name), getattr(two, name), name)


@given(mixture_problems(max_samples=400),
       st.sampled_from(["auto", 0.01, 0.1, 0.5]))
def test_anomaly_detector(problem, contamination):
    d, params = problem
    fitted = _fit_both(
        d, lambda: GaussianMixtureAnomalyDetector(contamination=contamination, **params),
        lambda: SkGaussianMixture(**params))
    if fitted is None:
        return
    one, two = fitted
    # Its mixture's component labels (its own predict flags outliers).
    _check_fitted_mixture(d, one, params["covariance_type"],
                          lambda X: GaussianMixture.predict(one, X))
    flags = one.predict(d.X)
    d.assert_unchanged()
    assert set(np.unique(flags)) <= {-1, 1}
    scores = one.decision_function(d.X)
    assert np.all(np.isfinite(scores))
    assert np.array_equal(scores, one.score_samples(d.X) - one.offset_)
    assert np.array_equal(flags, np.where(scores < 0, -1, 1))
    # The threshold is the contamination quantile (linear interpolation) of
    # the training log-densities: at most that many samples fall below it.
    fraction = 0.04 if contamination == "auto" else contamination
    assert np.count_nonzero(flags == -1) <= np.floor((d.n_samples - 1) * fraction) + 1
    again, _ = recorded(lambda: GaussianMixtureAnomalyDetector(
        contamination=contamination, **params).fit_predict(d.X))
    assert_same_bits(again, flags, "fit_predict and predict")
    assert_same_bits(one.offset_, two.offset_, "offset_")
    for name in FITTED:
        assert_same_bits(getattr(one, name), getattr(two, name), name)


###############################################################################
# Regressions found by the property tests (plain tests: they stay when
# hypothesis's example database is gone)


def _user_warnings(caught):
    return [str(w.message) for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("X, n_components", [
    # Two samples per component in 2-D: rank one plus reg_covar, positive
    # definite in float64 but not once rounded to float32 (entries of 164
    # round by 1e-5, far more than the 1e-6 on the diagonal).
    (np.array([[176.02939, 173.10088], [186.78734, 205.25378], [-563.0694, -890.2958],
               [150.41806, 157.89209], [-967.89966, 245.21437], [-914.2047, 290.03687],
               [-680.6129, -674.9791], [-1000.0, 312.4369], [-722.7068, -771.23425]],
              dtype=np.float32), 8),
    # A constant far from the origin: the means' 10 eps bias (scikit-learn's)
    # leaves a spurious variance of 144 in both entries, singular in float32.
    (np.full((2, 2), -1e16, dtype=np.float32), 1),
])
def test_float32_covariances_are_positive_definite_as_stored(X, n_components):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GaussianMixture(n_components, max_iter=1, random_state=0).fit(X)
    assert model.covariances_.dtype == np.float32
    for covariance in model.covariances_:
        np.linalg.cholesky(covariance.astype(np.float64))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_constant_far_from_the_origin_fits(covariance_type, init_params):
    # 'full' and 'tied' empirical variances are S2 - 2 S1 delta + N delta^2:
    # on a constant of 1e149 they cancel to about -1e253, and the Bayesian
    # posterior (scikit-learn's sums of squares are never negative) raised
    # "ill-defined empirical covariance".
    X = np.full((65, 1), -1e149)
    model = BayesianGaussianMixture(n_components=8, covariance_type=covariance_type,
                                    init_params=init_params, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    _assert_positive_definite(model.covariances_, covariance_type)


def test_collapsed_components_warn_once():
    # Five distinct values, eight components: three collapse. One warning
    # names them all (one per component was a storm with many components).
    X = np.repeat(np.linspace(-1, 1, 5), 13)[:, None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GaussianMixture(8, max_iter=1, random_state=0).fit(X)
    messages = _user_warnings(caught)
    assert len(messages) == 1, messages
    assert messages[0].startswith("Components 5, 6 and 7 collapsed"), messages
