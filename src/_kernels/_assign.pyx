# Passes that read fitted centers: nearest center and inertia, per-sample
# distances to centers. Cost: O(n_samples x n_clusters x n_features) each.

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

from _reduce cimport (
    CHUNK_SIZE, team_size, ChunkPlan, plan_chunks, group_start, group_stop,
    group_first_chunk, group_end_chunk,
    alloc_partials, sum_partials_in_order,
)
from _distances cimport (
    nearest_rows, rows_center_distances, sq_euclidean, sq_euclidean_acc,
)


def assign_labels(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers,
    const floating[:, ::1] centers_t,
    const floating[::1] padded_norms,
    int[::1] labels,
    int n_threads,
):
    """Label every sample with its nearest center; return the inertia.

    The nearest center is the argmin of ||c||^2 - 2 <x, c>, as scikit-learn
    takes it, by a register-blocked loop over the rows of each chunk
    (nearest_rows, _simd.h).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,) or None        # IN None: labels only (predict),
                                                #     the inertia returned is 0
    centers : (n_clusters, n_features)          # IN
    centers_t : (n_features, n_padded)          # IN the centers transposed, zero-
                                                #     padded to a multiple of CENTER_BLOCK
    padded_norms : (n_padded,)                  # IN their squared norms, +inf padded
    labels : (n_samples,)                       # OUT
    n_threads : int

    Returns
    -------
    inertia : float
        Sum of sample_weight times the squared distance to the assigned
        center, the distance taken from differences and summed in double.
    n_nonfinite : int
        Samples whose scores are not all finite: a NaN or an infinity in
        their row (or an overflow). Their labels mean nothing.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_padded = centers_t.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, 2)
    cdef double* partials = alloc_partials(plan, 2)
    cdef double totals[2]
    cdef Py_ssize_t g, c, chunk, n_rows, s
    cdef bint with_inertia = sample_weight is not None

    if partials == NULL:
        raise MemoryError()

    for g in prange(plan.n_groups, nogil=True, schedule='dynamic',
                    num_threads=team_size(n_threads, plan.n_groups)):
        for c in range(group_first_chunk(plan, g), group_end_chunk(plan, g)):
            chunk = c * CHUNK_SIZE
            n_rows = min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk)
            partials[2 * g + 1] += nearest_rows(
                &X[chunk, 0], n_rows, n_features, &centers_t[0, 0], &padded_norms[0],
                n_padded, &labels[chunk])
            if with_inertia:
                for s in range(chunk, chunk + n_rows):
                    partials[2 * g] += sample_weight[s] * sq_euclidean_acc(
                        &X[s, 0], &centers[labels[s], 0], n_features)

    sum_partials_in_order(partials, plan.n_groups, 2, 2, totals, 1)
    free(partials)
    return totals[0], <Py_ssize_t> totals[1]


def labelled_inertia(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const floating[:, ::1] centers,
    const int[::1] labels,
    int n_threads,
):
    """Inertia of a given labelling: sum of w_i ||x_i - c_{labels_i}||^2.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    centers : (n_clusters, n_features)          # IN
    labels : (n_samples,)                       # IN
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, 1)
    cdef double* partials = alloc_partials(plan, 1)
    cdef double inertia
    cdef Py_ssize_t g, s

    if partials == NULL:
        raise MemoryError()

    for g in prange(plan.n_groups, nogil=True,
                    num_threads=team_size(n_threads, plan.n_groups),
                    schedule='dynamic'):
        for s in range(group_start(plan, g), group_stop(plan, g)):
            partials[g] = partials[g] + sample_weight[s] * sq_euclidean_acc(
                &X[s, 0], &centers[labels[s], 0], n_features)

    sum_partials_in_order(partials, plan.n_groups, 1, 1, &inertia, 1)
    free(partials)
    return inertia


def assigned_sq_distances(
    const floating[:, ::1] X,
    const floating[:, ::1] centers,
    const int[::1] labels,
    floating[::1] out,
    int n_threads,
):
    """out[i] = ||x_i - c_{labels_i}||^2.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    centers : (n_clusters, n_features)          # IN
    labels : (n_samples,)                       # IN
    out : (n_samples,)                          # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    # The team is sized before the loop: in the checked build
    # (initializedcheck), a memoryview read in the num_threads expression
    # gets an error exit that jumps into the OpenMP region, which GCC refuses.
    cdef int n_team = team_size(n_threads, n_samples // CHUNK_SIZE)
    cdef Py_ssize_t s
    for s in prange(n_samples, nogil=True, num_threads=n_team,
                    schedule='dynamic', chunksize=CHUNK_SIZE):
        out[s] = sq_euclidean(&X[s, 0], &centers[labels[s], 0], n_features)


def center_distances(
    const floating[:, ::1] X,
    const double[:, ::1] centers_t,
    Py_ssize_t n_clusters,
    floating[:, ::1] out,
    int n_threads,
):
    """out[i, j] = ||x_i - c_j||, from differences summed in double.

    Differences rather than the ||x||^2 - 2<x, c> + ||c||^2 expansion: no
    cancellation, so float32 input keeps full float32 accuracy. Each chunk of
    rows goes through a register-blocked loop (rows_center_distances,
    _simd.h).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    centers_t : (n_features, n_padded)          # IN the centers in float64, transposed,
                                                #     zero-padded to a multiple of
                                                #     CENTER_BLOCK
    n_clusters : int
    out : (n_samples, n_clusters)               # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_padded = centers_t.shape[1]
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE
    cdef Py_ssize_t c, chunk
    cdef double* scratch

    with nogil, parallel(num_threads=team_size(n_threads, n_chunks)):
        scratch = <double*> malloc(4 * (n_padded + n_features) * sizeof(double))
        for c in prange(n_chunks, schedule='dynamic'):
            chunk = c * CHUNK_SIZE
            rows_center_distances(&X[chunk, 0], min(<Py_ssize_t> CHUNK_SIZE, n_samples - chunk),
                                  n_features, &centers_t[0, 0], n_padded, n_clusters,
                                  scratch, &out[chunk, 0])
        free(scratch)


def same_partition(
    const int[::1] labels1,
    const int[::1] labels2,
    int n_clusters,
):
    """Whether two labellings are the same partition, up to renaming.

    They are when the pairs (labels1[i], labels2[i]) pair the labels one to
    one. Cost: O(n_samples), O(n_clusters) memory.

    Parameters
    ----------
    labels1, labels2 : (n_samples,)             # IN values in [0, n_clusters)
    n_clusters : int
    """
    cdef Py_ssize_t n_samples = labels1.shape[0]
    cdef int* forward = <int*> malloc(max(n_clusters, 1) * sizeof(int))
    cdef int* backward = <int*> malloc(max(n_clusters, 1) * sizeof(int))
    cdef Py_ssize_t i
    cdef int a, b
    cdef bint same = True

    if forward == NULL or backward == NULL:
        free(forward)
        free(backward)
        raise MemoryError()
    with nogil:
        for i in range(n_clusters):
            forward[i] = -1
            backward[i] = -1
        for i in range(n_samples):
            a = labels1[i]
            b = labels2[i]
            if forward[a] < 0 and backward[b] < 0:
                forward[a] = b
                backward[b] = a
            elif forward[a] != b or backward[b] != a:
                same = False
                break
    free(forward)
    free(backward)
    return same
