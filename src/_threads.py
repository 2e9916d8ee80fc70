"""How many OpenMP threads a kernel may use, and keeping BLAS off their toes.

The kernels size their OpenMP team from the runtime at call time, so both
``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits(n, "openmp")`` apply.
Inside a team every BLAS call works on one chunk and must stay
single-threaded: the estimators run kernels under :func:`blas_single_threaded`.
"""

import threading
from contextlib import contextmanager

# Loads the BLAS library that the kernels call, before the scan below.
import scipy.linalg.cython_blas  # noqa: F401
from threadpoolctl import ThreadpoolController

from ._kernels._openmp import openmp_max_threads

# The scan of the loaded libraries for the BLAS that the kernels call
# (scipy's, loaded by the import above) is made once, when the package is
# imported: it costs about 6 ms here (the real path of each of the ~230
# libraries a scientific Python process has loaded), which the first fit
# would otherwise pay on top of its own time.
_controller = ThreadpoolController()


def effective_n_threads():
    """Number of OpenMP threads the next kernel call will use (at least 1)."""
    return max(1, int(openmp_max_threads()))


# BLAS thread limits are process-wide, but fits may run side by side in
# Python threads (the kernels release the GIL). Nested limiters, each
# restoring what it found, would then restore in the wrong order: the first
# fit to finish would give BLAS its threads back under the second, and the
# last would leave BLAS on one thread for good. So one limit is held while
# any fit needs it, and the original limits come back when the last one ends.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None


@contextmanager
def blas_single_threaded():
    """Hold every BLAS library to one thread (OpenMP limits are untouched).

    Safe to enter from several Python threads at once: the limit is set by
    the first to enter and lifted by the last to leave.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
