"""K-means on a dask array: Lloyd's iterations and k-means|| seeding, each
pass over the samples one kernel call per block on the workers.

The client holds only what does not grow with n_samples: the centers, the
candidates of k-means||, and per-cluster float64 sums. The per-sample state
of Lloyd's loop (labels and the two bounds of ``_kernels/_lloyd.pyx``) stays
on the workers, one persisted array per block, from one iteration to the next.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from dask import delayed
from scipy.spatial.distance import cdist
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _kmeans as _local
from .._kernels import _assign, _center, _em, _lloyd
from .._kernels._em import COVARIANCE_TYPES
from .._kmeans_loops import (
    _assign_labels,
    _center_shift,
    _nearest_half_dists,
    _sq_norms,
    _update_centers,
)
from .._state import restores_state
from .._threads import blas_single_threaded, effective_n_threads
from .._validation import Interval, StrOptions, is_array_like, warn_at_caller
from ._blocks import (
    BlockData,
    as_dask_array,
    compute,
    is_dask_collection,
    persist,
    shared,
    tree_sum,
)

###############################################################################
# Per-block tasks (run on the workers; each is one kernel call or two)


def _ones(n_samples, dtype):
    return np.ones(n_samples, dtype=dtype)


def _block_sums(X, sample_weight):
    """(column sums in float64, total weight, non-finite flag) of a block."""
    n_features = X.shape[1]
    s1 = np.zeros((1, n_features))
    if X.shape[0]:
        nk, s2 = np.zeros(1), np.zeros((1, n_features))
        _em.responsibility_statistics(X, None, None, np.zeros((1, n_features), X.dtype),
                                      COVARIANCE_TYPES["diag"], nk, s1, s2,
                                      effective_n_threads())
    weight = float(X.shape[0] if sample_weight is None
                   else np.sum(sample_weight, dtype=np.float64))
    if sample_weight is not None and X.shape[0] and (
            not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0)):
        raise ValueError("sample_weight must be non-negative and finite.")
    return s1[0], weight


def _center_block(X, mean, keep):
    """X - mean (if keep), and the sum of the squared norms of its rows."""
    out = np.empty(X.shape, dtype=X.dtype)
    sq_norms = np.empty(X.shape[0], dtype=X.dtype)
    if X.shape[0]:
        _center.center_rows(np.ascontiguousarray(X), mean, out, sq_norms,
                            effective_n_threads())
    total = float(np.sum(sq_norms, dtype=np.float64))
    return (out if keep else None), total


def _lloyd_block(X, sample_weight, state, model):
    """One Lloyd pass over a block: its new state (labels, bounds) and its
    statistics (cluster sums, cluster weights, labels changed)."""
    centers, sq_norms, half_dists, shift, max_drift = model
    n_samples = X.shape[0]
    n_clusters, n_features = centers.shape
    if state is None:
        labels = np.full(n_samples, -1, dtype=np.int32)
        upper = np.full(n_samples, np.inf, dtype=X.dtype)
        second = np.zeros(n_samples, dtype=X.dtype)
    else:
        # Tasks never write to their inputs: a lost result is recomputed
        # from the same inputs.
        labels, upper, second = (a.copy() for a in state)
    sums = np.zeros((n_clusters, n_features))
    weights = np.zeros(n_clusters)
    n_changed = 0
    if n_samples:
        if sample_weight is None:
            sample_weight = np.ones(n_samples, dtype=X.dtype)
        n_changed = _lloyd.lloyd_iter(X, sample_weight, centers, sq_norms, half_dists,
                                      shift, max_drift, upper, second, sums, weights,
                                      labels, effective_n_threads())
    return (labels, upper, second), (sums, weights, int(n_changed))


def _far_block(X, sample_weight, state, centers, n_far, offset):
    """The block's n_far samples farthest from their centers (zero weights
    last, ties to the lower index), as _update_centers would rank them."""
    labels = state[0]
    sq_dist = np.empty(X.shape[0], dtype=X.dtype)
    if X.shape[0]:
        _assign.assigned_sq_distances(X, centers, labels, sq_dist, effective_n_threads())
    weights = (np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None
               else sample_weight)
    rank = np.where(weights == 0, -1, sq_dist)
    index = np.lexsort((np.arange(X.shape[0]), -rank))[:n_far]
    index.sort()
    return index + offset, X[index], labels[index], weights[index]


def _final_block(X, sample_weight, state, centers, relabel):
    """Labels and inertia of a block: the state's labels (relabel False: the
    centers came from them) or a new assignment to the centers."""
    n_samples = X.shape[0]
    if sample_weight is None:
        sample_weight = np.ones(n_samples, dtype=X.dtype)
    labels = (np.empty(n_samples, dtype=np.int32) if relabel or state is None
              else state[0])
    cluster_weights = np.zeros(centers.shape[0])
    if not n_samples:
        return labels, (0.0, cluster_weights)
    n_threads = effective_n_threads()
    if relabel or state is None:
        inertia, _ = _assign_labels(X, sample_weight, centers, labels, n_threads)
    else:
        inertia = _assign.labelled_inertia(X, sample_weight, centers, labels, n_threads)
    np.add.at(cluster_weights, labels, sample_weight)
    return labels, (float(inertia), cluster_weights)


def _pick_row(X, sample_weight, target):
    """The row at which the block's cumulative weight first exceeds target."""
    weights = (np.ones(X.shape[0]) if sample_weight is None
               else sample_weight.astype(np.float64))
    index = int(np.searchsorted(np.cumsum(weights), target, side="right"))
    return X[min(index, X.shape[0] - 1)].copy()


def _nearest_update(X, sample_weight, state, pool):
    """k-means|| bookkeeping of a block: each sample's squared distance to
    its nearest candidate and that candidate's index, updated with the new
    candidates of the pool (candidates, first): ``candidates[first:]``;
    returns the state and the block's weighted cost sum(w D^2).

    Only the samples that a new candidate may bring closer are read: a
    sample nearest to candidate j, at D(x), stays nearest to it if
    D(x)^2 <= min over new candidates c of d(c, c_j)^2 / 4 (the triangle
    inequality: d(x, c) >= d(c, c_j) - D(x) >= D(x)).
    """
    n_samples = X.shape[0]
    candidates, first = pool
    new = candidates[first:]
    if state is None:
        d2 = np.full(n_samples, np.inf, dtype=X.dtype)
        nearest = np.full(n_samples, -1, dtype=np.int32)
        pending = np.arange(n_samples)
    elif not new.shape[0]:
        d2, nearest = state
        pending = np.arange(0)
    else:
        d2, nearest = state[0].copy(), state[1].copy()
        reach = cdist(new, candidates[:first], "sqeuclidean").min(axis=0) / 4
        pending = np.flatnonzero(d2 > reach[nearest])
    if pending.size and new.shape[0]:
        n_threads = effective_n_threads()
        # Gathering the pending rows costs about as much as reading them
        # twice: past half the block, all rows are read where they are.
        every = 2 * pending.size > n_samples
        rows = X if every else X[pending]
        labels = np.empty(rows.shape[0], dtype=np.int32)
        new_d2 = np.empty(rows.shape[0], dtype=X.dtype)
        _assign_labels(rows, None, new, labels, n_threads)
        _assign.assigned_sq_distances(rows, new, labels, new_d2, n_threads)
        labels += first
        if every:
            closer = new_d2 < d2
            np.copyto(d2, new_d2, where=closer)
            np.copyto(nearest, labels, where=closer)
        else:
            closer = new_d2 < d2[pending]
            d2[pending[closer]] = new_d2[closer]
            nearest[pending[closer]] = labels[closer]
    if sample_weight is None:
        cost = float(np.sum(d2, dtype=np.float64))
    else:
        cost = float(np.dot(sample_weight.astype(np.float64), d2.astype(np.float64)))
    return (d2, nearest), cost


def _sample_block(X, sample_weight, state, oversampling, cost, seed):
    """Bahmani et al.'s draw in a block: each sample independently, with
    probability min(1, l w D^2 / cost), l = oversampling (none if the cost
    is zero: every sample is a candidate). The generator is seeded by (run
    seed, round, block): the same draws on any worker."""
    if not cost > 0:
        return X[:0]
    d2 = state[0].astype(np.float64)
    if sample_weight is not None:
        d2 = d2 * sample_weight
    rng = np.random.default_rng(seed)
    chosen = rng.random(X.shape[0]) < (oversampling / cost) * d2
    return X[chosen]


def _first_pool(row):
    return np.ascontiguousarray(row[None]), 0


def _grow_pool(pool, *draws):
    """The pool after a round: the candidates so far and the new draws
    (in block order), and where the new ones start."""
    candidates = pool[0]
    return np.ascontiguousarray(np.concatenate((candidates,) + draws)), candidates.shape[0]


def _candidate_weights(sample_weight, state, pool):
    n_candidates = pool[0].shape[0]
    nearest = state[1]
    weights = None if sample_weight is None else sample_weight.astype(np.float64)
    return np.bincount(nearest, weights=weights, minlength=n_candidates).astype(
        np.float64)


def _predict_block(X, model):
    if not X.shape[0]:
        return np.empty(0, dtype=np.int32)
    return model.predict(X)


def _transform_block(X, model):
    if not X.shape[0]:
        return np.empty((0, model.cluster_centers_.shape[0]), dtype=X.dtype)
    return model.transform(X)


def _score_block(X, model):
    return np.atleast_1d(np.float64(model.score(X) if X.shape[0] else 0.0))


###############################################################################
# The estimator


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
             BaseEstimator):
    """K-means clustering of a dask array, on the workers.

    The parameters, attributes and results of :class:`turbocluster.KMeans`,
    for samples in a ``dask.array.Array`` or a ``dask.dataframe.DataFrame``
    of numeric columns (NumPy input works too). Every pass over the samples
    runs on the workers, one kernel call per block; X is never gathered on
    the client.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, and of centers.

    init : {'k-means||', 'random'} or array-like of shape \
            (n_clusters, n_features), default='k-means||'
        How the initial centers are chosen:

        - 'k-means||': Bahmani et al.'s scalable k-means++ over the blocks
          (see Notes);
        - 'random': `n_clusters` samples drawn with probability
          proportional to `sample_weight` (with replacement);
        - an array: these centers. From the same array the result equals
          :class:`turbocluster.KMeans`'s to rounding.

    n_init : 'auto' or int, default='auto'
        Number of runs from different seeds; the run of lowest inertia is
        kept. 'auto' means 1 ('k-means||' or an array) or 3 ('random').

    max_iter : int, default=300
        Largest number of Lloyd iterations of one run.

    tol : float, default=1e-4
        A run stops when the summed squared center moves fall to
        ``tol * mean(variance of each feature)`` or below.

    verbose : int, default=0
        Print the progress of the initialisation and of the iterations.

    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation. An int gives reproducible results, the
        same whatever the number of workers.

    copy_x : bool, default=True
        If True, the workers keep a centered copy of the samples for the
        fit (as :class:`turbocluster.KMeans` makes one in memory), which
        makes the distances more accurate. If False they keep the samples
        as they are.

    algorithm : {'lloyd', 'elkan'}, default='lloyd'
        Accepted for compatibility; both run the same iterations.

    oversampling_factor : float, default=2.0
        k-means||: each round draws about ``oversampling_factor * n_clusters``
        candidates (Bahmani et al.'s l).

    init_max_iter : int, default=5
        k-means||: number of rounds of drawing. Bahmani et al. found 5 rounds
        with ``l = 2 * n_clusters`` enough; the candidates number about
        ``1 + init_max_iter * oversampling_factor * n_clusters``.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centers, of the dtype of the training data.

    labels_ : dask.array.Array of shape (n_samples,)
        Cluster of each training sample, persisted on the workers.

    inertia_ : float
        Sum of the weighted squared distances of the samples to their centers.

    n_iter_ : int
        Iterations of the kept run.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of a dask DataFrame, when they are all strings.

    See Also
    --------
    turbocluster.KMeans : The in-memory estimator; :meth:`to_local` gives it.

    Notes
    -----
    k-means|| (Bahmani, Moseley, Vattani, Kumar and Vassilvitskii, "Scalable
    K-Means++", VLDB 2012): one sample drawn with probability proportional
    to its weight; then `init_max_iter` rounds, each drawing every sample
    independently with probability ``min(1, l w D(x)^2 / phi)``, ``phi`` the
    weighted cost of the candidates so far; each candidate is weighted by
    the samples nearest to it, and the candidates are clustered in memory by
    :class:`turbocluster.KMeans` (weighted k-means++ and Lloyd) into
    `n_clusters` initial centers. The draws of a block come from a generator
    seeded by (seed, round, block), so they do not depend on the workers.

    Cost, on the workers: one pass for the column means and one to center
    the copy; ``2 * init_max_iter + 2`` passes for k-means||, reading
    O(n_samples * n_candidates * n_features) in all; each Lloyd iteration
    O(n_features) per sample plus O(n_clusters * n_features) per sample
    whose nearest center may have changed (``_kernels/_lloyd.pyx``); a
    final pass for the labels. Memory on the workers: the centered copy of
    X and 3 values per sample. On the client: O(n_clusters * n_features +
    n_blocks) per pass, O(n_candidates * n_features) for k-means||,
    independent of n_samples.

    The blocks' float64 statistics are added on a binary tree in block
    order; results are the same bits for any number of workers and
    threads, and differ from :class:`turbocluster.KMeans`'s (from the same
    initial centers) only by the order of those additions.

    A worker lost during a fit loses the blocks and states it held; Dask
    recomputes them from their tasks (the same bits) or raises.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from turbocluster.dask import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = KMeans(n_clusters=2, random_state=0).fit(da.from_array(X, chunks=3))
    >>> np.sort(km.cluster_centers_[:, 0])
    array([ 1., 10.])
    >>> km.inertia_
    16.0
    >>> labels = km.predict(da.from_array(X, chunks=3))  # lazy
    >>> bool((labels.compute() == km.labels_.compute()).all())
    True
    """

    _parameter_constraints: dict = {
        **_local.KMeans._parameter_constraints,
        "init": [StrOptions({"k-means||", "random"}), "array-like"],
        "oversampling_factor": [Interval(Real, 0, None, closed="neither")],
        "init_max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means||",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="lloyd",
        oversampling_factor=2.0,
        init_max_iter=5,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.oversampling_factor = oversampling_factor
        self.init_max_iter = init_max_iter

    def _resolve_n_init(self):
        init_is_array = is_array_like(self.init)
        if self.n_init != "auto":
            n_init = self.n_init
        else:
            n_init = 3 if isinstance(self.init, str) and self.init == "random" else 1
        if init_is_array and n_init != 1:
            warn_at_caller(
                "Explicit initial center position passed: performing only one "
                f"init in {type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning)
            n_init = 1
        return n_init

    # -- fit -----------------------------------------------------------------

    @restores_state
    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering on the workers.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)
            Training samples, float32 or float64 (other types become float64).
            Blocks may hold any number of rows, none included.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : dask array or array-like of shape (n_samples,), \
                default=None
            Non-negative weight of each sample. None gives every sample
            weight one.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        data = self._block_data(X, sample_weight)
        centers, labels, inertia, n_iter, cluster_weights = self._fit_blocks(data)
        n_distinct = int(np.count_nonzero(cluster_weights))
        if n_distinct < self.n_clusters:
            warn_at_caller(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points "
                "in X.", ConvergenceWarning)
        self.cluster_centers_ = centers
        self._n_features_out = self.n_clusters
        self.labels_ = data.to_dask_array(labels, np.int32).persist()
        self.inertia_ = float(inertia)
        self.n_iter_ = n_iter
        return self

    def _block_data(self, X, sample_weight):
        X, names = as_dask_array(X)
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        return BlockData.from_dask_array(X, sample_weight)

    def _fit_blocks(self, data):
        """The fit on BlockData: (centers, label blocks, inertia, n_iter,
        cluster weights); label blocks are Delayed, persisted."""
        n_init = self._n_init = self._resolve_n_init()
        random_state = check_random_state(self.random_state)
        init = self.init
        if is_array_like(init):
            init = check_array(init, dtype=data.dtype, copy=True, order="C")
            _local.KMeans._check_init_centers(self, init, data)

        prepared, X_mean, tol, block_weights = self._prepare(data)
        if X_mean is not None and is_array_like(init):
            init = init - X_mean
        best = None
        with blas_single_threaded():
            for run in range(n_init):
                centers = self._initial_centers(prepared, init, random_state,
                                                block_weights)
                if self.verbose:
                    print("Initialization complete")
                result = self._lloyd(prepared, centers, tol)
                if best is None or result[1] < best[1]:
                    best = result
        labels, inertia, centers, n_iter, cluster_weights = best
        if X_mean is not None:
            centers = centers + X_mean
        return centers, labels, inertia, n_iter, cluster_weights

    def _prepare(self, data):
        """The blocks the passes read (centered copies, persisted), the
        column means (None if copy_x=False), the scaled tolerance and the
        total weight of each block."""
        sums = [delayed(_block_sums, nout=2)(block, data.weight(b))
                for b, block in enumerate(data.blocks)]
        (column_sums, _), block_weights = compute(
            tree_sum(sums), [s[1] for s in sums])
        if not np.all(np.isfinite(column_sums)):
            raise ValueError("Input X contains NaN or infinity.")
        block_weights = np.asarray(block_weights, dtype=np.float64)
        if not block_weights.sum() > 0:
            raise ValueError("sample_weight must not be all zero.")
        X_mean = (column_sums / data.shape[0]).astype(data.dtype)
        mean = shared(X_mean)
        centered = [delayed(_center_block, nout=2)(block, mean, self.copy_x)
                    for block in data.blocks]
        if self.copy_x:
            centered = persist(*centered)
            prepared = data.with_blocks([c[0] for c in centered])
        else:
            prepared = data.with_blocks(persist(*data.blocks))
        tol = 0.0
        if self.tol:
            total = compute(tree_sum([c[1] for c in centered]))[0]
            tol = total / (data.shape[0] * data.shape[1]) * self.tol
        return prepared, (X_mean if self.copy_x else None), tol, block_weights

    # -- initialisation ------------------------------------------------------

    def _row_tasks(self, data, block_weights, random_state, n_rows):
        """Tasks picking n_rows samples with probability proportional to
        their weight (with replacement): the block on the client, the row in
        it on its worker."""
        bounds = np.cumsum(block_weights)
        rows = []
        for target in random_state.random_sample(n_rows) * bounds[-1]:
            b = min(int(np.searchsorted(bounds, target, side="right")),
                    data.n_blocks - 1)
            while data.sizes[b] == 0 or block_weights[b] == 0:
                b -= 1
            local = target - (bounds[b - 1] if b else 0.0)
            rows.append(delayed(_pick_row)(data.blocks[b], data.weight(b), local))
        return rows

    def _draw_rows(self, data, block_weights, random_state, n_rows):
        rows = self._row_tasks(data, block_weights, random_state, n_rows)
        return np.asarray(compute(*rows), dtype=data.dtype).reshape(n_rows, -1)

    def _initial_centers(self, data, init, random_state, block_weights):
        if is_array_like(init):
            return np.array(init, dtype=data.dtype, order="C", copy=True)
        if init == "random":
            return self._draw_rows(data, block_weights, random_state, self.n_clusters)
        return self._kmeans_parallel(data, random_state, block_weights)

    def _kmeans_parallel(self, data, random_state, block_weights):
        """k-means|| (Bahmani et al. 2012), its candidates clustered in memory."""
        k = self.n_clusters
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        oversampling = self.oversampling_factor * k
        first_row, = self._row_tasks(data, block_weights, random_state, 1)
        blocks, weights = data.blocks, [data.weight(b) for b in range(data.n_blocks)]
        # All the rounds are one graph: each round's draws wait on the tree
        # sum of its costs on the workers, and the client only receives the
        # candidates and their weights at the end.
        pool = delayed(_first_pool)(first_row)
        states = [None] * data.n_blocks
        costs = []
        for round_ in range(self.init_max_iter + 1):
            outs = [delayed(_nearest_update, nout=2)(x, w, s, pool)
                    for x, w, s in zip(blocks, weights, states)]
            states = [o[0] for o in outs]
            costs.append(tree_sum([o[1] for o in outs]))
            if round_ == self.init_max_iter:
                break
            draws = [delayed(_sample_block)(x, w, s, oversampling, costs[-1],
                                            (seed, round_, b))
                     for b, (x, w, s) in enumerate(zip(blocks, weights, states))]
            pool = delayed(_grow_pool)(pool, *draws)
        counts = tree_sum([delayed(_candidate_weights)(w, s, pool)
                           for w, s in zip(weights, states)])
        (candidates, _), counts, costs = compute(pool, counts, costs)
        candidates = np.ascontiguousarray(candidates, dtype=data.dtype)
        if self.verbose:
            for round_, cost in enumerate(costs):
                print(f"k-means|| round {round_}: cost {cost}")
            print(f"k-means||: {candidates.shape[0]} candidates")

        n_candidates = candidates.shape[0]
        if n_candidates <= k:
            # Fewer candidates than clusters: the data has at most this many
            # distinct samples. The others start on the first candidate and
            # are relocated by the first update like any empty cluster.
            padded = np.repeat(candidates[:1], k, axis=0)
            padded[:n_candidates] = candidates
            return padded
        local = _local.KMeans(n_clusters=k, n_init=1, random_state=seed,
                              max_iter=self.max_iter, tol=self.tol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            local.fit(candidates, sample_weight=counts.astype(data.dtype))
        return np.ascontiguousarray(local.cluster_centers_, dtype=data.dtype)

    # -- Lloyd's iterations ---------------------------------------------------

    def _lloyd(self, data, centers, tol):
        """One run of Lloyd's iterations, as _kmeans_loops._kmeans_single
        runs it, each pass one task per block; returns (label blocks,
        inertia, centers, n_iter, cluster weights)."""
        k = self.n_clusters
        blocks, weights = data.blocks, [data.weight(b) for b in range(data.n_blocks)]
        states = [None] * data.n_blocks
        shift = np.zeros(k)
        max_drift = 0.0
        strict = False
        n_threads = effective_n_threads()
        for i in range(self.max_iter):
            model = shared((centers, _sq_norms(centers), _nearest_half_dists(centers),
                            shift, max_drift))
            outs = persist(*[delayed(_lloyd_block, nout=2)(x, w, s, model)
                             for x, w, s in zip(blocks, weights, states)])
            states = [o[0] for o in outs]
            sums, cluster_weights, n_changed = compute(tree_sum([o[1] for o in outs]))[0]
            new_centers = self._update_centers(data, states, centers, sums,
                                               cluster_weights, n_threads)
            shift = _center_shift(new_centers, centers)
            shift_sq = float(np.sum(shift ** 2))
            strict = n_changed == 0 and i > 0
            centers = new_centers
            if self.verbose:
                print(f"Iteration {i}, {n_changed} labels changed, center shift "
                      f"{shift_sq}.")
            if strict or shift_sq <= tol:
                break
            max_drift += float(shift.max())

        shared_centers = shared(centers)
        final = persist(*[delayed(_final_block, nout=2)(x, w, s, shared_centers,
                                                        not strict)
                          for x, w, s in zip(blocks, weights, states)])
        inertia, cluster_weights = compute(tree_sum([f[1] for f in final]))[0]
        return [f[0] for f in final], inertia, centers, i + 1, cluster_weights

    def _update_centers(self, data, states, centers, sums, cluster_weights, n_threads):
        """_kmeans_loops._update_centers, given instead of X the samples that
        may move to empty clusters: each block's farthest."""
        n_empty = int(np.count_nonzero(cluster_weights == 0))
        if not n_empty:
            nothing = np.empty((0, data.shape[1]), dtype=data.dtype)
            return _update_centers(nothing, None, centers, sums, cluster_weights, None,
                                   n_threads)
        shared_centers = shared(centers)
        far = compute(*[delayed(_far_block)(x, data.weight(b), s, shared_centers,
                                            n_empty, int(data.offsets[b]))
                        for b, (x, s) in enumerate(zip(data.blocks, states))])
        # Block order is sample order: ties go to the lower index, as in memory.
        rows = np.ascontiguousarray(np.concatenate([f[1] for f in far]), dtype=data.dtype)
        labels = np.ascontiguousarray(np.concatenate([f[2] for f in far]), dtype=np.int32)
        weights = np.ascontiguousarray(np.concatenate([f[3] for f in far]),
                                       dtype=data.dtype)
        return _update_centers(rows, weights, centers, sums, cluster_weights, labels,
                               n_threads)

    # -- prediction and conversion ----------------------------------------------

    def to_local(self, *, with_labels=True):
        """The fitted model as an in-memory :class:`turbocluster.KMeans`.

        It has the same fitted attributes, can be pickled and used without
        Dask.

        Parameters
        ----------
        with_labels : bool, default=True
            Compute ``labels_`` into a NumPy array (4 bytes per training
            sample, gathered on the client). False leaves it out.

        Returns
        -------
        kmeans : turbocluster.KMeans
        """
        check_is_fitted(self)
        init = self.init if is_array_like(self.init) else "k-means++"
        local = _local.KMeans(
            n_clusters=self.n_clusters, init=init, n_init=self._n_init,
            max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
            random_state=self.random_state, copy_x=self.copy_x,
            algorithm=self.algorithm)
        for name in ("cluster_centers_", "inertia_", "n_iter_", "n_features_in_",
                     "feature_names_in_", "_n_features_out", "_n_init"):
            if hasattr(self, name):
                setattr(local, name, getattr(self, name))
        if with_labels:
            local.labels_ = np.asarray(self.labels_.compute())
        return local

    def _block_model(self):
        """The in-memory estimator the workers predict with: no labels, no
        feature names (blocks are NumPy arrays)."""
        local = self.to_local(with_labels=False)
        if hasattr(local, "feature_names_in_"):
            del local.feature_names_in_
        return local

    def _dask_input(self, X):
        X, _ = as_dask_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input.")
        return X

    def predict(self, X):
        """Nearest center of each sample.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)

        Returns
        -------
        labels : dask.array.Array of shape (n_samples,), lazy (an ndarray
            for NumPy input)
        """
        check_is_fitted(self)
        if not is_dask_collection(X):
            return self.to_local(with_labels=False).predict(X)
        X = self._dask_input(X)
        return X.map_blocks(_predict_block, self._block_model(), dtype=np.int32,
                            drop_axis=1, meta=np.empty((0,), dtype=np.int32))

    @restores_state
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``.

        Returns
        -------
        labels : dask.array.Array of shape (n_samples,)
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Distance of each sample to each center.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape \
                (n_samples, n_features)

        Returns
        -------
        X_new : dask.array.Array of shape (n_samples, n_clusters), lazy (an
            ndarray for NumPy input)
        """
        check_is_fitted(self)
        if not is_dask_collection(X):
            return self.to_local(with_labels=False).transform(X)
        X = self._dask_input(X)
        return X.map_blocks(_transform_block, self._block_model(), dtype=X.dtype,
                            chunks=(X.chunks[0], (self.n_clusters,)),
                            meta=np.empty((0, 0), dtype=X.dtype))

    @restores_state
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of X to the centers.

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
        distances : dask.array.Array of shape (n_samples, n_clusters)
            Lazy, computed on the workers (NumPy for NumPy input).
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None):
        """Opposite of the inertia of X (computed on the workers).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if not is_dask_collection(X):
            return self.to_local(with_labels=False).score(X)
        X = self._dask_input(X)
        parts = X.map_blocks(_score_block, self._block_model(), dtype=np.float64,
                             drop_axis=1, chunks=((1,) * X.numblocks[0],),
                             meta=np.empty((0,), dtype=np.float64))
        return float(parts.sum().compute())
