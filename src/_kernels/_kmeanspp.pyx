# Greedy k-means++ seeding, one step in three passes: draw candidates from the
# chunked potential, score every candidate, keep the best. Cost per step:
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
from _distances cimport score_rows


def score_candidates(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const floating[::1] sample_weight,
    const floating[:, ::1] candidates_t,
    const floating[::1] candidate_sq_norms,
    const floating[::1] reach,
    const floating[::1] closest_sq,
    const int[::1] nearest,
    floating[:, ::1] candidate_sq,
    double[::1] gains,
    int n_threads,
):
    """How much each candidate would lower the potential sum(w * D^2).

    A sample is scored only if some candidate may bring it closer:
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
    closest_sq : (n_samples,)                   # IN  D^2 to the nearest chosen center
    nearest : (n_samples,)                      # IN  index of that chosen center
    candidate_sq : (n_candidates, n_samples)    # OUT d(x, candidate)^2 of the
                                                #     scored samples
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
    cdef Py_ssize_t* scored
    cdef Py_ssize_t g, c, chunk, n_rows, n_scored, i, s

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        scored = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * n_padded
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                n_scored = 0
                for i in range(n_rows):
                    s = chunk + i
                    if reach[nearest[s]] < closest_sq[s]:
                        scored[n_scored] = s
                        n_scored = n_scored + 1
                if n_scored == 0:
                    continue
                score_rows(&X[0, 0], scored, n_scored, n_features, &x_sq_norms[0],
                           &sample_weight[0], &closest_sq[0], &candidates_t[0, 0],
                           &candidate_sq_norms[0], n_candidates, n_padded,
                           &candidate_sq[0, 0], n_samples, part)
        free(scored)

    sum_partials_in_order(partials, plan.n_groups, n_padded, n_candidates,
                          &gains[0], n_threads)
    free(partials)


def add_center(
    const floating[::1] sample_weight,
    const floating[::1] reach,
    const floating[::1] candidate_sq,
    int center_index,
    floating[::1] closest_sq,
    int[::1] nearest,
    double[::1] chunk_potential,
    int n_threads,
):
    """Make a scored candidate a center: update D^2 and the potential.

    Reads candidate_sq only for the samples that score_candidates scored, by
    the same test on the same reach.

    Parameters
    ----------
    sample_weight : (n_samples,)                # IN
    reach : (n_chosen,)                         # IN  as given to score_candidates
    candidate_sq : (n_samples,)                 # IN  the candidate's row of it
    center_index : int                          # IN  index of the new center
    closest_sq : (n_samples,)                   # INOUT
    nearest : (n_samples,)                      # INOUT
    chunk_potential : (n_chunks,)               # OUT sum of w * D^2 per chunk of
                                                #     CHUNK_SIZE samples
    n_threads : int

    Returns
    -------
    potential : float
        sum(w * D^2), the chunk potentials added in chunk order.
    """
    cdef Py_ssize_t n_samples = closest_sq.shape[0]
    cdef Py_ssize_t n_chunks = chunk_potential.shape[0]
    cdef Py_ssize_t chunk, s
    cdef double total
    cdef floating closest

    for chunk in prange(n_chunks, nogil=True,
                        num_threads=team_size(n_threads, n_chunks),
                        schedule='dynamic', chunksize=8):
        total = 0.0
        for s in range(chunk * CHUNK_SIZE, min((chunk + 1) * CHUNK_SIZE, n_samples)):
            closest = closest_sq[s]
            if reach[nearest[s]] < closest and candidate_sq[s] < closest:
                closest = candidate_sq[s]
                closest_sq[s] = closest
                nearest[s] = center_index
            total = total + sample_weight[s] * closest
        chunk_potential[chunk] = total

    total = 0.0
    for chunk in range(n_chunks):
        total = total + chunk_potential[chunk]
    return total


def draw_candidates(
    const double[::1] thresholds,
    const double[::1] chunk_potential,
    const floating[::1] sample_weight,
    const floating[::1] closest_sq,
    int[::1] out,
):
    """Samples drawn with probability proportional to w * D^2.

    For each threshold r in [0, potential), the first sample whose cumulative
    w * D^2 reaches r: the chunk is found from the chunk potentials, then the
    sample inside it. Cost: O(n_chunks + CHUNK_SIZE) per draw.

    Parameters
    ----------
    thresholds : (n_draws,)                     # IN  uniform(0, 1) * potential
    chunk_potential : (n_chunks,)               # IN
    sample_weight : (n_samples,)                # IN
    closest_sq : (n_samples,)                   # IN
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
                mass = sample_weight[s] * closest_sq[s]
                if mass > 0.0:
                    pick = s
                    cumulative = cumulative + mass
                    if cumulative >= r:
                        break
            s = chunk * CHUNK_SIZE - 1
            while pick < 0 and s >= 0:
                if sample_weight[s] * closest_sq[s] > 0.0:
                    pick = s
                s = s - 1
            out[k] = <int> (pick if pick >= 0 else stop - 1)
