# One Lloyd iteration: nearest center of every sample, and per-cluster sums.
# Cost: a GEMM row (n_clusters x n_features) per sample whose nearest center
# may have changed, O(n_features) for every other; O(n_samples) extra memory.
#
# Lloyd's iterates with less work. Two bounds per sample (Hamerly, "Making
# k-means even faster", 2010) and the half-distance from each center to its
# nearest other (Elkan, "Using the triangle inequality to accelerate k-means",
# 2003, lemma 1) show which samples cannot have changed cluster since the
# last pass:
#   upper[i]              >= d(x_i, c_{labels[i]})
#   second[i] - max_drift <= d(x_i, c_j) for every j != labels[i]
# max_drift is the sum over updates of the largest center move: storing the
# second bound offset by it ages every bound without rewriting it. Only the
# other samples get their distances to all centers, by one GEMM per chunk on
# their gathered rows, which also makes both of their bounds exact. The first
# pass (labels == -1) computes all of them.
#
# Elkan's per-(sample, center) bounds were tried on top of these and measured
# slower than the GEMM rows they save on every shape tried but the widest
# (d=512): writing an n_samples x n_clusters array once costs more than a
# dozen passes, and a sample those bounds settle keeps a loose second bound.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_first_chunk,
    group_end_chunk, alloc_partials,
)
from _bounds cimport bounded_lloyd_chunk
from _sums cimport cluster_partial_size, finish_cluster_sums


def lloyd_iter(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers,
    const floating[::1] center_sq_norms,
    const double[::1] nearest_half_dist,
    const double[::1] shift,
    double max_drift,
    floating[::1] upper,
    floating[::1] second,
    double[:, ::1] sums,
    double[::1] weight_in_clusters,
    int[::1] labels,
    int n_threads,
):
    """Assign samples to their nearest center and sum each cluster.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    centers : (n_clusters, n_features)          # IN
    center_sq_norms : (n_clusters,)             # IN  squared norms of centers
    nearest_half_dist : (n_clusters,)           # IN  half the distance from each
                                                #     center to its nearest other
    shift : (n_clusters,)                       # IN  move of each center in the
                                                #     last update (zeros at first)
    max_drift : float                           # IN  sum over updates of the
                                                #     largest move
    upper : (n_samples,)                        # INOUT
    second : (n_samples,)                       # INOUT offset by max_drift
    sums : (n_clusters, n_features)             # OUT weighted sum of each cluster
    weight_in_clusters : (n_clusters,)          # OUT total weight of each cluster
    labels : (n_samples,)                       # INOUT -1 on the first pass
    n_threads : int

    Returns
    -------
    n_changed : int
        How many labels differ from the ones passed in.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = centers.shape[0]
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* partials = alloc_partials(plan, stride)
    cdef floating* scores
    cdef floating* rows
    cdef Py_ssize_t* pending
    cdef double* bounds
    cdef double* part
    cdef Py_ssize_t g, c, chunk
    cdef long n_changed

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        scores = <floating*> malloc(CHUNK_SIZE * n_clusters * sizeof(floating))
        rows = <floating*> malloc(CHUNK_SIZE * n_features * sizeof(floating))
        pending = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        bounds = <double*> malloc(CHUNK_SIZE * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * stride
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                bounded_lloyd_chunk(
                    &X[0, 0], &sample_weight[0], chunk,
                    min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk), &centers[0, 0],
                    &center_sq_norms[0], &nearest_half_dist[0], &shift[0], max_drift,
                    &upper[0], &second[0], &labels[0], n_clusters, n_features,
                    part, stride, scores, rows, pending, bounds)
        free(scores)
        free(rows)
        free(pending)
        free(bounds)

    n_changed = finish_cluster_sums(partials, plan, n_clusters, n_features,
                                    &sums[0, 0], &weight_in_clusters[0], n_threads)
    free(partials)
    if n_changed < 0:
        raise MemoryError()
    return n_changed
