/* The arithmetic of the linkage kernels (_linkage.pyx): distances from one
 * point to a run of points stored feature-major (column p of a
 * (n_features, stride) array is point p), so that one vector lane holds one
 * candidate and no horizontal sum is needed; the run is folded into the
 * running minimum distance of Prim's algorithm, into Ward scores, or written
 * out (the condensed matrix). Loops over threads and the in-order reduction
 * of the chunks' minima stay in the Cython kernel.
 *
 * Runs are cut into blocks of TC_LINK_LANES candidates and every candidate
 * of a block goes through the same instructions, summing its features in
 * feature order: the value for a pair does not depend on where the pair
 * falls in a block, in a chunk or in a thread. Callers pad their arrays to a
 * multiple of TC_LINK_LANES columns, so there is no remainder loop, whose
 * scalar code could round differently (NN-chain needs d(x, y) == d(y, x) to
 * the bit).
 *
 * Sums are in double whatever the input: a difference of two floats is exact
 * in double, so a float32 input gets the float64 reference's distances.
 *
 * NaN marks a candidate that is out of the running (a point already in the
 * tree, a cluster already merged, padding): every comparison with it is
 * false, so it is never the minimum. This module is built without
 * -ffinite-math-only (meson.build). */
#ifndef TURBOCLUSTER_LINKAGE_SIMD_H
#define TURBOCLUSTER_LINKAGE_SIMD_H

#include <math.h>
#include <stddef.h>
#include <sched.h>
#include <time.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TC_LINK_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TC_LINK_DISPATCH
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TC_LINK_PREFETCH(address) __builtin_prefetch((address), 0, 1)
#define TC_LINK_PREFETCH_W(address) __builtin_prefetch((address), 1, 1)
#else
#define TC_LINK_PREFETCH(address) ((void) (address))
#define TC_LINK_PREFETCH_W(address) ((void) (address))
#endif

/* Candidates per block: 32 doubles are eight AVX registers of accumulators,
 * enough independent additions to hide the latency of each. */
#define TC_LINK_LANES 32

/* Metrics. EUCLIDEAN_SQ leaves the square root to the caller (Prim compares
 * squared distances and takes one root per merge). */
#define TC_LINK_EUCLIDEAN_SQ 0
#define TC_LINK_EUCLIDEAN 1
#define TC_LINK_MANHATTAN 2
#define TC_LINK_COSINE 3

/* The distance from the metric's sum: scipy's pdist formulas (cosine: one
 * minus the cosine clipped to [-1, 1], the norms sqrt(sum x^2) computed
 * beforehand). */
static inline double tc_link_finish(int metric, double acc, double x_norm,
                                    double p_norm)
{
    if (metric == TC_LINK_EUCLIDEAN)
        return sqrt(acc);
    if (metric == TC_LINK_COSINE) {
        double c = acc / (x_norm * p_norm);
        c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
        return 1.0 - c;
    }
    return acc;
}

#if defined(__GNUC__)
/* Four doubles: one AVX register (two SSE registers in the baseline clone).
 * Loads go through memcpy (unaligned vector loads); float columns are
 * widened to double as they are loaded. */
typedef double tc_link_vd __attribute__((vector_size(32)));
typedef float tc_link_vf __attribute__((vector_size(16)));
typedef long long tc_link_vi __attribute__((vector_size(32)));
#define TC_LINK_V (TC_LINK_LANES / 4)

static inline tc_link_vd tc_link_load_d(const double *p)
{
    tc_link_vd v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline tc_link_vd tc_link_load_f(const float *p)
{
    tc_link_vf v;
    __builtin_memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, tc_link_vd);
}

static inline tc_link_vd tc_link_select(tc_link_vi mask, tc_link_vd a, tc_link_vd b)
{
    return (tc_link_vd) (((tc_link_vi) a & mask) | ((tc_link_vi) b & ~mask));
}

/* acc[v][l] = the metric's sum for candidate p0 + 4 v + l: squared
 * differences, absolute differences or products, in feature order. */
#define TC_LINK_BLOCK_SUMS(LOAD, Xt, stride, p0, n_features, x, metric, acc)   \
    do {                                                                        \
        for (int v_ = 0; v_ < TC_LINK_V; v_++)                                  \
            acc[v_] = (tc_link_vd) {0.0, 0.0, 0.0, 0.0};                        \
        if ((metric) == TC_LINK_COSINE) {                                       \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const tc_link_vd xf_ = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} + (x)[f_]; \
                for (int v_ = 0; v_ < TC_LINK_V; v_++)                          \
                    acc[v_] += LOAD((Xt) + f_ * (stride) + (p0) + 4 * v_) * xf_; \
            }                                                                   \
        } else if ((metric) == TC_LINK_MANHATTAN) {                             \
            const tc_link_vi abs_ = (tc_link_vi) {0, 0, 0, 0} + 0x7fffffffffffffffLL; \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const tc_link_vd xf_ = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} + (x)[f_]; \
                for (int v_ = 0; v_ < TC_LINK_V; v_++) {                        \
                    const tc_link_vd t_ = LOAD((Xt) + f_ * (stride) + (p0) + 4 * v_) - xf_; \
                    acc[v_] += (tc_link_vd) ((tc_link_vi) t_ & abs_);           \
                }                                                               \
            }                                                                   \
        } else {                                                                \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const tc_link_vd xf_ = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} + (x)[f_]; \
                for (int v_ = 0; v_ < TC_LINK_V; v_++) {                        \
                    const tc_link_vd t_ = LOAD((Xt) + f_ * (stride) + (p0) + 4 * v_) - xf_; \
                    acc[v_] += t_ * t_;                                         \
                }                                                               \
            }                                                                   \
        }                                                                       \
    } while (0)

/* Prim's update over the columns [start, stop) (multiples of
 * TC_LINK_LANES):
 *   min_dist[p] = min(min_dist[p], d(x, column p))
 * for every p whose min_dist is not NaN, and the first p of the smallest
 * updated min_dist (-1 if none) with that value in *best. Only a block with
 * a lane below the best so far is scanned lane by lane. */
#define TC_LINK_PRIM_UPDATE(NAME, TYPE, LOAD)                                   \
    TC_LINK_DISPATCH static ptrdiff_t NAME(                                     \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, double *min_dist, double *best)        \
    {                                                                           \
        double best_value = INFINITY;                                           \
        ptrdiff_t best_index = -1;                                              \
        for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {            \
            tc_link_vd acc[TC_LINK_V];                                          \
            TC_LINK_BLOCK_SUMS(LOAD, Xt, stride, p0, n_features, x, metric, acc); \
            if (metric == TC_LINK_COSINE)                                       \
                for (int v = 0; v < TC_LINK_V; v++)                             \
                    for (int l = 0; l < 4; l++)                                 \
                        acc[v][l] = tc_link_finish(metric, acc[v][l], x_norm,   \
                                                   norms[p0 + 4 * v + l]);      \
            const tc_link_vd best_v = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} + best_value; \
            tc_link_vi below = {0, 0, 0, 0};                                    \
            for (int v = 0; v < TC_LINK_V; v++) {                               \
                const tc_link_vd old = tc_link_load_d(min_dist + p0 + 4 * v);   \
                /* NaN stays NaN: acc < NaN is false. */                        \
                const tc_link_vd m = tc_link_select(acc[v] < old, acc[v], old); \
                __builtin_memcpy(min_dist + p0 + 4 * v, &m, sizeof m);          \
                below |= m < best_v;                                            \
            }                                                                   \
            if (below[0] | below[1] | below[2] | below[3])                      \
                for (int k = 0; k < TC_LINK_LANES; k++)                         \
                    if (min_dist[p0 + k] < best_value) {                        \
                        best_value = min_dist[p0 + k];                          \
                        best_index = p0 + k;                                    \
                    }                                                           \
        }                                                                       \
        *best = best_value;                                                     \
        return best_index;                                                      \
    }

/* Distances from x to the columns [start, stop) (any start; the array is
 * padded by TC_LINK_LANES columns past stop), cast to TYPE into
 * out[0 : stop - start]. */
#define TC_LINK_DISTANCES(NAME, TYPE, LOAD)                                     \
    TC_LINK_DISPATCH static void NAME(                                          \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, TYPE *out)                             \
    {                                                                           \
        for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {            \
            tc_link_vd acc[TC_LINK_V];                                          \
            TC_LINK_BLOCK_SUMS(LOAD, Xt, stride, p0, n_features, x, metric, acc); \
            const int n_block = stop - p0 < TC_LINK_LANES ?                     \
                (int) (stop - p0) : TC_LINK_LANES;                              \
            if (metric == TC_LINK_EUCLIDEAN && n_block == TC_LINK_LANES) {      \
                for (int v = 0; v < TC_LINK_V; v++)                             \
                    for (int l = 0; l < 4; l++)                                 \
                        out[p0 - start + 4 * v + l] = (TYPE) sqrt(acc[v][l]);   \
                continue;                                                       \
            }                                                                   \
            for (int k = 0; k < n_block; k++)                                   \
                out[p0 - start + k] = (TYPE) tc_link_finish(                    \
                    metric, acc[k / 4][k % 4], x_norm,                          \
                    metric == TC_LINK_COSINE ? norms[p0 + k] : 0.0);            \
        }                                                                       \
    }

/* Ward scores of the clusters [start, stop) (multiples of TC_LINK_LANES)
 * against cluster x, from their centroids (feature-major, double) and the
 * reciprocals of their sizes (NaN: not a candidate):
 *   score[p] = ||c_p - c_x||^2 / (1 / n_p + 1 / n_x)
 *            = n_p n_x / (n_p + n_x) ||c_p - c_x||^2,
 * half the squared Ward distance. Returns the first p of the smallest
 * score (-1 if none), with its value in *best. The divisions cost about as
 * much as the sums: a block none of whose lanes can beat the best so far
 * (d2 < best (1/n_p + 1/n_x), with a margin for rounding) skips them and
 * leaves its scores unwritten; the others write theirs. */
TC_LINK_DISPATCH static ptrdiff_t tc_link_ward_scores(
    const double *Ct, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,
    ptrdiff_t n_features, const double *cx, double inv_x, const double *inv,
    double *score, double *best)
{
    double best_value = INFINITY;
    ptrdiff_t best_index = -1;
    for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {
        tc_link_vd acc[TC_LINK_V], den[TC_LINK_V];
        TC_LINK_BLOCK_SUMS(tc_link_load_d, Ct, stride, p0, n_features, cx,
                           TC_LINK_EUCLIDEAN_SQ, acc);
        const tc_link_vd bound = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} +
                                 best_value * (1.0 + 1e-12);
        tc_link_vi may = {0, 0, 0, 0};
        for (int v = 0; v < TC_LINK_V; v++) {
            den[v] = tc_link_load_d(inv + p0 + 4 * v) + inv_x;
            may |= acc[v] < bound * den[v];
        }
        if (!(may[0] | may[1] | may[2] | may[3]))
            continue;
        const tc_link_vd best_v = (tc_link_vd) {0.0, 0.0, 0.0, 0.0} + best_value;
        tc_link_vi below = {0, 0, 0, 0};
        for (int v = 0; v < TC_LINK_V; v++) {
            const tc_link_vd s = acc[v] / den[v];
            __builtin_memcpy(score + p0 + 4 * v, &s, sizeof s);
            below |= s < best_v;
        }
        if (below[0] | below[1] | below[2] | below[3])
            for (int k = 0; k < TC_LINK_LANES; k++)
                if (score[p0 + k] < best_value) {
                    best_value = score[p0 + k];
                    best_index = p0 + k;
                }
    }
    *best = best_value;
    return best_index;
}

/* tc_link_ward_scores with a float32 filter: each block first gets its
 * squared distances in float32 from a float32 copy of the centroids (Cf,
 * half the bytes of Ct, twice the lanes per vector; the search streams the
 * centroids from cache or memory at every step), and goes on to the exact
 * double scores only if some lane may beat the best so far. The filter is
 * rigorous, so the result is exactly tc_link_ward_scores's:
 *   with u = 2^-24, cf = c (1 + e), |e| <= u, and the float subtraction
 *   exact to a factor (1 + e'), ||(cf_p - cf_x) - (c_p - c_x)|| <=
 *   2.01 u (||c_p|| + ||c_x||) <= err := 3 u (cnorm_p + cnorm_x), cnorm a
 *   float at least the norm; the float sum S of d squares is at least
 *   ||cf_p - cf_x||^2 (1 - (d + 1) u) / (1 + ...), so S' = S (1 - 2 (d + 2) u)
 *   is below it. If S' >= B + err (B + 1) + err^2 >= (sqrt(B) + err)^2 then
 *   ||c_p - c_x|| >= sqrt(B): with B = best (1/n_p + 1/n_x) (1 + 1e-9) the
 *   lane's double score is strictly above best, and so cannot change the
 *   first smallest. NaN lanes (inactive) compare false and never keep a
 *   block. The blocks skipped depend on the best so far within the chunk:
 *   fixed chunks, so the same for any number of threads. */
typedef float tc_link_vf8 __attribute__((vector_size(32)));

static inline tc_link_vf8 tc_link_load_f8(const float *p)
{
    tc_link_vf8 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

TC_LINK_DISPATCH static ptrdiff_t tc_link_ward_scores_filtered(
    const double *Ct, const float *Cf, const float *cnorm, ptrdiff_t stride,
    ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_features, const double *cx,
    const float *cxf, double cx_norm, double inv_x, const double *inv,
    double *score, double *best)
{
    const double u = 5.9604644775390625e-08;   /* 2^-24 */
    const double shrink = 1.0 - 2.0 * (double) (n_features + 2) * u;
    double best_value = INFINITY;
    ptrdiff_t best_index = -1;
    for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {
        if (best_value < INFINITY) {
            tc_link_vf8 accf[TC_LINK_LANES / 8];
            for (int v = 0; v < TC_LINK_LANES / 8; v++)
                accf[v] = (tc_link_vf8) {0};
            for (ptrdiff_t f = 0; f < n_features; f++) {
                const tc_link_vf8 xf = (tc_link_vf8) {0} + cxf[f];
                for (int v = 0; v < TC_LINK_LANES / 8; v++) {
                    const tc_link_vf8 t = tc_link_load_f8(Cf + f * stride + p0 + 8 * v) - xf;
                    accf[v] += t * t;
                }
            }
            tc_link_vi keep = {0, 0, 0, 0};
            for (int v = 0; v < TC_LINK_V; v++) {
                tc_link_vd sf, nrm;
                for (int l = 0; l < 4; l++) {
                    sf[l] = (double) accf[v / 2][(v % 2) * 4 + l];
                    nrm[l] = (double) cnorm[p0 + 4 * v + l];
                }
                const tc_link_vd den = tc_link_load_d(inv + p0 + 4 * v) + inv_x;
                const tc_link_vd b = best_value * (1.0 + 1e-9) * den;
                const tc_link_vd err = 3.0 * u * (nrm + cx_norm);
                keep |= sf * shrink < b + err * (b + 1.0) + err * err;
            }
            if (!(keep[0] | keep[1] | keep[2] | keep[3]))
                continue;
        }
        double block_best;
        const ptrdiff_t where = tc_link_ward_scores(
            Ct, stride, p0, p0 + TC_LINK_LANES, n_features, cx, inv_x, inv, score,
            &block_best);
        if (where >= 0 && block_best < best_value) {
            best_value = block_best;
            best_index = where;
        }
    }
    *best = best_value;
    return best_index;
}

/* Prim's euclidean update with the same float32 filter: a block whose
 * lanes all have (float bound) d(x, p)^2 >= min_dist[p] (1 + 1e-9) leaves
 * min_dist as it is, and only its minimum is looked at; the others get the
 * exact update. Xf is a float32 copy of the points (X itself when it is
 * float32), pnorm floats at least the norms. Same result, bit for bit. */
#define TC_LINK_PRIM_FILTERED(NAME, TYPE, UPDATE)                               \
    TC_LINK_DISPATCH static ptrdiff_t NAME(                                     \
        const TYPE *Xt, const float *Xf, const float *pnorm, ptrdiff_t stride,  \
        ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_features, const double *x, \
        const float *xf, double x_norm, double *min_dist, double *best)         \
    {                                                                           \
        const double u = 5.9604644775390625e-08;                                \
        const double shrink = 1.0 - 2.0 * (double) (n_features + 2) * u;        \
        double best_value = INFINITY;                                           \
        ptrdiff_t best_index = -1;                                              \
        for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {            \
            tc_link_vf8 accf[TC_LINK_LANES / 8];                                \
            for (int v = 0; v < TC_LINK_LANES / 8; v++)                         \
                accf[v] = (tc_link_vf8) {0};                                    \
            for (ptrdiff_t f = 0; f < n_features; f++) {                        \
                const tc_link_vf8 xv = (tc_link_vf8) {0} + xf[f];               \
                for (int v = 0; v < TC_LINK_LANES / 8; v++) {                   \
                    const tc_link_vf8 t = tc_link_load_f8(Xf + f * stride + p0 + 8 * v) - xv; \
                    accf[v] += t * t;                                           \
                }                                                               \
            }                                                                   \
            tc_link_vi keep = {0, 0, 0, 0};                                     \
            for (int v = 0; v < TC_LINK_V; v++) {                               \
                tc_link_vd sf, nrm;                                             \
                for (int l = 0; l < 4; l++) {                                   \
                    sf[l] = (double) accf[v / 2][(v % 2) * 4 + l];              \
                    nrm[l] = (double) pnorm[p0 + 4 * v + l];                    \
                }                                                               \
                const tc_link_vd b = tc_link_load_d(min_dist + p0 + 4 * v) * (1.0 + 1e-9); \
                const tc_link_vd err = 3.0 * u * (nrm + x_norm);                \
                /* Written as NOT(>=) so that a NaN bound keeps the lane: with  \
                 * both norms 0, err is 0 and an untouched b is +inf, and      \
                 * 0 * inf is NaN; skipping that lane could leave no index. */ \
                const tc_link_vd bound = b + err * (b + 1.0) + err * err;       \
                keep |= ~(sf * shrink >= bound);                                \
            }                                                                   \
            double block_best;                                                  \
            ptrdiff_t where;                                                    \
            if (keep[0] | keep[1] | keep[2] | keep[3]) {                        \
                where = UPDATE(Xt, stride, p0, p0 + TC_LINK_LANES, n_features,  \
                               x, 0.0, 0, TC_LINK_EUCLIDEAN_SQ, min_dist,       \
                               &block_best);                                    \
            } else {                                                            \
                block_best = INFINITY;                                          \
                where = -1;                                                     \
                for (int k = 0; k < TC_LINK_LANES; k++)                         \
                    if (min_dist[p0 + k] < block_best) {                        \
                        block_best = min_dist[p0 + k];                          \
                        where = p0 + k;                                         \
                    }                                                           \
            }                                                                   \
            if (where >= 0 && block_best < best_value) {                        \
                best_value = block_best;                                        \
                best_index = where;                                             \
            }                                                                   \
        }                                                                       \
        *best = best_value;                                                     \
        return best_index;                                                      \
    }

#else
/* Portable versions: the same sums, one candidate at a time. */
static inline double tc_link_sum_d(const double *Xt, ptrdiff_t stride, ptrdiff_t p,
                                   ptrdiff_t n_features, const double *x, int metric)
{
    double acc = 0.0;
    for (ptrdiff_t f = 0; f < n_features; f++) {
        const double c = Xt[f * stride + p], t = c - x[f];
        acc += metric == TC_LINK_COSINE ? c * x[f] :
               metric == TC_LINK_MANHATTAN ? fabs(t) : t * t;
    }
    return acc;
}

static inline double tc_link_sum_f(const float *Xt, ptrdiff_t stride, ptrdiff_t p,
                                   ptrdiff_t n_features, const double *x, int metric)
{
    double acc = 0.0;
    for (ptrdiff_t f = 0; f < n_features; f++) {
        const double c = Xt[f * stride + p], t = c - x[f];
        acc += metric == TC_LINK_COSINE ? c * x[f] :
               metric == TC_LINK_MANHATTAN ? fabs(t) : t * t;
    }
    return acc;
}

#define TC_LINK_PRIM_UPDATE(NAME, TYPE, SUM)                                    \
    static ptrdiff_t NAME(                                                      \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, double *min_dist, double *best)        \
    {                                                                           \
        double best_value = INFINITY;                                           \
        ptrdiff_t best_index = -1;                                              \
        for (ptrdiff_t p = start; p < stop; p++) {                              \
            double d = SUM(Xt, stride, p, n_features, x, metric);               \
            if (metric == TC_LINK_COSINE)                                       \
                d = tc_link_finish(metric, d, x_norm, norms[p]);                \
            if (d < min_dist[p])                                                \
                min_dist[p] = d;                                                \
            if (min_dist[p] < best_value) {                                     \
                best_value = min_dist[p];                                       \
                best_index = p;                                                 \
            }                                                                   \
        }                                                                       \
        *best = best_value;                                                     \
        return best_index;                                                      \
    }

#define TC_LINK_DISTANCES(NAME, TYPE, SUM)                                      \
    static void NAME(                                                           \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, TYPE *out)                             \
    {                                                                           \
        for (ptrdiff_t p = start; p < stop; p++)                                \
            out[p - start] = (TYPE) tc_link_finish(                             \
                metric, SUM(Xt, stride, p, n_features, x, metric), x_norm,      \
                metric == TC_LINK_COSINE ? norms[p] : 0.0);                     \
    }

static ptrdiff_t tc_link_ward_scores(
    const double *Ct, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,
    ptrdiff_t n_features, const double *cx, double inv_x, const double *inv,
    double *score, double *best)
{
    double best_value = INFINITY;
    ptrdiff_t best_index = -1;
    for (ptrdiff_t p = start; p < stop; p++) {
        score[p] = tc_link_sum_d(Ct, stride, p, n_features, cx, TC_LINK_EUCLIDEAN_SQ)
                   / (inv[p] + inv_x);
        if (score[p] < best_value) {
            best_value = score[p];
            best_index = p;
        }
    }
    *best = best_value;
    return best_index;
}
static ptrdiff_t tc_link_ward_scores_filtered(
    const double *Ct, const float *Cf, const float *cnorm, ptrdiff_t stride,
    ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_features, const double *cx,
    const float *cxf, double cx_norm, double inv_x, const double *inv,
    double *score, double *best)
{
    (void) Cf; (void) cnorm; (void) cxf; (void) cx_norm;
    return tc_link_ward_scores(Ct, stride, start, stop, n_features, cx, inv_x, inv,
                               score, best);
}
#define TC_LINK_PRIM_FILTERED(NAME, TYPE, UPDATE)                               \
    static ptrdiff_t NAME(                                                      \
        const TYPE *Xt, const float *Xf, const float *pnorm, ptrdiff_t stride,  \
        ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_features, const double *x, \
        const float *xf, double x_norm, double *min_dist, double *best)         \
    {                                                                           \
        (void) Xf; (void) pnorm; (void) xf; (void) x_norm;                      \
        return UPDATE(Xt, stride, start, stop, n_features, x, 0.0, 0,          \
                      TC_LINK_EUCLIDEAN_SQ, min_dist, best);                    \
    }
#define tc_link_load_f tc_link_sum_f
#define tc_link_load_d tc_link_sum_d
#endif

TC_LINK_PRIM_UPDATE(tc_link_prim_update_f, float, tc_link_load_f)
TC_LINK_PRIM_UPDATE(tc_link_prim_update_d, double, tc_link_load_d)
TC_LINK_PRIM_FILTERED(tc_link_prim_filtered_f, float, tc_link_prim_update_f)
TC_LINK_PRIM_FILTERED(tc_link_prim_filtered_d, double, tc_link_prim_update_d)
TC_LINK_DISTANCES(tc_link_distances_f, float, tc_link_load_f)
TC_LINK_DISTANCES(tc_link_distances_d, double, tc_link_load_d)

/* A team for many short parallel steps. NN-chain and Prim run about n
 * searches of O(n) each, one after another: an OpenMP parallel loop per
 * search ends in a barrier, and on a machine whose cores are shared a
 * barrier waits for a descheduled thread's next time slice (measured: Prim
 * on 20,000 x 16 with 2 threads took 16 s against 0.9 s on one, while other
 * processes ran). Here the master thread runs the algorithm and publishes
 * each step's chunks; every thread, the master included, claims chunks with
 * a compare-and-swap on (step, next chunk) and the master waits only for
 * chunks already claimed, so a thread that is not running holds nothing up.
 * What a chunk writes depends only on its number, and the master reduces
 * the chunks in order: results do not depend on which thread ran what. */
typedef void (*tc_team_fn)(void *ctx, ptrdiff_t chunk);

typedef struct {
    long long next;         /* step << 32 | the next chunk to claim */
    long long done;         /* chunks of the current step finished */
    int quit;
    tc_team_fn fn;
    void *ctx;
    ptrdiff_t n_chunks;
    /* The master's own: steps left to run alone, and the next such run. */
    long alone;
    long backoff;
} tc_team;

/* A wait this long for a chunk already claimed means its thread lost its
 * core (a search's chunk takes microseconds). */
#define TC_TEAM_LONG_WAIT_NS 200000
#define TC_TEAM_BACKOFF_MIN 64
#define TC_TEAM_BACKOFF_MAX 16384

static inline long long tc_team_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin a little, then yield the core, then sleep: an idle team must not
 * take the cores of the processes it shares them with. */
static inline void tc_team_relax(unsigned *spins)
{
    ++*spins;
    if (*spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else if (*spins < 8192) {
        sched_yield();
    } else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, 0);
    }
}

static inline void tc_team_init(tc_team *t)
{
    t->next = 0;
    t->done = 0;
    t->quit = 0;
    t->fn = 0;
    t->ctx = 0;
    t->n_chunks = 0;
    t->alone = 0;
    t->backoff = TC_TEAM_BACKOFF_MIN;
}

/* Claim and run chunks of `step` until none is left. */
static inline void tc_team_claim(tc_team *t, long long step, tc_team_fn fn,
                                 void *ctx, ptrdiff_t n_chunks)
{
    for (;;) {
        long long v = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE);
        if ((v >> 32) != step || (v & 0xffffffffLL) >= n_chunks)
            return;
        if (__atomic_compare_exchange_n(&t->next, &v, v + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            fn(ctx, (ptrdiff_t) (v & 0xffffffffLL));
            __atomic_fetch_add(&t->done, 1, __ATOMIC_RELEASE);
        }
    }
}

/* The master: run fn(ctx, c) for every c < n_chunks, with the team when
 * `parallel`, and return when all are done.
 *
 * A thread that claimed a chunk and then lost its core holds the master up
 * until it runs again (milliseconds on a loaded machine, against
 * microseconds for a chunk). After such a wait the master runs the next
 * `backoff` steps alone, and doubles the backoff for the next time: on a
 * machine whose cores are all taken the team costs little more than one
 * thread, on an idle one it is not slowed. Which thread runs a chunk never
 * changes the results, so neither does this. */
static inline void tc_team_run(tc_team *t, tc_team_fn fn, void *ctx,
                               ptrdiff_t n_chunks, int parallel)
{
    if (parallel && t->alone > 0) {
        t->alone--;
        parallel = 0;
    }
    if (!parallel) {
        for (ptrdiff_t c = 0; c < n_chunks; c++)
            fn(ctx, c);
        return;
    }
    const long long step = (__atomic_load_n(&t->next, __ATOMIC_RELAXED) >> 32) + 1;
    __atomic_store_n(&t->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&t->ctx, ctx, __ATOMIC_RELAXED);
    __atomic_store_n(&t->n_chunks, n_chunks, __ATOMIC_RELAXED);
    __atomic_store_n(&t->done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&t->next, step << 32, __ATOMIC_RELEASE);
    tc_team_claim(t, step, fn, ctx, n_chunks);
    if (__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) < n_chunks) {
        const long long start = tc_team_now_ns();
        unsigned spins = 0;
        while (__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) < n_chunks) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            if (++spins % 1024 == 0)
                sched_yield();
        }
        if (tc_team_now_ns() - start > TC_TEAM_LONG_WAIT_NS) {
            t->alone = t->backoff;
            t->backoff = t->backoff * 2 < TC_TEAM_BACKOFF_MAX ?
                t->backoff * 2 : TC_TEAM_BACKOFF_MAX;
        }
    }
}

/* The other threads: work on every step published until the master quits. */
static inline void tc_team_work(tc_team *t)
{
    long long seen = 0;
    unsigned spins = 0;
    for (;;) {
        const long long step = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE) >> 32;
        if (step == seen) {
            if (__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE))
                return;
            tc_team_relax(&spins);
            continue;
        }
        /* A chunk of `step` is claimed only while the step is current, and
         * the master does not change these before all of them are done. */
        tc_team_fn fn = __atomic_load_n(&t->fn, __ATOMIC_RELAXED);
        void *ctx = __atomic_load_n(&t->ctx, __ATOMIC_RELAXED);
        const ptrdiff_t n_chunks = __atomic_load_n(&t->n_chunks, __ATOMIC_RELAXED);
        tc_team_claim(t, step, fn, ctx, n_chunks);
        seen = step;
        spins = 0;
    }
}

static inline void tc_team_quit(tc_team *t)
{
    __atomic_store_n(&t->quit, 1, __ATOMIC_RELEASE);
}

#endif
