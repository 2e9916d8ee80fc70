# Centering: the column means of X, then a centered copy with its row norms.
# Cost: two passes over X, O(n_samples x n_features); partial sums added in
# group order, so the means do not depend on the number of threads.

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free

from _reduce cimport (
    team_size, ChunkPlan, plan_chunks, group_start, group_stop, alloc_partials,
    sum_partials_in_order,
)


def column_means(
    const floating[:, ::1] X,
    floating[::1] out,
    int n_threads,
):
    """out[f] = mean of X[:, f], summed in double.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    out : (n_features,)                         # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, n_features)
    cdef double* partials = alloc_partials(plan, n_features)
    cdef double* totals = <double*> malloc(max(n_features, 1) * sizeof(double))
    cdef double* part
    cdef Py_ssize_t g, s, f

    if partials == NULL or totals == NULL:
        free(partials)
        free(totals)
        raise MemoryError()
    for g in prange(plan.n_groups, nogil=True,
                    num_threads=team_size(n_threads, plan.n_groups),
                    schedule='dynamic'):
        part = partials + g * n_features
        for s in range(group_start(plan, g), group_stop(plan, g)):
            for f in range(n_features):
                part[f] = part[f] + X[s, f]
    sum_partials_in_order(partials, plan.n_groups, n_features, n_features,
                          totals, n_threads)
    for f in range(n_features):
        out[f] = <floating> (totals[f] / n_samples)
    free(partials)
    free(totals)


def center_rows(
    const floating[:, ::1] X,
    const floating[::1] mean,
    floating[:, ::1] out,
    floating[::1] sq_norms,
    int n_threads,
):
    """out = X - mean, and the squared norm of each row of out.

    out may be X itself (centering in place).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    mean : (n_features,)                        # IN
    out : (n_samples, n_features)               # OUT
    sq_norms : (n_samples,)                     # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef ChunkPlan plan = plan_chunks(n_samples, 1)
    cdef Py_ssize_t g, s, f
    cdef floating value, total

    for g in prange(plan.n_groups, nogil=True,
                    num_threads=team_size(n_threads, plan.n_groups),
                    schedule='dynamic'):
        for s in range(group_start(plan, g), group_stop(plan, g)):
            total = 0
            for f in range(n_features):
                value = X[s, f] - mean[f]
                out[s, f] = value
                total = total + value * value
            sq_norms[s] = total
