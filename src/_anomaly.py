"""Anomaly detection by the density of a Gaussian mixture.

A sample is an outlier when the fitted mixture gives it a lower density than
a threshold: the recipe users write by hand today (fit a mixture, flag the
samples below a low percentile of the training log-densities), with
scikit-learn's outlier-detector API.
"""

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils.validation import check_is_fitted

from ._mixture import GaussianMixture
from ._state import restores_state
from ._validation import Interval, StrOptions

__all__ = ["GaussianMixtureAnomalyDetector"]

# contamination='auto': the recipe's threshold, the 4th percentile of the
# training log-densities.
_AUTO_CONTAMINATION = 0.04


class GaussianMixtureAnomalyDetector(OutlierMixin, GaussianMixture):
    """Outlier detection by the density of a fitted Gaussian mixture.

    Fits a :class:`GaussianMixture` and flags as outliers (-1) the samples
    whose log-density falls below a threshold, the others being inliers
    (+1). The threshold is the ``contamination`` quantile of the training
    samples' log-densities, so that this fraction of the training set is
    flagged; ``contamination='auto'`` takes the 4th percentile, the usual
    recipe for this detector.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    contamination : 'auto' or float in (0, 0.5], default='auto'
        The expected fraction of outliers in the training set; 'auto' is
        0.04.

    covariance_type, tol, reg_covar, max_iter, n_init, init_params, \
weights_init, means_init, precisions_init, random_state, warm_start, \
verbose, verbose_interval
        As in :class:`GaussianMixture`.

    Attributes
    ----------
    offset_ : float
        The log-density threshold: ``decision_function(X) = score_samples(X)
        - offset_``, negative for outliers.

    weights_, means_, covariances_, precisions_, precisions_cholesky_, \
converged_, n_iter_, lower_bound_, lower_bounds_, n_features_in_, \
feature_names_in_
        The fitted mixture's, as in :class:`GaussianMixture`.

    See Also
    --------
    GaussianMixture : The mixture whose density is thresholded.
    sklearn.ensemble.IsolationForest : Outliers by random partitions.

    Notes
    -----
    ``fit`` costs a GaussianMixture fit plus one pass over the training
    samples for the threshold.
    ``predict``, ``decision_function`` and ``score_samples`` are one
    parallel pass each. The mixture's own methods (``predict_proba``,
    ``sample``, ``bic``, ...) stay available; ``predict`` and
    ``fit_predict`` return the +1/-1 flags instead of component labels.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import GaussianMixtureAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)), [[8.0, 8.0], [-9.0, 7.0]]])
    >>> detector = GaussianMixtureAnomalyDetector(contamination=0.01,
    ...                                           random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0], [8.0, 8.0]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **GaussianMixture._parameter_constraints,
        "contamination": [StrOptions({"auto"}), Interval(Real, 0.0, 0.5, closed="right")],
    }

    def __init__(
        self,
        n_components=1,
        *,
        contamination="auto",
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
        super().__init__(
            n_components=n_components,
            covariance_type=covariance_type,
            tol=tol,
            reg_covar=reg_covar,
            max_iter=max_iter,
            n_init=n_init,
            init_params=init_params,
            weights_init=weights_init,
            means_init=means_init,
            precisions_init=precisions_init,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
        )
        self.contamination = contamination

    @restores_state
    def fit(self, X, y=None):
        """Fit the mixture and set the log-density threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted detector.
        """
        self._fit_flags(X)
        return self

    @restores_state
    def fit_predict(self, X, y=None):
        """Fit the detector and flag the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        flags : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.
        """
        return self._fit_flags(X)

    def _fit_flags(self, X):
        # The mixture's fit (OutlierMixin.fit_predict comes first in the MRO),
        # which sets offset_ and the training flags in _fit.
        GaussianMixture.fit_predict(self, X)
        flags = self._training_flags
        del self._training_flags
        return flags

    def _fit(self, X, n_threads):
        labels = super()._fit(X, n_threads)
        # The training samples as fit validated them: numeric strings, which
        # fit converts (and the predictions reject, as scikit-learn's do),
        # are scored as converted, and X is not validated twice.
        log_density = np.empty(X.shape[0], dtype=X.dtype)
        self._pass(X, log_norm=log_density, n_threads=n_threads)
        fraction = _AUTO_CONTAMINATION if self.contamination == "auto" else (
            self.contamination)
        self.offset_ = float(np.percentile(log_density, 100.0 * fraction))
        self._training_flags = self._flags(log_density)
        return labels

    def _flags(self, log_density):
        flags = np.ones(log_density.shape[0], dtype=int)
        flags[log_density - self.offset_ < 0] = -1
        return flags

    def decision_function(self, X):
        """Log-density less the threshold: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "offset_")
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Flag each sample: +1 for an inlier, -1 for an outlier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        flags : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "offset_")
        return self._flags(self.score_samples(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "outlier_detector"
        return tags
