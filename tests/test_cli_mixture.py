"""The command line's Gaussian mixtures: ``--algorithm gmm`` and ``--anomalies``."""

import importlib.util
import re

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from turbocluster.__main__ import main
from cli_helpers import labels_from as _labels_from
from cli_helpers import check_error as _check_error
from cli_helpers import run as _run
from cli_helpers import warnings_in as _warnings

pd = pytest.importorskip("pandas")

N_SAMPLES = 60  # the size of conftest's blobs
N_CLUSTERS = 3






def _mixture(X, dtype=np.float64, **params):
    from turbocluster._mixture import GaussianMixture

    params = {"n_components": N_CLUSTERS, "random_state": 0, **params}
    return GaussianMixture(**params).fit(np.asarray(X, dtype=dtype))


def _detector(X, contamination, dtype=np.float64, **params):
    from turbocluster._anomaly import GaussianMixtureAnomalyDetector

    params = {"n_components": N_CLUSTERS, "random_state": 0, **params}
    return GaussianMixtureAnomalyDetector(contamination=contamination, **params).fit(
        np.asarray(X, dtype=dtype))


def _flags_from(text):
    lines = text.splitlines()
    assert set(lines) <= {"1", "-1"}, text[:200]
    return np.array([int(line) for line in lines])


###############################################################################
# The demonstration (no PATH): its content is tested in test_cli_demo.py


def test_no_path_with_gmm_runs_the_mixture_demonstration(capsys, monkeypatch):
    import turbocluster._cli_demo as demo

    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda *a: calls.append(a))
    _run(capsys, ["--algorithm", "gmm"])
    (params, dtype, _, _, estimator), = calls
    # --n-init auto is KMeans' rule: a mixture's default is one run.
    assert params == dict(n_components=None, covariance_type="full", n_init=1,
                          max_iter=100, random_state=0)
    assert dtype is None and estimator == "GaussianMixture"
    calls.clear()
    _run(capsys, ["--algorithm", "gmm", "--n-clusters", "4", "--covariance-type",
                  "tied", "--tol", "0.01", "--n-init", "2", "--max-iter", "7",
                  "--random-state", "5", "--dtype", "float32"])
    (params, dtype, _, _, estimator), = calls
    assert params == dict(n_components=4, covariance_type="tied", n_init=2,
                          max_iter=7, tol=0.01, random_state=5)
    assert dtype == "float32" and estimator == "GaussianMixture"


###############################################################################
# --algorithm gmm


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gmm_labels(tmp_path, capsys, blobs, covariance_type):
    # The labels are those of GaussianMixture fitted with the same parameters
    # (predict after fit), and recover the blobs.
    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    out, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                             "--covariance-type", covariance_type])
    labels = _labels_from(out)
    model = _mixture(X, covariance_type=covariance_type)
    np.testing.assert_array_equal(labels, model.predict(X))
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)
    assert (f"GaussianMixture(n_components=3, covariance_type='{covariance_type}', "
            "n_init=1, max_iter=100, random_state=0)") in err.replace("\n" + " " * 16, " ")
    assert f"iterations      {model.n_iter_} (converged)" in err
    assert f"log-likelihood  {model.score(X):.8g} (mean per sample)" in err
    sizes_row = next(line for line in err.splitlines()
                     if line.startswith("component sizes"))
    assert sorted(int(v) for v in sizes_row.split()[2:]) == [20, 20, 20]
    assert re.search(r"fitted in .*: \d+ iterations?, converged, mean log-likelihood",
                     err)


def test_gmm_n_clusters_is_n_components(tmp_path, capsys, blobs):
    X, _ = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    by_components, _ = _run(capsys, [str(path), "--algorithm", "gmm",
                                     "--n-components", "3"])
    by_clusters, err = _run(capsys, [str(path), "--algorithm", "gmm",
                                     "--n-clusters", "3"])
    assert by_clusters == by_components
    assert "GaussianMixture(n_components=3," in err


def test_gmm_options(tmp_path, capsys, blobs):
    # --dtype, --n-init, --max-iter, --tol and --random-state reach the mixture.
    X, _ = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    out, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                             "--dtype", "float32", "--n-init", "2", "--max-iter", "50",
                             "--tol", "1e-5", "--random-state", "3"])
    model = _mixture(X, dtype=np.float32, n_init=2, max_iter=50, tol=1e-5,
                     random_state=3)
    np.testing.assert_array_equal(_labels_from(out), model.predict(X.astype(np.float32)))
    assert f"{N_SAMPLES} samples x 2 features, float32" in err
    assert "n_init=2, max_iter=50, tol=1e-05, random_state=3" in err


def test_gmm_standardize_and_verbose(tmp_path, capsys, blobs):
    X, _ = blobs
    path = tmp_path / "data.npy"
    np.save(path, X * [1.0, 1000.0])
    out, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                             "--standardize", "--verbose"])
    expected = _mixture(StandardScaler().fit_transform(X * [1.0, 1000.0]))
    np.testing.assert_array_equal(_labels_from(out), expected.predict(
        StandardScaler().fit_transform(X * [1.0, 1000.0])))
    # Every iteration, on stderr: stdout holds the labels alone.
    assert re.search(r"^Initialization 0$", err, flags=re.MULTILINE)
    assert re.search(r"^  Iteration 1\t", err, flags=re.MULTILINE)


@pytest.mark.parametrize("covariance_type, warned", [
    ("full", False), ("diag", False), ("spherical", True),
])
def test_gmm_spread_warning_only_for_spherical(tmp_path, capsys, wine_frame,
                                               covariance_type, warned):
    # Full, tied and diagonal covariances follow each feature's spread.
    path = tmp_path / "wine.csv"
    wine_frame.drop(columns="target").to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                           "--covariance-type", covariance_type])
    assert any("spreads differ" in w for w in _warnings(err)) == warned


def test_gmm_table_output(tmp_path, capsys, blobs):
    X, _ = blobs
    path, output = tmp_path / "data.csv", tmp_path / "out.csv"
    pd.DataFrame(X, columns=["a", "b"]).to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                           "--output", str(output)])
    written = pd.read_csv(output)
    assert list(written.columns) == ["a", "b", "cluster"]
    np.testing.assert_array_equal(written["cluster"], _mixture(X).predict(X))
    assert "the table with a 'cluster' column" in err


def test_gmm_plot(tmp_path, capsys, blobs):
    pytest.importorskip("matplotlib")
    path, plot = tmp_path / "data.npy", tmp_path / "mixture.png"
    np.save(path, blobs[0])
    _, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                           "--plot", str(plot)])
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert re.search(r"plotted in \d", err)


###############################################################################
# --anomalies


@pytest.mark.parametrize("fraction", ["0.05", "0.5"])
def test_anomalies_flags(tmp_path, capsys, blobs, fraction):
    # +1 inlier, -1 outlier: the detector's predict after fit, with the same
    # parameters.
    X, _ = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    out, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                             "--anomalies", fraction])
    flags = _flags_from(out)
    detector = _detector(X, float(fraction))
    np.testing.assert_array_equal(flags, detector.predict(X))
    n_outliers = int(np.sum(flags == -1))
    assert 0 < n_outliers <= round(float(fraction) * N_SAMPLES) + 1
    assert f"outliers        {n_outliers} of {N_SAMPLES} samples" in err
    assert f"threshold       log-likelihood {detector.offset_:.8g} (offset_)" in err
    assert f"log-likelihood  {detector.score(X):.8g} (mean per sample)" in err
    assert f"iterations      {detector.n_iter_} (converged)" in err
    assert f"contamination={float(fraction)}" in err
    assert f"wrote {N_SAMPLES} outlier flags to stdout" in err


def test_anomalies_options_and_npy_output(tmp_path, capsys, blobs):
    X, _ = blobs
    path, output = tmp_path / "data.csv", tmp_path / "flags.npy"
    np.savetxt(path, X, delimiter=",")
    out, _ = _run(capsys, [str(path), "--algorithm", "gmm", "--n-clusters", "2",
                           "--covariance-type", "diag", "--anomalies", "0.1",
                           "--dtype", "float32", "--random-state", "4",
                           "--output", str(output)])
    assert out == ""
    detector = _detector(X, 0.1, dtype=np.float32, n_components=2,
                         covariance_type="diag", random_state=4)
    np.testing.assert_array_equal(np.load(output),
                                  detector.predict(X.astype(np.float32)))


@pytest.mark.parametrize("output", ["out.csv", "out.tsv", "out.parquet"])
def test_anomalies_table_with_inlier_column(tmp_path, capsys, blobs, output):
    if output.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    X, _ = blobs
    frame = pd.DataFrame({"name": [f"s{i}" for i in range(N_SAMPLES)],
                          "a": X[:, 0], "b": X[:, 1]})
    path, output = tmp_path / "data.csv", tmp_path / output
    frame.to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                           "--anomalies", "0.1", "--output", str(output)])
    if output.suffix == ".parquet":
        written = pd.read_parquet(output)
    else:
        written = pd.read_csv(output, sep="\t" if output.suffix == ".tsv" else ",")
    assert list(written.columns) == ["name", "a", "b", "inlier"]
    pd.testing.assert_frame_equal(written[["name", "a", "b"]], frame)
    np.testing.assert_array_equal(written["inlier"], _detector(X, 0.1).predict(X))
    assert "the table with an 'inlier' column" in err


def test_anomalies_plot(tmp_path, capsys, blobs):
    pytest.importorskip("matplotlib")
    path, plot = tmp_path / "data.npy", tmp_path / "outliers.svg"
    np.save(path, blobs[0])
    _run(capsys, [str(path), "--algorithm", "gmm", "--n-components", "3",
                  "--anomalies", "0.1", "--plot", str(plot)])
    assert b"<svg" in plot.read_bytes()[:500]


###############################################################################
# Errors and --help


@pytest.mark.parametrize("argv, fragment", [
    (["--n-components", "3"], ("--n-components applies to --algorithm gmm; k-means "
                               "takes --n-clusters")),
    (["--covariance-type", "diag"], "--covariance-type applies to --algorithm gmm"),
    (["--anomalies", "0.1"], "--anomalies needs --algorithm gmm"),
    (["--algorithm", "minibatch", "--anomalies", "0.1"],
     "--anomalies needs --algorithm gmm"),
    (["--algorithm", "gmm", "--anomalies", "0"], ("expected a fraction of the samples "
                                                  "in (0, 0.5], like 0.01, got '0'")),
    (["--algorithm", "gmm", "--anomalies", "0.6"], "in (0, 0.5]"),
    (["--algorithm", "gmm", "--anomalies", "-0.1"], "in (0, 0.5]"),
    (["--algorithm", "gmm", "--anomalies", "nan"], "in (0, 0.5]"),
    (["--algorithm", "gmm", "--anomalies", "few"], "in (0, 0.5]"),
    (["--algorithm", "gmm", "--anomalies", "0.1"], "--anomalies: needs a PATH"),
    (["--algorithm", "gmm", "--covariance-type", "round"], "invalid choice: 'round'"),
    (["--algorithm", "gmm", "--n-components", "0"], "expected a positive integer"),
    (["--tol", "-1"], "expected a non-negative number, got '-1'"),
    (["--tol", "inf"], "expected a non-negative number"),
])
def test_gmm_bad_options(capsys, argv, fragment):
    _check_error(capsys, argv, fragment)


@pytest.mark.parametrize("argv, fragment", [
    (["--choose-k", "2..4", "--n-components", "3"],
     "--n-components and --choose-k: give one of them"),
    (["--choose-k", "2..4", "--anomalies", "0.1"],
     "--choose-k and --anomalies: give one of them"),
    (["--n-clusters", "3", "--n-components", "3"],
     "--n-clusters and --n-components: give one of them"),
    ([], "--n-components (or --n-clusters, or --choose-k) is required to fit a "
         "Gaussian mixture"),
    (["--n-components", "61"], ("--n-components 61 is larger than the number of "
                                f"samples ({N_SAMPLES})")),
    (["--n-clusters", "61", "--anomalies", "0.1"],
     f"--n-clusters 61 is larger than the number of samples ({N_SAMPLES})"),
])
def test_gmm_bad_combinations_with_a_file(tmp_path, capsys, blobs, argv, fragment):
    path = tmp_path / "data.npy"
    np.save(path, blobs[0])
    _check_error(capsys, [str(path), "--algorithm", "gmm", *argv], fragment)


def test_help_documents_gmm(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    for fragment in ("gmm (GaussianMixture", "--n-components K",
                     "--covariance-type TYPE", "full (each its own ellipsoid), tied",
                     "spherical (default: full)", "--anomalies FRACTION",
                     "1 for an inlier, -1 for an outlier",
                     "a table output gets an 'inlier' column",
                     "--n-clusters K is another name for --n-components K",
                     "--n-init auto means 1", "--choose-k adds each number's BIC and AIC",
                     "python -m turbocluster --algorithm gmm",
                     "--tol TOL", "gmm 1e-3", "gmm 100"):
        assert fragment in out, fragment


def test_choose_k_with_gmm_adds_bic_and_aic(tmp_path, capsys, blobs):
    # --choose-k with a mixture: the table gains BIC and AIC, the BIC's
    # choice is recommended and its labels written, and the plot draws the
    # BIC curve beside the elbow.
    from turbocluster import GaussianMixture, select_n_clusters

    X, _ = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    labels_path = tmp_path / "labels.txt"
    out, err = _run(capsys, [str(path), "--algorithm", "gmm", "--choose-k", "2..5",
                             "--output", str(labels_path)])
    expected = select_n_clusters(
        X, range(2, 6), estimator=GaussianMixture(random_state=0))
    assert "BIC" in out and "AIC" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert [float(r[5]) for r in rows] == pytest.approx(expected.bic, abs=0.1)
    assert [float(r[6]) for r in rows] == pytest.approx(expected.aic, abs=0.1)
    assert f"BIC (lowest)                  {expected.recommended['bic']}" in out
    np.testing.assert_array_equal(np.loadtxt(labels_path, dtype=int),
                                  expected.best_labels_)
    assert "fitting GaussianMixture for 2 to 5 clusters" in err
    if importlib.util.find_spec("matplotlib") is not None:
        plot = tmp_path / "k.png"
        _run(capsys, [str(path), "--algorithm", "gmm", "--choose-k", "2..4",
                      "--plot", str(plot)])
        assert plot.read_bytes()[:4] == b"\x89PNG"
