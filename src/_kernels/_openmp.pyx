# How many threads the OpenMP runtime would give the next parallel region.
# Cost: O(1).

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define TURBOCLUSTER_OPENMP 1
    #else
    #define TURBOCLUSTER_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    #endif
    """
    int omp_get_max_threads() nogil
    bint TURBOCLUSTER_OPENMP


def openmp_max_threads():
    """Threads for the next parallel region: OMP_NUM_THREADS, threadpoolctl."""
    return omp_get_max_threads()


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP."""
    return bool(TURBOCLUSTER_OPENMP)
