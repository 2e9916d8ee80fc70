"""How many threads the kernels use, and which OpenMP runtime they use."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import turbocluster
from turbocluster._kernels import _lloyd
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
    (200_000, _lloyd, "lloyd_iter"),       # one pass per call
])
def test_blas_is_single_threaded_while_kernels_run(monkeypatch, n_samples, module,
                                                   kernel):
    # A kernel call inside fit must see every BLAS library limited to one
    # thread (BLAS runs inside OpenMP regions, one chunk at a time). The
    # small-data kernel (_small.kmeans_runs) calls no BLAS: see below.
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


def test_libraries_are_scanned_at_import_not_in_the_first_fit():
    # The scan for BLAS (threadpoolctl) costs milliseconds: importing the
    # package does it, so that the first fit costs what later ones do.
    code = ("import turbocluster, turbocluster._threads as t;"
            "print(t._controller is not None)")
    assert _run(code) == "True"


def test_small_data_fits_without_limiting_blas(monkeypatch):
    # The small-data kernel calls no BLAS: its fits skip threadpoolctl (about
    # 50 us a call); a run it hands to the one-pass path limits BLAS again.
    import turbocluster._kmeans as kmeans_module
    import turbocluster._kmeans_loops as loops

    def no_blas_limit():
        raise AssertionError("BLAS limited")

    monkeypatch.setattr(kmeans_module, "blas_single_threaded", no_blas_limit)
    monkeypatch.setattr(loops, "blas_single_threaded", no_blas_limit)
    X = np.random.default_rng(0).normal(size=(300, 4))
    turbocluster.KMeans(n_clusters=3, n_init=2, random_state=0).fit(X)
    with pytest.raises(AssertionError, match="BLAS limited"):
        turbocluster.KMeans(n_clusters=3, n_init=1).fit(np.random.default_rng(0).normal(
            size=(300_000, 16)))
