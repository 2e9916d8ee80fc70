# Whole k-means runs on small data: greedy k-means++ and Lloyd's loop to
# convergence, one run per thread, in one call.
# Cost per run: O(n_clusters * n_local_trials * n_samples * n_features) for
# the seeding, then per Lloyd iteration O(n_samples) for the bounds plus
# O(n_clusters * n_features) for each sample they do not settle, and
# O(n_features) for each sample that changes clusters;
# O(n_samples * n_local_trials) scratch.
#
# On small data a Lloyd iteration takes tens of microseconds, and the Python
# loop around the one-pass kernels (_lloyd.pyx, _kmeanspp.pyx), their
# parallel regions, GEMM calls and small NumPy steps cost as much again; with
# several initialisations, the runs themselves are the parallelism. Measured
# on digits (1797 x 64, 10 clusters, n_init=10, 2 threads): 28 ms through the
# one-pass kernels, 20 ms with the one-pass chunk step inside this kernel,
# 12 ms as below.
#
# Each run takes the steps of the one-pass path, with the same random draws:
# - k-means++ as scikit-learn draws it (Arthur and Vassilvitskii, 2007,
#   greedy): the caller passes the run's uniform numbers, drawn as
#   scikit-learn's ``_kmeans_plusplus`` draws them, and its first center;
#   candidates are found in the float64 running sum of w * D^2 and scored by
#   _kmeanspp's micro-kernel; the best candidate lowers the potential most
#   (first on ties);
# - Lloyd's iteration with Hamerly's bounds (2010): an upper bound on the
#   distance to the own center and one lower bound on the distances to the
#   others settle most samples with two comparisons; the others get their
#   distances to all centers in one vector pass (row_sq_dists, from
#   differences). The cluster sums, in float64, move only the samples that
#   change clusters, so they agree with the one-pass path's sums to rounding,
#   not to the bit; the center shift and the stopping rules are those of
#   _kmeans_loops._kmeans_single, and the labels after the last move of the
#   centers come from a GEMM, as the one-pass path takes them.
# A run that empties a cluster stops with status RUN_NEEDS_RELOCATION: the
# caller runs it again through the one-pass path, whose relocation follows
# scikit-learn's (a rare event, not worth a second implementation here).

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free

from _reduce cimport CHUNK_SIZE, ChunkPlan, plan_chunks, group_first_chunk, group_end_chunk
from _bounds cimport sieve_by_bounds
from _distances cimport (
    CENTER_BLOCK, row_center_scores, score_lower_bound, score_row_nearest_two,
    score_rows, sq_euclidean, sq_euclidean_acc, sq_norm,
)

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
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef floating* x_sq = <floating*> malloc(n_samples * sizeof(floating))
    cdef Py_ssize_t r, s
    if x_sq == NULL:
        raise MemoryError()
    with nogil:
        for s in range(n_samples):
            x_sq[s] = sq_norm(&X[s, 0], n_features)
    for r in prange(n_runs, nogil=True, num_threads=max(1, min(n_threads, n_runs)),
                    schedule='dynamic'):
        if seed_centers:
            # One cluster draws nothing: its row of draws is empty, and
            # &uniforms[r, 0] would index past it (the checked build's
            # IndexError; _seed never reads it).
            status[r] = _seed(&X[0, 0], x_sq, &sample_weight[0], n_samples, n_features,
                              centers.shape[1], first_centers[r],
                              &uniforms[r, 0] if uniforms.shape[1] > 0 else NULL,
                              n_local_trials, &centers[r, 0, 0])
            if status[r] != RUN_DONE:
                continue
        status[r] = _lloyd(&X[0, 0], x_sq, &sample_weight[0], n_samples, n_features,
                           centers.shape[1], max_iter, tol, &centers[r, 0, 0],
                           &labels[r, 0], &inertia[r], &n_iter[r])
    free(x_sq)
    for r in range(n_runs):
        if status[r] == RUN_NO_MEMORY:
            raise MemoryError()


cdef int _seed(
    const floating* X, const floating* x_sq, const floating* w, Py_ssize_t n_samples,
    Py_ssize_t n_features,
    Py_ssize_t n_clusters, Py_ssize_t first, const double* uniforms,
    int n_local_trials,
    floating* centers,            # OUT (n_clusters, n_features)
) noexcept nogil:
    """Greedy k-means++ on one thread, drawing as scikit-learn draws.

    A candidate t can bring sample x closer than its nearest center c only
    if d(x, c) > d(t, c) / 2 (triangle inequality): the samples with
    D(x)^2 <= reach[c] = min over candidates of d(t, c)^2 / 4 are passed
    over, the others are scored by score_rows (_simd.h), as
    _kmeanspp.score_candidates scores them: their rows read in place, their
    distances to the candidates from ||x||^2 - 2 <x, t> + ||t||^2 as
    scikit-learn computes them, kept for the samples that some candidate
    brings closer. The best candidate has the largest gain
    sum w max(D(x)^2 - d(x, t)^2, 0), added by chunk and by group as
    score_candidates adds them (the first one on ties).
    """
    cdef Py_ssize_t t_count = n_local_trials
    cdef Py_ssize_t n_padded = (t_count + CENTER_BLOCK - 1) // CENTER_BLOCK * CENTER_BLOCK
    cdef ChunkPlan plan = plan_chunks(n_samples, n_padded)
    cdef floating* closest = <floating*> malloc(n_samples * sizeof(floating))
    cdef int* nearest = <int*> malloc(n_samples * sizeof(int))
    cdef floating* kept_sq = <floating*> malloc(n_samples * n_padded * sizeof(floating))
    cdef unsigned short* kept_offset = <unsigned short*> malloc(
        n_samples * sizeof(unsigned short))
    cdef Py_ssize_t* n_kept = <Py_ssize_t*> malloc(plan.n_chunks * sizeof(Py_ssize_t))
    cdef floating* cands_t = <floating*> malloc(n_features * n_padded * sizeof(floating))
    cdef floating* cand_sq = <floating*> malloc(n_padded * sizeof(floating))
    cdef floating* reach = <floating*> malloc(n_clusters * sizeof(floating))
    cdef Py_ssize_t* scored = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
    cdef Py_ssize_t* candidates = <Py_ssize_t*> malloc(t_count * sizeof(Py_ssize_t))
    cdef double* chunk_gain = <double*> malloc(n_padded * sizeof(double))
    cdef double* part = <double*> malloc(n_padded * sizeof(double))
    cdef double* gains = <double*> malloc(n_padded * sizeof(double))
    cdef double* chunk_cum = <double*> malloc(plan.n_chunks * sizeof(double))
    cdef Py_ssize_t c, t, i, j, f, s, g, k, best, chunk, chunk_index, n_rows, n_scored
    cdef double potential, threshold, running
    cdef floating r
    cdef int status = RUN_DONE
    if (closest == NULL or nearest == NULL or kept_sq == NULL
            or kept_offset == NULL or n_kept == NULL or cands_t == NULL
            or cand_sq == NULL or reach == NULL or scored == NULL
            or candidates == NULL or chunk_gain == NULL or part == NULL
            or gains == NULL or chunk_cum == NULL):
        status = RUN_NO_MEMORY

    if status == RUN_DONE:
        for f in range(n_features):
            centers[f] = X[first * n_features + f]
        for i in range(n_samples):
            closest[i] = sq_euclidean(X + i * n_features, centers, n_features)
            nearest[i] = 0
        for j in range(n_features * n_padded):
            cands_t[j] = 0
        for t in range(n_padded):
            cand_sq[t] = 0

    for c in range(1, n_clusters if status == RUN_DONE else 0):
        # The running sum of w * D^2 at the end of each chunk; its last
        # value is the potential.
        potential = 0.0
        for chunk_index in range(plan.n_chunks):
            for i in range(chunk_index * CHUNK_SIZE,
                           min((chunk_index + 1) * CHUNK_SIZE, n_samples)):
                potential += w[i] * closest[i]
            chunk_cum[chunk_index] = potential
        # Each candidate: the first sample whose running sum of w * D^2
        # reaches its threshold (the last sample if rounding leaves none),
        # looked for from the chunk where the sum reaches it.
        for t in range(t_count):
            threshold = uniforms[(c - 1) * t_count + t] * potential
            chunk_index = 0
            while chunk_index < plan.n_chunks - 1 and chunk_cum[chunk_index] < threshold:
                chunk_index = chunk_index + 1
            running = chunk_cum[chunk_index - 1] if chunk_index > 0 else 0.0
            candidates[t] = n_samples - 1
            for i in range(chunk_index * CHUNK_SIZE, n_samples):
                running += <double> (w[i] * closest[i])
                if running >= threshold:
                    candidates[t] = i
                    break
            for f in range(n_features):
                cands_t[f * n_padded + t] = X[candidates[t] * n_features + f]
            cand_sq[t] = x_sq[candidates[t]]
        for j in range(c):
            reach[j] = INFINITY
            for t in range(t_count):
                r = sq_euclidean(X + candidates[t] * n_features, centers + j * n_features,
                                 n_features) / 4
                if r < reach[j]:
                    reach[j] = r

        for t in range(n_padded):
            gains[t] = 0.0
        for g in range(plan.n_groups):
            for t in range(n_padded):
                part[t] = 0.0
            for chunk_index in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = chunk_index * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                n_scored = 0
                for i in range(n_rows):
                    s = chunk + i
                    scored[n_scored] = s
                    n_scored = n_scored + (reach[nearest[s]] < closest[s])
                for t in range(n_padded):
                    chunk_gain[t] = 0.0
                n_kept[chunk_index] = 0
                if n_scored > 0:
                    n_kept[chunk_index] = score_rows(
                        X, scored, n_scored, chunk, n_features, x_sq, w, closest,
                        cands_t, cand_sq, t_count, n_padded,
                        kept_sq + chunk * n_padded, kept_offset + chunk, chunk_gain)
                for t in range(t_count):
                    part[t] = part[t] + chunk_gain[t]
            for t in range(t_count):
                gains[t] = gains[t] + part[t]

        best = 0
        for t in range(1, t_count):
            if gains[t] > gains[best]:
                best = t
        for chunk_index in range(plan.n_chunks):
            chunk = chunk_index * CHUNK_SIZE
            for k in range(n_kept[chunk_index]):
                s = chunk + kept_offset[chunk + k]
                if kept_sq[(chunk + k) * n_padded + best] < closest[s]:
                    closest[s] = kept_sq[(chunk + k) * n_padded + best]
                    nearest[s] = <int> c
        for f in range(n_features):
            centers[c * n_features + f] = X[candidates[best] * n_features + f]

    free(closest)
    free(nearest)
    free(kept_sq)
    free(kept_offset)
    free(n_kept)
    free(cands_t)
    free(cand_sq)
    free(reach)
    free(scored)
    free(candidates)
    free(chunk_gain)
    free(part)
    free(gains)
    free(chunk_cum)
    return status


cdef int _lloyd(
    const floating* X, const floating* x_sq, const floating* w, Py_ssize_t n_samples,
    Py_ssize_t n_features,
    Py_ssize_t n_clusters, int max_iter, double tol,
    floating* centers,            # INOUT (n_clusters, n_features)
    int* labels,                  # OUT (n_samples,)
    double* inertia,              # OUT
    int* n_iter,                  # OUT
) noexcept nogil:
    """Lloyd's iterations from centers until convergence, on one thread.

    Bounds (Hamerly, 2010), with a = labels[s]:
        upper[s]                 >= d(x_s, c_a)
        second[s] - max_drift    <= d(x_s, c_j) for every j != a
    where max_drift is the sum over the updates of the largest move of a
    center: the lower bound drifts with the centers without being rewritten.
    """
    cdef Py_ssize_t n_sums = n_clusters * n_features
    cdef Py_ssize_t n_padded = (n_clusters + CENTER_BLOCK - 1) // CENTER_BLOCK * CENTER_BLOCK
    cdef double* sums = <double*> malloc(n_sums * sizeof(double))
    cdef double* weights = <double*> malloc(n_clusters * sizeof(double))
    cdef Py_ssize_t* members = <Py_ssize_t*> malloc(n_clusters * sizeof(Py_ssize_t))
    cdef double* half = <double*> malloc(n_clusters * sizeof(double))
    cdef double* shift = <double*> malloc(n_clusters * sizeof(double))
    cdef floating* centers_t = <floating*> malloc(n_features * n_padded * sizeof(floating))
    cdef floating* norms = <floating*> malloc(n_padded * sizeof(floating))
    cdef floating* scores = <floating*> malloc(n_padded * sizeof(floating))
    cdef floating* upper = <floating*> malloc(n_samples * sizeof(floating))
    cdef floating* second = <floating*> malloc(n_samples * sizeof(floating))
    cdef floating* start = <floating*> malloc(n_sums * sizeof(floating))
    cdef Py_ssize_t* pending = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
    cdef double* bounds = <double*> malloc(CHUNK_SIZE * sizeof(double))
    cdef Py_ssize_t s, j, f, chunk_index, chunk
    cdef int it = 0, status = RUN_DONE
    cdef long n_changed = n_samples
    cdef double shift_sq, diff, total, largest, max_drift = 0.0
    cdef floating value

    if (sums == NULL or weights == NULL or members == NULL or half == NULL
            or shift == NULL or centers_t == NULL or norms == NULL or scores == NULL
            or upper == NULL or second == NULL or start == NULL or pending == NULL
            or bounds == NULL):
        status = RUN_NO_MEMORY
    else:
        for j in range(n_sums):
            start[j] = centers[j]
            sums[j] = 0.0
        for j in range(n_clusters):
            weights[j] = 0.0
            members[j] = 0
        for j in range(n_features * n_padded):
            centers_t[j] = 0
        for j in range(n_padded):
            norms[j] = 0
        _transpose(centers, n_clusters, n_features, n_padded, centers_t, norms)
        for s in range(n_samples):
            labels[s] = -1
            _nearest_two(X + s * n_features, x_sq[s], n_features, n_clusters, centers,
                         centers_t, norms, n_padded, scores, &labels[s], &upper[s],
                         &second[s])
            _move_sample(sums, weights, members, X + s * n_features, w[s], -1,
                         labels[s], n_features)

    while status == RUN_DONE:
        # New centers; a cluster left without weight goes back to the caller.
        for j in range(n_clusters):
            if members[j] == 0:
                status = RUN_NEEDS_RELOCATION
        if status != RUN_DONE:
            break
        shift_sq = 0.0
        largest = 0.0
        for j in range(n_clusters):
            total = 0.0
            for f in range(n_features):
                value = <floating> (sums[j * n_features + f] / weights[j])
                diff = <double> value - <double> centers[j * n_features + f]
                total += diff * diff
                centers[j * n_features + f] = value
            shift[j] = sqrt(total)
            shift_sq += total
            if shift[j] > largest:
                largest = shift[j]
        max_drift += largest
        it = it + 1
        _transpose(centers, n_clusters, n_features, n_padded, centers_t, norms)
        if n_changed == 0 or shift_sq <= tol or it >= max_iter:
            break
        _nearest_half_dists(centers, n_clusters, n_features, half)
        n_changed = 0
        for chunk_index in range((n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE):
            chunk = chunk_index * CHUNK_SIZE
            n_changed += _bounded_chunk(
                X, x_sq, w, chunk, min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk),
                n_features, n_clusters, centers, centers_t, norms, n_padded, shift,
                max_drift, half, scores, pending, bounds, labels, upper, second, sums,
                weights, members)

    if status == RUN_DONE:
        n_iter[0] = it
        if n_changed != 0:
            # The centers moved after the last assignment: assign once more.
            for s in range(n_samples):
                labels[s] = -1
                _nearest_two(X + s * n_features, x_sq[s], n_features, n_clusters,
                             centers, centers_t, norms, n_padded, scores, &labels[s],
                             &upper[s], &second[s])
        inertia[0] = _inertia(X, w, n_samples, n_features, centers, labels)
    elif status == RUN_NEEDS_RELOCATION:
        for j in range(n_sums):
            centers[j] = start[j]
    free(sums)
    free(weights)
    free(members)
    free(half)
    free(shift)
    free(centers_t)
    free(norms)
    free(scores)
    free(upper)
    free(second)
    free(start)
    free(pending)
    free(bounds)
    return status


cdef inline void _nearest_two(
    const floating* x, floating x_sq, Py_ssize_t n_features, Py_ssize_t n_clusters,
    const floating* centers,      # IN (n_clusters, n_features)
    const floating* centers_t,    # IN (n_features, n_padded) transposed, zero-padded
    const floating* norms,        # IN (n_padded,) their squared norms, zero-padded
    Py_ssize_t n_padded,
    floating* scores,             # scratch (n_padded,)
    int* label,                   # INOUT nearest center (the first one on ties);
                                  #     in: a center whose distance is known, or -1
    floating* upper,              # INOUT distance to it, from differences; in:
                                  #     the distance to the center in label
    floating* second,             # OUT lower bound on the distance to the others
) noexcept nogil:
    """The nearest center of x by the scores ||c||^2 - 2 <x, c> (the argmin
    scikit-learn takes), its exact distance, and the second smallest
    distance less the rounding error of the scores."""
    cdef Py_ssize_t nearest, runner_up
    cdef floating next_best
    row_center_scores(x, centers_t, norms, n_features, n_padded, scores)
    nearest = score_row_nearest_two(scores, n_clusters, &runner_up, &next_best)
    if nearest != label[0]:
        label[0] = <int> nearest
        upper[0] = sqrt(sq_euclidean(x, centers + nearest * n_features, n_features))
    second[0] = <floating> (
        score_lower_bound(next_best, x_sq, norms[runner_up], n_features)
        if runner_up >= 0 else INFINITY)


cdef long _bounded_chunk(
    const floating* X, const floating* x_sq, const floating* w,
    Py_ssize_t chunk, Py_ssize_t n_rows, Py_ssize_t n_features, Py_ssize_t n_clusters,
    const floating* centers, const floating* centers_t, const floating* norms,
    Py_ssize_t n_padded,
    const double* shift,          # IN (n_clusters,) last move of each center
    double max_drift,             # IN sum of the largest moves
    const double* half,           # IN (n_clusters,) half distance to the nearest other
    floating* scores,             # scratch (n_padded,)
    Py_ssize_t* pending,          # scratch (CHUNK_SIZE,)
    double* bounds,               # scratch (CHUNK_SIZE,)
    int* labels, floating* upper, floating* second,  # INOUT
    double* sums, double* weights, Py_ssize_t* members,  # INOUT
) noexcept nogil:
    """The samples of one chunk after the centers moved by shift (see _lloyd
    for the bounds); returns how many changed clusters (they move between the
    cluster sums).

    No other center can be nearer if the upper bound is below both the lower
    bound and half the distance from the own center to its nearest other.
    The chunk is sieved in three passes -- the bounds, the exact distance to
    the own center, all the scores -- each pass listing the samples left for
    the next without a branch: whether a sample is settled is a coin toss for
    the branch predictor.
    """
    cdef Py_ssize_t i, s, n_pending = 0, n_left = 0
    cdef long n_changed = 0
    cdef int old
    cdef double bound, u_sq
    # 1. The bounds, moved with the centers.
    n_pending = sieve_by_bounds(chunk, n_rows, labels, upper, second, shift, max_drift,
                                half, pending, bounds)
    # 2. The exact distance to the own center, compared on squares (no wait
    #    for the square root).
    for i in range(n_pending):
        s = pending[i]
        u_sq = sq_euclidean(X + s * n_features, centers + labels[s] * n_features,
                            n_features)
        upper[s] = <floating> sqrt(u_sq)
        bound = bounds[i]
        pending[n_left] = s
        n_left = n_left + (bound < 0 or u_sq > bound * bound)
    # 3. All the scores.
    for i in range(n_left):
        s = pending[i]
        old = labels[s]
        _nearest_two(X + s * n_features, x_sq[s], n_features, n_clusters, centers,
                     centers_t, norms, n_padded, scores, &labels[s], &upper[s],
                     &second[s])
        second[s] = <floating> (second[s] + max_drift)
        if labels[s] != old:
            _move_sample(sums, weights, members, X + s * n_features, w[s], old,
                         labels[s], n_features)
            n_changed += 1
    return n_changed


cdef inline void _move_sample(
    double* sums, double* weights, Py_ssize_t* members, const floating* x, double w,
    Py_ssize_t old, Py_ssize_t new, Py_ssize_t n_features,
) noexcept nogil:
    """Take w * x out of cluster old's sum (none if old < 0) and into new's.
    members counts the samples of positive weight: a cluster without any
    has no weight, which is what scikit-learn calls empty."""
    cdef Py_ssize_t f
    cdef double* row
    if old >= 0:
        row = sums + old * n_features
        for f in range(n_features):
            row[f] = row[f] - w * x[f]
        weights[old] = weights[old] - w
        if w > 0:
            members[old] = members[old] - 1
    row = sums + new * n_features
    for f in range(n_features):
        row[f] = row[f] + w * x[f]
    weights[new] = weights[new] + w
    if w > 0:
        members[new] = members[new] + 1


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


cdef inline void _transpose(const floating* centers, Py_ssize_t n_clusters,
                            Py_ssize_t n_features, Py_ssize_t n_padded,
                            floating* centers_t, floating* norms) noexcept nogil:
    """centers_t[f, j] = centers[j, f] and norms[j] = ||c_j||^2; the padding
    is left as it is."""
    cdef Py_ssize_t j, f
    for j in range(n_clusters):
        for f in range(n_features):
            centers_t[f * n_padded + j] = centers[j * n_features + f]
    _sq_norms(centers, n_clusters, n_features, norms)


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
