/* Dot products of scattered rows with a few centers: the arithmetic of the
 * k-means++ candidate scores. BLAS packs both operands on every call, which
 * costs more than the product when there are only a handful of centers; this
 * register-blocked loop (4 rows x 8 centers of independent accumulators)
 * reads each row in place instead.
 *
 * GCC on x86-64 Linux compiles it twice -- for x86-64-v3 (AVX2, FMA) and for
 * the baseline -- and the loader picks the clone that suits the CPU.
 * Elsewhere there is one portable build. Only arithmetic lives here: loops
 * over samples, threads and reductions stay in the Cython kernels. */
#ifndef TURBOCLUSTER_SIMD_H
#define TURBOCLUSTER_SIMD_H

#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TURBOCLUSTER_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TURBOCLUSTER_DISPATCH
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TURBOCLUSTER_PREFETCH(address) __builtin_prefetch((address), 0, 0)
#else
#define TURBOCLUSTER_PREFETCH(address) ((void) (address))
#endif

/* Scattered rows defeat the hardware prefetcher, but their indices are known
 * in advance: ask for a row's cache lines a few blocks before it is read. */
#define TURBOCLUSTER_ROWS_AHEAD 8
#define TURBOCLUSTER_PREFETCH_ROW(row, n_bytes)                                 \
    do {                                                                        \
        const char *start_ = (const char *) (row);                              \
        for (ptrdiff_t o_ = 0; o_ < (n_bytes); o_ += 64)                        \
            TURBOCLUSTER_PREFETCH(start_ + o_);                                 \
    } while (0)

/* Centers per block: the accumulators of 4 rows x 8 centers fill 8 AVX
 * registers in double precision (4 in single), out of 16. */
#define TURBOCLUSTER_CENTER_BLOCK 8

#if defined(__GNUC__)
/* 32-byte vectors: one AVX register, two SSE registers in the baseline clone.
 * Loads go through memcpy, which compiles to unaligned vector loads. */
#define TURBOCLUSTER_VEC(TYPE) TYPE __attribute__((vector_size(32)))
#define TURBOCLUSTER_LOAD(dst, src) __builtin_memcpy(&(dst), (src), sizeof(dst))
#define TURBOCLUSTER_STORE(dst, src) __builtin_memcpy((dst), &(src), sizeof(src))

/* out[i * n_padded + t] = <X[rows[i]], center t>, for centers given
 * transposed and padded: centers_t[f * n_padded + t], n_padded a multiple
 * of TURBOCLUSTER_CENTER_BLOCK. Four rows at a time, each with V vectors of
 * accumulators covering a block of centers. */
#define TURBOCLUSTER_ROWS_DOTS(NAME, TYPE)                                      \
    typedef TURBOCLUSTER_VEC(TYPE) NAME##_vec;                                  \
    TURBOCLUSTER_DISPATCH static void NAME(                                     \
        const TYPE *X, const ptrdiff_t *rows, ptrdiff_t n_rows,                 \
        const TYPE *centers_t, ptrdiff_t n_padded, ptrdiff_t n_features,        \
        TYPE *out)                                                              \
    {                                                                           \
        enum { L = 32 / sizeof(TYPE), V = TURBOCLUSTER_CENTER_BLOCK / L };      \
        const ptrdiff_t row_bytes = n_features * (ptrdiff_t) sizeof(TYPE);      \
        ptrdiff_t i = 0;                                                        \
        for (; i < n_rows; i += 4) {                                            \
            const int n_block = n_rows - i < 4 ? (int) (n_rows - i) : 4;        \
            const TYPE *x[4];                                                   \
            for (int r = 0; r < 4; r++)                                         \
                x[r] = X + rows[i + (r < n_block ? r : 0)] * n_features;        \
            for (ptrdiff_t p = i + TURBOCLUSTER_ROWS_AHEAD;                     \
                 p < i + TURBOCLUSTER_ROWS_AHEAD + 4 && p < n_rows; p++)        \
                TURBOCLUSTER_PREFETCH_ROW(X + rows[p] * n_features, row_bytes); \
            for (ptrdiff_t t0 = 0; t0 < n_padded; t0 += TURBOCLUSTER_CENTER_BLOCK) { \
                NAME##_vec acc[4][V];                                           \
                for (int r = 0; r < 4; r++)                                     \
                    for (int v = 0; v < V; v++)                                 \
                        acc[r][v] = (NAME##_vec) {0};                           \
                for (ptrdiff_t f = 0; f < n_features; f++) {                    \
                    NAME##_vec c[V];                                            \
                    for (int v = 0; v < V; v++)                                 \
                        TURBOCLUSTER_LOAD(c[v], centers_t + f * n_padded + t0 + v * L); \
                    for (int r = 0; r < 4; r++) {                               \
                        const TYPE xs = x[r][f];                                \
                        for (int v = 0; v < V; v++)                             \
                            acc[r][v] += xs * c[v];                             \
                    }                                                           \
                }                                                               \
                for (int r = 0; r < n_block; r++)                               \
                    for (int v = 0; v < V; v++)                                 \
                        TURBOCLUSTER_STORE(out + (i + r) * n_padded + t0 + v * L, acc[r][v]); \
            }                                                                   \
        }                                                                       \
    }

#else
#define TURBOCLUSTER_ROWS_DOTS(NAME, TYPE)                                      \
    static void NAME(                                                           \
        const TYPE *X, const ptrdiff_t *rows, ptrdiff_t n_rows,                 \
        const TYPE *centers_t, ptrdiff_t n_padded, ptrdiff_t n_features,        \
        TYPE *out)                                                              \
    {                                                                           \
        for (ptrdiff_t i = 0; i < n_rows; i++) {                                \
            const TYPE *x = X + rows[i] * n_features;                           \
            for (ptrdiff_t t = 0; t < n_padded; t++)                            \
                out[i * n_padded + t] = 0;                                      \
            for (ptrdiff_t f = 0; f < n_features; f++)                          \
                for (ptrdiff_t t = 0; t < n_padded; t++)                        \
                    out[i * n_padded + t] += x[f] * centers_t[f * n_padded + t]; \
        }                                                                       \
    }
#endif

TURBOCLUSTER_ROWS_DOTS(turbocluster_rows_dots_f, float)
TURBOCLUSTER_ROWS_DOTS(turbocluster_rows_dots_d, double)

#endif
