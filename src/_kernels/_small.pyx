# Whole k-means runs on small data: greedy k-means++ and Lloyd's loop to
# convergence, one run per thread, in one call.
# Cost per run: O(n_clusters * n_local_trials * n_samples * n_features) for
# the seeding, then per Lloyd iteration lloyd_iter's: a GEMM row for each
# sample whose bounds do not settle its label (_bounds.pxd);
# O(n_samples * n_local_trials) scratch.
#
# On small data a Lloyd iteration takes tens of microseconds, and the Python
# loop around the one-pass kernels (_lloyd.pyx, _kmeanspp.pyx), their
# parallel regions and their small NumPy steps cost as much again; with
# several initialisations, the runs themselves are the parallelism. Measured
# on digits (1797 x 64, 10 clusters, n_init=10, 2 threads): 28 ms through the
# one-pass kernels, of which 15 ms in Lloyd passes.
#
# Each run follows exactly the steps of the one-pass path:
# - k-means++ as scikit-learn draws it (Arthur and Vassilvitskii, 2007,
#   greedy): the caller passes the run's uniform numbers, drawn as
#   scikit-learn's ``_kmeans_plusplus`` draws them, and its first center;
#   candidates are found in the float64 running sum of w * D^2, the best
#   candidate lowers the potential most (first on ties);
# - Lloyd's iteration: the chunk step of lloyd_iter (_bounds.pxd), its
#   cluster sums in float64 added in the order of _reduce.pxd's groups (the
#   same bits as lloyd_iter), the center shift and the stopping rules of
#   _kmeans_loops._kmeans_single.
# A run that empties a cluster stops with status RUN_NEEDS_RELOCATION: the
# caller runs it again through the one-pass path, whose relocation follows
# scikit-learn's (a rare event, not worth a second implementation here).

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free

from _reduce cimport CHUNK_SIZE, ChunkPlan, plan_chunks, group_first_chunk, group_end_chunk
from _bounds cimport bounded_lloyd_chunk
from _distances cimport (
    block_center_scores, pending_center_scores, row_argmin, sq_euclidean,
    sq_euclidean_acc, sq_norm,
)
from _sums cimport cluster_partial_size

cdef enum:
    # Below this many features, a candidate's distances by differences cost
    # less than a GEMM call on a chunk (measured: k-means++ on 5,000 x 8
    # blobs, 0.24 ms against 0.47 ms; on digits, 64 features, 1.1 ms against
    # 0.84 ms).
    _GEMM_MIN_FEATURES = 32

cdef enum:
    RUN_DONE = 0
    RUN_NEEDS_RELOCATION = 1
    RUN_NO_MEMORY = 2


def kmeans_runs(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    floating[:, :, ::1] centers,
    const double[:, ::1] uniforms,
    const Py_ssize_t[::1] first_centers,
    bint seed_centers,
    int n_local_trials,
    int max_iter,
    double tol,
    int[:, ::1] labels,
    double[::1] inertia,
    int[::1] n_iter,
    int[::1] status,
    int n_threads,
):
    """Run k-means from each of n_runs starts; each run on one thread.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    centers : (n_runs, n_clusters, n_features)  # INOUT initial centers (or, with
                                                #     seed_centers, OUT k-means++
                                                #     centers) in, final out
    uniforms : (n_runs, (n_clusters - 1) * n_local_trials)  # IN k-means++ draws
    first_centers : (n_runs,)                   # IN k-means++ first center
    seed_centers : bool                         # seed by k-means++ first
    n_local_trials : int
    max_iter : int
    tol : float                                 # on the squared center shift
    labels : (n_runs, n_samples)                # OUT
    inertia : (n_runs,)                         # OUT
    n_iter : (n_runs,)                          # OUT
    status : (n_runs,)                          # OUT RUN_DONE, or
                                                #     RUN_NEEDS_RELOCATION (1): centers
                                                #     hold the run's start
    n_threads : int
    """
    cdef Py_ssize_t n_runs = centers.shape[0]
    cdef Py_ssize_t r
    for r in prange(n_runs, nogil=True, num_threads=max(1, min(n_threads, n_runs)),
                    schedule='dynamic'):
        if seed_centers:
            status[r] = _seed(&X[0, 0], &sample_weight[0], X.shape[0], X.shape[1],
                              centers.shape[1], first_centers[r], &uniforms[r, 0],
                              n_local_trials, &centers[r, 0, 0])
            if status[r] != RUN_DONE:
                continue
        status[r] = _lloyd(&X[0, 0], &sample_weight[0], X.shape[0], X.shape[1],
                           centers.shape[1], max_iter, tol, &centers[r, 0, 0],
                           &labels[r, 0], &inertia[r], &n_iter[r])
    for r in range(n_runs):
        if status[r] == RUN_NO_MEMORY:
            raise MemoryError()


cdef int _seed(
    const floating* X, const floating* w, Py_ssize_t n_samples, Py_ssize_t n_features,
    Py_ssize_t n_clusters, Py_ssize_t first, const double* uniforms,
    int n_local_trials,
    floating* centers,            # OUT (n_clusters, n_features)
) noexcept nogil:
    """Greedy k-means++ on one thread, drawing as scikit-learn draws.

    A candidate t can bring sample x closer than its nearest center c only
    if d(x, c) > d(t, c) / 2 (triangle inequality): the samples with
    D(x)^2 <= reach[c] = min over candidates of d(t, c)^2 / 4 are passed
    over, the others get their distances to all candidates by one GEMM per
    chunk, from ||x||^2 - 2 <x, t> + ||t||^2 as scikit-learn computes them
    (by differences below _GEMM_MIN_FEATURES features, where a GEMM costs more).
    The best candidate has the largest gain sum w max(D(x)^2 - d(x, t)^2, 0),
    that is the smallest potential (the first one on ties).
    """
    cdef Py_ssize_t t_count = n_local_trials
    cdef floating* closest = <floating*> malloc(n_samples * sizeof(floating))
    cdef floating* x_sq = <floating*> malloc(n_samples * sizeof(floating))
    cdef int* nearest = <int*> malloc(n_samples * sizeof(int))
    cdef unsigned char* closer = <unsigned char*> malloc(n_samples * sizeof(unsigned char))
    cdef floating* trial = <floating*> malloc(n_samples * t_count * sizeof(floating))
    cdef floating* cands = <floating*> malloc(t_count * n_features * sizeof(floating))
    cdef floating* cand_sq = <floating*> malloc(t_count * sizeof(floating))
    cdef floating* reach = <floating*> malloc(n_clusters * sizeof(floating))
    cdef floating* scores = <floating*> malloc(CHUNK_SIZE * t_count * sizeof(floating))
    cdef floating* rows = <floating*> malloc(CHUNK_SIZE * n_features * sizeof(floating))
    cdef Py_ssize_t* pending = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
    cdef Py_ssize_t* candidates = <Py_ssize_t*> malloc(t_count * sizeof(Py_ssize_t))
    cdef double* gains = <double*> malloc(t_count * sizeof(double))
    cdef Py_ssize_t c, t, i, j, f, s, best, chunk, chunk_index, n_rows, n_pending
    cdef double potential, threshold, running
    cdef floating d, r
    cdef int status = RUN_DONE
    if (closest == NULL or x_sq == NULL or nearest == NULL or closer == NULL
            or trial == NULL or cands == NULL or cand_sq == NULL or reach == NULL
            or scores == NULL or rows == NULL or pending == NULL or candidates == NULL
            or gains == NULL):
        status = RUN_NO_MEMORY

    if status == RUN_DONE:
        for f in range(n_features):
            centers[f] = X[first * n_features + f]
        for i in range(n_samples):
            closest[i] = sq_euclidean(X + i * n_features, centers, n_features)
            x_sq[i] = sq_norm(X + i * n_features, n_features)
            nearest[i] = 0

    for c in range(1, n_clusters if status == RUN_DONE else 0):
        potential = 0.0
        for i in range(n_samples):
            potential += w[i] * closest[i]
        # Each candidate: the first sample whose running sum of w * D^2
        # reaches its threshold (the last sample if rounding leaves none).
        for t in range(t_count):
            threshold = uniforms[(c - 1) * t_count + t] * potential
            running = 0.0
            candidates[t] = n_samples - 1
            for i in range(n_samples):
                running += <double> (w[i] * closest[i])
                if running >= threshold:
                    candidates[t] = i
                    break
            for f in range(n_features):
                cands[t * n_features + f] = X[candidates[t] * n_features + f]
            cand_sq[t] = x_sq[candidates[t]]
            gains[t] = 0.0
        for j in range(c):
            reach[j] = INFINITY
            for t in range(t_count):
                r = sq_euclidean(cands + t * n_features, centers + j * n_features,
                                 n_features) / 4
                if r < reach[j]:
                    reach[j] = r

        for chunk_index in range((n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE):
            chunk = chunk_index * CHUNK_SIZE
            n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
            n_pending = 0
            for i in range(n_rows):
                s = chunk + i
                closer[s] = 0
                if closest[s] > reach[nearest[s]]:
                    pending[n_pending] = s
                    n_pending = n_pending + 1
            if n_pending == 0:
                continue
            if n_features >= _GEMM_MIN_FEATURES:
                pending_center_scores(X, chunk, n_rows, pending, n_pending, cands,
                                      cand_sq, t_count, n_features, rows, scores)
            for i in range(n_pending):
                s = pending[i]
                for t in range(t_count):
                    if n_features >= _GEMM_MIN_FEATURES:
                        d = scores[i * t_count + t] + x_sq[s]
                        if d < 0:
                            d = 0
                    else:
                        d = sq_euclidean(X + s * n_features, cands + t * n_features,
                                         n_features)
                    trial[s * t_count + t] = d
                    if d < closest[s]:
                        gains[t] += w[s] * (closest[s] - d)
                        closer[s] = 1

        best = 0
        for t in range(1, t_count):
            if gains[t] > gains[best]:
                best = t
        for s in range(n_samples):
            if closer[s] and trial[s * t_count + best] < closest[s]:
                closest[s] = trial[s * t_count + best]
                nearest[s] = <int> c
        for f in range(n_features):
            centers[c * n_features + f] = cands[best * n_features + f]

    free(closest)
    free(x_sq)
    free(nearest)
    free(closer)
    free(trial)
    free(cands)
    free(cand_sq)
    free(reach)
    free(scores)
    free(rows)
    free(pending)
    free(candidates)
    free(gains)
    return status


cdef int _lloyd(
    const floating* X, const floating* w, Py_ssize_t n_samples, Py_ssize_t n_features,
    Py_ssize_t n_clusters, int max_iter, double tol,
    floating* centers,            # INOUT (n_clusters, n_features)
    int* labels,                  # OUT (n_samples,)
    double* inertia,              # OUT
    int* n_iter,                  # OUT
) noexcept nogil:
    """Lloyd's iterations from centers until convergence, on one thread, by
    the chunk step of lloyd_iter (_bounds.pxd)."""
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef Py_ssize_t n_sums = n_clusters * n_features
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* part = <double*> malloc(stride * sizeof(double))
    cdef double* totals = <double*> malloc(stride * sizeof(double))
    cdef double* half = <double*> malloc(n_clusters * sizeof(double))
    cdef double* shift = <double*> malloc(n_clusters * sizeof(double))
    cdef floating* scores = <floating*> malloc(CHUNK_SIZE * n_clusters * sizeof(floating))
    cdef floating* rows = <floating*> malloc(CHUNK_SIZE * n_features * sizeof(floating))
    cdef Py_ssize_t* pending = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
    cdef floating* upper = <floating*> malloc(n_samples * sizeof(floating))
    cdef floating* second = <floating*> malloc(n_samples * sizeof(floating))
    cdef floating* start = <floating*> malloc(n_sums * sizeof(floating))
    cdef floating* norms = <floating*> malloc(n_clusters * sizeof(floating))
    cdef Py_ssize_t g, chunk_index, chunk, n_rows, i, s, j, f
    cdef int it, status = RUN_DONE
    cdef long n_changed
    cdef bint strict = False
    cdef double shift_sq, diff, total, max_drift = 0.0, largest
    cdef floating value

    if (part == NULL or totals == NULL or half == NULL or shift == NULL
            or scores == NULL or rows == NULL or pending == NULL or upper == NULL
            or second == NULL or start == NULL or norms == NULL):
        status = RUN_NO_MEMORY
    else:
        for j in range(n_sums):
            start[j] = centers[j]
        for j in range(n_clusters):
            shift[j] = 0.0
        for s in range(n_samples):
            labels[s] = -1
            upper[s] = INFINITY
            second[s] = 0.0

    it = 0
    while status == RUN_DONE and it < max_iter:
        _sq_norms(centers, n_clusters, n_features, norms)
        _nearest_half_dists(centers, n_clusters, n_features, half)
        # Labels and cluster sums, a group of chunks at a time, the groups'
        # sums added in order as finish_cluster_sums adds lloyd_iter's.
        for j in range(stride):
            totals[j] = 0.0
        for g in range(plan.n_groups):
            for j in range(stride):
                part[j] = 0.0
            for chunk_index in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = chunk_index * CHUNK_SIZE
                bounded_lloyd_chunk(
                    X, w, chunk, min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk),
                    centers, norms, half, shift, max_drift, upper, second, labels,
                    n_clusters, n_features, part, stride, scores, rows, pending)
            for j in range(stride):
                totals[j] = totals[j] + part[j]
        n_changed = <long> totals[stride - 1]

        # New centers; an empty cluster goes back to the caller.
        for j in range(n_clusters):
            if totals[n_sums + j] == 0.0:
                status = RUN_NEEDS_RELOCATION
        if status != RUN_DONE:
            break
        shift_sq = 0.0
        largest = 0.0
        for j in range(n_clusters):
            total = 0.0
            for f in range(n_features):
                value = <floating> (totals[j * n_features + f] / totals[n_sums + j])
                diff = <double> value - <double> centers[j * n_features + f]
                total += diff * diff
                centers[j * n_features + f] = value
            shift[j] = sqrt(total)
            shift_sq += shift[j] * shift[j]
            if shift[j] > largest:
                largest = shift[j]
        strict = n_changed == 0
        it = it + 1
        if strict or shift_sq <= tol:
            break
        max_drift += largest

    if status == RUN_DONE:
        n_iter[0] = it
        if not strict:
            # The centers moved after the last assignment: assign once more.
            _sq_norms(centers, n_clusters, n_features, norms)
            for chunk_index in range(plan.n_chunks):
                chunk = chunk_index * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                block_center_scores(X + chunk * n_features, n_rows, centers, norms,
                                    n_clusters, n_features, scores)
                for i in range(n_rows):
                    labels[chunk + i] = <int> row_argmin(scores + i * n_clusters,
                                                         n_clusters)
        inertia[0] = _inertia(X, w, n_samples, n_features, centers, labels)
    elif status == RUN_NEEDS_RELOCATION:
        for j in range(n_sums):
            centers[j] = start[j]
    free(part)
    free(totals)
    free(half)
    free(shift)
    free(scores)
    free(rows)
    free(pending)
    free(upper)
    free(second)
    free(start)
    free(norms)
    return status


cdef void _nearest_half_dists(const floating* centers, Py_ssize_t n_clusters,
                              Py_ssize_t n_features, double* out) noexcept nogil:
    """Half the distance from each center to its nearest other (inf if alone)."""
    cdef Py_ssize_t i, j
    cdef double d
    for i in range(n_clusters):
        out[i] = INFINITY
    for i in range(n_clusters):
        for j in range(i + 1, n_clusters):
            d = sqrt(sq_euclidean_acc(centers + i * n_features, centers + j * n_features,
                                      n_features)) / 2
            if d < out[i]:
                out[i] = d
            if d < out[j]:
                out[j] = d


cdef inline void _sq_norms(const floating* centers, Py_ssize_t n_clusters,
                           Py_ssize_t n_features, floating* out) noexcept nogil:
    cdef Py_ssize_t j, f
    cdef floating total
    for j in range(n_clusters):
        total = 0.0
        for f in range(n_features):
            total = total + centers[j * n_features + f] * centers[j * n_features + f]
        out[j] = total


cdef double _inertia(const floating* X, const floating* w, Py_ssize_t n_samples,
                     Py_ssize_t n_features, const floating* centers,
                     const int* labels) noexcept nogil:
    """Sum of w ||x - c_label||^2 in double, by chunk-order partials as
    _assign.labelled_inertia adds them."""
    cdef ChunkPlan plan = plan_chunks(n_samples, 1)
    cdef Py_ssize_t g, s
    cdef double part, total = 0.0
    for g in range(plan.n_groups):
        part = 0.0
        for s in range(group_first_chunk(plan, g) * CHUNK_SIZE,
                       min(group_end_chunk(plan, g) * CHUNK_SIZE, n_samples)):
            part = part + w[s] * sq_euclidean_acc(
                X + s * n_features, centers + labels[s] * n_features, n_features)
        total = total + part
    return total
