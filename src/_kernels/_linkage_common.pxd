# Declarations and helpers shared by the linkage kernels on the samples
# (_linkage.pyx: single linkage by Prim, Ward by nearest-neighbour chain)
# and on a distance matrix (_linkage_matrix.pyx: the condensed matrix,
# single linkage by Prim on it, complete and average by nearest-neighbour
# chain): the vector loops and the thread team of _linkage_simd.h, the chunk
# sizes, the chunked search's in-order reduction. The design notes common
# to both follow; each module's header has its algorithms, invariants and
# figures.
#
# Each kernel returns the n - 1 merges (a, b, height) in the order it finds
# them: a and b are sample indices standing for the two clusters (a cluster is
# named by one of its samples: the slot that survives), height in float64.
# linkage_from_merges turns them into SciPy's linkage matrix: a stable sort by
# height, then a union-find that names leaves 0..n-1 and the i-th merge n + i,
# the smaller id first in each row (scipy.cluster.hierarchy's `label`).
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
# distances without a float64 copy (the float32 filters: _linkage.pyx).
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

from cython cimport floating
from libc.math cimport sqrt, INFINITY


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


cdef inline int metric_code(str metric, bint squared_euclidean) except -1:
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


cdef inline void transpose_padded(const floating* X, Py_ssize_t n_samples,
                                  Py_ssize_t n_features, Py_ssize_t stride,
                                  floating* Xt) noexcept nogil:
    """Xt[f, p] = X[p, f]; columns n_samples..stride-1 are zero."""
    cdef Py_ssize_t p, f
    for f in range(n_features):
        for p in range(n_samples):
            Xt[f * stride + p] = X[p * n_features + f]
        for p in range(n_samples, stride):
            Xt[f * stride + p] = 0


cdef inline void row_norms(const floating* X, Py_ssize_t n_samples,
                           Py_ssize_t n_features, double* norms) noexcept nogil:
    """sqrt(sum_f x_f^2) in double, as SciPy's cosine."""
    cdef Py_ssize_t p, f
    cdef double s
    for p in range(n_samples):
        s = 0.0
        for f in range(n_features):
            s = s + <double> X[p * n_features + f] * <double> X[p * n_features + f]
        norms[p] = sqrt(s)


cdef inline tuple merge_arrays(Py_ssize_t n):
    """The empty (a, b, height) of a kernel's n - 1 merges."""
    import numpy as np
    return (np.empty(max(n - 1, 0), dtype=np.intp), np.empty(max(n - 1, 0), dtype=np.intp),
            np.empty(max(n - 1, 0), dtype=np.float64))
