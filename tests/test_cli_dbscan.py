"""The command line's DBSCAN: ``--algorithm dbscan --eps E --min-samples M``."""

import re

import numpy as np
import pytest
from sklearn.cluster import DBSCAN as SklearnDBSCAN
from sklearn.datasets import make_moons
from sklearn.metrics import adjusted_rand_score

from turbocluster import DBSCAN
from turbocluster.__main__ import main
from cli_helpers import check_error as _check_error
from cli_helpers import run as _run
from cli_helpers import labels_from


def _labels_from(text):
    return labels_from(text, noise=True)

EPS, MIN_SAMPLES = 0.2, 8





@pytest.fixture(scope="module")
def moons():
    """Two moons and uniform noise: clusters, border samples and noise."""
    X, _ = make_moons(n_samples=400, noise=0.06, random_state=0)
    rng = np.random.default_rng(0)
    return np.concatenate([X, rng.uniform([-1.5, -1.0], [2.5, 1.5], size=(40, 2))])


@pytest.fixture
def moons_file(tmp_path, moons):
    path = tmp_path / "moons.npy"
    np.save(path, moons)
    return path


def _field(err, name):
    return next(line for line in err.splitlines() if line.startswith(name))


###############################################################################
# Labels and summary


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dbscan_labels_equal_a_direct_fit(capsys, moons, moons_file, dtype):
    out, err = _run(capsys, [str(moons_file), "--algorithm", "dbscan", "--eps", str(EPS),
                             "--min-samples", str(MIN_SAMPLES), "--dtype", dtype])
    labels = _labels_from(out)
    X = moons.astype(dtype)
    model = DBSCAN(eps=EPS, min_samples=MIN_SAMPLES).fit(X)
    np.testing.assert_array_equal(labels, model.labels_)
    # The same clustering as scikit-learn's, up to the clusters' ids.
    reference = SklearnDBSCAN(eps=EPS, min_samples=MIN_SAMPLES).fit(X).labels_
    np.testing.assert_array_equal(labels == -1, reference == -1)
    assert adjusted_rand_score(reference, labels) == 1.0

    n_clusters, n_noise = labels.max() + 1, np.count_nonzero(labels == -1)
    assert n_clusters == 2 and 0 < n_noise < 40  # some noise reaches a moon
    assert f"DBSCAN(eps={EPS}, min_samples={MIN_SAMPLES})" in err
    assert _field(err, "clusters").split() == ["clusters", str(n_clusters)]
    assert _field(err, "noise").startswith(
        f"noise           {n_noise} of {len(X)} samples (")
    assert "labelled -1" in _field(err, "noise")
    assert _field(err, "core samples").split()[-1] == str(
        model.core_sample_indices_.size)
    sizes = [int(v) for v in _field(err, "cluster sizes").split()[2:]]
    assert sizes == np.bincount(labels[labels >= 0]).tolist()
    assert "fitted in " in err and f"2 clusters, {n_noise} noise samples" in err


def test_dbscan_min_samples_defaults_to_five(capsys, moons, moons_file):
    out, err = _run(capsys, [str(moons_file), "--algorithm", "dbscan", "--eps", "0.1"])
    np.testing.assert_array_equal(_labels_from(out),
                                  DBSCAN(eps=0.1, min_samples=5).fit(moons).labels_)
    assert "DBSCAN(eps=0.1, min_samples=5)" in err


def test_dbscan_all_noise(capsys, moons, moons_file):
    out, err = _run(capsys, [str(moons_file), "--algorithm", "dbscan", "--eps", "1e-6"])
    assert (_labels_from(out) == -1).all()
    assert _field(err, "clusters").split() == ["clusters", "0"]
    assert _field(err, "cluster sizes").split()[-1] == "none"


def test_dbscan_table_output(tmp_path, capsys, moons):
    pd = pytest.importorskip("pandas")
    path, output = tmp_path / "moons.csv", tmp_path / "out.csv"
    pd.DataFrame(moons, columns=["x", "y"]).to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--algorithm", "dbscan", "--eps", str(EPS),
                           "--min-samples", str(MIN_SAMPLES), "--output", str(output)])
    written = pd.read_csv(output)
    assert list(written.columns) == ["x", "y", "cluster"]
    np.testing.assert_array_equal(
        written["cluster"], DBSCAN(eps=EPS, min_samples=MIN_SAMPLES).fit(moons).labels_)
    assert (written["cluster"] == -1).any()
    assert "the table with a 'cluster' column" in err


def test_dbscan_npy_output_and_standardize(tmp_path, capsys, moons, moons_file):
    from sklearn.preprocessing import StandardScaler

    output = tmp_path / "labels.npy"
    _run(capsys, [str(moons_file), "--algorithm", "dbscan", "--eps", "0.3",
                  "--standardize", "--output", str(output)])
    expected = DBSCAN(eps=0.3).fit(StandardScaler().fit_transform(moons)).labels_
    np.testing.assert_array_equal(np.load(output), expected)


def test_dbscan_plot(tmp_path, capsys, moons_file):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "dbscan.png"
    _, err = _run(capsys, [str(moons_file), "--algorithm", "dbscan", "--eps", str(EPS),
                           "--plot", str(plot)])
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert re.search(r"plotted in \d", err)


###############################################################################
# Errors


@pytest.mark.parametrize("argv, fragment", [
    (["--eps", "0.5"], "--eps applies to --algorithm dbscan"),
    (["--min-samples", "5"], "--min-samples applies to --algorithm dbscan"),
    (["--algorithm", "gmm", "--eps", "0.5"], "--eps applies to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--eps", "0"], "expected a positive number, got '0'"),
    (["--algorithm", "dbscan", "--eps", "-1"], "expected a positive number"),
    (["--algorithm", "dbscan", "--eps", "inf"], "expected a positive number"),
    (["--algorithm", "dbscan", "--eps", "nan"], "expected a positive number"),
    (["--algorithm", "dbscan", "--min-samples", "0"], "expected a positive integer"),
    (["--algorithm", "dbscan", "--n-clusters", "3"],
     "--n-clusters does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--n-components", "3"],
     "--n-components does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--choose-k", "2..4"],
     "--choose-k does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--anomalies", "0.1"],
     "--anomalies does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--covariance-type", "diag"],
     "--covariance-type does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--n-init", "3"],
     "--n-init does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--max-iter", "3"],
     "--max-iter does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--tol", "0.1"],
     "--tol does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--random-state", "3"],
     "--random-state does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--verbose"],
     "--verbose does not apply to --algorithm dbscan"),
    (["--algorithm", "dbscan", "--output", "labels.txt"], "--output: needs a PATH"),
])
def test_dbscan_bad_options(capsys, argv, fragment):
    _check_error(capsys, argv, fragment)


def test_dbscan_needs_eps_with_a_file(capsys, moons_file):
    _check_error(capsys, [str(moons_file), "--algorithm", "dbscan", "--min-samples", "5"],
                 "--eps is required to run DBSCAN on")


def test_help_documents_dbscan(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    for fragment in ("dbscan (DBSCAN:", "--eps E", "--min-samples M",
                     "--eps is required with PATH, --min-samples defaults to 5",
                     "labelled -1", "python -m turbocluster --algorithm dbscan",
                     "points.csv --algorithm dbscan --eps 0.3", "--min-samples 10 > labels.txt",
                     "--n-init, --max-iter, --tol, --random-state"):
        assert fragment in out, fragment


###############################################################################
# The demonstration


def test_no_path_with_dbscan_runs_the_dbscan_demonstration(capsys, monkeypatch):
    import turbocluster._cli_demo as demo

    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda *a: calls.append(a))
    _run(capsys, ["--algorithm", "dbscan"])
    (params, dtype, _, _, estimator), = calls
    assert params == {} and dtype is None and estimator == "DBSCAN"
    calls.clear()
    _run(capsys, ["--algorithm", "dbscan", "--eps", "0.1", "--min-samples", "7",
                  "--dtype", "float32"])
    (params, dtype, _, _, estimator), = calls
    assert params == {"eps": 0.1, "min_samples": 7} and dtype == "float32"


def test_dbscan_demo(capsys, monkeypatch):
    import turbocluster._cli_demo as demo

    monkeypatch.setattr(demo, "_DBSCAN_SAMPLES", 3_000)
    monkeypatch.setattr(demo, "_DBSCAN_WARM_UP_SAMPLES", 500)
    monkeypatch.setattr(demo, "_GENERATED_SETTLE_S", 0.0)
    out, err = _run(capsys, ["--algorithm", "dbscan", "--eps", "0.15",
                             "--min-samples", "10"])
    lines = out.splitlines()
    assert lines[0].endswith("DBSCAN side by side")
    assert "DBSCAN on two moons with noise: the speed and the clusters" in out
    assert "eps=0.15, min_samples=10" in out
    rows = [line.split() for line in lines if line.startswith(("float64 ", "float32 "))]
    assert [row[:2] for row in rows] == [
        ["float64", "turbocluster"], ["float64", "scikit-learn"],
        ["float32", "turbocluster"], ["float32", "scikit-learn"]]
    for ours, theirs in (rows[0:2], rows[2:4]):
        assert ours[2:5] == theirs[2:5]  # clusters, noise, ARI
        assert ours[2] == "2"
        assert theirs[-1] == "1.00x" and ours[-1].endswith("x")
    text = " ".join(out.split())
    assert "float64 identical (ARI 1.0000), float32 identical (ARI 1.0000)" in text
    assert "KMeans" not in out and "GaussianMixture" not in out
