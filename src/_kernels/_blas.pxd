# The few BLAS calls the kernels make, typed once for float and double.
# Every call is single-threaded by construction: kernels call these from inside
# an OpenMP region on one chunk at a time, and the estimators hold BLAS to one
# thread (threadpoolctl) while a kernel runs, so the machine is never
# oversubscribed.

from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm_abt(
    int m, int n, int k,
    floating alpha, const floating* a, int lda,
    const floating* b, int ldb,
    floating beta, floating* c, int ldc,
) noexcept nogil:
    """c[:m, :n] = alpha * a[:m, :k] @ b[:n, :k].T + beta * c, all row-major.

    BLAS is column-major: a row-major (m, n) matrix is its (n, m) transpose,
    so c.T = b @ a.T, which is gemm('T', 'N') with the operands swapped.
    """
    cdef char trans_b = b'T'
    cdef char trans_a = b'N'
    if floating is float:
        sgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <float*> b, &ldb,
              <float*> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <double*> b, &ldb,
              <double*> a, &lda, &beta, c, &ldc)
