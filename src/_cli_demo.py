"""The demonstration: ``python -m turbocluster`` without a PATH.

Four sections, turbocluster's estimators and scikit-learn's side by side
with the same parameters:

* ``KMeans`` (or ``MiniBatchKMeans``, with ``--algorithm minibatch``, which
  runs its two sections alone) on the digits data set, for the quality of the
  clusters (iterations, inertia, silhouette, agreement with the digit classes
  and between the two labelings); its fits take milliseconds, too short to
  say much about speed;
* the same on a generated data set, for the speed: fits of a few hundred
  milliseconds (turbocluster) on a fixed amount of work, in float64 and
  float32;
* ``GaussianMixture`` (alone with ``--algorithm gmm``) on generated data, the
  same iterations each, in float64 and float32: the speed, and the fit (mean
  log-likelihood, agreement with the blobs and between the two labelings);
* ``DBSCAN`` (alone with ``--algorithm dbscan``) on two moons with uniform
  noise, in float64 and float32: the speed, the clusters and noise found,
  and whether the two labelings are the same;
* ``AgglomerativeClustering`` (only with ``--algorithm agglomerative``,
  alone) on blobs, every linkage (or the one of ``--linkage``), float64: the
  speed, and whether the two labelings are the same.

Timing, in every section: the two libraries alternate, so that a burst of
load on the machine hits both; each timed fit comes after a pause that lets
the other library's idle OpenMP threads stop spinning on the cores it needs;
the median of the timed fits is reported.
"""

import os
import statistics
import time
from pathlib import Path

import numpy as np

from . import __version__
from ._cli_common import (
    CLIError,
    field,
    fit_estimator,
    format_inertia,
    format_log_likelihood,
    format_params,
    format_seconds,
    plural,
    wrapped,
)
from ._agglomerative import AgglomerativeClustering
from ._dbscan import DBSCAN
from ._kmeans import KMeans
from ._minibatch import MiniBatchKMeans
from ._mixture import GaussianMixture
from ._threads import effective_n_threads

_DIGITS_N_CLUSTERS = 10
_DIGITS_REPEATS = 5
# Seconds of quiet before each timed fit. libgomp's idle workers spin before
# they sleep; a digits fit (milliseconds) right after the other library's
# would mostly measure them.
_DIGITS_SETTLE_S = 0.05
_SIZES_PER_ROW = 10  # clusters per row of the digits' size table
_LABEL_WIDTH = 24  # width of the label column of both tables
_COLUMN_WIDTH = 15  # width of each estimator's column in the digits' table

# The generated data: fixed (its own seed), whatever the parameters. Sizes
# measured on 2 cores (x86-64, AVX-512): one turbocluster fit takes about
# 0.5 s in float64 and 0.33 s in float32, scikit-learn's 1.2 s and 1.4 s; the
# whole demonstration about 17 s. 400_000 samples would bring float32 under
# 0.3 s, where the start of the threads and short disturbances weigh on the
# ratio; larger sizes leave little room under half a minute on a busy machine.
_GENERATED_SAMPLES = 500_000
_GENERATED_FEATURES = 32
_GENERATED_CENTERS = 32
# Wide blobs that overlap: Lloyd's iterations never reach strict convergence
# (no label changes) within _GENERATED_MAX_ITER, so with tol=0 both libraries
# run exactly that many iterations and the ratio compares equal work.
_GENERATED_CLUSTER_STD = 4.0
_GENERATED_SEED = 0
_GENERATED_MAX_ITER = 20
_GENERATED_REPEATS = 3
# The untimed warm-up fit of each library, per dtype: k-means++ and this many
# iterations load the code, start the threads and touch the array, at a
# fraction of a timed fit's cost (whole fits would add about 3 s).
_GENERATED_WARM_UP_ITER = 2
# Seconds of quiet before each timed fit: long enough for the idle workers of
# the other library to go to sleep, short beside fits of 0.3 to 1.5 s
# (benchmarks/run.py pauses 0.25 s before fits of several seconds).
_GENERATED_SETTLE_S = 0.1
# MiniBatchKMeans on the generated data: batches of 4,096, every step run
# (no early stop), at most this many passes (244 steps each): scikit-learn's
# fit then takes about 2 s here, ours about 0.2 s; the warm-up is one pass.
_GENERATED_MINIBATCH = {"batch_size": 4096, "max_no_improvement": None}
_GENERATED_MINIBATCH_PASSES = 2
_DTYPES = ("float64", "float32")

# GaussianMixture on its own generated data (its own seed): blobs as many as
# the components, every fit from samples drawn as means
# (init_params='random_from_data': no k-means inside the timing) and, with
# tol=0, exactly _MIXTURE_MAX_ITER EM iterations. scikit-learn's fits decide
# the section's length. Measured on 2 cores (x86-64, AVX-512): its fit takes
# about 0.87 s in float64 and 0.68 s in float32, ours 40 ms; the section
# about 7 s (50_000 samples: 8 s, too close to the 10 s the section may add
# to the demonstration on a busier machine).
_MIXTURE_SAMPLES = 40_000
_MIXTURE_FEATURES = 8
_MIXTURE_COMPONENTS = 8
_MIXTURE_CLUSTER_STD = 2.0
_MIXTURE_SEED = 0
_MIXTURE_COVARIANCE_TYPE = "full"
_MIXTURE_MAX_ITER = 10
_MIXTURE_REPEATS = 3
_MIXTURE_WARM_UP_ITER = 2

# DBSCAN on two moons (make_moons, its own seed) with _DBSCAN_NOISE x as many
# uniform samples over a box around them (seeded): scikit-learn's fit decides
# the section's length. Measured on 2 cores (x86-64, AVX-512): its fit takes
# about 0.25 s, ours 46 ms, with the same 2 clusters and 1,198 noise samples;
# the whole command about 4.5 s (50,000 moons: 6.7 s).
_DBSCAN_SAMPLES = 30_000
_DBSCAN_MOONS_NOISE = 0.06
_DBSCAN_NOISE = 0.05
_DBSCAN_BOX = ((-1.5, -1.0), (2.5, 1.5))
_DBSCAN_SEED = 0
_DBSCAN_EPS = 0.05
_DBSCAN_MIN_SAMPLES = 20
_DBSCAN_REPEATS = 3
_DBSCAN_WARM_UP_SAMPLES = 5_000  # the untimed warm-up fit's samples


# AgglomerativeClustering on blobs (make_blobs, its own seed): scikit-learn's
# fits (O(n^2) memory and time) decide the section's length. Measured on 2
# cores shared with other jobs: the whole command 23 s; fits ward 0.15 s
# against 1.25 s, complete 0.69 s against 1.37 s, average 0.58 s against
# 1.35 s, single 0.07 s against 0.20 s, the same labels.
_AGGLOMERATIVE_SAMPLES = 5_000
_AGGLOMERATIVE_FEATURES = 8
_AGGLOMERATIVE_CENTERS = 10
_AGGLOMERATIVE_SEED = 0
_AGGLOMERATIVE_N_CLUSTERS = 10
_AGGLOMERATIVE_LINKAGES = ("ward", "complete", "average", "single")
_AGGLOMERATIVE_REPEATS = 3


def run_demo(params, dtype, stdout, stderr, estimator="KMeans"):
    """Compare turbocluster's estimator with scikit-learn's; print the comparison.

    Parameters
    ----------
    params : dict
        Keyword arguments of the estimator from the command line. KMeans and
        MiniBatchKMeans: ``n_clusters`` (int, or None for each section's
        own), ``algorithm`` (KMeans only), ``n_init``, ``max_iter``,
        optionally ``tol``, and ``random_state``. GaussianMixture:
        ``n_components`` (int or None), ``covariance_type``, ``n_init``,
        ``max_iter``, optionally ``tol``, and ``random_state``. The sections
        on generated data always run one initialisation with ``tol=0`` and at
        most ``_GENERATED_MAX_ITER`` iterations (``_GENERATED_MINIBATCH_PASSES``
        passes for MiniBatchKMeans, which runs every step;
        ``_MIXTURE_MAX_ITER`` for GaussianMixture), so that both libraries do
        the same work. DBSCAN: ``min_samples`` and optionally ``eps``
        (default: the section's own, ``_DBSCAN_EPS``).
        AgglomerativeClustering: ``linkage`` (from --linkage, else every
        one), optionally ``n_clusters`` or ``distance_threshold``.
    dtype : {None, 'float64', 'float32'}
        None: the digits in float64, the generated data in both dtypes.
    stdout, stderr : file
        The comparison goes to stdout; each distinct warning of a library's
        fits once to stderr.
    estimator : {'KMeans', 'MiniBatchKMeans', 'GaussianMixture', 'DBSCAN', \
            'AgglomerativeClustering'}
        The estimator compared. KMeans (the demonstration without options)
        is followed by GaussianMixture and DBSCAN with their sections' own
        parameters (``random_state`` from ``params``); the others run alone.

    Raises
    ------
    CLIError
        When ``n_clusters`` (``n_components``) is larger than the number of
        samples of a data set, before anything is printed.
    """
    # Imported here: only the demonstration needs them.
    from sklearn import __version__ as sklearn_version
    from sklearn import cluster, mixture
    from sklearn.datasets import load_digits

    if estimator == "DBSCAN":
        print(f"turbocluster {__version__} vs scikit-learn {sklearn_version}: "
              "DBSCAN side by side", file=stdout)
        print(field("threads", _threads_line()), file=stdout)
        print(file=stdout)
        reported = {name: set() for name in ("turbocluster", "scikit-learn")}
        _dbscan_section(params, _DTYPES if dtype is None else (dtype,),
                        {"turbocluster": DBSCAN, "scikit-learn": cluster.DBSCAN},
                        reported, stdout, stderr)
        return
    if estimator == "AgglomerativeClustering":
        _check_size(params.get("n_clusters"), "--n-clusters", _AGGLOMERATIVE_SAMPLES,
                    "the generated data set")
        print(f"turbocluster {__version__} vs scikit-learn {sklearn_version}: "
              "AgglomerativeClustering side by side", file=stdout)
        print(field("threads", _threads_line()), file=stdout)
        print(file=stdout)
        reported = {name: set() for name in ("turbocluster", "scikit-learn")}
        _agglomerative_section(params, dtype or "float64",
                               {"turbocluster": AgglomerativeClustering,
                                "scikit-learn": cluster.AgglomerativeClustering},
                               reported, stdout, stderr)
        return
    if estimator == "GaussianMixture":
        _check_size(params["n_components"], "--n-components", _MIXTURE_SAMPLES,
                    "the generated data set")
    else:
        digits = load_digits()
        for n_samples, source in ((digits.data.shape[0], "the digits data set"),
                                  (_GENERATED_SAMPLES, "the generated data set")):
            _check_size(params["n_clusters"], "--n-clusters", n_samples, source)

    # One set per library for the whole demonstration: a warning that every
    # fit raises is printed once, whatever the number of fits.
    reported = {name: set() for name in ("turbocluster", "scikit-learn")}
    compared = ("KMeans, GaussianMixture and DBSCAN" if estimator == "KMeans"
                else estimator)
    print(f"turbocluster {__version__} vs scikit-learn {sklearn_version}: "
          f"{compared} side by side", file=stdout)
    print(field("threads", _threads_line()), file=stdout)
    dtypes = _DTYPES if dtype is None else (dtype,)
    if estimator != "GaussianMixture":
        ours = {"KMeans": KMeans, "MiniBatchKMeans": MiniBatchKMeans}[estimator]
        estimators = {"turbocluster": ours, "scikit-learn": getattr(cluster, estimator)}
        print(file=stdout)
        _digits_section(digits, params, dtype or "float64", estimators, reported,
                        stdout, stderr)
        print(file=stdout)
        _generated_section(params, dtypes, estimators, reported, stdout, stderr)
        if estimator == "MiniBatchKMeans":
            return
        params = {"random_state": params["random_state"]}
    print(file=stdout)
    _mixture_section(params, dtypes, {"turbocluster": GaussianMixture,
                                      "scikit-learn": mixture.GaussianMixture},
                     reported, stdout, stderr)
    if estimator == "KMeans":
        print(file=stdout)
        _dbscan_section({}, dtypes, {"turbocluster": DBSCAN,
                                     "scikit-learn": cluster.DBSCAN},
                        reported, stdout, stderr)


def _check_size(n_clusters, option, n_samples, source):
    if n_clusters is not None and n_clusters > n_samples:
        raise CLIError(
            f"{option} {n_clusters} is larger than the number of samples "
            f"({n_samples}) in {source}"
        )


###############################################################################
# Timing


def _timed_fits(estimators, params, X, repeats, settle_s, stderr, reported,
                warm_up_each, ignore=()):
    """Fit each estimator ``repeats`` times, the libraries alternating.

    Which library goes first swaps every repeat, so that neither always
    follows the other. Before each timed fit: a pause of ``settle_s``, then,
    if ``warm_up_each``, an untimed fit of the same library (for fits of
    milliseconds, which otherwise measure the waking of its own threads).
    Warnings of the categories in ``ignore`` are not printed.

    Returns
    -------
    models : dict
        The last fitted model of each estimator.
    median : dict
        The median seconds of the timed fits of each estimator.
    """
    names = list(estimators)
    models, seconds = {}, {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            time.sleep(settle_s)
            if warm_up_each:
                fit_estimator(estimators[name](**params), X, stderr, reported[name],
                              ignore=ignore)
            models[name] = estimators[name](**params)
            seconds[name].append(
                fit_estimator(models[name], X, stderr, reported[name], ignore=ignore))
    return models, {name: statistics.median(seconds[name]) for name in names}


def _scikit_learn_openmp_threads():
    """OpenMP threads of scikit-learn's runtime, as threadpoolctl sees it.

    Wheels ship their own runtime (in ``scikit_learn.libs``, ``sklearn/.dylibs``
    or ``sklearn/.libs``); other builds share the process's, where the least
    generous runtime loaded decides.
    """
    import sklearn.cluster  # loads scikit-learn's OpenMP runtime, if not yet
    from threadpoolctl import threadpool_info

    package = Path(sklearn.__file__).resolve().parent
    homes = (package, package.parent / "scikit_learn.libs")
    openmp = [lib for lib in threadpool_info() if lib["user_api"] == "openmp"]
    vendored = [
        lib["num_threads"] for lib in openmp
        if any(Path(lib["filepath"]).resolve().is_relative_to(home) for home in homes)
    ]
    counts = vendored or [lib["num_threads"] for lib in openmp]
    return min(counts) if counts else 1


def _threads_line():
    ours = effective_n_threads()
    theirs = _scikit_learn_openmp_threads()
    cores = f"on {plural(os.cpu_count() or 1, 'CPU core')}"
    if ours == theirs:
        return f"{plural(ours, 'OpenMP thread')} for each library, {cores}"
    return (f"turbocluster {plural(ours, 'OpenMP thread')}, scikit-learn "
            f"{plural(theirs, 'OpenMP thread')}, {cores}")


###############################################################################
# Sections


def _name(estimators):
    return estimators["turbocluster"].__name__


def _row(label, cells, width=_COLUMN_WIDTH, label_width=_LABEL_WIDTH):
    return f"{label:<{label_width}}" + "".join(f"{cell:>{width}}" for cell in cells)


def _digits_section(digits, params, dtype, estimators, reported, stdout, stderr):
    """Both estimators on the digits: the quality of the clusters, side by side."""
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    X = digits.data.astype(dtype)
    n_samples, n_features = X.shape
    n_clusters = params["n_clusters"] or _DIGITS_N_CLUSTERS
    params = dict(params, n_clusters=n_clusters)
    models, median = _timed_fits(
        estimators, params, X, _DIGITS_REPEATS, _DIGITS_SETTLE_S, stderr, reported,
        warm_up_each=True)

    def score(metric, labels):
        try:
            return f"{metric(labels):.4f}"
        except ValueError:  # silhouette needs 2 <= n_labels <= n_samples - 1
            return "n/a"

    fitted = [models[name] for name in estimators]
    ratio = median["scikit-learn"] / median["turbocluster"]
    lines = [
        f"{_name(estimators)} on the digits data set: the quality of the clusters",
        "",
        wrapped("data", f"load_digits(), {n_samples} samples x {n_features} "
                        f"features, {X.dtype}"),
        wrapped("parameters", format_params(params)),
        "",
        _row("", estimators),
        _row("iterations", [str(m.n_iter_) for m in fitted]),
        _row("inertia", [format_inertia(m.inertia_) for m in fitted]),
        _row("silhouette score",
             [score(lambda y: silhouette_score(X, y), m.labels_) for m in fitted]),
        _row("ARI vs digit classes",
             [score(lambda y: adjusted_rand_score(digits.target, y), m.labels_)
              for m in fitted]),
        _row(f"fit time (median of {_DIGITS_REPEATS})",
             [format_seconds(median[name]) for name in estimators]),
        _row("speed vs scikit-learn", [f"{ratio:.2f}x", "1.00x"]),
    ]

    lines += ["", "cluster sizes"]
    sizes = {name: np.bincount(m.labels_, minlength=n_clusters)
             for name, m in models.items()}
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
    print("\n".join(lines), file=stdout, flush=True)


def _generated_row(label, cells):
    # "float32  scikit-learn" and four columns in 78 characters.
    return _row(label, cells, width=14, label_width=22)


def _generated_section(params, dtypes, estimators, reported, stdout, stderr):
    """Both estimators on generated data, the same iterations each: the speed."""
    from sklearn.datasets import make_blobs

    minibatch = "algorithm" not in params
    params = {
        "n_clusters": params["n_clusters"] or _GENERATED_CENTERS,
        **({} if minibatch else {"algorithm": params["algorithm"]}),
        "n_init": 1,
        "max_iter": min(params["max_iter"], _GENERATED_MINIBATCH_PASSES if minibatch
                        else _GENERATED_MAX_ITER),
        "tol": 0,
        "random_state": params["random_state"],
        **(_GENERATED_MINIBATCH if minibatch else {}),
    }
    blobs = {"n_samples": _GENERATED_SAMPLES, "n_features": _GENERATED_FEATURES,
             "centers": _GENERATED_CENTERS, "cluster_std": _GENERATED_CLUSTER_STD,
             "random_state": _GENERATED_SEED}
    warm_up = dict(params, max_iter=1 if minibatch
                   else min(params["max_iter"], _GENERATED_WARM_UP_ITER))
    # Printed before the timings, which take a while: the reader sees what runs.
    header = [
        f"{_name(estimators)} on generated data: the speed on equal work",
        "",
        wrapped("data", f"make_blobs({format_params(blobs)}), "
                        f"{' and '.join(dtypes)}"),
        wrapped("parameters", format_params(params)),
        wrapped("timed", f"fit time: median of {_GENERATED_REPEATS} fits, after "
                         "an untimed warm-up fit "
                         f"({plural(warm_up['max_iter'], 'iteration')}) of each "
                         "library; the two libraries "
                         f"alternating, each fit after a {_GENERATED_SETTLE_S} s "
                         "pause; speed: scikit-learn's fit time over "
                         "turbocluster's"),
        "",
        _generated_row("", ["iterations", "inertia", "fit time", "speed"]),
    ]
    print("\n".join(header), file=stdout, flush=True)

    X, _ = make_blobs(**blobs)  # not timed; one array for both dtypes
    unequal = []
    for dtype in dtypes:
        X_dtype = np.ascontiguousarray(X, dtype=dtype)
        for name, estimator in estimators.items():
            fit_estimator(estimator(**warm_up), X_dtype, stderr, reported[name])
        models, median = _timed_fits(
            estimators, params, X_dtype, _GENERATED_REPEATS, _GENERATED_SETTLE_S,
            stderr, reported, warm_up_each=False)
        del X_dtype
        ratio = median["scikit-learn"] / median["turbocluster"]
        speed = {"turbocluster": f"{ratio:.2f}x", "scikit-learn": "1.00x"}
        rows = [
            _generated_row(f"{dtype}  {name}",
                           [str(models[name].n_iter_),
                            format_inertia(models[name].inertia_),
                            format_seconds(median[name]), speed[name]])
            for name in estimators
        ]
        print("\n".join(rows), file=stdout, flush=True)
        if len({m.n_iter_ for m in models.values()}) > 1:
            unequal.append(dtype)
    if unequal:
        print(wrapped(
            "note", f"in {' and '.join(unequal)}, a library converged before "
                    f"max_iter={params['max_iter']}: the two did unequal work, "
                    "and the speed ratio compares them only roughly"),
            file=stdout, flush=True)


def _mixture_row(label, cells):
    # "float32  scikit-learn" and five columns in 76 characters.
    widths = (11, 16, 8, 11, 8)
    return f"{label:<22}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))


def _mixture_section(params, dtypes, estimators, reported, stdout, stderr):
    """Both GaussianMixtures on generated data, the same iterations each: the
    speed, and how well each fits (the same figures when they agree)."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import adjusted_rand_score

    max_iter = min(params.get("max_iter", _MIXTURE_MAX_ITER), _MIXTURE_MAX_ITER)
    params = {
        "n_components": params.get("n_components") or _MIXTURE_COMPONENTS,
        "covariance_type": params.get("covariance_type", _MIXTURE_COVARIANCE_TYPE),
        "init_params": "random_from_data",
        "n_init": 1,
        "max_iter": max_iter,
        "tol": 0,
        "random_state": params["random_state"],
    }
    blobs = {"n_samples": _MIXTURE_SAMPLES, "n_features": _MIXTURE_FEATURES,
             "centers": _MIXTURE_COMPONENTS, "cluster_std": _MIXTURE_CLUSTER_STD,
             "random_state": _MIXTURE_SEED}
    warm_up = dict(params, max_iter=min(max_iter, _MIXTURE_WARM_UP_ITER))
    # tol=0 stops no fit before max_iter: each library's ConvergenceWarning
    # says what the section wants.
    ignore = (ConvergenceWarning,)
    header = [
        f"{_name(estimators)} on generated data: the speed on equal work",
        "",
        wrapped("data", f"make_blobs({format_params(blobs)}), "
                        f"{' and '.join(dtypes)}"),
        wrapped("parameters", format_params(params)),
        wrapped("timed", f"fit time: median of {_MIXTURE_REPEATS} fits, after an "
                         "untimed warm-up fit "
                         f"({plural(warm_up['max_iter'], 'iteration')}) of each "
                         "library; the two libraries alternating, each fit after "
                         f"a {_GENERATED_SETTLE_S} s pause; speed: scikit-learn's "
                         "fit time over turbocluster's"),
        wrapped("quality", "log-likelihood: mean per sample of the fitted model "
                           "(its score); ARI: adjusted Rand index of its labels "
                           "(predict) against the blobs"),
        "",
        _mixture_row("", ["iterations", "log-likelihood", "ARI", "fit time", "speed"]),
    ]
    print("\n".join(header), file=stdout, flush=True)

    X, blob_labels = make_blobs(**blobs)  # not timed; one array for both dtypes
    unequal, agreement = [], []
    for dtype in dtypes:
        X_dtype = np.ascontiguousarray(X, dtype=dtype)
        for name, estimator in estimators.items():
            fit_estimator(estimator(**warm_up), X_dtype, stderr, reported[name],
                          ignore=ignore)
        models, median = _timed_fits(
            estimators, params, X_dtype, _MIXTURE_REPEATS, _GENERATED_SETTLE_S,
            stderr, reported, warm_up_each=False, ignore=ignore)
        labels = {name: m.predict(X_dtype) for name, m in models.items()}
        ratio = median["scikit-learn"] / median["turbocluster"]
        speed = {"turbocluster": f"{ratio:.2f}x", "scikit-learn": "1.00x"}
        rows = [
            _mixture_row(f"{dtype}  {name}",
                         [str(models[name].n_iter_),
                          format_log_likelihood(models[name].score(X_dtype)),
                          f"{adjusted_rand_score(blob_labels, labels[name]):.4f}",
                          format_seconds(median[name]), speed[name]])
            for name in estimators
        ]
        del X_dtype
        print("\n".join(rows), file=stdout, flush=True)
        if len({m.n_iter_ for m in models.values()}) > 1:
            unequal.append(dtype)
        agreement.append(f"{dtype} {adjusted_rand_score(*labels.values()):.4f}")
    print(wrapped("agreement", "of the two labelings (adjusted Rand index): "
                               + ", ".join(agreement)), file=stdout, flush=True)
    if unequal:
        print(wrapped(
            "note", f"in {' and '.join(unequal)}, a library stopped before "
                    f"max_iter={params['max_iter']}: the two did unequal work, "
                    "and the speed ratio compares them only roughly"),
            file=stdout, flush=True)


def _dbscan_data():
    """Two moons and uniform noise around them, and their labels (-1: noise)."""
    from sklearn.datasets import make_moons

    X, labels = make_moons(n_samples=_DBSCAN_SAMPLES, noise=_DBSCAN_MOONS_NOISE,
                           random_state=_DBSCAN_SEED)
    rng = np.random.default_rng(_DBSCAN_SEED)
    noise = rng.uniform(*_DBSCAN_BOX, size=(int(_DBSCAN_NOISE * _DBSCAN_SAMPLES), 2))
    return (np.concatenate([X, noise]),
            np.concatenate([labels, np.full(noise.shape[0], -1)]))


def _dbscan_row(label, cells):
    # "float32  scikit-learn" and five columns in 76 characters.
    widths = (9, 8, 8, 11, 8)
    return f"{label:<22}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))


def _dbscan_section(params, dtypes, estimators, reported, stdout, stderr):
    """Both DBSCANs on two moons with noise: the speed, the clusters and noise
    each finds, and whether their labelings agree."""
    from sklearn.metrics import adjusted_rand_score

    params = {"eps": params.get("eps", _DBSCAN_EPS),
              "min_samples": params.get("min_samples", _DBSCAN_MIN_SAMPLES)}
    data = {"n_samples": _DBSCAN_SAMPLES, "noise": _DBSCAN_MOONS_NOISE,
            "random_state": _DBSCAN_SEED}
    n_noise = int(_DBSCAN_NOISE * _DBSCAN_SAMPLES)
    header = [
        "DBSCAN on two moons with noise: the speed and the clusters",
        "",
        wrapped("data", f"make_moons({format_params(data)}) and {n_noise} uniform "
                        f"samples over {_DBSCAN_BOX[0]}..{_DBSCAN_BOX[1]}, "
                        f"{' and '.join(dtypes)}"),
        wrapped("parameters", format_params(params)),
        wrapped("timed", f"fit time: median of {_DBSCAN_REPEATS} fits, after an "
                         f"untimed warm-up fit (on {_DBSCAN_WARM_UP_SAMPLES} "
                         "samples) of each library; the two libraries "
                         f"alternating, each fit after a {_GENERATED_SETTLE_S} s "
                         "pause; speed: scikit-learn's fit time over "
                         "turbocluster's"),
        wrapped("quality", "clusters and noise samples (label -1) found; ARI: "
                           "adjusted Rand index of the labels against the moons "
                           "(the uniform samples as one more class)"),
        "",
        _dbscan_row("", ["clusters", "noise", "ARI", "fit time", "speed"]),
    ]
    print("\n".join(header), file=stdout, flush=True)

    X, truth = _dbscan_data()  # not timed; one array for both dtypes
    agreement = []
    for dtype in dtypes:
        X_dtype = np.ascontiguousarray(X, dtype=dtype)
        for name, estimator in estimators.items():
            fit_estimator(estimator(**params), X_dtype[:_DBSCAN_WARM_UP_SAMPLES],
                          stderr, reported[name])
        models, median = _timed_fits(
            estimators, params, X_dtype, _DBSCAN_REPEATS, _GENERATED_SETTLE_S,
            stderr, reported, warm_up_each=False)
        labels = {name: m.labels_ for name, m in models.items()}
        ratio = median["scikit-learn"] / median["turbocluster"]
        speed = {"turbocluster": f"{ratio:.2f}x", "scikit-learn": "1.00x"}
        rows = [
            _dbscan_row(f"{dtype}  {name}",
                        [str(int(labels[name].max()) + 1),
                         str(int(np.count_nonzero(labels[name] == -1))),
                         f"{adjusted_rand_score(truth, labels[name]):.4f}",
                         format_seconds(median[name]), speed[name]])
            for name in estimators
        ]
        del X_dtype
        print("\n".join(rows), file=stdout, flush=True)
        ours, theirs = labels["turbocluster"], labels["scikit-learn"]
        # The same partition: each label of one pairs with one label of the
        # other, and the noise (-1) is the same samples.
        pairs = np.unique(np.stack([ours, theirs]), axis=1).shape[1]
        same = (np.array_equal(ours == -1, theirs == -1)
                and pairs == np.unique(ours).size == np.unique(theirs).size)
        agreement.append(f"{dtype} {'identical' if same else 'different'} "
                         f"(ARI {adjusted_rand_score(ours, theirs):.4f})")
    print(wrapped("agreement", "of the two labelings, up to the clusters' "
                               "numbering: " + ", ".join(agreement)),
          file=stdout, flush=True)


def _agglomerative_row(label, cells):
    widths = (10, 10, 11, 8)
    return f"{label:<24}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))


def _agglomerative_section(params, dtype, estimators, reported, stdout, stderr):
    """Both AgglomerativeClusterings on blobs, each linkage: the speed, and
    whether their labelings are the same (numbers included)."""
    from sklearn.datasets import make_blobs
    from sklearn.metrics import adjusted_rand_score

    linkages = (params["linkage"],) if "linkage" in params else _AGGLOMERATIVE_LINKAGES
    fixed = {key: value for key, value in params.items()
             if key in ("n_clusters", "distance_threshold")}
    if not fixed:
        fixed = {"n_clusters": _AGGLOMERATIVE_N_CLUSTERS}
    data = {"n_samples": _AGGLOMERATIVE_SAMPLES, "n_features": _AGGLOMERATIVE_FEATURES,
            "centers": _AGGLOMERATIVE_CENTERS, "random_state": _AGGLOMERATIVE_SEED}
    header = [
        "AgglomerativeClustering on blobs: the speed and the labels",
        "",
        wrapped("data", f"make_blobs({format_params(data)}), {dtype}"),
        wrapped("parameters", format_params(fixed)),
        wrapped("timed", f"fit time: median of {_AGGLOMERATIVE_REPEATS} fits, the "
                         "two libraries alternating, each fit after a "
                         f"{_GENERATED_SETTLE_S} s pause; speed: scikit-learn's fit "
                         "time over turbocluster's"),
        wrapped("quality", "clusters found; ARI: adjusted Rand index of the labels "
                           "against the blobs"),
        "",
        _agglomerative_row("", ["clusters", "ARI", "fit time", "speed"]),
    ]
    print("\n".join(header), file=stdout, flush=True)
    X, truth = make_blobs(**data)
    X = np.ascontiguousarray(X, dtype=dtype)
    agreement = []
    for linkage in linkages:
        run_params = dict(fixed, linkage=linkage)
        models, median = _timed_fits(
            estimators, run_params, X, _AGGLOMERATIVE_REPEATS, _GENERATED_SETTLE_S,
            stderr, reported, warm_up_each=False)
        labels = {name: m.labels_ for name, m in models.items()}
        ratio = median["scikit-learn"] / median["turbocluster"]
        speed = {"turbocluster": f"{ratio:.2f}x", "scikit-learn": "1.00x"}
        rows = [
            _agglomerative_row(f"{linkage:<9}{name}",
                               [str(models[name].n_clusters_),
                                f"{adjusted_rand_score(truth, labels[name]):.4f}",
                                format_seconds(median[name]), speed[name]])
            for name in estimators
        ]
        print("\n".join(rows), file=stdout, flush=True)
        same = np.array_equal(labels["turbocluster"], labels["scikit-learn"])
        agreement.append(f"{linkage} {'identical' if same else 'different'} (ARI "
                         f"{adjusted_rand_score(*labels.values()):.4f})")
    print(wrapped("agreement", "of the two labelings, cluster numbers included: "
                               + ", ".join(agreement)), file=stdout, flush=True)
