# Agglomerative clustering's merges on a distance matrix: the condensed
# matrix of the data (pairwise_condensed), single linkage (Prim's minimum
# spanning tree on a square matrix), complete and average (nearest-neighbour
# chain on the condensed matrix). Cost: O(n^2) time on the matrix, which is
# O(n^2) memory (the caller's); O(n^2 n_features) for the matrix itself.
# Prim's algorithm and the nearest-neighbour chain, their papers and
# invariants, are described in _linkage.pyx, which runs them on the
# samples; the merges' format, the chunked searches and their thread team,
# distances, active sets and the NaN policy in _linkage_common.pxd.
#
# Complete and average on the matrix: Lance-Williams updates in place,
# d(k, x u y) = max(d(k, x), d(k, y)), and (n_x d(k, x) + n_y d(k, y)) /
# (n_x + n_y), as SciPy's nn_chain. Each cluster's first nearest neighbour
# is kept across merges: reducibility gives d(k, x u y) >= min(d(k, x),
# d(k, y)) >= nn_dist[k] and k's other distances do not change, so nn[k]
# stays right unless it was x or y (then it is searched again; a tie with
# the union is settled in the update pass). The first ones come from one
# pass over the matrix in memory order (row minima, and per block of rows
# the column minima) rather than from n searches, each of which reads a
# column of the condensed matrix one cache line per entry. Together they
# cut the searches' share of the time from 3x the updates' to 1.7x
# (average, 10,000 x 16, perf). Ward gains nothing from the same cache: a
# merged cluster's distances are new and must be computed anyway.
# Two more kinds of search are saved. (1) The update pass writes every
# d(k, x u y) and keeps their NN_KEEP smallest per chunk (reduced in chunk
# order): the union's nearest neighbours come with the update. (2) Each
# cluster keeps a list of its NN_KEEP = 4 nearest, a true beginning of its
# order by (distance, index), i.e. what a search finds. A merge of x and y
# removes them from the list; the entries before them stay (their distances
# did not change, and by reducibility the union comes after the first of x
# and y), and the union goes in at its place when it comes before the last
# entry kept (ties, or an average rounded down), else stays out (it is
# somewhere after the list). The list's first entry is the nearest neighbour; an emptied list is
# searched again when k reaches the chain's end. Searches at 20,000 x 16
# (complete / average), clusters read in all of them:
#   the union's search fused (1), one neighbour kept: 43,400 / 40,800
#     searches, 396 M / 385 M clusters;
#   two kept: 30,800 / 27,100, 279 M / 255 M;  four kept: 23,900 / 19,800,
#   218 M / 188 M. The lists cost the update pass a little (they are only
#   written where they change): average, one thread, 7.42-7.91 s with two,
#   7.25-7.38 s with four.
# What is left is bound by memory: perf puts 2/3 of the update pass on its
# prefetches of the columns x and y (one cache line per entry; the line
# fill buffers are full), so the work is the lines, not the arithmetic.
#
# Measured (the setup of _linkage.pyx's figures: 20,000 x 16 make_blobs,
# float64, 2 threads, ours 3 runs and scikit-learn 1.9.1 one; the two
# sessions, the second with the float32 filters; time, extra peak memory):
#   complete: 18.0 / 20.3 / 28.0 s; 20.4 / 26.2 / 31.9 s, +1527 MB;
#             scikit-learn 24.6 s; 46.8 s, +3051 MB (1.2x; 1.8x)
#   average:  12.1 / 14.0 / 16.1 s; 18.1 / 21.9 / 22.7 s, +1527 MB;
#             scikit-learn 31.1 s; 25.7 s, +3052 MB (2.2x; 1.2x)
# In CPU time (more stable than wall time here) complete and average take
# 10-13 s of ours against 21-24 s of scikit-learn's. Both include
# pairwise_condensed, 2.0 to 10.0 s of them: its time is the first touch of
# the 1.6 GB output, which this VM's kernel clears at 0.2-0.4 GB/s (perf:
# clear_page_erms 52%, the distances 13%); scikit-learn pays it twice (SciPy
# copies the matrix). The linkage alone, one thread, same process, same
# matrix (CPU time): 8.2 s against SciPy's 19.5 s (2.4x). Searches against
# updates (perf, average, 10,000 x 16): 1.7 : 1, the updates read two
# columns of the matrix one line per entry; before the nearest-neighbour
# cache and the first pass: 3.1 : 1. The issue's 3x for complete/average
# is not reached on this machine.
# One thread, 10,000 x 16, CPU time: complete 1.2 s (SciPy 3.6 s on the
# same matrix).
# Complete/average at 20,000 x 16, session 3 (the machine shared with other
# sessions, load average 1 to 6; matrix_linkage alone, same matrix, fresh
# process per run, alternated, checksums of the merges identical):
#   union's search fused into the update (1): perf samples of the searches
#     20,064 -> 18,059, updates 13,975 -> 15,536 (their extra compare);
#     complete, 2 threads, CPU 8.4-9.3 s -> (with (2)) 7.3-7.7 s.
#   second nearest kept (2, two in the list): average, one thread,
#     8.28 / 8.29 s -> 7.42 / 7.45 s;
#     complete 14,000 x 16, one thread, 2.65-2.71 s -> 2.56-2.57 s.
#   Tried, not kept: a square matrix of the active clusters. Once k active
#     clusters have k^2 <= n (n - 1) / 2, the condensed matrix is turned in
#     place into their k x k matrix (compaction forward, rows moved from the
#     last, lower triangle by tiled transpose: 0.45 s at k = 14,142), so a
#     search reads a row (8 bytes an entry, not a cache line) and an update
#     reads rows and writes row and column. The searches fell (perf 18,059
#     -> 12,349 samples) but the updates rose (15,536 -> 20,389: every entry
#     now writes a column line, where the condensed update of the rows after
#     y touches rows only) and the conversion costs more than the rest
#     saves: complete 14,000 x 16, one thread, 2.61-2.72 s -> 2.97-2.98 s.
#   Not tried: madvise(MADV_HUGEPAGE) on D: NumPy already advises huge pages
#     for large arrays (AnonHugePages 1.5 GB during the run), so the column
#     walks do not miss the TLB. pairwise_condensed's first touch varies
#     0.4-6.5 s between fresh processes at the same load: the host backing
#     fresh guest pages (clear_page_erms), not something the kernel orders.
#   Before and after this session, AgglomerativeClustering's whole step
#     (n_clusters=20) by /tmp/cmp_link.py: ours pairwise_condensed +
#     matrix_linkage, 2 threads, against scikit-learn's fit in the same
#     process, alternated (first run in a fresh process):
#     before, complete, load 1.1: 2.63 + 5.65 s, 0.42 + 5.05 s; scikit-learn
#       21.5 s, 21.4 s (2.6x, 3.9x);
#     after, complete, load 2.1 (another process on one core): 5.10 + 7.22 s,
#       0.82 + 7.31 s; scikit-learn 21.0 s, 21.5 s (1.7x, 2.7x);
#     after, average, load 2.2: 3.24 + 7.88 s, 0.88 + 7.19 s; scikit-learn
#       23.5 s, 24.2 s (2.1x, 3.0x).
#     after, load 1.3-2.0 (23:02-23:04): complete 3.46 + 4.06 s, 0.48 +
#       5.39 s; scikit-learn 22.4 s, 23.2 s (3.0x, 3.9x); average 1.78 +
#       5.26 s, 0.47 + 5.49 s; scikit-learn 25.1 s, 25.1 s (3.6x, 4.2x).
#     The same load, matrix_linkage alone (complete, 20,000 x 16), before ->
#     after: 2 threads 8.74 -> 6.86 s wall; one thread 8.28 -> 7.03 s.
#     scikit-learn's linkage runs on one core and keeps it when another
#     process takes the other; our team of 2 then runs at the speed of one.
#   float32 input (a float32 matrix, half the bytes): matrix_linkage,
#     complete, one thread, 6.00 / 6.17 s against 7.07 s in float64 (load
#     2.2): only the row parts halve; a column entry costs a cache line
#     whatever its width.
#   With the team of 2 on 2 cores shared with other work, wall time is well
#     above CPU time (complete 20,000: 10.9-12.6 s wall for 7.3-7.7 s CPU)
#     while one thread runs at wall = CPU: the team's handoffs lose time
#     slices. The 3x against scikit-learn holds only on an idle machine.

import numpy as np

from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.math cimport sqrt, INFINITY, NAN, isnan
from libc.stdlib cimport malloc, free
from libc.string cimport memmove

from _interrupt cimport Poll, poll_init, poll_signals, raise_if_stopped
from _linkage_common cimport (
    LANES, EUCLIDEAN, COSINE, prefetch, prefetch_w, distances_f, distances_d,
    team_fn, Team, team_init, team_run, team_work, team_quit, SCAN_CHUNK,
    ENTRY_COST, PREFETCH_AHEAD, metric_code, padded, worth_sharing, team_threads,
    first_min_of_chunks, transpose_padded, row_norms, merge_arrays,
)


# --------------------------------------------------------------------------
# Single linkage: Prim's algorithm on a square matrix.

cdef struct MatrixPrimStep:
    const void* D           # (n, n), float or double
    bint is_float
    Py_ssize_t n
    Py_ssize_t cur
    double* min_dist
    double* chunk_best
    Py_ssize_t* chunk_where


cdef inline void matrix_prim_chunk_impl(const floating* D, MatrixPrimStep* s,
                                        Py_ssize_t c) noexcept nogil:
    cdef Py_ssize_t n = s.n, cur = s.cur, p, where = -1
    cdef Py_ssize_t lo = c * SCAN_CHUNK, hi = min(n, lo + SCAN_CHUNK)
    cdef double best = INFINITY, dist, value
    cdef double* min_dist = s.min_dist
    for p in range(lo, hi):
        # Column cur above the diagonal, then row cur: the upper triangle.
        if p < cur:
            if p + 8 < cur:
                prefetch(&D[(p + 8) * n + cur])
            dist = D[p * n + cur]
        else:
            dist = D[cur * n + p]
        value = min_dist[p]
        if dist < value:
            value = dist
            min_dist[p] = value
        if value < best:
            best = value
            where = p
    s.chunk_best[c] = best
    s.chunk_where[c] = where


cdef void matrix_prim_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef MatrixPrimStep* s = <MatrixPrimStep*> ctx
    if s.is_float:
        matrix_prim_chunk_impl(<const float*> s.D, s, c)
    else:
        matrix_prim_chunk_impl(<const double*> s.D, s, c)


cdef void matrix_prim_loop(MatrixPrimStep* s, Py_ssize_t* a, Py_ssize_t* b, double* h,
                           Team* team, int n_threads, Poll* poll) noexcept nogil:
    cdef Py_ssize_t n = s.n, k, nxt
    cdef Py_ssize_t n_chunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double best
    s.cur = 0
    for k in range(n - 1):
        if poll_signals(poll, <double> n * ENTRY_COST):
            return
        s.min_dist[s.cur] = NAN
        team_run(team, matrix_prim_chunk, s, n_chunks, worth_sharing(n_threads, n, ENTRY_COST))
        nxt = first_min_of_chunks(s.chunk_best, s.chunk_where, n_chunks, &best)
        a[k] = s.cur
        b[k] = nxt
        h[k] = best
        s.cur = nxt


def single_linkage_precomputed(const floating[:, ::1] D, int n_threads):
    """Single-linkage merges: Prim's algorithm on a square distance matrix.

    Parameters
    ----------
    D : (n_samples, n_samples)       # IN  finite; only the strict upper
                                     #     triangle is read, as SciPy reads
                                     #     the condensed matrix made from it
    n_threads : int

    Returns
    -------
    a, b, height as single_linkage. O(n_samples^2) time, O(n_samples) memory.
    """
    cdef Py_ssize_t n = D.shape[0], p
    a_arr, b_arr, h_arr = merge_arrays(n)
    cdef Py_ssize_t[::1] a = a_arr
    cdef Py_ssize_t[::1] b = b_arr
    cdef double[::1] h = h_arr
    cdef Py_ssize_t n_chunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double* min_dist = <double*> malloc(max(n, 1) * sizeof(double))
    cdef double* chunk_best = <double*> malloc(max(n_chunks, 1) * sizeof(double))
    cdef Py_ssize_t* chunk_where = <Py_ssize_t*> malloc(max(n_chunks, 1) * sizeof(Py_ssize_t))
    cdef MatrixPrimStep step
    cdef Team team
    cdef Poll poll
    cdef int nt = team_threads(n_threads, n, ENTRY_COST)

    if min_dist == NULL or chunk_best == NULL or chunk_where == NULL:
        free(min_dist); free(chunk_best); free(chunk_where)
        raise MemoryError()
    poll_init(&poll)
    if n >= 2:
        with nogil:
            for p in range(n):
                min_dist[p] = INFINITY
            step.D = &D[0, 0]
            step.is_float = floating is float
            step.n = n
            step.min_dist = min_dist
            step.chunk_best = chunk_best
            step.chunk_where = chunk_where
            team_init(&team)
            with parallel(num_threads=nt):
                if threadid() == 0:
                    matrix_prim_loop(&step, &a[0], &b[0], &h[0], &team, n_threads, &poll)
                    team_quit(&team)
                else:
                    team_work(&team)
    free(min_dist); free(chunk_best); free(chunk_where)
    raise_if_stopped(&poll)
    return a_arr, b_arr, h_arr


# --------------------------------------------------------------------------
# The condensed distance matrix.

def pairwise_condensed(const floating[:, ::1] X, str metric, int n_threads):
    """The condensed distance matrix of X, as scipy.spatial.distance.pdist.

    Parameters
    ----------
    X : (n_samples, n_features)      # IN
    metric : {'euclidean', 'l2', 'manhattan', 'l1', 'cityblock', 'cosine'}
    n_threads : int

    Returns
    -------
    D : (n_samples * (n_samples - 1) // 2,) X's dtype
        D[n i - i (i + 1) / 2 + j - i - 1] = d(x_i, x_j) for i < j, from
        differences summed in double (no norm expansion) and rounded once.

    O(n_samples^2 n_features) time; the output and a feature-major copy of X.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef int code = metric_code(metric, False)
    cdef Py_ssize_t stride = padded(n) + LANES
    dtype = np.float32 if floating is float else np.float64
    out_arr = np.empty(n * (n - 1) // 2, dtype=dtype)
    cdef floating[::1] out = out_arr
    cdef floating* Xt = <floating*> malloc(max(stride * d, 1) * sizeof(floating))
    cdef double* norms = <double*> malloc(stride * sizeof(double))
    cdef Py_ssize_t i, f, p, start
    cdef floating* out_ptr
    cdef double* x_row
    cdef int nt = max(1, n_threads)

    if Xt == NULL or norms == NULL:
        free(Xt); free(norms)
        raise MemoryError()
    if n < 2:
        free(Xt); free(norms)
        return out_arr
    out_ptr = &out[0]
    with nogil:
        transpose_padded(&X[0, 0], n, d, stride, Xt)
        for p in range(stride):
            norms[p] = 1.0
        if code == COSINE:
            row_norms(&X[0, 0], n, d, norms)
        # The pages of the output are first touched here, by every thread:
        # on this VM that costs more than the arithmetic (1.6 GB at 20,000
        # samples: seconds, see the header).
        with parallel(num_threads=nt):
            x_row = <double*> malloc(max(d, 1) * sizeof(double))
            # Row i has n - 1 - i entries: dynamic chunks of rows even the
            # load; every entry is computed the same way whoever computes it.
            for i in prange(n - 1, schedule='dynamic', chunksize=16):
                for f in range(d):
                    x_row[f] = <double> X[i, f]
                start = n * i - (i * (i + 1)) // 2
                if floating is float:
                    distances_f(Xt, stride, i + 1, n, d, x_row, norms[i], norms,
                                code, out_ptr + start)
                else:
                    distances_d(Xt, stride, i + 1, n, d, x_row, norms[i], norms,
                                code, out_ptr + start)
            free(x_row)
    free(Xt); free(norms)
    return out_arr


# --------------------------------------------------------------------------
# Complete and average: nearest-neighbour chain on the condensed matrix.

cdef struct MatrixStep:
    void* D                 # the condensed matrix, float or double
    bint is_float
    const Py_ssize_t* row_off   # D(i, j) = D[row_off[i] + j] for i < j
    const Py_ssize_t* active    # the active clusters, ascending
    Py_ssize_t n_active
    Py_ssize_t x            # the chain's end (search)
    Py_ssize_t lo, hi       # the pair merged (update)
    double n_lo, n_hi
    int average
    # Each cluster's nearest neighbours: the first nn_count[i] of the active
    # clusters in the order of (distance, index), what a search finds;
    # (n, NN_KEEP), nn_count[i] = 0 when not known.
    Py_ssize_t* nn
    double* nn_dist
    char* nn_count
    double* chunk_best      # (n_chunks, NN_KEEP) per chunk, its smallest
    Py_ssize_t* chunk_where


cdef enum:
    # Nearest neighbours kept per cluster. Searches at 20,000 x 16, complete:
    # 43,400 keeping 1, 30,800 keeping 2, 23,900 keeping 4 (see the header).
    NN_KEEP = 4


cdef inline bint before(double v, Py_ssize_t i, double w, Py_ssize_t j) noexcept nogil:
    """(v, i) < (w, j) in the order of (distance, index)."""
    return v < w or (v == w and i < j)


cdef inline void topk_insert(double v, Py_ssize_t i, double* b, Py_ssize_t* w) noexcept nogil:
    """(v, i) into the NN_KEEP smallest so far (b ascending, free slots
    INFINITY), candidates in ascending index: strict comparisons keep the
    earlier index first on equal distances."""
    cdef int m = NN_KEEP - 1
    if not v < b[m]:
        return
    while m > 0 and v < b[m - 1]:
        b[m] = b[m - 1]
        w[m] = w[m - 1]
        m -= 1
    b[m] = v
    w[m] = i


cdef inline Py_ssize_t first_k_of_chunks(MatrixStep* s, Py_ssize_t n_chunks,
                                         Py_ssize_t x) noexcept nogil:
    """The chunks' smallest reduced in chunk order (each chunk's in order, its
    indices after the earlier chunks') into x's list; the first, or -1."""
    cdef Py_ssize_t c, m, cnt = 0
    cdef double* b = s.nn_dist + x * NN_KEEP
    cdef Py_ssize_t* w = s.nn + x * NN_KEEP
    for m in range(NN_KEEP):
        b[m] = INFINITY
        w[m] = -1
    for c in range(n_chunks):
        for m in range(NN_KEEP):
            if s.chunk_where[c * NN_KEEP + m] >= 0:
                topk_insert(s.chunk_best[c * NN_KEEP + m], s.chunk_where[c * NN_KEEP + m], b, w)
    for m in range(NN_KEEP):
        if w[m] >= 0:
            cnt += 1
    s.nn_count[x] = <char> cnt
    return w[0]


cdef inline void matrix_scan_impl(const floating* D, MatrixStep* s,
                                  Py_ssize_t c) noexcept nogil:
    """The first nearest active cluster to x among the chunk's."""
    cdef const Py_ssize_t* active = s.active
    cdef const Py_ssize_t* row_off = s.row_off
    cdef Py_ssize_t x = s.x, n_active = s.n_active, p, i, m
    cdef Py_ssize_t stop = min(n_active, (c + 1) * SCAN_CHUNK)
    cdef double dist
    cdef double best[NN_KEEP]
    cdef Py_ssize_t where[NN_KEEP]
    for m in range(NN_KEEP):
        best[m] = INFINITY
        where[m] = -1
    for p in range(c * SCAN_CHUNK, stop):
        i = active[p]
        if i < x:
            # Column x: one cache line per row, asked for ahead.
            if p + PREFETCH_AHEAD < n_active and active[p + PREFETCH_AHEAD] < x:
                prefetch(D + row_off[active[p + PREFETCH_AHEAD]] + x)
            dist = D[row_off[i] + x]
        elif i > x:
            dist = D[row_off[x] + i]
        else:
            continue
        topk_insert(dist, i, best, where)
    for m in range(NN_KEEP):
        s.chunk_best[c * NN_KEEP + m] = best[m]
        s.chunk_where[c * NN_KEEP + m] = where[m]


cdef inline double lance_williams(int average, double d_x, double d_y,
                                  double n_x, double n_y) noexcept nogil:
    if average:
        return (n_x * d_x + n_y * d_y) / (n_x + n_y)
    return d_x if d_x > d_y else d_y


cdef inline void matrix_update_impl(floating* D, MatrixStep* s,
                                    Py_ssize_t c) noexcept nogil:
    """d(i, lo u hi) into d(i, hi) for the chunk's active clusters."""
    cdef const Py_ssize_t* active = s.active
    cdef const Py_ssize_t* row_off = s.row_off
    cdef Py_ssize_t lo = s.lo, hi = s.hi, n_active = s.n_active, p, i, q, ahead
    cdef Py_ssize_t stop = min(n_active, (c + 1) * SCAN_CHUNK)
    cdef double n_lo = s.n_lo, n_hi = s.n_hi, new
    cdef double best[NN_KEEP]
    cdef Py_ssize_t where[NN_KEEP]
    cdef int average = s.average, m, kept, cnt
    cdef Py_ssize_t* w
    cdef double* d
    for m in range(NN_KEEP):
        best[m] = INFINITY
        where[m] = -1
    for p in range(c * SCAN_CHUNK, stop):
        i = active[p]
        if i == lo or i == hi:
            continue
        if p + PREFETCH_AHEAD < n_active:
            ahead = active[p + PREFETCH_AHEAD]
            if ahead < hi:
                prefetch_w(D + row_off[ahead] + hi)
                if ahead < lo:
                    prefetch(D + row_off[ahead] + lo)
        if i < lo:
            q = row_off[i] + hi
            D[q] = <floating> lance_williams(average, D[row_off[i] + lo], D[q], n_lo, n_hi)
        elif i < hi:
            q = row_off[i] + hi
            D[q] = <floating> lance_williams(average, D[row_off[lo] + i], D[q], n_lo, n_hi)
        else:
            q = row_off[hi] + i
            D[q] = <floating> lance_williams(average, D[row_off[lo] + i], D[q], n_lo, n_hi)
        new = D[q]
        # The union's own search, fused: its nearest among the chunk's
        # (active ascending, strict comparisons), as matrix_scan_impl.
        topk_insert(new, i, best, where)
        # i's list stays a true beginning of its order without lo and hi: its
        # other distances did not change, and d(i, lo u hi) >= min(d(i, lo),
        # d(i, hi)) (reducibility), so the union comes after every entry
        # before lo or hi. It goes in at its place when it comes before the
        # last entry kept (ties, or an average rounded down), else it is
        # left out (somewhere after the list). An empty list: searched again
        # when i reaches the chain's end.
        cnt = s.nn_count[i]
        if cnt:
            w = s.nn + i * NN_KEEP
            d = s.nn_dist + i * NN_KEEP
            # Written only where something changes: most lists do not.
            kept = 0
            while kept < cnt and w[kept] != lo and w[kept] != hi:
                kept += 1
            for m in range(kept + 1, cnt):
                if w[m] != lo and w[m] != hi:
                    w[kept] = w[m]
                    d[kept] = d[m]
                    kept += 1
            if kept and before(new, hi, d[kept - 1], w[kept - 1]):
                m = kept if kept < NN_KEEP else NN_KEEP - 1
                if kept < NN_KEEP:
                    kept += 1
                while m > 0 and before(new, hi, d[m - 1], w[m - 1]):
                    w[m] = w[m - 1]
                    d[m] = d[m - 1]
                    m -= 1
                w[m] = hi
                d[m] = new
            if kept != cnt:
                s.nn_count[i] = <char> kept
    for m in range(NN_KEEP):
        s.chunk_best[c * NN_KEEP + m] = best[m]
        s.chunk_where[c * NN_KEEP + m] = where[m]


cdef void matrix_scan_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef MatrixStep* s = <MatrixStep*> ctx
    if s.is_float:
        matrix_scan_impl(<const float*> s.D, s, c)
    else:
        matrix_scan_impl(<const double*> s.D, s, c)


cdef void matrix_update_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef MatrixStep* s = <MatrixStep*> ctx
    if s.is_float:
        matrix_update_impl(<float*> s.D, s, c)
    else:
        matrix_update_impl(<double*> s.D, s, c)


cdef enum:
    # Row blocks of the first nearest-neighbour pass (a fixed number: each
    # keeps its own column minima).
    NN_BLOCKS = 8


cdef struct FirstNN:
    const void* D
    bint is_float
    const Py_ssize_t* row_off
    Py_ssize_t n
    const Py_ssize_t* block_start   # (NN_BLOCKS + 1,) rows of each block
    double* col_best        # (NN_BLOCKS, n) per block, min over its rows i < j
    Py_ssize_t* col_where
    double* row_best        # (n,) min over j > i
    Py_ssize_t* row_where


cdef inline void first_nn_impl(const floating* D, FirstNN* s, Py_ssize_t c) noexcept nogil:
    """One streaming pass over the rows of a block: each row's first nearest
    among the later clusters, and each column's first nearest among the
    block's rows (rows ascending, strict comparisons: the first index)."""
    cdef Py_ssize_t n = s.n, i, j
    cdef double* col_best = s.col_best + c * n
    cdef Py_ssize_t* col_where = s.col_where + c * n
    cdef const floating* row
    cdef double v, best
    cdef Py_ssize_t where
    for j in range(n):
        col_best[j] = INFINITY
        col_where[j] = -1
    for i in range(s.block_start[c], s.block_start[c + 1]):
        row = D + s.row_off[i]
        best = INFINITY
        where = -1
        for j in range(i + 1, n):
            v = row[j]
            if v < best:
                best = v
                where = j
            if v < col_best[j]:
                col_best[j] = v
                col_where[j] = i
        s.row_best[i] = best
        s.row_where[i] = where


cdef void first_nn_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef FirstNN* s = <FirstNN*> ctx
    if s.is_float:
        first_nn_impl(<const float*> s.D, s, c)
    else:
        first_nn_impl(<const double*> s.D, s, c)


cdef int first_nearest_neighbours(MatrixStep* s, Py_ssize_t n, Team* team,
                                  int n_threads) noexcept nogil:
    """Every cluster's first nearest neighbour, from one pass over D in memory
    order, instead of n searches that each read a column across the rows."""
    cdef FirstNN f
    cdef Py_ssize_t block_start[NN_BLOCKS + 1]
    cdef Py_ssize_t b, i, k, target
    cdef double total = 0.5 * n * (n - 1), done = 0.0, best
    cdef Py_ssize_t where
    f.col_best = <double*> malloc(NN_BLOCKS * n * sizeof(double))
    f.col_where = <Py_ssize_t*> malloc(NN_BLOCKS * n * sizeof(Py_ssize_t))
    f.row_best = <double*> malloc(n * sizeof(double))
    f.row_where = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    if f.col_best == NULL or f.col_where == NULL or f.row_best == NULL or f.row_where == NULL:
        free(f.col_best); free(f.col_where); free(f.row_best); free(f.row_where)
        return -1
    # Blocks of rows with about equal numbers of entries.
    block_start[0] = 0
    i = 0
    for b in range(1, NN_BLOCKS):
        while i < n and done < total * b / NN_BLOCKS:
            done += n - 1 - i
            i += 1
        block_start[b] = i
    block_start[NN_BLOCKS] = n
    f.D = s.D
    f.is_float = s.is_float
    f.row_off = s.row_off
    f.n = n
    f.block_start = block_start
    team_run(team, first_nn_chunk, &f, NN_BLOCKS, n_threads > 1)
    # The first smallest of each cluster: earlier rows (blocks in order,
    # ties to the first), then its own row (later clusters).
    for k in range(n):
        best = INFINITY
        where = -1
        for b in range(NN_BLOCKS):
            if f.col_best[b * n + k] < best:
                best = f.col_best[b * n + k]
                where = f.col_where[b * n + k]
        if f.row_best[k] < best:
            best = f.row_best[k]
            where = f.row_where[k]
        s.nn[k * NN_KEEP] = where
        s.nn_dist[k * NN_KEEP] = best
        s.nn_count[k] = where >= 0
    free(f.col_best); free(f.col_where); free(f.row_best); free(f.row_where)
    return 0


cdef double matrix_entry(MatrixStep* s, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t t
    if i > j:
        t = i
        i = j
        j = t
    if s.is_float:
        return (<const float*> s.D)[s.row_off[i] + j]
    return (<const double*> s.D)[s.row_off[i] + j]


cdef void matrix_loop(MatrixStep* s, Py_ssize_t n, Py_ssize_t* active, double* size,
                      Py_ssize_t* chain, Py_ssize_t* a, Py_ssize_t* b, double* h,
                      Team* team, int n_threads, Poll* poll) noexcept nogil:
    """The nearest-neighbour chain, the master's part."""
    cdef Py_ssize_t n_active = n, chain_len = 0, k, x, y, prev, lo, hi, n_chunks, pos
    cdef double best, prev_dist
    cdef bint share
    # Without the first pass (no memory for it) the searches find them.
    first_nearest_neighbours(s, n, team, n_threads)
    for k in range(n - 1):
        # A merge costs an update pass (a column of the matrix: memory
        # bound) and up to a few searches.
        if poll_signals(poll, <double> n_active * 128):
            return
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        n_chunks = (n_active + SCAN_CHUNK - 1) // SCAN_CHUNK
        share = worth_sharing(n_threads, n_active, ENTRY_COST)
        s.n_active = n_active
        while True:
            x = chain[chain_len - 1]
            if s.nn_count[x]:
                y = s.nn[x * NN_KEEP]
                best = s.nn_dist[x * NN_KEEP]
            else:
                s.x = x
                team_run(team, matrix_scan_chunk, s, n_chunks, share)
                y = first_k_of_chunks(s, n_chunks, x)
                best = s.nn_dist[x * NN_KEEP]
            if chain_len > 1:
                prev = chain[chain_len - 2]
                prev_dist = matrix_entry(s, prev, x)
                if not (best < prev_dist):
                    y = prev
                    best = prev_dist
                    break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        lo = min(x, y)
        hi = max(x, y)
        a[k] = lo
        b[k] = hi
        h[k] = best
        s.lo = lo
        s.hi = hi
        s.n_lo = size[lo]
        s.n_hi = size[hi]
        team_run(team, matrix_update_chunk, s, n_chunks, share)
        # The update pass wrote every d(i, lo u hi) and found their first
        # smallest: the union's nearest neighbour without a search of its own.
        first_k_of_chunks(s, n_chunks, hi)
        s.nn_count[lo] = 0
        size[hi] = size[lo] + size[hi]
        size[lo] = 0.0
        # lo leaves the active list, which stays ascending.
        pos = 0
        while active[pos] != lo:
            pos += 1
        memmove(&active[pos], &active[pos + 1], (n_active - pos - 1) * sizeof(Py_ssize_t))
        n_active -= 1


def matrix_linkage(floating[::1] D, str method, int n_threads):
    """Complete- or average-linkage merges: nearest-neighbour chain on a
    condensed distance matrix, updated in place.

    Parameters
    ----------
    D : (n_samples * (n_samples - 1) // 2,)   # INOUT the condensed distances
                                              #       (pdist's layout);
                                              #       overwritten
    method : {'complete', 'average'}
    n_threads : int

    Returns
    -------
    a, b, height as ward_linkage (a < b, b names the union). O(n_samples^2)
    time, O(n_samples) memory besides D.
    """
    cdef Py_ssize_t m = D.shape[0]
    cdef Py_ssize_t n = <Py_ssize_t> ((1 + sqrt(1 + 8.0 * m)) / 2 + 0.5)
    cdef int average
    if method == 'average':
        average = 1
    elif method == 'complete':
        average = 0
    else:
        raise ValueError(f"unsupported method {method!r}")
    if n * (n - 1) // 2 != m or n < 2:
        raise ValueError("D is not a condensed distance matrix of 2 or more samples")
    a_arr, b_arr, h_arr = merge_arrays(n)
    cdef Py_ssize_t[::1] a = a_arr
    cdef Py_ssize_t[::1] b = b_arr
    cdef double[::1] h = h_arr
    cdef Py_ssize_t* row_off = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    cdef Py_ssize_t* active = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    cdef double* size = <double*> malloc(n * sizeof(double))
    cdef Py_ssize_t* chain = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    cdef Py_ssize_t* nn = <Py_ssize_t*> malloc(NN_KEEP * n * sizeof(Py_ssize_t))
    cdef double* nn_dist = <double*> malloc(NN_KEEP * n * sizeof(double))
    cdef char* nn_count = <char*> malloc(n * sizeof(char))
    cdef Py_ssize_t n_chunks_max = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double* chunk_best = <double*> malloc(NN_KEEP * n_chunks_max * sizeof(double))
    cdef Py_ssize_t* chunk_where = <Py_ssize_t*> malloc(NN_KEEP * n_chunks_max * sizeof(Py_ssize_t))
    cdef Py_ssize_t i
    cdef MatrixStep step
    cdef Team team
    cdef Poll poll
    cdef int nt = team_threads(n_threads, n, ENTRY_COST)

    if (row_off == NULL or active == NULL or size == NULL or chain == NULL
            or nn == NULL or nn_dist == NULL or nn_count == NULL
            or chunk_best == NULL or chunk_where == NULL):
        free(row_off); free(active); free(size); free(chain)
        free(nn); free(nn_dist); free(nn_count); free(chunk_best); free(chunk_where)
        raise MemoryError()

    poll_init(&poll)
    with nogil:
        for i in range(n):
            row_off[i] = n * i - (i * (i + 1)) // 2 - i - 1
            active[i] = i
            size[i] = 1.0
            nn_count[i] = 0
        step.D = &D[0]
        step.nn = nn
        step.nn_dist = nn_dist
        step.nn_count = nn_count
        step.is_float = floating is float
        step.row_off = row_off
        step.active = active
        step.average = average
        step.chunk_best = chunk_best
        step.chunk_where = chunk_where
        team_init(&team)
        with parallel(num_threads=nt):
            if threadid() == 0:
                matrix_loop(&step, n, active, size, chain, &a[0], &b[0], &h[0], &team,
                            n_threads, &poll)
                team_quit(&team)
            else:
                team_work(&team)

    free(row_off); free(active); free(size); free(chain)
    free(nn); free(nn_dist); free(nn_count); free(chunk_best); free(chunk_where)
    raise_if_stopped(&poll)
    return a_arr, b_arr, h_arr
