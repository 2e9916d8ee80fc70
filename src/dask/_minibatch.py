"""MiniBatchKMeans on a dask array: the batches are drawn from the blocks on
the workers and only they come to the client, where the in-memory
estimator's own steps (``_minibatch.py``) move the centers.

The batches of several steps are fetched at once. Random numbers are drawn
from the one ``random_state`` in the order the in-memory estimator draws
them; a step that draws more (a reassignment) ends the prefetched run, which
is then fetched again from there. From the same initial centers the steps are
the in-memory estimator's.
"""

import numpy as np
from dask import delayed
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _minibatch as _local
from .._kernels import _minibatch
from .._state import restores_state, restores_state_in_place
from .._threads import blas_single_threaded, effective_n_threads
from ._blocks import compute, is_dask_collection, persist, shared, tree_sum
from ._kmeans import KMeans, _block_sums, _center_block, _final_block

# Most bytes of prefetched batch rows the client holds at once.
_PREFETCH_BYTES = 64 << 20


def _draw_block(X, sample_weight, uniforms):
    """Rows of a block drawn with probability proportional to their weight,
    one per uniform number in [0, 1) (_kernels/_minibatch.pyx)."""
    n_samples = X.shape[0]
    weights = (np.ones(n_samples) if sample_weight is None
               else sample_weight.astype(np.float64))
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    guide = np.empty(n_samples, dtype=np.intp)
    _minibatch.guide_table(cdf, guide)
    indices = np.empty(uniforms.shape[0], dtype=np.intp)
    rows = np.empty((uniforms.shape[0], X.shape[1]), dtype=X.dtype)
    _minibatch.draw_rows(np.ascontiguousarray(X), cdf, guide, uniforms, indices, rows,
                         effective_n_threads())
    return rows


def _take_block(X, indices):
    return X[indices]


class MiniBatchKMeans(_local.MiniBatchKMeans):
    """Mini-batch k-means of a dask array.

    The parameters, attributes and results of
    :class:`turbocluster.MiniBatchKMeans`, for samples in a
    ``dask.array.Array`` or a ``dask.dataframe.DataFrame`` of numeric
    columns (NumPy input works too). The workers draw the batches from their
    blocks and compute the final labels and inertia; the client receives the
    batches only (a bounded number of bytes at a time) and runs the steps.

    Parameters
    ----------
    n_clusters, init, max_iter, batch_size, verbose, compute_labels, \
random_state, tol, max_no_improvement, init_size, n_init, reassignment_ratio
        As :class:`turbocluster.MiniBatchKMeans`.

    Attributes
    ----------
    labels_ : dask.array.Array of shape (n_samples,)
        With ``compute_labels=True``: the cluster of each training sample,
        persisted on the workers.

    cluster_centers_, inertia_, n_iter_, n_steps_, n_features_in_, \
feature_names_in_
        As :class:`turbocluster.MiniBatchKMeans`.

    See Also
    --------
    turbocluster.MiniBatchKMeans : The in-memory estimator; :meth:`to_local`
        gives it.

    Notes
    -----
    The random numbers are those of the in-memory estimator, in the same
    order, and a batch draw looks its uniform number up in the blocks'
    cumulative weights (first the block, then the row on its worker): the
    same samples, but at a rounding tie of the cumulative sums. Prefetched
    batches are at most 64 MiB on the client.

    Cost: the in-memory estimator's steps on the client (O(batch_size *
    n_clusters * n_features) each), one task per block per fetch, a pass for
    the tolerance if ``tol > 0`` and a pass for the labels if
    ``compute_labels``.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from turbocluster.dask import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = MiniBatchKMeans(n_clusters=2, batch_size=6, n_init=3,
    ...                      random_state=0).fit(da.from_array(X, chunks=3))
    >>> np.sort(km.cluster_centers_[:, 0]).round(1)
    array([ 1., 10.])
    """

    @restores_state
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centers on the workers' blocks, one batch at a time.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)

        y : Ignored

        sample_weight : dask array or array-like of shape (n_samples,), \
                default=None

        Returns
        -------
        self : object
        """
        self._validate_params()
        data = KMeans._block_data(self, X, sample_weight)
        data = data.with_blocks(persist(*data.blocks))
        n_samples = data.shape[0]
        batch_size, init_size = self._resolve_sizes(n_samples)
        self._batch_size, self._init_size = batch_size, init_size
        n_init = self._n_init = self._resolve_n_init()
        sums = [delayed(_block_sums, nout=2)(x, data.weight(b))
                for b, x in enumerate(data.blocks)]
        (column_sums, _), block_weights = compute(tree_sum(sums), [s[1] for s in sums])
        if not np.all(np.isfinite(column_sums)):
            raise ValueError("Input X contains NaN or infinity.")
        block_weights = np.asarray(block_weights, dtype=np.float64)
        self._tol = 0.0
        if self.tol:
            mean = shared((column_sums / n_samples).astype(data.dtype))
            total = compute(tree_sum([delayed(_center_block, nout=2)(x, mean, False)[1]
                                      for x in data.blocks]))[0]
            self._tol = total / (n_samples * data.shape[1]) * self.tol
        random_state = check_random_state(self.random_state)
        n_threads = effective_n_threads()
        init = self._checked_init(data)

        with blas_single_threaded():
            # The in-memory estimator's draws: validation samples, then each
            # run's init_size samples.
            valid = random_state.randint(0, n_samples, init_size)
            X_valid, w_valid = self._take(data, valid)
            best_inertia = None
            for run in range(n_init):
                if self.verbose:
                    print(f"Init {run + 1}/{n_init} with method {init}")
                if init_size < n_samples:
                    subset = random_state.randint(0, n_samples, init_size)
                    X_init, w_init = self._take(data, subset)
                else:
                    X_init, w_init = self._take(data, np.arange(n_samples))
                candidate, _ = self._initial_centers(X_init, init, random_state, w_init,
                                                     n_threads, None)
                _, inertia = self._labels_inertia(X_valid, w_valid, candidate)
                if best_inertia is None or inertia < best_inertia:
                    centers, best_inertia = candidate, inertia

            self._counts = np.zeros(self.n_clusters, dtype=data.dtype)
            self._ewa_inertia = self._ewa_inertia_min = None
            self._no_improvement = self._n_since_last_reassign = 0
            n_steps = (self.max_iter * n_samples) // batch_size
            unit_weights = np.ones(batch_size, dtype=data.dtype)
            max_prefetch = max(1, _PREFETCH_BYTES
                               // (batch_size * data.shape[1] * data.dtype.itemsize))
            n_prefetch, prefetched, step, stop = 1, [], 0, False
            while step < n_steps and not stop:
                if not prefetched:
                    prefetched = self._fetch_batches(
                        data, block_weights, random_state,
                        min(n_prefetch, n_steps - step), batch_size)
                    n_prefetch = min(2 * n_prefetch, max_prefetch)
                state = random_state.get_state()
                uniforms, X_batch = prefetched.pop(0)
                if not np.array_equal(random_state.random_sample(batch_size), uniforms):
                    # A reassignment drew random numbers since the fetch:
                    # fetch again from here.
                    random_state.set_state(state)
                    prefetched, n_prefetch = [], 1
                    continue
                before = centers.copy() if self._tol > 0 else None
                inertia = self._step(X_batch, unit_weights, centers, random_state,
                                     self._reassign_now(batch_size), n_threads)
                move = float(np.sum((centers - before) ** 2)) if before is not None else 0
                stop = self._converged(step, n_steps, n_samples, batch_size, move, inertia)
                step += 1

            self.cluster_centers_ = centers
            self._n_features_out = centers.shape[0]
            self.n_steps_ = max(step, 1)
            self.n_iter_ = int(np.ceil(self.n_steps_ * batch_size / n_samples))
            if self.compute_labels:
                shared_centers = shared(centers)
                final = persist(*[delayed(_final_block, nout=2)(
                    x, data.weight(b), None, shared_centers, True)
                    for b, x in enumerate(data.blocks)])
                self.inertia_ = float(compute(tree_sum([f[1] for f in final]))[0][0])
                self.labels_ = data.to_dask_array([f[0] for f in final], np.int32).persist()
            else:
                self.inertia_ = self._ewa_inertia * float(block_weights.sum())
        return self

    def _take(self, data, indices):
        """Rows (and weights) of X at global indices, in their order."""
        block = np.searchsorted(data.offsets, indices, side="right") - 1
        parts, weights = [], []
        for b in np.unique(block):
            local = indices[block == b] - data.offsets[b]
            parts.append(delayed(_take_block)(data.blocks[b], local))
            if data.weights is not None:
                weights.append(delayed(_take_block)(data.weights[b], local))
        parts, weights = compute(parts, weights)
        order = np.argsort(block, kind="stable")
        rows = np.empty((indices.shape[0], data.shape[1]), dtype=data.dtype)
        rows[order] = np.concatenate(parts)
        w = np.ones(indices.shape[0], dtype=data.dtype)
        if data.weights is not None:
            w[order] = np.concatenate(weights)
        return rows, w

    def _fetch_batches(self, data, block_weights, random_state, n_batches, batch_size):
        """(uniforms, rows) of the next n_batches steps, drawn on the
        workers; random_state is left where it was."""
        state = random_state.get_state()
        uniforms = random_state.random_sample((n_batches, batch_size))
        random_state.set_state(state)
        flat = uniforms.ravel()
        bounds = np.cumsum(block_weights) / block_weights.sum()
        block = np.minimum(np.searchsorted(bounds, flat, side="right"), data.n_blocks - 1)
        while np.any(block_weights[block] == 0):
            block = np.where(block_weights[block] == 0, block - 1, block)
        starts = np.concatenate(([0.0], bounds[:-1]))
        parts = []
        present = np.unique(block)
        for b in present:
            mine = flat[block == b]
            local = np.clip((mine - starts[b]) / (bounds[b] - starts[b]), 0.0,
                            np.nextafter(1.0, 0.0))
            parts.append(delayed(_draw_block)(data.blocks[b], data.weight(b), local))
        parts = compute(*parts)
        order = np.argsort(block, kind="stable")
        rows = np.empty((flat.shape[0], data.shape[1]), dtype=data.dtype)
        rows[order] = np.concatenate(parts)
        rows = rows.reshape(n_batches, batch_size, data.shape[1])
        return [(uniforms[i], rows[i]) for i in range(n_batches)]

    @restores_state_in_place
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centers with one batch: X, gathered on the client (it
        is one batch)."""
        if is_dask_collection(X):
            X = X.compute()
        if sample_weight is not None and is_dask_collection(sample_weight):
            sample_weight = sample_weight.compute()
        return super().partial_fit(X, sample_weight=sample_weight)

    def to_local(self, *, with_labels=True):
        """The fitted model as an in-memory :class:`turbocluster.MiniBatchKMeans`
        with the same fitted attributes (``labels_`` computed into NumPy if
        with_labels).

        Returns
        -------
        kmeans : turbocluster.MiniBatchKMeans
        """
        check_is_fitted(self)
        local = _local.MiniBatchKMeans(**self.get_params())
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("__") and name != "labels_":
                setattr(local, name, value)
        for name in ("_n_features_out", "_n_init", "_batch_size", "_init_size",
                     "_counts", "_tol"):
            if hasattr(self, name):
                setattr(local, name, getattr(self, name))
        if with_labels and hasattr(self, "labels_"):
            local.labels_ = np.asarray(self.labels_.compute())
        return local

    _block_model = KMeans._block_model
    _dask_input = KMeans._dask_input
    predict = KMeans.predict
    transform = KMeans.transform
    score = KMeans.score

    @restores_state
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)
            Training samples.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        labels : dask.array.Array of shape (n_samples,)
            Cluster of each sample, persisted on the workers.
        """
        return self.fit(X, sample_weight=sample_weight).labels_
