# Distances between a block of samples and the centers: the step that every
# k-means pass starts with, written once.

from cython cimport floating
from libc.float cimport FLT_EPSILON, DBL_EPSILON
from libc.math cimport sqrt, INFINITY

from _blas cimport gemm_abt


cdef inline void block_center_scores(
    const floating* x_block,      # IN (n_rows, n_features), row-major
    Py_ssize_t n_rows,
    const floating* centers,      # IN (n_clusters, n_features), row-major
    const floating* center_sq_norms,  # IN (n_clusters,)
    Py_ssize_t n_clusters,
    Py_ssize_t n_features,
    floating* scores,             # OUT (n_rows, n_clusters)
) noexcept nogil:
    """scores[i, j] = ||c_j||^2 - 2 <x_i, c_j>, one GEMM for the block.

    This is the squared distance less ||x_i||^2, which does not change which
    center is nearest: enough for an argmin, at the cost of one matrix product.
    """
    cdef Py_ssize_t i, j
    for i in range(n_rows):
        for j in range(n_clusters):
            scores[i * n_clusters + j] = center_sq_norms[j]
    gemm_abt(<int> n_rows, <int> n_clusters, <int> n_features,
             -2.0, x_block, <int> n_features, centers, <int> n_features,
             1.0, scores, <int> n_clusters)


cdef extern from "_simd.h" nogil:
    float sq_dist_f "turbocluster_sq_dist_f"(const float* a, const float* b,
                                             Py_ssize_t n)
    double sq_dist_d "turbocluster_sq_dist_d"(const double* a, const double* b,
                                              Py_ssize_t n)


cdef extern from "_simd.h" nogil:
    void row_dots_f "turbocluster_row_dots_f"(
        const float* x, const float* centers_t, Py_ssize_t n_features,
        Py_ssize_t n_padded, float* out)
    void row_dots_d "turbocluster_row_dots_d"(
        const double* x, const double* centers_t, Py_ssize_t n_features,
        Py_ssize_t n_padded, double* out)


cdef inline void row_center_scores(
    const floating* x,            # IN (n_features,)
    const floating* centers_t,    # IN (n_features, n_padded): transposed, zero-padded
    const floating* center_sq_norms,  # IN (n_padded,)
    Py_ssize_t n_features,
    Py_ssize_t n_padded,          # a multiple of CENTER_BLOCK
    floating* scores,             # OUT (n_padded,)
) noexcept nogil:
    """scores[t] = ||c_t||^2 - 2 <x, c_t>: block_center_scores for one row,
    without BLAS (a register-blocked loop, see _simd.h)."""
    cdef Py_ssize_t t
    if floating is float:
        row_dots_f(x, centers_t, n_features, n_padded, scores)
    else:
        row_dots_d(x, centers_t, n_features, n_padded, scores)
    for t in range(n_padded):
        scores[t] = center_sq_norms[t] - 2 * scores[t]


cdef extern from "_simd.h" nogil:
    Py_ssize_t nearest_rows_f "turbocluster_nearest_rows_f"(
        const float* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const float* centers_t, const float* norms, Py_ssize_t n_padded, int* labels)
    Py_ssize_t nearest_rows_d "turbocluster_nearest_rows_d"(
        const double* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const double* centers_t, const double* norms, Py_ssize_t n_padded, int* labels)


cdef inline Py_ssize_t nearest_rows(
    const floating* X,            # IN (n_rows, n_features), row-major
    Py_ssize_t n_rows,
    Py_ssize_t n_features,
    const floating* centers_t,    # IN (n_features, n_padded): transposed, zero-padded
    const floating* norms,        # IN (n_padded,) squared norms, padded with +inf
    Py_ssize_t n_padded,          # a multiple of CENTER_BLOCK
    int* labels,                  # OUT (n_rows,)
) noexcept nogil:
    """The nearest center of each row by the scores ||c||^2 - 2 <x, c>, the
    first one on ties; returns the number of rows whose smallest score is
    not finite. A register-blocked loop, see _simd.h."""
    if floating is float:
        return nearest_rows_f(X, n_rows, n_features, centers_t, norms, n_padded, labels)
    else:
        return nearest_rows_d(X, n_rows, n_features, centers_t, norms, n_padded, labels)


cdef extern from "_simd.h" nogil:
    void center_distances_f "turbocluster_center_distances_f"(
        const float* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const double* centers_t, Py_ssize_t n_padded, Py_ssize_t n_clusters,
        double* scratch, float* out)
    void center_distances_d "turbocluster_center_distances_d"(
        const double* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const double* centers_t, Py_ssize_t n_padded, Py_ssize_t n_clusters,
        double* scratch, double* out)


cdef inline void rows_center_distances(
    const floating* X,            # IN (n_rows, n_features), row-major
    Py_ssize_t n_rows,
    Py_ssize_t n_features,
    const double* centers_t,      # IN (n_features, n_padded): in double, transposed,
                                  #     zero-padded
    Py_ssize_t n_padded,          # a multiple of CENTER_BLOCK
    Py_ssize_t n_clusters,
    double* scratch,              # scratch (4 * (n_padded + n_features),)
    floating* out,                # OUT (n_rows, n_clusters)
) noexcept nogil:
    """Distances from each row to each center, from differences summed in
    double. A register-blocked loop, see _simd.h."""
    if floating is float:
        center_distances_f(X, n_rows, n_features, centers_t, n_padded, n_clusters,
                           scratch, out)
    else:
        center_distances_d(X, n_rows, n_features, centers_t, n_padded, n_clusters,
                           scratch, out)


cdef enum:
    # From this many features on, the vector version pays for its call
    # (measured: Elkan's distances on digits, 64 features, 4x faster).
    _SQ_DIST_MIN_FEATURES = 16


cdef inline Py_ssize_t score_row_nearest_two(
    const floating* scores,       # IN (n_clusters,)
    Py_ssize_t n_clusters,
    Py_ssize_t* runner_up,        # OUT index of the second smallest, -1 if none
    floating* next_best,          # OUT its score, inf if none
) noexcept nogil:
    """Index of the smallest score (the first one on ties), and the second."""
    cdef Py_ssize_t j, nearest = 0, second = -1
    cdef floating best = scores[0], second_best = INFINITY
    for j in range(1, n_clusters):
        if scores[j] < best:
            second_best = best
            second = nearest
            best = scores[j]
            nearest = j
        elif scores[j] < second_best:
            second_best = scores[j]
            second = j
    runner_up[0] = second
    next_best[0] = second_best
    return nearest


cdef inline double score_lower_bound(
    floating score, floating x_sq, floating center_sq_norm, Py_ssize_t n_features,
) noexcept nogil:
    """A lower bound on the distance whose score ||c||^2 - 2 <x, c> is given.

    Scores from matrix products are off by at most about (n_features + 2) eps
    (|x|^2 + |c|^2): the squared distance score + |x|^2 is lowered by twice
    that before its square root (0 if that leaves nothing; inf stays inf).
    """
    cdef double margin_scale = 2.0 * (n_features + 2) * (
        FLT_EPSILON if floating is float else DBL_EPSILON)
    cdef double dist = <double> score + x_sq - margin_scale * (x_sq + center_sq_norm)
    return sqrt(dist) if dist > 0.0 else 0.0


cdef inline floating sq_euclidean(const floating* a, const floating* b,
                                  Py_ssize_t n_features) noexcept nogil:
    """Squared Euclidean distance, computed from differences (no cancellation)."""
    cdef Py_ssize_t f
    cdef floating diff, total = 0.0
    if n_features >= _SQ_DIST_MIN_FEATURES:
        if floating is float:
            return sq_dist_f(a, b, n_features)
        else:
            return sq_dist_d(a, b, n_features)
    for f in range(n_features):
        diff = a[f] - b[f]
        total = total + diff * diff
    return total


cdef inline double sq_euclidean_acc(const floating* a, const floating* b,
                                    Py_ssize_t n_features) noexcept nogil:
    """Squared Euclidean distance accumulated in double, for reported values."""
    cdef Py_ssize_t f
    cdef double diff, total = 0.0
    for f in range(n_features):
        diff = <double> a[f] - <double> b[f]
        total = total + diff * diff
    return total


cdef inline floating sq_norm(const floating* a, Py_ssize_t n_features) noexcept nogil:
    """Squared Euclidean norm."""
    cdef Py_ssize_t f
    cdef floating total = 0.0
    for f in range(n_features):
        total = total + a[f] * a[f]
    return total


cdef inline void gather_rows(
    const floating* X,            # IN (n_samples, n_features), row-major
    const Py_ssize_t* indices,    # IN (n_rows,)
    Py_ssize_t n_rows,
    Py_ssize_t n_features,
    floating* out,                # OUT (n_rows, n_features)
) noexcept nogil:
    """out[i] = X[indices[i]]: scattered rows made one block for a GEMM."""
    cdef Py_ssize_t i, f
    for i in range(n_rows):
        for f in range(n_features):
            out[i * n_features + f] = X[indices[i] * n_features + f]


cdef inline void pending_center_scores(
    const floating* X,            # IN (n_samples, n_features), row-major
    Py_ssize_t chunk,             # first sample of the chunk
    Py_ssize_t n_rows,            # samples in the chunk
    const Py_ssize_t* pending,    # IN (n_pending,) ascending samples of the chunk
    Py_ssize_t n_pending,
    const floating* centers,      # IN (n_clusters, n_features), row-major
    const floating* center_sq_norms,  # IN (n_clusters,)
    Py_ssize_t n_clusters,
    Py_ssize_t n_features,
    floating* rows,               # scratch (n_rows, n_features)
    floating* scores,             # OUT (n_pending, n_clusters)
) noexcept nogil:
    """block_center_scores of some samples of a chunk: the chunk's own rows
    when all of them are pending, else their rows gathered into one block."""
    cdef const floating* block = X + chunk * n_features
    if n_pending < n_rows:
        gather_rows(X, pending, n_pending, n_features, rows)
        block = rows
    block_center_scores(block, n_pending, centers, center_sq_norms, n_clusters,
                        n_features, scores)


cdef extern from "_simd.h" nogil:
    enum: CENTER_BLOCK "TURBOCLUSTER_CENTER_BLOCK"
    # How many rows ahead of its reads score_rows prefetches.
    enum: ROWS_AHEAD "TURBOCLUSTER_ROWS_AHEAD"
    # Ask for the cache lines of a row that will be read soon.
    void prefetch_row "TURBOCLUSTER_PREFETCH_ROW"(const void* row, Py_ssize_t n_bytes)
    Py_ssize_t score_rows_f "turbocluster_score_rows_f"(
        const float* X, const Py_ssize_t* rows, Py_ssize_t n_rows,
        Py_ssize_t chunk_start, Py_ssize_t n_features, const float* x_sq_norms,
        const float* weights, const float* closest_sq, const float* centers_t,
        const float* center_sq_norms, Py_ssize_t n_centers, Py_ssize_t n_padded,
        float* out_sq, unsigned short* out_offset, double* gains)
    Py_ssize_t score_rows_d "turbocluster_score_rows_d"(
        const double* X, const Py_ssize_t* rows, Py_ssize_t n_rows,
        Py_ssize_t chunk_start, Py_ssize_t n_features, const double* x_sq_norms,
        const double* weights, const double* closest_sq, const double* centers_t,
        const double* center_sq_norms, Py_ssize_t n_centers, Py_ssize_t n_padded,
        double* out_sq, unsigned short* out_offset, double* gains)


cdef inline Py_ssize_t score_rows(
    const floating* X,            # IN (n_samples, n_features), row-major
    const Py_ssize_t* rows,       # IN (n_rows,) ascending indices into X, one chunk
    Py_ssize_t n_rows,
    Py_ssize_t chunk_start,       # first row of that chunk
    Py_ssize_t n_features,
    const floating* x_sq_norms,   # IN (n_samples,)
    const floating* weights,      # IN (n_samples,)
    const floating* closest_sq,   # IN (n_samples,)
    const floating* centers_t,    # IN (n_features, n_padded): transposed, zero-padded
    const floating* center_sq_norms,  # IN (n_padded,) zero-padded
    Py_ssize_t n_centers,
    Py_ssize_t n_padded,
    floating* out_sq,             # OUT (n_rows, n_padded): distances of the kept rows
    unsigned short* out_offset,   # OUT (n_rows,): their offsets in the chunk
    double* gains,                # INOUT (n_padded,)
) noexcept nogil:
    """Squared distances of the rows to the centers, and the centers' gains.

    gains[t] += w_s max(closest_sq[s] - d(x_s, c_t)^2, 0) for s in rows. The
    rows that some center brings closer than closest_sq (at least those) keep
    their distances: slot j holds out_sq[j, t] = d(x_s, c_t)^2 and
    out_offset[j] = s - chunk_start, in row order. Returns the number of
    slots. See _simd.h.
    """
    if floating is float:
        return score_rows_f(X, rows, n_rows, chunk_start, n_features, x_sq_norms,
                            weights, closest_sq, centers_t, center_sq_norms, n_centers,
                            n_padded, out_sq, out_offset, gains)
    else:
        return score_rows_d(X, rows, n_rows, chunk_start, n_features, x_sq_norms,
                            weights, closest_sq, centers_t, center_sq_norms, n_centers,
                            n_padded, out_sq, out_offset, gains)
