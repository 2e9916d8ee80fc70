"""MiniBatchKMeans: k-means on random batches of the samples (Sculley, "Web-
scale k-means clustering", 2010), with scikit-learn's draws, update and
stopping rules.

Each step draws a batch with probability proportional to the sample weights,
labels it and adds it to the centers (one pass of the Lloyd kernel over the
batch, ``_kernels/_lloyd.pyx``), then moves every center it touched to the
running mean of all the samples it has received. The batch draw looks up
``batch_size`` uniform numbers in the cumulative weights, built once per fit:
the indices ``random_state.choice(n_samples, batch_size, p=...)`` gives, which
scikit-learn computes again at every step (a pass over all the weights).
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite, check_random_state

from ._kernels import _csr, _minibatch
from ._kmeans import KMeans
from ._kmeans_loops import _assign_labels, _weight_cdf
from ._kmeans_sparse import (
    _feature_blocks,
    _kernel_csr,
    _parts,
    _sq_norms64,
    _transposed,
)
from ._state import restores_state, restores_state_in_place
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_samples,
    variance_tolerance,
    warn_at_caller,
)


class MiniBatchKMeans(KMeans):
    """Mini-batch k-means clustering.

    Drop-in replacement for :class:`sklearn.cluster.MiniBatchKMeans`: the same
    parameters, defaults, attributes and methods, and the same random draws
    for the same ``random_state``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.

    init : {'k-means++', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        Initialisation, on ``init_size`` samples drawn at random.

    max_iter : int, default=100
        Passes over the data (in batches) before stopping.

    batch_size : int, default=1024
        Samples per batch.

    verbose : int, default=0
        Print progress.

    compute_labels : bool, default=True
        Label the whole data (and take its inertia) once the centers are found.

    random_state : int, RandomState instance or None, default=None
        Draws the initialisation, the batches and the reassignments.

    tol : float, default=0.0
        Stop when the squared move of the centers in a step is at most
        ``tol`` times the mean variance of the features (0: never).

    max_no_improvement : int, default=10
        Stop after this many steps without a better smoothed batch inertia;
        None never stops on it.

    init_size : int, default=None
        Samples drawn for the initialisation and for judging its candidates;
        None: 3 * batch_size (at least 3 * n_clusters).

    n_init : 'auto' or int, default='auto'
        Initialisations tried, the best on the validation samples kept;
        'auto': 1 for 'k-means++' or an array, 3 otherwise.

    reassignment_ratio : float, default=0.01
        A center whose received weight falls below this fraction of the
        largest is moved to a random sample of the batch (see Notes).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        Only with ``compute_labels=True``.
    inertia_ : float
        With ``compute_labels``: the weighted sum of squared distances of
        the data to its centers; otherwise the smoothed batch inertia scaled
        to the total weight.
    n_iter_ : int
        Passes over the data started.
    n_steps_ : int
        Batches processed.
    counts_ : ndarray of shape (n_clusters,)
        Weight each center has received (not in scikit-learn 1.9).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Notes
    -----
    Reassignment, as scikit-learn does it: every 10 * n_clusters samples
    (or at once when a center has received nothing), the centers that have
    received less than ``reassignment_ratio`` times the weight of the most
    fed one (at most half a batch of them) move to distinct random samples of
    the batch, and their weight becomes the smallest of the others'.

    A step costs O(batch_size * n_clusters * n_features); memory beyond X is
    a batch and O(n_samples) for the cumulative weights.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]],
    ...              dtype=float)
    >>> kmeans = MiniBatchKMeans(n_clusters=2, batch_size=6,
    ...                          random_state=0).fit(X)
    >>> kmeans.cluster_centers_.round(1)
    array([[3.2, 3.7],
           [1.3, 0.8]])
    >>> kmeans.predict([[0, 0], [4, 4]])
    array([1, 0], dtype=int32)

    Or one batch at a time, with ``partial_fit``:

    >>> kmeans = MiniBatchKMeans(n_clusters=2, random_state=0)
    >>> kmeans = kmeans.partial_fit(X[:6]).partial_fit(X[6:])
    >>> kmeans.n_steps_
    2
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "compute_labels": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "init_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "reassignment_ratio": [Interval(Real, 0, None, closed="left")],
    }

    _auto_n_init = 3

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio

    # ------------------------------------------------------------------
    # Checks and initialisation

    def _resolve_sizes(self, n_samples):
        """(batch size, init size) for n_samples, as scikit-learn resolves them."""
        batch_size = min(self.batch_size, n_samples)
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warn_at_caller(
                f"init_size={init_size} should be larger than "
                f"n_clusters={self.n_clusters}. Setting it to "
                "min(3*n_clusters, n_samples)",
                RuntimeWarning,
            )
            init_size = 3 * self.n_clusters
        return batch_size, min(init_size, n_samples)

    def _validated(self, X, reset):
        X = validate_samples(self, X, accept_sparse="csr", order="C", reset=reset,
                             accept_large_sparse=False)
        return _kernel_csr(X) if sp.issparse(X) else X

    def _first_centers(self, X, init, random_state, sample_weight, init_size,
                       n_threads):
        """Initial centers from init_size samples drawn at random (the draw
        is made whatever init is, as scikit-learn makes it)."""
        if init_size < X.shape[0]:
            subset = random_state.randint(0, X.shape[0], init_size)
            X, sample_weight = X[subset], sample_weight[subset]
        centers, _ = self._initial_centers(X, init, random_state, sample_weight,
                                           n_threads, None)
        return centers

    # ------------------------------------------------------------------
    # One step

    def _step(self, X_batch, w_batch, centers, random_state, reassign, n_threads):
        """Label the batch, move the centers that received samples to their
        running means; returns the batch inertia (before the move)."""
        n_batch, n_features = X_batch.shape
        labels = np.empty(n_batch, dtype=np.int32)
        sums = np.empty((self.n_clusters, n_features))
        weights = np.empty(self.n_clusters)
        if sp.issparse(X_batch):
            # The CSR Lloyd pass: labels, then sums by blocks of features.
            labels[:] = -1
            data, indices, indptr = _parts(X_batch)
            centers_t, norms = _transposed(centers), _sq_norms64(centers)
            _csr.lloyd_iter(data, indices, indptr, w_batch, centers_t, norms,
                            *_feature_blocks(X_batch, n_threads), labels, sums, weights,
                            n_threads)
            inertia = _csr.labelled_inertia(data, indices, indptr, w_batch, centers_t,
                                            norms, labels, n_threads)
        else:
            inertia, n_nonfinite = _assign_labels(X_batch, w_batch, centers, labels,
                                                  n_threads)
            if n_nonfinite:
                assert_all_finite(X_batch, input_name="X",
                                  estimator_name="MiniBatchKMeans")
            _minibatch.cluster_sums(X_batch, w_batch, labels, sums, weights, n_threads)

        received = weights > 0
        counts = self._counts
        # The running mean: (c * count + sum of the batch's w x) / (count + w).
        moved = centers[received] * counts[received, None] + sums[received]
        counts[received] += weights[received].astype(counts.dtype)
        centers[received] = moved / counts[received, None]

        if reassign and self.reassignment_ratio > 0:
            self._reassign(X_batch, centers, random_state)
        return inertia

    def _reassign(self, X_batch, centers, random_state):
        counts = self._counts
        low = counts < self.reassignment_ratio * counts.max()
        half_batch = int(0.5 * X_batch.shape[0])
        if low.sum() > 0.5 * X_batch.shape[0]:
            # At most half a batch of centers: the least fed ones.
            low[np.argsort(counts)[half_batch:]] = False
        n_reassigns = int(low.sum())
        if n_reassigns:
            chosen = random_state.choice(X_batch.shape[0], replace=False,
                                         size=n_reassigns)
            if self.verbose:
                print(f"[MiniBatchKMeans] Reassigning {n_reassigns} cluster centers.")
            rows = X_batch[chosen]
            centers[low] = rows.toarray() if sp.issparse(rows) else rows
        # Not reset to 0, which would call for reassigning them again at once.
        counts[low] = np.min(counts[~low])

    def _reassign_now(self, batch_size):
        """Whether this step reassigns: every 10 * n_clusters samples, and
        whenever a center has received nothing yet."""
        self._n_since_last_reassign += batch_size
        if (self._counts == 0).any() or self._n_since_last_reassign >= 10 * self.n_clusters:
            self._n_since_last_reassign = 0
            return True
        return False

    def _converged(self, step, n_steps, n_samples, batch_size, center_move, inertia):
        """scikit-learn's stopping rules, on the exponentially weighted mean
        of the batch inertia (alpha = 2 * batch_size / (n_samples + 1))."""
        inertia /= batch_size
        step += 1
        if step == 1:
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {inertia}")
            return False
        if self._ewa_inertia is None:
            self._ewa_inertia = inertia
        else:
            alpha = min(batch_size * 2.0 / (n_samples + 1), 1)
            self._ewa_inertia = self._ewa_inertia * (1 - alpha) + inertia * alpha
        if self.verbose:
            print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {inertia}, "
                  f"ewa inertia: {self._ewa_inertia}")
        if self._tol > 0.0 and center_move <= self._tol:
            if self.verbose:
                print(f"Converged (small centers change) at step {step}/{n_steps}")
            return True
        if self._ewa_inertia_min is None or self._ewa_inertia < self._ewa_inertia_min:
            self._no_improvement = 0
            self._ewa_inertia_min = self._ewa_inertia
        else:
            self._no_improvement += 1
        if (self.max_no_improvement is not None
                and self._no_improvement >= self.max_no_improvement):
            if self.verbose:
                print("Converged (lack of improvement in inertia) at step "
                      f"{step}/{n_steps}")
            return True
        return False

    # ------------------------------------------------------------------
    # Public methods

    @restores_state
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centers on X, one random batch at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples, float32 or float64 (other types become float64);
            sparse CSR input is never densified.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample: the batches are drawn in proportion to it.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        X = self._validated(X, reset=True)
        n_samples = X.shape[0]
        self._check_n_samples(X)
        # Also kept as scikit-learn keeps them (its tests and some user code
        # read them).
        batch_size, init_size = self._resolve_sizes(n_samples)
        self._batch_size, self._init_size = batch_size, init_size
        n_init = self._n_init = self._resolve_n_init()
        self._tol = variance_tolerance(X, self.tol)
        random_state = check_random_state(self.random_state)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        n_threads = effective_n_threads()
        init = self._checked_init(X)

        with blas_single_threaded():
            # The best of n_init initialisations on the same validation samples.
            valid = random_state.randint(0, n_samples, init_size)
            X_valid, w_valid = X[valid], sample_weight[valid]
            best_inertia = None
            for run in range(n_init):
                if self.verbose:
                    print(f"Init {run + 1}/{n_init} with method {init}")
                candidate = self._first_centers(X, init, random_state, sample_weight,
                                                init_size, n_threads)
                _, inertia = self._labels_inertia(X_valid, w_valid, candidate)
                if self.verbose:
                    print(f"Inertia for init {run + 1}/{n_init}: {inertia}")
                if best_inertia is None or inertia < best_inertia:
                    centers, best_inertia = candidate, inertia

            self._counts = np.zeros(self.n_clusters, dtype=X.dtype)
            self._ewa_inertia = self._ewa_inertia_min = None
            self._no_improvement = self._n_since_last_reassign = 0
            n_steps = (self.max_iter * n_samples) // batch_size
            cdf = _weight_cdf(sample_weight)
            guide = np.empty(n_samples, dtype=np.intp)
            _minibatch.guide_table(cdf, guide)
            batch = np.empty(batch_size, dtype=np.intp)
            X_batch = (None if sp.issparse(X)
                       else np.empty((batch_size, X.shape[1]), dtype=X.dtype))
            unit_weights = np.ones(batch_size, dtype=X.dtype)
            step = 0
            for step in range(n_steps):
                uniforms = random_state.random_sample(batch_size)
                if sp.issparse(X):
                    _minibatch.draw(cdf, guide, uniforms, batch, n_threads)
                    X_batch = X[batch]
                else:
                    _minibatch.draw_rows(X, cdf, guide, uniforms, batch, X_batch,
                                         n_threads)
                before = centers.copy() if self._tol > 0 else None
                inertia = self._step(X_batch, unit_weights, centers, random_state,
                                     self._reassign_now(batch_size), n_threads)
                move = float(np.sum((centers - before) ** 2)) if before is not None else 0
                if self._converged(step, n_steps, n_samples, batch_size, move, inertia):
                    break

            self.cluster_centers_ = centers
            self._n_features_out = centers.shape[0]
            self.n_steps_ = step + 1
            self.n_iter_ = int(np.ceil((step + 1) * batch_size / n_samples))
            if self.compute_labels:
                self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight)
            else:
                self.inertia_ = self._ewa_inertia * float(np.sum(sample_weight))
        return self

    @restores_state_in_place
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centers with one batch: X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The batch.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample of the batch.

        Returns
        -------
        self : object
            Updated estimator.
        """
        has_centers = hasattr(self, "cluster_centers_")
        self._validate_params()
        X = self._validated(X, reset=not has_centers)
        self._random_state = getattr(self, "_random_state",
                                     check_random_state(self.random_state))
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        self.n_steps_ = getattr(self, "n_steps_", 0)
        n_threads = effective_n_threads()
        with blas_single_threaded():
            if not has_centers:
                self._check_n_samples(X)
                _, init_size = self._resolve_sizes(X.shape[0])
                self.cluster_centers_ = self._first_centers(
                    X, self._checked_init(X), self._random_state, sample_weight,
                    init_size, n_threads)
                self._counts = np.zeros(self.n_clusters, dtype=X.dtype)
                self._n_since_last_reassign = 0
            self._step(X, sample_weight, self.cluster_centers_, self._random_state,
                       self._reassign_now(X.shape[0]), n_threads)
            if self.compute_labels:
                self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight)
        self.n_steps_ += 1
        self._n_features_out = self.cluster_centers_.shape[0]
        return self

    @property
    def counts_(self):
        return self._counts

