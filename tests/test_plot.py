"""The cluster plot: what is drawn, where, in which colour, and how it is saved."""

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA

from turbocluster._plot import (
    NOISE_COLOR,
    cluster_colors,
    plot_clusters,
    save_cluster_plot,
    save_figure,
)


@pytest.fixture
def mpl():
    """matplotlib, or skip: only the test of the missing-matplotlib message runs without it."""
    return pytest.importorskip("matplotlib")


def _blobs(n_samples=300, n_features=5, centers=4, dtype=np.float64):
    X, labels, centers = make_blobs(n_samples, n_features=n_features, centers=centers,
                                    random_state=0, return_centers=True)
    return X.astype(dtype), labels, centers.astype(dtype)


def _collection(ax, gid):
    (found,) = [c for c in ax.collections if c.get_gid() == gid]
    return found


def _rgb(colors):
    return np.asarray(colors)[:, :3]


# --- matplotlib is optional ---------------------------------------------------

def test_importing_turbocluster_or_plotting_never_imports_pyplot(tmp_path):
    # A fresh interpreter: this one has matplotlib imported by the other tests.
    code = "import sys, turbocluster, turbocluster._plot\nprint('matplotlib' in sys.modules)\n"
    if importlib.util.find_spec("matplotlib") is not None:
        code += (
            "import numpy as np\n"
            f"turbocluster._plot.save_cluster_plot({str(tmp_path / 'out.png')!r}, "
            "np.eye(3), [0, 1, 1])\n"
            "print('matplotlib.pyplot' in sys.modules)\n"
        )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, check=True)
    # Not at import time, and never pyplot's global state when drawing.
    assert set(result.stdout.split()) == {"False"}


@pytest.mark.parametrize("draw", [
    lambda: plot_clusters(np.eye(3), [0, 1, 1]),
    lambda: save_cluster_plot("out.png", np.eye(3), [0, 1, 1]),
    lambda: save_figure(None, "out.png"),
    lambda: cluster_colors(3),
], ids=["plot_clusters", "save_cluster_plot", "save_figure", "cluster_colors"])
def test_without_matplotlib_the_error_names_the_extra(monkeypatch, draw):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=re.escape("pip install 'turbocluster[plot]'")) as info:
        draw()
    assert "matplotlib" in str(info.value)


# --- what is drawn ------------------------------------------------------------

@pytest.mark.parametrize("max_points, expected", [(50, 50), (300, 300), (1000, 300), (None, 300)])
def test_draws_min_of_n_samples_and_max_points(mpl, max_points, expected):
    X, labels, centers = _blobs(n_samples=300)
    ax = plot_clusters(X, labels, centers, max_points=max_points)
    assert _collection(ax, "samples").get_offsets().shape == (expected, 2)
    assert _collection(ax, "centers").get_offsets().shape == (len(centers), 2)
    shown_note = f"{expected} of 300 samples shown"
    assert (shown_note in ax.get_title()) == (expected < 300)


def test_subsample_is_seeded_and_drawn_from_the_samples(mpl):
    X, labels, _ = _blobs(n_samples=300, n_features=2)
    offsets = [np.asarray(_collection(plot_clusters(X, labels, max_points=40, random_state=seed),
                                      "samples").get_offsets())
               for seed in (0, 0, 1)]
    np.testing.assert_array_equal(offsets[0], offsets[1])
    assert not np.array_equal(offsets[0], offsets[2])
    # Every drawn point is a distinct sample (2 features: drawn as they are).
    rows = {tuple(row) for row in X}
    assert len({tuple(p) for p in offsets[0]}) == 40
    assert all(tuple(p) in rows for p in offsets[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_more_than_two_features_are_drawn_on_the_first_two_principal_components(mpl, dtype):
    X, labels, centers = _blobs(n_features=5, dtype=dtype)
    ax = plot_clusters(X, labels, centers)

    pca = PCA(n_components=2, random_state=0).fit(X)
    # Same data, same solver: only round-off may differ (float32 carries ~7 digits).
    rtol, atol = (1e-4, 1e-3) if dtype == np.float32 else (1e-7, 1e-9)
    np.testing.assert_allclose(_collection(ax, "samples").get_offsets(), pca.transform(X),
                               rtol=rtol, atol=atol)
    np.testing.assert_allclose(_collection(ax, "centers").get_offsets(), pca.transform(centers),
                               rtol=rtol, atol=atol)
    ratios = pca.explained_variance_ratio_
    assert ax.get_xlabel() == f"PC1 ({ratios[0]:.0%} of variance)"
    assert ax.get_ylabel() == f"PC2 ({ratios[1]:.0%} of variance)"
    assert re.fullmatch(r"PC1 \(\d+% of variance\)", ax.get_xlabel())


def test_two_features_are_drawn_as_they_are(mpl):
    X, labels, centers = _blobs(n_features=2)
    ax = plot_clusters(X, labels, centers)
    np.testing.assert_array_equal(_collection(ax, "samples").get_offsets(), X)
    np.testing.assert_array_equal(_collection(ax, "centers").get_offsets(), centers)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 0", "feature 1")


def test_dataframe_column_names_label_the_axes(mpl):
    pd = pytest.importorskip("pandas")
    X, labels, _ = _blobs(n_features=2)
    ax = plot_clusters(pd.DataFrame(X, columns=["height", "weight"]), labels)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("height", "weight")


def test_one_feature_is_drawn_against_the_jittered_cluster_label(mpl):
    X, labels, centers = _blobs(n_features=1, centers=3)
    ax = plot_clusters(X, labels, centers)
    points = np.asarray(_collection(ax, "samples").get_offsets())
    np.testing.assert_array_equal(points[:, 0], X[:, 0])
    assert np.all(np.abs(points[:, 1] - labels) <= 0.3)
    assert np.ptp(points[:, 1] - labels) > 0.1  # jittered, not on a line
    np.testing.assert_array_equal(_collection(ax, "centers").get_offsets(),
                                  np.column_stack([centers[:, 0], [0, 1, 2]]))
    assert ax.get_xlabel() == "feature 0"


def test_sparse_input_draws_as_dense(mpl):
    X, labels, centers = _blobs(n_features=2)
    dense = plot_clusters(X, labels, centers)
    sparse = plot_clusters(sp.csr_matrix(X), labels, centers)
    np.testing.assert_array_equal(_collection(sparse, "samples").get_offsets(),
                                  _collection(dense, "samples").get_offsets())


# --- colours ------------------------------------------------------------------

def test_noise_is_grey_drawn_first_and_clusters_keep_one_colour_each(mpl):
    X, labels, centers = _blobs(n_features=2, centers=3)
    labels = labels.copy()
    labels[::7] = -1
    ax = plot_clusters(X, labels, centers)
    samples = _collection(ax, "samples")
    colors = _rgb(samples.get_facecolors())
    n_noise = np.count_nonzero(labels == -1)

    # Noise is drawn first (underneath), so its points are the first offsets.
    np.testing.assert_array_equal(
        np.sort(samples.get_offsets()[:n_noise], axis=0), np.sort(X[labels == -1], axis=0))
    np.testing.assert_allclose(colors[:n_noise], np.tile(NOISE_COLOR[:3], (n_noise, 1)))

    # The rest keep their order; each cluster is one colour, its centre's colour.
    palette = _rgb(cluster_colors(3))
    np.testing.assert_allclose(colors[n_noise:], palette[labels[labels != -1]])
    np.testing.assert_allclose(_rgb(_collection(ax, "centers").get_facecolors()), palette)
    assert not np.any(np.all(np.isclose(palette, NOISE_COLOR[:3]), axis=1))
    assert "noise" in ax.get_title()


def test_centres_have_a_black_edge(mpl):
    X, labels, centers = _blobs()
    edges = _collection(plot_clusters(X, labels, centers), "centers").get_edgecolors()
    np.testing.assert_allclose(_rgb(edges), 0.0)


@pytest.mark.parametrize("n_clusters", [1, 9, 10, 18])
def test_cluster_colours_are_distinct_and_never_grey(mpl, n_clusters):
    colors = _rgb(cluster_colors(n_clusters))
    assert colors.shape == (n_clusters, 3)
    assert len({tuple(c) for c in colors}) == n_clusters
    is_grey = np.ptp(colors, axis=1) < 1e-6
    assert not np.any(is_grey)


def test_cluster_colours_cycle_beyond_the_palette(mpl):
    colors = cluster_colors(25)
    np.testing.assert_array_equal(colors[18:], colors[:7])
    X = np.random.default_rng(0).normal(size=(100, 3))
    plot_clusters(X, np.arange(100) % 25)  # many clusters draw without error


# --- axes, titles, validation ------------------------------------------------

def test_given_axes_are_drawn_into_and_returned(mpl):
    from matplotlib.figure import Figure

    figure = Figure()
    left, right = figure.subplots(1, 2)
    X, labels, centers = _blobs()
    assert plot_clusters(X, labels, centers, ax=right) is right
    assert len(right.collections) == 2 and not left.collections
    assert right.figure is figure


def test_new_axes_belong_to_a_figure_without_pyplot(mpl):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    X, labels, _ = _blobs()
    ax = plot_clusters(X, labels)
    assert isinstance(ax.figure.canvas, FigureCanvasAgg)
    assert len(ax.figure.axes) == 1


def test_title(mpl):
    X, labels, _ = _blobs(n_samples=300, centers=4)
    assert plot_clusters(X, labels).get_title() == "4 clusters, 300 samples"
    assert plot_clusters(X, labels, title="mine").get_title() == "mine"
    assert plot_clusters(X, labels, title="mine", max_points=30).get_title() == (
        "mine\n30 of 300 samples shown (random subsample)")


@pytest.mark.parametrize("kwargs, match", [
    (dict(labels=np.zeros(10, dtype=int)), "one label per sample"),
    (dict(labels=np.full(300, 0.5)), "labels must be integers"),
    (dict(labels=np.full(300, -2)), "-1 for noise"),
    (dict(centers=np.zeros((4, 3))), "centers have 3 features, X has 5"),
    (dict(max_points=0), "max_points"),
])
def test_invalid_arguments_raise_value_error(mpl, kwargs, match):
    X, labels, centers = _blobs()
    arguments = dict(labels=labels, centers=centers, **{"max_points": 20_000})
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(match)):
        plot_clusters(X, **arguments)


def test_float_labels_that_are_integers_are_accepted(mpl):
    X, labels, _ = _blobs()
    ax = plot_clusters(X, labels.astype(np.float32))
    assert ax.get_title() == "4 clusters, 300 samples"


# --- saving -------------------------------------------------------------------

@pytest.mark.parametrize("name, magic", [
    ("plot.png", b"\x89PNG\r\n\x1a\n"),
    ("plot.PNG", b"\x89PNG\r\n\x1a\n"),
    ("plot.pdf", b"%PDF"),
    ("plot.svg", b"<?xml"),
])
def test_save_cluster_plot_writes_the_format_of_the_extension(mpl, tmp_path, name, magic):
    X, labels, centers = _blobs(dtype=np.float32)
    path = tmp_path / name
    figure = save_cluster_plot(path, X, labels, centers, title="blobs")
    assert path.read_bytes().startswith(magic)
    assert figure.axes[0].get_title() == "blobs"


def test_save_figure_accepts_str_paths(mpl, tmp_path):
    X, labels, _ = _blobs()
    path = os.path.join(tmp_path, "plot.png")
    save_figure(plot_clusters(X, labels).figure, path)
    with open(path, "rb") as file:
        assert file.read(4) == b"\x89PNG"


@pytest.mark.parametrize("name", ["plot.jpg", "plot", "plot.png.txt"])
def test_unsupported_extension_raises_value_error_and_writes_nothing(mpl, tmp_path, name):
    X, labels, _ = _blobs()
    with pytest.raises(ValueError, match=r"must end in one of \.png, \.pdf, \.svg"):
        save_cluster_plot(tmp_path / name, X, labels)
    with pytest.raises(ValueError, match="cannot save a plot"):
        save_figure(plot_clusters(X, labels).figure, tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_unwritable_path_raises_os_error(mpl, tmp_path):
    X, labels, _ = _blobs()
    with pytest.raises(OSError):
        save_cluster_plot(tmp_path / "no such directory" / "plot.png", X, labels)

