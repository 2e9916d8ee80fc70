from cython cimport floating

# Per-cluster weighted sums, the M-step shared by Lloyd and Elkan.
# A group's partial row holds the sums (n_clusters x n_features), then the
# weights (n_clusters), then the number of labels that changed.

from libc.stdlib cimport malloc, free

from _reduce cimport ChunkPlan, sum_partials_in_order


cdef inline Py_ssize_t cluster_partial_size(Py_ssize_t n_clusters,
                                            Py_ssize_t n_features) noexcept nogil:
    return n_clusters * n_features + n_clusters + 1


cdef inline void add_to_cluster(
    double* part, const floating* x, double w, Py_ssize_t label,
    Py_ssize_t n_clusters, Py_ssize_t n_features,
) noexcept nogil:
    """Add w * x to a cluster's running sum and w to its weight."""
    cdef Py_ssize_t f
    cdef double* row = part + label * n_features
    for f in range(n_features):
        row[f] = row[f] + w * x[f]
    part[n_clusters * n_features + label] = part[n_clusters * n_features + label] + w


cdef inline void add_cluster_weight(
    double* part, double w, Py_ssize_t label,
    Py_ssize_t n_clusters, Py_ssize_t n_features,
) noexcept nogil:
    """Add w to a cluster's weight only. A pass that sums the features by
    some other plan (by blocks of features, _csr.pyx) uses partials of
    n_features = 0: the weights, then the number of changed labels."""
    part[n_clusters * n_features + label] = part[n_clusters * n_features + label] + w


cdef inline void count_changed(double* part, Py_ssize_t stride) noexcept nogil:
    part[stride - 1] = part[stride - 1] + 1.0


cdef inline long finish_cluster_sums(
    const double* partials, ChunkPlan plan,
    Py_ssize_t n_clusters, Py_ssize_t n_features,
    double* sums,                 # OUT (n_clusters, n_features), row-major
    double* weight_in_clusters,   # OUT (n_clusters,)
    int n_threads,
) noexcept nogil:
    """Add the group partials in group order; return how many labels changed.

    Returns -1 if the scratch buffer cannot be allocated.
    """
    cdef Py_ssize_t j
    cdef Py_ssize_t n_sums = n_clusters * n_features
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef double* totals = <double*> malloc(stride * sizeof(double))
    cdef long n_changed
    if totals == NULL:
        return -1
    sum_partials_in_order(partials, plan.n_groups, stride, stride, totals, n_threads)
    for j in range(n_sums):
        sums[j] = totals[j]
    for j in range(n_clusters):
        weight_in_clusters[j] = totals[n_sums + j]
    n_changed = <long> totals[stride - 1]
    free(totals)
    return n_changed
