"""Writing the command line's results: labels, the table with its clusters, a plot.

``fit_outcome`` takes from a fitted model what is written (the labels, or
the outlier flags of ``--anomalies``) and what the summary says of the fit.

The output's kind follows its extension, checked before any work is done:

* ``.txt``: one label per line (also what stdout gets without ``--output``);
* ``.npy``: the labels as a NumPy array;
* ``.csv``, ``.tsv`` (optionally ``.gz``, ``.bz2``, ``.xz``, ``.zip``) and
  ``.parquet``: the input table, every column of it, with a ``cluster``
  column appended (an ``inlier`` column of +1/-1 with ``--anomalies``).
"""

import os
import re
from typing import NamedTuple

import numpy as np

from ._cli_common import (
    CLIError, field, format_inertia, format_log_likelihood, plural, wrapped,
)
from ._cli_read import COMPRESSIONS
from ._plot import _check_format, _require_matplotlib

LABEL_EXTENSIONS = (".txt", ".npy")
TABLE_KINDS = ("csv", "tsv", "parquet")  # outputs that get the whole table
CLUSTER_COLUMN = "cluster"
# --anomalies: +1 for an inlier, -1 for an outlier (scikit-learn's predict).
# Named for what +1 means, so that `inlier == 1` selects the inliers; a column
# named 'outlier' would hold 1 for the samples that are not outliers.
INLIER_COLUMN = "inlier"


def output_kind(path):
    """'txt', 'npy', 'csv', 'tsv' or 'parquet' from an output file name."""
    name = path.lower()
    compressed = False
    for extension in COMPRESSIONS:
        if name.endswith(extension):
            name, compressed = name[: -len(extension)], True
            break
    extension = os.path.splitext(name)[1]
    if extension in (".csv", ".tsv") or (extension in LABEL_EXTENSIONS + (".parquet",)
                                         and not compressed):
        return extension[1:]
    raise CLIError(
        f"--output {path}: unsupported file type; expected .txt (one label per "
        "line), .npy (a NumPy array of labels), or .csv, .tsv (optionally "
        ".gz, .bz2, .xz or .zip) or .parquet (the input table with a "
        f"{CLUSTER_COLUMN!r} column)"
    )


def check_writable(path, option):
    """Refuse, before any work, a path whose folder does not exist."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{option} {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"{option} {path}: is a directory")


class Outcome(NamedTuple):
    """What a fitted model gives the command line to write and print."""

    values: np.ndarray  # written out: the labels, or the 1/-1 flags
    values_name: str  # "labels" or "outlier flags"
    column: str  # their column in a table output
    fitted: str  # the fit in a few words, for the "fitted in" line
    fields: list  # lines of the summary
    plot_labels: np.ndarray  # the colours of the plot (-1: grey), or None unasked
    plot_centers: np.ndarray  # or None
    plot_title: str
    plot_noise_name: str = "noise"  # what label -1 is called in the plot


def fit_outcome(model, X, n_clusters, kind, plot=False):
    """The labels (or flags) of a fitted model and what to say about it.

    ``kind`` is 'kmeans' (KMeans, MiniBatchKMeans), 'mixture'
    (GaussianMixture), 'dbscan' (DBSCAN: the labels it keeps, -1 for noise),
    'agglomerative' (AgglomerativeClustering) or 'anomalies' (GaussianMixtureAnomalyDetector);
    ``plot`` says whether the plot's labels are wanted.

    A mixture keeps no labels: they, the flags of the detector, the
    log-likelihoods and the components of a plot each take one more pass
    over X (an E-step), a small part of a fit that makes many.
    """
    if kind == "kmeans":
        labels = model.labels_
        sizes = " ".join(map(str, np.bincount(labels, minlength=n_clusters)))
        return Outcome(
            labels, "labels", CLUSTER_COLUMN,
            f"{plural(model.n_iter_, 'iteration')}, inertia "
            f"{format_inertia(model.inertia_)}",
            [field("iterations", str(model.n_iter_)),
             field("inertia", format_inertia(model.inertia_)),
             wrapped("cluster sizes", sizes)],
            labels, model.cluster_centers_, f"{n_clusters} clusters")

    if kind == "dbscan":
        return _dbscan_outcome(model)
    if kind == "agglomerative":
        return _agglomerative_outcome(model)

    converged = "converged" if model.converged_ else "not converged"
    iterations = f"{plural(model.n_iter_, 'iteration')}, {converged}"
    if kind == "mixture":
        labels = model.predict(X)
        log_likelihood = format_log_likelihood(model.score(X))
        sizes = " ".join(map(str, np.bincount(labels, minlength=n_clusters)))
        return Outcome(
            labels, "labels", CLUSTER_COLUMN,
            f"{iterations}, mean log-likelihood {log_likelihood}",
            [field("iterations", f"{model.n_iter_} ({converged})"),
             field("log-likelihood", f"{log_likelihood} (mean per sample)"),
             wrapped("component sizes", sizes)],
            labels, model.means_,
            f"{n_clusters} components ({model.covariance_type})")

    n_samples = X.shape[0]
    flags = model.predict(X)
    n_outliers = int(np.count_nonzero(flags == -1))
    threshold = format_log_likelihood(model.offset_)
    log_likelihood = format_log_likelihood(model.score(X))
    plot_labels = None
    if plot:
        # The inliers by their most likely component (predict gives the
        # flags), the outliers grey.
        plot_labels = np.where(flags == -1, -1, model.predict_proba(X).argmax(axis=1))
    return Outcome(
        flags, "outlier flags", INLIER_COLUMN,
        f"{iterations}, {plural(n_outliers, 'outlier')} (log-likelihood below "
        f"{threshold})",
        [field("iterations", f"{model.n_iter_} ({converged})"),
         field("log-likelihood", f"{log_likelihood} (mean per sample)"),
         field("outliers", f"{n_outliers} of {n_samples} samples "
                           f"({n_outliers / n_samples:.2%})"),
         field("threshold", f"log-likelihood {threshold} (offset_)")],
        plot_labels, model.means_,
        f"{plural(n_outliers, 'outlier')} (grey) of {n_samples}", "outlier")


def _dbscan_outcome(model):
    """DBSCAN's labels (-1 for noise) and its counts of clusters, noise and
    core samples."""
    labels = model.labels_
    n_samples = labels.shape[0]
    n_clusters = int(labels.max()) + 1 if n_samples else 0
    n_noise = int(np.count_nonzero(labels == -1))
    n_core = model.core_sample_indices_.shape[0]
    sizes = " ".join(map(str, np.bincount(labels[labels >= 0], minlength=n_clusters)))
    return Outcome(
        labels, "labels", CLUSTER_COLUMN,
        f"{plural(n_clusters, 'cluster')}, {plural(n_noise, 'noise sample')}",
        [field("clusters", str(n_clusters)),
         field("noise", f"{n_noise} of {n_samples} samples "
                        f"({n_noise / n_samples:.2%}), labelled -1"),
         field("core samples", str(n_core)),
         wrapped("cluster sizes", sizes or "none")],
        labels, None,
        f"{plural(n_clusters, 'cluster')}, {plural(n_noise, 'noise sample')} (grey)")


def _agglomerative_outcome(model):
    """The labels of an agglomerative clustering, its number of clusters and
    the height of the cut."""
    labels = model.labels_
    n_clusters = model.n_clusters_
    sizes = " ".join(map(str, np.bincount(labels, minlength=n_clusters)))
    fields = [field("clusters", str(n_clusters)), field("linkage", model.linkage)]
    if model.distance_threshold is not None:
        fields.append(field("threshold", f"{model.distance_threshold:g} (merges at or "
                                         "above it are not made)"))
    fields.append(wrapped("cluster sizes", sizes))
    return Outcome(labels, "labels", CLUSTER_COLUMN,
                   f"{plural(n_clusters, 'cluster')} ({model.linkage} linkage)",
                   fields, labels, None,
                   f"{plural(n_clusters, 'cluster')}, {model.linkage} linkage")


def write_labels(labels, path, stdout):
    """One label per line to ``path`` (a .txt or .npy file) or stdout."""
    if path is None:
        stdout.write(_label_lines(labels))
        stdout.flush()
        return
    try:
        if output_kind(path) == "npy":
            np.save(path, labels)
        else:
            with open(path, "w") as f:
                f.write(_label_lines(labels))
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}")


def _label_lines(labels):
    return "\n".join(map(str, labels.tolist())) + "\n"


def write_table(data, labels, path, column=CLUSTER_COLUMN):
    """The input table with ``column`` appended, as .csv/.tsv/.parquet.

    A text table keeps the input's decimal mark, and its header: a table read
    without one is written without one, the labels in its last column. A
    column of the input with the same name keeps it; the new one gets
    underscores in front. Returns the name of the new column.
    """
    frame = data.frame.copy(deep=False)
    name = column
    while name in frame.columns:
        name = "_" + name
    frame[name] = labels
    kind = output_kind(path)
    try:
        if kind == "parquet":
            try:
                frame.to_parquet(path, index=False)
            except ImportError:
                raise CLIError(
                    f"writing {path} needs pyarrow: pip install 'turbocluster[cli]'"
                ) from None
            return name
        text = data.text or {"decimal": ".", "header": True}
        # pandas names an empty header field 'Unnamed: 3': write it empty again.
        frame.columns = ["" if re.fullmatch(r"Unnamed: \d+", str(c)) else c
                         for c in frame.columns]
        sep = "\t" if kind == "tsv" else ("," if text["decimal"] == "." else ";")
        frame.to_csv(path, sep=sep, decimal=text["decimal"], index=False,
                     header=text["header"])
        return name
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}")


def check_plot(path, option="--plot"):
    """Refuse, before any work, a plot that could not be drawn."""
    try:
        _check_format(path)
        _require_matplotlib()
    except (ImportError, ValueError) as exc:
        raise CLIError(f"{option} {path}: {exc}") from None


def save_plot(path, X, labels, centers, title, noise_name="noise"):
    """The clusters drawn in 2-D to ``path`` (.png, .pdf or .svg)."""
    from ._plot import save_cluster_plot

    try:
        save_cluster_plot(path, X, labels, centers, title=title, noise_name=noise_name)
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"--plot {path}: {getattr(exc, 'strerror', None) or exc}")


# Above this many samples the dendrogram shows the top merges only: the
# last _DENDROGRAM_TOP clusters as leaves, each with its size.
_DENDROGRAM_FULL_SAMPLES = 50
_DENDROGRAM_TOP = 30


def save_dendrogram(path, model, title):
    """The tree of a fitted AgglomerativeClustering drawn to ``path``; the
    merges at or above the cut coloured by subtree."""
    from ._plot import save_dendrogram as _save

    kwargs = {}
    if model.n_leaves_ > _DENDROGRAM_FULL_SAMPLES:
        kwargs.update(truncate_mode="lastp", p=_DENDROGRAM_TOP)
    distances = np.sort(model.distances_)
    if 1 < model.n_clusters_ <= distances.shape[0]:
        # Between the last merge kept and the first one cut: the clusters'
        # subtrees get their own colours.
        below, above = distances[-model.n_clusters_], distances[-model.n_clusters_ + 1]
        kwargs["color_threshold"] = (below + above) / 2
    try:
        _save(path, model, title=title, **kwargs)
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"--dendrogram {path}: {getattr(exc, 'strerror', None) or exc}")
