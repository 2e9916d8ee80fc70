"""The command line's agglomerative clustering: ``--algorithm agglomerative
--linkage L (--n-clusters K | --distance-threshold T) [--dendrogram FILE]``."""

import io

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering as SklearnAgglomerativeClustering
from sklearn.datasets import make_blobs

from turbocluster import AgglomerativeClustering
from turbocluster._cli_demo import run_demo
from cli_helpers import check_error, labels_from, run


@pytest.fixture(scope="module")
def points():
    X, _ = make_blobs(n_samples=150, n_features=3, centers=4, random_state=0)
    return X


@pytest.fixture
def points_file(tmp_path, points):
    path = tmp_path / "points.npy"
    np.save(path, points)
    return path


def _field(err, name):
    return next(line for line in err.splitlines() if line.startswith(name))


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_labels_are_scikit_learns(capsys, points, points_file, linkage):
    out, err = run(capsys, [str(points_file), "--algorithm", "agglomerative",
                            "--linkage", linkage, "--n-clusters", "4"])
    labels = labels_from(out)
    reference = SklearnAgglomerativeClustering(n_clusters=4, linkage=linkage).fit(points)
    np.testing.assert_array_equal(labels, reference.labels_)
    assert _field(err, "clusters").split()[-1] == "4"
    assert _field(err, "linkage").split()[-1] == linkage
    assert "AgglomerativeClustering(linkage=" in err


def test_distance_threshold_and_default_linkage(capsys, points, points_file):
    out, err = run(capsys, [str(points_file), "--algorithm", "agglomerative",
                            "--distance-threshold", "10"])
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=10.0).fit(points)
    np.testing.assert_array_equal(labels_from(out), model.labels_)
    assert _field(err, "clusters").split()[-1] == str(model.n_clusters_)
    assert _field(err, "linkage").split()[-1] == "ward"
    assert _field(err, "threshold").startswith("threshold       10 ")


def test_dendrogram_plot_and_table_output(capsys, tmp_path, points_file):
    pytest.importorskip("matplotlib")
    dendrogram, plot = tmp_path / "tree.png", tmp_path / "clusters.svg"
    output = tmp_path / "labels.npy"
    _, err = run(capsys, [str(points_file), "--algorithm", "agglomerative", "--linkage",
                          "average", "--n-clusters", "3", "--dendrogram", str(dendrogram),
                          "--plot", str(plot), "--output", str(output)])
    assert dendrogram.read_bytes()[:4] == b"\x89PNG"
    assert plot.read_text().lstrip().startswith("<?xml")
    assert np.load(output).shape == (150,)
    assert "drawing the dendrogram" in err


@pytest.mark.parametrize("argv, fragments", [
    (["--algorithm", "agglomerative"], ["--n-clusters or --distance-threshold is required"]),
    (["--algorithm", "agglomerative", "--n-clusters", "2", "--distance-threshold", "1"],
     ["give one of them"]),
    (["--algorithm", "agglomerative", "--distance-threshold", "-1"],
     ["--distance-threshold", "non-negative number"]),
    (["--algorithm", "agglomerative", "--linkage", "median", "--n-clusters", "2"],
     ["--linkage", "invalid choice"]),
    (["--algorithm", "agglomerative", "--n-clusters", "2", "--eps", "1"],
     ["--eps does not apply to --algorithm agglomerative"]),
    (["--algorithm", "agglomerative", "--n-clusters", "2", "--random-state", "3"],
     ["--random-state does not apply", "deterministic"]),
    (["--n-clusters", "2", "--linkage", "ward"], ["--linkage applies to --algorithm "
                                                  "agglomerative"]),
    (["--n-clusters", "2", "--dendrogram", "t.png"], ["--dendrogram needs --algorithm "
                                                      "agglomerative"]),
    (["--algorithm", "dbscan", "--eps", "1", "--linkage", "single"],
     ["--linkage does not apply to --algorithm dbscan"]),
    (["--algorithm", "agglomerative", "--n-clusters", "2", "--dendrogram", "tree.jpg"],
     ["--dendrogram tree.jpg", ".png"]),
    (["--algorithm", "agglomerative", "--n-clusters", "500"],
     ["--n-clusters 500 is larger than the number of samples (150)"]),
])
def test_errors_are_one_line(capsys, points_file, argv, fragments):
    check_error(capsys, [str(points_file)] + argv, *fragments)


def test_dendrogram_and_output_cannot_share_a_file(capsys, tmp_path, points_file):
    pytest.importorskip("matplotlib")  # without it, --plot is refused first
    same = str(tmp_path / "out.png")
    check_error(capsys, [str(points_file), "--algorithm", "agglomerative", "--n-clusters",
                         "2", "--plot", same, "--dendrogram", same],
                "--plot and --dendrogram name the same file")


def test_without_a_path_only_the_demo_options(capsys):
    check_error(capsys, ["--algorithm", "agglomerative", "--dendrogram", "t.png"],
                "--dendrogram: needs a PATH")


def test_demo_section_compares_with_scikit_learn(monkeypatch):
    # The section on a small data set: the labels are the same, numbers included.
    from turbocluster import _cli_demo

    monkeypatch.setattr(_cli_demo, "_AGGLOMERATIVE_SAMPLES", 400)
    monkeypatch.setattr(_cli_demo, "_AGGLOMERATIVE_REPEATS", 1)
    monkeypatch.setattr(_cli_demo, "_GENERATED_SETTLE_S", 0.0)
    out, err = io.StringIO(), io.StringIO()
    run_demo({"linkage": "average"}, None, out, err, "AgglomerativeClustering")
    text = out.getvalue()
    assert "AgglomerativeClustering side by side" in text
    assert "average  turbocluster" in text and "average  scikit-learn" in text
    words = " ".join(text.split())  # the agreement line is wrapped
    assert "average identical (ARI 1.0000)" in words
    assert "ward" not in text.split("parameters")[1]
