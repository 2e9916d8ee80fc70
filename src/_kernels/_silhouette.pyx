# Silhouette: for every sample, the sum of its Euclidean distances to the
# members of each cluster, without an n x n matrix. Samples come sorted by
# cluster, so that a cluster's members are one run of columns: a tile of
# ROW_BLOCK rows x COL_BLOCK columns of distances (one GEMM, then the square
# roots in place) is summed run by run and dropped. Cost: O(n^2 n_features)
# time, O(n n_clusters) for the sums plus one tile per thread.
#
# Each row belongs to one thread and adds its tiles in column order, each
# run in column order, in float64: the sums do not depend on the number of
# threads.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

from _blas cimport gemm_abt
from _reduce cimport team_size

cdef enum:
    # Rows of a tile, and its columns: 64 x 2048 float64 distances are 1 MiB,
    # which stays in L2 while its runs are summed.
    ROW_BLOCK = 64
    COL_BLOCK = 2048


cdef extern from "_simd.h" nogil:
    void tile_distances_f "turbocluster_tile_distances_f"(
        float* row, Py_ssize_t n_cols, float x_sq, const float* col_sq)
    void tile_distances_d "turbocluster_tile_distances_d"(
        double* row, Py_ssize_t n_cols, double x_sq, const double* col_sq)
    void tile_distances_d_as_f "turbocluster_tile_distances_d_as_f"(
        double* row, Py_ssize_t n_cols, double x_sq, const double* col_sq)


# For the caller that cuts the pass into slabs of whole row blocks.
ROWS_PER_BLOCK = ROW_BLOCK

def cluster_distance_sums(
    const floating[:, ::1] X,
    const floating[::1] x_sq_norms,
    const Py_ssize_t[::1] cluster_start,
    double[:, ::1] out,
    bint float32_distances,
    Py_ssize_t row_start,
    Py_ssize_t row_stop,
    int n_threads,
):
    """out[i, c] = sum of ||x_i - x_j|| over the samples j of cluster c, for
    the rows row_start <= i < row_stop.

    The distance of a sample to itself counts as 0 exactly. With
    float32_distances (float64 X only), each distance is rounded as a float32
    distance is before it is added (see tile_distances_d_as_f, _simd.h).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN sorted by cluster
    x_sq_norms : (n_samples,)                   # IN squared norms of the rows
    cluster_start : (n_clusters + 1,)           # IN first row of each cluster, then
                                                #     n_samples
    out : (n_samples, n_clusters)               # OUT rows row_start..row_stop - 1
    float32_distances : bool
    row_start, row_stop : int                   # the rows to compute: the caller
                                                #     cuts the O(n^2) pass into
                                                #     slabs, so Ctrl-C stops it
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = cluster_start.shape[0] - 1
    cdef Py_ssize_t n_row_blocks = (row_stop - row_start + ROW_BLOCK - 1) // ROW_BLOCK
    cdef Py_ssize_t b, r0, n_rows, col_block, c0, n_cols, r, i, j, c, first, stop
    cdef Py_ssize_t cluster
    cdef floating* tile
    cdef floating* row
    cdef double total

    with nogil, parallel(num_threads=team_size(n_threads, n_row_blocks)):
        tile = <floating*> malloc(ROW_BLOCK * COL_BLOCK * sizeof(floating))
        for b in prange(n_row_blocks, schedule='dynamic'):
            r0 = row_start + b * ROW_BLOCK
            n_rows = min(<Py_ssize_t> ROW_BLOCK, row_stop - r0)
            for r in range(n_rows):
                for cluster in range(n_clusters):
                    out[r0 + r, cluster] = 0.0
            for col_block in range((n_samples + COL_BLOCK - 1) // COL_BLOCK):
                c0 = col_block * COL_BLOCK
                n_cols = min(<Py_ssize_t> COL_BLOCK, n_samples - c0)
                gemm_abt(<int> n_rows, <int> n_cols, <int> n_features, -2.0,
                         &X[r0, 0], <int> n_features, &X[c0, 0], <int> n_features,
                         0.0, tile, <int> n_cols)
                # The first cluster with members among these columns.
                cluster = 0
                while cluster_start[cluster + 1] <= c0:
                    cluster = cluster + 1
                for r in range(n_rows):
                    i = r0 + r
                    row = tile + r * n_cols
                    if floating is float:
                        tile_distances_f(row, n_cols, x_sq_norms[i], &x_sq_norms[c0])
                    elif float32_distances:
                        tile_distances_d_as_f(row, n_cols, x_sq_norms[i], &x_sq_norms[c0])
                    else:
                        tile_distances_d(row, n_cols, x_sq_norms[i], &x_sq_norms[c0])
                    if c0 <= i < c0 + n_cols:
                        row[i - c0] = 0
                    c = cluster
                    first = c0
                    while first < c0 + n_cols:
                        stop = min(cluster_start[c + 1], c0 + n_cols)
                        total = 0.0
                        for j in range(first - c0, stop - c0):
                            total = total + row[j]
                        out[i, c] += total
                        first = stop
                        c = c + 1
        free(tile)
