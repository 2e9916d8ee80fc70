# The chunked parallel reduction, written once for every kernel.
#
# Samples are cut into chunks of CHUNK_SIZE rows; consecutive chunks form
# reduction groups. A kernel runs its groups in a prange, each group walks its
# chunks in order and accumulates into its own partial buffer, and the partial
# buffers are then added in group order. The layout depends only on the data
# shape -- never on the number of threads -- so every bit of every result is the
# same for 1, 2 or 16 threads.

from libc.stdlib cimport malloc, free
from cython.parallel cimport prange


cdef enum:
    # Rows per chunk: a chunk of float64 rows with a few dozen features and its
    # block of distances to a few dozen centers stay in L2 cache.
    CHUNK_SIZE = 256
    # Upper bound on the number of reduction groups: enough to balance 16+
    # threads, few enough that the in-order final sum is cheap.
    MAX_GROUPS = 128
    # Upper bound on the memory of all partial buffers together, in doubles
    # (32 MiB): with very many clusters x features there are fewer groups.
    PARTIALS_BUDGET = 4 * 1024 * 1024


cdef struct ChunkPlan:
    Py_ssize_t n_samples
    Py_ssize_t n_chunks
    Py_ssize_t n_groups
    Py_ssize_t chunks_per_group


cdef inline ChunkPlan plan_chunks(Py_ssize_t n_samples,
                                  Py_ssize_t partial_size) noexcept nogil:
    """Cut n_samples into chunks and groups, for partials of partial_size."""
    cdef ChunkPlan plan
    cdef Py_ssize_t budget_groups = PARTIALS_BUDGET // max(partial_size, 1)
    plan.n_samples = n_samples
    plan.n_chunks = (n_samples + CHUNK_SIZE - 1) // CHUNK_SIZE
    plan.n_groups = min(plan.n_chunks, <Py_ssize_t> MAX_GROUPS)
    plan.n_groups = max(min(plan.n_groups, budget_groups), 1)
    plan.chunks_per_group = (plan.n_chunks + plan.n_groups - 1) // plan.n_groups
    plan.n_groups = max(
        (plan.n_chunks + plan.chunks_per_group - 1) // max(plan.chunks_per_group, 1), 1)
    return plan


cdef inline int team_size(int n_threads, Py_ssize_t n_tasks) noexcept nogil:
    """Threads worth starting for n_tasks independent tasks.

    A team larger than its work only waits at barriers, which costs most
    when the cores are shared with other processes.
    """
    return <int> max(1, min(<Py_ssize_t> n_threads, n_tasks))


cdef inline Py_ssize_t group_start(ChunkPlan plan, Py_ssize_t group) noexcept nogil:
    """First sample of a reduction group."""
    return min(group * plan.chunks_per_group * CHUNK_SIZE, plan.n_samples)


cdef inline Py_ssize_t group_stop(ChunkPlan plan, Py_ssize_t group) noexcept nogil:
    """One past the last sample of a reduction group."""
    return min((group + 1) * plan.chunks_per_group * CHUNK_SIZE, plan.n_samples)


cdef inline Py_ssize_t group_first_chunk(ChunkPlan plan, Py_ssize_t group) noexcept nogil:
    """Index of the first chunk of a reduction group."""
    return min(group * plan.chunks_per_group, plan.n_chunks)


cdef inline Py_ssize_t group_end_chunk(ChunkPlan plan, Py_ssize_t group) noexcept nogil:
    """One past the index of the last chunk of a reduction group."""
    return min((group + 1) * plan.chunks_per_group, plan.n_chunks)


cdef inline double* alloc_partials(ChunkPlan plan, Py_ssize_t partial_size) noexcept nogil:
    """Zeroed partial buffers, one row of partial_size doubles per group."""
    cdef Py_ssize_t i, total = plan.n_groups * partial_size
    cdef double* partials = <double*> malloc(max(total, 1) * sizeof(double))
    if partials != NULL:
        for i in range(total):
            partials[i] = 0.0
    return partials


cdef inline double* alloc_partials_unzeroed(ChunkPlan plan,
                                            Py_ssize_t partial_size) noexcept nogil:
    """Partial buffers as alloc_partials, not zeroed: each group zeroes its
    own row (zero_partial) in the parallel region, so that large partials
    (a Gaussian mixture's n_components x n_features^2 sums) are not cleared
    by one thread while the others wait."""
    return <double*> malloc(max(plan.n_groups * partial_size, 1) * sizeof(double))


cdef inline void zero_partial(double* part, Py_ssize_t partial_size) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(partial_size):
        part[j] = 0.0


cdef inline void sum_partials_in_order(
    const double* partials,   # IN (n_groups, stride): a group's row starts at g * stride
    Py_ssize_t n_groups,
    Py_ssize_t stride,
    Py_ssize_t size,
    double* out,              # OUT (size,)
    int n_threads,
) noexcept nogil:
    """out[j] = sum of partials[:, j], added in group order for every j < size."""
    cdef Py_ssize_t g, j
    cdef double total
    # Below about a million additions a parallel region costs more than it saves.
    if n_groups * size < (1 << 20):
        n_threads = 1
    for j in prange(size, num_threads=n_threads, schedule='static'):
        total = 0.0
        for g in range(n_groups):
            total = total + partials[g * stride + j]
        out[j] = total
