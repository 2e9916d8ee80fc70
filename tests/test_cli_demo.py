"""The demonstration of ``python -m turbocluster`` without a PATH (``run_demo``).

The generated data set is made small here, and the pauses before the timed
fits are taken out, so that a demonstration runs in seconds. No test reads a
time or a speed ratio: only that they are printed, next to figures that are
checked against fits run here.
"""

import io
import re
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

import turbocluster._cli_demo as demo
from turbocluster import DBSCAN, KMeans
from turbocluster._cli_common import CLIError, format_inertia, format_log_likelihood
from turbocluster._mixture import GaussianMixture
from turbocluster._threads import effective_n_threads

N_SAMPLES = 2_000
PARAMS = {"n_clusters": None, "algorithm": "lloyd", "n_init": "auto", "max_iter": 300,
          "random_state": 0}
# --algorithm gmm without options, as the command line passes them.
MIXTURE_PARAMS = {"n_components": None, "covariance_type": "full", "n_init": 1,
                  "max_iter": 100, "random_state": 0}
LIBRARIES = ("turbocluster", "scikit-learn")
TIME = r"\d+(\.\d+)? (us|ms|s)"


@pytest.fixture(autouse=True)
def small_demo(monkeypatch):
    monkeypatch.setattr(demo, "_GENERATED_SAMPLES", N_SAMPLES)
    monkeypatch.setattr(demo, "_MIXTURE_SAMPLES", N_SAMPLES)
    monkeypatch.setattr(demo, "_DIGITS_SETTLE_S", 0.0)
    monkeypatch.setattr(demo, "_GENERATED_SETTLE_S", 0.0)
    monkeypatch.setattr(demo, "_DBSCAN_SAMPLES", N_SAMPLES)
    monkeypatch.setattr(demo, "_DBSCAN_WARM_UP_SAMPLES", 500)


def _run(dtype=None, **params):
    stdout, stderr = io.StringIO(), io.StringIO()
    demo.run_demo({**PARAMS, **params}, dtype, stdout, stderr)
    return stdout.getvalue(), stderr.getvalue()


def _run_mixture(dtype=None, **params):
    stdout, stderr = io.StringIO(), io.StringIO()
    demo.run_demo({**MIXTURE_PARAMS, **params}, dtype, stdout, stderr,
                  "GaussianMixture")
    return stdout.getvalue(), stderr.getvalue()


DBSCAN_TITLE = "DBSCAN on two moons with noise: the speed and the clusters"


def _mixture_rows(out):
    """{(dtype, library): (n_iter, log-likelihood text, ARI text, time text, speed)}."""
    rows = {}
    # The DBSCAN section that follows has rows of the same shape.
    for line in out.split(DBSCAN_TITLE)[0].splitlines():
        match = re.fullmatch(
            rf"(float64|float32)  ({'|'.join(LIBRARIES)})\s+(\d+)\s+(\S+)\s+"
            rf"(-?\d\.\d{{4}})\s+({TIME})\s+(\d+\.\d\dx)", line)
        if match:
            dtype, library, n_iter, log_likelihood, ari, seconds, _, _, speed = (
                match.groups())
            rows[dtype, library] = int(n_iter), log_likelihood, ari, seconds, speed
    return rows


def _mixture_data():
    return make_blobs(n_samples=N_SAMPLES, n_features=demo._MIXTURE_FEATURES,
                      centers=demo._MIXTURE_COMPONENTS,
                      cluster_std=demo._MIXTURE_CLUSTER_STD,
                      random_state=demo._MIXTURE_SEED)


def _check_mixture_rows(rows, dtypes, params):
    """Every row of the mixture section is that of a fit run here, with the
    parameters the section prints; scikit-learn's row is scikit-learn's."""
    X, y = _mixture_data()
    assert sorted(rows) == sorted((d, lib) for d in dtypes for lib in LIBRARIES)
    for dtype in dtypes:
        X_dtype = X.astype(dtype)
        for estimator, library in ((GaussianMixture, "turbocluster"),
                                   (SklearnGaussianMixture, "scikit-learn")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = estimator(**params).fit(X_dtype)
            n_iter, log_likelihood, ari, _, _ = rows[dtype, library]
            assert n_iter == model.n_iter_ == params["max_iter"]  # tol=0: every one
            assert log_likelihood == format_log_likelihood(model.score(X_dtype))
            assert ari == f"{adjusted_rand_score(y, model.predict(X_dtype)):.4f}"
        assert rows[dtype, "scikit-learn"][4] == "1.00x"


def _generated_rows(out):
    """{(dtype, library): (n_iter, inertia text, fit time text, speed text)}."""
    rows = {}
    for line in out.splitlines():
        match = re.fullmatch(
            rf"(float64|float32)  ({'|'.join(LIBRARIES)})\s+(\d+)\s+(\S+)\s+"
            rf"({TIME})\s+(\d+\.\d\dx)", line)
        if match:
            dtype, library, n_iter, inertia, seconds, _, _, speed = match.groups()
            rows[dtype, library] = int(n_iter), inertia, seconds, speed
    return rows


def _generated_data():
    X, _ = make_blobs(n_samples=N_SAMPLES, n_features=demo._GENERATED_FEATURES,
                      centers=demo._GENERATED_CENTERS,
                      cluster_std=demo._GENERATED_CLUSTER_STD, random_state=0)
    return X


def test_both_sections_with_both_dtypes():
    out, err = _run()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("turbocluster ") and "scikit-learn" in lines[0]
    # Our thread count, first: alone when scikit-learn's is the same, named
    # when it differs (a serial build of ours, say).
    ours = f"{effective_n_threads()} OpenMP thread"
    assert any(line.startswith(f"threads         {ours}")
               or line.startswith(f"threads         turbocluster {ours}")
               for line in lines), out

    # The digits section, as the command line always printed it.
    assert "KMeans on the digits data set" in out
    assert "1797 samples x 64 features, float64" in out
    expected = KMeans(n_clusters=10, random_state=0).fit(load_digits().data)
    inertia_row = next(line for line in lines if line.startswith("inertia"))
    assert inertia_row.split()[1:] == [format_inertia(expected.inertia_)] * 2
    time_row = next(line for line in lines if line.startswith("fit time (median"))
    assert len(re.findall(TIME, time_row)) == 2
    assert "adjusted Rand index): 1.0000" in out

    # The generated section: both dtypes, both libraries, equal work.
    assert "KMeans on generated data" in out
    assert "median of 3 fits, after an untimed warm-up fit" in out
    assert f"make_blobs(n_samples={N_SAMPLES}, n_features=" in out
    rows = _generated_rows(out)
    assert sorted(rows) == sorted((d, lib) for d in ("float64", "float32")
                                  for lib in LIBRARIES), out
    X = _generated_data()
    assert "KMeans, GaussianMixture and DBSCAN side by side" in lines[0]
    for dtype in ("float64", "float32"):
        ours, theirs = rows[dtype, "turbocluster"], rows[dtype, "scikit-learn"]
        assert ours[0] == theirs[0], out
        assert theirs[3] == "1.00x"
        params = {"n_clusters": demo._GENERATED_CENTERS, "n_init": 1,
                  "max_iter": demo._GENERATED_MAX_ITER, "tol": 0, "random_state": 0}
        for estimator, row in ((KMeans, ours), (SklearnKMeans, theirs)):
            model = estimator(**params).fit(X.astype(dtype))
            assert row[0] == model.n_iter_
            assert row[1] == format_inertia(model.inertia_)
    assert "note" not in out  # printed only when the iteration counts differ

    # Then the mixture section, with its own parameters.
    assert out.index("KMeans on generated data") < out.index(
        "GaussianMixture on generated data: the speed on equal work")
    params = {"n_components": demo._MIXTURE_COMPONENTS, "covariance_type": "full",
              "init_params": "random_from_data", "n_init": 1,
              "max_iter": demo._MIXTURE_MAX_ITER, "tol": 0, "random_state": 0}
    _check_mixture_rows(_mixture_rows(out), ("float64", "float32"), params)

    # Last, DBSCAN with its own parameters, checked against a fit run here.
    assert out.index("GaussianMixture on generated data") < out.index(DBSCAN_TITLE)
    assert f"eps={demo._DBSCAN_EPS}, min_samples={demo._DBSCAN_MIN_SAMPLES}" in out
    rows = _dbscan_rows(out)
    assert sorted(rows) == sorted((d, lib) for d in ("float64", "float32")
                                  for lib in LIBRARIES), out
    X, truth = demo._dbscan_data()
    labels = DBSCAN(eps=demo._DBSCAN_EPS, min_samples=demo._DBSCAN_MIN_SAMPLES).fit(X).labels_
    expected = (str(labels.max() + 1), str(np.count_nonzero(labels == -1)),
                f"{adjusted_rand_score(truth, labels):.4f}")
    for dtype in ("float64", "float32"):
        assert rows[dtype, "turbocluster"][:3] == rows[dtype, "scikit-learn"][:3]
        assert rows[dtype, "scikit-learn"][-1] == "1.00x"
    assert rows["float64", "turbocluster"][:3] == expected
    text = " ".join(out.split())
    assert "float64 identical (ARI 1.0000), float32 identical (ARI 1.0000)" in text


def _dbscan_rows(out):
    """{(dtype, library): (clusters, noise, ARI, time, speed)} of the DBSCAN section."""
    rows = {}
    for line in out.split(DBSCAN_TITLE)[-1].splitlines():
        match = re.fullmatch(
            rf"(float64|float32)  ({'|'.join(LIBRARIES)})\s+(\d+)\s+(\d+)\s+"
            rf"(-?\d\.\d{{4}})\s+({TIME})\s+(\d+\.\d\dx)", line)
        if match:
            dtype, library, clusters, noise, ari, seconds, _, _, speed = match.groups()
            rows[dtype, library] = clusters, noise, ari, seconds, speed
    return rows


def test_one_dtype():
    out, err = _run(dtype="float32", n_clusters=5, random_state=3)
    assert err == ""
    assert "1797 samples x 64 features, float32" in out
    rows = _generated_rows(out)
    assert sorted(rows) == [("float32", lib) for lib in sorted(LIBRARIES)], out
    assert sorted(_mixture_rows(out)) == [("float32", lib) for lib in sorted(LIBRARIES)]
    assert sorted(_dbscan_rows(out)) == [("float32", lib) for lib in sorted(LIBRARIES)]
    assert "parameters      n_clusters=5, algorithm='lloyd', n_init=1" in out
    # --n-clusters is KMeans': the mixture keeps its own components; the
    # seed is for every section.
    assert "parameters      n_components=8, covariance_type='full'" in out
    assert "max_iter=10, tol=0, random_state=3" in out.replace("\n" + " " * 16, " ")
    expected = KMeans(n_clusters=5, n_init=1, max_iter=demo._GENERATED_MAX_ITER,
                      tol=0, random_state=3).fit(_generated_data().astype(np.float32))
    assert rows["float32", "turbocluster"][:2] == (
        expected.n_iter_, format_inertia(expected.inertia_))


def test_thread_count_follows_the_openmp_limit():
    with threadpool_limits(limits=1, user_api="openmp"):
        out, _ = _run(dtype="float64")
    assert "threads         1 OpenMP thread for each library" in out


def test_every_warning_printed_once(monkeypatch):
    # The demonstration fits each library some twenty times over its two
    # sections: a warning that every fit raises is still printed once.
    class WarningKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            warnings.warn("a warning of every fit", UserWarning)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(demo, "KMeans", WarningKMeans)
    out, err = _run()
    assert err == "turbocluster: warning: a warning of every fit\n"
    assert len(_generated_rows(out)) == 4


def test_unequal_iterations_are_noted(monkeypatch):
    # Were a library to stop early, its speed would not be a like-for-like one.
    class ShortKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            self.max_iter = min(self.max_iter, 2)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(demo, "KMeans", ShortKMeans)
    out, _ = _run(dtype="float64")
    rows = _generated_rows(out)
    assert rows["float64", "turbocluster"][0] == 2
    assert rows["float64", "scikit-learn"][0] > 2
    assert "note            in float64, a library converged before" in out


@pytest.mark.parametrize("generated_samples, n_clusters, n_samples, source", [
    (N_SAMPLES, 1798, 1797, "the digits data set"),
    (1000, 1001, 1000, "the generated data set"),
])
def test_too_many_clusters(generated_samples, n_clusters, n_samples, source,
                           monkeypatch):
    monkeypatch.setattr(demo, "_GENERATED_SAMPLES", generated_samples)
    stdout, stderr = io.StringIO(), io.StringIO()
    message = (rf"--n-clusters {n_clusters} is larger than the number of samples "
               rf"\({n_samples}\) in {source}")
    with pytest.raises(CLIError, match=message):
        demo.run_demo({**PARAMS, "n_clusters": n_clusters}, None, stdout, stderr)
    # Refused before any work: nothing printed.
    assert stdout.getvalue() == "" and stderr.getvalue() == ""


def test_minibatch_demo_compares_minibatchkmeans():
    # --algorithm minibatch: both MiniBatchKMeans, every step run, the same
    # number of passes; the same draws give the same clustering.
    stdout, stderr = io.StringIO(), io.StringIO()
    params = {"n_clusters": None, "n_init": "auto", "max_iter": 100, "random_state": 0}
    demo.run_demo(params, "float64", stdout, stderr, "MiniBatchKMeans")
    out = stdout.getvalue()
    assert "MiniBatchKMeans side by side" in out
    assert "MiniBatchKMeans on the digits data set" in out
    assert "MiniBatchKMeans on generated data" in out
    assert "batch_size=4096, max_no_improvement=None" in out
    rows = _generated_rows(out)
    ours, ref = rows["float64", "turbocluster"], rows["float64", "scikit-learn"]
    assert ours[0] == ref[0] == demo._GENERATED_MINIBATCH_PASSES
    assert ours[1] == ref[1]  # the same inertia, as printed
    assert "Traceback" not in stderr.getvalue()
    assert "GaussianMixture" not in out  # its own sections alone


###############################################################################
# GaussianMixture


def test_mixture_demo_alone():
    # --algorithm gmm: the mixture section alone, both dtypes, every figure
    # that of a fit run here; not converging at max_iter (tol=0) is the
    # point, not a warning.
    out, err = _run_mixture()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].endswith("GaussianMixture side by side")
    assert "digits" not in out and "KMeans" not in out
    assert f"make_blobs(n_samples={N_SAMPLES}, n_features=8, centers=8" in out
    assert f"median of {demo._MIXTURE_REPEATS} fits, after an untimed warm-up" in out
    params = {"n_components": demo._MIXTURE_COMPONENTS, "covariance_type": "full",
              "init_params": "random_from_data", "n_init": 1,
              "max_iter": demo._MIXTURE_MAX_ITER, "tol": 0, "random_state": 0}
    assert ("parameters      n_components=8, covariance_type='full', "
            "init_params='random_from_data', n_init=1, max_iter=10, tol=0, "
            "random_state=0") in out.replace("\n" + " " * 16, " ")
    rows = _mixture_rows(out)
    _check_mixture_rows(rows, ("float64", "float32"), params)
    agreement = next(line for line in lines if line.startswith("agreement"))
    assert re.fullmatch(r"agreement\s+of the two labelings \(adjusted Rand index\): "
                        r"float64 \d\.\d{4},", agreement), agreement
    assert "note" not in out


def test_mixture_demo_takes_the_options():
    out, err = _run_mixture("float32", n_components=3, covariance_type="diag",
                            max_iter=4, random_state=2)
    assert err == ""
    params = {"n_components": 3, "covariance_type": "diag",
              "init_params": "random_from_data", "n_init": 1, "max_iter": 4,
              "tol": 0, "random_state": 2}
    _check_mixture_rows(_mixture_rows(out), ("float32",), params)
    assert "untimed warm-up fit (2 iterations)" in out.replace("\n" + " " * 16, " ")


def test_mixture_demo_too_many_components():
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CLIError, match=rf"--n-components {N_SAMPLES + 1} is larger "
                                       rf"than the number of samples \({N_SAMPLES}\) "
                                       "in the generated data set"):
        demo.run_demo({**MIXTURE_PARAMS, "n_components": N_SAMPLES + 1}, None,
                      stdout, stderr, "GaussianMixture")
    assert stdout.getvalue() == "" and stderr.getvalue() == ""


def test_mixture_demo_prints_other_warnings_once(monkeypatch):
    # ConvergenceWarning is expected (tol=0); any other warning is printed,
    # once for all the fits.
    class WarningMixture(GaussianMixture):
        def fit(self, X, y=None):
            warnings.warn("a warning of every fit", UserWarning, stacklevel=2)
            return super().fit(X, y)

    monkeypatch.setattr(demo, "GaussianMixture", WarningMixture)
    out, err = _run_mixture("float64")
    assert err == "turbocluster: warning: a warning of every fit\n"
    assert len(_mixture_rows(out)) == 2


def test_mixture_demo_notes_unequal_iterations(monkeypatch):
    class ShortMixture(GaussianMixture):
        def fit(self, X, y=None):
            self.max_iter = min(self.max_iter, 2)
            return super().fit(X, y)

    monkeypatch.setattr(demo, "GaussianMixture", ShortMixture)
    out, _ = _run_mixture("float64")
    rows = _mixture_rows(out)
    assert rows["float64", "turbocluster"][0] == 2
    assert rows["float64", "scikit-learn"][0] == demo._MIXTURE_MAX_ITER
    assert "note            in float64, a library stopped before max_iter=10" in out
