# One EM pass of a Gaussian mixture: the E-step (weighted log-densities,
# log-sum-exp, responsibilities) and the statistics of the M-step, chunk by
# chunk. Cost: O(n_samples n_components n_features^2) for 'full' and 'tied'
# (products with triangular factors, or GEMMs), O(n_samples n_components
# n_features) for 'diag' and 'spherical';
# O(n_components n_features^2) memory per reduction group and one chunk of
# work per thread, never an n_samples x n_components array.
#
# The statistics are taken about the means mu_k that the E-step used:
#   N_k  = sum_i r_ik
#   S1_k = sum_i r_ik (x_i - mu_k)
#   S2_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T  (its diagonal for 'diag'
#                                                 and 'spherical')
# The caller moves each mean by delta_k and takes the covariance about the
# new mean as (S2_k - S1_k delta_k^T - delta_k S1_k^T + N_k delta_k
# delta_k^T) / N_k. Every term of S2_k is non-negative (positive semi-
# definite) and taken about a point close to the new mean, so no large
# squares cancel: scikit-learn's diagonal formula E[x^2] - 2 mu E[x] + mu^2
# goes negative in float32 far from the origin; this one cannot (sums about
# a shifted point: Chan, Golub and LeVeque, "Algorithms for computing the
# sample variance", 1983). 'tied' sums the S2_k over components into one
# matrix. EM itself: Dempster, Laird and Rubin, 1977.
#
# Profiled and replaced (100,000 x 16, 16 components, 'full', one thread):
# the squares summed along the features, a horizontal sum per sample and
# component (14% of the pass in SSE2); libm's exp for every responsibility
# (22%, underflow handling included), now a vector polynomial that skips
# the pruned ones; the same squares summed in blocks of 16 samples with
# their accumulators in registers (strided reads across rows: slower than
# streaming each row).
#
# Responsibilities below MIN_RESP are left out of the statistics (see below).
# X, the means and the precision factors stay in the input's precision inside
# the GEMMs, and the log-densities and responsibilities in its precision too
# (scikit-learn computes float32 data in float32); every statistic is summed
# in float64, and the chunks are reduced in order through _reduce.pxd: the
# results do not depend on the number of threads.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY
from libc.stdlib cimport malloc, free

from _blas cimport gemm_abt, syrk_ata_lower
from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_first_chunk,
    group_end_chunk, alloc_partials_unzeroed, zero_partial, sum_partials_in_order,
)

# Covariance types, as the Python side names them.
COVARIANCE_TYPES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
cdef enum:
    FULL = 0
    TIED = 1
    DIAG = 2
    SPHERICAL = 3
    # Columns of the product X @ [P_1 | P_2 | ...] computed per GEMM ('full'):
    # a chunk of 256 rows x 512 float64 columns is 1 MiB, which stays in L2.
    # (64, 128, 256 and 512 measured the same on 100,000 x 16, 16 components.)
    MAX_PRODUCT_COLUMNS = 512
    # 'full' with at most this many features computes its products without
    # BLAS (turbocluster_triangular_*, _em_simd.h): the triangle halves the
    # multiplications and no product matrix is written. One pass, 100,000
    # samples, 16 components, one thread, float64 / float32 ms, triangle
    # against GEMM: d=8 11.0/7.5 vs 11.0/8.0; d=16 24.0/15.1 vs 46.9/27.9;
    # d=24 40.2/26.3 vs 50.7/32.1; d=32 83.4/44.7 vs 71.9/44.6; d=64
    # 406.5/186.7 vs 191.2/110.2.
    SMALL_FULL_FEATURES = 24
    # With at most this many features, a chunk's scatter (the Gram matrix of
    # its rows sqrt(r) (x - mu)) is summed without BLAS (turbocluster_gram_*):
    # the BLAS calls are tiny (about a dozen rows each) and concurrent calls
    # from the OpenMP threads contend for OpenBLAS's buffer pool. Measured,
    # two threads: bgmm (8 features) float32 0.193 s against 0.227 s by SYRK;
    # gmm_full (16 features) equal within the noise.
    SMALL_GRAM_FEATURES = 16

# A responsibility below 2^-60 adds less than n_samples * 2^-60 (1e-12 at
# a million samples) to a component's total and is left out of its
# statistics: on separated clusters most of the n_components responsibilities
# of a sample are far below it (exp(-500) on the benchmark's blobs): their
# exponentials are not taken, and the 'full' scatter costs one rank-1 update
# per sample instead of one per sample and component. scikit-learn adds
# them; the difference is below its own rounding. The predictions
# (weighted_log_prob_pass) keep every responsibility.
cdef double MIN_RESP = 8.673617379884035e-19
cdef double LOG_MIN_RESP = -41.58883083359672   # log(2^-60)


cdef inline Py_ssize_t block_components(Py_ssize_t n_components,
                                        Py_ssize_t n_features) noexcept nogil:
    """Components per GEMM block of the 'full' E-step."""
    return max(1, min(n_components, MAX_PRODUCT_COLUMNS // max(n_features, 1)))


cdef extern from "_em_simd.h" nogil:
    void quadratic_d "turbocluster_quadratic_d"(
        double* out, const double* y, Py_ssize_t stride, const double* m,
        const double* p, Py_ssize_t n_features, Py_ssize_t n, double c, double scale,
        double* top)
    void quadratic_f "turbocluster_quadratic_f"(
        float* out, const float* y, Py_ssize_t stride, const float* m,
        const float* p, Py_ssize_t n_features, Py_ssize_t n, double c, double scale,
        float* top)
    void gram_d "turbocluster_gram_d"(
        const double* rows, Py_ssize_t n_rows, Py_ssize_t n_features, double* gram,
        double* s2)
    void gram_f "turbocluster_gram_f"(
        const float* rows, Py_ssize_t n_rows, Py_ssize_t n_features, float* gram,
        double* s2)
    void triangular_d "turbocluster_triangular_d"(
        double* out, const double* xt, Py_ssize_t n, const double* pt,
        const double* mp, Py_ssize_t n_features, double c0, double* top)
    void triangular_f "turbocluster_triangular_f"(
        float* out, const float* xt, Py_ssize_t n, const float* pt,
        const float* mp, Py_ssize_t n_features, double c0, float* top)
    void centered_transpose_d "turbocluster_centered_transpose_d"(
        const double* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const double* center, double* out)
    void centered_transpose_f "turbocluster_centered_transpose_f"(
        const float* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const float* center, float* out)
    void transpose_d "turbocluster_transpose_d"(
        const double* X, Py_ssize_t n_rows, Py_ssize_t n_features, double* out)
    void transpose_f "turbocluster_transpose_f"(
        const float* X, Py_ssize_t n_rows, Py_ssize_t n_features, float* out)
    void subtract_d "turbocluster_subtract_d"(
        const double* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const double* center, double* out)
    void subtract_f "turbocluster_subtract_f"(
        const float* X, Py_ssize_t n_rows, Py_ssize_t n_features,
        const float* center, float* out)
    Py_ssize_t gather_d "turbocluster_gather_d"(
        const double* resp, Py_ssize_t n, Py_ssize_t* rows, double* r, double* total)
    Py_ssize_t gather_f "turbocluster_gather_f"(
        const float* resp, Py_ssize_t n, Py_ssize_t* rows, double* r, double* total)
    void gathered_moments_d "turbocluster_gathered_moments_d"(
        const double* r, const double* X, const Py_ssize_t* rows, Py_ssize_t n,
        const double* m, Py_ssize_t n_features, double* s1, double* s2)
    void gathered_moments_f "turbocluster_gathered_moments_f"(
        const double* r, const float* X, const Py_ssize_t* rows, Py_ssize_t n,
        const float* m, Py_ssize_t n_features, double* s1, double* s2)
    void gathered_rows_d "turbocluster_gathered_rows_d"(
        const double* r, const double* X, const Py_ssize_t* rows, Py_ssize_t n,
        const double* m, Py_ssize_t n_features, double* s1, double* out)
    void gathered_rows_f "turbocluster_gathered_rows_f"(
        const double* r, const float* X, const Py_ssize_t* rows, Py_ssize_t n,
        const float* m, Py_ssize_t n_features, double* s1, float* out)
    void normalise_d "turbocluster_normalise_d"(
        double* w, Py_ssize_t n_components, Py_ssize_t n, const double* tops,
        double* lse, double* r_log_r, int prune, double log_min_resp,
        double min_resp)
    void normalise_f "turbocluster_normalise_f"(
        float* w, Py_ssize_t n_components, Py_ssize_t n, const float* tops,
        double* lse, double* r_log_r, int prune, double log_min_resp,
        double min_resp)


cdef inline void quadratic(floating* out, const floating* y, Py_ssize_t stride,
                           const floating* m, const floating* p,
                           Py_ssize_t n_features, Py_ssize_t n, double c,
                           double scale, floating* top) noexcept nogil:
    """out[i] = c - scale * sum_j ((y[j * stride + i] - m[j]) p[j])^2 (p NULL
    reads as ones), and top[i] = max(top[i], out[i])."""
    if floating is double:
        quadratic_d(out, y, stride, m, p, n_features, n, c, scale, top)
    else:
        quadratic_f(out, y, stride, m, p, n_features, n, c, scale, top)


cdef inline void normalise(floating* w, Py_ssize_t n_components, Py_ssize_t n,
                           const floating* top, double* lse, double* r_log_r,
                           bint prune) noexcept nogil:
    """Responsibilities in place of a chunk's weighted log-densities (see
    turbocluster_normalise_d, _em_simd.h), in the data's precision."""
    if floating is double:
        normalise_d(w, n_components, n, top, lse, r_log_r, prune, LOG_MIN_RESP,
                    MIN_RESP)
    else:
        normalise_f(w, n_components, n, top, lse, r_log_r, prune, LOG_MIN_RESP,
                    MIN_RESP)


cdef void chunk_weighted_log_prob(
    const floating* X,          # IN (n_rows, n_features)
    Py_ssize_t n_rows,
    Py_ssize_t n_features,
    Py_ssize_t n_components,
    const floating* means,      # IN (n_components, n_features)
    const floating* prec,       # IN see weighted_log_prob_pass
    const floating* mean_prec,  # IN (n_components, n_features) (mu_k - c) @ P_k
    const floating* center,     # IN (n_features,) c, a point amid the data
    const double* log_const,    # IN (n_components,)
    int cov_type,
    floating* work,             # scratch work_size(n_components, n_features)
    floating* wlp_t,            # OUT (n_components, n_rows)
    floating* top,              # OUT (n_rows,) the largest of each sample's
) noexcept nogil:
    """wlp_t[k, i] = log_const[k] - ||P_k^T (x_i - mu_k)||^2 / 2.

    Every product is laid out with the samples along its rows, so that the
    squares are summed across samples in vector registers (_em_simd.h), in
    the data's precision: the sum of n_features squares is part of one
    log-density, not a statistic.
    """
    cdef Py_ssize_t d = n_features, K = n_components
    cdef Py_ssize_t i, j, k, b, k0, cols
    cdef Py_ssize_t block = block_components(K, d)
    cdef floating* centered = work + product_size(K, d)

    for i in range(n_rows):
        top[i] = -INFINITY

    if cov_type == FULL and d <= SMALL_FULL_FEATURES:
        # Few features: the triangular products without a GEMM (see
        # SMALL_FULL_FEATURES).
        if floating is double:
            centered_transpose_d(X, n_rows, d, center, work)
        else:
            centered_transpose_f(X, n_rows, d, center, work)
        for k in range(K):
            if floating is double:
                triangular_d(wlp_t + k * n_rows, work, n_rows, prec + k * d * d,
                             mean_prec + k * d, d, log_const[k], top)
            else:
                triangular_f(wlp_t + k * n_rows, work, n_rows, prec + k * d * d,
                             mean_prec + k * d, d, log_const[k], top)
        return
    if cov_type == FULL or cov_type == TIED:
        # work[(k - k0) * d + j, i] = ((x_i - c) @ P_k)_j for a block of
        # components per GEMM (prec holds the P_k^T stacked: this is
        # prec_block @ (X - c)^T). Less ((mu_k - c) @ P_k)_j, it is
        # scikit-learn's y = x P - mu P; about c rather than the origin, so
        # that float32 data far from the origin keeps its digits.
        if floating is double:
            subtract_d(X, n_rows, d, center, centered)
        else:
            subtract_f(X, n_rows, d, center, centered)
        for b in range((K + block - 1) // block if cov_type == FULL else 1):
            k0 = b * block
            cols = min(block, K - k0) * d if cov_type == FULL else d
            gemm_abt(<int> cols, <int> n_rows, <int> d, <floating> 1.0,
                     prec + k0 * d * d, <int> d, centered, <int> d, <floating> 0.0,
                     work, <int> n_rows)
            for k in range(k0, min(k0 + block, K) if cov_type == FULL else K):
                quadratic(wlp_t + k * n_rows,
                          work + ((k - k0) * d * n_rows if cov_type == FULL else 0),
                          n_rows, mean_prec + k * d, NULL, d, n_rows, log_const[k], 0.5,
                          top)
        return
    # 'diag', 'spherical': the chunk transposed once, then each component.
    if floating is double:
        transpose_d(X, n_rows, d, work)
    else:
        transpose_f(X, n_rows, d, work)
    for k in range(K):
        if cov_type == DIAG:
            quadratic(wlp_t + k * n_rows, work, n_rows, means + k * d, prec + k * d,
                      d, n_rows, log_const[k], 0.5, top)
        else:
            quadratic(wlp_t + k * n_rows, work, n_rows, means + k * d,
                      <const floating*> NULL, d, n_rows, log_const[k],
                      0.5 * prec[k] * prec[k], top)


cdef inline void add_gram(floating* rows, Py_ssize_t n_rows, Py_ssize_t d,
                          double* s2, floating* gram) noexcept nogil:
    """Lower triangle of s2 += rows[:n_rows]^T rows[:n_rows] (row-major)."""
    cdef Py_ssize_t i, j
    if d <= SMALL_GRAM_FEATURES:
        # No BLAS call for few features (see SMALL_GRAM_FEATURES).
        if floating is double:
            gram_d(rows, n_rows, d, gram, s2)
        else:
            gram_f(rows, n_rows, d, gram, s2)
        return
    if floating is double:
        syrk_ata_lower(<int> d, <int> n_rows, 1.0, rows, <int> d, 1.0, s2, <int> d)
    else:
        # The Gram matrix of these rows in float32, added to float64 sums.
        syrk_ata_lower(<int> d, <int> n_rows, <float> 1.0, rows, <int> d,
                       <float> 0.0, gram, <int> d)
        for i in range(d):
            for j in range(i + 1):
                s2[i * d + j] = s2[i * d + j] + gram[i * d + j]


cdef void chunk_statistics(
    const floating* X,          # IN (n_rows, n_features)
    Py_ssize_t n_rows,
    Py_ssize_t n_features,
    Py_ssize_t n_components,
    const floating* shift,      # IN (n_components, n_features) the mu_k
    const floating* resp_t,     # IN (n_components, n_rows), zero or >= MIN_RESP
    int cov_type,
    double* part,               # INOUT N (K), S1 (K, d), S2 (see em_pass)
    Py_ssize_t s2_width,
    floating* rows,             # scratch (CHUNK_SIZE, n_features)
    floating* gram,             # scratch (n_features, n_features)
    Py_ssize_t* kept,           # scratch (CHUNK_SIZE,)
    double* kept_r,             # scratch (CHUNK_SIZE,)
) noexcept nogil:
    """Add the chunk's N_k, S1_k and S2_k to a group's partial statistics.

    Only the samples with a responsibility are visited (on separated
    clusters, about one component per sample), gathered per component.
    'full' and 'tied' turn them into rows sqrt(r) (x - mu_k), whose Gram
    matrix is their share of S2_k ('full') or of the one S2 summed over
    components ('tied').
    """
    cdef Py_ssize_t d = n_features, K = n_components
    cdef Py_ssize_t k, n_kept, n_gathered = 0
    cdef const floating* mu
    cdef const floating* rk
    cdef double* s1
    cdef double* s2 = part + K + K * d

    for k in range(K):
        mu = shift + k * d
        rk = resp_t + k * n_rows
        s1 = part + K + k * d
        if cov_type != TIED:
            s2 = part + K + K * d + k * s2_width
        if floating is double:
            n_kept = gather_d(rk, n_rows, kept, kept_r, &part[k])
        else:
            n_kept = gather_f(rk, n_rows, kept, kept_r, &part[k])
        if n_kept == 0:
            continue
        if cov_type == DIAG or cov_type == SPHERICAL:
            if floating is double:
                gathered_moments_d(kept_r, X, kept, n_kept, mu, d, s1, s2)
            else:
                gathered_moments_f(kept_r, X, kept, n_kept, mu, d, s1, s2)
            continue
        if n_gathered + n_kept > CHUNK_SIZE:
            # 'tied' gathers the rows of every component: flush a full buffer.
            add_gram(rows, n_gathered, d, s2, gram)
            n_gathered = 0
        if floating is double:
            gathered_rows_d(kept_r, X, kept, n_kept, mu, d, s1, rows + n_gathered * d)
        else:
            gathered_rows_f(kept_r, X, kept, n_kept, mu, d, s1, rows + n_gathered * d)
        n_gathered = n_gathered + n_kept
        if cov_type == FULL:
            add_gram(rows, n_gathered, d, s2, gram)
            n_gathered = 0
    if n_gathered > 0:
        add_gram(rows, n_gathered, d, s2, gram)


cdef inline Py_ssize_t statistics_size(Py_ssize_t K, Py_ssize_t d,
                                       Py_ssize_t s2_rows,
                                       Py_ssize_t s2_width) noexcept nogil:
    # N, S1, S2, then the sums of log-sum-exp and of r log r.
    return K + K * d + s2_rows * s2_width + 2


cdef inline Py_ssize_t product_size(Py_ssize_t K, Py_ssize_t d) noexcept nogil:
    """A GEMM product block, X^T, or the rows sqrt(r) (x - mu)."""
    return CHUNK_SIZE * max(block_components(K, d) * d, d)


cdef inline Py_ssize_t work_size(Py_ssize_t K, Py_ssize_t d) noexcept nogil:
    """Scratch of one thread: product_size, then a chunk of centered rows."""
    return product_size(K, d) + CHUNK_SIZE * d


def _check_statistics_shapes(X, means, nk, s1, s2, cov_type):
    n_components, n_features = means.shape[0], X.shape[1]
    widths = {FULL: n_features * n_features, TIED: n_features * n_features,
              DIAG: n_features, SPHERICAL: n_features}
    rows = 1 if cov_type == TIED else n_components
    if (means.shape[1] != n_features or nk.shape[0] != n_components
            or s1.shape[0] != n_components or s1.shape[1] != n_features
            or s2.shape[0] != rows or s2.shape[1] != widths[cov_type]):
        raise ValueError("inconsistent shapes of the statistics")


def em_pass(
    const floating[:, ::1] X,
    const floating[:, ::1] means,
    const floating[:, ::1] prec,
    const floating[:, ::1] mean_prec,
    const floating[::1] center,
    const double[::1] log_const,
    int cov_type,
    double[::1] nk,
    double[:, ::1] s1,
    double[:, ::1] s2,
    int n_threads,
):
    """One E-step and the M-step's statistics, in one pass over X.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    means : (n_components, n_features)          # IN mu_k
    prec : see weighted_log_prob_pass           # IN precision factors P_k
    mean_prec : (n_components, n_features)      # IN (mu_k - center) @ P_k ('full',
                                                #    'tied')
    center : (n_features,)                      # IN a point amid the data (the
                                                #    mixture's mean)
    log_const : (n_components,)                 # IN log weight + log det P_k
                                                #    - n_features log(2 pi) / 2
                                                #    (+ any per-component term)
    cov_type : int                              # COVARIANCE_TYPES
    nk : (n_components,)                        # OUT N_k
    s1 : (n_components, n_features)             # OUT S1_k
    s2 : (n_components, n_features^2) 'full'    # OUT S2_k, lower triangles
         (1, n_features^2) 'tied'               #    (row-major); 'tied': the
         (n_components, n_features) otherwise   #    sum over components
    n_threads : int

    Returns
    -------
    sum_log_norm : float
        The sum over samples of log sum_k exp(weighted log-density).
    sum_r_log_r : float
        The sum over samples and components of r log r.
    """
    _check_statistics_shapes(X, means, nk, s1, s2, cov_type)
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t d = X.shape[1]
    cdef Py_ssize_t K = means.shape[0]
    cdef Py_ssize_t s2_width = s2.shape[1]
    cdef Py_ssize_t size = statistics_size(K, d, s2.shape[0], s2_width)
    cdef ChunkPlan plan = plan_chunks(n_samples, size)
    cdef double* partials = alloc_partials_unzeroed(plan, size)
    cdef double* totals
    cdef floating* work
    cdef floating* gram
    cdef floating* wlp_t
    cdef double* lse
    cdef floating* top
    cdef Py_ssize_t* kept
    cdef double* kept_r
    cdef double* part
    cdef Py_ssize_t g, c, i, chunk, n_rows
    cdef double log_norm_sum, r_log_r

    if partials == NULL:
        raise MemoryError()
    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        work = <floating*> malloc(work_size(K, d) * sizeof(floating))
        gram = <floating*> malloc(d * d * sizeof(floating))
        wlp_t = <floating*> malloc(CHUNK_SIZE * K * sizeof(floating))
        lse = <double*> malloc(CHUNK_SIZE * sizeof(double))
        top = <floating*> malloc(CHUNK_SIZE * sizeof(floating))
        kept = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        kept_r = <double*> malloc(CHUNK_SIZE * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * size
            zero_partial(part, size)
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                chunk_weighted_log_prob(
                    &X[chunk, 0], n_rows, d, K, &means[0, 0], &prec[0, 0],
                    &mean_prec[0, 0], &center[0], &log_const[0], cov_type, work,
                    wlp_t, top)
                # Responsibilities in place of the densities; the
                # log-sum-exps are added in sample order.
                normalise(wlp_t, K, n_rows, top, lse, part + size - 1, True)
                for i in range(n_rows):
                    part[size - 2] += lse[i]
                chunk_statistics(&X[chunk, 0], n_rows, d, K, &means[0, 0], wlp_t,
                                 cov_type, part, s2_width, work, gram, kept, kept_r)
        free(work)
        free(gram)
        free(wlp_t)
        free(lse)
        free(top)
        free(kept)
        free(kept_r)
    totals = _finish(partials, plan, size, K, d, nk, s1, s2, n_threads)
    if totals == NULL:
        raise MemoryError()
    log_norm_sum = totals[size - 2]
    r_log_r = totals[size - 1]
    free(totals)
    return log_norm_sum, r_log_r


def responsibility_statistics(
    const floating[:, ::1] X,
    const floating[:, ::1] resp,
    const Py_ssize_t[::1] labels,
    const floating[:, ::1] shift,
    int cov_type,
    double[::1] nk,
    double[:, ::1] s1,
    double[:, ::1] s2,
    int n_threads,
):
    """The M-step's statistics from given responsibilities (initialisation).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    resp : (n_samples, n_components) or None    # IN responsibilities
    labels : (n_samples,) or None               # IN one component per sample
                                                #    (-1: none), if resp is None
    shift : (n_components, n_features)          # IN the points the statistics
                                                #    are taken about
    cov_type : int
    nk, s1, s2 : as em_pass                     # OUT
    n_threads : int

    With neither resp nor labels, every sample counts once in component 0:
    N, S1 and S2 of the whole data about shift[0] ('full' layout).
    """
    _check_statistics_shapes(X, shift, nk, s1, s2, cov_type)
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t d = X.shape[1]
    cdef Py_ssize_t K = shift.shape[0]
    cdef Py_ssize_t s2_width = s2.shape[1]
    cdef Py_ssize_t size = statistics_size(K, d, s2.shape[0], s2_width)
    cdef ChunkPlan plan = plan_chunks(n_samples, size)
    cdef double* partials
    cdef double* totals
    cdef bint has_resp = resp is not None
    cdef bint has_labels = labels is not None
    cdef const floating* resp_ptr = NULL
    cdef const Py_ssize_t* labels_ptr = NULL
    cdef floating* work
    cdef floating* gram
    cdef floating* chunk_resp
    cdef Py_ssize_t* kept
    cdef double* kept_r
    cdef double* part
    cdef Py_ssize_t g, c, i, k, chunk, n_rows, label
    cdef double r

    if has_resp:
        if resp.shape[0] != n_samples or resp.shape[1] != K:
            raise ValueError("resp must be (n_samples, n_components)")
        resp_ptr = &resp[0, 0]
    elif has_labels:
        if labels.shape[0] != n_samples:
            raise ValueError("labels must be (n_samples,)")
        labels_ptr = &labels[0]
    partials = alloc_partials_unzeroed(plan, size)
    if partials == NULL:
        raise MemoryError()
    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        work = <floating*> malloc(work_size(K, d) * sizeof(floating))
        gram = <floating*> malloc(d * d * sizeof(floating))
        chunk_resp = <floating*> malloc(CHUNK_SIZE * K * sizeof(floating))
        kept = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        kept_r = <double*> malloc(CHUNK_SIZE * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * size
            zero_partial(part, size)
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                # The chunk's responsibilities, transposed; below MIN_RESP
                # they are left out, as in em_pass.
                for i in range(n_rows):
                    for k in range(K):
                        if has_resp:
                            r = resp_ptr[(chunk + i) * K + k]
                            chunk_resp[k * n_rows + i] = <floating> (
                                r if r >= MIN_RESP else 0.0)
                        else:
                            chunk_resp[k * n_rows + i] = 0.0
                    if has_labels:
                        label = labels_ptr[chunk + i]
                        if 0 <= label < K:
                            chunk_resp[label * n_rows + i] = 1.0
                    elif not has_resp:
                        chunk_resp[i] = 1.0
                chunk_statistics(&X[chunk, 0], n_rows, d, K, &shift[0, 0],
                                 chunk_resp, cov_type, part, s2_width, work, gram,
                                 kept, kept_r)
        free(work)
        free(gram)
        free(chunk_resp)
        free(kept)
        free(kept_r)
    totals = _finish(partials, plan, size, K, d, nk, s1, s2, n_threads)
    if totals == NULL:
        raise MemoryError()
    free(totals)


cdef double* _finish(double* partials, ChunkPlan plan, Py_ssize_t size,
                     Py_ssize_t K, Py_ssize_t d,
                     double[::1] nk, double[:, ::1] s1, double[:, ::1] s2,
                     int n_threads):
    """Add the group partials in order into nk, s1, s2; free the partials.

    Returns the totals (the caller reads its scalars and frees it), or NULL
    when out of memory.
    """
    cdef double* totals = <double*> malloc(size * sizeof(double))
    cdef Py_ssize_t j, k
    cdef Py_ssize_t s2_width = s2.shape[1]
    if totals == NULL:
        free(partials)
        return NULL
    sum_partials_in_order(partials, plan.n_groups, size, size, totals, n_threads)
    free(partials)
    for k in range(K):
        nk[k] = totals[k]
        for j in range(d):
            s1[k, j] = totals[K + k * d + j]
    for k in range(s2.shape[0]):
        for j in range(s2_width):
            s2[k, j] = totals[K + K * d + k * s2_width + j]
    return totals


def weighted_log_prob_pass(
    const floating[:, ::1] X,
    const floating[:, ::1] means,
    const floating[:, ::1] prec,
    const floating[:, ::1] mean_prec,
    const floating[::1] center,
    const double[::1] log_const,
    int cov_type,
    floating[::1] log_norm,
    Py_ssize_t[::1] labels,
    floating[:, ::1] resp,
    int n_threads,
):
    """Per-sample log-likelihoods, most probable components and
    responsibilities, each only if its output is given (not None).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    means : (n_components, n_features)          # IN
    prec : precision factors                    # IN 'full': (n_components *
                                                #    n_features, n_features), the
                                                #    P_k^T stacked; 'tied':
                                                #    (n_features, n_features), P^T;
                                                #    'diag': (n_components, n_features);
                                                #    'spherical': (n_components, 1)
    mean_prec : (n_components, n_features)      # IN (mu_k - center) @ P_k ('full',
                                                #    'tied')
    center : (n_features,)                      # IN a point amid the data (the
                                                #    mixture's mean)
    log_const : (n_components,)                 # IN as em_pass
    cov_type : int
    log_norm : (n_samples,) or None             # OUT log sum_k exp(weighted
                                                #    log-density)
    labels : (n_samples,) or None               # OUT argmax_k (first on ties)
    resp : (n_samples, n_components) or None    # OUT responsibilities
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t d = X.shape[1]
    cdef Py_ssize_t K = means.shape[0]
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE
    cdef floating* log_norm_ptr = NULL
    cdef Py_ssize_t* labels_ptr = NULL
    cdef floating* resp_ptr = NULL
    cdef floating* work
    cdef floating* wlp_t
    cdef double* lse
    cdef floating* top
    cdef double best_value, ignored
    cdef Py_ssize_t c, i, k, chunk, n_rows, best

    if log_norm is not None:
        log_norm_ptr = &log_norm[0]
    if labels is not None:
        labels_ptr = &labels[0]
    if resp is not None:
        resp_ptr = &resp[0, 0]
    if n_samples == 0:
        return
    with nogil, parallel(num_threads=team_size(n_threads, n_chunks)):
        work = <floating*> malloc(work_size(K, d) * sizeof(floating))
        wlp_t = <floating*> malloc(CHUNK_SIZE * K * sizeof(floating))
        lse = <double*> malloc(CHUNK_SIZE * sizeof(double))
        top = <floating*> malloc(CHUNK_SIZE * sizeof(floating))
        for c in prange(n_chunks, schedule='static'):
            chunk = c * CHUNK_SIZE
            n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
            chunk_weighted_log_prob(
                &X[chunk, 0], n_rows, d, K, &means[0, 0], &prec[0, 0],
                &mean_prec[0, 0], &center[0], &log_const[0], cov_type, work,
                wlp_t, top)
            if labels_ptr != NULL:
                for i in range(n_rows):
                    best = 0
                    best_value = wlp_t[i]
                    for k in range(1, K):
                        if wlp_t[k * n_rows + i] > best_value:
                            best_value = wlp_t[k * n_rows + i]
                            best = k
                    labels_ptr[chunk + i] = best
            if log_norm_ptr != NULL or resp_ptr != NULL:
                ignored = 0.0
                normalise(wlp_t, K, n_rows, top, lse, &ignored, False)
                for i in range(n_rows):
                    if log_norm_ptr != NULL:
                        log_norm_ptr[chunk + i] = <floating> lse[i]
                    if resp_ptr != NULL:
                        for k in range(K):
                            resp_ptr[(chunk + i) * K + k] = <floating> wlp_t[k * n_rows + i]
        free(work)
        free(wlp_t)
        free(lse)
        free(top)
