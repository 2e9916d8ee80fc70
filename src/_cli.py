"""The command line: ``python -m turbocluster`` (or the ``turbocluster`` script).

Two modes:

* no PATH: a demonstration (``_cli_demo.py``): turbocluster's ``KMeans`` and
  scikit-learn's side by side, on the digits data set for quality and on a
  generated data set large enough to time, then their ``GaussianMixture``
  and ``DBSCAN`` (``--algorithm gmm``, ``dbscan`` or ``agglomerative``: that
  estimator's section alone);
* PATH (a table or an array, ``-`` for standard input): reads it
  (``_cli_read.py``), clusters the chosen columns (k-means, a Gaussian
  mixture, DBSCAN or an agglomerative clustering), or flags their outliers
  (``--anomalies``), and writes the labels (or flags) or the table with
  them, and a plot (and for agglomerative clustering a dendrogram) on
  request (``_cli_output.py``).
  Progress, warnings and the summary go to stderr, so that stdout can be piped
  as plain labels.

Every problem with the command line or the input is reported as one line on
stderr with exit status 2, the status argparse uses for usage errors. A
traceback means a bug in turbocluster, never a bad file.
"""

import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import __version__
from ._agglomerative import AgglomerativeClustering
from ._anomaly import GaussianMixtureAnomalyDetector
from ._cli_common import (
    PROG, CLIError, field, fit_estimator, format_inertia, format_params,
    format_seconds, plural, progress, warn, wrapped,
)
from ._cli_output import (
    TABLE_KINDS, check_plot, check_writable, fit_outcome, output_kind, save_dendrogram,
    save_plot, write_labels, write_table,
)
from ._cli_read import ReadOptions, read_data
from ._dbscan import DBSCAN
from ._kmeans import KMeans
from ._minibatch import MiniBatchKMeans
from ._mixture import GaussianMixture
from ._threads import effective_n_threads

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

_SPREAD_RATIO = 10.0  # warn when feature spreads differ by more than this factor
_SPREAD_SAMPLE = 10_000  # rows that _warn_spreads looks at
_SEED_MAX = 2**32 - 1  # numpy's legacy RandomState takes seeds in [0, 2**32)
# --algorithm: the estimator (see _estimator_class), and for KMeans its
# algorithm (None: the estimator has none).
_ALGORITHMS = {"kmeans": "lloyd", "lloyd": "lloyd", "elkan": "elkan", "minibatch": None,
               "gmm": None, "dbscan": None, "agglomerative": None}
# --max-iter's default: each estimator's own (MiniBatchKMeans counts passes
# over the data).
_DEFAULT_MAX_ITER, _DEFAULT_MINIBATCH_PASSES, _DEFAULT_MIXTURE_MAX_ITER = 300, 100, 100
_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# The options that only --algorithm gmm takes, and what to say without it.
_MIXTURE_OPTIONS = {
    "n_components": "--n-components applies to --algorithm gmm; k-means takes "
                    "--n-clusters",
    "covariance_type": "--covariance-type applies to --algorithm gmm",
    "anomalies": "--anomalies needs --algorithm gmm: the outliers are the samples "
                 "that a Gaussian mixture fitted to the data finds least likely",
}
# The options that only --algorithm dbscan takes, and DBSCAN's default of
# --min-samples (scikit-learn's). --eps has no default with a PATH: a radius
# means something only in the data's units.
_DBSCAN_OPTIONS = {
    "eps": "--eps applies to --algorithm dbscan",
    "min_samples": "--min-samples applies to --algorithm dbscan",
}
_DEFAULT_MIN_SAMPLES = 5
# The options that DBSCAN does not take: it has no number of clusters, no
# initialisation and no iterations.
_NOT_DBSCAN_OPTIONS = {
    "n_clusters": "DBSCAN finds the number of clusters itself",
    "n_components": "DBSCAN finds the number of clusters itself",
    "covariance_type": "it applies to --algorithm gmm",
    "anomalies": "it applies to --algorithm gmm; DBSCAN's noise samples are "
                 "labelled -1",
    "choose_k": "DBSCAN finds the number of clusters itself",
    "n_init": "DBSCAN has no initialisation",
    "max_iter": "DBSCAN does not iterate",
    "tol": "DBSCAN does not iterate",
    "random_state": "DBSCAN is deterministic",
    "verbose": "DBSCAN prints no progress",
    "linkage": "it applies to --algorithm agglomerative",
    "distance_threshold": "it applies to --algorithm agglomerative",
    "dendrogram": "it applies to --algorithm agglomerative",
}
# The options that only --algorithm agglomerative takes.
_AGGLOMERATIVE_OPTIONS = {
    "linkage": "--linkage applies to --algorithm agglomerative",
    "distance_threshold": "--distance-threshold applies to --algorithm agglomerative",
    "dendrogram": "--dendrogram needs --algorithm agglomerative: it draws the tree "
                  "of its merges",
}
_LINKAGES = ("ward", "complete", "average", "single")
# The options that agglomerative clustering does not take.
_NOT_AGGLOMERATIVE_OPTIONS = {
    "n_components": "it applies to --algorithm gmm; give --n-clusters",
    "covariance_type": "it applies to --algorithm gmm",
    "anomalies": "it applies to --algorithm gmm",
    "eps": "it applies to --algorithm dbscan",
    "min_samples": "it applies to --algorithm dbscan",
    "choose_k": "give --n-clusters or --distance-threshold",
    "n_init": "agglomerative clustering has no initialisation",
    "max_iter": "agglomerative clustering does not iterate",
    "tol": "agglomerative clustering does not iterate",
    "random_state": "agglomerative clustering is deterministic",
    "verbose": "agglomerative clustering prints no progress",
}
_DELIMITERS = {
    "comma": ",", ",": ",", "semicolon": ";", ";": ";", "tab": "\t", "\\t": "\t",
    "\t": "\t", "whitespace": "whitespace", "space": "whitespace",
    "|": "|", "pipe": "|",
}

_EPILOG = """\
examples:
  python -m turbocluster
      compare turbocluster and scikit-learn: KMeans (digits, then generated
      data), then GaussianMixture (generated data)
  python -m turbocluster --algorithm gmm
      compare their GaussianMixture alone
  python -m turbocluster data.csv --n-clusters 5 > labels.txt
      cluster the rows of data.csv, one label per line on stdout
  python -m turbocluster wine.csv --n-clusters 3 --standardize --drop class \\
      --output clustered.csv --plot clusters.png
      cluster standardized features, write the table with a 'cluster'
      column, and draw the clusters
  gunzip -c data.tsv.gz | python -m turbocluster - --n-clusters 8 --output labels.npy
  python -m turbocluster data.csv --algorithm gmm --n-components 4 \\
      --covariance-type diag > labels.txt
      fit a mixture of 4 Gaussians with diagonal covariances; each row's
      label is its most likely component
  python -m turbocluster data.csv --algorithm gmm --n-components 4 \\
      --anomalies 0.01 --output flagged.csv
      flag the 1% of rows least likely under the fitted mixture: the table
      with an 'inlier' column, 1 for an inlier, -1 for an outlier
  python -m turbocluster points.csv --algorithm dbscan --eps 0.3 \\
      --min-samples 10 > labels.txt
      DBSCAN: clusters of the samples with at least 10 samples (themselves
      included) within distance 0.3, and the samples they reach; -1 labels
      the noise
  python -m turbocluster --algorithm dbscan
      compare their DBSCAN alone (two moons with noise)
  python -m turbocluster data.csv --algorithm agglomerative --linkage average \
      --n-clusters 4 --dendrogram tree.png > labels.txt
      agglomerative clustering: merge the closest clusters (average
      distance between their samples) until 4 are left; draw the tree
  python -m turbocluster data.csv --algorithm agglomerative \
      --distance-threshold 2.5 > labels.txt
      Ward's clustering, stopped where merging would cost 2.5 or more
  python -m turbocluster --algorithm agglomerative
      compare their AgglomerativeClustering alone (every linkage)

input: .csv, .tsv, .txt (also .gz, .bz2, .xz, .zip), .parquet, .npy, .npz, or
- for standard input. Text tables: the delimiter (comma, semicolon, tab or
white space), the decimal mark and the header are found from the first lines
unless given; a first line with a non-number is a header. Columns that look
like a row index (0..n-1 or 1..n), text, or an integer class label (a name
such as 'target' or 'class', or the last column beside non-integer features)
are not clustered, with a warning naming the option that says so explicitly;
--columns turns this off. Missing, NaN and infinite values are refused.

output: .txt (one label per line; also stdout without --output), .npy (the
labels), .csv, .tsv (also compressed) or .parquet (the input table with a
'cluster' column appended; a text table keeps its header, or its lack of one,
and its decimal mark). With --anomalies, the labels are outlier flags as
scikit-learn's outlier detectors give them, 1 for an inlier and -1 for an
outlier, and the table's column is named 'inlier' (so that inlier == 1 keeps
the inliers).

--algorithm gmm: --n-clusters K is another name for --n-components K (a
mixture's clusters are its components); --n-init auto means 1, the default of
GaussianMixture; --choose-k adds each number's BIC and AIC to the table and
keeps the BIC's choice. The features' units matter
less than for k-means: full, tied and diagonal covariances follow each
feature's spread, spherical ones do not.

--algorithm dbscan: DBSCAN(eps=E, min_samples=M) with Euclidean distances;
--eps is required with PATH, --min-samples defaults to 5. A core sample has
at least M samples (itself included) within E; a
cluster is the core samples linked by chains of distances up to E and the
samples within E of them; the rest is noise, labelled -1 (a table output's
'cluster' column holds -1 too). The summary gives the number of clusters, of
noise samples and of core samples. The clustering is scikit-learn's, border
samples included. E is in the data's units: --standardize changes its meaning.
--n-clusters, --n-components, --choose-k, --n-init, --max-iter, --tol,
--random-state, --covariance-type, --anomalies and --verbose do not apply.

--algorithm agglomerative: AgglomerativeClustering(linkage=L) with Euclidean
distances; --linkage is ward (the default: the merge that least increases
the clusters' variance), complete, average or single (the largest, mean or
smallest distance between the two clusters' samples). Give --n-clusters K
(merge until K clusters are left) or --distance-threshold T (stop merging at
distance T: the number of clusters follows). --dendrogram FILE draws the tree
of the merges (.png, .pdf, .svg; its top 30 clusters above 50 samples). The
labels are scikit-learn's, cluster numbers included. Its time grows with
n_samples^2 and complete and average keep n_samples^2 / 2 distances: 20,000
samples take 1.6 GB in float64 (800 MB with --dtype float32).

Reading text tables needs pandas, .parquet files pyarrow (pip install
'turbocluster[cli]'); --plot and --dendrogram need matplotlib (pip install
'turbocluster[plot]'). Exit status: 0 on success, 2 on a bad command line or
input file, 130 when interrupted.
"""


###############################################################################
# Arguments


def _integer(text, low=None, high=None, what="an integer"):
    """An argparse type: int(text) within [low, high], else a message saying ``what``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def _positive_int(text):
    return _integer(text, low=1, what="a positive integer")


def _k_range(text):
    """'A..B' (A >= 2): the numbers of clusters from A to B."""
    low, sep, high = text.partition("..")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected A..B (like 2..12), got {text!r}")
    low = _integer(low, low=2, what="a number of clusters of at least 2")
    high = _integer(high, low=low, what=f"a number of clusters of at least {low}")
    return range(low, high + 1)


def _non_negative_int(text):
    return _integer(text, low=0, what="a non-negative integer")


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a non-negative number, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _fraction(text):
    """--anomalies: a fraction of the samples in (0, 0.5]."""
    try:
        value = float(text)
    except ValueError:
        value = None
    # More than half the samples would make the outliers the rule.
    if value is None or not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(
            f"expected a fraction of the samples in (0, 0.5], like 0.01, got {text!r}")
    return value


def _seed(text):
    return _integer(text, low=0, high=_SEED_MAX,
                    what=f"an integer between 0 and {_SEED_MAX}")


def _n_init(text):
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a positive integer, got {text!r}"
        )


def _column_list(text):
    tokens = [token.strip() for token in text.split(",")]
    if not all(tokens):
        raise argparse.ArgumentTypeError(
            f"expected column names or numbers separated by commas, got {text!r}"
        )
    return tokens


def _delimiter(text):
    if text in _DELIMITERS:
        return _DELIMITERS[text]
    if len(text) == 1 and text not in "\"\n\r":
        return text
    raise argparse.ArgumentTypeError(
        f"expected one character, or comma, semicolon, tab or whitespace, got {text!r}"
    )


def build_parser():
    """The argument parser of the ``turbocluster`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Cluster the rows of a data file with turbocluster, or flag its\n"
            "outliers, or, without a PATH, compare turbocluster and scikit-learn."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path", nargs="?", metavar="PATH",
        help="the data: a table or an array of shape (n_samples, n_features), "
             "- for standard input; omit it for the demonstration",
    )

    model = parser.add_argument_group("the model")
    model.add_argument(
        "--algorithm", choices=tuple(_ALGORITHMS), default="kmeans",
        help="kmeans (KMeans with Lloyd's algorithm), lloyd, elkan "
             "(KMeans with algorithm='elkan'), minibatch (MiniBatchKMeans), or "
             "gmm (GaussianMixture: a mixture of Gaussians fitted by EM, each "
             "sample labelled with its most likely component), dbscan "
             "(DBSCAN: clusters of dense regions, -1 for noise; takes --eps "
             "and --min-samples), or agglomerative (AgglomerativeClustering: "
             "merges the closest clusters; takes --linkage and --n-clusters or "
             "--distance-threshold) (default: %(default)s)",
    )
    model.add_argument(
        "--n-clusters", type=_positive_int, metavar="K",
        help="number of clusters; required with PATH (with --algorithm gmm, "
             "the same as --n-components)",
    )
    model.add_argument(
        "--n-components", type=_positive_int, metavar="K",
        help="with --algorithm gmm: number of Gaussian components, the clusters "
             "of the labels; required with PATH (or --n-clusters K)",
    )
    model.add_argument(
        "--covariance-type", choices=_COVARIANCE_TYPES, metavar="TYPE",
        help="with --algorithm gmm: the shape of the components, full (each "
             "its own ellipsoid), tied (one ellipsoid shared by all), diag "
             "(ellipsoids along the axes) or spherical (default: full)",
    )
    model.add_argument(
        "--anomalies", type=_fraction, metavar="FRACTION",
        help="with --algorithm gmm: instead of labels, flag as outliers the "
             "FRACTION of the samples (in (0, 0.5], like 0.01) that the fitted "
             "mixture finds least likely (GaussianMixtureAnomalyDetector with "
             "contamination=FRACTION): 1 for an inlier, -1 for an outlier; a "
             "table output gets an 'inlier' column",
    )
    model.add_argument(
        "--eps", type=_positive_float, metavar="E",
        help="with --algorithm dbscan: the radius of a sample's neighbourhood, "
             "in the data's units; required with PATH",
    )
    model.add_argument(
        "--min-samples", type=_positive_int, metavar="M",
        help="with --algorithm dbscan: the samples (the sample itself "
             "included) within --eps that make a core sample "
             f"(default: {_DEFAULT_MIN_SAMPLES})",
    )
    model.add_argument(
        "--linkage", choices=_LINKAGES, metavar="L",
        help="with --algorithm agglomerative: the distance between two clusters, "
             "ward (the increase of variance of their merge), complete, average "
             "or single (the largest, mean or smallest distance between their "
             "samples) (default: ward)",
    )
    model.add_argument(
        "--distance-threshold", type=_non_negative_float, metavar="T",
        help="with --algorithm agglomerative, instead of --n-clusters: stop "
             "merging clusters at this distance (in the data's units); the "
             "number of clusters follows",
    )
    model.add_argument(
        "--choose-k", type=_k_range, metavar="A..B",
        help="instead of --n-clusters: fit each number of clusters from A to B "
             "and print their scores (inertia, silhouette, Calinski-Harabasz, "
             "Davies-Bouldin) and the number each recommends; --output writes the "
             "labels of the silhouette's choice, --plot draws the elbow and the "
             "silhouette curve",
    )
    model.add_argument(
        "--n-init", type=_n_init, default="auto", metavar="N",
        help="number of initialisations, or 'auto' (default: %(default)s: "
             "KMeans' own rule; 1 for gmm)",
    )
    model.add_argument(
        "--max-iter", type=_positive_int, default=None, metavar="N",
        help="maximum number of iterations of one run, for minibatch passes over "
             "the data (default: 300, minibatch 100, gmm 100)",
    )
    model.add_argument(
        "--tol", type=_non_negative_float, default=None, metavar="TOL",
        help="tolerance of convergence: KMeans' on the move of the centres, "
             "GaussianMixture's on the gain of the mean log-likelihood between "
             "iterations; 0 runs every iteration of --max-iter (default: the "
             "estimator's own: 1e-4, minibatch 0, gmm 1e-3)",
    )
    model.add_argument(
        "--random-state", type=_seed, default=0, metavar="SEED",
        help="seed of the initialisation, for reproducible labels "
             "(default: %(default)s)",
    )
    model.add_argument(
        "--dtype", choices=("float64", "float32"), default=None,
        help="precision of the computation (default: float32 for float32 "
             "data, float64 otherwise)",
    )
    model.add_argument(
        "--standardize", action="store_true",
        help="scale every feature to mean 0 and variance 1 before clustering "
             "(features in different units otherwise weigh by their units)",
    )
    model.add_argument(
        "--verbose", action="store_true",
        help="print the iterations of the fit on stderr",
    )

    data = parser.add_argument_group("what to read")
    data.add_argument(
        "--columns", type=_column_list, metavar="LIST",
        help="the columns to cluster: names or numbers counted from 1, "
             "separated by commas, ranges as 2-5 (default: every numeric "
             "column that is not an index or a label)",
    )
    data.add_argument(
        "--drop", type=_column_list, default=[], metavar="LIST",
        help="columns not to cluster, as for --columns",
    )
    header = data.add_mutually_exclusive_group()
    header.add_argument(
        "--header", dest="header", action="store_true", default=None,
        help="the first line (after --skip-rows) holds column names",
    )
    header.add_argument(
        "--no-header", dest="header", action="store_false",
        help="the first line is data",
    )
    data.add_argument(
        "--index-col", metavar="COLUMN",
        help="a column of row names or numbers, not clustered (name or number)",
    )
    data.add_argument(
        "--delimiter", type=_delimiter, metavar="D",
        help="the column separator: one character, or comma, semicolon, tab, "
             "whitespace (default: found from the first lines)",
    )
    data.add_argument(
        "--decimal", choices=(".", ","), default=None,
        help="the decimal mark (default: found from the first lines)",
    )
    data.add_argument(
        "--skip-rows", type=_non_negative_int, default=0, metavar="N",
        help="lines to skip at the top of a text table (default: 0)",
    )
    data.add_argument(
        "--key", metavar="NAME",
        help="the array to read from an .npz file holding several",
    )

    output = parser.add_argument_group("what to write")
    output.add_argument(
        "--output", metavar="FILE",
        help="write the labels (.txt, .npy) or the table with a 'cluster' "
             "column (.csv, .tsv, .parquet) to FILE instead of stdout; with "
             "--anomalies the 1/-1 flags, or the table with an 'inlier' column",
    )
    output.add_argument(
        "--plot", metavar="FILE",
        help="draw the clusters in 2-D (first two principal components for "
             "more features) to FILE (.png, .pdf, .svg); with --anomalies the "
             "outliers in grey",
    )
    output.add_argument(
        "--dendrogram", metavar="FILE",
        help="with --algorithm agglomerative: draw the tree of the merges to "
             "FILE (.png, .pdf, .svg)",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}",
    )
    return parser


_FILE_OPTIONS = ("output", "plot", "columns", "drop", "header", "index_col",
                 "delimiter", "decimal", "skip_rows", "key", "standardize",
                 "verbose", "choose_k", "anomalies", "dendrogram")


def _check_arguments(parser, args):
    """Checks between arguments; parser.error exits with status 2."""
    if args.algorithm == "dbscan":
        _check_dbscan_arguments(parser, args)
        return
    if args.algorithm == "agglomerative":
        _check_agglomerative_arguments(parser, args)
        return
    for name, message in _AGGLOMERATIVE_OPTIONS.items():
        if getattr(args, name) is not None:
            parser.error(message)
    for name, message in _DBSCAN_OPTIONS.items():
        if getattr(args, name) is not None:
            parser.error(message)
    if args.algorithm != "gmm":
        for name, message in _MIXTURE_OPTIONS.items():
            if getattr(args, name) is not None:
                parser.error(message)
    elif args.choose_k is not None and args.anomalies is not None:
        parser.error("--choose-k and --anomalies: give one of them")
    elif args.choose_k is not None and _n_clusters(args)[0] is not None:
        parser.error(f"{_n_clusters(args)[1]} and --choose-k: give one of them")
    elif args.n_clusters is not None and args.n_components is not None:
        parser.error("--n-clusters and --n-components: give one of them (with "
                     "--algorithm gmm, --n-clusters is another name for "
                     "--n-components)")
    if args.path is None:
        defaults = parser.parse_args([])
        given = [name for name in _FILE_OPTIONS
                 if getattr(args, name) != getattr(defaults, name)]
        if given:
            shown = ", ".join("--" + name.replace("_", "-") for name in given)
            parser.error(f"{shown}: need{'s' if len(given) == 1 else ''} a PATH to cluster")
    elif args.algorithm == "gmm":
        if _n_clusters(args)[0] is None and args.choose_k is None:
            parser.error("--n-components (or --n-clusters, or --choose-k) is required "
                         f"to fit a Gaussian mixture to {args.path}")
    elif args.n_clusters is not None and args.choose_k is not None:
        parser.error("--n-clusters and --choose-k: give one of them")
    elif args.n_clusters is None and args.choose_k is None:
        parser.error(f"--n-clusters (or --choose-k) is required to cluster {args.path}")


def _check_dbscan_arguments(parser, args):
    """--algorithm dbscan: the options it does not take (those left at their
    default are not seen), and --eps with a PATH."""
    defaults = parser.parse_args([])
    for name, reason in _NOT_DBSCAN_OPTIONS.items():
        if getattr(args, name) != getattr(defaults, name):
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} does not apply to --algorithm dbscan: {reason}")
    if args.path is None:
        given = [name for name in _FILE_OPTIONS
                 if getattr(args, name) != getattr(defaults, name)]
        if given:
            shown = ", ".join("--" + name.replace("_", "-") for name in given)
            parser.error(f"{shown}: need{'s' if len(given) == 1 else ''} a PATH to cluster")
    elif args.eps is None:
        parser.error(f"--eps is required to run DBSCAN on {args.path} (the radius "
                     "of a neighbourhood, in the data's units)")


def _check_agglomerative_arguments(parser, args):
    """--algorithm agglomerative: the options it does not take, and one of
    --n-clusters and --distance-threshold with a PATH."""
    defaults = parser.parse_args([])
    for name, reason in _NOT_AGGLOMERATIVE_OPTIONS.items():
        if getattr(args, name) != getattr(defaults, name):
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} does not apply to --algorithm agglomerative: {reason}")
    if args.n_clusters is not None and args.distance_threshold is not None:
        parser.error("--n-clusters and --distance-threshold: give one of them")
    if args.path is None:
        given = [name for name in _FILE_OPTIONS
                 if getattr(args, name) != getattr(defaults, name)]
        if given:
            shown = ", ".join("--" + name.replace("_", "-") for name in given)
            parser.error(f"{shown}: need{'s' if len(given) == 1 else ''} a PATH to cluster")
    elif args.n_clusters is None and args.distance_threshold is None:
        parser.error("--n-clusters or --distance-threshold is required to cluster "
                     f"{args.path} agglomeratively")


def _n_clusters(args):
    """The number of clusters (components) asked for, and the option that asked."""
    if args.n_components is not None:
        return args.n_components, "--n-components"
    return args.n_clusters, "--n-clusters"


def _read_options(args):
    return ReadOptions(
        columns=args.columns, drop=args.drop, header=args.header,
        index_col=args.index_col, delimiter=args.delimiter, decimal=args.decimal,
        skip_rows=args.skip_rows, key=args.key, dtype=args.dtype,
    )


###############################################################################
# Clustering a file


def _estimator_class(args):
    if args.algorithm == "dbscan":
        return DBSCAN
    if args.algorithm == "agglomerative":
        return AgglomerativeClustering
    if args.algorithm == "gmm":
        if args.anomalies is not None:
            return GaussianMixtureAnomalyDetector
        return GaussianMixture
    return MiniBatchKMeans if args.algorithm == "minibatch" else KMeans


def _model_params(args, n_clusters):
    """The estimator's keyword arguments from the command line (tol only if given)."""
    if args.algorithm == "dbscan":
        # The demonstration has its own radius and minimum, for what is not given.
        params = {name: getattr(args, name) for name in ("eps", "min_samples")
                  if getattr(args, name) is not None}
        if args.path is not None:
            params.setdefault("min_samples", _DEFAULT_MIN_SAMPLES)
        return params
    if args.algorithm == "agglomerative":
        # The demonstration has its own numbers of clusters, for what is not given.
        params = {}
        if args.linkage is not None or args.path is not None:
            params["linkage"] = args.linkage or "ward"
        if args.distance_threshold is not None:
            params.update(n_clusters=None, distance_threshold=args.distance_threshold)
        elif n_clusters is not None:
            params["n_clusters"] = n_clusters
        if args.dendrogram is not None:
            params["compute_distances"] = True
        return params
    tol = {} if args.tol is None else {"tol": args.tol}
    if args.algorithm == "gmm":
        params = dict(
            n_components=n_clusters, covariance_type=args.covariance_type or "full",
            # 'auto' is KMeans' rule; GaussianMixture's default is one run.
            n_init=1 if args.n_init == "auto" else args.n_init,
            max_iter=(_DEFAULT_MIXTURE_MAX_ITER if args.max_iter is None
                      else args.max_iter),
            **tol, random_state=args.random_state,
        )
        if args.anomalies is not None:
            params["contamination"] = args.anomalies
        return params
    minibatch = args.algorithm == "minibatch"
    params = dict(n_clusters=n_clusters)
    if not minibatch:
        params["algorithm"] = _ALGORITHMS[args.algorithm]
    default_max_iter = _DEFAULT_MINIBATCH_PASSES if minibatch else _DEFAULT_MAX_ITER
    params.update(
        n_init=args.n_init,
        max_iter=default_max_iter if args.max_iter is None else args.max_iter,
        **tol, random_state=args.random_state,
    )
    return params


def _kind(args):
    """What the fit gives: 'kmeans', 'mixture', 'dbscan' (labels) or
    'anomalies' (flags)."""
    if args.algorithm in ("dbscan", "agglomerative"):
        return args.algorithm
    if args.algorithm != "gmm":
        return "kmeans"
    return "mixture" if args.anomalies is None else "anomalies"


def _verbose_params(args):
    if args.algorithm in ("dbscan", "agglomerative"):
        return {}  # neither has a verbose
    if not args.verbose:
        return {"verbose": 0}
    if args.algorithm == "gmm":
        # GaussianMixture prints every verbose_interval-th iteration, with its
        # time and the change of the log-likelihood at verbose=2.
        return {"verbose": 2, "verbose_interval": 1}
    return {"verbose": 1}


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # b does not exist yet
        return False


def _check_outputs(args):
    """Refuse bad output names before reading anything."""
    dendrogram = getattr(args, "dendrogram", None)
    for option, path in (("--output", args.output), ("--plot", args.plot),
                         ("--dendrogram", dendrogram)):
        if path is None:
            continue
        if args.path != "-" and _same_file(path, args.path):
            raise CLIError(f"{option} {path} would overwrite the input file")
        check_writable(path, option)
    if args.output is not None:
        output_kind(args.output)
    if args.plot is not None:
        check_plot(args.plot)
    if dendrogram is not None:
        check_plot(dendrogram, "--dendrogram")
    named = [(option, os.path.abspath(path)) for option, path in
             (("--output", args.output), ("--plot", args.plot), ("--dendrogram", dendrogram))
             if path is not None]
    for k, (option, path) in enumerate(named):
        for other, other_path in named[k + 1:]:
            if path == other_path:
                raise CLIError(f"{option} and {other} name the same file")


def _column_ranges(columns):
    """0-based column numbers as 1-based ranges: [0, 1, 2, 5] -> '1-3, 6'."""
    ranges, start = [], None
    for k, j in enumerate(columns):
        if start is None:
            start = j
        if k + 1 == len(columns) or columns[k + 1] != j + 1:
            ranges.append(f"{start + 1}" if start == j else f"{start + 1}-{j + 1}")
            start = None
    return ", ".join(ranges)


def _describe_columns(data):
    n_columns = data.shape[1]
    if data.columns == list(range(n_columns)):
        return f"all {plural(n_columns, 'column')}"
    text = f"{plural(len(data.columns), 'column')} of {n_columns}: " + _column_ranges(data.columns)
    if data.names is not None:
        names = [data.names[j] for j in data.columns]
        text += " (" + ", ".join(names[:6]) + (", ..." if len(names) > 6 else "") + ")"
    return text


@contextlib.contextmanager
def _small_pages():
    """Stop NumPy from asking Linux for transparent huge pages, for a while.

    NumPy advises the kernel to back every large array with 2 MiB pages.
    Where the kernel then compacts memory on the first touch (``defrag`` set
    to ``madvise``, the default), filling a fresh array costs several times
    more: measured here, the C-ordered copy of a 1,000,000 x 20 table took
    0.40 s with the advice and 0.07 s without it, and the whole job 2.4 s
    against 2.1 s, the fit itself no slower. A command runs once over fresh
    memory: it goes without. NumPy's switch for this is private (its
    documented one, ``NUMPY_MADVISE_HUGEPAGE=0``, is read at import, before
    this code runs); ``tests/test_cli.py`` fails if it moves.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _set_madvise_hugepage
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def _run_file(args, stdout, stderr):
    """Cluster args.path: labels or table to args.output or stdout, the rest to stderr."""
    _check_outputs(args)
    table_output = args.output is not None and output_kind(args.output) in TABLE_KINDS
    name = "<stdin>" if args.path == "-" else args.path
    progress(f"reading {name} ...", stderr)
    start = time.perf_counter()
    data = read_data(args.path, _read_options(args), keep_frame=table_output)
    read_s = time.perf_counter() - start
    n_samples, n_features = data.X.shape
    progress(
        f"read {data.shape[0]} rows x {plural(data.shape[1], 'column')} in "
        f"{format_seconds(read_s)} ({data.description})", stderr,
    )
    for message in data.warnings:
        warn(message, stderr)
    if args.choose_k is not None and args.choose_k[-1] >= n_samples:
        raise CLIError(
            f"--choose-k up to {args.choose_k[-1]} needs more than that many samples "
            f"({n_samples} in {name})"
        )
    n_clusters, option = _n_clusters(args)
    if n_clusters is not None and n_clusters > n_samples:
        raise CLIError(
            f"{option} {n_clusters} is larger than the number of samples "
            f"({n_samples}) in {name}"
        )

    X = data.X
    # Full, tied and diagonal covariances follow each feature's own spread:
    # only k-means and spherical components weigh the features by their units.
    if not args.standardize and (args.algorithm != "gmm"
                                 or args.covariance_type == "spherical"):
        _warn_spreads(data, stderr)
    if args.standardize:
        from sklearn.preprocessing import StandardScaler

        X = StandardScaler(copy=False).fit_transform(X)  # X is our own array
    if args.choose_k is not None:
        _choose_k(args, data, X, table_output, stdout, stderr)
        return
    params = _model_params(args, n_clusters)
    estimator = _estimator_class(args)
    model = estimator(**params, **_verbose_params(args))
    progress(
        f"fitting {estimator.__name__}({format_params(params)}) to {n_samples} samples x "
        f"{plural(n_features, 'feature')}, {X.dtype}"
        f"{', standardized' if args.standardize else ''}, on "
        f"{plural(effective_n_threads(), 'thread')} ...", stderr,
    )
    fit_s = fit_estimator(model, X, stderr, verbose_to=stderr if args.verbose else None)
    outcome = fit_outcome(model, X, n_clusters, _kind(args), plot=args.plot is not None)
    progress(f"fitted in {format_seconds(fit_s)}: {outcome.fitted}", stderr)

    destination = "stdout" if args.output is None else args.output
    progress(f"writing to {destination} ...", stderr)
    start = time.perf_counter()
    if table_output:
        column = write_table(data, outcome.values, args.output, outcome.column)
        article = "an" if column[0] in "aeiou" else "a"
        written = f"the table with {article} {column!r} column, {n_samples} rows"
    else:
        write_labels(outcome.values, args.output, stdout)
        written = f"{n_samples} {outcome.values_name}"
    progress(f"wrote {written} to {destination} in "
             f"{format_seconds(time.perf_counter() - start)}", stderr)

    if args.plot is not None:
        progress(f"plotting to {args.plot} ...", stderr)
        start = time.perf_counter()
        title = (f"{estimator.__name__}, {outcome.plot_title}: "
                 f"{os.path.basename(name)}{', standardized' if args.standardize else ''}")
        save_plot(args.plot, X, outcome.plot_labels, outcome.plot_centers, title,
                  outcome.plot_noise_name)
        progress(f"plotted in {format_seconds(time.perf_counter() - start)}", stderr)

    if getattr(args, "dendrogram", None) is not None:
        progress(f"drawing the dendrogram to {args.dendrogram} ...", stderr)
        start = time.perf_counter()
        save_dendrogram(args.dendrogram, model,
                        f"{estimator.__name__} ({model.linkage}): "
                        f"{os.path.basename(name)}{', standardized' if args.standardize else ''}")
        progress(f"drawn in {format_seconds(time.perf_counter() - start)}", stderr)

    summary = [
        field("data", f"{n_samples} samples x {plural(n_features, 'feature')}, {X.dtype}"),
        wrapped("columns", _describe_columns(data)),
        wrapped("model", f"turbocluster.{estimator.__name__}({format_params(params)})"),
        *outcome.fields,
        field("fit time", format_seconds(fit_s)),
    ]
    print("\n".join(summary), file=stderr)


# --choose-k scores the silhouette on this many samples at most (drawn with
# --random-state): its cost grows with the square of the samples.
_CHOOSE_K_SILHOUETTE_SAMPLES = 20_000


def _choose_k(args, data, X, table_output, stdout, stderr):
    """--choose-k: the scores of each number of clusters to stdout, the
    labels of the best (the silhouette's choice; a mixture's: the BIC's) to
    --output, the curves to --plot."""
    from ._selection import select_n_clusters

    candidates = args.choose_k
    estimator = _estimator_class(args)(**_model_params(args, candidates[0]))
    sample_size = (None if X.shape[0] <= _CHOOSE_K_SILHOUETTE_SAMPLES
                   else _CHOOSE_K_SILHOUETTE_SAMPLES)
    progress(f"fitting {type(estimator).__name__} for {candidates[0]} to "
             f"{candidates[-1]} clusters"
             f"{'' if sample_size is None else f', silhouette on {sample_size} samples'}"
             " ...", stderr)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        selection = select_n_clusters(X, candidates, estimator=estimator,
                                      silhouette_sample_size=sample_size,
                                      random_state=args.random_state)
    progress(f"scored {plural(len(candidates), 'number')} of clusters in "
             f"{format_seconds(time.perf_counter() - start)}", stderr)

    likelihood = "bic" in selection.recommended
    header = ["clusters", "inertia", "silhouette", "Calinski-H.", "Davies-B."]
    header += ["BIC", "AIC"] if likelihood else []
    lines = ["  ".join(f"{h:>12}" for h in header + ["fit time"])]
    for i, k in enumerate(selection.n_clusters):
        cells = [str(k), format_inertia(selection.inertia[i]),
                 f"{selection.silhouette[i]:.4f}",
                 f"{selection.calinski_harabasz[i]:.1f}",
                 f"{selection.davies_bouldin[i]:.4f}"]
        if likelihood:
            cells += [f"{selection.bic[i]:.1f}", f"{selection.aic[i]:.1f}"]
        cells.append(format_seconds(selection.fit_time[i]))
        lines.append("  ".join(f"{c:>12}" for c in cells))
    names = {"inertia": "inertia (elbow)", "silhouette": "silhouette (highest)",
             "calinski_harabasz": "Calinski-Harabasz (highest)",
             "davies_bouldin": "Davies-Bouldin (lowest)", "bic": "BIC (lowest)",
             "aic": "AIC (lowest)"}
    lines += ["", "recommended number of clusters:"]
    lines += [field(f"  {names[c]}", str(k if k is not None else "none"), width=32)
              for c, k in selection.recommended.items()]
    print("\n".join(lines), file=stdout)

    if args.output is not None:
        labels = selection.best_labels_
        if table_output:
            write_table(data, labels, args.output)
        else:
            write_labels(labels, args.output, stdout)
        progress(f"wrote the labels of {selection.best_n_clusters_} clusters to "
                 f"{args.output}", stderr)
    if args.plot is not None:
        from ._plot import _require_matplotlib, save_figure

        _require_matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(10, 4), layout="constrained")
        FigureCanvasAgg(figure)
        elbow, scores = figure.subplots(1, 2)
        selection.plot_elbow(ax=elbow)
        selection.plot_scores("bic" if likelihood else "silhouette", ax=scores)
        save_figure(figure, args.plot)
        progress(f"plotted to {args.plot}", stderr)


def _warn_spreads(data, stderr):
    """Warn when the features' spreads differ by more than _SPREAD_RATIO: the
    widest then decide the clusters, the most common mistake with raw data."""
    X = data.X
    if X.shape[1] < 2:
        return
    # A few thousand rows tell the spreads well enough, at no cost.
    sample = X[:: max(1, X.shape[0] // _SPREAD_SAMPLE)]
    spreads = sample.std(axis=0, dtype=np.float64)
    positive = np.flatnonzero(spreads > 0)
    if positive.size < 2:
        return
    widest = positive[np.argmax(spreads[positive])]
    narrowest = positive[np.argmin(spreads[positive])]
    ratio = spreads[widest] / spreads[narrowest]
    if ratio > _SPREAD_RATIO:
        warn(
            f"the features' spreads differ by a factor of {ratio:.3g} (standard "
            f"deviation {spreads[widest]:.3g} in "
            f"{data.column_name(data.columns[widest])}, {spreads[narrowest]:.3g} in "
            f"{data.column_name(data.columns[narrowest])}): the widest decide the "
            "clusters; "
            "--standardize scales every feature to variance 1 first", stderr,
        )


def _run_demo(args, stdout, stderr):
    from ._cli_demo import run_demo

    params = _model_params(args, _n_clusters(args)[0])
    run_demo(params, args.dtype, stdout, stderr, _estimator_class(args).__name__)


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
            with _small_pages():
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
