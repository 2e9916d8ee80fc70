# Agglomerative clustering's merges on the samples: single linkage (Prim's
# minimum spanning tree on the data) and Ward (nearest-neighbour chain on
# centroids); and linkage_from_merges, every linkage kernel's merges to
# SciPy's linkage matrix. Cost: O(n^2 n_features) time and O(n n_features)
# memory. The linkages on a distance matrix (the condensed matrix, single
# linkage on it, complete and average) are in _linkage_matrix.pyx; the
# merges' format, the chunked searches and their thread team, distances,
# active sets and the NaN policy are described in _linkage_common.pxd.
#
# Single linkage. Prim's algorithm builds the minimum spanning tree with the
# distances computed when needed (Gower and Ross, "Minimum spanning trees and
# single linkage cluster analysis", 1969; Rohlf, "Hierarchical clustering
# using the minimum spanning tree", 1973): O(n^2 n_features) time, O(n)
# memory besides a feature-major copy of X. Invariant: min_dist[p] is the
# distance from outside point p to the tree; each step adds the outside point
# of smallest min_dist (the lowest index on ties) and lowers every other
# min_dist by its distance to that point. The merge recorded is (the point
# added last, the point added now, min_dist): the sequence SciPy's
# mst_single_linkage and scikit-learn's mst_linkage_core record, whose sorted
# union-find replay is the single-linkage dendrogram. Euclidean distances are
# compared squared and rooted once per merge.
#
# Ward and complete/average (the latter in _linkage_matrix.pyx).
# Nearest-neighbour chain (Murtagh, "A survey of
# recent advances in hierarchical clustering algorithms", 1983, and
# "Multidimensional clustering algorithms", 1985; Muellner, "Modern
# hierarchical, agglomerative clustering algorithms", 2011, fig. 4). The chain
# grows from a cluster to its nearest neighbour until two clusters are each
# other's nearest, which are merged; the rest of the chain stays. This is
# exact for linkages with the reducibility property
#   d(i, j) <= min(d(i, k), d(j, k))  =>  d(i u j, k) >= min(d(i, k), d(j, k))
# (Ward, complete, average do; centroid and median do not): a merge never
# brings a cluster closer to another than either part was, so every link of
# the chain stays a nearest-neighbour link. Ties: the previous element of
# the chain wins unless something is strictly nearer, then the lowest index
# (SciPy's nn_chain rule): distances along the chain strictly decrease, so it
# cannot cycle. A merge of clusters x < y (sample indices) keeps y, as SciPy.
#
# Ward on the data: centroids (float64, feature-major) and sizes instead of
# a matrix. d(i, j) = sqrt(2 n_i n_j / (n_i + n_j)) ||c_i - c_j||, computed as
# sqrt(2 s) from the score s = ||c_i - c_j||^2 / (1/n_i + 1/n_j). Merged
# centroid c_x + (c_y - c_x) n_y / (n_x + n_y): equal centroids (duplicate
# samples) stay equal to the bit, so their distance stays exactly 0.
#
# The float32 filters (_linkage_simd.h). The Ward search first filters each
# block through a float32 copy of the centroids with a rigorous error bound
# (_linkage_simd.h, tc_link_ward_scores_filtered): half the bytes streamed
# and twice the lanes, and the exact double scores only for blocks where
# some lane may beat the best so far (the result is the unfiltered one,
# bit for bit). Ward 20,000 x 16, one thread, CPU time, alternated runs:
# 2.63-2.74 s without the filter, 1.77-1.95 s with it. Euclidean Prim
# filters its update the same way (a block is skipped when no lane can
# lower its min_dist; float64 input keeps a float32 copy, float32 input is
# its own): single 20,000 x 16, one thread, 0.81-0.88 s -> 0.65-0.71 s.
#
# Measured (this 2-core machine, shared: load average 4 to 8 throughout,
# so every figure is 2-4x the idle machine's; make_blobs(n_samples=20_000,
# n_features=16, centers=20, random_state=0), float64, 2 threads, each run
# its own process, ours 3 runs (median) and scikit-learn 1.9.1's
# AgglomerativeClustering(compute_full_tree=True, compute_distances=True)
# one run interleaved with them; time of the kernels, extra peak memory).
# Two sessions, the second with the float32 filters (above); complete and
# average in the same sessions: _linkage_matrix.pyx:
#   single:   0.84 / 0.85 / 0.88 s; 1.16 / 1.35 / 1.53 s, +2 MB;
#             scikit-learn 3.73 s; 4.87 s, +1 MB (4.4x; 3.6x)
#   ward:     2.34 / 4.32 / 5.29 s; 3.00 / 4.20 / 5.02 s, +2 MB;
#             scikit-learn 52.3 s; 80.5 s, +3051 MB (12x; 19x)
#   100,000 x 16, 2 threads, load 6-7, with the filters: ward 207 s wall
#   (109 s CPU), single 58 s wall (26 s CPU); peak RSS 244 MB and 242 MB,
#   both well under 1 GB (the process itself, numpy and scikit-learn
#   imported, is 206 MB). Ward 50,000 x 16 on one thread: 19.9 s CPU
#   (23.4 s without the filter): at this size the search streams the
#   centroids from L3 and is bound by its bandwidth.
# One thread, 10,000 x 16, CPU time: single 0.17 s, ward 0.45 s (complete:
# _linkage_matrix.pyx). Explicit vectors, 32 lanes in
# registers, against the first version's plain loops over 16 lanes kept in
# memory: Prim 20,000 x 16, one thread, 1.93 s -> 0.93 to 1.28 s.

import numpy as np

from cython cimport floating
from cython.parallel cimport parallel, threadid
from libc.math cimport sqrt, INFINITY, NAN, isnan
from libc.stdlib cimport malloc, free

from _interrupt cimport Poll, poll_init, poll_signals, raise_if_stopped
from _linkage_common cimport (
    LANES, EUCLIDEAN_SQ, COSINE, prim_update_f, prim_update_d, prim_filtered_f,
    prim_filtered_d, ward_scores, ward_scores_filtered, team_fn, Team, team_init,
    team_run, team_work, team_quit, SCAN_CHUNK, COMPACT_MIN, metric_code, padded,
    worth_sharing, team_threads, first_min_of_chunks, transpose_padded, row_norms,
    merge_arrays,
)

# For the Python side (tests, estimator).
CHUNK = SCAN_CHUNK


# --------------------------------------------------------------------------
# Single linkage: Prim's algorithm on the data.

cdef struct PrimStep:
    const void* Xt          # (n_features, stride), float or double
    bint is_float
    Py_ssize_t stride
    Py_ssize_t width        # columns still in the arrays
    Py_ssize_t n_features
    const double* x         # the point added last
    double x_norm
    const double* norms
    float* Xf               # euclidean: float32 points (Xt itself for float32)
    float* pnorm            # their norms, rounded up to a float
    float* xf               # the point added last in float32
    double x_bound          # its pnorm
    int metric
    double* min_dist
    double* chunk_best
    Py_ssize_t* chunk_where


cdef void prim_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef PrimStep* s = <PrimStep*> ctx
    cdef Py_ssize_t start = c * SCAN_CHUNK
    cdef Py_ssize_t stop = min(s.width, start + SCAN_CHUNK)
    if s.metric == EUCLIDEAN_SQ:
        if s.is_float:
            s.chunk_where[c] = prim_filtered_f(
                <const float*> s.Xt, s.Xf, s.pnorm, s.stride, start, stop,
                s.n_features, s.x, s.xf, s.x_bound, s.min_dist, &s.chunk_best[c])
        else:
            s.chunk_where[c] = prim_filtered_d(
                <const double*> s.Xt, s.Xf, s.pnorm, s.stride, start, stop,
                s.n_features, s.x, s.xf, s.x_bound, s.min_dist, &s.chunk_best[c])
    elif s.is_float:
        s.chunk_where[c] = prim_update_f(
            <const float*> s.Xt, s.stride, start, stop, s.n_features, s.x, s.x_norm,
            s.norms, s.metric, s.min_dist, &s.chunk_best[c])
    else:
        s.chunk_where[c] = prim_update_d(
            <const double*> s.Xt, s.stride, start, stop, s.n_features, s.x, s.x_norm,
            s.norms, s.metric, s.min_dist, &s.chunk_best[c])


cdef Py_ssize_t prim_exact_search(PrimStep* s, double* best) noexcept nogil:
    """The next point when the searches found none, never -1.

    The filter keeps every lane whose bound is not a finite number, so this
    should not run; it is here so that no search can hand -1 to the caller as
    a point. The exact update over all columns, serial, then, if every
    distance is still +inf (squares overflowing), the first point outside the
    tree (the padding's min_dist is NaN like the tree's).
    """
    cdef Py_ssize_t p, nxt
    if s.is_float:
        nxt = prim_update_f(
            <const float*> s.Xt, s.stride, 0, s.width, s.n_features, s.x, s.x_norm,
            s.norms, s.metric, s.min_dist, best)
    else:
        nxt = prim_update_d(
            <const double*> s.Xt, s.stride, 0, s.width, s.n_features, s.x, s.x_norm,
            s.norms, s.metric, s.min_dist, best)
    if nxt >= 0:
        return nxt
    for p in range(s.width):
        if not isnan(s.min_dist[p]):
            best[0] = s.min_dist[p]
            return p
    return 0


cdef void prim_loop(floating* Xt, PrimStep* s, Py_ssize_t n, double* norms,
                    Py_ssize_t* index, double* x, Py_ssize_t* a, Py_ssize_t* b,
                    double* h, Team* team, int n_threads, Poll* poll) noexcept nogil:
    """Prim's algorithm from sample 0, the master's part."""
    cdef Py_ssize_t d = s.n_features, stride = s.stride
    cdef Py_ssize_t width = stride, n_out = n, cur = 0, nxt, k, p, q, f, n_chunks
    cdef double* min_dist = s.min_dist
    cdef double best
    for k in range(n - 1):
        if poll_signals(poll, <double> width * d):
            return
        min_dist[cur] = NAN
        n_out -= 1
        for f in range(d):
            x[f] = <double> Xt[f * stride + cur]
            s.xf[f] = s.Xf[f * stride + cur]
        s.x_norm = norms[cur]
        s.x_bound = s.pnorm[cur]
        s.width = width
        n_chunks = (width + SCAN_CHUNK - 1) // SCAN_CHUNK
        team_run(team, prim_chunk, s, n_chunks, worth_sharing(n_threads, width, d))
        nxt = first_min_of_chunks(s.chunk_best, s.chunk_where, n_chunks, &best)
        if nxt < 0:
            nxt = prim_exact_search(s, &best)
        a[k] = index[cur]
        b[k] = index[nxt]
        h[k] = sqrt(best) if s.metric == EUCLIDEAN_SQ else best
        cur = nxt
        # Squeeze the points inside the tree out of the arrays, order kept
        # (the lowest index still wins ties), once they are half of them.
        if width > COMPACT_MIN and 2 * (n_out + LANES) < width:
            q = 0
            for p in range(width):
                if not isnan(min_dist[p]) or p == cur:
                    if p == cur:
                        nxt = q
                    if q != p:
                        for f in range(d):
                            Xt[f * stride + q] = Xt[f * stride + p]
                            s.Xf[f * stride + q] = s.Xf[f * stride + p]
                        s.pnorm[q] = s.pnorm[p]
                        min_dist[q] = min_dist[p]
                        norms[q] = norms[p]
                        index[q] = index[p]
                    q += 1
            cur = nxt
            width = padded(q)
            for p in range(q, width):
                for f in range(d):
                    Xt[f * stride + p] = 0
                    s.Xf[f * stride + p] = 0
                s.pnorm[p] = 0
                min_dist[p] = NAN
                norms[p] = 1.0


def single_linkage(const floating[:, ::1] X, str metric, int n_threads):
    """Single-linkage merges: Prim's minimum spanning tree on the data.

    Parameters
    ----------
    X : (n_samples, n_features)      # IN  finite; n_samples >= 2
    metric : {'euclidean', 'l2', 'manhattan', 'l1', 'cityblock', 'cosine'}
    n_threads : int

    Returns
    -------
    a, b : (n_samples - 1,) intp     the sample added before, the sample added
    height : (n_samples - 1,) float64  its distance to the tree, in Prim order

    O(n_samples^2 n_features) time; a feature-major copy of X (its dtype)
    and O(n_samples) more memory.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef int code = metric_code(metric, True)
    cdef Py_ssize_t stride = padded(n)
    a_arr, b_arr, h_arr = merge_arrays(n)
    cdef Py_ssize_t[::1] a = a_arr
    cdef Py_ssize_t[::1] b = b_arr
    cdef double[::1] h = h_arr
    cdef floating* Xt = <floating*> malloc(max(stride * d, 1) * sizeof(floating))
    cdef double* min_dist = <double*> malloc(stride * sizeof(double))
    cdef double* norms = <double*> malloc(stride * sizeof(double))
    cdef Py_ssize_t* index = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
    cdef double* x = <double*> malloc(max(d, 1) * sizeof(double))
    cdef Py_ssize_t n_chunks_max = (stride + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double* chunk_best = <double*> malloc(n_chunks_max * sizeof(double))
    cdef Py_ssize_t* chunk_where = <Py_ssize_t*> malloc(n_chunks_max * sizeof(Py_ssize_t))
    cdef Py_ssize_t p, f
    cdef PrimStep step
    cdef Team team
    cdef Poll poll
    cdef int nt = team_threads(n_threads, n, d)
    # The filter's float32 points: X's own feature-major copy when float32.
    cdef bint own_xf = floating is double
    cdef float* Xf = <float*> malloc(max(stride * d, 1) * sizeof(float)) if own_xf else <float*> Xt
    cdef float* pnorm = <float*> malloc(stride * sizeof(float))
    cdef float* xf = <float*> malloc(max(d, 1) * sizeof(float))
    cdef double total

    if (Xt == NULL or min_dist == NULL or norms == NULL or index == NULL
            or x == NULL or chunk_best == NULL or chunk_where == NULL
            or Xf == NULL or pnorm == NULL or xf == NULL or n < 2):
        free(Xt); free(min_dist); free(norms); free(index); free(x)
        free(chunk_best); free(chunk_where); free(pnorm); free(xf)
        if own_xf:
            free(Xf)
        if n < 2:
            return a_arr, b_arr, h_arr
        raise MemoryError()

    poll_init(&poll)
    with nogil:
        transpose_padded(&X[0, 0], n, d, stride, Xt)
        for p in range(stride):
            norms[p] = 1.0
            index[p] = p
            min_dist[p] = INFINITY if p < n else NAN
        if code == COSINE:
            row_norms(&X[0, 0], n, d, norms)
        for p in range(stride):
            total = 0.0
            for f in range(d):
                total = total + <double> Xt[f * stride + p] * <double> Xt[f * stride + p]
                if own_xf:
                    Xf[f * stride + p] = <float> Xt[f * stride + p]
            pnorm[p] = <float> (sqrt(total) * (1.0 + 1e-6))
        step.Xf = Xf
        step.pnorm = pnorm
        step.xf = xf
        step.Xt = Xt
        step.is_float = floating is float
        step.stride = stride
        step.n_features = d
        step.x = x
        step.norms = norms
        step.metric = code
        step.min_dist = min_dist
        step.chunk_best = chunk_best
        step.chunk_where = chunk_where
        team_init(&team)
        with parallel(num_threads=nt):
            if threadid() == 0:
                prim_loop(Xt, &step, n, norms, index, x, &a[0], &b[0], &h[0], &team,
                          n_threads, &poll)
                team_quit(&team)
            else:
                team_work(&team)

    free(Xt); free(min_dist); free(norms); free(index); free(x)
    free(chunk_best); free(chunk_where); free(pnorm); free(xf)
    if own_xf:
        free(Xf)
    raise_if_stopped(&poll)
    return a_arr, b_arr, h_arr


# --------------------------------------------------------------------------
# Ward: nearest-neighbour chain on the centroids.

cdef struct WardStep:
    double* Ct              # (n_features, stride) centroids, feature-major
    float* Cf               # the same in float32, for the filter
    float* cnorm            # (stride,) their norms, rounded up to a float
    float* cxf              # the chain end's centroid in float32
    double cx_norm
    Py_ssize_t stride
    Py_ssize_t width        # columns still in the arrays
    Py_ssize_t n_features
    const double* cx        # centroid of the chain's end
    double inv_x            # 1 / its size
    const double* inv       # 1 / sizes, NaN: not a candidate
    double* score
    double* chunk_best
    Py_ssize_t* chunk_where


cdef void ward_chunk(void* ctx, Py_ssize_t c) noexcept nogil:
    cdef WardStep* s = <WardStep*> ctx
    cdef Py_ssize_t start = c * SCAN_CHUNK
    s.chunk_where[c] = ward_scores_filtered(
        s.Ct, s.Cf, s.cnorm, s.stride, start, min(s.width, start + SCAN_CHUNK),
        s.n_features, s.cx, s.cxf, s.cx_norm, s.inv_x, s.inv, s.score,
        &s.chunk_best[c])


cdef inline float norm_above(const double* column, Py_ssize_t stride,
                             Py_ssize_t n_features) noexcept nogil:
    """A float at least the norm of a centroid (feature-major column)."""
    cdef Py_ssize_t f
    cdef double total = 0.0
    for f in range(n_features):
        total = total + column[f * stride] * column[f * stride]
    return <float> (sqrt(total) * (1.0 + 1e-6))


cdef void ward_loop(WardStep* s, Py_ssize_t n, double* inv, double* size,
                    Py_ssize_t* index, Py_ssize_t* chain, Py_ssize_t* new_pos,
                    double* cx, Py_ssize_t* a, Py_ssize_t* b, double* h,
                    Team* team, int n_threads, Poll* poll) noexcept nogil:
    """The nearest-neighbour chain, the master's part."""
    cdef Py_ssize_t d = s.n_features, stride = s.stride
    cdef Py_ssize_t width = stride, n_active = n, chain_len = 0
    cdef Py_ssize_t k, p, q, f, j, x, y, prev, lo, hi, n_chunks
    cdef double best, inv_x, n_lo, n_hi, t
    cdef double* Ct = s.Ct
    cdef float* Cf = s.Cf
    cdef float* cnorm = s.cnorm
    cdef double* score = s.score
    for k in range(n - 1):
        # A merge costs one to three searches over the active clusters.
        if poll_signals(poll, <double> width * d):
            return
        if chain_len == 0:
            for p in range(width):
                if not isnan(inv[p]):
                    chain[0] = p
                    chain_len = 1
                    break
        while True:
            x = chain[chain_len - 1]
            for f in range(d):
                cx[f] = Ct[f * stride + x]
                s.cxf[f] = Cf[f * stride + x]
            s.cx_norm = cnorm[x]
            inv_x = inv[x]
            # x is not its own candidate while the search runs.
            inv[x] = NAN
            s.inv_x = inv_x
            s.width = width
            n_chunks = (width + SCAN_CHUNK - 1) // SCAN_CHUNK
            team_run(team, ward_chunk, s, n_chunks, worth_sharing(n_threads, width, d))
            inv[x] = inv_x
            y = first_min_of_chunks(s.chunk_best, s.chunk_where, n_chunks, &best)
            if y < 0:
                # No finite score (the distances overflow; the estimator
                # rejects such data first): any other active cluster, never
                # index -1.
                best = INFINITY
                for p in range(width):
                    if p != x and not isnan(inv[p]):
                        y = p
                        break
            if chain_len > 1:
                prev = chain[chain_len - 2]
                # The search may have skipped prev's block: its score again,
                # from a whole block (every lane the same instructions).
                j = prev // LANES * LANES
                ward_scores(Ct, stride, j, j + LANES, d, cx, inv_x, inv, score, &t)
                # The previous element wins unless something is strictly
                # nearer; its score comes from this same search, so it is
                # the value computed when x was pushed (d(x, y) = d(y, x) to
                # the bit: every lane runs the same instructions).
                if not (best < score[prev]):
                    y = prev
                    best = score[prev]
                    break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        # Merge: the lower position (= lower sample index: the arrays keep
        # their order) leaves, the higher one holds the union.
        lo = min(x, y)
        hi = max(x, y)
        a[k] = index[lo]
        b[k] = index[hi]
        h[k] = sqrt(2.0 * best)
        n_lo = size[lo]
        n_hi = size[hi]
        t = n_hi / (n_lo + n_hi)
        for f in range(d):
            Ct[f * stride + hi] = Ct[f * stride + lo] + (
                Ct[f * stride + hi] - Ct[f * stride + lo]) * t
            Cf[f * stride + hi] = <float> Ct[f * stride + hi]
        cnorm[hi] = norm_above(Ct + hi, stride, d)
        size[hi] = n_lo + n_hi
        inv[hi] = 1.0 / (n_lo + n_hi)
        size[lo] = 0.0
        inv[lo] = NAN
        n_active -= 1
        if width > COMPACT_MIN and 2 * (n_active + LANES) < width:
            q = 0
            for p in range(width):
                if not isnan(inv[p]):
                    new_pos[p] = q
                    if q != p:
                        for f in range(d):
                            Ct[f * stride + q] = Ct[f * stride + p]
                            Cf[f * stride + q] = Cf[f * stride + p]
                        cnorm[q] = cnorm[p]
                        inv[q] = inv[p]
                        size[q] = size[p]
                        index[q] = index[p]
                    q += 1
            # The chain's clusters are active: they move with the arrays.
            for j in range(chain_len):
                chain[j] = new_pos[chain[j]]
            width = padded(q)
            for p in range(q, width):
                for f in range(d):
                    Ct[f * stride + p] = 0.0
                    Cf[f * stride + p] = 0.0
                cnorm[p] = 0.0
                inv[p] = NAN
                size[p] = 0.0


def ward_linkage(const floating[:, ::1] X, int n_threads):
    """Ward merges: nearest-neighbour chain on cluster centroids.

    Parameters
    ----------
    X : (n_samples, n_features)      # IN  finite; n_samples >= 2
    n_threads : int

    Returns
    -------
    a, b : (n_samples - 1,) intp     the two clusters merged, a < b, each named
                                     by a sample; the merged cluster is named b
    height : (n_samples - 1,) float64  the Ward distance, in chain order

    O(n_samples^2 n_features) time (about 3 n_samples nearest-neighbour
    searches over the active clusters); O(n_samples n_features) float64
    memory for the centroids.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef Py_ssize_t stride = padded(n)
    a_arr, b_arr, h_arr = merge_arrays(n)
    cdef Py_ssize_t[::1] a = a_arr
    cdef Py_ssize_t[::1] b = b_arr
    cdef double[::1] h = h_arr
    cdef double* Ct = <double*> malloc(max(stride * d, 1) * sizeof(double))
    cdef double* inv = <double*> malloc(stride * sizeof(double))
    cdef double* size = <double*> malloc(stride * sizeof(double))
    cdef double* score = <double*> malloc(stride * sizeof(double))
    cdef Py_ssize_t* index = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
    cdef Py_ssize_t* chain = <Py_ssize_t*> malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* new_pos = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
    cdef double* cx = <double*> malloc(max(d, 1) * sizeof(double))
    cdef float* Cf = <float*> malloc(max(stride * d, 1) * sizeof(float))
    cdef float* cnorm = <float*> malloc(stride * sizeof(float))
    cdef float* cxf = <float*> malloc(max(d, 1) * sizeof(float))
    cdef Py_ssize_t n_chunks_max = (stride + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double* chunk_best = <double*> malloc(n_chunks_max * sizeof(double))
    cdef Py_ssize_t* chunk_where = <Py_ssize_t*> malloc(n_chunks_max * sizeof(Py_ssize_t))
    cdef Py_ssize_t p, f
    cdef WardStep step
    cdef Team team
    cdef Poll poll
    cdef int nt = team_threads(n_threads, n, d)

    if (Ct == NULL or inv == NULL or size == NULL or score == NULL or index == NULL
            or chain == NULL or new_pos == NULL or cx == NULL or chunk_best == NULL
            or chunk_where == NULL or Cf == NULL or cnorm == NULL or cxf == NULL):
        free(Ct); free(inv); free(size); free(score); free(index); free(chain)
        free(new_pos); free(cx); free(chunk_best); free(chunk_where)
        free(Cf); free(cnorm); free(cxf)
        raise MemoryError()

    poll_init(&poll)
    if n >= 2:
        with nogil:
            for f in range(d):
                for p in range(n):
                    Ct[f * stride + p] = <double> X[p, f]
                for p in range(n, stride):
                    Ct[f * stride + p] = 0.0
                for p in range(stride):
                    Cf[f * stride + p] = <float> Ct[f * stride + p]
            for p in range(stride):
                cnorm[p] = norm_above(Ct + p, stride, d)
                index[p] = p
                size[p] = 1.0 if p < n else 0.0
                inv[p] = 1.0 if p < n else NAN
            step.Ct = Ct
            step.Cf = Cf
            step.cnorm = cnorm
            step.cxf = cxf
            step.stride = stride
            step.n_features = d
            step.cx = cx
            step.inv = inv
            step.score = score
            step.chunk_best = chunk_best
            step.chunk_where = chunk_where
            team_init(&team)
            with parallel(num_threads=nt):
                if threadid() == 0:
                    ward_loop(&step, n, inv, size, index, chain, new_pos, cx,
                              &a[0], &b[0], &h[0], &team, n_threads, &poll)
                    team_quit(&team)
                else:
                    team_work(&team)

    free(Ct); free(inv); free(size); free(score); free(index); free(chain)
    free(new_pos); free(cx); free(chunk_best); free(chunk_where)
    free(Cf); free(cnorm); free(cxf)
    raise_if_stopped(&poll)
    return a_arr, b_arr, h_arr


# --------------------------------------------------------------------------
# From merges to SciPy's linkage matrix.

def linkage_from_merges(a, b, height, Py_ssize_t n_samples, *, bint smaller_first=True):
    """SciPy's linkage matrix from merges in the order a kernel found them.

    Parameters
    ----------
    a, b : (n_samples - 1,) intp     # IN  sample indices naming the merged
                                     #     clusters
    height : (n_samples - 1,) float64  # IN
    n_samples : int
    smaller_first : bool, default True
        Whether each row puts the smaller id first, as SciPy's `label` does.
        False keeps the cluster of a first, then that of b: scikit-learn's
        single-linkage children_ (its `_single_linkage_label` does not order
        the pair), given single_linkage's merges.

    Returns
    -------
    Z : (n_samples - 1, 4) float64
        Rows sorted by height (stable: merges of equal height keep the
        kernel's order), each (id, id, height, size), leaves 0..n_samples-1
        and the i-th row's cluster n_samples + i, as
        scipy.cluster.hierarchy.linkage returns it.
    """
    cdef Py_ssize_t[::1] order = np.argsort(height, kind='stable').astype(np.intp)
    cdef const Py_ssize_t[::1] av = np.ascontiguousarray(a, dtype=np.intp)
    cdef const Py_ssize_t[::1] bv = np.ascontiguousarray(b, dtype=np.intp)
    cdef const double[::1] hv = np.ascontiguousarray(height, dtype=np.float64)
    Z_arr = np.empty((n_samples - 1, 4))
    cdef double[:, ::1] Z = Z_arr
    # parent[] over leaves and new nodes; cluster_size[] per node.
    cdef Py_ssize_t[::1] parent = np.arange(2 * n_samples - 1, dtype=np.intp)
    cdef Py_ssize_t[::1] cluster_size = np.ones(2 * n_samples - 1, dtype=np.intp)
    cdef Py_ssize_t k, r, u, v, t, node
    for k in range(n_samples - 1):
        r = order[k]
        u = av[r]
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        v = bv[r]
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        if smaller_first and u > v:
            t = u
            u = v
            v = t
        node = n_samples + k
        parent[u] = node
        parent[v] = node
        cluster_size[node] = cluster_size[u] + cluster_size[v]
        Z[k, 0] = u
        Z[k, 1] = v
        Z[k, 2] = hv[r]
        Z[k, 3] = cluster_size[node]
    return Z_arr
