/* Squared distances from scattered rows to a few centers, and what the
 * centers would gain: the arithmetic of the k-means++ candidate scores. BLAS
 * packs both operands on every call, which costs more than the product when
 * there are only a handful of centers; this register-blocked loop (4 rows x
 * 8 centers of independent accumulators) reads each row in place instead.
 *
 * GCC on x86-64 Linux compiles it twice -- for x86-64-v3 (AVX2, FMA) and for
 * the baseline -- and the loader picks the clone that suits the CPU.
 * Elsewhere there is one portable build. Only arithmetic lives here: loops
 * over samples, threads and reductions stay in the Cython kernels. */
#ifndef TURBOCLUSTER_SIMD_H
#define TURBOCLUSTER_SIMD_H

#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TURBOCLUSTER_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TURBOCLUSTER_DISPATCH
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TURBOCLUSTER_PREFETCH(address) __builtin_prefetch((address), 0, 3)
#else
#define TURBOCLUSTER_PREFETCH(address) ((void) (address))
#endif

/* Scattered rows defeat the hardware prefetcher, but their indices are known
 * in advance: ask for a row's cache lines a few blocks before it is read. */
#define TURBOCLUSTER_ROWS_AHEAD 16
#define TURBOCLUSTER_PREFETCH_ROW(row, n_bytes)                                 \
    do {                                                                        \
        const char *start_ = (const char *) (row);                              \
        for (ptrdiff_t o_ = 0; o_ < (n_bytes); o_ += 64)                        \
            TURBOCLUSTER_PREFETCH(start_ + o_);                                 \
    } while (0)

/* Centers per block: the accumulators of 4 rows x 8 centers fill 8 AVX
 * registers in double precision (4 in single), out of 16. */
#define TURBOCLUSTER_CENTER_BLOCK 8

/* For the rows rows[0:n_rows] of X (ascending, all in one chunk that starts
 * at row chunk_start) and the centers, given transposed and zero-padded
 * (centers_t[f * n_padded + t], n_padded a multiple of
 * TURBOCLUSTER_CENTER_BLOCK, center_sq_norms padded alike):
 *
 *   d2 = max(|x|^2 + |c_t|^2 - 2 <x, c_t>, 0)       squared distance
 *   gains[t] += w * max(closest_sq - d2, 0)          for every t < n_padded
 *
 * with |x|^2, w and closest_sq read at s = rows[i]. The distances of a row
 * are kept only if the row may need them later: the returned count of rows
 * get, in order, a slot j of
 *
 *   out_sq[j * n_padded + t] = d2                    for every t < n_padded
 *   out_offset[j] = s - chunk_start
 *
 * With a single block of centers these are the rows that some center
 * t < n_centers brings closer than closest_sq (mostly a few: the others cost
 * no memory traffic); with more blocks, every row. Four rows at a time, each
 * with V vectors of accumulators per block of centers. */
/* The parameters of both versions below. */
#define TURBOCLUSTER_SCORE_ROWS_PARAMS(TYPE)                                    \
        const TYPE *X, const ptrdiff_t *rows, ptrdiff_t n_rows,                 \
        ptrdiff_t chunk_start, ptrdiff_t n_features, const TYPE *x_sq_norms,    \
        const TYPE *weights, const TYPE *closest_sq, const TYPE *centers_t,     \
        const TYPE *center_sq_norms, ptrdiff_t n_centers, ptrdiff_t n_padded,   \
        TYPE *out_sq, unsigned short *out_offset, double *gains

#if defined(__GNUC__)
/* 32-byte vectors: one AVX register, two SSE registers in the baseline clone.
 * Loads and stores go through memcpy, which compiles to unaligned vector
 * loads and stores. */
#define TURBOCLUSTER_VEC(TYPE) TYPE __attribute__((vector_size(32)))
#define TURBOCLUSTER_LOAD(dst, src) __builtin_memcpy(&(dst), (src), sizeof(dst))
#define TURBOCLUSTER_STORE(dst, src) __builtin_memcpy((dst), &(src), sizeof(src))
/* max(v, 0) lane by lane: a comparison gives an all-ones or all-zeros
 * integer mask per lane, and ANDing the lane's bits with it keeps v or 0. */
#define TURBOCLUSTER_POSITIVE_PART(v, zero)                                     \
    ((__typeof__(v)) ((__typeof__((v) > (zero))) (v) & ((v) > (zero))))

/* acc[r][v] = <x[r], centers_t[:, t0 + v * L : t0 + (v + 1) * L]> for the R
 * rows x[r] and the V vectors of a block of centers: the register-blocked
 * products that score_rows and nearest_rows share. */
#define TURBOCLUSTER_BLOCK_DOTS(VEC, TYPE, R, V, L, acc, x, centers_t, n_features, \
                                n_padded, t0)                                   \
    do {                                                                        \
        for (int r_ = 0; r_ < (R); r_++)                                        \
            for (int v_ = 0; v_ < (V); v_++)                                    \
                acc[r_][v_] = (VEC) {0};                                        \
        for (ptrdiff_t f_ = 0; f_ < (n_features); f_++) {                       \
            VEC c_[V];                                                          \
            for (int v_ = 0; v_ < (V); v_++)                                    \
                TURBOCLUSTER_LOAD(c_[v_], (centers_t) + f_ * (n_padded) + (t0) + v_ * (L)); \
            for (int r_ = 0; r_ < (R); r_++) {                                  \
                const TYPE xs_ = x[r_][f_];                                     \
                for (int v_ = 0; v_ < (V); v_++)                                \
                    acc[r_][v_] += xs_ * c_[v_];                                \
            }                                                                   \
        }                                                                       \
    } while (0)

#define TURBOCLUSTER_SCORE_ROWS(NAME, TYPE)                                     \
    typedef TURBOCLUSTER_VEC(TYPE) NAME##_vec;                                  \
    TURBOCLUSTER_DISPATCH static ptrdiff_t NAME(TURBOCLUSTER_SCORE_ROWS_PARAMS(TYPE)) \
    {                                                                           \
        enum { L = 32 / sizeof(TYPE), V = TURBOCLUSTER_CENTER_BLOCK / L };      \
        const ptrdiff_t row_bytes = n_features * (ptrdiff_t) sizeof(TYPE);      \
        const NAME##_vec zero = {0};                                            \
        typedef __typeof__(zero < zero) mask;                                   \
        const int every_row = n_padded > TURBOCLUSTER_CENTER_BLOCK;             \
        ptrdiff_t n_out = 0;                                                    \
        for (ptrdiff_t t0 = 0; t0 < n_padded; t0 += TURBOCLUSTER_CENTER_BLOCK) { \
            NAME##_vec norms[V], gain[V];                                       \
            mask real[V];                                                       \
            for (int v = 0; v < V; v++) {                                       \
                NAME##_vec lane;                                                \
                for (int k = 0; k < L; k++)                                     \
                    lane[k] = (TYPE) (t0 + v * L + k);                          \
                real[v] = lane < (TYPE) n_centers;                              \
                TURBOCLUSTER_LOAD(norms[v], center_sq_norms + t0 + v * L);      \
                gain[v] = zero;                                                 \
            }                                                                   \
            for (ptrdiff_t i = 0; i < n_rows; i += 4) {                         \
                const int n_block = n_rows - i < 4 ? (int) (n_rows - i) : 4;    \
                const TYPE *x[4];                                               \
                for (int r = 0; r < 4; r++)                                     \
                    x[r] = X + rows[i + (r < n_block ? r : 0)] * n_features;    \
                for (ptrdiff_t p = i + TURBOCLUSTER_ROWS_AHEAD;                 \
                     p < i + TURBOCLUSTER_ROWS_AHEAD + 4 && p < n_rows; p++)    \
                    TURBOCLUSTER_PREFETCH_ROW(X + rows[p] * n_features, row_bytes); \
                NAME##_vec acc[4][V];                                           \
                TURBOCLUSTER_BLOCK_DOTS(NAME##_vec, TYPE, 4, V, L, acc, x, centers_t, \
                                        n_features, n_padded, t0);              \
                for (int r = 0; r < n_block; r++) {                             \
                    const ptrdiff_t s = rows[i + r];                            \
                    const TYPE closest = closest_sq[s], w = weights[s];         \
                    NAME##_vec d2[V];                                           \
                    mask closer = zero < zero;                                  \
                    for (int v = 0; v < V; v++) {                               \
                        d2[v] = x_sq_norms[s] + norms[v] - 2 * acc[r][v];       \
                        d2[v] = TURBOCLUSTER_POSITIVE_PART(d2[v], zero);        \
                        gain[v] += w * TURBOCLUSTER_POSITIVE_PART(closest - d2[v], zero); \
                        closer |= (d2[v] < closest) & real[v];                  \
                    }                                                           \
                    /* Without branches: whether a row is kept is a coin    \
                     * toss for the branch predictor. Its distances always go \
                     * to the next free slot, which only a kept row takes     \
                     * (n_out <= i + r: the slot lies in the chunk's part). */ \
                    int keep = every_row;                                       \
                    for (int k = 0; k < L; k++)                                 \
                        keep |= closer[k] != 0;                                 \
                    const ptrdiff_t j = every_row ? i + r : n_out;              \
                    for (int v = 0; v < V; v++)                                 \
                        TURBOCLUSTER_STORE(out_sq + j * n_padded + t0 + v * L, d2[v]); \
                    out_offset[j] = (unsigned short) (s - chunk_start);         \
                    n_out += keep;                                              \
                }                                                               \
            }                                                                   \
            for (int v = 0; v < V; v++)                                         \
                for (int k = 0; k < L; k++)                                     \
                    gains[t0 + v * L + k] += gain[v][k];                        \
        }                                                                       \
        return every_row ? n_rows : n_out;                                      \
    }

#else
#define TURBOCLUSTER_SCORE_ROWS(NAME, TYPE)                                     \
    static ptrdiff_t NAME(TURBOCLUSTER_SCORE_ROWS_PARAMS(TYPE))                \
    {                                                                           \
        /* Every row keeps a slot; gains are summed in TYPE in row order, per \
         * center, before they join the double gains, as above. */             \
        for (ptrdiff_t t = 0; t < n_padded; t++) {                              \
            TYPE gain = 0;                                                      \
            for (ptrdiff_t i = 0; i < n_rows; i++) {                            \
                const ptrdiff_t s = rows[i];                                    \
                const TYPE *x = X + s * n_features;                             \
                TYPE dot = 0;                                                   \
                for (ptrdiff_t f = 0; f < n_features; f++)                      \
                    dot += x[f] * centers_t[f * n_padded + t];                  \
                TYPE d2 = x_sq_norms[s] + center_sq_norms[t] - 2 * dot;         \
                d2 = d2 > 0 ? d2 : 0;                                           \
                out_sq[i * n_padded + t] = d2;                                  \
                out_offset[i] = (unsigned short) (s - chunk_start);             \
                if (d2 < closest_sq[s])                                         \
                    gain += weights[s] * (closest_sq[s] - d2);                  \
            }                                                                   \
            gains[t] += gain;                                                   \
        }                                                                       \
        return n_rows;                                                          \
    }
#endif

TURBOCLUSTER_SCORE_ROWS(turbocluster_score_rows_f, float)
TURBOCLUSTER_SCORE_ROWS(turbocluster_score_rows_d, double)

/* Squared Euclidean distance from differences, for rows of many features:
 * four independent vector accumulators, so that the additions do not wait
 * on each other (a single accumulator makes every addition wait for the
 * last: measured 4x slower at 64 features). The order of the sum is fixed
 * by n, never by the data or the thread. */
#if defined(__GNUC__)
#define TURBOCLUSTER_SQ_DIST(NAME, TYPE)                                        \
    typedef TURBOCLUSTER_VEC(TYPE) NAME##_vec;                                  \
    TURBOCLUSTER_DISPATCH static TYPE NAME(const TYPE *a, const TYPE *b, ptrdiff_t n) \
    {                                                                           \
        enum { L = 32 / sizeof(TYPE) };                                         \
        NAME##_vec acc[4] = {{0}}, va, vb, diff;                                \
        ptrdiff_t f = 0;                                                        \
        for (; f + 4 * L <= n; f += 4 * L)                                      \
            for (int r = 0; r < 4; r++) {                                       \
                TURBOCLUSTER_LOAD(va, a + f + r * L);                           \
                TURBOCLUSTER_LOAD(vb, b + f + r * L);                           \
                diff = va - vb;                                                 \
                acc[r] += diff * diff;                                          \
            }                                                                   \
        for (; f + L <= n; f += L) {                                            \
            TURBOCLUSTER_LOAD(va, a + f);                                       \
            TURBOCLUSTER_LOAD(vb, b + f);                                       \
            diff = va - vb;                                                     \
            acc[0] += diff * diff;                                              \
        }                                                                       \
        acc[0] = (acc[0] + acc[1]) + (acc[2] + acc[3]);                         \
        TYPE total = 0;                                                         \
        for (int k = 0; k < L; k++)                                             \
            total += acc[0][k];                                                 \
        for (; f < n; f++) {                                                    \
            const TYPE d = a[f] - b[f];                                         \
            total += d * d;                                                     \
        }                                                                       \
        return total;                                                           \
    }
#else
#define TURBOCLUSTER_SQ_DIST(NAME, TYPE)                                        \
    static TYPE NAME(const TYPE *a, const TYPE *b, ptrdiff_t n)                 \
    {                                                                           \
        TYPE acc[4] = {0, 0, 0, 0};                                             \
        ptrdiff_t f = 0;                                                        \
        for (; f + 4 <= n; f += 4)                                              \
            for (int r = 0; r < 4; r++) {                                       \
                const TYPE d = a[f + r] - b[f + r];                             \
                acc[r] += d * d;                                                \
            }                                                                   \
        for (; f < n; f++) {                                                    \
            const TYPE d = a[f] - b[f];                                         \
            acc[0] += d * d;                                                    \
        }                                                                       \
        return (acc[0] + acc[1]) + (acc[2] + acc[3]);                           \
    }
#endif

TURBOCLUSTER_SQ_DIST(turbocluster_sq_dist_f, float)
TURBOCLUSTER_SQ_DIST(turbocluster_sq_dist_d, double)

/* Dot products of one row with every center:
 *   out[t] = sum_f x[f] * centers_t[f * n_padded + t]        for t < n_padded
 * with the centers transposed and zero-padded to n_padded, a multiple of
 * TURBOCLUSTER_CENTER_BLOCK. Up to four blocks of centers share each read
 * of x[f], with independent accumulators: on a row of few features, the
 * products with k centers cost about as much as one. */
#if defined(__GNUC__)
#define TURBOCLUSTER_ROW_DOTS_BLOCKS(NAME, TYPE, NB)                             \
    static inline __attribute__((always_inline)) void NAME##_##NB(              \
        const TYPE *x, const TYPE *centers_t, ptrdiff_t n_features,             \
        ptrdiff_t n_padded, ptrdiff_t t0, TYPE *out)                            \
    {                                                                           \
        enum { L = 32 / sizeof(TYPE), V = TURBOCLUSTER_CENTER_BLOCK / L,        \
               /* Features per step: with few accumulators, U sets of them \
                * (one per feature of the step) keep the FMA units busy:   \
                * about 8 chains of additions in flight.                  */ \
               U = NB * V >= 8 ? 1 : NB * V >= 4 ? 2 : 4 };                     \
        NAME##_vec acc[U][NB][V], c;                                            \
        for (int u = 0; u < U; u++)                                             \
            for (int b = 0; b < NB; b++)                                        \
                for (int v = 0; v < V; v++)                                     \
                    acc[u][b][v] = (NAME##_vec) {0};                            \
        ptrdiff_t f = 0;                                                        \
        for (; f + U <= n_features; f += U)                                     \
            for (int u = 0; u < U; u++) {                                       \
                const TYPE xs = x[f + u];                                       \
                for (int b = 0; b < NB; b++)                                    \
                    for (int v = 0; v < V; v++) {                               \
                        TURBOCLUSTER_LOAD(c, centers_t + (f + u) * n_padded + t0 \
                                          + b * TURBOCLUSTER_CENTER_BLOCK + v * L); \
                        acc[u][b][v] += xs * c;                                 \
                    }                                                           \
            }                                                                   \
        for (; f < n_features; f++)                                             \
            for (int b = 0; b < NB; b++)                                        \
                for (int v = 0; v < V; v++) {                                   \
                    TURBOCLUSTER_LOAD(c, centers_t + f * n_padded + t0          \
                                      + b * TURBOCLUSTER_CENTER_BLOCK + v * L); \
                    acc[0][b][v] += x[f] * c;                                   \
                }                                                               \
        for (int u = 1; u < U; u++)                                             \
            for (int b = 0; b < NB; b++)                                        \
                for (int v = 0; v < V; v++)                                     \
                    acc[0][b][v] += acc[u][b][v];                               \
        for (int b = 0; b < NB; b++)                                            \
            for (int v = 0; v < V; v++)                                         \
                TURBOCLUSTER_STORE(out + t0 + b * TURBOCLUSTER_CENTER_BLOCK + v * L, \
                                   acc[0][b][v]);                               \
    }
#define TURBOCLUSTER_ROW_DOTS(NAME, TYPE)                                       \
    typedef TURBOCLUSTER_VEC(TYPE) NAME##_vec;                                  \
    TURBOCLUSTER_ROW_DOTS_BLOCKS(NAME, TYPE, 1)                                 \
    TURBOCLUSTER_ROW_DOTS_BLOCKS(NAME, TYPE, 2)                                 \
    TURBOCLUSTER_ROW_DOTS_BLOCKS(NAME, TYPE, 3)                                 \
    TURBOCLUSTER_ROW_DOTS_BLOCKS(NAME, TYPE, 4)                                 \
    TURBOCLUSTER_DISPATCH static void NAME(const TYPE *x, const TYPE *centers_t, \
                                           ptrdiff_t n_features, ptrdiff_t n_padded, \
                                           TYPE *out)                           \
    {                                                                           \
        const ptrdiff_t n_blocks = n_padded / TURBOCLUSTER_CENTER_BLOCK;        \
        ptrdiff_t b = 0;                                                        \
        for (; b + 4 <= n_blocks; b += 4)                                       \
            NAME##_4(x, centers_t, n_features, n_padded,                        \
                     b * TURBOCLUSTER_CENTER_BLOCK, out);                       \
        switch (n_blocks - b) {                                                 \
        case 3: NAME##_3(x, centers_t, n_features, n_padded,                    \
                         b * TURBOCLUSTER_CENTER_BLOCK, out); break;            \
        case 2: NAME##_2(x, centers_t, n_features, n_padded,                    \
                         b * TURBOCLUSTER_CENTER_BLOCK, out); break;            \
        case 1: NAME##_1(x, centers_t, n_features, n_padded,                    \
                         b * TURBOCLUSTER_CENTER_BLOCK, out); break;            \
        default: break;                                                         \
        }                                                                       \
    }
#else
#define TURBOCLUSTER_ROW_DOTS(NAME, TYPE)                                       \
    static void NAME(const TYPE *x, const TYPE *centers_t, ptrdiff_t n_features, \
                     ptrdiff_t n_padded, TYPE *out)                             \
    {                                                                           \
        for (ptrdiff_t t = 0; t < n_padded; t++)                                \
            out[t] = 0;                                                         \
        for (ptrdiff_t f = 0; f < n_features; f++)                              \
            for (ptrdiff_t t = 0; t < n_padded; t++)                            \
                out[t] += x[f] * centers_t[f * n_padded + t];                   \
    }
#endif

TURBOCLUSTER_ROW_DOTS(turbocluster_row_dots_f, float)
TURBOCLUSTER_ROW_DOTS(turbocluster_row_dots_d, double)

/* The nearest center of each of n_rows consecutive rows of X by the scores
 *   ||c_t||^2 - 2 <x, c_t>                   (scikit-learn's argmin)
 * the first one on ties, with the centers transposed and zero-padded
 * (centers_t[f * n_padded + t]) and their squared norms padded with +inf,
 * so that no padding column is ever nearest. Returns the number of rows
 * whose smallest score is not finite: a NaN or an infinity in the row, or
 * a product that overflowed.
 *
 * R rows at a time, each with V vectors of accumulators per block of
 * centers (8 accumulators in all); every lane keeps its best score and the
 * index of its center across the blocks, and the lanes of a row are
 * compared at the end. */
#if defined(__GNUC__)
/* mask ? a : b, lane by lane, for a comparison mask of a and b's type. */
#define TURBOCLUSTER_SELECT(mask, a, b)                                         \
    ((__typeof__(a)) (((__typeof__(mask)) (a) & (mask))                         \
                      | ((__typeof__(mask)) (b) & ~(mask))))

#define TURBOCLUSTER_NEAREST_ROWS(NAME, TYPE)                                   \
    typedef TURBOCLUSTER_VEC(TYPE) NAME##_vec;                                  \
    TURBOCLUSTER_DISPATCH static ptrdiff_t NAME(                                \
        const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features,                  \
        const TYPE *centers_t, const TYPE *norms, ptrdiff_t n_padded,           \
        int *labels)                                                            \
    {                                                                           \
        enum { L = 32 / sizeof(TYPE), V = TURBOCLUSTER_CENTER_BLOCK / L, R = 8 / V }; \
        const NAME##_vec zero = {0};                                            \
        NAME##_vec infinite, lane;                                              \
        for (int k = 0; k < L; k++) {                                           \
            infinite[k] = (TYPE) __builtin_inf();                               \
            lane[k] = (TYPE) k;                                                 \
        }                                                                       \
        ptrdiff_t n_bad = 0;                                                    \
        for (ptrdiff_t i = 0; i < n_rows; i += R) {                             \
            const int n_block = n_rows - i < R ? (int) (n_rows - i) : R;        \
            const TYPE *x[R];                                                   \
            for (int r = 0; r < R; r++)                                         \
                x[r] = X + (i + (r < n_block ? r : 0)) * n_features;            \
            NAME##_vec best[R][V], where[R][V];                                 \
            for (int r = 0; r < R; r++)                                         \
                for (int v = 0; v < V; v++) {                                   \
                    best[r][v] = infinite;                                      \
                    where[r][v] = zero;                                         \
                }                                                               \
            for (ptrdiff_t t0 = 0; t0 < n_padded; t0 += TURBOCLUSTER_CENTER_BLOCK) { \
                NAME##_vec acc[R][V];                                           \
                TURBOCLUSTER_BLOCK_DOTS(NAME##_vec, TYPE, R, V, L, acc, x, centers_t, \
                                        n_features, n_padded, t0);              \
                for (int v = 0; v < V; v++) {                                   \
                    NAME##_vec norm, index = lane + (TYPE) (t0 + v * L);        \
                    TURBOCLUSTER_LOAD(norm, norms + t0 + v * L);                \
                    for (int r = 0; r < R; r++) {                               \
                        const NAME##_vec score = norm - 2 * acc[r][v];          \
                        const __typeof__(score < score) closer = score < best[r][v]; \
                        best[r][v] = TURBOCLUSTER_SELECT(closer, score, best[r][v]); \
                        where[r][v] = TURBOCLUSTER_SELECT(closer, index, where[r][v]); \
                    }                                                           \
                }                                                               \
            }                                                                   \
            /* Across the lanes, without branches: the smallest score,    \
             * then the smallest index among the lanes that hold it.      */ \
            for (int r = 0; r < n_block; r++) {                                 \
                NAME##_vec low = best[r][0], at;                                \
                for (int v = 1; v < V; v++)                                     \
                    low = TURBOCLUSTER_SELECT(best[r][v] < low, best[r][v], low); \
                TYPE value = low[0];                                            \
                for (int k = 1; k < L; k++)                                     \
                    value = low[k] < value ? low[k] : value;                    \
                at = infinite;                                                  \
                for (int v = 0; v < V; v++) {                                   \
                    const NAME##_vec held = TURBOCLUSTER_SELECT(                \
                        best[r][v] == zero + value, where[r][v], infinite);     \
                    at = TURBOCLUSTER_SELECT(held < at, held, at);              \
                }                                                               \
                TYPE index = at[0];                                             \
                for (int k = 1; k < L; k++)                                     \
                    index = at[k] < index ? at[k] : index;                      \
                labels[i + r] = (int) index;                                    \
                n_bad += !(value - value == 0);                                 \
            }                                                                   \
        }                                                                       \
        return n_bad;                                                           \
    }
#else
#define TURBOCLUSTER_NEAREST_ROWS(NAME, TYPE)                                   \
    static ptrdiff_t NAME(const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features, \
                          const TYPE *centers_t, const TYPE *norms,             \
                          ptrdiff_t n_padded, int *labels)                      \
    {                                                                           \
        ptrdiff_t n_bad = 0;                                                    \
        for (ptrdiff_t i = 0; i < n_rows; i++) {                                \
            const TYPE *x = X + i * n_features;                                 \
            TYPE value = (TYPE) HUGE_VAL;                                       \
            int index = 0;                                                      \
            for (ptrdiff_t t = 0; t < n_padded; t++) {                          \
                TYPE dot = 0;                                                   \
                for (ptrdiff_t f = 0; f < n_features; f++)                      \
                    dot += x[f] * centers_t[f * n_padded + t];                  \
                const TYPE score = norms[t] - 2 * dot;                          \
                if (score < value) {                                            \
                    value = score;                                              \
                    index = (int) t;                                            \
                }                                                               \
            }                                                                   \
            labels[i] = index;                                                  \
            n_bad += !(value - value == 0);                                     \
        }                                                                       \
        return n_bad;                                                           \
    }
#endif

TURBOCLUSTER_NEAREST_ROWS(turbocluster_nearest_rows_f, float)
TURBOCLUSTER_NEAREST_ROWS(turbocluster_nearest_rows_d, double)

/* Euclidean distances from n_rows consecutive rows of X to every center,
 * from differences summed in double (no cancellation, float32 or not):
 *   out[i * n_clusters + t] = sqrt(sum_f (x_i[f] - centers_t[f * n_padded + t])^2)
 * with the centers in double, transposed and zero-padded to n_padded, a
 * multiple of TURBOCLUSTER_CENTER_BLOCK, and scratch room for 4 * (n_padded +
 * n_features) doubles. Four rows at a time, first copied in double, share
 * each read of a block of 8 centers (2 vectors of 4 doubles: 8
 * accumulators); the square roots of a row are taken in one loop that the
 * compiler vectorizes. */
#if defined(__GNUC__)
#define TURBOCLUSTER_CENTER_DISTANCES(NAME, TYPE)                               \
    typedef double __attribute__((vector_size(32))) NAME##_dvec;                \
    TURBOCLUSTER_DISPATCH static void NAME(                                     \
        const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features,                  \
        const double *centers_t, ptrdiff_t n_padded, ptrdiff_t n_clusters,      \
        double *scratch, TYPE *out)                                             \
    {                                                                           \
        enum { R = 4, V = TURBOCLUSTER_CENTER_BLOCK / 4 };                      \
        double *dist = scratch, *rows = scratch + R * n_padded;                 \
        for (ptrdiff_t i = 0; i < n_rows; i += R) {                             \
            const int n_block = n_rows - i < R ? (int) (n_rows - i) : R;        \
            const double *x[R];                                                 \
            for (int r = 0; r < R; r++) {                                       \
                const TYPE *source = X + (i + (r < n_block ? r : 0)) * n_features; \
                for (ptrdiff_t f = 0; f < n_features; f++)                      \
                    rows[r * n_features + f] = (double) source[f];              \
                x[r] = rows + r * n_features;                                   \
            }                                                                   \
            for (ptrdiff_t t0 = 0; t0 < n_padded; t0 += TURBOCLUSTER_CENTER_BLOCK) { \
                NAME##_dvec acc[R][V];                                          \
                for (int r = 0; r < R; r++)                                     \
                    for (int v = 0; v < V; v++)                                 \
                        acc[r][v] = (NAME##_dvec) {0};                          \
                for (ptrdiff_t f = 0; f < n_features; f++) {                    \
                    NAME##_dvec c[V];                                           \
                    for (int v = 0; v < V; v++)                                 \
                        TURBOCLUSTER_LOAD(c[v], centers_t + f * n_padded + t0 + v * 4); \
                    for (int r = 0; r < R; r++) {                               \
                        const double xs = x[r][f];                              \
                        for (int v = 0; v < V; v++) {                           \
                            const NAME##_dvec diff = xs - c[v];                 \
                            acc[r][v] += diff * diff;                           \
                        }                                                       \
                    }                                                           \
                }                                                               \
                for (int r = 0; r < n_block; r++)                               \
                    for (int v = 0; v < V; v++)                                 \
                        TURBOCLUSTER_STORE(dist + r * n_padded + t0 + v * 4, acc[r][v]); \
            }                                                                   \
            for (int r = 0; r < n_block; r++) {                                 \
                const double *row = dist + r * n_padded;                        \
                TYPE *target = out + (i + r) * n_clusters;                      \
                for (ptrdiff_t t = 0; t < n_clusters; t++)                      \
                    target[t] = (TYPE) sqrt(row[t]);                            \
            }                                                                   \
        }                                                                       \
    }
#else
#define TURBOCLUSTER_CENTER_DISTANCES(NAME, TYPE)                               \
    static void NAME(const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features,     \
                     const double *centers_t, ptrdiff_t n_padded,               \
                     ptrdiff_t n_clusters, double *scratch, TYPE *out)          \
    {                                                                           \
        double *dist = scratch;                                                 \
        for (ptrdiff_t i = 0; i < n_rows; i++) {                                \
            for (ptrdiff_t t = 0; t < n_clusters; t++)                          \
                dist[t] = 0;                                                    \
            for (ptrdiff_t f = 0; f < n_features; f++)                          \
                for (ptrdiff_t t = 0; t < n_clusters; t++) {                    \
                    const double diff = (double) X[i * n_features + f]          \
                                        - centers_t[f * n_padded + t];          \
                    dist[t] += diff * diff;                                     \
                }                                                               \
            for (ptrdiff_t t = 0; t < n_clusters; t++)                          \
                out[i * n_clusters + t] = (TYPE) sqrt(dist[t]);                 \
        }                                                                       \
    }
#endif

TURBOCLUSTER_CENTER_DISTANCES(turbocluster_center_distances_f, float)
TURBOCLUSTER_CENTER_DISTANCES(turbocluster_center_distances_d, double)

/* Euclidean distances from the scores of a GEMM tile row, in place:
 *   row[c] = sqrt(max(row[c] + x_sq + col_sq[c], 0))     for c < n_cols
 * where row[c] = -2 <x, y_c> and col_sq[c] = ||y_c||^2. A loop the compiler
 * vectorizes (square roots included) in each clone. */
#define TURBOCLUSTER_TILE_DISTANCES(NAME, TYPE)                                 \
    TURBOCLUSTER_DISPATCH static void NAME(TYPE *row, ptrdiff_t n_cols, TYPE x_sq, \
                                           const TYPE *col_sq)                  \
    {                                                                           \
        for (ptrdiff_t c = 0; c < n_cols; c++) {                                \
            const TYPE v = row[c] + x_sq + col_sq[c];                           \
            row[c] = sqrt(v > 0 ? v : 0);                                       \
        }                                                                       \
    }

TURBOCLUSTER_TILE_DISTANCES(turbocluster_tile_distances_f, float)
TURBOCLUSTER_TILE_DISTANCES(turbocluster_tile_distances_d, double)

/* The same from float64 scores, rounded as float32 distances are: the
 * squared distance to float32, its square root in float32 (what
 * scikit-learn's euclidean_distances gives for float32 samples, which it
 * computes in float64). */
TURBOCLUSTER_DISPATCH static void turbocluster_tile_distances_d_as_f(
    double *row, ptrdiff_t n_cols, double x_sq, const double *col_sq)
{
    for (ptrdiff_t c = 0; c < n_cols; c++) {
        const float v = (float) (row[c] + x_sq + col_sq[c]);
        row[c] = (double) sqrtf(v > 0 ? v : 0);
    }
}

#endif
