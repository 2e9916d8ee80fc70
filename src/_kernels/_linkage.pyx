# Agglomerative clustering's merges: single linkage (Prim's minimum spanning
# tree on the data or on a distance matrix), Ward (nearest-neighbour chain on
# centroids), complete and average (nearest-neighbour chain on a condensed
# distance matrix), and that matrix. Cost: O(n^2 n_features) time and
# O(n n_features) memory on the data; O(n^2) time on the matrix, which is
# O(n^2) memory (the caller's).
#
# Each kernel returns the n - 1 merges (a, b, height) in the order it finds
# them: a and b are sample indices standing for the two clusters (a cluster is
# named by one of its samples: the slot that survives), height in float64.
# linkage_from_merges turns them into SciPy's linkage matrix: a stable sort by
# height, then a union-find that names leaves 0..n-1 and the i-th merge n + i,
# the smaller id first in each row (scipy.cluster.hierarchy's `label`).
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
# Ward and complete/average. Nearest-neighbour chain (Murtagh, "A survey of
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
# Parallel parts and determinism. The searches (Prim's update, the chain's
# nearest neighbour) cut the candidates into fixed chunks of SCAN_CHUNK;
# each chunk finds its first smallest value and the chunks are reduced in
# order with a strict comparison, so the result is the first smallest over
# all candidates whatever the threads. Lance-Williams updates and the
# condensed matrix are elementwise, the first nearest neighbours a
# lexicographic (value, index) minimum. Results are bit-identical for any
# number of threads (tests/test_linkage_kernels.py, 1, 2, 3 threads).
# These algorithms are n searches of O(n) each, one after another: an
# OpenMP loop per search ends in a barrier, and with the cores shared a
# barrier waits for a descheduled thread's next time slice (measured: Prim
# on 20,000 x 16, 2 threads, other processes running: 16 s against 0.9 s on
# one thread). So one parallel region runs the whole algorithm: its master
# publishes each search and every thread claims chunks by compare-and-swap;
# the master waits only for chunks already claimed (_linkage_simd.h,
# tc_team_*). Same case: 2.4 s against 2.3 s on one thread.
#
# Vector loops (_linkage_simd.h). Points and centroids are stored
# feature-major, so a vector lane is a candidate and no horizontal sum is
# needed; blocks of 32 candidates keep 8 independent accumulators. Each
# candidate runs the same instructions whatever its lane (arrays padded to
# 32, no remainder loop), so d(x, y) == d(y, x) to the bit, which NN-chain
# needs. float32 data are widened to double as they are loaded (a
# difference of floats is exact in double): float32 input gets the float64
# distances without a float64 copy. The Ward search first filters each
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
# Distances. Direct differences, never the norm expansion |a|^2 + |b|^2 -
# 2<a, b>, which loses the 1e-10 relative agreement on close pairs. Cosine
# as SciPy: 1 - clip(<a, b> / (|a| |b|), -1, 1), norms sqrt(sum a^2); for
# nearly parallel rows this cancels, and ours and SciPy's agree to about
# 1e-16 absolute, not relative (average linkage, 300 x 2 Gaussian, cosine:
# heights 8e-9 relative apart, the same tree).
# Euclidean Prim compares squared distances and roots each merge's once.
#
# Active sets. Points and clusters that left the running are NaN in the
# arrays scanned (never the minimum: comparisons with NaN are false) and are
# squeezed out, order kept, once they are half of the array: the scans then
# cost O(active) rather than O(n).
#
# NaN policy: the estimator rejects NaN and inf before calling; a NaN in the
# data would make a point never the minimum (Prim, Ward) and the result is
# not specified. Cosine needs non-zero rows (scikit-learn rejects zero rows).
#
# Measured (this 2-core machine, shared: load average 4 to 8 throughout,
# so every figure is 2-4x the idle machine's; make_blobs(n_samples=20_000,
# n_features=16, centers=20, random_state=0), float64, 2 threads, each run
# its own process, ours 3 runs (median) and scikit-learn 1.9.1's
# AgglomerativeClustering(compute_full_tree=True, compute_distances=True)
# one run interleaved with them; time of the kernels, extra peak memory).
# Two sessions, the second with the float32 filters (below):
#   single:   0.84 / 0.85 / 0.88 s; 1.16 / 1.35 / 1.53 s, +2 MB;
#             scikit-learn 3.73 s; 4.87 s, +1 MB (4.4x; 3.6x)
#   ward:     2.34 / 4.32 / 5.29 s; 3.00 / 4.20 / 5.02 s, +2 MB;
#             scikit-learn 52.3 s; 80.5 s, +3051 MB (12x; 19x)
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
#   100,000 x 16, 2 threads, load 6-7, with the filters: ward 207 s wall
#   (109 s CPU), single 58 s wall (26 s CPU); peak RSS 244 MB and 242 MB,
#   both well under 1 GB (the process itself, numpy and scikit-learn
#   imported, is 206 MB). Ward 50,000 x 16 on one thread: 19.9 s CPU
#   (23.4 s without the filter): at this size the search streams the
#   centroids from L3 and is bound by its bandwidth.
# One thread, 10,000 x 16, CPU time: single 0.17 s, ward 0.45 s, complete
# 1.2 s (SciPy 3.6 s on the same matrix). Explicit vectors, 32 lanes in
# registers, against the first version's plain loops over 16 lanes kept in
# memory: Prim 20,000 x 16, one thread, 1.93 s -> 0.93 to 1.28 s.
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


cdef extern from "_linkage_simd.h" nogil:
    enum: LANES "TC_LINK_LANES"
    enum: EUCLIDEAN_SQ "TC_LINK_EUCLIDEAN_SQ"
    enum: EUCLIDEAN "TC_LINK_EUCLIDEAN"
    enum: MANHATTAN "TC_LINK_MANHATTAN"
    enum: COSINE "TC_LINK_COSINE"
    void prefetch "TC_LINK_PREFETCH"(const void* address)
    void prefetch_w "TC_LINK_PREFETCH_W"(const void* address)
    Py_ssize_t prim_update_f "tc_link_prim_update_f"(
        const float* Xt, Py_ssize_t stride, Py_ssize_t start, Py_ssize_t stop,
        Py_ssize_t n_features, const double* x, double x_norm, const double* norms,
        int metric, double* min_dist, double* best)
    Py_ssize_t prim_update_d "tc_link_prim_update_d"(
        const double* Xt, Py_ssize_t stride, Py_ssize_t start, Py_ssize_t stop,
        Py_ssize_t n_features, const double* x, double x_norm, const double* norms,
        int metric, double* min_dist, double* best)
    Py_ssize_t prim_filtered_f "tc_link_prim_filtered_f"(
        const float* Xt, const float* Xf, const float* pnorm, Py_ssize_t stride,
        Py_ssize_t start, Py_ssize_t stop, Py_ssize_t n_features, const double* x,
        const float* xf, double x_norm, double* min_dist, double* best)
    Py_ssize_t prim_filtered_d "tc_link_prim_filtered_d"(
        const double* Xt, const float* Xf, const float* pnorm, Py_ssize_t stride,
        Py_ssize_t start, Py_ssize_t stop, Py_ssize_t n_features, const double* x,
        const float* xf, double x_norm, double* min_dist, double* best)
    void distances_f "tc_link_distances_f"(
        const float* Xt, Py_ssize_t stride, Py_ssize_t start, Py_ssize_t stop,
        Py_ssize_t n_features, const double* x, double x_norm, const double* norms,
        int metric, float* out)
    void distances_d "tc_link_distances_d"(
        const double* Xt, Py_ssize_t stride, Py_ssize_t start, Py_ssize_t stop,
        Py_ssize_t n_features, const double* x, double x_norm, const double* norms,
        int metric, double* out)
    Py_ssize_t ward_scores "tc_link_ward_scores"(
        const double* Ct, Py_ssize_t stride, Py_ssize_t start, Py_ssize_t stop,
        Py_ssize_t n_features, const double* cx, double inv_x, const double* inv,
        double* score, double* best)
    Py_ssize_t ward_scores_filtered "tc_link_ward_scores_filtered"(
        const double* Ct, const float* Cf, const float* cnorm, Py_ssize_t stride,
        Py_ssize_t start, Py_ssize_t stop, Py_ssize_t n_features, const double* cx,
        const float* cxf, double cx_norm, double inv_x, const double* inv,
        double* score, double* best)

    ctypedef void (*team_fn "tc_team_fn")(void* ctx, Py_ssize_t chunk) noexcept nogil
    ctypedef struct Team "tc_team":
        pass
    void team_init "tc_team_init"(Team* team)
    void team_run "tc_team_run"(Team* team, team_fn fn, void* ctx, Py_ssize_t n_chunks,
                                int parallel)
    void team_work "tc_team_work"(Team* team)
    void team_quit "tc_team_quit"(Team* team)


cdef enum:
    # Candidates per chunk of a search: a multiple of LANES, small enough
    # that 2-16 threads share a search over a few thousand clusters.
    SCAN_CHUNK = 1024
    # Below this many candidate-features (entries of the matrix: 8) a search
    # runs on the master alone: publishing it to the team would cost more
    # than it saves.
    PARALLEL_MIN_WORK = 16384
    # The cost of a matrix entry in those units (a memory access, often a
    # cache line of its own).
    ENTRY_COST = 8
    # Arrays are not squeezed below this many columns.
    COMPACT_MIN = 256
    # How many entries ahead a column of the condensed matrix is prefetched
    # (one cache line per entry). matrix_linkage, complete, 12,000 x 16, one
    # thread, CPU time: 4 ahead 2.57 s, 16 2.13 s, 48 1.86 s, 96 1.85 s.
    PREFETCH_AHEAD = 64

# For the Python side (tests, estimator).
CHUNK = SCAN_CHUNK


cdef int metric_code(str metric, bint squared_euclidean) except -1:
    if metric in ('euclidean', 'l2'):
        return EUCLIDEAN_SQ if squared_euclidean else EUCLIDEAN
    if metric in ('manhattan', 'l1', 'cityblock'):
        return MANHATTAN
    if metric == 'cosine':
        return COSINE
    raise ValueError(f"unsupported metric {metric!r}")


cdef inline Py_ssize_t padded(Py_ssize_t n) noexcept nogil:
    return (n + LANES - 1) // LANES * LANES


cdef inline bint worth_sharing(int n_threads, Py_ssize_t n_candidates,
                               Py_ssize_t cost) noexcept nogil:
    """Whether a search over n_candidates (cost each) goes to the team."""
    return n_threads > 1 and n_candidates > SCAN_CHUNK and (
        n_candidates * cost >= PARALLEL_MIN_WORK)


cdef inline int team_threads(int n_threads, Py_ssize_t n_samples,
                             Py_ssize_t cost) noexcept nogil:
    """Threads worth starting for a run whose largest search is n_samples."""
    if worth_sharing(n_threads, n_samples, cost):
        return <int> max(1, min(<Py_ssize_t> n_threads,
                                (n_samples + SCAN_CHUNK - 1) // SCAN_CHUNK))
    return 1


cdef inline Py_ssize_t first_min_of_chunks(const double* values,
                                           const Py_ssize_t* where,
                                           Py_ssize_t n_chunks,
                                           double* best) noexcept nogil:
    """The chunks' minima reduced in chunk order: the first smallest overall."""
    cdef Py_ssize_t c, best_where = -1
    cdef double best_value = INFINITY
    for c in range(n_chunks):
        if where[c] >= 0 and values[c] < best_value:
            best_value = values[c]
            best_where = where[c]
    best[0] = best_value
    return best_where


cdef void transpose_padded(const floating* X, Py_ssize_t n_samples,
                           Py_ssize_t n_features, Py_ssize_t stride,
                           floating* Xt) noexcept nogil:
    """Xt[f, p] = X[p, f]; columns n_samples..stride-1 are zero."""
    cdef Py_ssize_t p, f
    for f in range(n_features):
        for p in range(n_samples):
            Xt[f * stride + p] = X[p * n_features + f]
        for p in range(n_samples, stride):
            Xt[f * stride + p] = 0


cdef void row_norms(const floating* X, Py_ssize_t n_samples, Py_ssize_t n_features,
                    double* norms) noexcept nogil:
    """sqrt(sum_f x_f^2) in double, as SciPy's cosine."""
    cdef Py_ssize_t p, f
    cdef double s
    for p in range(n_samples):
        s = 0.0
        for f in range(n_features):
            s = s + <double> X[p * n_features + f] * <double> X[p * n_features + f]
        norms[p] = sqrt(s)


def _merges(Py_ssize_t n):
    return (np.empty(max(n - 1, 0), dtype=np.intp), np.empty(max(n - 1, 0), dtype=np.intp),
            np.empty(max(n - 1, 0), dtype=np.float64))


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
                    double* h, Team* team, int n_threads) noexcept nogil:
    """Prim's algorithm from sample 0, the master's part."""
    cdef Py_ssize_t d = s.n_features, stride = s.stride
    cdef Py_ssize_t width = stride, n_out = n, cur = 0, nxt, k, p, q, f, n_chunks
    cdef double* min_dist = s.min_dist
    cdef double best
    for k in range(n - 1):
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
    a_arr, b_arr, h_arr = _merges(n)
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
                          n_threads)
                team_quit(&team)
            else:
                team_work(&team)

    free(Xt); free(min_dist); free(norms); free(index); free(x)
    free(chunk_best); free(chunk_where); free(pnorm); free(xf)
    if own_xf:
        free(Xf)
    return a_arr, b_arr, h_arr


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
                           Team* team, int n_threads) noexcept nogil:
    cdef Py_ssize_t n = s.n, k, nxt
    cdef Py_ssize_t n_chunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double best
    s.cur = 0
    for k in range(n - 1):
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
    a_arr, b_arr, h_arr = _merges(n)
    cdef Py_ssize_t[::1] a = a_arr
    cdef Py_ssize_t[::1] b = b_arr
    cdef double[::1] h = h_arr
    cdef Py_ssize_t n_chunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    cdef double* min_dist = <double*> malloc(max(n, 1) * sizeof(double))
    cdef double* chunk_best = <double*> malloc(max(n_chunks, 1) * sizeof(double))
    cdef Py_ssize_t* chunk_where = <Py_ssize_t*> malloc(max(n_chunks, 1) * sizeof(Py_ssize_t))
    cdef MatrixPrimStep step
    cdef Team team
    cdef int nt = team_threads(n_threads, n, ENTRY_COST)

    if min_dist == NULL or chunk_best == NULL or chunk_where == NULL:
        free(min_dist); free(chunk_best); free(chunk_where)
        raise MemoryError()
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
                    matrix_prim_loop(&step, &a[0], &b[0], &h[0], &team, n_threads)
                    team_quit(&team)
                else:
                    team_work(&team)
    free(min_dist); free(chunk_best); free(chunk_where)
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
                    Team* team, int n_threads) noexcept nogil:
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
    a_arr, b_arr, h_arr = _merges(n)
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
    cdef int nt = team_threads(n_threads, n, d)

    if (Ct == NULL or inv == NULL or size == NULL or score == NULL or index == NULL
            or chain == NULL or new_pos == NULL or cx == NULL or chunk_best == NULL
            or chunk_where == NULL or Cf == NULL or cnorm == NULL or cxf == NULL):
        free(Ct); free(inv); free(size); free(score); free(index); free(chain)
        free(new_pos); free(cx); free(chunk_best); free(chunk_where)
        free(Cf); free(cnorm); free(cxf)
        raise MemoryError()

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
                              &a[0], &b[0], &h[0], &team, n_threads)
                    team_quit(&team)
                else:
                    team_work(&team)

    free(Ct); free(inv); free(size); free(score); free(index); free(chain)
    free(new_pos); free(cx); free(chunk_best); free(chunk_where)
    free(Cf); free(cnorm); free(cxf)
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
                      Team* team, int n_threads) noexcept nogil:
    """The nearest-neighbour chain, the master's part."""
    cdef Py_ssize_t n_active = n, chain_len = 0, k, x, y, prev, lo, hi, n_chunks, pos
    cdef double best, prev_dist
    cdef bint share
    # Without the first pass (no memory for it) the searches find them.
    first_nearest_neighbours(s, n, team, n_threads)
    for k in range(n - 1):
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
    a_arr, b_arr, h_arr = _merges(n)
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
    cdef int nt = team_threads(n_threads, n, ENTRY_COST)

    if (row_off == NULL or active == NULL or size == NULL or chain == NULL
            or nn == NULL or nn_dist == NULL or nn_count == NULL
            or chunk_best == NULL or chunk_where == NULL):
        free(row_off); free(active); free(size); free(chain)
        free(nn); free(nn_dist); free(nn_count); free(chunk_best); free(chunk_where)
        raise MemoryError()

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
                            n_threads)
                team_quit(&team)
            else:
                team_work(&team)

    free(row_off); free(active); free(size); free(chain)
    free(nn); free(nn_dist); free(nn_count); free(chunk_best); free(chunk_where)
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
