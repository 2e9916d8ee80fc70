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
from libc.float cimport FLT_EPSILON, DBL_EPSILON
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_first_chunk,
    group_end_chunk, alloc_partials,
)
from _distances cimport block_center_scores, gather_rows, sq_euclidean, sq_norm
from _sums cimport (
    add_to_cluster, count_changed, cluster_partial_size, finish_cluster_sums,
)


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
    # GEMM distances are off by at most about (n_features + 2) eps (|x|^2 + |c|^2):
    # lower bounds taken from them are lowered by twice that.
    cdef double margin_scale = 2.0 * (n_features + 2) * (
        FLT_EPSILON if floating is float else DBL_EPSILON)
    cdef floating* scores
    cdef floating* rows
    cdef Py_ssize_t* pending
    cdef const floating* block
    cdef const floating* score_row
    cdef double* part
    cdef Py_ssize_t g, c, chunk, n_rows, n_pending, i, j, s, label, runner_up
    cdef double u, bound, x_sq, best, next_best, dist
    cdef long n_changed

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        scores = <floating*> malloc(CHUNK_SIZE * n_clusters * sizeof(floating))
        rows = <floating*> malloc(CHUNK_SIZE * n_features * sizeof(floating))
        pending = <Py_ssize_t*> malloc(CHUNK_SIZE * sizeof(Py_ssize_t))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * stride
            for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
                chunk = c * CHUNK_SIZE
                n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)

                # 1. Which samples may have a new nearest center?
                n_pending = 0
                for i in range(n_rows):
                    s = chunk + i
                    label = labels[s]
                    if label < 0:
                        pending[n_pending] = s
                        n_pending = n_pending + 1
                        continue
                    u = upper[s] + shift[label]
                    bound = second[s] - max_drift
                    if nearest_half_dist[label] > bound:
                        bound = nearest_half_dist[label]
                    if u > bound:
                        # Make the upper bound exact and test again.
                        u = sqrt(sq_euclidean(&X[s, 0], &centers[label, 0], n_features))
                        if u > bound:
                            pending[n_pending] = s
                            n_pending = n_pending + 1
                    upper[s] = <floating> u

                # 2. Distances of those samples to every center, one GEMM;
                #    both bounds become exact.
                if n_pending > 0:
                    if n_pending == n_rows:
                        block = &X[chunk, 0]
                    else:
                        gather_rows(&X[0, 0], pending, n_pending, n_features, rows)
                        block = rows
                    block_center_scores(block, n_pending, &centers[0, 0],
                                        &center_sq_norms[0], n_clusters, n_features,
                                        scores)
                    for i in range(n_pending):
                        s = pending[i]
                        score_row = scores + i * n_clusters
                        label = 0
                        runner_up = -1
                        best = score_row[0]
                        next_best = INFINITY
                        for j in range(1, n_clusters):
                            if score_row[j] < best:
                                next_best = best
                                runner_up = label
                                best = score_row[j]
                                label = j
                            elif score_row[j] < next_best:
                                next_best = score_row[j]
                                runner_up = j
                        upper[s] = <floating> sqrt(
                            sq_euclidean(&X[s, 0], &centers[label, 0], n_features))
                        dist = INFINITY
                        if runner_up >= 0:
                            x_sq = sq_norm(&X[s, 0], n_features)
                            dist = next_best + x_sq - margin_scale * (
                                x_sq + center_sq_norms[runner_up])
                            dist = sqrt(dist) if dist > 0.0 else 0.0
                        second[s] = <floating> (dist + max_drift)
                        if labels[s] != label:
                            labels[s] = <int> label
                            count_changed(part, stride)

                # 3. Every sample counts in its cluster's sum.
                for i in range(n_rows):
                    s = chunk + i
                    add_to_cluster(part, &X[s, 0], sample_weight[s], labels[s],
                                   n_clusters, n_features)
        free(scores)
        free(rows)
        free(pending)

    n_changed = finish_cluster_sums(partials, plan, n_clusters, n_features,
                                    &sums[0, 0], &weight_in_clusters[0], n_threads)
    free(partials)
    if n_changed < 0:
        raise MemoryError()
    return n_changed
