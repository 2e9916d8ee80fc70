"""How many OpenMP threads a kernel may use, and keeping BLAS off their toes.

The kernels size their OpenMP team from the runtime at call time, so both
``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits(n, "openmp")`` apply.
Inside a team every BLAS call works on one chunk and must stay
single-threaded: the estimators run kernels under :func:`blas_single_threaded`.
"""

from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

from ._kernels._openmp import openmp_max_threads

_controller = None


def effective_n_threads():
    """Number of OpenMP threads the next kernel call will use (at least 1)."""
    return max(1, int(openmp_max_threads()))


def _get_controller():
    # Scanning the loaded libraries costs about a millisecond: do it once,
    # after numpy, scipy and our kernels are loaded.
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


@contextmanager
def blas_single_threaded():
    """Hold every BLAS library to one thread (OpenMP limits are untouched)."""
    with _get_controller().limit(limits=1, user_api="blas"):
        yield
