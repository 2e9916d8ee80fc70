"""The same bits from every public estimator and function: run twice, and
with 1, 2 and 3 OpenMP threads (the cases: tests/cases.py).

Every kernel cuts the samples into fixed chunks and reduces their partial
results in chunk order, so the number of threads changes who computes a
chunk, never what is added to what. 3 threads on this suite's data leave
uneven last chunks; 2 threads split every parallel loop.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from cases import CASES, assert_same_bits


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_same_bits_for_any_thread_count_and_run(case):
    with threadpool_limits(limits=1, user_api="openmp"):
        reference = case.run()
    for n_threads in (2, 3, 2):  # 2 twice: the same result again, in one process
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            assert_same_bits(reference, case.run())


def test_cases_cover_every_public_name():
    # A new public estimator or function must join the table.
    import turbocluster

    covered = " ".join(case.name for case in CASES)
    not_fitting = {"ClusterCountSelection", "knee_point", "plot_dendrogram", "linkage_matrix",
                   "dbscan", "silhouette_score", "__version__"}
    missing = [name for name in turbocluster.__all__
               if name not in not_fitting and name.split("_")[0] not in covered]
    assert missing == []


def test_knee_point_and_dbscan_function_are_deterministic():
    # The two public functions outside the table: pure functions of their
    # input, the same bits on every call.
    import turbocluster as tc

    x = np.arange(2, 12)
    y = 1000.0 / x + np.random.default_rng(0).normal(size=x.size)
    assert tc.knee_point(x, y) == tc.knee_point(x, y)
    X = np.random.default_rng(1).normal(size=(3000, 3))
    with threadpool_limits(limits=1, user_api="openmp"):
        first = tc.dbscan(X, eps=0.3, min_samples=10)
    with threadpool_limits(limits=2, user_api="openmp"):
        second = tc.dbscan(X, eps=0.3, min_samples=10)
    for a, b in zip(first, second):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
