/* Dot products of one CSR row with dense centers: the arithmetic of the
 * passes in _csr.pyx. Cost: n_padded / 4 vector updates per nonzero.
 *
 * The centers come transposed and zero-padded (centers_t[f * n_padded + j],
 * n_padded a multiple of TURBOCLUSTER_CSR_BLOCK): a nonzero x_f adds
 * x_f * centers_t[f, b:b+4V] to 4V double accumulators, V vectors of four
 * held in registers while the row's nonzeros stream by; blocks of 16
 * centers, then 8, then 4, so that a row is read once per 16 centers. For
 * each center the products are added in the order of the row's nonzeros, in
 * double, as scikit-learn adds them.
 *
 * Written with GCC vector types because GCC, left to vectorize the plain
 * loop itself under -fassociative-math, vectorized it across nonzeros
 * (gathering two rows' lanes, adding products in pairs): slower, and not
 * the order above. GCC on x86-64 Linux compiles it twice -- for x86-64-v3
 * (AVX2) and for the baseline -- and the loader picks the clone that suits
 * the CPU; contraction into FMA is turned off here so that both clones, and
 * scikit-learn, round each product and each sum alike (FMA measured no
 * faster). Blocks of 8 only, reading the row once per 8 centers: 1.3x slower
 * with 20 centers. Two rows interleaved, for independent chains of
 * additions: no faster (the loads of the centers' rows bound the loop).
 * Elsewhere: a plain loop, same order. */
#ifndef TURBOCLUSTER_CSR_DOTS_H
#define TURBOCLUSTER_CSR_DOTS_H

#include <stddef.h>

/* The centers are padded to a multiple of 4, one vector of double
 * accumulators. */
#define TURBOCLUSTER_CSR_BLOCK 4

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

#if defined(__x86_64__) && defined(__linux__)
#define TURBOCLUSTER_CSR_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TURBOCLUSTER_CSR_DISPATCH
#endif

typedef double turbocluster_csr_v4d __attribute__((vector_size(32)));

/* Centers b .. b + 4V of one row: V vectors of four double accumulators. */
#define TURBOCLUSTER_CSR_DOTS_BLOCK(VEC4, TYPE, V)                              \
    {                                                                           \
        turbocluster_csr_v4d acc[V];                                            \
        for (int k = 0; k < (V); k++)                                           \
            acc[k] = (turbocluster_csr_v4d) {0};                                \
        for (ptrdiff_t p = start; p < end; p++) {                               \
            const double v = (double) data[p];                                  \
            const TYPE *row = centers_t + (ptrdiff_t) indices[p] * n_padded + b; \
            for (int k = 0; k < (V); k++) {                                     \
                VEC4 c;                                                         \
                __builtin_memcpy(&c, row + 4 * k, sizeof(c));                   \
                acc[k] = acc[k] + v * __builtin_convertvector(c, turbocluster_csr_v4d); \
            }                                                                   \
        }                                                                       \
        __builtin_memcpy(dots + b, acc, sizeof(acc));                           \
    }

#define TURBOCLUSTER_CSR_DOTS(NAME, TYPE)                                       \
    typedef TYPE NAME##_v4 __attribute__((vector_size(4 * sizeof(TYPE))));     \
    TURBOCLUSTER_CSR_DISPATCH static void NAME(                                 \
        const TYPE *data, const int *indices, ptrdiff_t start, ptrdiff_t end,   \
        const TYPE *centers_t, ptrdiff_t n_padded, double *dots)               \
    {                                                                           \
        ptrdiff_t b = 0;                                                        \
        for (; b + 16 <= n_padded; b += 16)                                     \
            TURBOCLUSTER_CSR_DOTS_BLOCK(NAME##_v4, TYPE, 4)                     \
        for (; b + 8 <= n_padded; b += 8)                                       \
            TURBOCLUSTER_CSR_DOTS_BLOCK(NAME##_v4, TYPE, 2)                     \
        if (b < n_padded)                                                       \
            TURBOCLUSTER_CSR_DOTS_BLOCK(NAME##_v4, TYPE, 1)                     \
    }

#else
#define TURBOCLUSTER_CSR_DOTS(NAME, TYPE)                                       \
    static void NAME(                                                           \
        const TYPE *data, const int *indices, ptrdiff_t start, ptrdiff_t end,   \
        const TYPE *centers_t, ptrdiff_t n_padded, double *dots)               \
    {                                                                           \
        for (ptrdiff_t j = 0; j < n_padded; j++)                                \
            dots[j] = 0.0;                                                      \
        for (ptrdiff_t p = start; p < end; p++) {                               \
            const double v = (double) data[p];                                  \
            const TYPE *row = centers_t + (ptrdiff_t) indices[p] * n_padded;    \
            for (ptrdiff_t j = 0; j < n_padded; j++)                            \
                dots[j] += v * (double) row[j];                                 \
        }                                                                       \
    }
#endif

TURBOCLUSTER_CSR_DOTS(turbocluster_csr_dots_f, float)
TURBOCLUSTER_CSR_DOTS(turbocluster_csr_dots_d, double)

/* The same dot products with centers that are themselves sparse (k-means++
 * candidates, rows of X): only the features of some center have a row in
 * the compact table (rows[slot[f] * n_padded + j]), slot[f] < 0 for the
 * others. A sample's nonzero costs one look-up in slot (4 bytes a feature,
 * which stays in cache) and, rarely, a row of the table; the skipped
 * products are zeros, whose sums are unchanged. */
#define TURBOCLUSTER_CSR_SPARSE_DOTS(NAME, TYPE)                                \
    static void NAME(                                                           \
        const TYPE *data, const int *indices, ptrdiff_t start, ptrdiff_t end,   \
        const int *slot, const TYPE *rows, ptrdiff_t n_padded, double *dots)   \
    {                                                                           \
        for (ptrdiff_t j = 0; j < n_padded; j++)                                \
            dots[j] = 0.0;                                                      \
        for (ptrdiff_t p = start; p < end; p++) {                               \
            const int s = slot[indices[p]];                                     \
            if (s >= 0) {                                                       \
                const double v = (double) data[p];                              \
                const TYPE *row = rows + (ptrdiff_t) s * n_padded;              \
                for (ptrdiff_t j = 0; j < n_padded; j++)                        \
                    dots[j] = dots[j] + v * (double) row[j];                    \
            }                                                                   \
        }                                                                       \
    }

TURBOCLUSTER_CSR_SPARSE_DOTS(turbocluster_csr_sparse_dots_f, float)
TURBOCLUSTER_CSR_SPARSE_DOTS(turbocluster_csr_sparse_dots_d, double)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif
