"""Fits side by side in Python threads give the bits of fits one by one.

The kernels release the GIL, so a service or a GridSearchCV on a thread
backend runs them at once: each call must keep to its own buffers, and the
process-wide BLAS limit that every fit holds while its kernels run must
come back as it was when the last fit ends.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cases import CASES, assert_same_bits
from turbocluster import _threads


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_concurrent_runs_give_the_sequential_results():
    sequential = {case.name: case.run() for case in CASES}
    blas_before = _blas_threads()
    # Every case twice, 4 at a time: each runs beside others of every kind.
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [(case, pool.submit(case.run)) for case in CASES + CASES[::-1]]
        for case, future in futures:
            assert_same_bits(sequential[case.name], future.result())
    assert _blas_threads() == blas_before


def test_blas_limit_is_lifted_by_the_last_fit_to_leave():
    # Two fits whose kernels overlap but do not nest: A enters, B enters, A
    # leaves, B leaves. Each limiter restoring what it found would give BLAS
    # back its threads under B, and leave it on one thread after B.
    if not _blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    with threadpool_limits(limits=2, user_api="blas"):
        a, b = _threads.blas_single_threaded(), _threads.blas_single_threaded()
        a.__enter__()
        b.__enter__()
        a.__exit__(None, None, None)
        assert set(_blas_threads()) == {1}
        b.__exit__(None, None, None)
        assert set(_blas_threads()) == {2}
