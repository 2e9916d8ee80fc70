"""Plots of a clustering: the samples in 2-D, coloured by cluster.

matplotlib is an optional dependency (``pip install 'turbocluster[plot]'``).
It is imported inside the functions that draw, never when this module is
imported, so ``import turbocluster`` (and the command line without ``--plot``)
works without it and stays as fast as before.

Figures are made with the object-oriented API (``matplotlib.figure.Figure``
on an Agg canvas), never through pyplot, so nothing here touches pyplot's
global state, opens a window or needs a display. The shared pieces that later
plots (elbow curves, silhouette diagrams, dendrograms) build on are
``_require_matplotlib``, ``_new_axes``, ``cluster_colors`` and ``save_figure``.
"""

import os
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.utils import check_array, check_random_state
from sklearn.utils.random import sample_without_replacement

__all__ = ["cluster_colors", "plot_clusters", "plot_dendrogram", "save_cluster_plot",
           "save_dendrogram", "save_figure"]

PLOT_EXTRA = "pip install 'turbocluster[plot]'"

# File extension -> matplotlib format name. Kept to the three formats that
# every matplotlib install writes without extra libraries.
SAVE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}

# Noise (label -1, as DBSCAN gives) is grey, so the cluster palettes below
# leave out their own greys: a grey cluster would read as noise.
NOISE_COLOR = (0.6, 0.6, 0.6, 1.0)
_TAB10_NO_GREY = [i for i in range(10) if i != 7]
_TAB20_NO_GREY = [i for i in range(20) if i not in (14, 15)]

_FIGSIZE = (6.4, 4.8)


def _require_matplotlib():
    """Import and return matplotlib, or raise an ImportError naming the extra.

    Every drawing function calls this first, so the message a user sees
    without matplotlib always says how to install it.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {PLOT_EXTRA}") from exc
    return matplotlib


def _new_axes(figsize=_FIGSIZE):
    """A new Figure on an Agg canvas and its single Axes, without pyplot."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas
    return figure.add_subplot()


def cluster_colors(n_clusters):
    """RGBA colours for clusters 0 .. n_clusters - 1, from a qualitative map.

    Parameters
    ----------
    n_clusters : int
        Number of clusters to colour.

    Returns
    -------
    colors : ndarray of shape (n_clusters, 4)
        ``colors[k]`` is the colour of cluster ``k``.

    Notes
    -----
    Up to 9 clusters get the distinct hues of ``tab10``; more get the 18
    light/dark pairs of ``tab20``, cycling when there are more than 18
    clusters (so two clusters far apart in number may share a colour). The
    greys of both maps are left out: grey is kept for noise (label -1), see
    ``NOISE_COLOR``.
    """
    _require_matplotlib()
    import matplotlib

    if n_clusters <= len(_TAB10_NO_GREY):
        name, keep = "tab10", _TAB10_NO_GREY
    else:
        name, keep = "tab20", _TAB20_NO_GREY
    palette = np.asarray(matplotlib.colormaps[name].colors)[keep]
    rgb = palette[np.arange(n_clusters) % len(palette)]
    return np.column_stack([rgb, np.ones(n_clusters)])


def _check_labels(labels, n_samples):
    """Labels as a 1-D integer array of length n_samples; -1 means noise."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"labels must be a 1-D array with one label per sample ({n_samples}), "
            f"got shape {labels.shape}"
        )
    if labels.dtype.kind == "f" and np.all(np.isfinite(labels)) and np.all(
        labels == np.round(labels)
    ):
        labels = labels.astype(np.intp)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if n_samples and labels.min() < -1:
        raise ValueError(
            f"labels must be cluster numbers >= 0 or -1 for noise, got {labels.min()}"
        )
    return labels.astype(np.intp, copy=False)


def _subsample(n_samples, max_points, random_state):
    """Sorted indices of at most max_points samples, drawn uniformly, seeded."""
    if max_points is None or n_samples <= max_points:
        return np.arange(n_samples)
    rng = check_random_state(random_state)
    return np.sort(sample_without_replacement(n_samples, max_points, random_state=rng))


def _feature_names(X, n_features):
    names = getattr(X, "columns", None)
    if names is not None and len(names) == n_features:
        return [str(name) for name in names]
    return [f"feature {j}" for j in range(n_features)]


def _project(X, labels, centers, names, random_state):
    """2-D coordinates of the samples and centres, and the two axis labels.

    One feature: the feature against the cluster label, jittered (a strip
    per cluster). Two: the features themselves. More: the first two
    principal components, fitted on X (the plotted samples).
    """
    n_features = X.shape[1]
    if n_features == 1:
        rng = check_random_state(random_state)
        jitter = rng.uniform(-0.3, 0.3, size=X.shape[0])
        points = np.column_stack([_dense(X)[:, 0], labels + jitter])
        if centers is not None:
            centers = np.column_stack([centers[:, 0], np.arange(centers.shape[0])])
        return points, centers, (names[0], "cluster (jittered)")
    if n_features == 2:
        return _dense(X), centers, (names[0], names[1])
    if X.shape[0] < 2:
        raise ValueError("plotting more than 2 features (by PCA) needs at least 2 samples")
    pca = PCA(n_components=2, random_state=random_state)
    # Constant data has no variance to share out: the ratio is 0/0 (nan) and
    # the axis label then leaves the percentage out.
    with np.errstate(invalid="ignore", divide="ignore"):
        points = pca.fit_transform(X)
    if centers is not None:
        centers = pca.transform(centers)
    axis_labels = tuple(
        f"PC{i + 1} ({ratio:.0%} of variance)" if np.isfinite(ratio) else f"PC{i + 1}"
        for i, ratio in enumerate(pca.explained_variance_ratio_)
    )
    return points, centers, axis_labels


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def plot_clusters(X, labels, centers=None, *, ax=None, max_points=20_000,
                  random_state=0, title=None, noise_name="noise"):
    """Draw the samples in 2-D, coloured by cluster, with the cluster centres.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The samples, float32 or float64 (other dtypes are converted to
        float64). A pandas DataFrame's column names label the axes.
    labels : array-like of shape (n_samples,)
        Cluster of each sample: ``0 .. n_clusters - 1``, or -1 for noise
        (drawn in grey, beneath the clusters).
    centers : array-like of shape (n_clusters, n_features), default=None
        Cluster centres, row ``k`` the centre of cluster ``k``; drawn as
        large markers in the cluster's colour with a black edge, projected
        exactly as the samples are. None draws no centres.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw into. None makes a new Figure (object-oriented API,
        Agg canvas, not pyplot) with one Axes, and sets an equal aspect
        ratio for principal components; with a given Axes the aspect is
        left to the caller.
    max_points : int or None, default=20_000
        Draw at most this many samples, a uniform random subsample without
        replacement; None draws all of them. Centres are always all drawn.
    random_state : int, RandomState instance or None, default=0
        Seeds the subsample, the jitter of 1-feature data and the PCA
        solver, so the same call draws the same picture.
    title : str, default=None
        First line of the title; None gives "<n> clusters, <n_samples>
        samples". When samples were left out, a second line says how many
        are shown.
    noise_name : str, default="noise"
        What a sample labelled -1 is called in the legend and the title
        (the command line's anomaly flags call it "outlier").

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn into. Its first collection holds the samples
        (``gid="samples"``), the second the centres (``gid="centers"``).

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message names the extra.
    ValueError
        If labels or centres do not match X, or X is not finite.

    Notes
    -----
    The 2-D view depends on the number of features:

    - 1 feature: the feature on the x axis against the cluster label on the
      y axis, with uniform jitter in [-0.3, 0.3] so each cluster is a strip
      whose spread and overlap with its neighbours can be seen (the y
      position carries no other meaning).
    - 2 features: the features themselves.
    - more: the first two principal components (scikit-learn's ``PCA``),
      fitted on the drawn subsample; the axis labels give the share of the
      variance of that subsample each component explains. The centres are
      transformed by the same fitted PCA.

    The subsample keeps a cluster's share of the samples on average, so a
    cluster much smaller than ``n_samples / max_points`` samples may show
    no points, only its centre.

    Cost: O(n_samples) to validate and draw the subsample, then
    O(m * n_features * min(m, n_features)) for the PCA of the m <=
    max_points drawn samples; rendering is O(m). One million samples in 10
    features plot and save in about a second.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import KMeans
    >>> from turbocluster._plot import plot_clusters
    >>> X = np.array([[1, 2, 0], [1, 4, 1], [1, 0, 0],
    ...               [10, 2, 1], [10, 4, 0], [10, 0, 1]], dtype=float)
    >>> kmeans = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> ax = plot_clusters(X, kmeans.labels_, kmeans.cluster_centers_)
    >>> ax.get_xlabel()
    'PC1 (88% of variance)'
    >>> ax.collections[0].get_offsets().shape
    (6, 2)
    """
    _require_matplotlib()
    raw_X = X
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32])
    n_samples, n_features = X.shape
    labels = _check_labels(labels, n_samples)
    if centers is not None:
        centers = check_array(centers, dtype=[np.float64, np.float32])
        if centers.shape[1] != n_features:
            raise ValueError(
                f"centers have {centers.shape[1]} features, X has {n_features}"
            )
    if max_points is not None and (
        not isinstance(max_points, Integral) or isinstance(max_points, bool)
        or max_points < 1
    ):
        raise ValueError(f"max_points must be a positive integer or None, got {max_points!r}")

    shown = _subsample(n_samples, max_points, random_state)
    X_shown, labels_shown = X[shown], labels[shown]
    names = _feature_names(raw_X, n_features)
    points, centers_2d, (xlabel, ylabel) = _project(
        X_shown, labels_shown, centers, names, random_state
    )

    n_colors = max(int(labels.max(initial=-1)) + 1,
                   0 if centers is None else centers.shape[0])
    palette = cluster_colors(n_colors)
    colors = np.where((labels_shown == -1)[:, None], NOISE_COLOR,
                      palette[np.maximum(labels_shown, 0)] if n_colors else NOISE_COLOR)
    # Noise first, so the clusters are drawn over it; a stable sort keeps the
    # (random) order of the rest, so no cluster systematically covers another.
    order = np.argsort(labels_shown != -1, kind="stable")

    made_axes = ax is None
    if made_axes:
        ax = _new_axes()
    # Marker area shrinks as points grow many, so dense clusters keep shape.
    size = float(np.clip(6000 / max(len(shown), 1), 2, 30))
    ax.scatter(points[order, 0], points[order, 1], c=colors[order], s=size,
               linewidths=0, alpha=0.7, rasterized=len(shown) > 2000, gid="samples")
    if centers_2d is not None:
        ax.scatter(centers_2d[:, 0], centers_2d[:, 1], c=palette[: len(centers_2d)],
                   s=220, marker="X", edgecolors="black", linewidths=1.5, zorder=3,
                   gid="centers")
    has_noise = bool(np.any(labels == -1))
    _legend(ax, centers_2d is not None, has_noise, noise_name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if n_features == 1 and n_colors <= 20:
        ticks = np.arange(-1 if has_noise else 0, n_colors)
        ax.set_yticks(ticks, [noise_name if t == -1 else str(t) for t in ticks])
    if made_axes and n_features > 2:
        ax.set_aspect("equal", adjustable="datalim")

    if title is None:
        n_clusters = np.unique(labels[labels >= 0]).size
        title = f"{n_clusters} clusters, {n_samples:,} samples"
        n_noise = int(np.count_nonzero(labels == -1))
        if n_noise:
            title += f" ({n_noise:,} {noise_name})"
    if len(shown) < n_samples:
        title += f"\n{len(shown):,} of {n_samples:,} samples shown (random subsample)"
    ax.set_title(title)
    return ax


def _legend(ax, has_centers, has_noise, noise_name="noise"):
    """Legend for the centre marker and noise, in neutral colours.

    The cluster colours need no legend (the centres carry them); a proxy
    artist keeps the centre entry from showing one cluster's colour.
    """
    from matplotlib.lines import Line2D

    handles = []
    if has_centers:
        handles.append(Line2D([], [], linestyle="none", marker="X", markersize=10,
                              markerfacecolor="white", markeredgecolor="black",
                              markeredgewidth=1.5, label="cluster centres"))
    if has_noise:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5,
                              markerfacecolor=NOISE_COLOR, markeredgewidth=0,
                              label=f"{noise_name} (label -1)"))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize="small")


def _check_format(path):
    """The matplotlib format name for path's extension, or ValueError."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in SAVE_FORMATS:
        supported = ", ".join(SAVE_FORMATS)
        raise ValueError(
            f"cannot save a plot as {os.fspath(path)!r}: the file name must end in "
            f"one of {supported}"
        )
    return SAVE_FORMATS[extension]


def save_figure(figure, path, *, dpi=150):
    """Write a figure to a PNG, PDF or SVG file, chosen by the extension.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to write, e.g. ``ax.figure``.
    path : str or os.PathLike
        File to write; its extension (``.png``, ``.pdf`` or ``.svg``, any
        case) picks the format. An existing file is overwritten.
    dpi : float, default=150
        Resolution of PNG output, and of the rasterized samples in PDF/SVG.

    Raises
    ------
    ValueError
        If the extension is not one of the supported formats.
    OSError
        If the file cannot be written (missing directory, no permission),
        as raised by the file system.

    Notes
    -----
    Rendering needs no display: figures made here sit on an Agg canvas, and
    PDF and SVG are written by matplotlib's own vector backends.
    """
    _require_matplotlib()
    fmt = _check_format(path)
    figure.savefig(path, format=fmt, dpi=dpi)


def save_cluster_plot(path, X, labels, centers=None, *, title=None,
                      max_points=20_000, random_state=0, dpi=150, noise_name="noise"):
    """Draw the clustering as :func:`plot_clusters` does and save it to path.

    This is what the command line's ``--plot FILE`` calls.

    Parameters
    ----------
    path : str or os.PathLike
        File to write, ``.png``, ``.pdf`` or ``.svg``.
    X, labels, centers, title, max_points, random_state, noise_name
        As in :func:`plot_clusters`.
    dpi : float, default=150
        As in :func:`save_figure`.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure written.

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message names the extra.
    ValueError
        If the extension is not supported (checked before any drawing), or
        the data are invalid.
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from turbocluster._plot import save_cluster_plot
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clusters.png"
    >>> figure = save_cluster_plot(path, [[0.0, 0.0], [0.0, 1.0], [5.0, 5.0]], [0, 0, 1])
    >>> path.read_bytes()[:4]
    b'\\x89PNG'
    """
    _require_matplotlib()
    _check_format(path)
    ax = plot_clusters(X, labels, centers, max_points=max_points,
                       random_state=random_state, title=title, noise_name=noise_name)
    save_figure(ax.figure, path, dpi=dpi)
    return ax.figure


def plot_dendrogram(model, ax=None, **kwargs):
    """Draw the tree of a fitted agglomerative clustering as a dendrogram.

    Parameters
    ----------
    model : AgglomerativeClustering (ours or scikit-learn's)
        Fitted with ``compute_distances=True`` or ``distance_threshold`` (a
        dendrogram is drawn at the merge distances), and the full tree.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; None draws on a new figure (no pyplot involved).
    **kwargs
        Passed to :func:`scipy.cluster.hierarchy.dendrogram`, e.g.
        ``truncate_mode="level", p=3`` to show the top levels of a large
        tree, or ``color_threshold``. By default the leaves are not labelled
        when there are more than 50 of them.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on; ``ax.dendrogram_`` holds the dictionary that
        :func:`scipy.cluster.hierarchy.dendrogram` returns.

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message names the extra.
    TypeError
        If model is not an AgglomerativeClustering, or ax not an Axes.
    ValueError
        If the model kept no merge distances or its tree is partial.

    Examples
    --------
    >>> import numpy as np
    >>> from turbocluster import AgglomerativeClustering, plot_dendrogram
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [4.0, 5.5]])
    >>> model = AgglomerativeClustering(compute_distances=True).fit(X)
    >>> ax = plot_dendrogram(model)
    >>> ax.dendrogram_["ivl"]
    ['0', '1', '2', '3']
    """
    _require_matplotlib()
    from matplotlib.axes import Axes
    from scipy.cluster.hierarchy import dendrogram

    from ._agglomerative import linkage_matrix

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    Z = linkage_matrix(model)
    if ax is None:
        ax = _new_axes()
    if Z.shape[0] + 1 > _DENDROGRAM_LABELLED_LEAVES and "truncate_mode" not in kwargs:
        kwargs.setdefault("no_labels", True)
    ax.dendrogram_ = dendrogram(Z, ax=ax, **kwargs)
    ax.set_ylabel("merge distance")
    return ax


# Leaves labelled by default at most: more names overlap into a black band.
_DENDROGRAM_LABELLED_LEAVES = 50


def save_dendrogram(path, model, *, title=None, dpi=150, **kwargs):
    """Draw the dendrogram of a fitted model as :func:`plot_dendrogram` does
    and save it to path (.png, .pdf, .svg); what the command line's
    ``--dendrogram FILE`` calls. Returns the figure.

    The extension is checked before anything is drawn.
    """
    _require_matplotlib()
    _check_format(path)
    ax = plot_dendrogram(model, **kwargs)
    if title is not None:
        ax.set_title(title)
    save_figure(ax.figure, path, dpi=dpi)
    return ax.figure
