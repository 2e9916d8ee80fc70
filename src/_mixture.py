"""GaussianMixture: expectation-maximisation on one fused kernel pass.

Each EM iteration is one pass over the samples (``_kernels/_em.pyx``): the
E-step's responsibilities of a chunk of samples are turned into that chunk's
M-step statistics at once and dropped, so no n_samples x n_components array
is stored. The estimator turns the statistics into weights, means and
covariances (``_gaussian.py``), checks convergence and keeps the best of
``n_init`` runs, as scikit-learn does.
"""

import warnings
from numbers import Integral, Real
from time import time

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._gaussian import (
    ILL_DEFINED_MESSAGE,
    check_means,
    check_precisions,
    check_weights,
    covariances_from_precisions,
    gaussian_estimates,
    kernel_arrays,
    log_gaussian_constant,
    precision_cholesky,
    precision_cholesky_from_precisions,
    precisions_from_cholesky,
    statistics_buffers,
)
from ._kernels import _em
from ._kernels._em import COVARIANCE_TYPES
from ._kmeans import KMeans, kmeans_plusplus
from ._state import restores_state
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import (
    Interval,
    StrOptions,
    validate_samples,
    warn_at_caller,
)

__all__ = ["GaussianMixture"]

OVERFLOW_MESSAGE = ("The mixture's log-likelihood is not finite: the data's scale "
                    "overflows its densities. Scale the input data.")


class _DataMoments:
    """The data's mean, per-feature variances and (for 'tied') its scatter
    about the mean: two kernel passes at the start of a fit."""

    def __init__(self, X, with_scatter, n_threads):
        def statistics(center, kind):
            nk, s1, s2 = statistics_buffers(1, X.shape[1], kind)
            _em.responsibility_statistics(X, None, None, center, COVARIANCE_TYPES[kind],
                                          nk, s1, s2, n_threads)
            return nk, s1, s2

        self._from_statistics(statistics, X.shape[0], X.shape[1], X.dtype, with_scatter)

    def _from_statistics(self, statistics, n_samples, n_features, dtype, with_scatter):
        """The moments from ``statistics(center, kind)``: N, S1 and S2 of the
        whole data about ``center[0]`` (responsibility_statistics without
        responsibilities), as one pass here or a reduction over blocks
        (``turbocluster.dask``) computes them."""
        _, s1, _ = statistics(np.zeros((1, n_features), dtype=dtype), "diag")
        mean = s1[0] / n_samples
        kind = "full" if with_scatter else "diag"
        center = mean.astype(dtype)[None]
        _, s1, s2 = statistics(center, kind)
        # About the float64 mean rather than its rounding to X's dtype.
        offset = s1[0] / n_samples
        self.mean = center[0].astype(np.float64) + offset
        if with_scatter:
            lower = np.tril(s2[0].reshape(n_features, n_features))
            scatter = lower + np.tril(lower, -1).T
            self.scatter = scatter - n_samples * np.outer(offset, offset)
            variances = np.diag(self.scatter) / n_samples
        else:
            self.scatter = None
            variances = s2[0] / n_samples - offset * offset
        self.variances = np.maximum(variances, 0.0)
        self.n_samples = n_samples
        return self


def _listed(items):
    """'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _repair_message(kind, seen, covariance_type):
    """The warning for the repairs of one kind: seen is a list of
    (component, times, largest jitter or the re-seeding sample's index)."""
    components = _listed(k for k, _, _ in seen)
    times = _listed(count for _, count, _ in seen)
    if kind == "jitter":
        jitter = max(value for _, _, value in seen)
        if covariance_type == "tied":
            what, its = "The covariance shared by all components ('tied') was", "its diagonal"
        elif len(seen) == 1:
            what, its = f"Component {components}'s covariance was", "its diagonal"
        else:
            what, its = f"The covariances of components {components} were", "their diagonals"
        return (f"{what} not positive definite ({times} time(s)); jitter of up to "
                f"{jitter:.3g} was added to {its}. Consider increasing reg_covar or "
                "scaling the data.")
    indices = _listed(value for _, _, value in seen)
    if len(seen) == 1:
        return (f"Component {components} collapsed (no sample gave it any responsibility; "
                f"{times} time(s)) and was re-seeded at the sample the model explained "
                f"worst (index {indices}).")
    return (f"Components {components} collapsed (no sample gave them any responsibility; "
            f"{times} time(s)) and were re-seeded at the samples the model explained "
            f"worst (indices {indices}).")


class _BaseGaussianMixture(DensityMixin, BaseEstimator):
    """The EM loop, initialisation and prediction shared by the mixtures.

    A subclass supplies the parameters' update from a pass's statistics
    (``_m_step``), the per-component constant of the log-densities
    (``_log_weights_and_constants``) and the lower bound.
    """

    # Whether a component that no sample gives any responsibility is moved
    # to a badly explained sample. A variational mixture leaves unused
    # components empty on purpose.
    _reseed_collapsed = True
    # Whether _estimates factors the empirical covariances (repairing or
    # re-seeding where that fails). A variational mixture factors its
    # posterior covariances instead, in its _m_step.
    _factor_estimates = True

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
    }

    # -- fitting -------------------------------------------------------------

    @restores_state
    def fit(self, X, y=None):
        """Estimate the model's parameters with the EM algorithm.

        Fits ``n_init`` times and keeps the run with the largest lower
        bound (the last one if none is larger). With ``warm_start=True``
        a fitted model continues from its parameters, once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples, float32 or float64 (other types become float64).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self.fit_predict(X, y)
        return self

    @restores_state
    def fit_predict(self, X, y=None):
        """Fit the model and return the most probable component of each sample.

        The labels are those of a final E-step with the fitted parameters,
        so ``fit_predict(X)`` equals ``fit(X).predict(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        self._validate_params()
        X = validate_samples(self, X, ensure_min_samples=2, order="C")
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {X.shape[0]}"
            )
        self._check_initial_parameters(X)
        n_threads = effective_n_threads()
        with blas_single_threaded():
            return self._fit(X, n_threads)

    def _fit(self, X, n_threads):
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        random_state = check_random_state(self.random_state)
        moments = self._data_moments(X, n_threads)
        if not np.all(np.isfinite(moments.variances)):
            # Squares of the samples overflow: no density is finite.
            raise ValueError(OVERFLOW_MESSAGE)
        self._moments = moments
        self._repairs = {}
        best = None
        self.converged_ = False
        for init in range(n_init):
            self._verbose_init_start(init)
            if do_init:
                self._initialize_parameters(X, random_state, n_threads)
            lower_bound = -np.inf if do_init else self.lower_bound_
            lower_bounds = []
            n_iter, converged = 0, False
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                lower_bound = self._em_iteration(X, n_threads)
                lower_bounds.append(lower_bound)
                change = lower_bound - previous
                self._verbose_iteration(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
            if self.max_iter > 0:
                self._verbose_init_end(lower_bound, converged)
            if best is None or lower_bound > best[0] or best[0] == -np.inf:
                best = (lower_bound, self._get_parameters(), n_iter, lower_bounds,
                        converged)
        lower_bound, parameters, n_iter, lower_bounds, converged = best
        self.converged_ = converged
        if not converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different "
                "init parameters, or increase max_iter, tol, or check for "
                "degenerate data.",
                ConvergenceWarning,
            )
        self._set_parameters(parameters)
        self.n_iter_ = n_iter
        self.lower_bound_ = lower_bound
        self.lower_bounds_ = lower_bounds
        self._warn_repairs()
        del self._moments, self._repairs
        return self._final_labels(X, n_threads)

    # -- the passes over X (turbocluster.dask overrides them for blocks) -------

    def _data_moments(self, X, n_threads):
        return _DataMoments(X, self.covariance_type == "tied", n_threads)

    def _final_labels(self, X, n_threads):
        labels = np.empty(X.shape[0], dtype=np.intp)
        self._pass(X, labels=labels, n_threads=n_threads)
        return labels

    def _statistics(self, X, resp, labels, shift, covariance_type, n_threads):
        """N, S1, S2 about shift of given responsibilities (or labels)."""
        nk, s1, s2 = statistics_buffers(self.n_components, X.shape[1], covariance_type)
        _em.responsibility_statistics(X, resp, labels, shift,
                                      COVARIANCE_TYPES[covariance_type], nk, s1, s2,
                                      n_threads)
        return nk, s1, s2

    def _em_statistics(self, X, kernel_model, log_const, n_threads):
        """One E-step's pass: (nk, s1, s2, sum of log-norms, sum of r log r)."""
        means, prec, mean_prec, center, cov_type = kernel_model
        nk, s1, s2 = statistics_buffers(self.n_components, X.shape[1],
                                        self.covariance_type)
        log_norm_sum, r_log_r = _em.em_pass(X, means, prec, mean_prec, center,
                                            log_const, cov_type, nk, s1, s2, n_threads)
        return nk, s1, s2, log_norm_sum, r_log_r

    def _worst_samples(self, X, n_worst, n_threads):
        """(indices, rows) of the n_worst samples the model explains worst
        (the lowest log-density; with no model yet, n_threads None, the
        farthest from the data's mean in standard deviations), ties to the
        lower index."""
        if n_threads is None:
            moments = self._moments
            scale = np.where(moments.variances > 0, moments.variances, 1.0)
            badness = -(((X - moments.mean) ** 2) / scale).sum(axis=1)
        else:
            badness = np.empty(X.shape[0], dtype=X.dtype)
            self._pass(X, log_norm=badness, n_threads=n_threads)
        worst = np.argsort(badness, kind="stable")[:n_worst]
        return worst, X[worst]

    def _initialize_parameters(self, X, random_state, n_threads):
        """Parameters from the first responsibilities that init_params gives."""
        n_samples = X.shape[0]
        k = self.n_components
        resp = labels = None
        if self.init_params == "kmeans":
            labels = KMeans(n_clusters=k, n_init=1,
                            random_state=random_state).fit(X).labels_
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n_samples, k)).astype(X.dtype)
            resp /= resp.sum(axis=1)[:, np.newaxis]
        elif self.init_params == "random_from_data":
            labels = np.full(n_samples, -1, dtype=np.intp)
            labels[random_state.choice(n_samples, size=k, replace=False)] = np.arange(k)
        else:
            _, indices = kmeans_plusplus(X, k, random_state=random_state)
            labels = np.full(n_samples, -1, dtype=np.intp)
            labels[indices] = np.arange(k)
        if labels is not None:
            labels = np.ascontiguousarray(labels, dtype=np.intp)
        self._initialize(X, self._responsibility_estimates(X, resp, labels, n_threads))

    def _responsibility_estimates(self, X, resp, labels, n_threads):
        """nk, means and covariances of given responsibilities: the means
        in one pass, then the rest about them in a second."""
        k, n_features = self.n_components, X.shape[1]
        zero = np.zeros((k, n_features), dtype=X.dtype)
        nk, s1, s2 = self._statistics(X, resp, labels, zero, "diag", n_threads)
        shift = (s1 / (nk + 10 * self._eps(X))[:, None]).astype(X.dtype)
        nk, s1, s2 = self._statistics(X, resp, labels, shift, self.covariance_type,
                                      n_threads)
        return self._estimates(X, nk, s1, s2, shift, initial=True)

    def _em_iteration(self, X, n_threads):
        """One E-step and M-step (one kernel pass); returns the lower bound."""
        kernel_model = self._kernel_model(X.dtype)
        means = kernel_model[0]
        nk, s1, s2, log_norm_sum, r_log_r = self._em_statistics(
            X, kernel_model, self._log_weights_and_constants(), n_threads)
        if not (np.isfinite(log_norm_sum) and np.all(np.isfinite(s1))):
            raise ValueError(OVERFLOW_MESSAGE)
        estimates = self._estimates(X, nk, s1, s2, means, n_threads)
        self._m_step(X, estimates)
        return self._lower_bound(log_norm_sum / X.shape[0], r_log_r, estimates)

    def _estimates(self, X, nk, s1, s2, shift, n_threads=None, initial=False):
        """(nk, means, covariances, factors) from a pass, every component
        repaired or re-seeded so that its covariance can be factored.
        initial: the statistics of given responsibilities (see
        gaussian_estimates for 'tied')."""
        n = nk
        scatter = None
        if initial and self.covariance_type == "tied":
            scatter = (self._moments.mean, self._moments.scatter,
                       self._moments.n_samples)
        nk, means, covariances = gaussian_estimates(
            nk, s1, s2, shift, self.covariance_type, self.reg_covar, self._eps(X),
            scatter=scatter)
        if not self._factor_estimates:
            return nk, means, covariances, None
        factors, repairs = self._factor(covariances, X.dtype)
        collapsed = [k for k in range(self.n_components)
                     if (self._reseed_collapsed and n[k] < 10 * self._eps(X))
                     or (self.covariance_type != "tied" and factors[k] is None)]
        if self.covariance_type == "tied" and factors is None:
            raise ValueError(ILL_DEFINED_MESSAGE)
        if collapsed:
            self._reseed(X, collapsed, nk, means, covariances, n_threads)
            factors, more = self._factor(covariances, X.dtype)
            repairs.update(more)
            if any(factor is None for factor in factors):
                raise ValueError(ILL_DEFINED_MESSAGE)
        self._record_repairs(repairs)
        if self.covariance_type in ("full", "diag"):
            factors = np.stack(factors)
        elif self.covariance_type == "spherical":
            factors = np.asarray(factors, dtype=np.float64)
        return nk, means, covariances, factors

    def _record_repairs(self, repairs):
        """Count each component's repairs and keep its largest jitter, for
        the warnings at the end of the fit."""
        for k, jitter in repairs.items():
            seen = self._repairs.setdefault(("jitter", k), [0, 0.0])
            seen[0] += 1
            seen[1] = max(seen[1], jitter)

    def _factor(self, covariances, dtype):
        # Variances at the rounding noise of the float64 statistics count as
        # zero; the jitter starts at reg_covar or that noise level.
        scale = float(np.mean(self._moments.variances)) or 1.0
        floor = 10 * np.finfo(np.float64).eps * scale
        start = max(self.reg_covar, floor)
        return precision_cholesky(covariances, self.covariance_type, start,
                                  max(scale, start), floor, dtype)

    def _reseed(self, X, collapsed, nk, means, covariances, n_threads):
        """Move each collapsed component to one of the samples the current
        model explains worst, with the data's variances and one sample's
        weight."""
        # No model yet (initialisation, n_threads None): the samples farthest
        # from the data's mean, in units of its standard deviations.
        worst, rows = self._worst_samples(X, len(collapsed), n_threads)
        variances = self._moments.variances + self.reg_covar
        for k, index, row in zip(collapsed, worst, rows):
            means[k] = row
            nk[k] = 1.0
            if self.covariance_type == "full":
                covariances[k] = np.diag(variances)
            elif self.covariance_type == "diag":
                covariances[k] = variances
            elif self.covariance_type == "spherical":
                covariances[k] = variances.mean()
            seen = self._repairs.setdefault(("reseed", k), [0, 0])
            seen[0] += 1
            seen[1] = int(index)

    def _warn_repairs(self):
        """One warning per kind of repair, naming every component it touched:
        a warning per component would be a storm on data with fewer distinct
        samples than components."""
        for kind in ("jitter", "reseed"):
            seen = sorted((k, count, value) for (what, k), (count, value)
                          in self._repairs.items() if what == kind)
            if seen:
                warn_at_caller(_repair_message(kind, seen, self.covariance_type),
                               UserWarning)

    @staticmethod
    def _eps(X):
        # float64's, for float32 data too: see gaussian_estimates.
        return float(np.finfo(np.float64).eps)

    # -- the kernel's view of the model ---------------------------------------

    def _kernel_model(self, dtype):
        return kernel_arrays(self.weights_, self.means_, self.precisions_cholesky_,
                             self.covariance_type, dtype)

    def _pass(self, X, *, log_norm=None, labels=None, resp=None, n_threads=None):
        n_threads = effective_n_threads() if n_threads is None else n_threads
        means, prec, mean_prec, center, cov_type = self._kernel_model(X.dtype)
        _em.weighted_log_prob_pass(X, means, prec, mean_prec, center,
                                   self._log_weights_and_constants(), cov_type,
                                   log_norm, labels, resp, n_threads)

    def _check_test_data(self, X):
        check_is_fitted(self)
        # scikit-learn validates these with dtype='numeric': numeric strings
        # are rejected here though fit converts them.
        X = validate_samples(self, X, reset=False, accept_strings=False, order="C")
        # A float32 model scores float64 data in float64, as NumPy would.
        dtype = np.result_type(X.dtype, self.means_.dtype)
        return np.ascontiguousarray(X, dtype=dtype)

    # -- prediction ----------------------------------------------------------

    def score_samples(self, X):
        """Log-likelihood of each sample under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Log of the mixture's density at each sample.
        """
        X = self._check_test_data(X)
        log_norm = np.empty(X.shape[0], dtype=X.dtype)
        self._pass(X, log_norm=log_norm)
        return log_norm

    def score(self, X, y=None):
        """Mean log-likelihood of the samples under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
        """
        return float(np.mean(self.score_samples(X), dtype=np.float64))

    def predict(self, X):
        """The most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        X = self._check_test_data(X)
        labels = np.empty(X.shape[0], dtype=np.intp)
        self._pass(X, labels=labels)
        return labels

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        X = self._check_test_data(X)
        resp = np.empty((X.shape[0], self.n_components), dtype=X.dtype)
        self._pass(X, resp=resp)
        return resp

    def sample(self, n_samples=1):
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, in the dtype of the fitted means (scikit-learn
            returns float64 also for a float32 model).

        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples} . The sampling "
                "requires at least one sample."
            )
        n_features = self.means_.shape[1]
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        means = self.means_.astype(np.float64)
        covariances = np.asarray(self.covariances_, dtype=np.float64)
        parts = []
        for k, count in enumerate(counts):
            if self.covariance_type == "full":
                parts.append(rng.multivariate_normal(means[k], covariances[k], int(count)))
            elif self.covariance_type == "tied":
                parts.append(rng.multivariate_normal(means[k], covariances, int(count)))
            else:
                parts.append(means[k] + rng.standard_normal(size=(count, n_features))
                             * np.sqrt(covariances[k]))
        X = np.vstack(parts).astype(self.means_.dtype, copy=False)
        y = np.concatenate([np.full(count, k, dtype=np.int64)
                            for k, count in enumerate(counts)])
        return X, y

    # -- verbose output --------------------------------------------------------

    def _verbose_init_start(self, init):
        if self.verbose >= 1:
            print(f"Initialization {init}")
        if self.verbose >= 2:
            self._init_prev_time = self._iter_prev_time = time()

    def _verbose_iteration(self, n_iter, change):
        if n_iter % self.verbose_interval:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        elif self.verbose >= 2:
            now = time()
            print(f"  Iteration {n_iter}\t time lapse {now - self._iter_prev_time:.5f}s"
                  f"\t ll change {change:.5f}")
            self._iter_prev_time = now

    def _verbose_init_end(self, lower_bound, converged):
        status = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {status}.")
        elif self.verbose >= 2:
            print(f"Initialization {status}. time lapse "
                  f"{time() - self._init_prev_time:.5f}s\t lower bound {lower_bound:.5f}.")


class GaussianMixture(_BaseGaussianMixture):
    """Gaussian mixture model, fitted by expectation-maximisation.

    A drop-in replacement for :class:`sklearn.mixture.GaussianMixture`:
    the same parameters, attributes and results, from a kernel that runs
    each EM iteration as one parallel pass over the samples.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': each component has its own covariance matrix; 'tied': all
        components share one; 'diag': each has its own diagonal covariance;
        'spherical': each has its own single variance.

    tol : float, default=1e-3
        Convergence threshold: EM stops when the lower bound (the mean
        log-likelihood) gains less than this.

    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, so that it stays positive.

    max_iter : int, default=100
        The number of EM iterations to perform.

    n_init : int, default=1
        The number of initialisations; the best result is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the first responsibilities are chosen: KMeans labels,
        k-means++ seeds, random responsibilities, or random samples as
        seeds. 'kmeans' and 'k-means++' use turbocluster's KMeans and
        kmeans_plusplus, which draw as scikit-learn's do.

    weights_init : array-like of shape (n_components,), default=None
        The user-provided initial weights.

    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.

    precisions_init : array-like, default=None
        The user-provided initial precisions (inverse covariances), of shape
        (n_components,) for 'spherical', (n_features, n_features) for 'tied',
        (n_components, n_features) for 'diag' and (n_components, n_features,
        n_features) for 'full'.

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
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Its shape depends on ``covariance_type``, as for ``precisions_init``.
    precisions_ : ndarray
        The inverses of the covariances.
    precisions_cholesky_ : ndarray
        Upper-triangular factors P with P P^T the precision (the square root
        of the precisions for 'diag' and 'spherical').
    converged_ : bool
        Whether the best run converged.
    n_iter_ : int
        Iterations of the best run.
    lower_bound_ : float
        Mean log-likelihood of the training data at the best run's last
        E-step.
    lower_bounds_ : list of float
        The lower bound at each iteration of the best run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    BayesianGaussianMixture : The variational Bayesian mixture.
    GaussianMixtureAnomalyDetector : Outliers as samples of low density.

    Notes
    -----
    Each iteration is one pass over the samples: the log-densities of a
    chunk of 256 samples ('full': products with the triangle of each
    precision factor, or one GEMM against all of them above 24 features),
    their responsibilities, and the chunk's sums N_k, sum r (x - mu_k) and
    sum r (x - mu_k)(x - mu_k)^T, added in float64 (also for float32 data)
    in chunk order. Time per iteration O(n_samples n_components
    n_features^2) for 'full' and 'tied', O(n_samples n_components
    n_features) otherwise; memory O(n_samples n_features) for the data and
    O(n_components n_features^2) per reduction group, never an n_samples x
    n_components array during ``fit``.

    Differences from scikit-learn, on purpose:

    - float32 data is fitted in float32 with float64 statistics, and the
      covariances are taken about the current means, so no variance is ever
      negative (scikit-learn's float32 diagonal formula can be).
    - Results do not depend on the number of threads.
    - Responsibilities below 2^-60 are left out of the statistics (they
      change a total by less than n_samples * 2^-60).
    - Where scikit-learn stops with "ill-defined empirical covariance", a
      covariance that is not positive definite gets jitter on its diagonal
      (from ``reg_covar`` or 1e-15 of the data's mean variance upward, ten
      times more each try, up to that variance), and a component that no
      sample gives any responsibility is re-seeded at the sample the model
      explains worst, with the data's variances. Both warn (UserWarning) once
      per fit and component, naming it and the jitter. A ValueError is raised
      only where no fit is possible: a tied covariance that no jitter
      repairs, or densities that overflow.
    - :meth:`sample` returns the dtype of the fitted means.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        **_BaseGaussianMixture._parameter_constraints,
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
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
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    def _check_initial_parameters(self, X):
        """The user's initial parameters, checked, kept privately (the public
        ones stay as given, for clone and get_params)."""
        n_features = X.shape[1]
        self._weights_init = self._means_init = self._precisions_init = None
        if self.weights_init is not None:
            self._weights_init = check_weights(self.weights_init, self.n_components)
        if self.means_init is not None:
            self._means_init = check_means(self.means_init, self.n_components, n_features)
        if self.precisions_init is not None:
            self._precisions_init = check_precisions(
                self.precisions_init, self.covariance_type, self.n_components, n_features)

    def _initialize_parameters(self, X, random_state, n_threads):
        if (self._weights_init is None or self._means_init is None
                or self._precisions_init is None):
            super()._initialize_parameters(X, random_state, n_threads)
        else:
            self._initialize(X, None)

    def _initialize(self, X, estimates):
        dtype = X.dtype
        if estimates is not None:
            nk, means, covariances, factors = estimates
            weights = nk / X.shape[0]
        if self._weights_init is not None:
            weights = self._weights_init
        self.weights_ = np.asarray(weights, dtype=dtype)
        self.means_ = np.asarray(means if self._means_init is None else self._means_init,
                                 dtype=dtype)
        if self._precisions_init is None:
            self.covariances_ = np.asarray(covariances, dtype=dtype)
            self.precisions_cholesky_ = np.asarray(factors, dtype=dtype)
        else:
            precisions = np.asarray(self._precisions_init, dtype=np.float64)
            self.covariances_ = covariances_from_precisions(
                precisions, self.covariance_type).astype(dtype)
            self.precisions_cholesky_ = precision_cholesky_from_precisions(
                precisions, self.covariance_type).astype(dtype)

    def _m_step(self, X, estimates):
        nk, means, covariances, factors = estimates
        dtype = X.dtype
        self.weights_ = (nk / nk.sum()).astype(dtype)
        self.means_ = means.astype(dtype)
        self.covariances_ = covariances.astype(dtype)
        self.precisions_cholesky_ = np.asarray(factors, dtype=dtype)

    def _log_weights_and_constants(self):
        with np.errstate(divide="ignore"):
            log_weights = np.log(np.asarray(self.weights_, dtype=np.float64))
        constant = log_gaussian_constant(self.precisions_cholesky_, self.covariance_type,
                                         self.means_.shape[1])
        return np.ascontiguousarray(log_weights + constant, dtype=np.float64)

    def _lower_bound(self, mean_log_norm, r_log_r, estimates):
        return float(mean_log_norm)

    def _get_parameters(self):
        return (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)

    def _set_parameters(self, parameters):
        (self.weights_, self.means_, self.covariances_,
         self.precisions_cholesky_) = parameters
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type)

    def _n_parameters(self):
        """The number of free parameters of the model."""
        n_features = self.means_.shape[1]
        k = self.n_components
        covariance = {
            "full": k * n_features * (n_features + 1) / 2.0,
            "diag": k * n_features,
            "tied": n_features * (n_features + 1) / 2.0,
            "spherical": k,
        }[self.covariance_type]
        return int(covariance + n_features * k + k - 1)

    def bic(self, X):
        """Bayesian information criterion of the model on X (lower is better).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)

        Returns
        -------
        bic : float
        """
        return (-2 * self.score(X) * X.shape[0]
                + self._n_parameters() * np.log(X.shape[0]))

    def aic(self, X):
        """Akaike information criterion of the model on X (lower is better).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)

        Returns
        -------
        aic : float
        """
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()
