"""K-means: the estimator and its seeding, ``KMeans`` and ``kmeans_plusplus``.

The steps they are made of (greedy k-means++, Lloyd's loop) are in
``_kmeans_loops.py``; every pass over the samples is one call to a kernel in
``turbocluster._kernels``.
"""

from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from ._kernels import _assign, _center
from ._kmeans_loops import (
    _assign_labels,
    _greedy_kmeans_plusplus,
    _is_same_clustering,
    _is_small,
    _kmeans_single,
    _padded_t,
    _row_blocks,
    _small_runs,
)
from ._kmeans_sparse import (
    _kernel_csr,
    csr_kmeans_plusplus,
    csr_kmeans_single,
    csr_labels_inertia,
    csr_transform,
)
from ._state import restores_state
from ._threads import blas_single_threaded, effective_n_threads
from ._validation import (
    FLOAT_DTYPES,
    as_c_contiguous,
    Interval,
    StrOptions,
    check_sample_weight,
    is_array_like,
    validate_parameter_constraints,
    validate_samples,
    variance_tolerance,
    warn_at_caller,
)


###############################################################################
# Seeding


def kmeans_plusplus(
    X,
    n_clusters,
    *,
    sample_weight=None,
    x_squared_norms=None,
    random_state=None,
    n_local_trials=None,
):
    """Choose `n_clusters` initial centers from the samples by greedy k-means++.

    Drop-in replacement for :func:`sklearn.cluster.kmeans_plusplus`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The samples to choose the centers from. float32 stays float32.

    n_clusters : int
        Number of centers to choose.

    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the sampling probabilities and the potential.
        None gives every sample weight one.

    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for compatibility with scikit-learn and checked for length;
        not used: the norms come with the first pass over `X`, at no extra
        cost, and the first center's distances are computed from differences.

    random_state : int, RandomState instance or None, default=None
        Seed of the sampling. An int gives reproducible centers.

    n_local_trials : int, default=None
        Candidates drawn for each center after the first; the one lowering the
        potential most is kept. None means ``2 + int(log(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The chosen centers, of the dtype of `X`.

    indices : ndarray of shape (n_clusters,)
        Row of `X` of each center: ``X[indices[i]] == centers[i]``.

    Notes
    -----
    Arthur and Vassilvitskii's k-means++ (2007), greedy variant: each step
    draws `n_local_trials` samples with probability proportional to
    ``sample_weight * D(x)^2`` and keeps the best. The random numbers are
    drawn as scikit-learn draws them, so for the same `random_state` the
    centers are the same unless rounding tips a draw or a tie.

    Time is O(n_clusters * n_local_trials * n_samples) bound tests plus, for
    each sample that some candidate may bring closer, its distances to the
    candidates (a register-blocked product, AVX2 where the CPU has it): a
    sample whose nearest center ``c`` satisfies ``d(candidate, c) >= 2 D(x)``
    for every candidate is skipped without reading its row. Memory is
    O(n_local_trials * n_samples) on top of `X`. Results do not depend on the
    number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import kmeans_plusplus
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> centers
    array([[10.,  2.],
           [ 1.,  0.]])
    >>> indices
    array([3, 2])
    """
    validate_parameter_constraints(
        {
            "X": ["array-like", "sparse matrix"],
            "n_clusters": [Interval(Integral, 1, None, closed="left")],
            "sample_weight": ["array-like", None],
            "x_squared_norms": ["array-like", None],
            "random_state": ["random_state"],
            "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
        },
        {
            "X": X,
            "n_clusters": n_clusters,
            "sample_weight": sample_weight,
            "x_squared_norms": x_squared_norms,
            "random_state": random_state,
            "n_local_trials": n_local_trials,
        },
        caller_name="kmeans_plusplus",
    )
    # NaN and infinity are caught by the first pass over X (see
    # _greedy_kmeans_plusplus), which spares a pass of its own.
    X = check_array(X, accept_sparse="csr", dtype=list(FLOAT_DTYPES),
                    ensure_all_finite=False)
    sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
    if X.shape[0] < n_clusters:
        raise ValueError(
            f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}."
        )
    if x_squared_norms is not None:
        x_squared_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False,
                                      input_name="x_squared_norms")
        if x_squared_norms.ndim != 1:
            raise ValueError(
                f"x_squared_norms must be 1D, got an array of shape "
                f"{x_squared_norms.shape}."
            )
        if x_squared_norms.shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {x_squared_norms.shape[0]} should "
                f"be equal to the length of n_samples {X.shape[0]}."
            )
    random_state = check_random_state(random_state)
    if sp.issparse(X):
        return csr_kmeans_plusplus(_kernel_csr(X), n_clusters, sample_weight,
                                   random_state, n_local_trials, effective_n_threads(),
                                   check_finite=True)
    X = as_c_contiguous(X)
    with blas_single_threaded():
        centers, indices, _ = _greedy_kmeans_plusplus(
            X, n_clusters, sample_weight, random_state, n_local_trials,
            effective_n_threads(), check_finite=True,
        )
    return centers, indices


###############################################################################
# Estimator


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
             BaseEstimator):
    """K-means clustering, a drop-in replacement for :class:`sklearn.cluster.KMeans`.

    Same parameters, defaults, attributes and methods as scikit-learn 1.9's
    ``KMeans``. Where it differs on purpose: float32 input is computed and
    returned in float32 (centers, ``transform``) with float64 accumulators
    for the means; results are bit-identical for any number of threads; and
    ``copy_x=False`` never writes to the caller's array.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, and of centers.

    init : {'k-means++', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        How the initial centers are chosen:

        - 'k-means++': greedy k-means++ seeding (see :func:`kmeans_plusplus`);
        - 'random': `n_clusters` distinct samples drawn with probability
          proportional to `sample_weight`;
        - an array: these centers;
        - a callable: ``init(X, n_clusters, random_state=random_state)``
          returning the centers.

    n_init : 'auto' or int, default='auto'
        Number of runs from different seeds; the run of lowest inertia is
        kept. 'auto' means 1 for 'k-means++' or an array, 10 otherwise.

    max_iter : int, default=300
        Largest number of iterations of one run.

    tol : float, default=1e-4
        A run stops when the summed squared center moves fall to
        ``tol * mean(variance of each feature)`` or below.

    verbose : int, default=0
        Print the inertia at each iteration and why a run stopped.

    random_state : int, RandomState instance or None, default=None
        Seed of the initialization. An int gives reproducible results.

    copy_x : bool, default=True
        If True, the samples are centered on a copy, which makes the distance
        computations more accurate. If False, no copy is made and the samples
        are used as they are: the caller's array is never written to (unlike
        scikit-learn, which centers it in place and restores it).

    algorithm : {'lloyd', 'elkan'}, default='lloyd'
        Accepted for compatibility; both values run the same iteration and
        give the same result. It computes Lloyd's iterates, skipping the
        samples whose nearest center the triangle inequality shows unchanged:
        two bounds per sample (Hamerly) and the distances between centers
        (Elkan's first lemma), with matrix products for the other samples.
        Unlike scikit-learn's 'elkan' it keeps no (n_samples, n_clusters)
        array of bounds: here those measured slower than the matrix products
        they save (see Notes).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centers, of the dtype of the training data.

    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.

    inertia_ : float
        Sum of the weighted squared distances of the samples to their centers.

    n_iter_ : int
        Iterations of the kept run.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when they are all strings.

    See Also
    --------
    kmeans_plusplus : The seeding on its own.
    sklearn.cluster.KMeans : The reference implementation.

    Notes
    -----
    One iteration costs O(n_features) time per sample for the cluster sums and
    the bounds, plus O(n_clusters * n_features) in matrix products for each
    sample whose nearest center may have changed: all of them at the first
    iteration, a few once the centers settle. Memory on top of the data is
    O(n_samples) for the labels and bounds and O(n_clusters * n_features)
    per reduction group.

    Elkan's (n_samples, n_clusters) lower bounds were implemented and measured
    on 40,000 blobs, 30 iterations, one thread: 1.1 to 2.3 times slower than
    the two bounds per sample for 32 and 128 features with 64 and 256
    clusters, 6% faster only at 512 features. Writing that array once costs
    more than a dozen iterations, and a sample it settles keeps a loose bound
    on its second-nearest center, so it is read again at every iteration.

    Samples are cut into fixed chunks whose partial sums are added in chunk
    order, so the result is the same bits whatever the number of OpenMP
    threads (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``).

    Small data (``n_samples * n_clusters * n_features`` up to 2**22, and no
    ``verbose``) runs each initialisation whole in one kernel call, the
    initialisations side by side on the OpenMP threads (see
    ``_kernels/_small.pyx``): the same random draws and the same clustering
    as the general path, the centers equal to rounding (its cluster sums move
    only the samples that change clusters). Each run is on one thread, so
    the result still does not depend on the number of threads.

    ``predict`` and ``score`` find NaN and infinity in X while they label it,
    rather than in a pass of ``check_array`` first; the error is the same.

    Any memory layout is accepted without a slower kernel: ``fit`` makes one
    C-ordered, centered copy of X in any case (copied by blocks of rows from
    a Fortran-ordered or strided X); ``predict``, ``transform`` and ``score``
    read such X by blocks of 4096 rows.

    Sparse CSR input is never densified: every pass reads the CSR arrays
    (memory O(nnz + n_clusters * n_features) beyond X). As in scikit-learn,
    sparse samples are not centered and their distances are computed as
    ``||x||^2 - 2 <x, c> + ||c||^2`` over the nonzeros.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> kmeans = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> kmeans.labels_
    array([1, 1, 1, 0, 0, 0], dtype=int32)
    >>> kmeans.predict([[0, 0], [12, 3]])
    array([1, 0], dtype=int32)
    >>> kmeans.cluster_centers_
    array([[10.,  2.],
           [ 1.,  2.]])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="lloyd",
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

    # Runs that n_init="auto" makes for a random or callable init.
    _auto_n_init = 10

    def _resolve_n_init(self):
        """Number of runs: n_init, with 'auto' and an explicit init resolved."""
        init_is_array = is_array_like(self.init)
        if self.n_init != "auto":
            n_init = self.n_init
        elif init_is_array or (isinstance(self.init, str) and self.init == "k-means++"):
            n_init = 1
        else:
            n_init = self._auto_n_init
        if init_is_array and n_init != 1:
            warn_at_caller(
                "Explicit initial center position passed: performing only one "
                f"init in {self.__class__.__name__} instead of n_init={n_init}.",
                RuntimeWarning,
            )
            n_init = 1
        return n_init

    def _resolve_algorithm(self):
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warn_at_caller(
                "algorithm='elkan' doesn't make sense for a single cluster. "
                "Using 'lloyd' instead.",
                RuntimeWarning,
            )
            return "lloyd"
        return self.algorithm

    def _check_n_samples(self, X):
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )

    def _checked_init(self, X):
        """self.init; an array is checked against X and copied in X's dtype."""
        init = self.init
        if is_array_like(init):
            init = check_array(init, dtype=X.dtype, copy=True, order="C")
            self._check_init_centers(init, X)
        return init

    def _check_init_centers(self, centers, X):
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not "
                f"match the number of clusters {self.n_clusters}."
            )
        if centers.shape[1] != X.shape[1]:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not "
                f"match the number of features of the data {X.shape[1]}."
            )

    def _initial_centers(self, X, init, random_state, sample_weight, n_threads,
                         x_sq_norms):
        guess = None
        if isinstance(init, str) and init == "k-means++" and sp.issparse(X):
            centers, _ = csr_kmeans_plusplus(X, self.n_clusters, sample_weight,
                                             random_state, None, n_threads)
        elif isinstance(init, str) and init == "k-means++":
            centers, _, guess = _greedy_kmeans_plusplus(
                X, self.n_clusters, sample_weight, random_state, None, n_threads,
                x_sq_norms)
        elif isinstance(init, str) and init == "random":
            seeds = random_state.choice(
                X.shape[0], size=self.n_clusters, replace=False,
                p=sample_weight / sample_weight.sum())
            centers = X[seeds].toarray() if sp.issparse(X) else X[seeds]
        elif callable(init):
            centers = init(X, self.n_clusters, random_state=random_state)
            centers = check_array(centers, dtype=X.dtype, copy=False, order="C")
            self._check_init_centers(centers, X)
        else:
            centers = init
        return np.array(centers, dtype=X.dtype, order="C", copy=True), guess

    @restores_state
    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples, float32 or float64 (other types become float64).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample. None gives every sample
            weight one. Not used by an explicit or callable `init`.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        # Any memory layout: fit makes one C-ordered copy (see below).
        X = validate_samples(self, X, accept_sparse="csr", accept_large_sparse=False)
        self._check_n_samples(X)
        return self._fit_validated(X, sample_weight)

    def _prepare(self, X, n_threads):
        """The samples the kernels read: (X, X_mean, x_sq_norms).

        Distances by matrix products lose accuracy far from the origin: dense
        samples are centered (a copy, with their squared norms) unless
        copy_x=False forbids it. select_n_clusters prepares X once for all
        its candidates.
        """
        if sp.issparse(X):
            # Sparse samples are not centered (that would densify them), as
            # in scikit-learn: the kernels read them as they are.
            return _kernel_csr(X), None, None
        if not self.copy_x:
            return as_c_contiguous(X), None, None
        # The one copy of the samples: a C-ordered X is centered on the way
        # into it; any other layout is first copied into it by blocks of
        # rows, then centered in place.
        if X.flags.c_contiguous:
            source, X_centered = X, np.empty(X.shape, dtype=X.dtype)
        else:
            source = X_centered = as_c_contiguous(X)
        X_mean = np.empty(X.shape[1], dtype=X.dtype)
        _center.column_means(source, X_mean, n_threads)
        x_sq_norms = np.empty(X.shape[0], dtype=X.dtype)
        _center.center_rows(source, X_mean, X_centered, x_sq_norms, n_threads)
        return X_centered, X_mean, x_sq_norms

    def _fit_validated(self, X, sample_weight, prepared=None):
        """fit, from validated samples (and, optionally, _prepare's result)."""
        # Also kept as scikit-learn keeps it (its tests and some user code read it).
        n_init = self._n_init = self._resolve_n_init()
        algorithm = self._resolve_algorithm()
        random_state = check_random_state(self.random_state)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        n_threads = effective_n_threads()
        init = self._checked_init(X)

        X, X_mean, x_sq_norms = (self._prepare(X, n_threads) if prepared is None
                                 else prepared)
        if X_mean is not None and is_array_like(init):
            init = init - X_mean
        tol = variance_tolerance(X, self.tol, x_sq_norms)

        suffix = "" if algorithm == "elkan" else "."

        def run_one_pass():
            centers, guess = self._initial_centers(
                X, init, random_state, sample_weight, n_threads, x_sq_norms)
            if self.verbose:
                print("Initialization complete")
            if sp.issparse(X):
                return csr_kmeans_single(X, sample_weight, centers, self.max_iter,
                                         self.verbose, tol, n_threads, suffix)
            return _kmeans_single(X, sample_weight, centers, self.max_iter, self.verbose,
                                  tol, n_threads, suffix, guess)

        best = None
        small = not self.verbose and not sp.issparse(X) and _is_small(X, self.n_clusters)
        # The small-data kernel calls no BLAS; the one-pass kernels call it
        # from their threads, one chunk at a time.
        with nullcontext() if small else blas_single_threaded():
            if small:
                starts = init if isinstance(init, str) and init == "k-means++" else (
                    lambda run: self._initial_centers(
                        X, init, random_state, sample_weight, n_threads, x_sq_norms)[0])
                runs = _small_runs(X, sample_weight, starts, self.n_clusters, n_init,
                                   random_state, self.max_iter, tol, n_threads, suffix)
            else:
                runs = (run_one_pass() for _ in range(n_init))
            for labels, inertia, centers, n_iter in runs:
                if best is None or (
                    inertia < best[1]
                    and not _is_same_clustering(labels, best[0], self.n_clusters)
                ):
                    best = labels, inertia, centers, n_iter

        labels, inertia, centers, n_iter = best
        if X_mean is not None:
            centers += X_mean

        n_distinct = np.count_nonzero(np.bincount(labels, minlength=self.n_clusters))
        if n_distinct < self.n_clusters:
            warn_at_caller(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points "
                "in X.",
                ConvergenceWarning,
            )

        self.cluster_centers_ = centers
        self._n_features_out = self.cluster_centers_.shape[0]
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = n_iter
        return self

    @restores_state
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the cluster of each training sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster of each sample.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    @restores_state
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of the training samples to the centers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            Distance of each sample to each center.
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def _check_test_data(self, X, ensure_all_finite=True):
        check_is_fitted(self)
        # Any memory layout: _row_blocks copies blocks of other layouts.
        # ensure_all_finite=False: the caller finds NaN and infinity itself.
        return validate_samples(self, X, accept_sparse="csr", reset=False,
                                accept_large_sparse=False,
                                ensure_all_finite=ensure_all_finite)

    def _centers_as(self, dtype):
        return np.ascontiguousarray(self.cluster_centers_, dtype=dtype)

    def _labels_inertia(self, X, sample_weight, centers=None):
        """Labels, and the inertia when sample_weight is given (else 0), for
        the fitted centers or the given ones.

        X comes from _check_test_data(X, ensure_all_finite=False): a NaN or
        an infinity in it raises ValueError here, as check_array would.
        """
        centers = self._centers_as(X.dtype) if centers is None else centers
        if sp.issparse(X):
            assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
            if sample_weight is None:
                return csr_labels_inertia(X, np.ones(X.shape[0], dtype=X.dtype),
                                          centers, effective_n_threads(),
                                          return_inertia=False), 0.0
            return csr_labels_inertia(X, sample_weight, centers, effective_n_threads())
        labels = np.empty(X.shape[0], dtype=np.int32)
        inertia = 0.0
        n_nonfinite = 0
        n_threads = effective_n_threads()
        for start, stop, block in _row_blocks(X):
            block_inertia, block_nonfinite = _assign_labels(
                block, None if sample_weight is None else sample_weight[start:stop],
                centers, labels[start:stop], n_threads)
            inertia += block_inertia
            n_nonfinite += block_nonfinite
        if n_nonfinite:
            # A NaN or an infinity in X (check_array's message), or finite
            # samples whose products overflow (labels as the argmin gives them).
            assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
        return labels, inertia

    def predict(self, X):
        """Nearest center of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the nearest center of each sample.
        """
        # The kernel finds NaN and infinity on its way (no pass over X first).
        X = self._check_test_data(X, ensure_all_finite=False)
        labels, _ = self._labels_inertia(X, None)
        return labels

    def transform(self, X):
        """Distance of each sample to each center.

        Distances are computed from differences, summed in float64: float32
        input gets float32 output without the cancellation of the
        ``||x||^2 - 2 <x, c> + ||c||^2`` expansion.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            Distance of each sample to each center, of the dtype of `X`.
        """
        X = self._check_test_data(X)
        centers = self._centers_as(X.dtype)
        if sp.issparse(X):
            return csr_transform(X, centers, effective_n_threads())
        out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
        n_threads = effective_n_threads()
        # The centers in float64: the kernel sums the differences in float64.
        centers_t, _ = _padded_t(centers.astype(np.float64))
        for start, stop, block in _row_blocks(X):
            _assign.center_distances(block, centers_t, centers.shape[0], out[start:stop],
                                     n_threads)
        return out

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of X: the k-means objective, negated.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            Minus the weighted sum of squared distances to the nearest center.
        """
        X = self._check_test_data(X, ensure_all_finite=False)
        # A score is defined for any weights: negative ones are accepted, as
        # in scikit-learn (not by fit, whose means and seeding need them >= 0).
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype,
                                            allow_negative=True)
        _, inertia = self._labels_inertia(X, sample_weight)
        return -inertia

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
