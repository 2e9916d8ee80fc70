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
#
# The best candidate is known only once every chunk is scored, so each pass
# keeps the candidates' distances of the samples that some candidate brings
# closer (the others cannot get the new center as nearest) and the next pass
# applies those of the winner. They are packed, in sample order, at the front
# of the chunk's own rows of the kept_sq array, with their offsets in the
# chunk: both passes stream through them instead of touching a scattered
# cache line for every scored sample. After the last step, add_last_center
# does the same, and the nearest centers seed the first Lloyd pass.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_first_chunk, group_end_chunk,
    alloc_partials, sum_partials_in_order,
)
from _distances cimport ROWS_AHEAD, prefetch_row, score_rows, sq_euclidean, sq_norm


def first_center(
    const floating[:, ::1] X,
    const floating[::1] center,
    const floating[::1] sample_weight,
    floating[::1] x_sq_norms,
    bint compute_norms,
    floating[::1] closest_sq,
    int[::1] nearest,
    double[::1] chunk_potential,
    int n_threads,
):
    """The first center's distances, and the samples' norms, in one pass.

    Every sample gets D^2 = ||x - center||^2 from differences and the first
    center as nearest; each chunk gets its potential, the sum of w * D^2 in
    sample order. With compute_norms, x_sq_norms is filled too. A sample
    with a NaN or an infinity makes its chunk's potential NaN or infinite.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    center : (n_features,)                      # IN
    sample_weight : (n_samples,)                # IN
    x_sq_norms : (n_samples,)                   # OUT if compute_norms, else unused
    compute_norms : bool
    closest_sq : (n_samples,)                   # OUT
    nearest : (n_samples,)                      # OUT all 0
    chunk_potential : (n_chunks,)               # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_chunks = chunk_potential.shape[0]
    cdef Py_ssize_t c, s
    cdef floating closest
    cdef double potential

    for c in prange(n_chunks, nogil=True, schedule='static',
                    num_threads=team_size(n_threads, n_chunks)):
        potential = 0.0
        for s in range(c * CHUNK_SIZE, min((c + 1) * CHUNK_SIZE, n_samples)):
            closest = sq_euclidean(&X[s, 0], &center[0], n_features)
            if compute_norms:
                x_sq_norms[s] = sq_norm(&X[s, 0], n_features)
            closest_sq[s] = closest
            nearest[s] = 0
            potential = potential + <double> sample_weight[s] * closest
        chunk_potential[c] = potential


cdef inline void add_center_to_chunk(
    Py_ssize_t c,
    int last_index,
    int last_best,
    floating[::1] closest_sq,
    int[::1] nearest,
    const floating[:, ::1] kept_sq,
    const unsigned short[::1] kept_offset,
    const Py_ssize_t[::1] n_kept,
) noexcept nogil:
    """In chunk c, make candidate last_best of the last scoring center
    last_index: its kept samples that it brings closer take it as nearest."""
    cdef Py_ssize_t chunk = c * CHUNK_SIZE
    cdef Py_ssize_t k, s
    if last_best < 0:
        return
    for k in range(n_kept[c]):
        s = chunk + kept_offset[chunk + k]
        if kept_sq[chunk + k, last_best] < closest_sq[s]:
            closest_sq[s] = kept_sq[chunk + k, last_best]
            nearest[s] = last_index


def score_candidates(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const floating[::1] sample_weight,
    const floating[:, ::1] candidates_t,
    const floating[::1] candidate_sq_norms,
    const floating[::1] reach,
    int last_index,
    int last_best,
    floating[::1] closest_sq,
    int[::1] nearest,
    floating[:, ::1] kept_sq,
    unsigned short[::1] kept_offset,
    Py_ssize_t[::1] n_kept,
    const double[::1] chunk_base,
    double[:, ::1] chunk_potential,
    double[::1] gains,
    int n_threads,
):
    """Make the last chosen candidate a center, then score the new candidates.

    First, every sample that the last scoring kept (those that some
    candidate brought closer) gets D^2 = min(D^2, its squared distance to
    candidate last_best, now center last_index). Then a sample is scored only
    if some new candidate may bring it closer: reach[nearest] < D^2. The
    scored rows of a chunk are read where they lie (no copy) by a
    register-blocked loop, see _simd.h.

    The kept distances of a chunk sit at the front of the chunk's own rows of
    kept_sq, in sample order, with their offsets in the chunk: both passes
    read and write them in order, and a sample that no candidate brings
    closer costs no memory traffic there.

    A chunk's potential once a candidate is a center is its potential before
    less that candidate's gain there, so chunk_base is the winner's
    chunk_potential of the last scoring: no pass adds the potentials up again,
    and the sample loop reads only D^2 and the nearest center of each sample.

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
    last_index : int                            # IN  the center that candidate
                                                #     last_best of the last scoring became
    last_best : int                             # IN  -1: no center to add
    closest_sq : (n_samples,)                   # INOUT D^2 to the nearest chosen center
    nearest : (n_samples,)                      # INOUT index of that center
    kept_sq : (n_samples, n_padded)             # INOUT per chunk, d(x, candidate)^2 of
                                                #     its kept samples, front first
    kept_offset : (n_samples,)                  # INOUT their offsets in the chunk
    n_kept : (n_chunks,)                        # INOUT their number
    chunk_base : (n_chunks,)                    # IN  sum over each chunk of w * D^2,
                                                #     D^2 taken once last_best is a
                                                #     center: its chunk_potential
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
                # The kept samples of the chunk may be nearest to the new center.
                add_center_to_chunk(c, last_index, last_best, closest_sq, nearest,
                                    kept_sq, kept_offset, n_kept)
                # Without branches: whether a sample is scored is a coin toss
                # for the branch predictor.
                n_scored = 0
                for i in range(n_rows):
                    s = chunk + i
                    scored[n_scored] = s
                    n_scored = n_scored + (reach[nearest[s]] < closest_sq[s])
                # score_rows prefetches ROWS_AHEAD rows ahead of its reads.
                for i in range(min(n_scored, <Py_ssize_t> ROWS_AHEAD)):
                    prefetch_row(&X[scored[i], 0], n_features * sizeof(floating))
                for t in range(n_padded):
                    chunk_gain[t] = 0.0
                n_kept[c] = 0
                if n_scored > 0:
                    n_kept[c] = score_rows(
                        &X[0, 0], scored, n_scored, chunk, n_features, &x_sq_norms[0],
                        &sample_weight[0], &closest_sq[0], &candidates_t[0, 0],
                        &candidate_sq_norms[0], n_candidates, n_padded,
                        &kept_sq[chunk, 0], &kept_offset[chunk], chunk_gain)
                for t in range(n_candidates):
                    chunk_potential[t, c] = chunk_base[c] - chunk_gain[t]
                    part[t] = part[t] + chunk_gain[t]
        free(scored)
        free(chunk_gain)

    sum_partials_in_order(partials, plan.n_groups, n_padded, n_candidates,
                          &gains[0], n_threads)
    free(partials)


cdef Py_ssize_t chunk_masses(
    Py_ssize_t c,
    const floating[::1] sample_weight,
    const floating[::1] closest_sq,
    const floating[:, ::1] kept_sq,
    const unsigned short[::1] kept_offset,
    const Py_ssize_t[::1] n_kept,
    int last_best,
    double* masses,
) noexcept nogil:
    """masses[i] = w * D^2 of the samples of chunk c, D^2 taken once candidate
    last_best is a center (as score_candidates does); returns their number."""
    cdef Py_ssize_t chunk = c * CHUNK_SIZE
    cdef Py_ssize_t n_rows = min(<Py_ssize_t> CHUNK_SIZE, closest_sq.shape[0] - chunk)
    cdef Py_ssize_t i, k
    for i in range(n_rows):
        masses[i] = closest_sq[chunk + i]
    if last_best >= 0:
        for k in range(n_kept[c]):
            i = kept_offset[chunk + k]
            if kept_sq[chunk + k, last_best] < masses[i]:
                masses[i] = kept_sq[chunk + k, last_best]
    for i in range(n_rows):
        masses[i] = sample_weight[chunk + i] * masses[i]
    return n_rows


def draw_candidates(
    const double[::1] thresholds,
    const double[::1] chunk_potential,
    const floating[::1] sample_weight,
    const floating[::1] closest_sq,
    const floating[:, ::1] kept_sq,
    const unsigned short[::1] kept_offset,
    const Py_ssize_t[::1] n_kept,
    int last_best,
    int[::1] out,
):
    """Samples drawn with probability proportional to w * D^2.

    D^2 is taken once candidate last_best of the last scoring is a center,
    as score_candidates does next. For each threshold r in [0, potential),
    the first sample whose cumulative w * D^2 reaches r: the chunk is found
    from the chunk potentials, then the sample inside it. Cost:
    O(n_chunks + CHUNK_SIZE) per draw.

    Parameters
    ----------
    thresholds : (n_draws,)                     # IN  uniform(0, 1) * potential
    chunk_potential : (n_chunks,)               # IN  of candidate last_best
    sample_weight : (n_samples,)                # IN
    closest_sq : (n_samples,)                   # IN
    kept_sq, kept_offset, n_kept, last_best     # IN  as for score_candidates
    out : (n_draws,)                            # OUT sample indices
    """
    cdef Py_ssize_t n_chunks = chunk_potential.shape[0]
    cdef Py_ssize_t k, c, i, n_rows, pick
    cdef double r, cumulative
    cdef double masses[CHUNK_SIZE]

    with nogil:
        for k in range(thresholds.shape[0]):
            r = thresholds[k]
            cumulative = 0.0
            c = 0
            while c < n_chunks - 1 and cumulative + chunk_potential[c] < r:
                cumulative = cumulative + chunk_potential[c]
                c = c + 1
            # Rounding can leave r past the last positive mass: fall back on
            # the last sample that has some, never on an existing center.
            pick = -1
            n_rows = chunk_masses(c, sample_weight, closest_sq, kept_sq, kept_offset,
                                  n_kept, last_best, masses)
            for i in range(n_rows):
                if masses[i] > 0.0:
                    pick = c * CHUNK_SIZE + i
                    cumulative = cumulative + masses[i]
                    if cumulative >= r:
                        break
            if pick < 0:
                pick = c * CHUNK_SIZE + n_rows - 1
                while c > 0:
                    c = c - 1
                    n_rows = chunk_masses(c, sample_weight, closest_sq, kept_sq,
                                          kept_offset, n_kept, last_best, masses)
                    i = n_rows - 1
                    while i >= 0 and not masses[i] > 0.0:
                        i = i - 1
                    if i >= 0:
                        pick = c * CHUNK_SIZE + i
                        break
            out[k] = <int> pick



def add_last_center(
    int last_index,
    int last_best,
    floating[::1] closest_sq,
    int[::1] nearest,
    const floating[:, ::1] kept_sq,
    const unsigned short[::1] kept_offset,
    const Py_ssize_t[::1] n_kept,
    int n_threads,
):
    """Make candidate last_best of the last scoring center last_index.

    What the next score_candidates would do first, for the last center
    chosen: afterwards nearest and closest_sq hold every sample's nearest
    center and D^2, which seed the first Lloyd pass.

    Parameters
    ----------
    last_index, last_best                       # IN  as for score_candidates
    closest_sq : (n_samples,)                   # INOUT
    nearest : (n_samples,)                      # INOUT
    kept_sq, kept_offset, n_kept                # IN  as for score_candidates
    n_threads : int
    """
    cdef Py_ssize_t c, n_chunks = n_kept.shape[0]
    # Sized before the loop: a memoryview read inside num_threads= does not
    # compile with the checked kernels (initializedcheck).
    cdef int team = team_size(n_threads, n_chunks)

    with nogil:
        for c in prange(n_chunks, schedule='static', num_threads=team):
            add_center_to_chunk(c, last_index, last_best, closest_sq, nearest,
                                kept_sq, kept_offset, n_kept)
