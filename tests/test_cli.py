"""The command line: ``python -m turbocluster`` and ``turbocluster.__main__.main``.

Most tests call ``main([...])`` in-process and read its output with capsys;
one runs the module through a subprocess, as a user would.
"""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

import turbocluster
from turbocluster import KMeans
from turbocluster.__main__ import main

N_SAMPLES = 60
N_CLUSTERS = 3


@pytest.fixture(scope="module")
def blobs():
    # Well separated blobs: any correct K-means recovers them exactly.
    X, y = make_blobs(
        n_samples=N_SAMPLES, centers=N_CLUSTERS, n_features=2, cluster_std=0.5,
        random_state=0,
    )
    return X, y


def _labels_from(text):
    lines = text.splitlines()
    assert all(re.fullmatch(r"\d+", line) for line in lines), text[:200]
    return np.array([int(line) for line in lines])


def _check_labels(labels, X, y, dtype=np.float64, **params):
    """The CLI's labels are those of the library, and recover the blobs."""
    assert labels.shape == (N_SAMPLES,)
    assert labels.min() >= 0 and labels.max() < N_CLUSTERS
    expected = KMeans(n_clusters=N_CLUSTERS, random_state=0, **params).fit(
        X.astype(dtype)
    ).labels_
    np.testing.assert_array_equal(labels, expected)
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)


def _check_error(capsys, argv, *fragments):
    """Exit status 2, one clean message on stderr, nothing on stdout."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "turbocluster: error:" in err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


###############################################################################
# The demonstration (no PATH)


def test_default_run_compares_with_scikit_learn(capsys):
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "digits" in out and "1797 samples x 64 features" in out
    for word in ("inertia", "silhouette", "fit time", "speed"):
        assert word in out

    # The two estimators agree on digits: same inertia, same partition.
    expected = KMeans(n_clusters=10, random_state=0).fit(load_digits().data)
    inertia_row = next(line for line in out.splitlines() if line.startswith("inertia"))
    assert inertia_row.split()[1:] == [f"{expected.inertia_:.10g}"] * 2
    assert "adjusted Rand index): 1.0000" in out

    # One fit time per estimator, each with a unit.
    time_row = next(line for line in out.splitlines() if line.startswith("fit time"))
    assert len(re.findall(r"\d+(\.\d+)? (us|ms|s)\b", time_row)) == 2
    silhouette_row = next(
        line for line in out.splitlines() if line.startswith("silhouette")
    )
    scores = [float(v) for v in silhouette_row.split()[2:]]
    assert len(scores) == 2 and all(0 < s < 1 for s in scores)

    # Cluster sizes: ten per estimator, the expected ones, adding up to the data set.
    sizes = {}
    for line in out.splitlines():
        for name in ("turbocluster", "scikit-learn"):
            if line.startswith(f"  {name}"):
                sizes[name] = [int(v) for v in line.split()[1:]]
    np.testing.assert_array_equal(sizes["turbocluster"],
                                  np.bincount(expected.labels_, minlength=10))
    assert sum(sizes["scikit-learn"]) == 1797


def test_default_run_prints_each_warning_once(capsys, monkeypatch):
    # The demonstration fits each estimator several times: a warning that
    # every fit raises is still printed once.
    import turbocluster._cli as cli

    class WarningKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            warnings.warn("a warning of every fit", UserWarning)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(cli, "KMeans", WarningKMeans)
    assert main([]) == 0
    _, err = capsys.readouterr()
    assert err == "turbocluster: warning: a warning of every fit\n"


###############################################################################
# Clustering a file


@pytest.mark.parametrize("header", [None, "x,y", "id,2019"])
def test_csv(tmp_path, capsys, blobs, header):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",", header=header or "", comments="")
    assert (path.read_text().splitlines()[0] == header) == (header is not None)

    assert main([str(path), "--n-clusters", "3"]) == 0
    out, err = capsys.readouterr()
    _check_labels(_labels_from(out), X, y)
    assert f"{N_SAMPLES} samples x 2 features, float64" in err
    assert ("header row skipped" in err) == (header is not None)
    assert "inertia" in err and "fit time" in err
    sizes_row = next(
        line for line in err.splitlines() if line.startswith("cluster sizes")
    )
    assert sorted(int(v) for v in sizes_row.split()[2:]) == [20, 20, 20]


def test_npy_keeps_float32(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X.astype(np.float32))
    assert main([str(path), "--n-clusters", "3", "--algorithm", "elkan"]) == 0
    out, err = capsys.readouterr()
    _check_labels(_labels_from(out), X, y, dtype=np.float32, algorithm="elkan")
    assert "float32" in err and "algorithm='elkan'" in err


def test_dtype_float32(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    argv = [str(path), "--n-clusters", "3", "--dtype", "float32", "--n-init", "2",
            "--max-iter", "50", "--random-state", "0"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    _check_labels(_labels_from(out), X, y, dtype=np.float32, n_init=2, max_iter=50)
    assert f"{N_SAMPLES} samples x 2 features, float32" in err


def test_output_file(tmp_path, capsys, blobs):
    X, y = blobs
    path, output = tmp_path / "data.npy", tmp_path / "labels.txt"
    np.save(path, X)
    assert main([str(path), "--n-clusters", "3", "--output", str(output)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    text = output.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == N_SAMPLES
    _check_labels(_labels_from(text), X, y)
    assert f"{N_SAMPLES} lines written to {output}" in err


def test_version_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "turbocluster", "--version"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"turbocluster {turbocluster.__version__}"


###############################################################################
# Errors: status 2 and a message, never a traceback


def test_missing_file(tmp_path, capsys):
    _check_error(capsys, [str(tmp_path / "nope.csv"), "--n-clusters", "2"],
                 "nope.csv: no such file")


def test_unsupported_extension(tmp_path, capsys):
    path = tmp_path / "data.txt"
    path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "2"],
                 "unsupported file type ('.txt')", ".csv or .npy")


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", "", "the file is empty"),
    ("blank.csv", "\n\n", "the file is empty"),
    ("header.csv", "a,b\n", "the file has a header row but no data rows"),
    ("empty.npy", "", "the file is empty"),
])
def test_empty_file(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    _check_error(capsys, [str(path), "--n-clusters", "1"], f"{name}: {message}")


@pytest.mark.parametrize("content, fragments", [
    ("a,b\n1,2\n3,x\n", ["row 3, column 2 ('b')", "'x' is not a number"]),
    ("1,2\nfoo,4\n5,6\n", ["row 2, column 1:", "'foo' is not a number"]),
    ("1,2\n3,\n", ["row 2, column 2", "empty value"]),
    ("1;2\n3;4\n", ["is not a number", "separated by commas"]),
    ("1,2\n3,4,5\n", ["row 2 has 3 fields, expected 2"]),
])
def test_non_numeric_csv(tmp_path, capsys, content, fragments):
    path = tmp_path / "data.csv"
    path.write_text(content)
    _check_error(capsys, [str(path), "--n-clusters", "1"], *fragments)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_csv(tmp_path, capsys, value):
    path = tmp_path / "data.csv"
    path.write_text(f"a,b\n1,2\n3,4\n5,{value}\n")
    _check_error(capsys, [str(path), "--n-clusters", "1"],
                 "row 4, column 2 ('b')", "not a finite number")


def test_non_finite_npy(tmp_path, capsys):
    X = np.ones((5, 3))
    X[3, 1] = np.nan
    path = tmp_path / "data.npy"
    np.save(path, X)
    _check_error(capsys, [str(path), "--n-clusters", "1"],
                 "X[3, 1]", "not a finite number")


def test_too_large_for_float32(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n1e39,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1", "--dtype", "float32"],
                 "row 2, column 1", "too large for float32")


@pytest.mark.parametrize("array, fragment", [
    (np.arange(6.0), "1-D"),
    (np.ones((2, 2, 2)), "3-D"),
    (np.ones((0, 3)), "no samples"),
    (np.ones((3, 2), dtype=complex), "dtype complex128"),
])
def test_bad_npy_shape_or_dtype(tmp_path, capsys, array, fragment):
    path = tmp_path / "data.npy"
    np.save(path, array)
    _check_error(capsys, [str(path), "--n-clusters", "1"], fragment)


def test_not_an_npy_file(tmp_path, capsys):
    path = tmp_path / "data.npy"
    path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1"], "not a NumPy .npy file")


def test_more_clusters_than_samples(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    _check_error(capsys, [str(path), "--n-clusters", "4"],
                 "--n-clusters 4 is larger than the number of samples (3)")


def test_path_without_n_clusters(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n")
    err = _check_error(capsys, [str(path)], "--n-clusters is required")
    assert err.startswith("usage: turbocluster")


@pytest.mark.parametrize("argv, fragment", [
    (["--n-clusters", "0"], "expected a positive integer, got 0"),
    (["--n-init", "many"], "expected 'auto' or a positive integer"),
    (["--random-state", "-1"], "expected an integer between 0 and"),
    (["--algorithm", "auto"], "invalid choice: 'auto'"),
    (["--output", "labels.txt"], "--output needs a PATH"),
])
def test_bad_options(capsys, argv, fragment):
    _check_error(capsys, argv, fragment)


def test_output_would_overwrite_input(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1", "--output", str(path)],
                 "would overwrite the input file")
    assert path.read_text() == "1,2\n3,4\n"
