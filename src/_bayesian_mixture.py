"""BayesianGaussianMixture: variational inference on GaussianMixture's EM pass.

The variational model (Bishop 2006, section 10.2; Blei and Jordan 2006 for
the Dirichlet process) puts a Dirichlet (or stick-breaking Beta) prior on the
weights and a Gaussian-Wishart prior on each component's mean and precision.
Its coordinate ascent has the shape of EM: the E-step is GaussianMixture's
with other per-component constants (expected log weights and log
determinants, ``_log_weights_and_constants``), and the M-step turns the same
statistics (N_k, the means x_k and scatters S_k of the responsibilities) into
posterior parameters by adding the priors. So one iteration is still one pass
of ``_kernels/_em.pyx`` em_pass; this module holds only the small
n_components x n_features^2 arithmetic of the posteriors and of the lower
bound.
"""

import math
from numbers import Real

import numpy as np
from scipy.special import betaln, digamma, gammaln
from sklearn.utils import check_array

from ._gaussian import (
    ILL_DEFINED_MESSAGE,
    _check_shape,
    log_det_cholesky,
    log_gaussian_constant,
    precisions_from_cholesky,
)
from ._mixture import _BaseGaussianMixture, _DataMoments
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import FLOAT_DTYPES, Interval, StrOptions

__all__ = ["BayesianGaussianMixture"]

_LOG_2 = math.log(2.0)


def _expected_log_det_precision(degrees_of_freedom, n_features):
    """E[log det Lambda] - log det W of a Wishart(W, nu): sum_j
    digamma((nu - j) / 2) + n_features log 2 (Bishop 10.65); per component,
    or a scalar for a scalar nu ('tied')."""
    nu = np.asarray(degrees_of_freedom, dtype=np.float64)[..., None]
    return n_features * _LOG_2 + digamma(0.5 * (nu - np.arange(n_features))).sum(axis=-1)


def _log_wishart_norm(degrees_of_freedom, log_det_precision_cholesky, n_features):
    """log B(W, nu) of the Wishart normaliser (Bishop B.79), without its
    log pi term, which does not depend on the fit."""
    nu = np.asarray(degrees_of_freedom, dtype=np.float64)
    return -(nu * log_det_precision_cholesky + 0.5 * n_features * _LOG_2 * nu
             + gammaln(0.5 * (nu[..., None] - np.arange(n_features))).sum(axis=-1))


class BayesianGaussianMixture(_BaseGaussianMixture):
    """Variational Bayesian estimation of a Gaussian mixture.

    A drop-in replacement for :class:`sklearn.mixture.BayesianGaussianMixture`:
    the same parameters, attributes and results, with each iteration of the
    variational inference run as one parallel pass over the samples. The
    priors let the fit leave components it does not need with weights near
    zero, so ``n_components`` is an upper bound on the number of clusters.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components; the fit may give some of them
        weights near zero.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': each component has its own covariance matrix; 'tied': all
        components share one; 'diag': each has its own diagonal covariance;
        'spherical': each has its own single variance.

    tol : float, default=1e-3
        Convergence threshold: the iterations stop when the lower bound on
        the evidence gains less than this.

    reg_covar : float, default=1e-6
        Added to the diagonal of every empirical covariance, so that it stays
        positive.

    max_iter : int, default=100
        The number of iterations to perform.

    n_init : int, default=1
        The number of initialisations; the one with the largest lower bound
        is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the first responsibilities are chosen: KMeans labels, k-means++
        seeds, random responsibilities, or random samples as seeds.

    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}, \
default='dirichlet_process'
        The prior on the weights: a truncated Dirichlet process (the
        stick-breaking representation, which tends to use few components) or
        a finite Dirichlet distribution.

    weight_concentration_prior : float or None, default=None
        The concentration (often called gamma) of the weights' prior: larger
        values put more mass on using many components. None means
        ``1 / n_components``.

    mean_precision_prior : float or None, default=None
        The precision (beta_0) of the means' Gaussian prior, relative to the
        components' precisions: larger values pull the means towards
        ``mean_prior``. None means 1.

    mean_prior : array-like of shape (n_features,), default=None
        The mean (m_0) of the means' prior. None means the mean of X.

    degrees_of_freedom_prior : float or None, default=None
        The degrees of freedom (nu_0) of the precisions' Wishart prior; it
        must be greater than ``n_features - 1``. None means ``n_features``.

    covariance_prior : float or array-like, default=None
        The covariance of the Wishart prior (the inverse of its scale
        matrix): of shape (n_features, n_features) for 'full' and 'tied',
        (n_features,) for 'diag', a float for 'spherical'. None means the
        empirical covariance of X (its variances for 'diag', their mean for
        'spherical'), with ``n_samples - 1`` as divisor.

    random_state : int, RandomState instance or None, default=None
        Controls the initialisation and :meth:`sample`.

    warm_start : bool, default=False
        If True, a fitted model starts the next fit from its parameters
        (``n_init`` is then ignored).

    verbose : int, default=0
        1 prints the initialisations and iterations, 2 adds times and the
        change of the lower bound.

    verbose_interval : int, default=10
        Iterations between two printed lines.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The expected weight of each component under the posterior.
    means_ : ndarray of shape (n_components, n_features)
        The posterior mean of each component's mean.
    covariances_ : ndarray
        The covariances (the inverse Wishart scale over the degrees of
        freedom) of shape (n_components, n_features, n_features) for 'full',
        (n_features, n_features) for 'tied', (n_components, n_features) for
        'diag' and (n_components,) for 'spherical'.
    precisions_ : ndarray
        The inverses of the covariances, of the same shape.
    precisions_cholesky_ : ndarray
        Upper-triangular factors P with P P^T the precision (the square
        root of the precisions for 'diag' and 'spherical').
    weight_concentration_prior_ : float
        The concentration of the weights' prior used in the fit.
    weight_concentration_ : tuple of two ndarrays or ndarray
        The posterior of the weights: the two Beta parameters of each stick
        ('dirichlet_process'), or the Dirichlet parameters of shape
        (n_components,) ('dirichlet_distribution').
    mean_precision_prior_ : float
        The precision of the means' prior used in the fit.
    mean_precision_ : ndarray of shape (n_components,)
        The posterior precision (beta_k) of each component's mean.
    mean_prior_ : ndarray of shape (n_features,)
        The mean of the means' prior used in the fit.
    degrees_of_freedom_prior_ : float
        The degrees of freedom of the Wishart prior used in the fit.
    degrees_of_freedom_ : ndarray of shape (n_components,) or float
        The posterior degrees of freedom of each component (one shared
        value for 'tied').
    covariance_prior_ : ndarray or float
        The covariance of the Wishart prior used in the fit.
    converged_ : bool
        Whether the best run converged.
    n_iter_ : int
        Iterations of the best run.
    lower_bound_ : float
        The lower bound on the evidence of the training data (up to an
        additive constant) at the best run's last iteration.
    lower_bounds_ : list of float
        The lower bound at each iteration of the best run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    GaussianMixture : The mixture fitted by maximum likelihood (EM).

    Notes
    -----
    Each iteration is one pass over the samples, GaussianMixture's: the
    log-densities of a chunk of 256 samples, their responsibilities and the
    chunk's sums N_k, sum r (x - mu_k) and sum r (x - mu_k)(x - mu_k)^T,
    added in float64 in chunk order. Time per iteration
    O(n_samples n_components n_features^2) for 'full' and 'tied',
    O(n_samples n_components n_features) otherwise, plus
    O(n_components n_features^3) for the posteriors' Cholesky factors;
    memory O(n_samples n_features) for the data and
    O(n_components n_features^2) per thread, never an n_samples x
    n_components array during ``fit``. The default priors cost two more
    passes at the start of each fit.

    Differences from scikit-learn, on purpose:

    - float32 data is fitted in float32 with float64 statistics: the
      Gaussian parameters and the priors (``weights_``, ``means_``,
      ``covariances_``, ``precisions_``, ``precisions_cholesky_``,
      ``mean_prior_``, ``covariance_prior_``) keep the data's dtype; the
      posterior counts (``weight_concentration_``, ``mean_precision_``,
      ``degrees_of_freedom_``), sums of responsibilities, stay float64.
    - Results do not depend on the number of threads.
    - Responsibilities below 2^-60 are left out of the statistics (they
      change a total by less than n_samples * 2^-60).
    - A posterior covariance that is not positive definite gets jitter on
      its diagonal and a warning, as in GaussianMixture, where
      scikit-learn raises; ``lower_bound_`` is a float for 'tied' too; a
      'spherical' ``covariance_prior`` must be one number.

    References
    ----------
    C. M. Bishop (2006), "Pattern Recognition and Machine Learning",
    section 10.2. D. M. Blei and M. I. Jordan (2006), "Variational inference
    for Dirichlet process mixtures", Bayesian Analysis 1(1).

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import BayesianGaussianMixture
    >>> rng = np.random.RandomState(0)
    >>> centers = [[0, 0], [5, 5], [0, 5]]
    >>> X = np.vstack([rng.normal(c, 0.5, size=(50, 2)) for c in centers])
    >>> bgm = BayesianGaussianMixture(n_components=5, random_state=0).fit(X)

    Three components share the weight, the other two are left (nearly) empty:

    >>> bgm.weights_.round(2)
    array([0.34, 0.01, 0.33, 0.32, 0.  ])
    >>> bgm.predict([[0, 0], [5, 5]])
    array([3, 0])
    """

    # A component that loses its samples keeps its prior: it ends with a
    # weight near zero, which is how the model drops components.
    _reseed_collapsed = False
    # The empirical covariance S_k only enters the posterior scaled by N_k
    # and added to the prior, and the posterior is what gets factored (in
    # _m_step): an empty or singleton S_k is legitimate here.
    _factor_estimates = False

    _parameter_constraints: dict = {
        **_BaseGaussianMixture._parameter_constraints,
        "weight_concentration_prior_type": [
            StrOptions({"dirichlet_process", "dirichlet_distribution"})],
        "weight_concentration_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_precision_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_prior": [None, "array-like"],
        "degrees_of_freedom_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "covariance_prior": [None, "array-like", Interval(Real, 0.0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # -- the priors ----------------------------------------------------------

    def _check_initial_parameters(self, X):
        """The priors of this fit, checked against X, as the trailing-
        underscore attributes (the constructor's parameters stay as given)."""
        n_samples, n_features = X.shape
        dtype = X.dtype
        self.weight_concentration_prior_ = (
            1.0 / self.n_components if self.weight_concentration_prior is None
            else float(self.weight_concentration_prior))
        self.mean_precision_prior_ = (
            1.0 if self.mean_precision_prior is None else float(self.mean_precision_prior))
        if self.degrees_of_freedom_prior is None:
            self.degrees_of_freedom_prior_ = n_features
        elif self.degrees_of_freedom_prior > n_features - 1.0:
            self.degrees_of_freedom_prior_ = float(self.degrees_of_freedom_prior)
        else:
            # The Wishart distribution needs nu > n_features - 1.
            raise ValueError(
                "The parameter 'degrees_of_freedom_prior' should be greater than "
                f"{n_features - 1}, but got {self.degrees_of_freedom_prior:.3f}."
            )

        # The user's priors are checked before any pass over the data.
        if self.mean_prior is not None:
            mean_prior = check_array(self.mean_prior, dtype=list(FLOAT_DTYPES),
                                     ensure_2d=False)
            _check_shape(mean_prior, (n_features,), "means")
            self.mean_prior_ = mean_prior.astype(dtype)
        if self.covariance_prior is not None:
            self.covariance_prior_ = self._checked_covariance_prior(n_features, dtype)
        if self.mean_prior is not None and self.covariance_prior is not None:
            return

        # The defaults: the data's mean and (co)variances, summed in float64
        # by kernel passes (no centred copy of X, accurate for float32 too).
        with_scatter = (self.covariance_prior is None
                        and self.covariance_type in ("full", "tied"))
        with blas_single_threaded():
            moments = _DataMoments(X, with_scatter, effective_n_threads())
        if self.mean_prior is None:
            self.mean_prior_ = moments.mean.astype(dtype)
        if self.covariance_prior is None:
            # Unbiased (n_samples - 1), as np.cov and np.var(ddof=1).
            ratio = n_samples / (n_samples - 1.0)
            if self.covariance_type in ("full", "tied"):
                prior = moments.scatter / (n_samples - 1.0)
            elif self.covariance_type == "diag":
                prior = moments.variances * ratio
            else:
                prior = np.mean(moments.variances * ratio)
            self.covariance_prior_ = np.asarray(prior).astype(dtype)[()]

    def _checked_covariance_prior(self, n_features, dtype):
        """The user's covariance_prior: its shape, symmetry and positivity."""
        name = f"{self.covariance_type} covariance_prior"
        if self.covariance_type == "spherical":
            prior = np.asarray(self.covariance_prior, dtype=np.float64)
            if prior.size != 1:
                raise ValueError(
                    f"The parameter '{name}' should be a positive number, but got "
                    f"an array of shape {prior.shape}"
                )
            if not prior.reshape(()) > 0.0:
                raise ValueError(f"'{name}' should be positive")
            return dtype.type(prior.reshape(()))
        prior = check_array(self.covariance_prior, dtype=list(FLOAT_DTYPES),
                            ensure_2d=False)
        if self.covariance_type == "diag":
            _check_shape(prior, (n_features,), name)
            if np.any(prior <= 0.0):
                raise ValueError(f"'{name}' should be positive")
        else:
            _check_shape(prior, (n_features, n_features), name)
            if not (np.allclose(prior, prior.T)
                    and np.all(np.linalg.eigvalsh(prior) > 0.0)):
                raise ValueError(f"'{name}' should be symmetric, positive-definite")
        return prior.astype(dtype)

    # -- one iteration --------------------------------------------------------

    def _initialize(self, X, estimates):
        # The first responsibilities are turned into posteriors exactly as
        # those of an E-step.
        self._m_step(X, estimates)

    def _m_step(self, X, estimates):
        """The posteriors of the weights, means and precisions (Bishop
        10.58 and 10.60-10.63, with the covariance normalised by nu_k, as
        scikit-learn does) from the statistics N_k, x_k, S_k."""
        nk, xk, sk, _ = estimates
        n_components = self.n_components
        if self.weight_concentration_prior_type == "dirichlet_process":
            # Stick k: Beta(1 + N_k, gamma + sum_{j > k} N_j).
            tail = np.cumsum(nk[::-1])[::-1]
            self.weight_concentration_ = (
                1.0 + nk, self.weight_concentration_prior_ + np.append(tail[1:], 0.0))
        else:
            self.weight_concentration_ = self.weight_concentration_prior_ + nk

        beta0 = self.mean_precision_prior_
        nu0 = self.degrees_of_freedom_prior_
        mean_prior = np.asarray(self.mean_prior_, dtype=np.float64)
        covariance_prior = np.asarray(self.covariance_prior_, dtype=np.float64)
        beta = beta0 + nk
        means = (beta0 * mean_prior + nk[:, None] * xk) / beta[:, None]
        diff = xk - mean_prior
        if self.covariance_type == "full":
            dof = nu0 + nk
            shrunk = nk * beta0 / beta
            covariances = (covariance_prior + nk[:, None, None] * sk
                           + shrunk[:, None, None] * diff[:, :, None] * diff[:, None, :])
            covariances /= dof[:, None, None]
        elif self.covariance_type == "tied":
            # One Wishart shared by all components, fed the average count.
            dof = nu0 + nk.sum() / n_components
            covariances = (covariance_prior + sk * (nk.sum() / n_components)
                           + beta0 / n_components * ((nk / beta) * diff.T) @ diff)
            covariances /= dof
        elif self.covariance_type == "diag":
            dof = nu0 + nk
            covariances = covariance_prior + nk[:, None] * (
                sk + (beta0 / beta)[:, None] * diff * diff)
            covariances /= dof[:, None]
        else:
            dof = nu0 + nk
            covariances = covariance_prior + nk * (
                sk + beta0 / beta * np.mean(diff * diff, axis=1))
            covariances /= dof

        factors = self._posterior_factors(covariances, X.dtype)
        dtype = X.dtype
        # The kernel centres the data on the weighted mean of the means.
        self.weights_ = self._expected_weights().astype(dtype)
        self.mean_precision_ = beta
        self.degrees_of_freedom_ = dof
        self.means_ = means.astype(dtype)
        self.covariances_ = covariances.astype(dtype)
        self.precisions_cholesky_ = factors.astype(dtype)

    def _posterior_factors(self, covariances, dtype):
        """Precision Cholesky factors of the posterior covariances, with
        GaussianMixture's jitter repair (which updates ``covariances`` in
        place, so that both stay consistent)."""
        factors, repairs = self._factor(covariances, dtype)
        if self.covariance_type == "tied":
            if factors is None:
                raise ValueError(ILL_DEFINED_MESSAGE)
        elif any(factor is None for factor in factors):
            raise ValueError(ILL_DEFINED_MESSAGE)
        self._record_repairs(repairs)
        if self.covariance_type == "spherical":
            return np.asarray(factors, dtype=np.float64)
        return np.asarray(factors) if self.covariance_type == "tied" else np.stack(factors)

    def _expected_log_weights(self):
        """E[log pi_k] under the weights' posterior (Blei and Jordan 2006
        for the sticks, Bishop 10.66 for the Dirichlet)."""
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = self.weight_concentration_
            digamma_sum = digamma(a + b)
            # log pi_k = log v_k + sum_{j < k} log(1 - v_j).
            log_rest = np.cumsum(digamma(b) - digamma_sum)
            return digamma(a) - digamma_sum + np.append(0.0, log_rest[:-1])
        concentration = self.weight_concentration_
        return digamma(concentration) - digamma(np.sum(concentration))

    def _log_weights_and_constants(self):
        # Everything of E[log pi_k] + E[log N(x | mu_k, Lambda_k)] (Bishop
        # 10.46, 10.64-10.66) that does not depend on the sample. The kernel
        # factors are those of the precision nu_k W_k (covariances_ is
        # normalised by nu_k), whose log det exceeds log det W_k by
        # d log nu_k: hence the -d/2 log nu_k.
        n_features = self.means_.shape[1]
        dof = self.degrees_of_freedom_
        constant = (
            log_gaussian_constant(self.precisions_cholesky_, self.covariance_type,
                                  n_features)
            - 0.5 * n_features * np.log(dof)
            + 0.5 * (_expected_log_det_precision(dof, n_features)
                     - n_features / self.mean_precision_)
            + self._expected_log_weights()
        )
        return np.ascontiguousarray(
            np.broadcast_to(constant, (self.n_components,)), dtype=np.float64)

    def _lower_bound(self, mean_log_norm, r_log_r, estimates):
        # scikit-learn's evidence lower bound, without the terms that are
        # constant during a fit. Coordinate ascent never decreases it
        # (up to rounding); the E-step's log-likelihood is not part of it.
        n_features = self.means_.shape[1]
        dof = self.degrees_of_freedom_
        log_det = (log_det_cholesky(self.precisions_cholesky_, self.covariance_type,
                                    n_features)
                   - 0.5 * n_features * np.log(dof))
        log_wishart = _log_wishart_norm(dof, log_det, n_features)
        if self.covariance_type == "tied":
            log_wishart = self.n_components * log_wishart
        if self.weight_concentration_prior_type == "dirichlet_process":
            log_norm_weight = -np.sum(betaln(*self.weight_concentration_))
        else:
            concentration = self.weight_concentration_
            log_norm_weight = gammaln(np.sum(concentration)) - np.sum(gammaln(concentration))
        return float(-r_log_r - np.sum(log_wishart) - log_norm_weight
                     - 0.5 * n_features * np.sum(np.log(self.mean_precision_)))

    # -- the fitted model -----------------------------------------------------

    def _get_parameters(self):
        return (self.weight_concentration_, self.mean_precision_, self.means_,
                self.degrees_of_freedom_, self.covariances_, self.precisions_cholesky_)

    def _set_parameters(self, parameters):
        (self.weight_concentration_, self.mean_precision_, self.means_,
         self.degrees_of_freedom_, self.covariances_,
         self.precisions_cholesky_) = parameters
        self.weights_ = self._expected_weights().astype(self.means_.dtype)
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type)

    def _expected_weights(self):
        """The posterior means of the weights, normalised (float64)."""
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = self.weight_concentration_
            total = a + b
            # E[pi_k] = E[v_k] prod_{j < k} E[1 - v_j].
            weights = a / total * np.append(1.0, np.cumprod(b / total)[:-1])
        else:
            weights = np.asarray(self.weight_concentration_, dtype=np.float64)
        return weights / np.sum(weights)
