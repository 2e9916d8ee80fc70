# DBSCAN's passes over the eps-neighbourhoods, none of which is stored: the
# weighted neighbour counts (core samples), the union of core samples within
# eps (clusters), and the cluster of each non-core sample (border or noise).
# Cost, blocked brute force: O(n_rows n_cols n_features) time per pass at
# worst (less the tiles pruned by their bounding boxes, below), O(n) memory
# plus one ROW_BLOCK x COL_BLOCK tile per thread. Uniform grid (up to
# 6 features): O(n 3^d (1 + samples per cell) n_features) time, O(n) memory.
#
# Range test. A tile of squared distances comes from one GEMM,
# ||a||^2 + ||b||^2 - 2 <a, b>, whose rounding error is at most about
# 2 (n_features + 4) u (||a||^2 + ||b||^2) (u: the unit roundoff of the
# input's precision; Higham, "Accuracy and Stability of Numerical
# Algorithms", 3.1), plus 2 (n_features + 4) times the smallest normal
# number where products underflow, and no bound at all where they overflow
# (float32 beyond 1e19: an infinite or NaN estimate). A pair whose
# approximate distance lies within that margin of eps^2, or is not finite,
# is decided again exactly: sum_k (a_k - b_k)^2 in float64,
# compared with eps^2 in float64 -- the test scikit-learn's KD and ball trees
# make in their leaves (their data are float64 copies of X), so the
# neighbourhoods are the same. (Not always for a pair at eps to the last
# ulp: the trees also take a whole node whose box lies within eps, a test
# on the box's square-rooted distance, and then keep a pair whose squared
# distance is one ulp beyond eps^2; their brute force decides such a pair
# on an expansion. scikit-learn's own algorithms disagree there, and these
# passes agree with the leaf test.) The sum is in feature order, as theirs: this
# module is built without reassociation or contraction (meson.build), since
# a pair exactly at eps in that order can be one ulp beyond it in another
# (a vectorised sum put 1 in 3 such pairs on the wrong side, d = 3 to 8).
#
# Clusters. scikit-learn numbers its clusters in the order of a scan of the
# samples, each unlabelled core sample starting a depth-first expansion; so a
# cluster is a connected component of the graph of core samples within eps of
# each other, clusters are numbered in the order of their smallest core
# sample, and a border sample joins the first cluster that reaches it, which
# is the smallest cluster id among its core neighbours. These passes compute
# exactly that: components by a concurrent union-find (the components, as
# sets, do not depend on the order of the unions, hence not on the threads),
# numbered by the caller in the order of their smallest core sample (the
# grid's forest is over positions sorted by cell), then each border sample's smallest
# neighbouring cluster id (a minimum, so independent of the order too).
#
# Union-find: every link points a root to a smaller-index root by
# compare-and-swap (so parent[i] <= i always and no cycle can form), retried
# when another thread has linked either root first; finds halve the path with
# relaxed atomic stores (a stale write still points to an ancestor, since
# trees are only ever merged). Anderson and Woll, "Wait-free parallel
# algorithms for the union-find problem", STOC 1991; Jayanti and Tarjan,
# "A randomized concurrent algorithm for disjoint set union", PODC 2016.
#
# Measured (2 cores, this machine; scikit-learn 1.9.1, labels and core
# samples identical; time of fit, extra peak memory each in its own process):
#   dbscan_2d (the issue's: 315,000 x 2, blobs + 5% noise, eps 0.1, mean
#     neighbourhood 144): grid 0.145-0.167 s, 38 MB; scikit-learn 3.1-3.5 s,
#     439 MB (about 20x; the target, the `dbscan` package, is 0.23 s). Of
#     the 0.145 s, the count pass 0.045, the union pass 0.042, the sort by
#     cell 0.006, the rest numpy (validation, keys, copies, searchsorted).
#   dbscan_dense (200,000 x 3, make_blobs(centers=10, random_state=0),
#     eps 0.8, min_samples 50, mean neighbourhood 884): grid 0.64-0.66 s,
#     28 MB; scikit-learn 9.9-12.8 s, 1907 MB.
#   dbscan_10d (100,000 x 10, make_blobs(centers=20, random_state=0), eps
#     2.12, min_samples 10; brute force with tiles pruned by bounding boxes,
#     below): 0.97-0.99 s, median 0.98 s of 5, against scikit-learn's
#     9.8-10.1 s, median 10.08 s of 3, in one process on an idle machine,
#     labels and core samples identical (10.3x; the target is 4x; with
#     another test run sharing the 2 cores: 1.38 s against 10.4 s). Before
#     the pruning 13.5 s. Passes, 2 threads: k-d order and boxes 0.10 s,
#     counts 0.51 s, union 0.16 s, borders 0.19 s (one thread: 1.05, 0.37,
#     0.38 s). float32: 0.87 s (median of 3) against 10.8 s, identical.
# Brute force without pruning is O(n^2): 10.6 s for 100,000 x 3, where the
# grid takes 0.08 s.
#
# Tile pruning (brute force). The caller puts the samples in a k-d tree's
# order (src/_dbscan.py, _spatial_order: each segment split at a multiple of
# ROW_BLOCK near its median along its feature of largest spread) and passes
# the float64 per-feature min and max of every block of ROW_BLOCK rows and of
# COL_BLOCK columns; a tile whose two boxes are more than eps apart
# (boxes_apart: the per-feature gaps squared and summed in feature order,
# > eps^2) is skipped. The bound is exact, not a heuristic: rounding is
# monotone, so no pair in such a tile could pass the exact test, and the
# labels are unchanged. On dbscan_10d 7.3% of the pairs survive with
# 128 x 256 tiles, 6.2% with 128 x 128 (13.2% with 128 x 1024; pairs inside
# one blob: 5%): COL_BLOCK = 128, counts 1.05 s against 1.13 s with 256 on
# one thread. A branch-free count loop (masked weights,
# vectorised, the few pairs within the GEMM's rounding margin decided after)
# was slower, 1.58 s against 1.13 s: most pairs of a surviving tile are out
# of range, a well-predicted branch. Rows and columns are in k-d order, so
# a non-integer weighted count is summed in that order (fixed, whatever the
# threads); borders take a minimum; predict breaks ties by the core
# sample's original index (core_index).
#
# Grid or brute force (src/_dbscan.py, GRID_MAX_FEATURES = 6): the grid's cost
# grows as 3^(d-1) runs per cell, brute force's as n^2. make_blobs(centers=20)
# and uniform data, eps for a mean neighbourhood of about 30, grid / brute:
#   n = 100,000: d=3 0.08 / 10.6 s, d=5 0.48 / 12.0, d=7 2.9 / 12.6 (uniform
#     2.0 / 12.1), d=8 9.4 / 13.2;
#   n = 20,000:  d=4 0.07 / 0.96 s, d=6 0.29 / 1.01 (uniform 0.14 / 0.43),
#     d=7 0.93 / 1.04 (uniform 0.28 / 0.45), d=8 2.5 / 0.49 (uniform 1.2 / 0.49).
# Up to 6 features the grid is at least 3x faster from 20,000 samples on; at 7
# the margin is gone for smaller n, at 8 brute force wins.
# Measured again with the pruned brute force (2 threads, the whole fit;
# eps from the median distance to the 30th neighbour):
#   make_blobs(centers=20), n = 100,000: d=5 0.49 / 0.82 s, d=6 1.21 / 0.90,
#     d=7 3.11 / 0.99, d=8 9.46 / 1.08;
#   uniform [0, 1]^d, n = 100,000: d=4 0.16 / 1.14, d=5 0.32 / 1.87,
#     d=6 0.89 / 3.37; n = 20,000: d=4 0.03 / 0.14, d=6 0.16 / 0.41.
# The limit stays at 6: there the grid loses by 1.3x on blobs but wins by
# 3.8x on uniform data, where boxes prune little; from 7 on brute force wins
# on clustered data by 3x and more.
#
# The grid's inner loops: with 2 or 3 features the stride is a constant; the
# count loop first writes w[q] * (d2 <= eps^2) for a block of candidates (no
# branch, no reduction: it vectorises with the distances summed strictly)
# and then sums the block in four chains (2.5 -> 0.61 ns per candidate, one
# thread, 404 candidates per sample on dbscan_2d; 0.52 ns with a
# reassociated sum, which breaks the exact test). The union loop first asks
# whether q is already in p's component (a predictable branch inside a
# cluster) and only then tests the distance (0.23 -> 0.08 s, one thread, on
# dbscan_2d's 291,609 core samples).
#
# float32 in the grid's count loop. It used to read each candidate's float32
# features with a stride of 3 and convert them in the loop: gcc found no
# SSE2 (baseline) vector type for those loads at the float64 loop's width
# of 2 and left the loop scalar, with a branch per candidate (-fopt-info-vec:
# "no vectype for stmt"; perf annotate: cvtss2sd and
# comisd/jae where float64 has subpd/cmplepd/andpd). dbscan_dense's count
# pass took 2.9 s in float32 against 0.90 s in float64 (one thread). The
# pass now goes block by block of WEIGHT_BLOCK candidates, every sample of
# the query cell against a block before the next: a float32 block is
# converted to float64 (exactly) once per cell rather than once per sample,
# 0.6% of the pass, and the vectorised float64 loop runs on it; each
# sample's count still adds the same block sums in the same order, so the
# counts are bit-identical. dbscan_dense, 2 threads, medians of 5 runs
# alternating old and new and the dtypes in one process, with other jobs
# on the 2 cores (load 8-10, so about 3x the idle figures above), per pass
# in seconds (counts / union / borders / whole fit):
#   float32 before 6.67 / 0.96 / 0.03 / 8.06, after 2.12 / 1.11 / 0.03 / 3.37;
#   float64 before 2.22 / 1.13 / 0.04 / 3.46, after 2.12 / 0.99 / 0.04 / 3.32
# (the union pass is the same code before and after: its spread is noise;
# one thread it takes 0.43 s in both dtypes). One thread, perf's samples
# in the count kernel: float32 35,241 before, 11,229 after; float64 11,559
# after. dbscan_2d's count pass gained too (float32 0.128 -> 0.092 s, float64 0.103 -> 0.090 s, 2 threads).
#
# Each row of a pass belongs to one thread, which visits its columns in index
# order: the counts and the labels are bit-identical for any number of threads.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.float cimport FLT_EPSILON, FLT_MIN, DBL_EPSILON, DBL_MIN
from libc.math cimport isfinite
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from _blas cimport gemm_abt
from _reduce cimport team_size

cdef enum:
    # Rows of a tile, and its columns: small tiles have tight bounding boxes
    # (tile pruning, above; src/_dbscan.py has the same sizes).
    ROW_BLOCK = 128
    COL_BLOCK = 128

    # Modes of nearest_core_labels.
    MODE_SMALLEST_LABEL = 0
    MODE_NEAREST_CORE = 1

# The same modes, for the Python side.
SMALLEST_LABEL = MODE_SMALLEST_LABEL
NEAREST_CORE = MODE_NEAREST_CORE


cdef extern from *:
    """
    static inline Py_ssize_t turbocluster_uf_load(Py_ssize_t* p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    static inline void turbocluster_uf_store(Py_ssize_t* p, Py_ssize_t v) {
        __atomic_store_n(p, v, __ATOMIC_RELAXED);
    }
    static inline int turbocluster_uf_cas(Py_ssize_t* p, Py_ssize_t expected,
                                          Py_ssize_t desired) {
        return __atomic_compare_exchange_n(p, &expected, desired, 0,
                                           __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
    """
    Py_ssize_t uf_load "turbocluster_uf_load"(Py_ssize_t* p) noexcept nogil
    void uf_store "turbocluster_uf_store"(Py_ssize_t* p, Py_ssize_t v) noexcept nogil
    bint uf_cas "turbocluster_uf_cas"(Py_ssize_t* p, Py_ssize_t expected,
                                      Py_ssize_t desired) noexcept nogil


cdef inline Py_ssize_t uf_find(Py_ssize_t* parent, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t p = uf_load(&parent[i]), gp
    while p != i:
        gp = uf_load(&parent[p])
        if gp != p:
            uf_store(&parent[i], gp)
        i = p
        p = gp
    return i


cdef inline void uf_union(Py_ssize_t* parent, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t ra, rb, t
    while True:
        ra = uf_find(parent, a)
        rb = uf_find(parent, b)
        if ra == rb:
            return
        if ra < rb:
            t = ra
            ra = rb
            rb = t
        # Link the larger-index root under the smaller; fails if ra stopped
        # being a root meanwhile, and then the finds start again.
        if uf_cas(&parent[ra], ra, rb):
            return


cdef inline double margin_scale(floating dummy, Py_ssize_t n_features) noexcept nogil:
    """The GEMM error bound's factor of ||a||^2 + ||b||^2 (see the top)."""
    if floating is float:
        return 2.0 * (n_features + 4) * FLT_EPSILON
    else:
        return 2.0 * (n_features + 4) * DBL_EPSILON


cdef inline double margin_floor(floating dummy, Py_ssize_t n_features) noexcept nogil:
    """The GEMM error bound's absolute part: a product or a square below the
    input precision's smallest normal number is subnormal or flushed to
    zero, off by up to that number whatever the relative bound says (float32
    samples of 1e-22 have squares of 1e-44). n_features products and two
    norms, doubled for the margin."""
    if floating is float:
        return 2.0 * (n_features + 4) * FLT_MIN
    else:
        return 2.0 * (n_features + 4) * DBL_MIN


cdef inline double exact_sq_distance(const floating* a, const floating* b,
                                     Py_ssize_t n_features) noexcept nogil:
    cdef double s = 0.0, t, t1, t2
    cdef Py_ssize_t k
    # The same sums, in the same order, written out for the grid's few
    # features: a call per candidate otherwise runs a loop of unknown length.
    if n_features == 2:
        t = <double> a[0] - <double> b[0]
        t1 = <double> a[1] - <double> b[1]
        return t * t + t1 * t1
    if n_features == 3:
        t = <double> a[0] - <double> b[0]
        t1 = <double> a[1] - <double> b[1]
        t2 = <double> a[2] - <double> b[2]
        return (t * t + t1 * t1) + t2 * t2
    for k in range(n_features):
        t = <double> a[k] - <double> b[k]
        s = s + t * t
    return s


cdef enum:
    # Candidates whose masked weights are written out before being summed.
    WEIGHT_BLOCK = 256


cdef inline const double* as_float64(const floating* X, Py_ssize_t n,
                                     double* scratch) noexcept nogil:
    """X's n values in float64: X itself if it is float64, else converted
    (exactly) into scratch."""
    cdef Py_ssize_t k
    if floating is double:
        return X
    else:
        for k in range(n):
            scratch[k] = X[k]
        return scratch


cdef inline double block_weight_within(
        const floating* a, const double* Y, Py_ssize_t n, Py_ssize_t n_features,
        const double* w, double eps2) noexcept nogil:
    """The sum of w[k] over the n rows k of Y (float64; at most WEIGHT_BLOCK)
    within eps of a (the exact test).

    First w[k] * (d2 <= eps^2) for every candidate: no reduction, no branch,
    so with 2 or 3 features (a constant stride) the loop vectorises even
    though the distances are summed strictly in feature order (this module
    is built without reassociation). Then the block is summed in four
    interleaved partial sums (k mod 4), combined as (s0 + s1) + (s2 + s3):
    an order fixed by the code, whatever the threads (scikit-learn's np.sum
    has its own; with integer weights every order gives the same sum), and
    four chains rather than one add's latency."""
    cdef double buf[WEIGHT_BLOCK]
    cdef double a0, a1, a2, t0, t1, t2, s0, s1, s2, s3
    cdef Py_ssize_t k, f
    a0 = a[0]
    a1 = a[1] if n_features > 1 else 0.0
    a2 = a[2] if n_features > 2 else 0.0
    if n_features == 2:
        for k in range(n):
            t0 = a0 - Y[2 * k]
            t1 = a1 - Y[2 * k + 1]
            buf[k] = w[k] * <double> (t0 * t0 + t1 * t1 <= eps2)
    elif n_features == 3:
        for k in range(n):
            t0 = a0 - Y[3 * k]
            t1 = a1 - Y[3 * k + 1]
            t2 = a2 - Y[3 * k + 2]
            buf[k] = w[k] * <double> ((t0 * t0 + t1 * t1) + t2 * t2 <= eps2)
    else:
        # exact_sq_distance's loop, on float64 candidates.
        for k in range(n):
            s0 = 0.0
            for f in range(n_features):
                t0 = <double> a[f] - Y[k * n_features + f]
                s0 = s0 + t0 * t0
            buf[k] = w[k] * <double> (s0 <= eps2)
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    k = 0
    while k + 4 <= n:
        s0 = s0 + buf[k]
        s1 = s1 + buf[k + 1]
        s2 = s2 + buf[k + 2]
        s3 = s3 + buf[k + 3]
        k = k + 4
    while k < n:
        s0 = s0 + buf[k]
        k = k + 1
    return (s0 + s1) + (s2 + s3)


cdef inline bint within_eps(double d2, const floating* a, const floating* b,
                            Py_ssize_t n_features, double margin,
                            double eps2) noexcept nogil:
    """Whether ||a - b||^2 <= eps2 exactly, given d2 within margin of it."""
    if not isfinite(d2):
        # The estimate overflowed (float32 samples beyond 1e19: a product or
        # a norm past FLT_MAX gives +-inf or NaN) and bounds nothing.
        return exact_sq_distance(a, b, n_features) <= eps2
    if d2 < eps2 - margin:
        return True
    if d2 > eps2 + margin:
        return False
    return exact_sq_distance(a, b, n_features) <= eps2


cdef inline bint boxes_apart(const double* lo_a, const double* hi_a, const double* lo_b,
                             const double* hi_b, Py_ssize_t n_features,
                             double eps2) noexcept nogil:
    """Whether every pair of a point in box a and a point in box b is more
    than eps apart by the exact test: the per-feature gaps between the boxes
    squared and summed in feature order, in float64, exceed eps^2. Rounding
    is monotone, so each |a_k - b_k| >= its box gap after rounding too, and
    so does each partial sum: the pair's exact_sq_distance is at least this
    sum. A conservative bound, with no margin needed."""
    cdef double s = 0.0, g
    cdef Py_ssize_t k
    for k in range(n_features):
        g = 0.0
        if lo_b[k] > hi_a[k]:
            g = lo_b[k] - hi_a[k]
        elif lo_a[k] > hi_b[k]:
            g = lo_a[k] - hi_b[k]
        s = s + g * g
    return s > eps2


# ---------------------------------------------------------------------------
# The brute-force passes: one traversal of the tiles (tile_pass), one visitor
# per pass for the pairs of a tile.
#
# tile_pass hands each thread whole blocks of ROW_BLOCK rows; for each, it
# visits the blocks of COL_BLOCK columns in order, skips those whose boxes
# are more than eps apart, computes the tile's -2 <y_i, x_j> by GEMM and
# calls the pass's visitor on it. The pass selector is constant per call and
# tested once per tile (128 x 128 pairs), so the visitors keep their own
# tight loops (the count loop's partial sum stays in a register, the row's
# part of the margin is hoisted out of it: the same instructions as when
# each pass had its own traversal). dbscan_10d, the same session, old and
# new alternating in one process, identical outputs: 2 threads, medians of
# 7 fits, other jobs on the cores, float64 4.05 -> 4.04 s, float32 3.63 ->
# 3.71 s; one thread, CPU seconds, medians of 5, counts / union / borders /
# predict: float64 0.967 / 0.309 / 0.342 / 0.297 -> 0.987 / 0.287 / 0.337 /
# 0.310, float32 0.930 / 0.292 / 0.296 / 0.259 -> 0.938 / 0.300 / 0.283 /
# 0.263 (perf's samples in the count pass, two runs each: 11,789 and 11,478
# -> 11,824 and 11,965).
# ---------------------------------------------------------------------------

cdef enum:
    # The passes of tile_pass.
    PASS_COUNTS = 0
    PASS_UNION = 1
    PASS_LABELS = 2


cdef struct Boxes:
    # Per-feature float64 bounds of each block of ROW_BLOCK rows and of
    # COL_BLOCK columns (row_lo[b * n_features + k] ...); NULL: no pruning.
    const double* row_lo
    const double* row_hi
    const double* col_lo
    const double* col_hi


cdef struct PassData:
    # What a pass reads besides the samples, and what it writes.
    const double* sample_weight     # PASS_COUNTS: IN, one per column
    double* weights                 # PASS_COUNTS: OUT, one per row
    Py_ssize_t* forest              # PASS_UNION: INOUT, parent[i] <= i
    const Py_ssize_t* core_labels   # PASS_LABELS: IN, one per column
    const Py_ssize_t* core_index    # PASS_LABELS: IN, NULL: the column
    Py_ssize_t* labels              # PASS_LABELS: OUT, one per row
    int mode                        # PASS_LABELS: MODE_*


cdef struct Tile:
    # Rows r0 .. r0 + n_rows - 1 of Y against columns c0 .. c0 + n_cols - 1
    # of X; the GEMM's block is n_rows x n_cols, row-major.
    Py_ssize_t r0, n_rows, c0, n_cols, n_features
    double eps2, scale, floor


cdef Boxes block_boxes(const double[:, ::1] row_lo, const double[:, ::1] row_hi,
                       const double[:, ::1] col_lo, const double[:, ::1] col_hi):
    """The boxes of the optional arguments, all NULL unless both are given."""
    cdef Boxes boxes = Boxes(NULL, NULL, NULL, NULL)
    if row_lo is not None and row_lo.shape[0] > 0 and col_lo is not None and col_lo.shape[0] > 0:
        boxes = Boxes(&row_lo[0, 0], &row_hi[0, 0], &col_lo[0, 0], &col_hi[0, 0])
    return boxes


cdef inline double row_margin(const Tile* t, double y_sq) noexcept nogil:
    """The part of the GEMM's rounding margin that depends on the row alone."""
    return t.scale * y_sq + 4.0 * DBL_EPSILON * t.eps2 + t.floor


cdef inline double tile_sq_distance(const Tile* t, const floating* tile, const floating* y_sq,
                                    const floating* x_sq, Py_ssize_t r,
                                    Py_ssize_t j) noexcept nogil:
    """The GEMM's estimate of ||y_i - x_j||^2, i = t.r0 + r, column t.c0 + j."""
    return <double> tile[r * t.n_cols + j] + y_sq[t.r0 + r] + x_sq[t.c0 + j]


cdef inline bint tile_within(const Tile* t, const floating* tile, const floating* Y,
                             const floating* y_sq, const floating* X, const floating* x_sq,
                             Py_ssize_t r, Py_ssize_t j) noexcept nogil:
    """Whether row t.r0 + r of Y and row t.c0 + j of X are within eps (the
    exact test, decided from the estimate where it is outside the margin)."""
    cdef Py_ssize_t i = t.r0 + r, q = t.c0 + j
    return within_eps(tile_sq_distance(t, tile, y_sq, x_sq, r, j),
                      Y + i * t.n_features, X + q * t.n_features, t.n_features,
                      row_margin(t, y_sq[i]) + t.scale * x_sq[q], t.eps2)


cdef inline void count_tile(const Tile* t, const floating* tile, const floating* Y,
                            const floating* y_sq, const floating* X, const floating* x_sq,
                            PassData* data) noexcept nogil:
    """weights[i] += the weights of the tile's columns within eps of row i,
    added in column order."""
    cdef Py_ssize_t r, j
    cdef double total
    for r in range(t.n_rows):
        total = 0.0
        for j in range(t.n_cols):
            if tile_within(t, tile, Y, y_sq, X, x_sq, r, j):
                total = total + data.sample_weight[t.c0 + j]
        data.weights[t.r0 + r] += total


cdef inline void union_tile(const Tile* t, const floating* tile, const floating* Y,
                            const floating* y_sq, const floating* X, const floating* x_sq,
                            PassData* data) noexcept nogil:
    """Unite every pair (i, j) of the tile within eps with j > i (Y is X)."""
    cdef Py_ssize_t r, j, i
    for r in range(t.n_rows):
        i = t.r0 + r
        for j in range(max(i + 1 - t.c0, 0), t.n_cols):
            if tile_within(t, tile, Y, y_sq, X, x_sq, r, j):
                uf_union(data.forest, i, t.c0 + j)


cdef inline void label_tile(const Tile* t, const floating* tile, const floating* Y,
                            const floating* y_sq, const floating* X, const floating* x_sq,
                            PassData* data, double* best_sq,
                            Py_ssize_t* best_at) noexcept nogil:
    """Each row's label so far, against the tile's core samples: the
    smallest label within eps, or that of the nearest (best_sq, best_at:
    the row's nearest so far, its exact squared distance and index)."""
    cdef Py_ssize_t r, j, i, q, k
    cdef double d2, exact, margin_base
    cdef Py_ssize_t* out = data.labels
    for r in range(t.n_rows):
        i = t.r0 + r
        margin_base = row_margin(t, y_sq[i])
        for j in range(t.n_cols):
            q = t.c0 + j
            if data.mode == MODE_SMALLEST_LABEL:
                if (out[i] < 0 or data.core_labels[q] < out[i]) and tile_within(
                        t, tile, Y, y_sq, X, x_sq, r, j):
                    out[i] = data.core_labels[q]
            elif not tile_sq_distance(t, tile, y_sq, x_sq, r, j) > (
                    best_sq[r] + margin_base + t.scale * x_sq[q]):
                # (Written "not >" so that an estimate that overflowed to
                # NaN goes to the exact distance too.)
                # Candidates are compared by their exact distances; ties go
                # to the lowest index (core_index[q], else q: columns come in
                # increasing q).
                exact = exact_sq_distance(Y + i * t.n_features, X + q * t.n_features,
                                          t.n_features)
                k = q if data.core_index == NULL else data.core_index[q]
                if exact < best_sq[r] or (exact == best_sq[r] and (
                        best_at[r] < 0 or k < best_at[r])):
                    best_sq[r] = exact
                    best_at[r] = k
                    out[i] = data.core_labels[q]


cdef void tile_pass(int which, const floating[:, ::1] Y, const floating[::1] y_sq,
                    const floating[:, ::1] X, const floating[::1] x_sq, double eps,
                    Boxes boxes, PassData* data, int n_threads):
    """One pass (PASS_COUNTS, PASS_UNION or PASS_LABELS) over the tiles of
    rows of Y against rows of X that boxes do not prune (see the section's
    top). PASS_UNION visits only the tiles on or above the diagonal (Y is X)."""
    cdef Py_ssize_t n_y = Y.shape[0]
    cdef Py_ssize_t n_x = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_row_blocks = (n_y + ROW_BLOCK - 1) // ROW_BLOCK
    cdef Py_ssize_t n_col_blocks = (n_x + COL_BLOCK - 1) // COL_BLOCK
    cdef Py_ssize_t b, r0, n_rows, cb, c0, n_cols, r
    cdef double eps2 = eps * eps
    cdef double scale = margin_scale(<floating> 0, n_features)
    cdef double floor = margin_floor(<floating> 0, n_features)
    cdef Tile t
    cdef floating* tile
    cdef double* best_sq
    cdef Py_ssize_t* best_at
    if n_y == 0 or n_x == 0:
        return

    with nogil, parallel(num_threads=team_size(n_threads, n_row_blocks)):
        tile = <floating*> malloc(ROW_BLOCK * COL_BLOCK * sizeof(floating))
        best_sq = <double*> malloc(ROW_BLOCK * sizeof(double))
        best_at = <Py_ssize_t*> malloc(ROW_BLOCK * sizeof(Py_ssize_t))
        for b in prange(n_row_blocks, schedule='dynamic'):
            r0 = b * ROW_BLOCK
            n_rows = min(<Py_ssize_t> ROW_BLOCK, n_y - r0)
            for r in range(n_rows):
                if which == PASS_COUNTS:
                    data.weights[r0 + r] = 0.0
                elif which == PASS_LABELS:
                    data.labels[r0 + r] = -1
                    best_sq[r] = eps2
                    best_at[r] = -1
            # The union's pairs (i, j) with j > i only: the columns from
            # this block on.
            for cb in range(r0 // COL_BLOCK if which == PASS_UNION else 0, n_col_blocks):
                c0 = cb * COL_BLOCK
                n_cols = min(<Py_ssize_t> COL_BLOCK, n_x - c0)
                if boxes.row_lo != NULL and boxes_apart(
                        boxes.row_lo + b * n_features, boxes.row_hi + b * n_features,
                        boxes.col_lo + cb * n_features, boxes.col_hi + cb * n_features,
                        n_features, eps2):
                    continue
                gemm_abt(<int> n_rows, <int> n_cols, <int> n_features, -2.0,
                         &Y[r0, 0], <int> n_features, &X[c0, 0], <int> n_features,
                         0.0, tile, <int> n_cols)
                t = Tile(r0, n_rows, c0, n_cols, n_features, eps2, scale, floor)
                if which == PASS_COUNTS:
                    count_tile(&t, tile, &Y[0, 0], &y_sq[0], &X[0, 0], &x_sq[0], data)
                elif which == PASS_UNION:
                    union_tile(&t, tile, &Y[0, 0], &y_sq[0], &X[0, 0], &x_sq[0], data)
                else:
                    label_tile(&t, tile, &Y[0, 0], &y_sq[0], &X[0, 0], &x_sq[0], data,
                               best_sq, best_at)
        free(best_at)
        free(best_sq)
        free(tile)


def neighbour_weights(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const double[::1] sample_weight,
    double eps,
    double[::1] out,
    int n_threads,
    const double[:, ::1] row_lo=None,
    const double[:, ::1] row_hi=None,
    const double[:, ::1] col_lo=None,
    const double[:, ::1] col_hi=None,
):
    """out[i] = sum of sample_weight[j] over the j with ||x_i - x_j|| <= eps,
    i itself included, added in increasing j.

    Parameters
    ----------
    X : (n_samples, n_features)         # IN
    x_sq_norms : (n_samples,)           # IN squared norms of the rows
    sample_weight : (n_samples,)        # IN
    eps : float
    out : (n_samples,)                  # OUT
    n_threads : int
    row_lo, row_hi : (n_row_blocks, n_features)   # IN optional: the
                                        #     per-feature bounds of each block
                                        #     of ROW_BLOCK rows (float64)
    col_lo, col_hi : (n_col_blocks, n_features)   # IN the same for blocks of
                                        #     COL_BLOCK columns; tile pairs
                                        #     whose boxes are more than eps
                                        #     apart are skipped (boxes_apart)
    """
    cdef PassData data
    memset(&data, 0, sizeof(data))  # NULL: the fields other passes use
    if X.shape[0] == 0:
        return
    data.sample_weight = &sample_weight[0]
    data.weights = &out[0]
    tile_pass(PASS_COUNTS, X, x_sq_norms, X, x_sq_norms, eps,
              block_boxes(row_lo, row_hi, col_lo, col_hi), &data, n_threads)


def union_core_pairs(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    double eps,
    Py_ssize_t[::1] parent,
    int n_threads,
    const double[:, ::1] row_lo=None,
    const double[:, ::1] row_hi=None,
    const double[:, ::1] col_lo=None,
    const double[:, ::1] col_hi=None,
):
    """Unite, in the union-find forest parent, every pair of rows of X within
    eps of each other.

    Parameters
    ----------
    X : (n_core, n_features)            # IN the core samples
    x_sq_norms : (n_core,)              # IN squared norms of the rows
    eps : float
    parent : (n_core,)                  # INOUT a forest with parent[i] <= i
                                        #     (np.arange for a fresh one)
    n_threads : int
    row_lo, row_hi, col_lo, col_hi      # IN optional, as in neighbour_weights
    """
    cdef PassData data
    memset(&data, 0, sizeof(data))  # NULL: the fields other passes use
    if X.shape[0] == 0:
        return
    data.forest = &parent[0]
    tile_pass(PASS_UNION, X, x_sq_norms, X, x_sq_norms, eps,
              block_boxes(row_lo, row_hi, col_lo, col_hi), &data, n_threads)


def find_roots(Py_ssize_t[::1] parent, Py_ssize_t[::1] out):
    """out[i] = the root of i in the union-find forest parent.

    Parameters
    ----------
    parent : (n,)       # INOUT paths are compressed
    out : (n,)          # OUT
    """
    cdef Py_ssize_t i
    with nogil:
        for i in range(parent.shape[0]):
            out[i] = uf_find(&parent[0], i)


def nearest_core_labels(
    const floating[:, ::1] Y,
    const floating[::1] y_sq_norms,
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const Py_ssize_t[::1] core_labels,
    double eps,
    int mode,
    Py_ssize_t[::1] out,
    int n_threads,
    const double[:, ::1] row_lo=None,
    const double[:, ::1] row_hi=None,
    const double[:, ::1] col_lo=None,
    const double[:, ::1] col_hi=None,
    const Py_ssize_t[::1] core_index=None,
):
    """For each row of Y, a label from the core samples X within eps of it:
    the smallest of their labels (mode SMALLEST_LABEL: a border sample's
    cluster, as scikit-learn's expansion order gives it), or the label of the
    nearest of them, ties to the lowest index (mode NEAREST_CORE: predict);
    -1 where none is within eps.

    Parameters
    ----------
    Y : (n_rows, n_features)            # IN
    y_sq_norms : (n_rows,)              # IN
    X : (n_core, n_features)            # IN the core samples
    x_sq_norms : (n_core,)              # IN
    core_labels : (n_core,)             # IN their cluster ids, >= 0
    eps : float
    mode : SMALLEST_LABEL or NEAREST_CORE
    out : (n_rows,)                     # OUT
    n_threads : int
    row_lo, row_hi : (n_row_blocks, n_features)   # IN optional: the
                                        #     per-feature bounds of each block
                                        #     of ROW_BLOCK rows of Y (float64)
    col_lo, col_hi : (n_col_blocks, n_features)   # IN the same for blocks of
                                        #     COL_BLOCK rows of X
    core_index : (n_core,)              # IN optional: the index of each core
                                        #     sample that breaks NEAREST_CORE
                                        #     ties (default: its row)
    """
    cdef PassData data
    memset(&data, 0, sizeof(data))  # NULL: the fields other passes use
    if Y.shape[0] == 0:
        return
    if X.shape[0] == 0:
        out[:] = -1
        return
    data.core_labels = &core_labels[0]
    if core_index is not None and core_index.shape[0] > 0:
        data.core_index = &core_index[0]
    data.labels = &out[0]
    data.mode = mode
    tile_pass(PASS_LABELS, Y, y_sq_norms, X, x_sq_norms, eps,
              block_boxes(row_lo, row_hi, col_lo, col_hi), &data, n_threads)


# ---------------------------------------------------------------------------
# The same passes over a uniform grid (low dimensions).
#
# The caller sorts the samples by cell (src/_dbscan.py, _Grid) and hands each
# kernel, for every query cell, the ranges of sorted data positions that hold
# its neighbouring cells: with cells of side eps, two samples within eps lie
# in cells whose coordinates differ by at most 1 in every dimension, and the
# 3 cells of a row along the last dimension are consecutive keys, so the
# 3^d neighbours are 3^(d-1) contiguous ranges. Every candidate is decided
# on its exact float64 distance (exact_sq_distance <= eps^2, the brute-force
# passes' re-check, the test of scikit-learn's trees): no margin, no estimate.
#
# A query cell belongs to one thread, which visits its samples in order and,
# for each, the ranges in order: the results do not depend on the threads.
# ---------------------------------------------------------------------------


def grid_neighbour_weights(
    const floating[:, ::1] X,
    const double[::1] sample_weight,
    const Py_ssize_t[::1] cell_start,
    const Py_ssize_t[:, ::1] ranges,
    double eps,
    double[::1] out,
    int n_threads,
):
    """out[p] = sum of sample_weight[q] over the q with ||x_p - x_q|| <= eps,
    p itself included; samples sorted by cell.

    Parameters
    ----------
    X : (n_samples, n_features)         # IN sorted by cell
    sample_weight : (n_samples,)        # IN in the same order
    cell_start : (n_cells + 1,)         # IN cell c holds positions
                                        #     cell_start[c] .. cell_start[c+1]-1
    ranges : (n_cells, 2 n_ranges)      # IN [lo, hi) position ranges of the
                                        #     neighbouring cells of each cell
    eps : float
    out : (n_samples,)                  # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_cells = cell_start.shape[0] - 1
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_ranges = ranges.shape[1] // 2
    cdef Py_ssize_t c, p, r, q0, hi, n
    cdef double eps2 = eps * eps
    cdef double* scratch
    cdef const double* block

    with nogil, parallel(num_threads=team_size(n_threads, n_cells)):
        scratch = <double*> malloc(WEIGHT_BLOCK * n_features * sizeof(double))
        for c in prange(n_cells, schedule='dynamic', chunksize=16):
            for p in range(cell_start[c], cell_start[c + 1]):
                out[p] = 0.0
            # Block by block of candidates, every sample of the cell: a
            # float32 block is converted once per cell, not once per sample
            # (see the top). Each out[p] still adds its blocks in range
            # order, each block from its range's start.
            for r in range(n_ranges):
                q0 = ranges[c, 2 * r]
                hi = ranges[c, 2 * r + 1]
                while q0 < hi:
                    n = min(<Py_ssize_t> WEIGHT_BLOCK, hi - q0)
                    block = as_float64(&X[q0, 0], n * n_features, scratch)
                    for p in range(cell_start[c], cell_start[c + 1]):
                        out[p] = out[p] + block_weight_within(
                            &X[p, 0], block, n, n_features, &sample_weight[q0], eps2)
                    q0 = q0 + n
        free(scratch)


def grid_union_core_pairs(
    const floating[:, ::1] X,
    const Py_ssize_t[::1] cell_start,
    const Py_ssize_t[:, ::1] ranges,
    double eps,
    Py_ssize_t[::1] parent,
    int n_threads,
):
    """Unite, in the union-find forest parent, every pair of rows of X within
    eps of each other; rows sorted by cell.

    Parameters
    ----------
    X : (n_core, n_features)            # IN the core samples, sorted by cell
    cell_start, ranges                  # IN as in grid_neighbour_weights
    eps : float
    parent : (n_core,)                  # INOUT a forest over the sorted
                                        #     positions, parent[p] <= p
    n_threads : int
    """
    cdef Py_ssize_t n_cells = cell_start.shape[0] - 1
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_ranges = ranges.shape[1] // 2
    cdef Py_ssize_t c, p, q, r, lo, rp
    cdef double eps2 = eps * eps
    cdef Py_ssize_t* forest = &parent[0] if X.shape[0] > 0 else NULL

    with nogil, parallel(num_threads=team_size(n_threads, n_cells)):
        for c in prange(n_cells, schedule='dynamic', chunksize=16):
            for p in range(cell_start[c], cell_start[c + 1]):
                # p's root, possibly stale: equal roots still prove p and q
                # connected (trees only merge), and a stale one only costs a
                # full union that finds them already joined.
                rp = uf_find(forest, p)
                for r in range(n_ranges):
                    # Pairs (p, q) with q > p only.
                    lo = max(ranges[c, 2 * r], p + 1)
                    for q in range(lo, ranges[c, 2 * r + 1]):
                        # Already joined is the common case inside a
                        # cluster, and a predictable branch; the distance
                        # test is not.
                        if uf_find(forest, q) == rp:
                            continue
                        if exact_sq_distance(&X[p, 0], &X[q, 0], n_features) <= eps2:
                            uf_union(forest, p, q)
                            rp = uf_find(forest, p)


def grid_nearest_core_labels(
    const floating[:, ::1] Y,
    const Py_ssize_t[::1] y_cell_start,
    const Py_ssize_t[:, ::1] ranges,
    const floating[:, ::1] X,
    const Py_ssize_t[::1] core_labels,
    const Py_ssize_t[::1] core_index,
    double eps,
    int mode,
    Py_ssize_t[::1] out,
    int n_threads,
):
    """nearest_core_labels over a grid: for each row of Y, the smallest label
    of the core samples within eps (SMALLEST_LABEL) or the label of the
    nearest of them, ties to the lowest core_index (NEAREST_CORE); -1 where
    none is within eps.

    Parameters
    ----------
    Y : (n_rows, n_features)            # IN sorted by cell
    y_cell_start : (n_query_cells + 1,) # IN the cells of Y's rows
    ranges : (n_query_cells, 2 n_ranges)  # IN [lo, hi) ranges of positions
                                        #     of X in each query cell's
                                        #     neighbouring cells
    X : (n_core, n_features)            # IN the core samples, sorted by cell
    core_labels : (n_core,)             # IN their cluster ids, >= 0
    core_index : (n_core,)              # IN their ranks before sorting
    eps : float
    mode : SMALLEST_LABEL or NEAREST_CORE
    out : (n_rows,)                     # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_cells = y_cell_start.shape[0] - 1
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_ranges = ranges.shape[1] // 2
    cdef Py_ssize_t c, p, q, r, best, label
    cdef double eps2 = eps * eps
    cdef double d2, best_d2

    with nogil, parallel(num_threads=team_size(n_threads, n_cells)):
        for c in prange(n_cells, schedule='dynamic', chunksize=16):
            for p in range(y_cell_start[c], y_cell_start[c + 1]):
                label = -1
                best = -1
                best_d2 = eps2
                for r in range(n_ranges):
                    for q in range(ranges[c, 2 * r], ranges[c, 2 * r + 1]):
                        if mode == MODE_SMALLEST_LABEL:
                            if label < 0 or core_labels[q] < label:
                                if exact_sq_distance(&Y[p, 0], &X[q, 0], n_features) <= eps2:
                                    label = core_labels[q]
                        else:
                            d2 = exact_sq_distance(&Y[p, 0], &X[q, 0], n_features)
                            if d2 < best_d2 or (d2 == best_d2 and (
                                    best < 0 or core_index[q] < core_index[best])):
                                best_d2 = d2
                                best = q
                if mode != MODE_SMALLEST_LABEL and best >= 0:
                    label = core_labels[best]
                out[p] = label


def union_pairs(Py_ssize_t[::1] parent, const Py_ssize_t[::1] a, const Py_ssize_t[::1] b):
    """Unite a[i] and b[i] for every i, on one thread: the core pairs that
    another metric's neighbour search (src/_dbscan.py) hands over in chunks.

    Parameters
    ----------
    parent : (n,)       # INOUT the union-find forest; roots stay the
                        # smallest index of their tree
    a, b : (n_pairs,)   # IN
    """
    cdef Py_ssize_t i
    with nogil:
        for i in range(a.shape[0]):
            uf_union(&parent[0], a[i], b[i])
