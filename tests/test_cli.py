"""The command line: ``python -m turbocluster`` and ``turbocluster.__main__.main``.

Most tests call ``main([...])`` in-process and read its output with capsys;
a few run the module through a subprocess, as a user would. Where they fit,
the files are those that scikit-learn ships with its data sets, which nobody
here wrote.
"""

import bz2
import gzip
import io
import lzma
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sklearn.datasets
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

import turbocluster
from turbocluster import KMeans
from turbocluster.__main__ import main
from cli_helpers import labels_from as _labels_from
from cli_helpers import check_error as _check_error
from cli_helpers import run as _run
from cli_helpers import warnings_in as _warnings

pd = pytest.importorskip("pandas")

N_SAMPLES = 60  # the size of conftest's blobs
N_CLUSTERS = 3
SKLEARN_DATA = Path(sklearn.datasets.__file__).parent / "data"



def _expected_labels(X, n_clusters=N_CLUSTERS, dtype=np.float64, **params):
    return KMeans(n_clusters=n_clusters, random_state=0, **params).fit(
        np.asarray(X, dtype=dtype)
    ).labels_


def _check_labels(labels, X, y, dtype=np.float64, **params):
    """The CLI's labels are those of the library, and recover the blobs."""
    assert labels.shape == (N_SAMPLES,)
    np.testing.assert_array_equal(labels, _expected_labels(X, dtype=dtype, **params))
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)





###############################################################################
# The demonstration (no PATH): its content is tested in test_cli_demo.py


def test_no_path_runs_the_demonstration_with_the_options(capsys, monkeypatch):
    import turbocluster._cli_demo as demo

    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda *a: calls.append(a))
    _run(capsys, ["--n-clusters", "7", "--algorithm", "elkan", "--dtype", "float32"])
    (params, dtype, _, _, estimator), = calls
    assert params == dict(n_clusters=7, algorithm="elkan", n_init="auto",
                          max_iter=300, random_state=0)
    assert dtype == "float32" and estimator == "KMeans"
    calls.clear()
    _run(capsys, ["--algorithm", "minibatch"])
    (params, _, _, _, estimator), = calls
    assert params == dict(n_clusters=None, n_init="auto", max_iter=100, random_state=0)
    assert estimator == "MiniBatchKMeans"
    calls.clear()
    _run(capsys, ["--tol", "0.5"])
    (params, _, _, _, _), = calls
    assert params["tol"] == 0.5


###############################################################################
# Clustering a file


@pytest.mark.parametrize("header", [None, "x,y", "id,2019"])
def test_csv(tmp_path, capsys, blobs, header):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",", header=header or "", comments="")

    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    assert f"{N_SAMPLES} samples x 2 features, float64" in err
    assert ("header on line 1" in err) == (header is not None)
    assert _warnings(err) == []
    sizes_row = next(line for line in err.splitlines() if line.startswith("cluster sizes"))
    assert sorted(int(v) for v in sizes_row.split()[2:]) == [20, 20, 20]


def test_progress_lines_with_times(tmp_path, capsys, blobs):
    X, _ = blobs
    path, output = tmp_path / "data.csv", tmp_path / "labels.txt"
    np.savetxt(path, X, delimiter=",")
    _, err = _run(capsys, [str(path), "--n-clusters", "3", "--output", str(output)])
    progress = [line for line in err.splitlines() if line.startswith("turbocluster: ")]
    expected = ["reading", "read", "fitting", "fitted", "writing", "wrote"]
    assert [line.split()[1] for line in progress] == expected
    timed = r"\d+(\.\d+)? (us|ms|s)\b"
    for line in progress[1::2]:  # read, fitted, wrote
        assert re.search(r" in " + timed, line), line
    assert f"read {N_SAMPLES} rows x 2 columns" in progress[1]
    assert "on 2 threads" in progress[2] or re.search(r"on \d+ threads?", progress[2])


def test_verbose_iterations_go_to_stderr(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--verbose"])
    _check_labels(_labels_from(out), X, y)  # stdout: the labels alone
    assert re.search(r"^Iteration 0, inertia", err, flags=re.MULTILINE)


def test_npy_keeps_float32(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X.astype(np.float32))
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--algorithm", "elkan"])
    _check_labels(_labels_from(out), X, y, dtype=np.float32, algorithm="elkan")
    assert "float32" in err and "algorithm='elkan'" in err


def test_minibatch_clusters_a_file(tmp_path, capsys, blobs):
    # --algorithm minibatch: MiniBatchKMeans, with its own default max_iter.
    from turbocluster import MiniBatchKMeans

    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--algorithm", "minibatch"])
    labels = _labels_from(out)
    expected = MiniBatchKMeans(n_clusters=3, max_iter=100, random_state=0).fit(X).labels_
    np.testing.assert_array_equal(labels, expected)
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)
    assert "MiniBatchKMeans(n_clusters=3, n_init='auto', max_iter=100" in err


def test_dtype_float32(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    argv = [str(path), "--n-clusters", "3", "--dtype", "float32", "--n-init", "2",
            "--max-iter", "50", "--random-state", "0"]
    out, err = _run(capsys, argv)
    _check_labels(_labels_from(out), X, y, dtype=np.float32, n_init=2, max_iter=50)
    assert f"{N_SAMPLES} samples x 2 features, float32" in err


def test_numpy_huge_page_switch_is_where_the_cli_expects_it():
    # A private NumPy function (see turbocluster._cli._small_pages): fail
    # loudly, here, if it moves.
    import turbocluster._cli as cli

    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        from numpy.core.multiarray import _set_madvise_hugepage
    previous = _set_madvise_hugepage(True)
    try:
        with cli._small_pages():
            assert _set_madvise_hugepage(False) is False
        assert _set_madvise_hugepage(True) is True  # restored
    finally:
        _set_madvise_hugepage(previous)


def test_version_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "turbocluster", "--version"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"turbocluster {turbocluster.__version__}"


###############################################################################
# scikit-learn's own data files


def _load(name):
    return getattr(sklearn.datasets, f"load_{name}")()


@pytest.mark.parametrize("name, filename", [
    ("iris", "iris.csv"),
    ("wine", "wine_data.csv"),
    ("breast_cancer", "breast_cancer.csv"),
])
def test_sklearn_data_set_header_and_label(capsys, name, filename):
    # First line "150,4,setosa,versicolor,virginica": not column names; the
    # last column is the class label. wine and breast_cancer's first lines
    # have fewer fields than the rows.
    bunch = _load(name)
    n_samples, n_features = bunch.data.shape
    out, err = _run(capsys, [str(SKLEARN_DATA / filename), "--n-clusters", "3"])
    np.testing.assert_array_equal(_labels_from(out), _expected_labels(bunch.data))
    assert f"{n_samples} samples x {n_features} features" in err
    (header, *rest) = _warnings(err)
    assert "scikit-learn's data-set header" in header and "--skip-rows 1" in header
    assert f"column {n_features + 1}, holds the class label" in header


def test_sklearn_whitespace_table_with_header(capsys):
    bunch = sklearn.datasets.load_linnerud()
    out, err = _run(capsys, [str(SKLEARN_DATA / "linnerud_exercise.csv"),
                             "--n-clusters", "2"])
    np.testing.assert_array_equal(_labels_from(out),
                                  _expected_labels(bunch.data, n_clusters=2))
    assert "white space separated, header on line 1" in err


@pytest.mark.parametrize("filename, loader", [
    ("diabetes_data_raw.csv.gz", lambda: sklearn.datasets.load_diabetes(scaled=False).data),
    ("digits.csv.gz", lambda: np.loadtxt(SKLEARN_DATA / "digits.csv.gz", delimiter=",")),
])
def test_sklearn_gzipped_tables(capsys, filename, loader):
    out, err = _run(capsys, [str(SKLEARN_DATA / filename), "--n-clusters", "4"])
    X = loader()
    np.testing.assert_array_equal(_labels_from(out), _expected_labels(X, n_clusters=4))
    assert f"{X.shape[0]} samples x {X.shape[1]} features" in err


###############################################################################
# Choosing what to cluster


def test_dataframe_index_and_target_are_not_clustered(tmp_path, capsys, wine_frame):
    # DataFrame.to_csv() writes the index as an unnamed first column.
    path = tmp_path / "wine.csv"
    wine_frame.to_csv(path)
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--standardize"])
    features = wine_frame.drop(columns="target").to_numpy()
    expected = _expected_labels(StandardScaler().fit_transform(features))
    np.testing.assert_array_equal(_labels_from(out), expected)
    index_warning, target_warning = _warnings(err)
    assert "column 1 ('Unnamed: 0') counts the rows (0, 1, ..., 177)" in index_warning
    assert "--index-col 1" in index_warning
    assert "column 15 ('target') holds the integers 0..2 like a class label" in target_warning
    assert "--drop 15" in target_warning


def test_explicit_options_silence_the_warnings(tmp_path, capsys, wine_frame):
    path = tmp_path / "wine.csv"
    wine_frame.to_csv(path)
    argv = [str(path), "--n-clusters", "3", "--index-col", "1", "--drop", "target",
            "--standardize"]
    _, err = _run(capsys, argv)
    assert _warnings(err) == []
    assert "13 columns of 15: 2-14 (alcohol," in err


def test_raw_features_of_different_units_warn(tmp_path, capsys, wine_frame):
    path = tmp_path / "wine.csv"
    wine_frame.drop(columns="target").to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--n-clusters", "3"])
    (warning,) = _warnings(err)
    assert "spreads differ" in warning and "'proline'" in warning
    assert "--standardize" in warning


@pytest.mark.parametrize("start", [0, 1])
def test_row_numbers_column_without_header(tmp_path, capsys, blobs, start):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([np.arange(start, start + N_SAMPLES), X]),
               delimiter=",", fmt="%.17g")
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    (warning,) = _warnings(err)
    assert f"column 1 counts the rows ({start}, {start + 1}," in warning


def test_class_label_last_column_without_header(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    pd.DataFrame(X).assign(label=y).to_csv(path, index=False, header=False)
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    (warning,) = _warnings(err)
    assert "column 3 holds the integers 0..2 like a class label" in warning


def test_integer_features_are_not_taken_for_labels(tmp_path, capsys):
    # Every column small integers (as in digits without its label): nothing
    # stands out, everything is clustered.
    X = np.random.default_rng(0).integers(0, 5, size=(40, 4))
    path = tmp_path / "counts.csv"
    np.savetxt(path, X, delimiter=",", fmt="%d")
    out, err = _run(capsys, [str(path), "--n-clusters", "2"])
    assert _warnings(err) == []
    np.testing.assert_array_equal(_labels_from(out), _expected_labels(X, n_clusters=2))


def test_numeric_header_is_read_as_header(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    pd.DataFrame(np.column_stack([X, X[:, 0] * 2])).to_csv(path, index=False)
    assert path.read_text().startswith("0,1,2\n")
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    assert f"{N_SAMPLES} samples x 3 features" in err
    (warning,) = _warnings(err)
    assert "holds column numbers" in warning and "--no-header" in warning

    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--no-header"])
    assert f"{N_SAMPLES + 1} samples x 3 features" in err
    assert _warnings(err) == []


def test_header_option_on_a_numeric_first_line(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--header"])
    assert f"{N_SAMPLES - 1} samples x 2 features" in err
    np.testing.assert_array_equal(_labels_from(out), _expected_labels(X[1:]))


def test_first_line_with_fewer_fields_is_skipped(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([X, X]), delimiter=",",
               header="exported 2026-11-30", comments="")
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), np.column_stack([X, X]), y)
    (warning,) = _warnings(err)
    assert "has 1 field where the rows below have 4" in warning
    assert "--skip-rows 1" in warning


def test_savetxt_comment_header_names_the_columns(tmp_path, capsys, blobs):
    # np.savetxt(header=...) writes '# x,y' above the rows.
    X, y = blobs
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",", header="x,y")
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--columns", "y,x"])
    np.testing.assert_array_equal(_labels_from(out), _expected_labels(X[:, ::-1]))
    assert "column names from the comment on line 1" in err


def test_title_then_header(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.csv"
    path.write_text("Measurements of 2026-11-30\n\n"
                    + pd.DataFrame(X, columns=["a", "b"]).to_csv(index=False))
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    (warning,) = _warnings(err)
    assert "line 1 ('Measurements of 2026-11-30') has 1 field" in warning
    assert "header on line 3" in err


def test_a_single_column_of_row_like_numbers_is_clustered(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1\n2\n3\n4\n")
    out, err = _run(capsys, [str(path), "--n-clusters", "2"])
    assert _warnings(err) == []
    assert sorted(np.bincount(_labels_from(out))) == [2, 2]


def test_header_with_row_names(tmp_path, capsys, blobs):
    # R's write.table: one name fewer than the rows, which start with names.
    X, y = blobs
    lines = ["x y"] + [f"r{i} {a:.17g} {b:.17g}" for i, (a, b) in enumerate(X)]
    path = tmp_path / "data.txt"
    path.write_text("\n".join(lines) + "\n")
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    (warning,) = _warnings(err)
    assert "column 1 is taken as row names" in warning


def test_columns_and_drop(tmp_path, capsys, blobs):
    X, y = blobs
    frame = pd.DataFrame({"id": np.arange(100, 100 + N_SAMPLES), "a": X[:, 0],
                          "noise": np.random.default_rng(0).normal(size=N_SAMPLES),
                          "b": X[:, 1], "species": np.array(["u", "v", "w"])[y]})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    for selection in (["--columns", "a,b"], ["--columns", "2,4"],
                      ["--columns", "2-4", "--drop", "noise"],
                      ["--drop", "1,noise"]):
        out, err = _run(capsys, [str(path), "--n-clusters", "3", *selection])
        _check_labels(_labels_from(out), X, y)
        assert "2 columns of 5: 2, 4 (a, b)" in err
    # Without a choice, the text column is left out with a warning.
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--drop", "id,noise"])
    _check_labels(_labels_from(out), X, y)
    (warning,) = _warnings(err)
    assert f"column 5 ('species') holds text ('{'uvw'[y[0]]}', ...)" in warning


@pytest.mark.parametrize("argv, fragments", [
    (["--columns", "z"], ["--columns: no column named 'z'", "'a', 'b'"]),
    (["--columns", "9"], ["column 9 does not exist", "2 columns"]),
    (["--drop", "a,b"], ["no column left to cluster"]),
    (["--columns", "2-1"], ["runs backwards"]),
    (["--columns", "a,,b"], ["expected column names or numbers"]),
])
def test_bad_column_choice(tmp_path, capsys, argv, fragments):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1", *argv], *fragments)


###############################################################################
# Formats


def test_delimiters_and_decimal_comma(tmp_path, capsys, blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b"])
    cases = {
        "tab.tsv": dict(sep="\t"),
        "semicolon.csv": dict(sep=";", decimal=","),
        "pipe.txt": dict(sep="|"),
    }
    for name, kwargs in cases.items():
        path = tmp_path / name
        frame.to_csv(path, index=False, **kwargs)
        extra = ["--delimiter", "|"] if kwargs["sep"] == "|" else []
        out, err = _run(capsys, [str(path), "--n-clusters", "3", *extra])
        _check_labels(_labels_from(out), X, y)
    assert "';' separated, decimal ','" not in err  # the last one was the pipe
    path = tmp_path / "semicolon.csv"
    _, err = _run(capsys, [str(path), "--n-clusters", "3"])
    assert "';' separated, decimal ','" in err


def test_whitespace_txt_from_savetxt(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.txt"
    np.savetxt(path, X)
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    assert "white space separated" in err


@pytest.mark.parametrize("suffix, opener", [
    (".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open), (".zip", None),
])
def test_compressed_tables(tmp_path, capsys, blobs, suffix, opener):
    X, y = blobs
    text = pd.DataFrame(X, columns=["a", "b"]).to_csv(index=False)
    path = tmp_path / f"data.csv{suffix}"
    if opener is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data.csv", text)
    else:
        with opener(path, "wt") as f:
            f.write(text)
    out, _ = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)


def test_parquet(tmp_path, capsys, blobs):
    pytest.importorskip("pyarrow")
    X, y = blobs
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1].astype(np.float32),
                  "target": y}).to_parquet(path)
    out, err = _run(capsys, [str(path), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    assert "column 3 ('target') holds the integers 0..2" in err


def test_npz_with_key(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=y)
    _check_error(capsys, [str(path), "--n-clusters", "3"],
                 "holds 2 arrays ('X', 'y'); choose one with --key")
    _check_error(capsys, [str(path), "--n-clusters", "3", "--key", "Z"],
                 "no array named 'Z'")
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--key", "X"])
    _check_labels(_labels_from(out), X, y)
    single = tmp_path / "single.npz"
    np.savez_compressed(single, X)
    out, _ = _run(capsys, [str(single), "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)


@pytest.mark.parametrize("form", ["csv", "gzip", "npy"])
def test_standard_input(capsys, monkeypatch, blobs, form):
    X, y = blobs
    if form == "npy":
        buffer = io.BytesIO()
        np.save(buffer, X)
        content = buffer.getvalue()
    else:
        content = pd.DataFrame(X).to_csv(index=False, header=False).encode()
        if form == "gzip":
            content = gzip.compress(content)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))
    out, err = _run(capsys, ["-", "--n-clusters", "3"])
    _check_labels(_labels_from(out), X, y)
    assert "reading <stdin>" in err


def test_standard_input_in_a_subprocess(blobs):
    X, y = blobs
    result = subprocess.run(
        [sys.executable, "-m", "turbocluster", "-", "--n-clusters", "3"],
        input=pd.DataFrame(X).to_csv(index=False, header=False),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    _check_labels(_labels_from(result.stdout), X, y)


###############################################################################
# Outputs


def test_output_txt_and_npy(tmp_path, capsys, blobs):
    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    text_output, npy_output = tmp_path / "labels.txt", tmp_path / "labels.npy"
    out, err = _run(capsys, [str(path), "--n-clusters", "3", "--output", str(text_output)])
    assert out == ""
    text = text_output.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == N_SAMPLES
    _check_labels(_labels_from(text), X, y)
    assert f"wrote {N_SAMPLES} labels to {text_output}" in err

    _run(capsys, [str(path), "--n-clusters", "3", "--output", str(npy_output)])
    labels = np.load(npy_output)
    assert labels.ndim == 1
    _check_labels(labels, X, y)


@pytest.mark.parametrize("output", ["out.csv", "out.tsv", "out.csv.gz", "out.parquet"])
def test_output_table_with_cluster_column(tmp_path, capsys, blobs, output):
    if output.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    X, y = blobs
    frame = pd.DataFrame({"name": [f"s{i}" for i in range(N_SAMPLES)],
                          "a": X[:, 0], "b": X[:, 1]})
    path, output = tmp_path / "data.csv", tmp_path / output
    frame.to_csv(path, index=False)
    _, err = _run(capsys, [str(path), "--n-clusters", "3", "--output", str(output)])
    if output.suffix == ".parquet":
        written = pd.read_parquet(output)
    else:
        written = pd.read_csv(output, sep="\t" if output.suffix == ".tsv" else ",")
    assert list(written.columns) == ["name", "a", "b", "cluster"]
    pd.testing.assert_frame_equal(written[["name", "a", "b"]], frame)
    _check_labels(written["cluster"].to_numpy(), X, y)
    assert "the table with a 'cluster' column" in err


def test_output_table_keeps_an_unnamed_index_column_unnamed(tmp_path, capsys, blobs):
    X, y = blobs
    path, output = tmp_path / "data.csv", tmp_path / "out.csv"
    pd.DataFrame(X, columns=["a", "b"]).to_csv(path)
    _run(capsys, [str(path), "--n-clusters", "3", "--output", str(output)])
    assert output.read_text().splitlines()[0] == ",a,b,cluster"
    written = pd.read_csv(output, index_col=0)
    _check_labels(written["cluster"].to_numpy(), X, y)


def test_output_table_keeps_the_input_format(tmp_path, capsys, blobs):
    # No header in, no header out; a decimal comma stays a decimal comma.
    X, y = blobs
    path, output = tmp_path / "data.csv", tmp_path / "out.csv"
    pd.DataFrame(X).to_csv(path, sep=";", decimal=",", index=False, header=False)
    _run(capsys, [str(path), "--n-clusters", "3", "--output", str(output)])
    written = pd.read_csv(output, sep=";", decimal=",", header=None)
    assert written.shape == (N_SAMPLES, 3)
    np.testing.assert_allclose(written.iloc[:, :2].to_numpy(), X)
    _check_labels(written[2].to_numpy(), X, y)


def test_output_table_from_an_array(tmp_path, capsys, blobs):
    X, y = blobs
    path, output = tmp_path / "data.npy", tmp_path / "out.csv"
    np.save(path, X)
    _run(capsys, [str(path), "--n-clusters", "3", "--output", str(output)])
    written = pd.read_csv(output)
    assert list(written.columns) == ["x0", "x1", "cluster"]
    _check_labels(written["cluster"].to_numpy(), X, y)


def test_plot(tmp_path, capsys, blobs):
    pytest.importorskip("matplotlib")
    X, _ = blobs
    path, plot = tmp_path / "data.csv", tmp_path / "clusters.png"
    np.savetxt(path, np.column_stack([X, X @ [[1.0], [2.0]]]), delimiter=",")
    _, err = _run(capsys, [str(path), "--n-clusters", "3", "--plot", str(plot)])
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert re.search(r"plotted in \d", err)


def test_plot_without_matplotlib(tmp_path, capsys, blobs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "data.npy"
    np.save(path, blobs[0])
    _check_error(capsys, [str(path), "--n-clusters", "3", "--plot",
                          str(tmp_path / "p.png")], "turbocluster[plot]")


def test_text_tables_without_pandas(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1"],
                 "needs pandas", "turbocluster[cli]")


###############################################################################
# Errors: status 2 and a message, never a traceback


def test_missing_file(tmp_path, capsys):
    _check_error(capsys, [str(tmp_path / "nope.csv"), "--n-clusters", "2"],
                 "nope.csv: no such file")


@pytest.mark.parametrize("name", ["data.xlsx", "data", "data.npy.gz"])
def test_unsupported_extension(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "2"], "unsupported file type",
                 ".parquet, .npy or .npz")


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
    ("a,b\n1,2\n3,x\n4,5\n", ["line 3, column 2 ('b')", "'x' is not a number"]),
    ("1,2\n\n3,4\nfoo,4\n5,6\n", ["line 4, column 1:", "'foo' is not a number"]),
    ("a,b\n1,2\n3,\n", ["line 3, column 2 ('b')", "missing value"]),
    ("1,2\n3,4\n5,6,7\n", ["line 3 has 3 fields, expected 2"]),
    ("title\n\na,b\n1,2\n\n3,x\n", ["line 6, column 2 ('b')", "'x' is not a number"]),
    ("a,b\n1,2\n3,4\n5,6,7\n", ["line 4 has 3 fields, expected 2"]),
])
def test_bad_cells(tmp_path, capsys, content, fragments):
    path = tmp_path / "data.csv"
    path.write_text(content)
    _check_error(capsys, [str(path), "--n-clusters", "1"], *fragments)


@pytest.mark.parametrize("value, fragment", [
    ("nan", "missing value"), ("inf", "inf is not a finite number"),
    ("-inf", "-inf is not a finite number"),
])
def test_non_finite_csv(tmp_path, capsys, value, fragment):
    path = tmp_path / "data.csv"
    path.write_text(f"a,b\n1,2\n3,4\n5,{value}\n")
    _check_error(capsys, [str(path), "--n-clusters", "1"], "line 4, column 2 ('b')",
                 fragment)


def test_non_finite_npy(tmp_path, capsys):
    X = np.ones((5, 3))
    X[3, 1] = np.inf
    path = tmp_path / "data.npy"
    np.save(path, X)
    _check_error(capsys, [str(path), "--n-clusters", "1"],
                 "X[3, 1]", "not a finite number")


def test_too_large_for_float32(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n1e39,4\n")
    _check_error(capsys, [str(path), "--n-clusters", "1", "--dtype", "float32"],
                 "line 2, column 1", "too large for float32")


def test_not_utf8(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes("é,b\n1,2\n".encode("utf-16"))
    _check_error(capsys, [str(path), "--n-clusters", "1"], "not a UTF-8 text file")


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
    _check_error(capsys, [str(path), "--n-clusters", "1"], "cannot read the array")


def test_text_options_on_an_array(tmp_path, capsys):
    path = tmp_path / "data.npy"
    np.save(path, np.ones((3, 2)))
    _check_error(capsys, [str(path), "--n-clusters", "1", "--delimiter", ";"],
                 "--delimiter apply to text tables")
    _check_error(capsys, [str(path), "--n-clusters", "1", "--key", "X"],
                 "--key chooses an array of an .npz file, not of a npy file")
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("1,2\n3,4\n")
    _check_error(capsys, [str(csv_path), "--n-clusters", "1", "--key", "X"],
                 "not of a text file")


def test_more_clusters_than_samples(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    _check_error(capsys, [str(path), "--n-clusters", "4"],
                 "--n-clusters 4 is larger than the number of samples (3)")


def test_path_without_n_clusters(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n")
    err = _check_error(capsys, [str(path)], "--n-clusters (or --choose-k) is required")
    assert err.startswith("usage: turbocluster")


@pytest.mark.parametrize("argv, fragment", [
    (["--n-clusters", "0"], "expected a positive integer, got 0"),
    (["--n-init", "many"], "expected 'auto' or a positive integer"),
    (["--random-state", "-1"], "expected an integer between 0 and"),
    (["--algorithm", "auto"], "invalid choice: 'auto'"),
    (["--skip-rows", "-1"], "expected a non-negative integer"),
    (["--delimiter", "ab"], "expected one character"),
    (["--output", "labels.txt"], "--output: needs a PATH"),
    (["--plot", "p.png", "--standardize"], "--plot, --standardize: need a PATH"),
    (["--header", "--no-header"], "not allowed with argument"),
])
def test_bad_options(capsys, argv, fragment):
    _check_error(capsys, argv, fragment)


@pytest.mark.parametrize("option, name, fragment", [
    ("--output", "labels.xlsx", "unsupported file type"),
    ("--output", "labels.npy.gz", "unsupported file type"),
    ("--plot", "plot.jpg", "must end in one of .png, .pdf, .svg"),
    ("--output", "missing/labels.txt", "does not exist"),
])
def test_bad_outputs_are_refused_before_reading(tmp_path, capsys, option, name, fragment):
    path = tmp_path / "data.csv"  # never read: it does not even exist
    _check_error(capsys, [str(path), "--n-clusters", "1", option, str(tmp_path / name)],
                 fragment)


def test_output_would_overwrite_input(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n")
    for option in ("--output", "--plot"):
        _check_error(capsys, [str(path), "--n-clusters", "1", option, str(path)],
                     "would overwrite the input file")
    assert path.read_text() == "1,2\n3,4\n"


def test_warnings_of_the_fit_are_printed_once(tmp_path, capsys, monkeypatch):
    import turbocluster._cli as cli

    class WarningKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            warnings.warn("a warning of the fit", UserWarning)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(cli, "KMeans", WarningKMeans)
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    _, err = _run(capsys, [str(path), "--n-clusters", "2"])
    assert _warnings(err) == ["turbocluster: warning: a warning of the fit"]


###############################################################################
# --choose-k


def test_choose_k_prints_the_scores_and_writes_the_best_labels(tmp_path, capsys, blobs):
    from turbocluster import select_n_clusters

    X, y = blobs
    path = tmp_path / "data.npy"
    np.save(path, X)
    labels_path = tmp_path / "labels.txt"
    out, err = _run(capsys, [str(path), "--choose-k", "2..6", "--output", str(labels_path)])
    expected = select_n_clusters(X, range(2, 7), estimator=KMeans(random_state=0))
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert [int(r[0]) for r in rows] == [2, 3, 4, 5, 6]
    assert [float(r[2]) for r in rows] == pytest.approx(expected.silhouette, abs=1e-4)
    assert f"silhouette (highest)          {expected.best_n_clusters_}" in out
    np.testing.assert_array_equal(np.loadtxt(labels_path, dtype=int),
                                  expected.best_estimator_.labels_)
    assert "fitting KMeans for 2 to 6 clusters" in err


@pytest.mark.parametrize("argv, message", [
    (["--choose-k", "1..4"], "at least 2"),
    (["--choose-k", "5..3"], "at least 5"),
    (["--choose-k", "2-5"], "expected A..B"),
    (["--choose-k", "2..4", "--n-clusters", "3"], "give one of them"),
])
def test_choose_k_bad_arguments(tmp_path, capsys, blobs, argv, message):
    path = tmp_path / "data.npy"
    np.save(path, blobs[0])
    assert main([str(path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_choose_k_plot(tmp_path, capsys, blobs):
    pytest.importorskip("matplotlib")
    path = tmp_path / "data.npy"
    np.save(path, blobs[0])
    plot = tmp_path / "k.png"
    _run(capsys, [str(path), "--choose-k", "2..5", "--plot", str(plot)])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
