"""Writing the command line's results: labels, the table with its clusters, a plot.

The output's kind follows its extension, checked before any work is done:

* ``.txt``: one label per line (also what stdout gets without ``--output``);
* ``.npy``: the labels as a NumPy array;
* ``.csv``, ``.tsv`` (optionally ``.gz``, ``.bz2``, ``.xz``, ``.zip``) and
  ``.parquet``: the input table, every column of it, with a ``cluster``
  column appended.
"""

import os
import re

import numpy as np

from ._cli_common import CLIError
from ._cli_read import COMPRESSIONS
from ._plot import _check_format, _require_matplotlib

LABEL_EXTENSIONS = (".txt", ".npy")
TABLE_KINDS = ("csv", "tsv", "parquet")  # outputs that get the whole table
CLUSTER_COLUMN = "cluster"


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


def write_table(data, labels, path):
    """The input table with a cluster column appended, as .csv/.tsv/.parquet.

    A text table keeps the input's decimal mark, and its header: a table read
    without one is written without one, the labels in its last column.
    """
    frame = data.frame.copy(deep=False)
    name = CLUSTER_COLUMN
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
            return
        text = data.text or {"decimal": ".", "header": True}
        # pandas names an empty header field 'Unnamed: 3': write it empty again.
        frame.columns = ["" if re.fullmatch(r"Unnamed: \d+", str(c)) else c
                         for c in frame.columns]
        sep = "\t" if kind == "tsv" else ("," if text["decimal"] == "." else ";")
        frame.to_csv(path, sep=sep, decimal=text["decimal"], index=False,
                     header=text["header"])
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}")


def check_plot(path):
    """Refuse, before any work, a plot that could not be drawn."""
    try:
        _check_format(path)
        _require_matplotlib()
    except (ImportError, ValueError) as exc:
        raise CLIError(f"--plot {path}: {exc}") from None


def save_plot(path, X, labels, centers, title):
    """The clusters drawn in 2-D to ``path`` (.png, .pdf or .svg)."""
    from ._plot import save_cluster_plot

    try:
        save_cluster_plot(path, X, labels, centers, title=title)
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"--plot {path}: {getattr(exc, 'strerror', None) or exc}")
