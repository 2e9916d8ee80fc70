# Greedy k-means++ seeding, one step in three passes: draw candidates from the
# chunked potential, score every candidate, keep the best. Cost per step:
# O(n_samples) for the bounds plus a GEMM row (n_candidates x n_features) per
# sample that the triangle inequality does not rule out.
#
# Every sample keeps the squared distance D^2 to its nearest chosen center c.
# A candidate t can only get closer than D if d(t, c) < 2 D (triangle
# inequality), so a sample is skipped, without reading its row, whenever
# d(t, c)^2 / 4 >= D^2. Once a few centers are chosen most samples are
# skipped for most candidates: later steps touch a small part of X.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from ._reduce cimport (
    CHUNK_SIZE, ChunkPlan, plan_chunks, group_first_chunk, group_end_chunk,
    alloc_partials, sum_partials_in_order,
)
from ._distances cimport block_center_scores


def score_candidates(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const floating[::1] sample_weight,
    const floating[:, ::1] candidates,
    const floating[::1] candidate_sq_norms,
    const floating[:, ::1] quarter_sq_dists,
    const floating[::1] closest_sq,
    const int[::1] nearest,
    floating[:, ::1] candidate_sq,
    double[::1] gains,
    int n_threads,
):
    """How much each candidate would lower the potential sum(w * D^2).

    The rows of a chunk that some candidate may bring closer are gathered and
    their distances to all candidates taken by one GEMM.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    x_sq_norms : (n_samples,)                   # IN  squared norms of the samples
    sample_weight : (n_samples,)                # IN
    candidates : (n_candidates, n_features)     # IN  candidate centers
    candidate_sq_norms : (n_candidates,)        # IN
    quarter_sq_dists : (n_candidates, n_chosen) # IN  d(candidate, chosen)^2 / 4
    closest_sq : (n_samples,)                   # IN  D^2 to the nearest chosen center
    nearest : (n_samples,)                      # IN  index of that chosen center
    candidate_sq : (n_candidates, n_samples)    # OUT d(x, candidate)^2, written
                                                #     only where the pair is not skipped
    gains : (n_candidates,)                     # OUT sum of w * max(D^2 - d^2, 0)
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_candidates = candidates.shape[0]
    cdef ChunkPlan plan = plan_chunks(n_samples, n_candidates)
    cdef double* partials = alloc_partials(plan, n_candidates)
    cdef double* part
    cdef floating* rows
    cdef floating* scores
    cdef Py_ssize_t* gathered
    cdef const floating* block
    cdef Py_ssize_t g, c, chunk, n_rows, n_gathered, i, s, t
    cdef floating d_sq, closest
    cdef int center

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=n_threads):
        rows = <floating*> malloc(CHUNK_SIZE * n_features * sizeof(floating))
        scores = <floating*> malloc(CHUNK_SIZE * n_candidates * sizeof(floating))
        gathered = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * n_candidates
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                n_gathered = 0
                for i in range(n_rows):
                    s = chunk + i
                    for t in range(n_candidates):
                        if quarter_sq_dists[t, nearest[s]] < closest_sq[s]:
                            gathered[n_gathered] = s
                            n_gathered = n_gathered + 1
                            break
                if n_gathered == 0:
                    continue
                if n_gathered == n_rows:
                    block = &X[chunk, 0]
                else:
                    for i in range(n_gathered):
                        memcpy(rows + i * n_features, &X[gathered[i], 0],
                               n_features * sizeof(floating))
                    block = rows
                block_center_scores(block, n_gathered, &candidates[0, 0],
                                    &candidate_sq_norms[0], n_candidates, n_features,
                                    scores)
                for i in range(n_gathered):
                    s = gathered[i]
                    closest = closest_sq[s]
                    center = nearest[s]
                    for t in range(n_candidates):
                        if quarter_sq_dists[t, center] >= closest:
                            continue
                        d_sq = scores[i * n_candidates + t] + x_sq_norms[s]
                        if d_sq < 0:
                            d_sq = 0
                        candidate_sq[t, s] = d_sq
                        if d_sq < closest:
                            part[t] = part[t] + sample_weight[s] * (closest - d_sq)
        free(rows)
        free(scores)
        free(gathered)

    sum_partials_in_order(partials, plan.n_groups, n_candidates, n_candidates,
                          &gains[0], n_threads)
    free(partials)


def add_center(
    const floating[::1] sample_weight,
    const floating[::1] quarter_sq_dists,
    const floating[::1] candidate_sq,
    int center_index,
    floating[::1] closest_sq,
    int[::1] nearest,
    double[::1] chunk_potential,
    int n_threads,
):
    """Make the scored candidate a center: update D^2 and the potential.

    Skips exactly the samples that score_candidates skipped for it.

    Parameters
    ----------
    sample_weight : (n_samples,)                # IN
    quarter_sq_dists : (n_chosen,)              # IN  d(candidate, chosen)^2 / 4
    candidate_sq : (n_samples,)                 # IN  from score_candidates
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

    for chunk in prange(n_chunks, nogil=True, num_threads=n_threads,
                        schedule='static'):
        total = 0.0
        for s in range(chunk * CHUNK_SIZE, min((chunk + 1) * CHUNK_SIZE, n_samples)):
            closest = closest_sq[s]
            if quarter_sq_dists[nearest[s]] < closest and candidate_sq[s] < closest:
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
