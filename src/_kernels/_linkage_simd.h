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

/* Candidates per block: 16 doubles are four AVX registers of accumulators. */
#define TC_LINK_LANES 16

/* Metrics. EUCLIDEAN_SQ leaves the square root to the caller (Prim compares
 * squared distances and takes one root per merge). */
#define TC_LINK_EUCLIDEAN_SQ 0
#define TC_LINK_EUCLIDEAN 1
#define TC_LINK_MANHATTAN 2
#define TC_LINK_COSINE 3

/* acc[k] = the metric's sum for candidate p0 + k, k < TC_LINK_LANES:
 * squared differences, absolute differences or products, in feature order. */
#define TC_LINK_BLOCK_SUMS(TYPE, Xt, stride, p0, n_features, x, metric, acc)   \
    do {                                                                        \
        for (int k_ = 0; k_ < TC_LINK_LANES; k_++)                              \
            acc[k_] = 0.0;                                                      \
        if ((metric) == TC_LINK_COSINE) {                                       \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const TYPE *col_ = (Xt) + f_ * (stride) + (p0);                 \
                const double xf_ = (x)[f_];                                     \
                for (int k_ = 0; k_ < TC_LINK_LANES; k_++)                      \
                    acc[k_] += (double) col_[k_] * xf_;                         \
            }                                                                   \
        } else if ((metric) == TC_LINK_MANHATTAN) {                             \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const TYPE *col_ = (Xt) + f_ * (stride) + (p0);                 \
                const double xf_ = (x)[f_];                                     \
                for (int k_ = 0; k_ < TC_LINK_LANES; k_++)                      \
                    acc[k_] += fabs((double) col_[k_] - xf_);                   \
            }                                                                   \
        } else {                                                                \
            for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                   \
                const TYPE *col_ = (Xt) + f_ * (stride) + (p0);                 \
                const double xf_ = (x)[f_];                                     \
                for (int k_ = 0; k_ < TC_LINK_LANES; k_++) {                    \
                    const double t_ = (double) col_[k_] - xf_;                  \
                    acc[k_] += t_ * t_;                                         \
                }                                                               \
            }                                                                   \
        }                                                                       \
    } while (0)

/* The distance from the sums: scipy's pdist formulas (cosine: one minus the
 * cosine clipped to [-1, 1], the norms sqrt(sum x^2) computed beforehand). */
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

/* Prim's update over the columns [start, stop) (start and stop multiples
 * of TC_LINK_LANES):
 *   min_dist[p] = min(min_dist[p], d(x, column p))
 * for every p whose min_dist is not NaN, and the first p of the smallest
 * updated min_dist (-1 if none) with that value in *best. */
#define TC_LINK_PRIM_UPDATE(NAME, TYPE)                                         \
    TC_LINK_DISPATCH static ptrdiff_t NAME(                                     \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, double *min_dist, double *best)        \
    {                                                                           \
        double best_value = INFINITY;                                           \
        ptrdiff_t best_index = -1;                                              \
        for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {            \
            double acc[TC_LINK_LANES];                                          \
            TC_LINK_BLOCK_SUMS(TYPE, Xt, stride, p0, n_features, x, metric, acc); \
            for (int k = 0; k < TC_LINK_LANES; k++) {                           \
                const ptrdiff_t p = p0 + k;                                     \
                const double d = metric == TC_LINK_COSINE ?                     \
                    tc_link_finish(metric, acc[k], x_norm, norms[p]) : acc[k];  \
                const double m = d < min_dist[p] ? d : min_dist[p];             \
                min_dist[p] = m;                                                \
                if (m < best_value) {                                           \
                    best_value = m;                                             \
                    best_index = p;                                             \
                }                                                               \
            }                                                                   \
        }                                                                       \
        *best = best_value;                                                     \
        return best_index;                                                      \
    }

TC_LINK_PRIM_UPDATE(tc_link_prim_update_f, float)
TC_LINK_PRIM_UPDATE(tc_link_prim_update_d, double)

/* Distances from x to the columns [start, stop) (any start, stop <= the
 * padded width), cast to TYPE into out[0 : stop - start]. */
#define TC_LINK_DISTANCES(NAME, TYPE)                                           \
    TC_LINK_DISPATCH static void NAME(                                          \
        const TYPE *Xt, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,      \
        ptrdiff_t n_features, const double *x, double x_norm,                   \
        const double *norms, int metric, TYPE *out)                             \
    {                                                                           \
        for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {            \
            double acc[TC_LINK_LANES];                                          \
            TC_LINK_BLOCK_SUMS(TYPE, Xt, stride, p0, n_features, x, metric, acc); \
            const int n_block = stop - p0 < TC_LINK_LANES ?                     \
                (int) (stop - p0) : TC_LINK_LANES;                              \
            for (int k = 0; k < n_block; k++)                                   \
                out[p0 - start + k] = (TYPE) tc_link_finish(                    \
                    metric, acc[k], x_norm, metric == TC_LINK_COSINE ?          \
                    norms[p0 + k] : 0.0);                                       \
        }                                                                       \
    }

TC_LINK_DISTANCES(tc_link_distances_f, float)
TC_LINK_DISTANCES(tc_link_distances_d, double)

/* Ward scores of the clusters [start, stop) (multiples of TC_LINK_LANES)
 * against cluster x, from their centroids (feature-major, double) and the
 * reciprocals of their sizes (NaN: not a candidate):
 *   score[p] = ||c_p - c_x||^2 / (1 / n_p + 1 / n_x)
 *            = n_p n_x / (n_p + n_x) ||c_p - c_x||^2,
 * half the squared Ward distance. Writes every score and returns the first
 * p of the smallest one (-1 if none), with its value in *best. */
TC_LINK_DISPATCH static ptrdiff_t tc_link_ward_scores(
    const double *Ct, ptrdiff_t stride, ptrdiff_t start, ptrdiff_t stop,
    ptrdiff_t n_features, const double *cx, double inv_x, const double *inv,
    double *score, double *best)
{
    double best_value = INFINITY;
    ptrdiff_t best_index = -1;
    for (ptrdiff_t p0 = start; p0 < stop; p0 += TC_LINK_LANES) {
        double acc[TC_LINK_LANES];
        TC_LINK_BLOCK_SUMS(double, Ct, stride, p0, n_features, cx,
                           TC_LINK_EUCLIDEAN_SQ, acc);
        for (int k = 0; k < TC_LINK_LANES; k++)
            score[p0 + k] = acc[k] / (inv[p0 + k] + inv_x);
        for (int k = 0; k < TC_LINK_LANES; k++)
            if (score[p0 + k] < best_value) {
                best_value = score[p0 + k];
                best_index = p0 + k;
            }
    }
    *best = best_value;
    return best_index;
}

#endif
