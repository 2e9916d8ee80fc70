"""How many threads the kernels use, and which OpenMP runtime they use."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import turbocluster
from turbocluster._kernels import _lloyd, _small
from turbocluster._kernels._openmp import openmp_enabled
from turbocluster._threads import effective_n_threads

needs_openmp = pytest.mark.skipif(not openmp_enabled(),
                                  reason="built without OpenMP")


def _run(code, **env):
    """Run code in a fresh interpreter; return its stripped stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, **env},
    )
    return result.stdout.strip()


@needs_openmp
@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd (Linux)")
def test_threadpool_info_lists_the_openmp_runtime_of_the_kernels():
    # The runtime our kernels link must be the one threadpoolctl reports and
    # controls, not only scikit-learn's vendored copy.
    linked = subprocess.run(["ldd", _lloyd.__file__], capture_output=True,
                            text=True, check=True).stdout
    paths = [line.split("=>")[1].split("(")[0].strip()
             for line in linked.splitlines() if "gomp" in line and "=>" in line]
    assert paths, linked
    reported = {os.path.realpath(info["filepath"]) for info in threadpool_info()
                if info["user_api"] == "openmp"}
    assert os.path.realpath(paths[0]) in reported


@needs_openmp
@pytest.mark.parametrize("n_threads", ["1", "3"])
def test_omp_num_threads_sets_the_kernel_threads(n_threads):
    code = ("from turbocluster._threads import effective_n_threads;"
            "print(effective_n_threads())")
    assert _run(code, OMP_NUM_THREADS=n_threads) == n_threads


@needs_openmp
def test_threadpool_limits_sets_the_kernel_threads():
    with threadpool_limits(limits=1, user_api="openmp"):
        assert effective_n_threads() == 1
    with threadpool_limits(limits=3, user_api="openmp"):
        assert effective_n_threads() == 3


@pytest.mark.parametrize("n_samples, module, kernel", [
    (500, _small, "kmeans_runs"),          # small data: whole runs in one call
    (200_000, _lloyd, "lloyd_iter"),       # one pass per call
])
def test_blas_is_single_threaded_while_kernels_run(monkeypatch, n_samples, module,
                                                   kernel):
    # A kernel call inside fit must see every BLAS library limited to one
    # thread (BLAS runs inside OpenMP regions, one chunk at a time).
    seen = []
    original = getattr(module, kernel)

    def spy(*args):
        seen.extend(info["num_threads"] for info in threadpool_info()
                    if info["user_api"] == "blas")
        return original(*args)

    monkeypatch.setattr(module, kernel, spy)
    X = np.random.RandomState(0).rand(n_samples, 3)
    turbocluster.KMeans(8, n_init=1, random_state=0, max_iter=3).fit(X)
    assert seen and set(seen) == {1}
