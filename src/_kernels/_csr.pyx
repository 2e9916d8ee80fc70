# K-means passes on CSR samples (data, indices, indptr) and dense centers:
# Lloyd's assignment and cluster sums, labels and inertia, distances to the
# centers, and the k-means++ candidate scores. Cost: O(nnz x n_clusters) per
# pass (O(nnz x n_local_trials) per k-means++ step); memory O(n_clusters x
# n_features) besides X, which is never densified.
#
# Lloyd, "Least squares quantization in PCM" (1982); Arthur and Vassilvitskii,
# "k-means++: the advantages of careful seeding" (2007), greedy variant as in
# scikit-learn. Unlike _lloyd.pyx, no triangle-inequality bounds: every
# pass computes every dot product (bounds are not tried on sparse data yet).
#
# The dot products <x, c_j> of a sample with all centers come from the
# transposed centers C^T (n_features, n_padded, zero-padded to whole blocks):
# each nonzero x_f adds x_f * C^T[f, :], contiguous, so a sample costs nnz(x)
# short vector updates instead of n_clusters gathers over its indices (the
# per-center loop of scikit-learn's _update_chunk_sparse); a row of C^T is in
# cache for every sample that has that feature. Products and sums are in
# double, added in the order of the nonzeros, without FMA (_csr_dots.h): for
# float64 data, scikit-learn's arithmetic, so the nearest centers are the
# same. Left to GCC (-fassociative-math) the plain loop was vectorized across
# nonzeros, gathering lanes and adding products in pairs: 1.6x slower (a
# Lloyd iteration of the 50,000 x 20,000, 0.1% benchmark: 4.7 ms against 2.9
# ms on one thread). Contracting into FMA measured no faster.
#
# Squared distances that are reported (inertia, transform, relocation) are
# summed over the nonzeros only,
#   ||x - c||^2 = sum_{f in nnz(x)} [(x_f - c_f)^2 - c_f^2] + ||c||^2,
# clipped at 0, in double: no ||x||^2 term, so the rounding error is
# O(eps (d^2 + ||c||^2)) where the expansion ||x||^2 - 2 <x, c> + ||c||^2
# has O(eps (||x||^2 + ||c||^2)); it is also the formula of scikit-learn's
# _euclidean_sparse_dense. The k-means++ scores alone use the expansion,
# scikit-learn's formula there, so that the draws are the same.
#
# The cluster sums of a Lloyd iteration are not reduced from per-group
# buffers (n_groups x n_clusters x n_features doubles would exceed X itself on
# wide data): the features are cut into blocks and each block sums its own
# columns of every cluster over all samples, in sample order. Every sum is
# then a sequential sum whatever the blocks and threads, so the result is
# bit-identical for any number of threads, and the only memory is the output.
# Where each block starts in each row is found once per fit, by binary
# search (block_starts: (n_blocks - 1) x n_samples int32, one block per
# thread), which needs sorted indices: callers pass canonical CSR (sorted, no
# duplicates, int32 indices; see _kmeans_sparse._kernel_csr). Searching in
# every iteration instead cost more than the sums themselves (mispredicted
# branches, ~25 ns a row and block). The per-cluster weights and the number
# of changed labels go through the chunked reduction of _reduce.pxd.
#
# An all-zero X stores no value, and a k-means++ candidate with no nonzero
# has no feature: the kernels then pass NULL for the empty data, indices or
# candidate table (nothing is read through them: every row is empty, every
# slot -1) rather than &a[0], which indexes past an empty buffer.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_start, group_stop,
    alloc_partials, sum_partials_in_order,
)
from _sums cimport (
    add_cluster_weight, count_changed, cluster_partial_size, finish_cluster_sums,
)


cdef extern from "_csr_dots.h" nogil:
    enum: CSR_BLOCK "TURBOCLUSTER_CSR_BLOCK"
    void csr_dots_f "turbocluster_csr_dots_f"(
        const float* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
        const float* centers_t, Py_ssize_t n_padded, double* dots)
    void csr_dots_d "turbocluster_csr_dots_d"(
        const double* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
        const double* centers_t, Py_ssize_t n_padded, double* dots)
    void csr_sparse_dots_f "turbocluster_csr_sparse_dots_f"(
        const float* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
        const int* slot, const float* rows, Py_ssize_t n_padded, double* dots)
    void csr_sparse_dots_d "turbocluster_csr_sparse_dots_d"(
        const double* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
        const int* slot, const double* rows, Py_ssize_t n_padded, double* dots)


def n_chunks(Py_ssize_t n_samples):
    """Number of chunks of CHUNK_SIZE rows that the passes cut n_samples into."""
    return (n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE


def padded_width(Py_ssize_t n_centers):
    """Columns of the transposed centers the kernels take: n_centers rounded
    up to whole blocks of CSR_BLOCK (_csr_dots.h), the extra columns zero."""
    return (n_centers + CSR_BLOCK - 1) // CSR_BLOCK * CSR_BLOCK


###############################################################################
# Per-row helpers


cdef inline void row_dots(
    const floating* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
    const floating* centers_t,    # IN (n_features, n_padded), row-major
    Py_ssize_t n_padded,          # a multiple of CSR_BLOCK
    double* dots,                 # OUT (n_padded,)
) noexcept nogil:
    """dots[j] = <x, c_j>, the products added in the order of x's nonzeros,
    in double (see _csr_dots.h)."""
    if floating is float:
        csr_dots_f(data, indices, start, end, centers_t, n_padded, dots)
    else:
        csr_dots_d(data, indices, start, end, centers_t, n_padded, dots)


cdef inline void row_sparse_dots(
    const floating* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
    const int* slot,              # IN (n_features,) row of each feature in rows, or -1
    const floating* rows,         # IN (n_slots, n_padded), row-major
    Py_ssize_t n_padded,
    double* dots,                 # OUT (n_padded,)
) noexcept nogil:
    """row_dots for sparse centers given as a compact table (_csr_dots.h)."""
    if floating is float:
        csr_sparse_dots_f(data, indices, start, end, slot, rows, n_padded, dots)
    else:
        csr_sparse_dots_d(data, indices, start, end, slot, rows, n_padded, dots)


cdef inline Py_ssize_t nearest_center(
    const double* dots, const double* center_sq_norms, Py_ssize_t n_centers,
) noexcept nogil:
    """argmin_j ||c_j||^2 - 2 <x, c_j>; ties go to the lowest index."""
    cdef Py_ssize_t j, best = 0
    cdef double score, best_score = center_sq_norms[0] - 2.0 * dots[0]
    for j in range(1, n_centers):
        score = center_sq_norms[j] - 2.0 * dots[j]
        if score < best_score:
            best_score = score
            best = j
    return best


cdef inline double sq_dist_to(
    const floating* data, const int* indices, Py_ssize_t start, Py_ssize_t end,
    const floating* center,       # IN: c_f is center[f * stride]
    Py_ssize_t stride,
    double center_sq_norm,
) noexcept nogil:
    """||x - c||^2 over x's nonzeros (see the file's header), clipped at 0."""
    cdef Py_ssize_t p
    cdef double c, diff, total = 0.0
    for p in range(start, end):
        c = center[<Py_ssize_t> indices[p] * stride]
        diff = data[p] - c
        total = total + (diff * diff - c * c)
    total = total + center_sq_norm
    return total if total > 0.0 else 0.0


cdef inline Py_ssize_t lower_bound(
    const int* indices, Py_ssize_t lo, Py_ssize_t hi, int value,
) noexcept nogil:
    """First p in [lo, hi) with indices[p] >= value (hi if none); sorted indices."""
    cdef Py_ssize_t mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if indices[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


###############################################################################
# Lloyd


def block_starts(
    const int[::1] indices,
    const int[::1] indptr,
    const Py_ssize_t[::1] feature_bounds,
    int[:, ::1] starts,
    int n_threads,
):
    """Where each row's nonzeros of each feature block begin, once per fit.

    starts[b - 1, i] is the first position p in row i with indices[p] >=
    feature_bounds[b], for the inner bounds b = 1 .. n_blocks - 1 (found by
    binary search: sorted indices). Block b of row i is then the positions
    [start of b, start of b + 1), with indptr[i] and indptr[i + 1] at the
    ends: lloyd_iter sums a block without searching it again.

    Parameters
    ----------
    indices, indptr : CSR arrays of X           # IN  canonical, int32 indices
    feature_bounds : (n_blocks + 1,)            # IN  0 = b_0 < ... < b_n = n_features
    starts : (n_blocks - 1, n_samples)          # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_inner = starts.shape[0]
    cdef Py_ssize_t s, b
    for s in prange(n_samples, nogil=True, schedule='static', chunksize=CHUNK_SIZE,
                    num_threads=team_size(n_threads, n_samples // CHUNK_SIZE)):
        for b in range(n_inner):
            starts[b, s] = <int> lower_bound(indices_p, indptr[s], indptr[s + 1],
                                             <int> feature_bounds[b + 1])


def lloyd_iter(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers_t,
    const double[::1] center_sq_norms,
    const Py_ssize_t[::1] feature_bounds,
    const int[:, ::1] starts,
    int[::1] labels,
    double[:, ::1] sums,
    double[::1] weight_in_clusters,
    int n_threads,
):
    """Assign samples to their nearest center and sum each cluster.

    Two passes over X. The first labels every sample (argmin of
    ||c||^2 - 2 <x, c>) and sums the cluster weights by chunks; the second
    sums each cluster's samples, one block of features per task, in sample
    order (see the file's header).

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  canonical, int32 indices
    sample_weight : (n_samples,)                # IN
    centers_t : (n_features, n_padded)          # IN  the centers, transposed,
                                                #     zero-padded (padded_width)
    center_sq_norms : (n_clusters,)             # IN  squared norms of the centers
    feature_bounds : (n_blocks + 1,)            # IN  0 = b_0 < ... < b_n = n_features:
                                                #     the feature blocks of the sums
    starts : (n_blocks - 1, n_samples)          # IN  from block_starts
    labels : (n_samples,)                       # INOUT -1 on the first pass
    sums : (n_clusters, n_features)             # OUT weighted sum of each cluster
    weight_in_clusters : (n_clusters,)          # OUT total weight of each cluster
    n_threads : int

    Returns
    -------
    n_changed : int
        How many labels differ from the ones passed in.
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_clusters = center_sq_norms.shape[0]
    cdef Py_ssize_t n_padded = centers_t.shape[1]
    cdef Py_ssize_t n_blocks = feature_bounds.shape[0] - 1
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, 0)
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* partials = alloc_partials(plan, stride)
    cdef double* dots
    cdef double* part
    cdef double* row
    cdef double w
    cdef Py_ssize_t g, s, label, b, f, p, first, last
    cdef long n_changed

    if partials == NULL:
        raise MemoryError()

    # 1. Labels, cluster weights, changed labels: chunks, reduced in order.
    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        dots = <double*> malloc(n_padded * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            part = partials + g * stride
            for s in range(group_start(plan, g), group_stop(plan, g)):
                row_dots(data_p, indices_p, indptr[s], indptr[s + 1],
                         &centers_t[0, 0], n_padded, dots)
                label = nearest_center(dots, &center_sq_norms[0], n_clusters)
                if labels[s] != label:
                    labels[s] = <int> label
                    count_changed(part, stride)
                add_cluster_weight(part, sample_weight[s], label, n_clusters, 0)
        free(dots)

    n_changed = finish_cluster_sums(partials, plan, n_clusters, 0, &sums[0, 0],
                                    &weight_in_clusters[0], n_threads)
    free(partials)
    if n_changed < 0:
        raise MemoryError()

    # 2. Cluster sums: each block of features owns its columns of sums.
    with nogil:
        for b in prange(n_blocks, schedule='dynamic',
                        num_threads=team_size(n_threads, n_blocks)):
            for label in range(n_clusters):
                for f in range(feature_bounds[b], feature_bounds[b + 1]):
                    sums[label, f] = 0.0
            for s in range(n_samples):
                row = &sums[labels[s], 0]
                w = sample_weight[s]
                first = indptr[s] if b == 0 else starts[b - 1, s]
                last = indptr[s + 1] if b == n_blocks - 1 else starts[b, s]
                for p in range(first, last):
                    row[indices[p]] = row[indices[p]] + w * data[p]
    return n_changed


###############################################################################
# Fitted centers: labels, inertia, distances


def assign_labels(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers_t,
    const double[::1] center_sq_norms,
    int[::1] labels,
    bint return_inertia,
    int n_threads,
):
    """Label every sample with its nearest center; return the inertia.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  int32 indices
    sample_weight : (n_samples,)                # IN
    centers_t : (n_features, n_padded)          # IN  the centers, transposed,
                                                #     zero-padded (padded_width)
    center_sq_norms : (n_clusters,)             # IN
    labels : (n_samples,)                       # OUT
    return_inertia : bool                       # False: labels only (predict),
                                                #     which spares a gather per
                                                #     nonzero; the inertia is 0
    n_threads : int

    Returns
    -------
    inertia : float
        Sum of sample_weight times the squared distance to the nearest
        center (over the nonzeros, see the file's header), in double.
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_clusters = center_sq_norms.shape[0]
    cdef Py_ssize_t n_padded = centers_t.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, 1)
    cdef double* partials = alloc_partials(plan, 1)
    cdef double* dots
    cdef double inertia
    cdef Py_ssize_t g, s, label

    if partials == NULL:
        raise MemoryError()

    with nogil, parallel(num_threads=team_size(n_threads, plan.n_groups)):
        dots = <double*> malloc(n_padded * sizeof(double))
        for g in prange(plan.n_groups, schedule='dynamic'):
            for s in range(group_start(plan, g), group_stop(plan, g)):
                row_dots(data_p, indices_p, indptr[s], indptr[s + 1],
                         &centers_t[0, 0], n_padded, dots)
                label = nearest_center(dots, &center_sq_norms[0], n_clusters)
                labels[s] = <int> label
                if return_inertia:
                    partials[g] = partials[g] + sample_weight[s] * sq_dist_to(
                        data_p, indices_p, indptr[s], indptr[s + 1],
                        &centers_t[0, label], n_padded, center_sq_norms[label])
        free(dots)

    sum_partials_in_order(partials, plan.n_groups, 1, 1, &inertia, 1)
    free(partials)
    return inertia


def labelled_inertia(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers_t,
    const double[::1] center_sq_norms,
    const int[::1] labels,
    int n_threads,
):
    """Inertia of a given labelling: sum of w_i ||x_i - c_{labels_i}||^2.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  int32 indices
    sample_weight : (n_samples,)                # IN
    centers_t : (n_features, n_padded)          # IN  the centers, transposed,
                                                #     zero-padded (padded_width)
    center_sq_norms : (n_clusters,)             # IN
    labels : (n_samples,)                       # IN
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_padded = centers_t.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, 1)
    cdef double* partials = alloc_partials(plan, 1)
    cdef double inertia
    cdef Py_ssize_t g, s, label

    if partials == NULL:
        raise MemoryError()

    for g in prange(plan.n_groups, nogil=True, schedule='dynamic',
                    num_threads=team_size(n_threads, plan.n_groups)):
        for s in range(group_start(plan, g), group_stop(plan, g)):
            label = labels[s]
            partials[g] = partials[g] + sample_weight[s] * sq_dist_to(
                data_p, indices_p, indptr[s], indptr[s + 1],
                &centers_t[0, label], n_padded, center_sq_norms[label])

    sum_partials_in_order(partials, plan.n_groups, 1, 1, &inertia, 1)
    free(partials)
    return inertia


def assigned_sq_distances(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const floating[:, ::1] centers,
    const int[::1] labels,
    floating[::1] out,
    int n_threads,
):
    """out[i] = ||x_i - c_{labels_i}||^2, for the relocation of empty clusters.

    Takes the centers as they are (not transposed), like
    _assign.assigned_sq_distances: the caller needs no other layout.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  int32 indices
    centers : (n_clusters, n_features)          # IN
    labels : (n_samples,)                       # IN
    out : (n_samples,)                          # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_clusters = centers.shape[0]
    cdef Py_ssize_t n_features = centers.shape[1]
    cdef double* center_sq_norms = <double*> malloc(max(n_clusters, 1) * sizeof(double))
    cdef double total
    cdef Py_ssize_t j, f, s, label

    if center_sq_norms == NULL:
        raise MemoryError()
    with nogil:
        for j in range(n_clusters):
            total = 0.0
            for f in range(n_features):
                total = total + <double> centers[j, f] * centers[j, f]
            center_sq_norms[j] = total
        for s in prange(n_samples, schedule='static', chunksize=CHUNK_SIZE,
                        num_threads=team_size(n_threads, n_samples // CHUNK_SIZE)):
            label = labels[s]
            out[s] = <floating> sq_dist_to(data_p, indices_p, indptr[s],
                                           indptr[s + 1], &centers[label, 0], 1,
                                           center_sq_norms[label])
    free(center_sq_norms)


def center_distances(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const floating[:, ::1] centers_t,
    const double[::1] center_sq_norms,
    floating[:, ::1] out,
    int n_threads,
):
    """out[i, j] = ||x_i - c_j||, over the nonzeros in double (file header).

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  int32 indices
    centers_t : (n_features, n_padded)          # IN  the centers, transposed,
                                                #     zero-padded (padded_width)
    center_sq_norms : (n_clusters,)             # IN
    out : (n_samples, n_clusters)               # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t n_clusters = center_sq_norms.shape[0]
    cdef Py_ssize_t n_chunks_ = (n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE
    cdef double* acc
    cdef const floating* row
    cdef double v, c, diff, total
    cdef Py_ssize_t chunk, s, p, j

    with nogil, parallel(num_threads=team_size(n_threads, n_chunks_)):
        acc = <double*> malloc(n_clusters * sizeof(double))
        for chunk in prange(n_chunks_, schedule='dynamic'):
            for s in range(chunk * CHUNK_SIZE, min((chunk + 1) * CHUNK_SIZE, n_samples)):
                for j in range(n_clusters):
                    acc[j] = 0.0
                for p in range(indptr[s], indptr[s + 1]):
                    v = data[p]
                    row = &centers_t[indices[p], 0]
                    for j in range(n_clusters):
                        c = row[j]
                        diff = v - c
                        acc[j] = acc[j] + (diff * diff - c * c)
                for j in range(n_clusters):
                    total = acc[j] + center_sq_norms[j]
                    out[s, j] = <floating> sqrt(total if total > 0.0 else 0.0)
        free(acc)


###############################################################################
# k-means++


def row_sq_norms(
    const floating[::1] data,
    const int[::1] indptr,
    double[::1] out,
    int n_threads,
):
    """out[i] = ||x_i||^2, summed over the row's nonzeros in order, in double.

    Parameters
    ----------
    data, indptr : CSR arrays of X              # IN
    out : (n_samples,)                          # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef Py_ssize_t s, p
    cdef double total
    for s in prange(n_samples, nogil=True, schedule='static', chunksize=CHUNK_SIZE,
                    num_threads=team_size(n_threads, n_samples // CHUNK_SIZE)):
        total = 0.0
        for p in range(indptr[s], indptr[s + 1]):
            total = total + <double> data[p] * data[p]
        out[s] = total


def score_candidates(
    const floating[::1] data,
    const int[::1] indices,
    const int[::1] indptr,
    const double[::1] x_sq_norms,
    const floating[::1] sample_weight,
    const int[::1] feature_slot,
    const floating[:, ::1] candidate_rows,
    const double[::1] candidate_sq_norms,
    const floating[::1] closest_sq,
    floating[:, ::1] dist,
    double[:, ::1] chunk_potential,
    int n_threads,
):
    """Every sample's D^2 if each candidate were added, and their potentials.

    dist[t, i] = min(closest_sq[i], d(x_i, candidate_t)^2), the squared
    distance taken as (-2 <x, t> + ||t||^2) + ||x||^2 in double, clipped at 0
    and rounded to X's dtype: scikit-learn's arithmetic (its float32 path
    upcasts to float64 too), so the D^2 that k-means++ draws from are the
    same. The winner's row of dist is the next closest_sq, no second pass
    over X. chunk_potential[t, c] is sum of w * dist[t, i] over chunk c, in
    sample order, in double.

    The candidates are rows of X, sparse: a sample's nonzero looks its
    feature up in feature_slot (4 bytes) and, rarely, reads a row of a table
    of a few hundred rows, instead of a row of a dense (n_features, n_trials)
    array from anywhere in memory: 1.2x faster on TF-IDF data (50,000
    documents and terms, 19 steps of 4 candidates: 66 ms against 76 ms on
    one thread), near the speed of streaming X through memory. A bitmask
    of the features in front of feature_slot measured no faster.

    Parameters
    ----------
    data, indices, indptr : CSR arrays of X     # IN  int32 indices
    x_sq_norms : (n_samples,)                   # IN  from row_sq_norms
    sample_weight : (n_samples,)                # IN
    feature_slot : (n_features,)                # IN  row of candidate_rows that
                                                #     holds a feature, -1 if no
                                                #     candidate has it
    candidate_rows : (n_slots, n_trials)        # IN  the candidates' values of
                                                #     those features
    candidate_sq_norms : (n_trials,)            # IN
    closest_sq : (n_samples,)                   # IN  D^2 to the nearest chosen
                                                #     center (inf: none yet)
    dist : (n_trials, n_samples)                # OUT must not overlap closest_sq
    chunk_potential : (n_trials, n_chunks)      # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = indptr.shape[0] - 1
    cdef const floating* data_p = &data[0] if data.shape[0] > 0 else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] > 0 else NULL
    cdef Py_ssize_t n_trials = candidate_sq_norms.shape[0]
    cdef Py_ssize_t n_chunks_ = chunk_potential.shape[1]
    cdef const floating* rows_p = (
        &candidate_rows[0, 0] if candidate_rows.shape[0] > 0 else NULL)
    cdef double* dots
    cdef double* potential
    cdef double d
    cdef floating d_rounded
    cdef Py_ssize_t chunk, s, t

    with nogil, parallel(num_threads=team_size(n_threads, n_chunks_)):
        dots = <double*> malloc(n_trials * sizeof(double))
        potential = <double*> malloc(n_trials * sizeof(double))
        for chunk in prange(n_chunks_, schedule='dynamic'):
            for t in range(n_trials):
                potential[t] = 0.0
            for s in range(chunk * CHUNK_SIZE, min((chunk + 1) * CHUNK_SIZE, n_samples)):
                row_sparse_dots(data_p, indices_p, indptr[s], indptr[s + 1],
                                &feature_slot[0], rows_p, n_trials, dots)
                for t in range(n_trials):
                    d = (-2.0 * dots[t] + candidate_sq_norms[t]) + x_sq_norms[s]
                    d_rounded = <floating> (d if d > 0.0 else 0.0)
                    if closest_sq[s] < d_rounded:
                        d_rounded = closest_sq[s]
                    dist[t, s] = d_rounded
                    potential[t] = potential[t] + <double> sample_weight[s] * d_rounded
            for t in range(n_trials):
                chunk_potential[t, chunk] = potential[t]
        free(dots)
        free(potential)
