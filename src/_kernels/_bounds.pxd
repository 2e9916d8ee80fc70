# One chunk of a bounded Lloyd pass: the step that _lloyd.lloyd_iter runs in
# parallel over chunks.
# See _lloyd.pyx for the bounds (Hamerly 2010, Elkan 2003) and what they keep:
#   upper[i]              >= d(x_i, c_{labels[i]})
#   second[i] - max_drift <= d(x_i, c_j) for every j != labels[i]

from cython cimport floating
from libc.math cimport sqrt, INFINITY

from _distances cimport (
    pending_center_scores, score_lower_bound, score_row_nearest_two, sq_euclidean,
    sq_norm,
)
from _sums cimport add_to_cluster, count_changed


cdef inline Py_ssize_t sieve_by_bounds(
    Py_ssize_t chunk,               # first sample of the chunk
    Py_ssize_t n_rows,              # samples in the chunk
    const int* labels,              # IN (n_samples,) -1: no bound yet
    floating* upper,                # INOUT (n_samples,) moved by its center's shift
    const floating* second,         # IN (n_samples,) offset by max_drift
    const double* shift,            # IN (n_clusters,) last move of each center
    double max_drift,               # IN sum over updates of the largest move
    const double* nearest_half_dist,  # IN (n_clusters,)
    Py_ssize_t* pending,            # OUT (CHUNK_SIZE,) the samples left, in order
    double* bounds,                 # OUT (CHUNK_SIZE,) their lower bounds
) noexcept nogil:
    """The first pass of a chunk's bound test: returns how many samples the
    bounds do not settle (upper > max(second - max_drift, half the distance
    from the own center to its nearest other)), listed without a branch:
    whether a sample is settled is a coin toss for the branch predictor."""
    cdef Py_ssize_t n_left = 0, i, s, label
    cdef double u, bound
    for i in range(n_rows):
        s = chunk + i
        label = labels[s]
        if label < 0:
            # The first pass: every sample.
            u = INFINITY
            bound = -INFINITY
        else:
            u = upper[s] + shift[label]
            upper[s] = <floating> u
            bound = second[s] - max_drift
            if nearest_half_dist[label] > bound:
                bound = nearest_half_dist[label]
        pending[n_left] = s
        bounds[n_left] = bound
        n_left = n_left + (u > bound)
    return n_left


cdef inline void bounded_lloyd_chunk(
    const floating* X,              # IN (n_samples, n_features), row-major
    const floating* sample_weight,  # IN (n_samples,)
    Py_ssize_t chunk,               # first sample of the chunk
    Py_ssize_t n_rows,              # samples in the chunk
    const floating* centers,        # IN (n_clusters, n_features)
    const floating* center_sq_norms,  # IN (n_clusters,)
    const double* nearest_half_dist,  # IN (n_clusters,)
    const double* shift,            # IN (n_clusters,) last move of each center
    double max_drift,               # IN sum over updates of the largest move
    floating* upper,                # INOUT (n_samples,)
    floating* second,               # INOUT (n_samples,) offset by max_drift
    int* labels,                    # INOUT (n_samples,) -1 on the first pass
    Py_ssize_t n_clusters,
    Py_ssize_t n_features,
    double* part,                   # INOUT cluster partial row (see _sums.pxd)
    Py_ssize_t stride,              # its length
    floating* scores,               # scratch (CHUNK_SIZE, n_clusters)
    floating* rows,                 # scratch (CHUNK_SIZE, n_features)
    Py_ssize_t* pending,            # scratch (CHUNK_SIZE,)
    double* bounds,                 # scratch (CHUNK_SIZE,)
) noexcept nogil:
    """Labels and bounds of the chunk's samples, and their cluster sums."""
    cdef Py_ssize_t n_left, n_pending, i, s, label, runner_up
    cdef double u, bound, dist
    cdef floating next_best

    # 1. Which samples may have a new nearest center? Sieved in two passes,
    #    each listing the samples left for the next without a branch.
    n_left = sieve_by_bounds(chunk, n_rows, labels, upper, second, shift, max_drift,
                             nearest_half_dist, pending, bounds)
    # Make the upper bounds of those exact and test again.
    n_pending = 0
    for i in range(n_left):
        s = pending[i]
        label = labels[s]
        u = INFINITY
        if label >= 0:
            u = sqrt(sq_euclidean(X + s * n_features, centers + label * n_features,
                                  n_features))
            upper[s] = <floating> u
        pending[n_pending] = s
        n_pending = n_pending + (u > bounds[i])

    # 2. Distances of those samples to every center, one GEMM; both bounds
    #    become exact.
    if n_pending > 0:
        pending_center_scores(X, chunk, n_rows, pending, n_pending, centers,
                              center_sq_norms, n_clusters, n_features, rows, scores)
        for i in range(n_pending):
            s = pending[i]
            label = score_row_nearest_two(scores + i * n_clusters, n_clusters,
                                          &runner_up, &next_best)
            upper[s] = <floating> sqrt(
                sq_euclidean(X + s * n_features, centers + label * n_features,
                             n_features))
            dist = INFINITY
            if runner_up >= 0:
                dist = score_lower_bound(next_best, sq_norm(X + s * n_features, n_features),
                                         center_sq_norms[runner_up], n_features)
            second[s] = <floating> (dist + max_drift)
            if labels[s] != label:
                labels[s] = <int> label
                count_changed(part, stride)

    # 3. Every sample counts in its cluster's sum.
    for i in range(n_rows):
        s = chunk + i
        add_to_cluster(part, X + s * n_features, sample_weight[s], labels[s],
                       n_clusters, n_features)
