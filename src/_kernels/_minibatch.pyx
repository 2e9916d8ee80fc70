# MiniBatchKMeans' passes over a batch: its draw (with the copy of its rows)
# and its cluster sums. Batch draws: batch_size indices drawn in proportion to
# the sample weights, the very indices of numpy's
# ``RandomState.choice(n_samples, batch_size, p=w / w.sum())`` (which looks
# each uniform number up in the cumulative weights) at an expected O(1) cost
# per draw instead of a binary search over all n_samples weights (about
# 1.4 ms per batch of 4,096 over 1,000,000 samples here, cache misses all).
#
# Guide table (Chen and Asau, 1974): guide[b] is the first index whose
# cumulative weight exceeds b / n_buckets. A uniform u in bucket
# b = floor(u * n_buckets) starts there and walks to the first index whose
# cumulative weight exceeds u -- the index searchsorted(side='right') gives.

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free

from _reduce cimport (
    team_size, ChunkPlan, plan_chunks, group_start, group_stop, alloc_partials,
)
from _sums cimport add_to_cluster, cluster_partial_size, finish_cluster_sums

cdef enum:
    # A draw is a guide-table lookup and a short search (tens of ns): a
    # second thread pays for its start and barrier from about this many
    # draws on. The default batch of 1,024 draws on one thread; a team for
    # it cost a time slice per step when other processes held the cores
    # (a 12-sample fit: 216 ms on 2 threads, 2.6 ms on one).
    DRAWS_PER_THREAD = 16384
    # draw_rows also copies the drawn rows, scattered reads: a second thread
    # helps from about this many values copied (a batch of 1,024 rows of 4
    # features or more).
    VALUES_PER_THREAD = 4096


def guide_table(const double[::1] cdf, Py_ssize_t[::1] guide):
    """guide[b] = first i with cdf[i] > b / n_buckets (one pass over cdf).

    Parameters
    ----------
    cdf : (n_samples,)                          # IN non-decreasing, cdf[-1] == 1
    guide : (n_buckets,)                        # OUT
    """
    cdef Py_ssize_t n_samples = cdf.shape[0]
    cdef Py_ssize_t n_buckets = guide.shape[0]
    cdef Py_ssize_t b, i = 0
    cdef double threshold
    with nogil:
        for b in range(n_buckets):
            threshold = <double> b / n_buckets
            while i < n_samples - 1 and cdf[i] <= threshold:
                i = i + 1
            guide[b] = i


def draw(
    const double[::1] cdf,
    const Py_ssize_t[::1] guide,
    const double[::1] uniforms,
    Py_ssize_t[::1] out,
    int n_threads,
):
    """out[k] = the first i with cdf[i] > uniforms[k] (n_samples - 1 at most).

    Parameters
    ----------
    cdf : (n_samples,)                          # IN non-decreasing, cdf[-1] == 1
    guide : (n_buckets,)                        # IN from guide_table
    uniforms : (n_draws,)                       # IN in [0, 1)
    out : (n_draws,)                            # OUT
    n_threads : int
    """
    cdef Py_ssize_t k, n_draws = uniforms.shape[0]
    cdef int team = team_size(n_threads, n_draws // DRAWS_PER_THREAD)
    for k in prange(n_draws, nogil=True, schedule='static', num_threads=team):
        out[k] = _lookup(&cdf[0], cdf.shape[0], &guide[0], guide.shape[0], uniforms[k])


cdef inline Py_ssize_t _lookup(const double* cdf, Py_ssize_t n_samples,
                               const Py_ssize_t* guide, Py_ssize_t n_buckets,
                               double u) noexcept nogil:
    """The first i with cdf[i] > u (n_samples - 1 at most), from u's bucket."""
    cdef Py_ssize_t b = <Py_ssize_t> (u * n_buckets)
    cdef Py_ssize_t i
    if b >= n_buckets:
        b = n_buckets - 1
    i = guide[b]
    # Rounding can put u just below the bucket's bound: step back first.
    while i > 0 and cdf[i - 1] > u:
        i = i - 1
    while i < n_samples - 1 and cdf[i] <= u:
        i = i + 1
    return i


def draw_rows(
    const floating[:, ::1] X,
    const double[::1] cdf,
    const Py_ssize_t[::1] guide,
    const double[::1] uniforms,
    Py_ssize_t[::1] indices,
    floating[:, ::1] rows,
    int n_threads,
):
    """draw, and the drawn rows of X copied into one block, in one parallel
    pass (scattered rows read by two threads at once).

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    cdf, guide, uniforms                        # IN as for draw
    indices : (n_draws,)                        # OUT as draw's out
    rows : (n_draws, n_features)                # OUT rows[k] = X[indices[k]]
    n_threads : int
    """
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t k, i, f, n_draws = uniforms.shape[0]
    cdef int team = team_size(n_threads, max(n_draws // DRAWS_PER_THREAD,
                                             n_draws * n_features // VALUES_PER_THREAD))
    for k in prange(n_draws, nogil=True, schedule='static', num_threads=team):
        i = _lookup(&cdf[0], cdf.shape[0], &guide[0], guide.shape[0], uniforms[k])
        indices[k] = i
        for f in range(n_features):
            rows[k, f] = X[i, f]


def cluster_sums(
    const floating[:, ::1] X,
    const floating[::1] sample_weight,
    const int[::1] labels,
    double[:, ::1] sums,
    double[::1] weight_in_clusters,
    int n_threads,
):
    """The weighted sum and the weight of each cluster's samples, added by
    chunks and the chunks in order (_reduce.pxd): the same bits for any
    number of threads.

    Parameters
    ----------
    X : (n_samples, n_features)                 # IN
    sample_weight : (n_samples,)                # IN
    labels : (n_samples,)                       # IN
    sums : (n_clusters, n_features)             # OUT
    weight_in_clusters : (n_clusters,)          # OUT
    n_threads : int
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = sums.shape[0]
    cdef Py_ssize_t stride = cluster_partial_size(n_clusters, n_features)
    cdef ChunkPlan plan = plan_chunks(n_samples, stride)
    cdef double* partials = alloc_partials(plan, stride)
    cdef Py_ssize_t g, s
    if partials == NULL:
        raise MemoryError()
    for g in prange(plan.n_groups, nogil=True, schedule='dynamic',
                    num_threads=team_size(n_threads, plan.n_groups)):
        for s in range(group_start(plan, g), group_stop(plan, g)):
            add_to_cluster(partials + g * stride, &X[s, 0], sample_weight[s], labels[s],
                           n_clusters, n_features)
    if finish_cluster_sums(partials, plan, n_clusters, n_features, &sums[0, 0],
                           &weight_in_clusters[0], n_threads) < 0:
        free(partials)
        raise MemoryError()
    free(partials)
