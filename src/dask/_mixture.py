"""Gaussian mixture on a dask array: each EM iteration one kernel pass per
block on the workers (``_kernels/_em.pyx``), the blocks' N_k, S1, S2 and
log-likelihood sums added in block order; the M-step, the repairs and the
lower bound are the in-memory estimator's own.
"""

import numpy as np
from dask import delayed
from sklearn.utils.validation import check_is_fitted

from .. import _mixture as _local
from .._gaussian import statistics_buffers
from .._kernels import _em
from .._kernels._em import COVARIANCE_TYPES
from .._mixture import _DataMoments
from .._state import restores_state
from .._threads import blas_single_threaded, effective_n_threads
from .._validation import StrOptions
from ._blocks import (
    BlockData,
    as_dask_array,
    compute,
    is_dask_collection,
    persist,
    shared,
    tree_sum,
)
from ._kmeans import KMeans

###############################################################################
# Per-block tasks


def _statistics_block(X, resp, labels, shift, covariance_type, n_components):
    """N, S1, S2 of a block about shift, for given responsibilities, labels
    or (both None) the whole block as one component."""
    nk, s1, s2 = statistics_buffers(n_components, X.shape[1], covariance_type)
    if X.shape[0]:
        if labels is not None:
            labels = np.ascontiguousarray(labels, dtype=np.intp)
        _em.responsibility_statistics(X, resp, labels, shift,
                                      COVARIANCE_TYPES[covariance_type], nk, s1, s2,
                                      effective_n_threads())
    return nk, s1, s2


def _em_block(X, model, covariance_type, n_components):
    """One E-step's statistics over a block: (N, S1, S2, sum log-norm,
    sum r log r)."""
    (means, prec, mean_prec, center, cov_type), log_const = model
    nk, s1, s2 = statistics_buffers(n_components, X.shape[1], covariance_type)
    if not X.shape[0]:
        return nk, s1, s2, 0.0, 0.0
    log_norm_sum, r_log_r = _em.em_pass(X, means, prec, mean_prec, center, log_const,
                                        cov_type, nk, s1, s2, effective_n_threads())
    return nk, s1, s2, float(log_norm_sum), float(r_log_r)


def _log_norm(X, model):
    (means, prec, mean_prec, center, cov_type), log_const = model
    log_norm = np.empty(X.shape[0], dtype=X.dtype)
    if X.shape[0]:
        _em.weighted_log_prob_pass(X, means, prec, mean_prec, center, log_const,
                                   cov_type, log_norm, None, None, effective_n_threads())
    return log_norm


def _worst_block(X, model, moments, n_worst, offset):
    """The block's n_worst samples of lowest badness (ties to the lower
    index): (global indices, badness, rows)."""
    if model is None:
        mean, variances = moments
        scale = np.where(variances > 0, variances, 1.0)
        badness = -(((X - mean) ** 2) / scale).sum(axis=1)
    else:
        badness = _log_norm(X, model)
    worst = np.argsort(badness, kind="stable")[:n_worst]
    return worst + offset, badness[worst], X[worst]


def _labels_block(X, model):
    (means, prec, mean_prec, center, cov_type), log_const = model
    labels = np.empty(X.shape[0], dtype=np.intp)
    if X.shape[0]:
        _em.weighted_log_prob_pass(X, means, prec, mean_prec, center, log_const,
                                   cov_type, None, labels, None, effective_n_threads())
    return labels


def _random_resp(n_samples, n_components, dtype, seed):
    resp = np.random.default_rng(seed).uniform(size=(n_samples, n_components))
    resp = resp.astype(dtype)
    resp /= resp.sum(axis=1)[:, np.newaxis]
    return resp


def _call_block(X, model, method):
    if not X.shape[0]:
        dtype = np.result_type(X.dtype, model.means_.dtype)
        return {"predict": np.empty(0, dtype=np.intp),
                "score_samples": np.empty(0, dtype=dtype),
                "predict_proba": np.empty((0, model.n_components), dtype=dtype)}[method]
    return getattr(model, method)(X)


###############################################################################
# The estimator


class GaussianMixture(_local.GaussianMixture):
    """Gaussian mixture fitted by EM on a dask array, on the workers.

    The parameters, attributes and results of
    :class:`turbocluster.GaussianMixture`, for samples in a
    ``dask.array.Array`` or a ``dask.dataframe.DataFrame`` of numeric
    columns (NumPy input works too). Each EM iteration is one kernel pass
    per block on the workers; X is never gathered on the client.

    Parameters
    ----------
    n_components, covariance_type, tol, reg_covar, max_iter, n_init, \
weights_init, means_init, precisions_init, random_state, warm_start, \
verbose, verbose_interval
        As :class:`turbocluster.GaussianMixture`.

    init_params : {'kmeans', 'random'}, default='kmeans'
        'kmeans': the responsibilities of a :class:`turbocluster.dask.KMeans`
        fit (k-means|| seeding, on the workers); 'random': random
        responsibilities, drawn on the workers from a generator seeded by
        (seed, block).

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_, \
converged_, n_iter_, lower_bound_, lower_bounds_, n_features_in_, \
feature_names_in_
        As :class:`turbocluster.GaussianMixture`.

    See Also
    --------
    turbocluster.GaussianMixture : The in-memory estimator; :meth:`to_local`
        gives it.

    Notes
    -----
    Cost on the workers: two passes for the data's moments, two for the
    initial estimates (after the k-means fit of ``init_params='kmeans'``),
    one per EM iteration and one for the labels of ``fit_predict``, each
    O(n_samples * n_components * n_features^2) for 'full'. Memory on the
    workers: X, persisted for the fit. On the client:
    O(n_components * n_features^2) per pass, independent of n_samples.

    From the same explicit initial parameters the result equals the
    in-memory estimator's to rounding: the statistics differ only by the
    order in which the blocks' float64 sums are added (a binary tree in
    block order, so the same bits for any number of workers).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from turbocluster.dask import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]],
    ...              dtype=float)
    >>> gm = GaussianMixture(n_components=2, random_state=0)
    >>> gm = gm.fit(da.from_array(X, chunks=3))
    >>> np.sort(gm.means_[:, 0])
    array([ 1., 10.])
    >>> labels = gm.predict(da.from_array(X, chunks=3)).compute()
    >>> bool(labels[0] == labels[2] != labels[3] == labels[5])
    True
    """

    _parameter_constraints: dict = {
        **_local.GaussianMixture._parameter_constraints,
        "init_params": [StrOptions({"kmeans", "random"})],
    }

    # -- fitting ---------------------------------------------------------------

    @restores_state
    def fit(self, X, y=None):
        """Estimate the model's parameters with EM on the workers.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)

        y : Ignored

        Returns
        -------
        self : object
        """
        self._fit_blocks(X)
        return self

    @restores_state
    def fit_predict(self, X, y=None):
        """Fit, then return the most probable component of each sample.

        Returns
        -------
        labels : dask.array.Array of shape (n_samples,), lazy
        """
        data, label_blocks = self._fit_blocks(X)
        return data.to_dask_array(label_blocks, np.intp)

    def _fit_blocks(self, X):
        self._validate_params()
        X, names = as_dask_array(X)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_features_in_ = X.shape[1]
        if X.shape[0] < 2:
            raise ValueError(
                f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                "minimum of 2 is required.")
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {X.shape[0]}")
        data = BlockData.from_dask_array(X)
        # EM reads X at every iteration: keep it on the workers for the fit.
        data = data.with_blocks(persist(*data.blocks))
        self._check_initial_parameters(data)
        with blas_single_threaded():
            label_blocks = self._fit(data, effective_n_threads())
        return data, label_blocks

    # -- the passes over the blocks (hooks of the in-memory EM loop) -----------

    def _reduce(self, tasks):
        return compute(tree_sum(tasks))[0]

    def _data_moments(self, X, n_threads):
        def statistics(center, kind):
            shift = shared(center)
            return self._reduce([delayed(_statistics_block)(x, None, None, shift, kind, 1)
                                 for x in X.blocks])

        return _DataMoments.__new__(_DataMoments)._from_statistics(
            statistics, X.shape[0], X.shape[1], X.dtype,
            self.covariance_type == "tied")

    def _statistics(self, X, resp, labels, shift, covariance_type, n_threads):
        shift = shared(shift)
        return self._reduce([
            delayed(_statistics_block)(x, None if resp is None else resp[b],
                                       None if labels is None else labels[b], shift,
                                       covariance_type, self.n_components)
            for b, x in enumerate(X.blocks)])

    def _em_statistics(self, X, kernel_model, log_const, n_threads):
        model = shared((kernel_model, log_const))
        return self._reduce([delayed(_em_block)(x, model, self.covariance_type,
                                                self.n_components)
                             for x in X.blocks])

    def _block_model(self, dtype):
        return self._kernel_model(dtype), self._log_weights_and_constants()

    def _worst_samples(self, X, n_worst, n_threads):
        model = None if n_threads is None else shared(self._block_model(X.dtype))
        moments = (self._moments.mean, self._moments.variances)
        parts = compute(*[delayed(_worst_block)(x, model, moments, n_worst,
                                                int(X.offsets[b]))
                          for b, x in enumerate(X.blocks)])
        index = np.concatenate([p[0] for p in parts])
        badness = np.concatenate([p[1] for p in parts])
        rows = np.concatenate([p[2] for p in parts])
        # A stable sort of all the samples' badness: ties to the lower index.
        order = np.lexsort((index, badness))[:n_worst]
        return index[order], rows[order]

    def _final_labels(self, X, n_threads):
        model = shared(self._block_model(X.dtype))
        return [delayed(_labels_block)(x, model) for x in X.blocks]

    def _initialize_parameters(self, X, random_state, n_threads):
        if (self._weights_init is not None and self._means_init is not None
                and self._precisions_init is not None):
            self._initialize(X, None)
            return
        resp = labels = None
        if self.init_params == "kmeans":
            kmeans = KMeans(n_clusters=self.n_components, n_init=1,
                            random_state=random_state)
            labels = kmeans._fit_blocks(X)[1]
        else:
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            resp = [delayed(_random_resp)(size, self.n_components, X.dtype, (seed, b))
                    for b, size in enumerate(X.sizes)]
        self._initialize(X, self._responsibility_estimates(X, resp, labels, n_threads))

    # -- prediction and conversion ----------------------------------------------

    def to_local(self):
        """The fitted model as an in-memory :class:`turbocluster.GaussianMixture`,
        with the same fitted attributes: it can be pickled and used without Dask.

        Returns
        -------
        mixture : turbocluster.GaussianMixture
        """
        check_is_fitted(self)
        params = self.get_params()
        local = _local.GaussianMixture(**params)
        if local.init_params not in ("kmeans", "random"):  # pragma: no cover
            local.init_params = "kmeans"
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("__"):
                setattr(local, name, value)
        return local

    def _predict_model(self):
        local = self.to_local()
        if hasattr(local, "feature_names_in_"):
            del local.feature_names_in_
        return local

    def _map(self, X, method, dtype, trailing):
        check_is_fitted(self)
        if not is_dask_collection(X):
            return getattr(self.to_local(), method)(X)
        X, _ = as_dask_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input.")
        dtype = np.result_type(X.dtype, self.means_.dtype) if dtype is None else dtype
        if trailing:
            return X.map_blocks(_call_block, self._predict_model(), method, dtype=dtype,
                                chunks=(X.chunks[0], (trailing,)),
                                meta=np.empty((0, 0), dtype=dtype))
        return X.map_blocks(_call_block, self._predict_model(), method, dtype=dtype,
                            drop_axis=1, meta=np.empty((0,), dtype=dtype))

    def score_samples(self, X):
        """Log-likelihood of each sample under the model.

        Returns
        -------
        log_prob : dask.array.Array of shape (n_samples,), lazy (an ndarray
            for NumPy input)
        """
        return self._map(X, "score_samples", None, 0)

    def score(self, X, y=None):
        """Mean log-likelihood of the samples (computed on the workers).

        Returns
        -------
        log_likelihood : float
        """
        samples = self.score_samples(X)
        if not is_dask_collection(samples):
            return float(np.mean(samples, dtype=np.float64))
        return float(samples.astype(np.float64).mean().compute())

    def predict(self, X):
        """The most probable component of each sample.

        Returns
        -------
        labels : dask.array.Array of shape (n_samples,), lazy (an ndarray for
            NumPy input)
        """
        return self._map(X, "predict", np.intp, 0)

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Returns
        -------
        resp : dask.array.Array of shape (n_samples, n_components), lazy (an
            ndarray for NumPy input)
        """
        return self._map(X, "predict_proba", None, self.n_components)

    def bic(self, X):
        """Bayesian information criterion of the model on X."""
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X):
        """Akaike information criterion of the model on X."""
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()
