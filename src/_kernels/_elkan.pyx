# One Elkan iteration: Lloyd's assignment and sums, skipping the distances that
# the triangle inequality rules out. Cost: O(n_samples x n_features) for the sums
# plus one distance per bound that fails; memory O(n_samples x n_clusters).
#
# Bounds kept per sample i (Elkan 2003, with two economies):
#   upper[i]     >= d(x_i, c_{labels[i]})
#   lower[i, j]  - drift[j]  <= d(x_i, c_j)      (lazy lower bounds)
#   second[i]    - max_drift <= d(x_i, c_j) for every j != labels[i]
# drift[j] is the total distance center j has moved since the start and
# max_drift the sum over iterations of the largest move. Storing bounds offset
# by the drift means a center's move ages every bound without rewriting the
# (n_samples, n_clusters) array: an iteration only reads it, and writes the
# few entries it recomputes. `second` (Hamerly's bound) lets most samples skip
# their row of lower bounds altogether once the centers settle.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.float cimport FLT_EPSILON, DBL_EPSILON
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free

from ._reduce cimport (
    CHUNK_SIZE, ChunkPlan, plan_chunks, group_start, group_stop,
    group_first_chunk, group_end_chunk,
    alloc_partials,
)
from ._distances cimport block_center_scores, row_argmin, sq_euclidean
from ._sums cimport (
    add_to_cluster, count_changed, cluster_partial_size, finish_cluster_sums,
)


def elkan_init(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers,
    const floating[::1] center_sq_norms,
    floating[::1] upper,
    floating[:, ::1] lower,
    floating[::1] second,
    double[:, ::1] sums,
    double[::1] weight_in_clusters,
    int[::1] labels,
    int n_threads,
):
    """First Elkan iteration: all distances by GEMM, bounds set, clusters summed.

    GEMM distances carry a rounding error of at most about
    (n_features + 2) * eps * (||x||^2 + ||c||^2); the lower bounds are lowered by
    twice that so that they stay bounds.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    centers : (n_clusters, n_features)          # IN
    center_sq_norms : (n_clusters,)             # IN
    upper : (n_samples,)                        # OUT
    lower : (n_samples, n_clusters)             # OUT
    second : (n_samples,)                       # OUT
    sums : (n_clusters, n_features)             # OUT
    weight_in_clusters : (n_clusters,)          # OUT
    labels : (n_samples,)                       # OUT
    n_threads : int

    Returns
    -------
    n_changed : int
        n_samples: every label is new.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = centers.shape[0]
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* partials = alloc_partials(plan, stride)
    cdef double margin_scale = 2.0 * (n_features + 2) * (
        FLT_EPSILON if floating is float else DBL_EPSILON)
    cdef floating* scores
    cdef double* part
    cdef Py_ssize_t g, c, chunk, n_rows, i, s, j, f, label
    cdef double x_sq, sq, bound, nearest_other, u
    cdef long n_changed

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=n_threads):
        scores = <floating*> malloc(CHUNK_SIZE * n_clusters * sizeof(floating))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * stride
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
                block_center_scores(&X[chunk, 0], n_rows, &centers[0, 0],
                                    &center_sq_norms[0], n_clusters, n_features,
                                    scores)
                for i in range(n_rows):
                    s = chunk + i
                    x_sq = 0.0
                    for f in range(n_features):
                        x_sq = x_sq + X[s, f] * X[s, f]
                    label = row_argmin(scores + i * n_clusters, n_clusters)
                    nearest_other = INFINITY
                    for j in range(n_clusters):
                        sq = scores[i * n_clusters + j] + x_sq - margin_scale * (
                            x_sq + center_sq_norms[j])
                        bound = sqrt(sq) if sq > 0.0 else 0.0
                        lower[s, j] = <floating> bound
                        if j != label and bound < nearest_other:
                            nearest_other = bound
                    u = sqrt(sq_euclidean(&X[s, 0], &centers[label, 0], n_features))
                    lower[s, label] = <floating> u
                    upper[s] = <floating> u
                    second[s] = <floating> nearest_other
                    labels[s] = <int> label
                    add_to_cluster(part, &X[s, 0], sample_weight[s], label,
                                   n_clusters, n_features)
        free(scores)

    n_changed = finish_cluster_sums(partials, plan, n_clusters, n_features,
                                    &sums[0, 0], &weight_in_clusters[0], n_threads)
    free(partials)
    if n_changed < 0:
        raise MemoryError()
    return n_samples


def elkan_iter(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers,
    const double[:, ::1] half_center_dists,
    const double[::1] nearest_half_dist,
    const double[::1] shift,
    const double[::1] drift,
    double max_drift,
    floating[::1] upper,
    floating[:, ::1] lower,
    floating[::1] second,
    double[:, ::1] sums,
    double[::1] weight_in_clusters,
    int[::1] labels,
    int n_threads,
):
    """One Elkan iteration after the centers moved by `shift`.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    centers : (n_clusters, n_features)          # IN  current centers
    half_center_dists : (n_clusters, n_clusters)  # IN  d(c_a, c_b) / 2
    nearest_half_dist : (n_clusters,)           # IN  min over b != a of the above
    shift : (n_clusters,)                       # IN  move of each center in the last update
    drift : (n_clusters,)                       # IN  total move of each center so far
    max_drift : float                           # IN  sum over updates of the largest move
    upper : (n_samples,)                        # INOUT
    lower : (n_samples, n_clusters)             # INOUT offset by drift
    second : (n_samples,)                       # INOUT offset by max_drift
    sums : (n_clusters, n_features)             # OUT
    weight_in_clusters : (n_clusters,)          # OUT
    labels : (n_samples,)                       # INOUT
    n_threads : int

    Returns
    -------
    n_changed : int
        How many labels changed.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = centers.shape[0]
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* partials = alloc_partials(plan, stride)
    cdef double* part
    cdef Py_ssize_t g, s, j, label, old_label
    cdef double u, bound, lj, hj, dj, nearest_other
    cdef long n_changed

    if partials == NULL:
        raise MemoryError()

    for g in prange(plan.n_groups, nogil=True, num_threads=n_threads,
                    schedule='dynamic'):
        part = partials + g * stride
        for s in range(group_start(plan, g), group_stop(plan, g)):
            label = labels[s]
            old_label = label
            u = upper[s] + shift[label]
            bound = second[s] - max_drift
            if nearest_half_dist[label] > bound:
                bound = nearest_half_dist[label]
            if u > bound:
                # The cheap test failed: make the upper bound exact and retry.
                u = sqrt(sq_euclidean(&X[s, 0], &centers[label, 0], n_features))
                lower[s, label] = <floating> (u + drift[label])
                if u > bound:
                    for j in range(n_clusters):
                        if j == label or u <= half_center_dists[label, j]:
                            continue
                        if u <= lower[s, j] - drift[j]:
                            continue
                        dj = sqrt(sq_euclidean(&X[s, 0], &centers[j, 0], n_features))
                        lower[s, j] = <floating> (dj + drift[j])
                        if dj < u:
                            label = j
                            u = dj
                    # Lower bound on every other center: its own bound, or the
                    # triangle inequality through the (exact) nearest center.
                    nearest_other = INFINITY
                    for j in range(n_clusters):
                        if j == label:
                            continue
                        lj = lower[s, j] - drift[j]
                        hj = 2.0 * half_center_dists[label, j] - u
                        if hj > lj:
                            lj = hj
                        if lj < nearest_other:
                            nearest_other = lj
                    second[s] = <floating> (nearest_other + max_drift)
                    if label != old_label:
                        labels[s] = <int> label
                        count_changed(part, stride)
            upper[s] = <floating> u
            add_to_cluster(part, &X[s, 0], sample_weight[s], label,
                           n_clusters, n_features)

    n_changed = finish_cluster_sums(partials, plan, n_clusters, n_features,
                                    &sums[0, 0], &weight_in_clusters[0], n_threads)
    free(partials)
    if n_changed < 0:
        raise MemoryError()
    return n_changed
