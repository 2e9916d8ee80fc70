# Greedy k-means++ seeding, one step in two passes: draw candidates from the
# chunked potential, then score every candidate -- the same pass makes the
# previous step's best candidate a center. Cost per step:
# O(n_samples) for the bounds plus a GEMM row (n_candidates x n_features) per
# sample that the triangle inequality does not rule out.
#
# Every sample keeps the squared distance D^2 to its nearest chosen center c.
# A candidate t can only get closer than D if d(t, c) < 2 D (triangle
# inequality), so a sample is skipped, without reading its row, whenever
# d(t, c)^2 / 4 >= D^2 for every candidate t: the "reach" of c, the smallest
# d(t, c)^2 / 4, is at least D^2. Once a few centers are chosen, the samples
# near them are skipped: later steps touch a part of X only.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_first_chunk, group_end_chunk,
    alloc_partials, sum_partials_in_order,
)
from _distances cimport prefetch_row, score_rows


def score_candidates(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const floating[::1] sample_weight,
    const floating[:, ::1] candidates_t,
    const floating[::1] candidate_sq_norms,
    const floating[::1] reach,
    const floating[::1] last_reach,
    const floating[:] last_sq,
    int last_index,
    floating[::1] closest_sq,
    int[::1] nearest,
    floating[:, ::1] candidate_sq,
    double[:, ::1] chunk_potential,
    double[::1] gains,
    int n_threads,
):
    """Make the last chosen candidate a center, then score the new candidates.

    First, for every sample that the last scoring scored, D^2 becomes
    min(D^2, last_sq) (the squared distance to center last_index). Then a
    sample is scored only if some new candidate may bring it closer:
    reach[nearest] < D^2. The scored rows of a chunk are read where they lie
    (no copy) by a register-blocked loop, see _simd.h.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    x_sq_norms : (n_samples,)                   # IN  squared norms of the samples
    sample_weight : (n_samples,)                # IN
    candidates_t : (n_features, n_padded)       # IN  candidate centers, transposed,
                                                #     zero-padded to a multiple of
                                                #     CENTER_BLOCK columns
    candidate_sq_norms : (n_padded,)            # IN  zero-padded
    reach : (n_chosen,)                         # IN  min over candidates of
                                                #     d(candidate, chosen)^2 / 4
    last_reach : (n_chosen - 1,)                # IN  the reach of the last scoring
    last_sq : (n_samples,)                      # IN  the last scoring's squared
                                                #     distances to center last_index;
                                                #     may be a column of candidate_sq
                                                #     (each sample's is read, then written)
    last_index : int                            # IN  -1: no center to add
    closest_sq : (n_samples,)                   # INOUT D^2 to the nearest chosen center
    nearest : (n_samples,)                      # INOUT index of that center
    candidate_sq : (n_samples, n_padded)        # OUT d(x, candidate)^2 of the
                                                #     scored samples, a row each
    chunk_potential : (n_candidates, n_chunks)  # OUT sum over each chunk of
                                                #     w * min(D^2, d(x, candidate)^2)
    gains : (n_candidates,)                     # OUT sum of w * max(D^2 - d^2, 0)
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_candidates = gains.shape[0]
    cdef Py_ssize_t n_padded = candidates_t.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, n_padded)
    cdef double* partials = alloc_partials(plan, n_padded)
    cdef double* part
    cdef double* chunk_gain
    cdef Py_ssize_t* scored
    cdef Py_ssize_t g, c, chunk, n_rows, n_scored, i, s, t
    cdef floating closest
    cdef double base

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        scored = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        chunk_gain = <double*> malloc(n_padded * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * n_padded
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                base = 0.0
                n_scored = 0
                for i in range(n_rows):
                    s = chunk + i
                    closest = closest_sq[s]
                    if (last_index >= 0 and last_reach[nearest[s]] < closest
                            and last_sq[s] < closest):
                        closest = last_sq[s]
                        closest_sq[s] = closest
                        nearest[s] = last_index
                    base = base + sample_weight[s] * closest
                    if reach[nearest[s]] < closest:
                        # The rest of this loop hides the memory latency.
                        prefetch_row(&X[s, 0], n_features * sizeof(floating))
                        scored[n_scored] = s
                        n_scored = n_scored + 1
                for t in range(n_padded):
                    chunk_gain[t] = 0.0
                if n_scored > 0:
                    score_rows(&X[0, 0], scored, n_scored, n_features, &x_sq_norms[0],
                               &sample_weight[0], &closest_sq[0], &candidates_t[0, 0],
                               &candidate_sq_norms[0], n_candidates, n_padded,
                               &candidate_sq[0, 0], chunk_gain)
                for t in range(n_candidates):
                    chunk_potential[t, c] = base - chunk_gain[t]
                    part[t] = part[t] + chunk_gain[t]
        free(scored)
        free(chunk_gain)

    sum_partials_in_order(partials, plan.n_groups, n_padded, n_candidates,
                          &gains[0], n_threads)
    free(partials)


cdef inline floating current_sq(
    const floating[::1] closest_sq, const int[::1] nearest,
    const floating[::1] last_reach, const floating[:] last_sq, Py_ssize_t s,
) noexcept nogil:
    """D^2 of sample s once the last chosen candidate is a center."""
    if last_reach[nearest[s]] < closest_sq[s] and last_sq[s] < closest_sq[s]:
        return last_sq[s]
    return closest_sq[s]


def draw_candidates(
    const double[::1] thresholds,
    const double[::1] chunk_potential,
    const floating[::1] sample_weight,
    const floating[::1] closest_sq,
    const int[::1] nearest,
    const floating[::1] last_reach,
    const floating[:] last_sq,
    int[::1] out,
):
    """Samples drawn with probability proportional to w * D^2.

    D^2 is taken after the last chosen candidate became a center, as in
    score_candidates: min(D^2, last_sq) where the last scoring scored the
    sample. For each threshold r in [0, potential), the first sample whose
    cumulative w * D^2 reaches r: the chunk is found from the chunk
    potentials, then the sample inside it. Cost: O(n_chunks + CHUNK_SIZE) per
    draw.

    Parameters
    ----------
    thresholds : (n_draws,)                     # IN  uniform(0, 1) * potential
    chunk_potential : (n_chunks,)               # IN  of the last chosen candidate
    sample_weight : (n_samples,)                # IN
    closest_sq : (n_samples,)                   # IN
    nearest : (n_samples,)                      # IN
    last_reach : (n_chosen - 1,)                # IN  as for score_candidates
    last_sq : (n_samples,)                      # IN  as for score_candidates
    out : (n_draws,)                            # OUT sample indices
    """
    cdef Py_ssize_t n_samples = closest_sq.shape[0]
    cdef Py_ssize_t n_chunks = chunk_potential.shape[0]
    cdef Py_ssize_t k, chunk, s, stop, pick
    cdef double r, cumulative, mass

    with nogil:
        for k in range(thresholds.shape[0]):
            r = thresholds[k]
            cumulative = 0.0
            chunk = 0
            while chunk < n_chunks - 1 and cumulative + chunk_potential[chunk] < r:
                cumulative = cumulative + chunk_potential[chunk]
                chunk = chunk + 1
            # Rounding can leave r past the last positive mass: fall back on
            # the last sample that has some, never on an existing center.
            pick = -1
            stop = min((chunk + 1) * CHUNK_SIZE, n_samples)
            for s in range(chunk * CHUNK_SIZE, stop):
                mass = sample_weight[s] * current_sq(closest_sq, nearest, last_reach,
                                                     last_sq, s)
                if mass > 0.0:
                    pick = s
                    cumulative = cumulative + mass
                    if cumulative >= r:
                        break
            s = chunk * CHUNK_SIZE - 1
            while pick < 0 and s >= 0:
                if sample_weight[s] * current_sq(closest_sq, nearest, last_reach,
                                                 last_sq, s) > 0.0:
                    pick = s
                s = s - 1
            out[k] = <int> (pick if pick >= 0 else stop - 1)
