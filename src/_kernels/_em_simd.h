/* The arithmetic of the EM kernel (_em.pyx): quadratic forms of a chunk laid
 * out with its samples along the rows (summed across samples in vector
 * registers), and one sample's share of a component's statistics (in
 * double, also for float data). Compiled for x86-64-v3 and the baseline, as
 * _simd.h is; only arithmetic lives here, in an order fixed at compile
 * time. */
#ifndef TURBOCLUSTER_EM_SIMD_H
#define TURBOCLUSTER_EM_SIMD_H

#include <math.h>
#include <stddef.h>

#include "_simd.h"

typedef double turbocluster_d4 __attribute__((vector_size(32)));
typedef float turbocluster_f4 __attribute__((vector_size(16)));
typedef float turbocluster_f8 __attribute__((vector_size(32)));
typedef long long turbocluster_i4 __attribute__((vector_size(32)));
typedef int turbocluster_n8 __attribute__((vector_size(32)));

/* out[i] = c - scale * sum_{j < n_features} ((y[j * stride + i] - m[j]) * p[j])^2
 * for every i < n, and top[i] = max(top[i], out[i]) (the normalisation's
 * largest term, kept on the way); p == NULL reads as all ones. Row by row
 * (j outer), so that y is read as a stream and the sums, in out, stay in
 * L1; in the data's precision. */
#define TURBOCLUSTER_QUADRATIC(NAME, TYPE, VEC, WIDTH)                          \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        TYPE *out, const TYPE *y, ptrdiff_t stride, const TYPE *m,              \
        const TYPE *p, ptrdiff_t n_features, ptrdiff_t n, double c,             \
        double scale, TYPE *top)                                                \
    {                                                                           \
        ptrdiff_t i, j = 0;                                                     \
        for (i = 0; i < n; ++i)                                                 \
            out[i] = 0;                                                         \
        /* Four rows per sweep: a quarter of the loads and stores of out. */    \
        for (; j + 4 <= n_features; j += 4) {                                   \
            const TYPE *r0 = y + j * stride, *r1 = r0 + stride;                 \
            const TYPE *r2 = r1 + stride, *r3 = r2 + stride;                    \
            const TYPE m0 = m[j], m1 = m[j + 1], m2 = m[j + 2], m3 = m[j + 3];  \
            const TYPE p0 = p ? p[j] : (TYPE) 1, p1 = p ? p[j + 1] : (TYPE) 1;  \
            const TYPE p2 = p ? p[j + 2] : (TYPE) 1;                            \
            const TYPE p3 = p ? p[j + 3] : (TYPE) 1;                            \
            for (i = 0; i + WIDTH <= n; i += WIDTH) {                           \
                VEC v0, v1, v2, v3, acc;                                        \
                TURBOCLUSTER_LOAD(v0, r0 + i);                                  \
                TURBOCLUSTER_LOAD(v1, r1 + i);                                  \
                TURBOCLUSTER_LOAD(v2, r2 + i);                                  \
                TURBOCLUSTER_LOAD(v3, r3 + i);                                  \
                TURBOCLUSTER_LOAD(acc, out + i);                                \
                v0 = (v0 - m0) * p0;                                            \
                v1 = (v1 - m1) * p1;                                            \
                v2 = (v2 - m2) * p2;                                            \
                v3 = (v3 - m3) * p3;                                            \
                acc += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3);               \
                TURBOCLUSTER_STORE(out + i, acc);                               \
            }                                                                   \
            for (; i < n; ++i) {                                                \
                const TYPE t0 = (r0[i] - m0) * p0, t1 = (r1[i] - m1) * p1;      \
                const TYPE t2 = (r2[i] - m2) * p2, t3 = (r3[i] - m3) * p3;      \
                out[i] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3);            \
            }                                                                   \
        }                                                                       \
        for (; j < n_features; ++j) {                                           \
            const TYPE *row = y + j * stride;                                   \
            const TYPE mj = m[j], pj = p ? p[j] : (TYPE) 1;                     \
            for (i = 0; i + WIDTH <= n; i += WIDTH) {                           \
                VEC v, acc;                                                     \
                TURBOCLUSTER_LOAD(v, row + i);                                  \
                TURBOCLUSTER_LOAD(acc, out + i);                                \
                v = (v - mj) * pj;                                              \
                acc += v * v;                                                   \
                TURBOCLUSTER_STORE(out + i, acc);                               \
            }                                                                   \
            for (; i < n; ++i) {                                                \
                const TYPE t = (row[i] - mj) * pj;                              \
                out[i] += t * t;                                                \
            }                                                                   \
        }                                                                       \
        for (i = 0; i < n; ++i) {                                               \
            const TYPE v = (TYPE) (c - scale * out[i]);                         \
            out[i] = v;                                                         \
            top[i] = v > top[i] ? v : top[i];                                   \
        }                                                                       \
    }

/* The 'full' E-step of one component without a GEMM, for few features:
 * with xt the centered chunk transposed (xt[l * n + i] = x_i[l] - c[l]) and
 * pt = P^T (row j holds column j of the upper-triangular P, so y_j sums
 * l <= j only),
 *   out[i] = c0 - 0.5 * sum_j (sum_{l <= j} xt[l, i] pt[j, l] - mp[j])^2,
 * and top[i] = max(top[i], out[i]). The samples go along the vector lanes and
 * each block's columns of xt stay in L1; no product matrix is written, and
 * the triangle halves the GEMM's multiplications. */
#define TURBOCLUSTER_TRIANGULAR(NAME, TYPE, VEC, MASK, WIDTH)                         \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        TYPE *out, const TYPE *xt, ptrdiff_t n, const TYPE *pt,                 \
        const TYPE *mp, ptrdiff_t n_features, double c0, TYPE *top)             \
    {                                                                           \
        const ptrdiff_t d = n_features;                                         \
        const TYPE c = (TYPE) c0;                                               \
        ptrdiff_t i = 0, j, l;                                                  \
        /* Two vectors of samples per sweep: each coefficient of P, broadcast \
         * once, feeds two multiply-adds. */                                   \
        for (; i + 2 * WIDTH <= n; i += 2 * WIDTH) {                            \
            VEC q0 = {0}, q1 = {0}, acc0, acc1, v0, v1, t0, t1;                 \
            for (j = 0; j < d; ++j) {                                           \
                const TYPE *row = pt + j * d;                                   \
                TURBOCLUSTER_LOAD(acc0, xt + i);                                \
                TURBOCLUSTER_LOAD(acc1, xt + i + WIDTH);                        \
                acc0 = acc0 * row[0];                                           \
                acc1 = acc1 * row[0];                                           \
                for (l = 1; l <= j; ++l) {                                      \
                    const TYPE coefficient = row[l];                            \
                    TURBOCLUSTER_LOAD(v0, xt + l * n + i);                      \
                    TURBOCLUSTER_LOAD(v1, xt + l * n + i + WIDTH);              \
                    acc0 += v0 * coefficient;                                   \
                    acc1 += v1 * coefficient;                                   \
                }                                                               \
                acc0 -= mp[j];                                                  \
                acc1 -= mp[j];                                                  \
                q0 += acc0 * acc0;                                              \
                q1 += acc1 * acc1;                                              \
            }                                                                   \
            q0 = c - (TYPE) 0.5 * q0;                                           \
            q1 = c - (TYPE) 0.5 * q1;                                           \
            TURBOCLUSTER_STORE(out + i, q0);                                    \
            TURBOCLUSTER_STORE(out + i + WIDTH, q1);                            \
            TURBOCLUSTER_LOAD(t0, top + i);                                     \
            TURBOCLUSTER_LOAD(t1, top + i + WIDTH);                             \
            {                                                                   \
                const MASK m0 = q0 > t0, m1 = q1 > t1;                          \
                t0 = (VEC) (((MASK) q0 & m0) | ((MASK) t0 & ~m0));              \
                t1 = (VEC) (((MASK) q1 & m1) | ((MASK) t1 & ~m1));              \
            }                                                                   \
            TURBOCLUSTER_STORE(top + i, t0);                                    \
            TURBOCLUSTER_STORE(top + i + WIDTH, t1);                            \
        }                                                                       \
        for (; i < n; ++i) {                                                    \
            TYPE q = 0;                                                         \
            for (j = 0; j < d; ++j) {                                           \
                TYPE acc = 0;                                                   \
                for (l = 0; l <= j; ++l)                                        \
                    acc += xt[l * n + i] * pt[j * d + l];                       \
                acc -= mp[j];                                                   \
                q += acc * acc;                                                 \
            }                                                                   \
            q = c - (TYPE) 0.5 * q;                                             \
            out[i] = q;                                                         \
            top[i] = q > top[i] ? q : top[i];                                   \
        }                                                                       \
    }

TURBOCLUSTER_TRIANGULAR(turbocluster_triangular_d, double, turbocluster_d4, turbocluster_i4, 4)
TURBOCLUSTER_TRIANGULAR(turbocluster_triangular_f, float, turbocluster_f8, turbocluster_n8, 8)

/* out[j * n_rows + i] = X[i * n_features + j] - center[j]: a chunk centered
 * and transposed. */
#define TURBOCLUSTER_CENTERED_TRANSPOSE(NAME, TYPE)                             \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features,                  \
        const TYPE *center, TYPE *out)                                          \
    {                                                                           \
        ptrdiff_t i, j;                                                         \
        for (j = 0; j < n_features; ++j)                                        \
            for (i = 0; i < n_rows; ++i)                                        \
                out[j * n_rows + i] = X[i * n_features + j] - center[j];        \
    }

TURBOCLUSTER_CENTERED_TRANSPOSE(turbocluster_centered_transpose_d, double)
TURBOCLUSTER_CENTERED_TRANSPOSE(turbocluster_centered_transpose_f, float)

/* s2 += rows^T rows (rows: n_rows x n_features, row-major; s2 row-major,
 * in double; the caller reads its lower triangle), without BLAS: for the few
 * features where a BLAS call costs more than its arithmetic, and where
 * concurrent calls contend for its buffer pool. Two rows at a time, in rows
 * of the square that vectorize. The chunk's sum is taken in the data's
 * precision in gram (n_features^2 scratch), as a float32 SYRK would, then
 * added to s2 in double. */
#define TURBOCLUSTER_GRAM(NAME, TYPE)                                           \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        const TYPE *rows, ptrdiff_t n_rows, ptrdiff_t n_features, TYPE *gram,   \
        double *s2)                                                             \
    {                                                                           \
        const ptrdiff_t d = n_features;                                         \
        ptrdiff_t i = 0, a, b;                                                  \
        for (a = 0; a < d * d; ++a)                                             \
            gram[a] = 0;                                                        \
        for (; i + 2 <= n_rows; i += 2) {                                       \
            const TYPE *x0 = rows + i * d, *x1 = x0 + d;                        \
            for (a = 0; a < d; ++a) {                                           \
                const TYPE r0 = x0[a], r1 = x1[a];                              \
                TYPE *out = gram + a * d;                                       \
                for (b = 0; b < d; ++b)                                         \
                    out[b] += r0 * x0[b] + r1 * x1[b];                          \
            }                                                                   \
        }                                                                       \
        for (; i < n_rows; ++i) {                                               \
            const TYPE *x0 = rows + i * d;                                      \
            for (a = 0; a < d; ++a) {                                           \
                const TYPE r0 = x0[a];                                          \
                TYPE *out = gram + a * d;                                       \
                for (b = 0; b < d; ++b)                                         \
                    out[b] += r0 * x0[b];                                       \
            }                                                                   \
        }                                                                       \
        for (a = 0; a < d; ++a)                                                 \
            for (b = 0; b <= a; ++b)                                            \
                s2[a * d + b] += (double) gram[a * d + b];                      \
    }

TURBOCLUSTER_GRAM(turbocluster_gram_d, double)
TURBOCLUSTER_GRAM(turbocluster_gram_f, float)


/* out[j * n_rows + i] = X[i * n_features + j] (a chunk transposed), and
 * out[i * n_features + j] = X[i * n_features + j] - center[j]. */
#define TURBOCLUSTER_CHUNK_COPIES(TRANSPOSE, SUBTRACT, TYPE)                    \
    TURBOCLUSTER_DISPATCH void TRANSPOSE(                                       \
        const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features, TYPE *out)       \
    {                                                                           \
        ptrdiff_t i, j;                                                         \
        for (j = 0; j < n_features; ++j)                                        \
            for (i = 0; i < n_rows; ++i)                                        \
                out[j * n_rows + i] = X[i * n_features + j];                    \
    }                                                                           \
    TURBOCLUSTER_DISPATCH void SUBTRACT(                                        \
        const TYPE *X, ptrdiff_t n_rows, ptrdiff_t n_features,                  \
        const TYPE *center, TYPE *out)                                          \
    {                                                                           \
        ptrdiff_t i, j;                                                         \
        for (i = 0; i < n_rows; ++i)                                            \
            for (j = 0; j < n_features; ++j)                                    \
                out[i * n_features + j] = X[i * n_features + j] - center[j];    \
    }

TURBOCLUSTER_QUADRATIC(turbocluster_quadratic_d, double, turbocluster_d4, 4)
TURBOCLUSTER_QUADRATIC(turbocluster_quadratic_f, float, turbocluster_f8, 8)
TURBOCLUSTER_CHUNK_COPIES(turbocluster_transpose_d, turbocluster_subtract_d, double)
TURBOCLUSTER_CHUNK_COPIES(turbocluster_transpose_f, turbocluster_subtract_f, float)

/* The samples of a chunk with a responsibility for one component: rows[j]
 * and r[j] (in double) for j < the returned count, in sample order; *total
 * += the sum of the responsibilities. Branch-free within a block: every
 * sample is written, only those with r != 0 advance the count (a branch per
 * sample mispredicts). */
#define TURBOCLUSTER_GATHER(NAME, TYPE)                                         \
    TURBOCLUSTER_DISPATCH ptrdiff_t NAME(                                       \
        const TYPE *resp, ptrdiff_t n, ptrdiff_t *rows, double *r,              \
        double *total)                                                          \
    {                                                                           \
        ptrdiff_t i = 0, b, kept = 0;                                           \
        double sum = 0.0;                                                       \
        /* Blocks of 8 with no responsibility (most of them, on separated     \
         * clusters) are skipped whole. */                                     \
        for (; i + 8 <= n; i += 8) {                                            \
            int any = 0;                                                        \
            for (b = 0; b < 8; ++b)                                             \
                any |= resp[i + b] != 0;                                        \
            if (!any)                                                           \
                continue;                                                       \
            for (b = 0; b < 8; ++b) {                                           \
                const double value = (double) resp[i + b];                      \
                sum += value;                                                   \
                rows[kept] = i + b;                                             \
                r[kept] = value;                                                \
                kept += value != 0.0;                                           \
            }                                                                   \
        }                                                                       \
        for (; i < n; ++i) {                                                    \
            const double value = (double) resp[i];                              \
            sum += value;                                                       \
            rows[kept] = i;                                                     \
            r[kept] = value;                                                    \
            kept += value != 0.0;                                               \
        }                                                                       \
        *total += sum;                                                          \
        return kept;                                                            \
    }

TURBOCLUSTER_GATHER(turbocluster_gather_d, double)
TURBOCLUSTER_GATHER(turbocluster_gather_f, float)

/* A component's statistics over the samples X[rows[i]] (i < n) with the
 * responsibilities r[i], in order of i, with d = x - m (element-wise, double):
 *   s1 += r d,  and, if s2 != NULL,  s2 += r d^2. */
#define TURBOCLUSTER_GATHERED_MOMENTS(NAME, TYPE)                               \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        const double *r, const TYPE *X, const ptrdiff_t *rows, ptrdiff_t n,     \
        const TYPE *m, ptrdiff_t n_features, double *s1, double *s2)            \
    {                                                                           \
        ptrdiff_t i, j;                                                         \
        for (i = 0; i < n; ++i) {                                               \
            const TYPE *x = X + rows[i] * n_features;                           \
            const double ri = r[i];                                             \
            if (s2 == NULL) {                                                   \
                for (j = 0; j < n_features; ++j)                                \
                    s1[j] += ri * ((double) x[j] - (double) m[j]);              \
                continue;                                                       \
            }                                                                   \
            for (j = 0; j < n_features; ++j) {                                  \
                const double d = (double) x[j] - (double) m[j];                 \
                s1[j] += ri * d;                                                \
                s2[j] += ri * d * d;                                            \
            }                                                                   \
        }                                                                       \
    }

/* The same s1, and out[i] = sqrt(r[i]) (X[rows[i]] - m) in the data's
 * precision: rows whose Gram matrix is these samples' share of the
 * component's scatter. */
#define TURBOCLUSTER_GATHERED_ROWS(NAME, TYPE)                                  \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        const double *r, const TYPE *X, const ptrdiff_t *rows, ptrdiff_t n,     \
        const TYPE *m, ptrdiff_t n_features, double *s1, TYPE *out)             \
    {                                                                           \
        ptrdiff_t i, j;                                                         \
        for (i = 0; i < n; ++i) {                                               \
            const TYPE *x = X + rows[i] * n_features;                           \
            const double ri = r[i], root = sqrt(r[i]);                          \
            TYPE *o = out + i * n_features;                                     \
            for (j = 0; j < n_features; ++j) {                                  \
                const double d = (double) x[j] - (double) m[j];                 \
                s1[j] += ri * d;                                                \
                o[j] = (TYPE) (root * d);                                       \
            }                                                                   \
        }                                                                       \
    }

TURBOCLUSTER_GATHERED_MOMENTS(turbocluster_gathered_moments_d, double)
TURBOCLUSTER_GATHERED_MOMENTS(turbocluster_gathered_moments_f, float)
TURBOCLUSTER_GATHERED_ROWS(turbocluster_gathered_rows_d, double)
TURBOCLUSTER_GATHERED_ROWS(turbocluster_gathered_rows_f, float)


/* Lane-wise max(a, b) and "keep a where mask, else 0". */
static inline turbocluster_d4 turbocluster_max4(turbocluster_d4 a, turbocluster_d4 b)
{
    turbocluster_i4 take_a = a > b;
    return (turbocluster_d4) (((turbocluster_i4) a & take_a)
                              | ((turbocluster_i4) b & ~take_a));
}

static inline turbocluster_d4 turbocluster_keep4(turbocluster_d4 a, turbocluster_i4 mask)
{
    return (turbocluster_d4) ((turbocluster_i4) a & mask);
}

/* exp(x) for x <= 0, lane-wise: x = n ln2 + r with n an integer and
 * |r| <= ln2 / 2 (about), exp(r) by its Taylor polynomial of degree 13
 * (truncation below 2^-56 of the result), times 2^n built in the exponent
 * bits. Within a few ulp of the correctly rounded exp; results below
 * 2^-1022 (x < -708) are flushed to 0, and x = -inf gives 0.
 *
 * n comes from integer conversions, not from the usual "add and subtract
 * 1.5 * 2^52" rounding: the kernels are compiled with -fassociative-math,
 * which may fold that pair away. */
typedef int turbocluster_n4 __attribute__((vector_size(16)));

static inline turbocluster_d4 turbocluster_exp4(turbocluster_d4 x)
{
    const turbocluster_d4 floor_ = {-1000.0, -1000.0, -1000.0, -1000.0};
    x = turbocluster_max4(x, floor_);
    /* Truncating y - 1/2 rounds y <= 0 to the nearest integer. */
    turbocluster_n4 n32 = __builtin_convertvector(x * 1.4426950408889634 - 0.5,
                                                  turbocluster_n4);
    turbocluster_d4 n = __builtin_convertvector(n32, turbocluster_d4);
    turbocluster_i4 ni = __builtin_convertvector(n32, turbocluster_i4);
    turbocluster_d4 r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
    turbocluster_d4 p = r * (1.0 / 6227020800.0) + (1.0 / 479001600.0);
    p = p * r + (1.0 / 39916800.0);
    p = p * r + (1.0 / 3628800.0);
    p = p * r + (1.0 / 362880.0);
    p = p * r + (1.0 / 40320.0);
    p = p * r + (1.0 / 5040.0);
    p = p * r + (1.0 / 720.0);
    p = p * r + (1.0 / 120.0);
    p = p * r + (1.0 / 24.0);
    p = p * r + (1.0 / 6.0);
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    turbocluster_i4 normal = ni >= -1022;
    turbocluster_i4 bits = (ni + 1023) << 52;
    return turbocluster_keep4(p * (turbocluster_d4) bits, normal);
}

/* The float32 counterparts, for float32 data (computed in float32, as
 * scikit-learn does): exp(x) for x <= 0 by a degree-7 Taylor polynomial
 * (truncation below 2^-27), results below 2^-126 flushed to 0. */

static inline turbocluster_f8 turbocluster_max8f(turbocluster_f8 a, turbocluster_f8 b)
{
    turbocluster_n8 take_a = a > b;
    return (turbocluster_f8) (((turbocluster_n8) a & take_a)
                              | ((turbocluster_n8) b & ~take_a));
}

static inline turbocluster_f8 turbocluster_exp8f(turbocluster_f8 x)
{
    const turbocluster_f8 floor_ = {-100.f, -100.f, -100.f, -100.f,
                                    -100.f, -100.f, -100.f, -100.f};
    x = turbocluster_max8f(x, floor_);
    turbocluster_n8 ni = __builtin_convertvector(x * 1.44269504f - 0.5f,
                                                 turbocluster_n8);
    turbocluster_f8 n = __builtin_convertvector(ni, turbocluster_f8);
    turbocluster_f8 r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    turbocluster_f8 p = r * (1.f / 5040.f) + (1.f / 720.f);
    p = p * r + (1.f / 120.f);
    p = p * r + (1.f / 24.f);
    p = p * r + (1.f / 6.f);
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    turbocluster_n8 normal = ni >= -126;
    turbocluster_n8 bits = (ni + 127) << 23;
    return (turbocluster_f8) ((turbocluster_n8) (p * (turbocluster_f8) bits) & normal);
}

/* log(x) for x >= 1 (a sum of exponentials whose largest term is 1),
 * lane-wise: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m by its series
 * in t = (m - 1) / (m + 1) up to t^7 (|t| <= 0.172: truncation below 4e-8),
 * in float, the result returned in double. */
static inline void turbocluster_log8f(turbocluster_f8 x, double *out)
{
    turbocluster_n8 bits = (turbocluster_n8) x;
    turbocluster_n8 e = (bits >> 23) - 127;
    turbocluster_f8 m = (turbocluster_f8) ((bits & 0x7fffff) | 0x3f800000);
    turbocluster_n8 big = m > 1.41421356f;
    m = (turbocluster_f8) (((turbocluster_n8) (m * 0.5f) & big)
                           | ((turbocluster_n8) m & ~big));
    e -= big;  /* big is -1 where true */
    turbocluster_f8 t = (m - 1.f) / (m + 1.f);
    turbocluster_f8 t2 = t * t;
    turbocluster_f8 series = t * (2.f + t2 * (2.f / 3.f + t2 * (2.f / 5.f + t2 * (2.f / 7.f))));
    for (int lane = 0; lane < 8; ++lane)
        out[lane] = (double) e[lane] * 0.6931471805599453 + (double) series[lane];
}

/* log of each lane, in double (float64 data: libm's). */
static inline void turbocluster_log4(turbocluster_d4 x, double *out)
{
    for (int lane = 0; lane < 4; ++lane)
        out[lane] = log(x[lane]);
}

/* One sample's log-sum-exp and responsibilities from its weighted
 * log-densities w[k * stride], k < K (the scalar path: samples past the last
 * vector, or whose densities are all zero or not finite). */
#define TURBOCLUSTER_NORMALISE_ONE(NAME, TYPE, VEC, EXP, FLOOR)                 \
    static inline double NAME(                                                  \
        TYPE *w, ptrdiff_t stride, ptrdiff_t K, double *r_log_r, int prune,     \
        TYPE log_min_resp, TYPE min_resp)                                       \
    {                                                                           \
        TYPE top = -INFINITY, total = 0, moment = 0;                            \
        ptrdiff_t k;                                                            \
        for (k = 0; k < K; ++k)                                                 \
            if (w[k * stride] > top)                                            \
                top = w[k * stride];                                            \
        if (!(top > -INFINITY) || !(top < INFINITY)) {                          \
            for (k = 0; k < K; ++k)                                             \
                w[k * stride] = 0;                                              \
            return top > -INFINITY ? (double) top : -INFINITY;                  \
        }                                                                       \
        for (k = 0; k < K; ++k) {                                               \
            TYPE shifted = w[k * stride] - top;                                 \
            TYPE e;                                                             \
            if (shifted < FLOOR)                                                \
                shifted = FLOOR;                                                \
            e = EXP((VEC) {shifted})[0];                                        \
            if (prune && shifted < log_min_resp)                                \
                e = 0;                                                          \
            w[k * stride] = e;                                                  \
            total += e;                                                         \
            moment += e * shifted;                                              \
        }                                                                       \
        for (k = 0; k < K; ++k) {                                               \
            const TYPE r = w[k * stride] / total;                               \
            w[k * stride] = (prune && r < min_resp) ? 0 : r;                    \
        }                                                                       \
        *r_log_r += (double) moment / total - log((double) total);              \
        return (double) top + log((double) total);                              \
    }

/* The E-step's normalisation of a chunk: w is (K, n), the weighted
 * log-densities of n samples laid out component by component, and tops[i]
 * the largest of sample i's. Each column becomes its sample's
 * responsibilities, lse[i] its log-sum-exp (double), and sum_i sum_k r log r
 * is added to *r_log_r in sample order. With prune, the responsibilities of
 * a term below log_min_resp of the largest, or below min_resp, become 0, and
 * a vector of samples whose terms are all their top or pruned takes no
 * exponential. WIDTH samples at a time. */
#define TURBOCLUSTER_NORMALISE(NAME, ONE, TYPE, VEC, MASK, WIDTH, MAX, EXP,     \
                               LOG, FLOOR)                                      \
    TURBOCLUSTER_DISPATCH void NAME(                                            \
        TYPE *w, ptrdiff_t K, ptrdiff_t n, const TYPE *tops, double *lse,       \
        double *r_log_r, int prune, double log_min_resp, double min_resp)       \
    {                                                                           \
        const TYPE log_min_t = (TYPE) log_min_resp, min_t = (TYPE) min_resp;    \
        const VEC zero = {0};                                                   \
        const VEC log_min = zero + log_min_t, min_r = zero + min_t;             \
        const VEC floor_ = zero + (TYPE) FLOOR, one = zero + (TYPE) 1;          \
        ptrdiff_t i = 0, k;                                                     \
        int lane;                                                               \
        for (; i + WIDTH <= n; i += WIDTH) {                                    \
            VEC top, total = zero, moment = zero, inverse, v;                   \
            double log_total[WIDTH];                                            \
            int finite = 1;                                                     \
            TURBOCLUSTER_LOAD(top, tops + i);                                   \
            for (lane = 0; lane < WIDTH; ++lane)                                \
                finite &= top[lane] > -INFINITY && top[lane] < INFINITY;        \
            if (!finite) {                                                      \
                for (lane = 0; lane < WIDTH; ++lane)                            \
                    lse[i + lane] = ONE(w + i + lane, n, K, r_log_r, prune,     \
                                        log_min_t, min_t);                      \
                continue;                                                       \
            }                                                                   \
            for (k = 0; k < K; ++k) {                                           \
                VEC shifted, e;                                                 \
                TURBOCLUSTER_LOAD(v, w + k * n + i);                            \
                shifted = MAX(v - top, floor_);                                 \
                if (prune) {                                                    \
                    const MASK kept = shifted >= log_min;                       \
                    const MASK below = shifted < zero;                          \
                    const MASK ambiguous = kept & below;                        \
                    int any = 0;                                                \
                    for (lane = 0; lane < WIDTH; ++lane)                        \
                        any |= ambiguous[lane] != 0;                            \
                    if (!any) {                                                 \
                        /* Each term is its sample's top (exp(0) = 1) or     \
                         * pruned: no exponential to take. */                 \
                        e = (VEC) ((MASK) one & ~below);                        \
                        TURBOCLUSTER_STORE(w + k * n + i, e);                   \
                        total += e;                                             \
                        continue;                                               \
                    }                                                           \
                    e = (VEC) ((MASK) EXP(shifted) & kept);                     \
                } else {                                                        \
                    e = EXP(shifted);                                           \
                }                                                               \
                TURBOCLUSTER_STORE(w + k * n + i, e);                           \
                total += e;                                                     \
                moment += e * shifted;                                          \
            }                                                                   \
            inverse = one / total;                                              \
            for (k = 0; k < K; ++k) {                                           \
                TURBOCLUSTER_LOAD(v, w + k * n + i);                            \
                v = v * inverse;                                                \
                if (prune)                                                      \
                    v = (VEC) ((MASK) v & (v >= min_r));                        \
                TURBOCLUSTER_STORE(w + k * n + i, v);                           \
            }                                                                   \
            LOG(total, log_total);                                              \
            for (lane = 0; lane < WIDTH; ++lane) {                              \
                lse[i + lane] = (double) top[lane] + log_total[lane];           \
                *r_log_r += (double) moment[lane] * (double) inverse[lane]      \
                            - log_total[lane];                                  \
            }                                                                   \
        }                                                                       \
        for (; i < n; ++i)                                                      \
            lse[i] = ONE(w + i, n, K, r_log_r, prune, log_min_t, min_t);        \
    }

TURBOCLUSTER_NORMALISE_ONE(turbocluster_normalise_one_d, double, turbocluster_d4,
                           turbocluster_exp4, -1000.0)
TURBOCLUSTER_NORMALISE_ONE(turbocluster_normalise_one_f, float, turbocluster_f8,
                           turbocluster_exp8f, -100.f)
TURBOCLUSTER_NORMALISE(turbocluster_normalise_d, turbocluster_normalise_one_d, double,
                       turbocluster_d4, turbocluster_i4, 4, turbocluster_max4,
                       turbocluster_exp4, turbocluster_log4, -1000.0)
TURBOCLUSTER_NORMALISE(turbocluster_normalise_f, turbocluster_normalise_one_f, float,
                       turbocluster_f8, turbocluster_n8, 8, turbocluster_max8f,
                       turbocluster_exp8f, turbocluster_log8f, -100.f)

#endif
