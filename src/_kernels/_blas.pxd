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


from scipy.linalg.cython_blas cimport ssyrk, dsyrk


cdef inline void gemm_ab(
    int m, int n, int k,
    floating alpha, const floating* a, int lda,
    const floating* b, int ldb,
    floating beta, floating* c, int ldc,
) noexcept nogil:
    """c[:m, :n] = alpha * a[:m, :k] @ b[:k, :n] + beta * c, all row-major.

    Column-major, c.T = b.T @ a.T: gemm('N', 'N') with the operands swapped.
    """
    cdef char no_trans = b'N'
    if floating is float:
        sgemm(&no_trans, &no_trans, &n, &m, &k, &alpha, <float*> b, &ldb,
              <float*> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&no_trans, &no_trans, &n, &m, &k, &alpha, <double*> b, &ldb,
              <double*> a, &lda, &beta, c, &ldc)


cdef inline void syrk_ata_lower(
    int n, int k, floating alpha, const floating* a, int lda,
    floating beta, floating* c, int ldc,
) noexcept nogil:
    """Lower triangle of c[:n, :n] = alpha * a[:k, :n].T @ a[:k, :n] + beta * c,
    all row-major; the strict upper triangle of c is left as it was.

    Column-major, a is its (n, k) transpose and c.T = c: syrk('U', 'N') on
    a fills the column-major upper triangle, which is the row-major lower one.
    """
    cdef char upper = b'U'
    cdef char no_trans = b'N'
    if floating is float:
        ssyrk(&upper, &no_trans, &n, &k, &alpha, <float*> a, &lda, &beta, c, &ldc)
    else:
        dsyrk(&upper, &no_trans, &n, &k, &alpha, <double*> a, &lda, &beta, c, &ldc)
