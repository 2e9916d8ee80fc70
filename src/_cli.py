"""The command line: ``python -m turbocluster`` (or the ``turbocluster`` script).

Two modes:

* no PATH: a demonstration on scikit-learn's digits data set, fitting
  turbocluster's ``KMeans`` and scikit-learn's side by side with the same
  parameters, and printing clusters, quality and fit times;
* PATH (a ``.csv`` or ``.npy`` file): clusters the file's rows and writes one
  label per line to ``--output`` or stdout; the summary goes to stderr, so
  stdout can be piped as plain labels.

Every problem with the command line or the input is reported as one line on
stderr with exit status 2, the status argparse uses for usage errors. A
traceback means a bug in turbocluster, never a bad file.
"""

import argparse
import csv
import os
import statistics
import sys
import textwrap
import time
import warnings

import numpy as np

from . import __version__
from ._kmeans import KMeans

PROG = "turbocluster"
EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

_EXTENSIONS = (".csv", ".npy")
_NPY_MAGIC = b"\x93NUMPY"
_SEED_MAX = 2**32 - 1  # numpy's legacy RandomState takes seeds in [0, 2**32)

_DEMO_N_CLUSTERS = 10
_DEMO_REPEATS = 5
_DEMO_SETTLE_S = 0.05
_SIZES_PER_ROW = 10  # clusters per row of the demo's size table
_LABEL_WIDTH = 24  # width of the label column in the demo's table
_COLUMN_WIDTH = 15  # width of each estimator's column in the demo's table

_EPILOG = """\
examples:
  python -m turbocluster
      compare turbocluster and scikit-learn on the digits data set
  python -m turbocluster data.csv --n-clusters 5 > labels.txt
      cluster the rows of data.csv, one label per line on stdout
  python -m turbocluster X.npy --n-clusters 8 --algorithm elkan --output labels.txt

CSV files: comma separated numbers, one sample per row; the first row is
taken as a header when one of its fields is not a number. NaN, infinite and
missing values are rejected. Exit status: 0 on success, 2 on a bad command
line or input file.
"""


class CLIError(Exception):
    """A problem with the command line or the input, reported without a traceback."""


###############################################################################
# Arguments


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _n_init(text):
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a positive integer, got {text!r}"
        )


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    if not 0 <= value <= _SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"expected an integer between 0 and {_SEED_MAX}, got {value}"
        )
    return value


def build_parser():
    """The argument parser of the ``turbocluster`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Cluster the rows of a .csv or .npy file with turbocluster's KMeans,\n"
            "or, without a PATH, compare turbocluster and scikit-learn on the\n"
            "digits data set."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path", nargs="?", metavar="PATH",
        help="a .csv or .npy file of shape (n_samples, n_features); "
             "omit it for the digits demonstration",
    )
    parser.add_argument(
        "--n-clusters", type=_positive_int, metavar="K",
        help="number of clusters; required with PATH "
             f"(demonstration: {_DEMO_N_CLUSTERS})",
    )
    parser.add_argument(
        "--algorithm", choices=("lloyd", "elkan"), default="lloyd",
        help="K-means algorithm (default: %(default)s)",
    )
    parser.add_argument(
        "--n-init", type=_n_init, default="auto", metavar="N",
        help="number of initialisations, or 'auto' (default: %(default)s)",
    )
    parser.add_argument(
        "--max-iter", type=_positive_int, default=300, metavar="N",
        help="maximum number of iterations of one run (default: %(default)s)",
    )
    parser.add_argument(
        "--random-state", type=_seed, default=0, metavar="SEED",
        help="seed of the initialisation, for reproducible labels "
             "(default: %(default)s)",
    )
    parser.add_argument(
        "--dtype", choices=("float64", "float32"), default=None,
        help="precision of the computation (default: float32 for a float32 "
             ".npy file, float64 otherwise)",
    )
    parser.add_argument(
        "--output", metavar="FILE",
        help="write the labels to FILE instead of stdout",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}",
    )
    return parser


def _check_arguments(parser, args):
    """Checks between arguments; parser.error exits with status 2."""
    if args.path is None:
        if args.output is not None:
            parser.error("--output needs a PATH to cluster")
    elif args.n_clusters is None:
        parser.error(f"--n-clusters is required to cluster {args.path}")


###############################################################################
# Reading the data


def load_data(path, dtype=None):
    """Read a .csv or .npy file as a finite 2-D float array.

    Parameters
    ----------
    path : str
        A ``.csv`` or ``.npy`` file.
    dtype : {'float64', 'float32'}, default=None
        None keeps a float32 .npy file in float32 and reads anything else
        as float64.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    header : list of str or None
        The CSV header row, None when there is none.

    Raises
    ------
    CLIError
        Naming the file and, for bad values, where they are.
    """
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a .csv or .npy file")
    extension = os.path.splitext(path)[1].lower()
    if extension not in _EXTENSIONS:
        shown = repr(extension) if extension else "no extension"
        raise CLIError(
            f"{path}: unsupported file type ({shown}); expected a .csv or .npy file"
        )
    if extension == ".csv":
        X, header, locate = _read_csv(path)
    else:
        X, locate = _read_npy(path)
        header = None
    if dtype is None:
        dtype = np.float32 if X.dtype == np.float32 else np.float64
    return _finite_as(X, np.dtype(dtype), path, locate), header


def _finite_as(X, dtype, path, locate):
    """X in dtype, refusing NaN, infinities, and values too large for dtype.

    ``locate(i, j)`` tells where X[i, j] is in the file, for the messages.
    """
    if X.dtype.kind == "f":
        non_finite = ~np.isfinite(X)
        if non_finite.any():
            i, j = np.argwhere(non_finite)[0]
            raise CLIError(
                f"{path}: {locate(i, j)}: {X[i, j]} is not a finite number; NaN "
                f"and infinite values are not supported ({int(non_finite.sum())} "
                "in the file)"
            )
    if X.dtype.kind != "f" or np.finfo(dtype).max < np.finfo(X.dtype).max:
        # Checked before the cast, which would turn such values into infinities.
        too_large = np.abs(X) > np.finfo(dtype).max
        if too_large.any():
            i, j = np.argwhere(too_large)[0]
            raise CLIError(
                f"{path}: {locate(i, j)}: {X[i, j]} is too large for {dtype}"
            )
    return X.astype(dtype, copy=False)


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_csv(path):
    # row_numbers: the 1-based line of each row, as a spreadsheet numbers it.
    rows, row_numbers = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                rows.append(row)
                row_numbers.append(reader.line_num)
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a UTF-8 text file")
    except csv.Error as exc:
        raise CLIError(f"{path}: row {reader.line_num}: {exc}")
    except OSError as exc:
        raise CLIError(f"{path}: cannot read: {exc.strerror or exc}")

    if not rows:
        raise CLIError(f"{path}: the file is empty")
    # An empty field is a missing value, not a sign of a header.
    header = None
    if any(field.strip() and not _is_number(field) for field in rows[0]):
        header = [field.strip() for field in rows.pop(0)]
        row_numbers.pop(0)
        if not rows:
            raise CLIError(f"{path}: the file has a header row but no data rows")

    n_features = len(rows[0]) if header is None else len(header)
    for row, row_number in zip(rows, row_numbers):
        if len(row) != n_features:
            reference = "the first row" if header is None else "the header"
            raise CLIError(
                f"{path}: row {row_number} has {_plural(len(row), 'field')}, "
                f"expected {n_features} as in {reference}"
            )

    try:
        X = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        _raise_first_non_number(path, rows, row_numbers, header)
        # numpy refused a value that float() accepts: report numpy's reason.
        raise CLIError(f"{path}: {exc}")

    def locate(i, j):
        return f"row {row_numbers[i]}, {_column_name(j, header)}"

    return X, header, locate


def _plural(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _column_name(j, header):
    """Column j as a spreadsheet user counts it, with its header name."""
    if header is None:
        return f"column {j + 1}"
    return f"column {j + 1} ({header[j]!r})"


def _raise_first_non_number(path, rows, row_numbers, header):
    for row, row_number in zip(rows, row_numbers):
        for j, field in enumerate(row):
            if _is_number(field):
                continue
            where = f"{path}: row {row_number}, {_column_name(j, header)}"
            if not field.strip():
                raise CLIError(
                    f"{where}: empty value; missing values are not supported"
                )
            hint = ""
            if ";" in field or "\t" in field:
                hint = " (columns must be separated by commas)"
            raise CLIError(f"{where}: {field.strip()!r} is not a number{hint}")


def _read_npy(path):
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_NPY_MAGIC))
            if not magic:
                raise CLIError(f"{path}: the file is empty")
            if magic != _NPY_MAGIC:
                raise CLIError(f"{path}: not a NumPy .npy file")
            f.seek(0)
            X = np.load(f, allow_pickle=False)
    except OSError as exc:
        raise CLIError(f"{path}: cannot read: {exc.strerror or exc}")
    except (ValueError, EOFError) as exc:  # object arrays, truncated files
        raise CLIError(f"{path}: cannot read the array: {exc}")

    if X.dtype.kind not in "biuf":
        raise CLIError(
            f"{path}: the array has dtype {X.dtype}; expected numbers "
            "(integer or floating point)"
        )
    if X.ndim == 1:
        raise CLIError(
            f"{path}: the array is 1-D, of shape {X.shape}; expected a 2-D array "
            "of shape (n_samples, n_features) (for a single feature, save "
            "x.reshape(-1, 1))"
        )
    if X.ndim != 2:
        raise CLIError(
            f"{path}: the array is {X.ndim}-D, of shape {X.shape}; expected a "
            "2-D array of shape (n_samples, n_features)"
        )
    if X.shape[0] == 0:
        raise CLIError(f"{path}: the array has no samples (shape {X.shape})")
    if X.shape[1] == 0:
        raise CLIError(f"{path}: the array has no features (shape {X.shape})")

    def locate(i, j):
        return f"X[{i}, {j}] (row {i}, column {j}, counting from 0)"

    if X.dtype.kind != "f":  # integers and booleans: float64 holds them
        X = X.astype(np.float64)
    return X, locate


###############################################################################
# Fitting and reporting


def _kmeans_params(args, n_clusters):
    return dict(
        n_clusters=n_clusters,
        algorithm=args.algorithm,
        n_init=args.n_init,
        max_iter=args.max_iter,
        random_state=args.random_state,
    )


def _format_params(params):
    return ", ".join(f"{key}={value!r}" for key, value in params.items())


def _check_n_clusters(n_clusters, n_samples, source):
    if n_clusters > n_samples:
        raise CLIError(
            f"--n-clusters {n_clusters} is larger than the number of samples "
            f"({n_samples}) in {source}"
        )


def _fit(estimator, X, stderr, reported=None):
    """Fit, timing the fit alone; warnings become one line each on stderr.

    reported, a set, collects the messages printed: a repeated fit does not
    print them again.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            estimator.fit(X)
        except ValueError as exc:  # the data or parameters, as the estimator sees them
            raise CLIError(str(exc))
        elapsed = time.perf_counter() - start
    reported = set() if reported is None else reported
    for warning in caught:
        message = str(warning.message)
        if message not in reported:
            reported.add(message)
            print(f"{PROG}: warning: {message}", file=stderr)
    return elapsed


def _format_seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _format_inertia(inertia):
    return f"{inertia:.10g}"


def _cluster_sizes(labels, n_clusters):
    return np.bincount(labels, minlength=n_clusters)


def _field(label, text, width=16):
    """``label`` in a column of ``width``, ``text`` beside it on one line."""
    return f"{label:<{width}}{text}"


def _wrapped(label, text, width=16):
    """``label`` in a column of ``width``, ``text`` wrapped beside it."""
    return textwrap.fill(
        text, width=79, initial_indent=f"{label:<{width}}",
        subsequent_indent=" " * width, break_on_hyphens=False,
    )


def _run_demo(args, stdout, stderr):
    """Fit both KMeans on the digits data set and print the comparison."""
    # Imported here: only the demonstration needs them.
    from sklearn import __version__ as sklearn_version
    from sklearn.cluster import KMeans as SklearnKMeans
    from sklearn.datasets import load_digits
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    digits = load_digits()
    X = digits.data.astype(args.dtype or np.float64)
    n_samples, n_features = X.shape
    n_clusters = args.n_clusters or _DEMO_N_CLUSTERS
    _check_n_clusters(n_clusters, n_samples, "the digits data set")
    params = _kmeans_params(args, n_clusters)

    estimators = {"turbocluster": KMeans, "scikit-learn": SklearnKMeans}
    models = {}
    times = {name: [] for name in estimators}
    reported = {name: set() for name in estimators}
    # Alternate the two, so that a burst of load on the machine hits both.
    # A fit of a few milliseconds otherwise mostly measures the other
    # library's idle OpenMP threads, still spinning on the cores, or its own
    # threads waking up: each timed fit comes after a pause that lets the
    # other library's threads go to sleep, then an untimed fit of its own.
    for repeat in range(_DEMO_REPEATS):
        for name, estimator in estimators.items():
            time.sleep(_DEMO_SETTLE_S)
            _fit(estimator(**params), X, stderr, reported[name])
            models[name] = estimator(**params)
            times[name].append(_fit(models[name], X, stderr, reported[name]))
    median = {name: statistics.median(times[name]) for name in estimators}

    def score(metric, labels):
        try:
            return f"{metric(labels):.4f}"
        except ValueError:  # silhouette needs 2 <= n_labels <= n_samples - 1
            return "n/a"

    def row(label, cells):
        cells = "".join(f"{cell:>{_COLUMN_WIDTH}}" for cell in cells)
        return f"{label:<{_LABEL_WIDTH}}{cells}"

    fitted = [models[name] for name in estimators]
    ratio = median["scikit-learn"] / median["turbocluster"]
    lines = [
        f"turbocluster {__version__} vs scikit-learn {sklearn_version}: "
        "KMeans on the digits data set",
        "",
        _wrapped("data", f"load_digits(), {n_samples} samples x {n_features} "
                         f"features, {X.dtype}"),
        _wrapped("parameters", _format_params(params)),
        "",
        row("", estimators),
        row("iterations", [str(m.n_iter_) for m in fitted]),
        row("inertia", [_format_inertia(m.inertia_) for m in fitted]),
        row("silhouette score",
            [score(lambda y: silhouette_score(X, y), m.labels_) for m in fitted]),
        row("ARI vs digit classes",
            [score(lambda y: adjusted_rand_score(digits.target, y), m.labels_)
             for m in fitted]),
        row(f"fit time (median of {_DEMO_REPEATS})",
            [_format_seconds(median[name]) for name in estimators]),
        row("speed vs scikit-learn", [f"{ratio:.2f}x", "1.00x"]),
    ]

    lines += ["", "cluster sizes"]
    sizes = {name: _cluster_sizes(m.labels_, n_clusters) for name, m in models.items()}
    width = max(len(str(n_samples)), len(str(n_clusters - 1))) + 2

    def size_row(label, values):
        return f"  {label:<14}" + "".join(f"{v:>{width}}" for v in values)

    for start in range(0, n_clusters, _SIZES_PER_ROW):
        stop = min(start + _SIZES_PER_ROW, n_clusters)
        lines.append(size_row("cluster", range(start, stop)))
        lines += [size_row(name, sizes[name][start:stop]) for name in estimators]

    agreement = adjusted_rand_score(models["turbocluster"].labels_,
                                    models["scikit-learn"].labels_)
    same = " (the same partition)" if agreement == 1.0 else ""
    lines += [
        "",
        f"agreement of the two labelings (adjusted Rand index): {agreement:.4f}{same}",
    ]
    print("\n".join(lines), file=stdout)


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # b does not exist yet
        return False


def _write_labels(labels, output, stdout):
    text = "\n".join(map(str, labels.tolist())) + "\n"
    if output is None:
        stdout.write(text)
        stdout.flush()
        return
    try:
        with open(output, "w") as f:
            f.write(text)
    except OSError as exc:
        raise CLIError(f"cannot write {output}: {exc.strerror or exc}")


def _run_file(args, stdout, stderr):
    """Cluster args.path: labels to args.output or stdout, summary to stderr."""
    path = args.path
    if args.output is not None and _same_file(args.output, path):
        raise CLIError(f"--output {args.output} would overwrite the input file")
    X, header = load_data(path, args.dtype)
    n_samples, n_features = X.shape
    _check_n_clusters(args.n_clusters, n_samples, path)

    params = _kmeans_params(args, args.n_clusters)
    model = KMeans(**params)
    elapsed = _fit(model, X, stderr)
    _write_labels(model.labels_, args.output, stdout)

    data = f"{path}: {n_samples} samples x {n_features} features, {X.dtype}"
    if header is not None:
        shown = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
        data += f", header row skipped ({shown})"
    sizes = " ".join(map(str, _cluster_sizes(model.labels_, args.n_clusters)))
    destination = "stdout" if args.output is None else args.output
    summary = [
        _field("data", data),
        _wrapped("model", f"turbocluster.KMeans({_format_params(params)})"),
        _field("iterations", str(model.n_iter_)),
        _field("inertia", _format_inertia(model.inertia_)),
        _wrapped("cluster sizes", sizes),
        _field("fit time", _format_seconds(elapsed)),
        _field("labels", f"{n_samples} lines written to {destination}"),
    ]
    print("\n".join(summary), file=stderr)


###############################################################################
# Entry point


def _exit_status(exc):
    """The status of a SystemExit raised by argparse (--help, --version, errors)."""
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return EXIT_ERROR


def main(argv=None):
    """Run the ``turbocluster`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name. None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a bad command line or input, 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_arguments(parser, args)
    except SystemExit as exc:  # argparse has already printed its message
        return _exit_status(exc)

    try:
        if args.path is None:
            _run_demo(args, sys.stdout, sys.stderr)
        else:
            _run_file(args, sys.stdout, sys.stderr)
    except CLIError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_OK
