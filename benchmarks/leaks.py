"""Memory growth over many fit/predict cycles of every public estimator.

Usage: python benchmarks/leaks.py [--cycles N] [--warm-up N] [--only NAME ...]
                                  [--threads N] [--threshold-mib MIB] [--list]

Each case runs one cycle (a fit and its predict, transform or score_samples,
on 200 x 5 blobs; see CASES) --warm-up times (default 50), then --cycles
times (default 1,000), and reports what the process gained over the measured
cycles:

- ``rss MiB`` and ``rss B/cycle``: resident set size (``/proc/self/statm``)
  after the cycles minus before, each read after ``gc.collect()`` and
  glibc's ``malloc_trim(0)`` (which hands freed heap pages back, so that
  memory the allocator holds on its free lists is not counted as kept). It
  sees everything: the kernels' ``malloc``, NumPy's buffers, Python objects.
  It moves in whole pages (4 KiB).
- ``traced MiB`` and ``traced B/cycle``: the growth of what ``tracemalloc``
  traces (Python objects and NumPy arrays, to the byte; not the kernels' own
  ``malloc``, which only RSS sees). Tracing starts before the warm-up, so
  that its own tables have grown by then.

A case fails when its RSS or its traced memory grows by more than
--threshold-mib (default 0.5 MiB) over the measured cycles. The threshold
is a fixed amount, not a rate: over 1,000 cycles a leak of 1 KiB a cycle
(one small array) reaches 0.98 MiB, twice the threshold, and any leak of
more than 512 bytes a cycle exceeds it. What moves without leaking stays
below it: RSS steps up once by up to a quarter of a MiB in some cases
(agglomerative_ward_graph[float64]: +0.17 to +0.24 MiB over 1,000 cycles,
+0.22 MiB over 3,000), and the traced memory drifts by tens of KiB either
way as the interpreter's and the libraries' small caches fill and empty;
neither grows with the number of cycles. With fewer cycles the check is
weaker: keep --cycles at 1,000 for a verdict. The exit status is 1 when
any case fails.

A case is named ``family[dtype]`` (``kmeans_lloyd[float32]``); --only takes
full names or families (both dtypes). --threads N limits the kernels'
OpenMP threads (threadpoolctl) for the run; by default they use what
OMP_NUM_THREADS or the machine gives. On a busy machine, run with
OMP_WAIT_POLICY=passive: OpenMP threads that spin while they wait for a
core made a MiniBatchKMeans cycle 10x slower here (474 ms against 49 ms),
and the results are the same. Each line is printed as its case ends, then
the whole table, by pandas.

    OMP_WAIT_POLICY=passive python benchmarks/leaks.py  # every case, 1,000 cycles
    python benchmarks/leaks.py --only gmm_full --cycles 200
"""

import argparse
import ctypes
import ctypes.util
import gc
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np

MIB = 1024.0 ** 2
THRESHOLD_MIB = 0.5
N_SAMPLES, N_FEATURES, N_CENTERS = 200, 5, 4
DTYPES = (np.float64, np.float32)


###############################################################################
# Measuring


def _malloc_trim():
    """glibc's malloc_trim(0), or nothing elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


_TRIM = _malloc_trim()
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident set size of this process, after collecting and trimming."""
    gc.collect()
    _TRIM()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def traced_bytes():
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def measure(cycle, cycles, warm_up):
    """Run cycle() warm_up + cycles times; the growth over the last cycles."""
    for _ in range(warm_up):
        cycle()
    rss0, traced0 = rss_bytes(), traced_bytes()
    start = time.perf_counter()
    for _ in range(cycles):
        cycle()
    seconds = time.perf_counter() - start
    rss1, traced1 = rss_bytes(), traced_bytes()
    return {
        "rss MiB": (rss1 - rss0) / MIB,
        "rss B/cycle": (rss1 - rss0) / cycles,
        "traced MiB": (traced1 - traced0) / MIB,
        "traced B/cycle": (traced1 - traced0) / cycles,
        "ms/cycle": 1e3 * seconds / cycles,
    }


###############################################################################
# The cases: one cycle of each public estimator and function


class Data:
    """The arrays every case uses, made once per dtype."""

    def __init__(self, dtype):
        from scipy import sparse
        from sklearn.datasets import make_blobs
        from sklearn.neighbors import kneighbors_graph

        X, y = make_blobs(n_samples=N_SAMPLES, n_features=N_FEATURES,
                          centers=N_CENTERS, random_state=0)
        self.X = X.astype(dtype)
        self.labels = y
        # DBSCAN's brute-force search serves more than 6 features (the grid
        # the others).
        X8, _ = make_blobs(n_samples=N_SAMPLES, n_features=8, centers=N_CENTERS,
                           random_state=1)
        self.X8 = X8.astype(dtype)
        rng = np.random.default_rng(0)
        self.sparse = sparse.random(N_SAMPLES, 50, density=0.1, format="csr",
                                    random_state=rng, dtype=dtype)
        self.connectivity = kneighbors_graph(self.X, n_neighbors=10,
                                             include_self=False)


def _kmeans(algorithm):
    def build(data):
        from turbocluster import KMeans

        def cycle():
            model = KMeans(N_CENTERS, n_init=1, algorithm=algorithm,
                           random_state=0).fit(data.X)
            model.predict(data.X)
            model.transform(data.X)
        return cycle
    return build


def _kmeans_sparse(data):
    from turbocluster import KMeans

    def cycle():
        model = KMeans(N_CENTERS, n_init=1, random_state=0).fit(data.sparse)
        model.predict(data.sparse)
        model.transform(data.sparse)
    return cycle


def _kmeans_plusplus(data):
    from turbocluster import kmeans_plusplus

    def cycle():
        kmeans_plusplus(data.X, N_CENTERS, random_state=0)
    return cycle


def _minibatch(data):
    from turbocluster import MiniBatchKMeans

    def cycle():
        model = MiniBatchKMeans(N_CENTERS, batch_size=64, n_init=1,
                                random_state=0).fit(data.X)
        model.predict(data.X)
    return cycle


def _minibatch_partial_fit(data):
    from turbocluster import MiniBatchKMeans

    # One model fed batch after batch: its state must stay the same size.
    model = MiniBatchKMeans(N_CENTERS, random_state=0)
    batches = np.array_split(data.X, 4)
    step = iter(range(sys.maxsize))

    def cycle():
        model.partial_fit(batches[next(step) % len(batches)])
        model.predict(data.X)
    return cycle


def _gmm(covariance_type):
    def build(data):
        from turbocluster import GaussianMixture

        def cycle():
            model = GaussianMixture(N_CENTERS, covariance_type=covariance_type,
                                    random_state=0).fit(data.X)
            model.score_samples(data.X)
            model.predict_proba(data.X)
        return cycle
    return build


def _bgmm(data):
    from turbocluster import BayesianGaussianMixture

    def cycle():
        model = BayesianGaussianMixture(n_components=N_CENTERS, max_iter=20,
                                        random_state=0).fit(data.X)
        model.score_samples(data.X)
        model.predict(data.X)
    return cycle


def _anomaly(data):
    from turbocluster import GaussianMixtureAnomalyDetector

    def cycle():
        model = GaussianMixtureAnomalyDetector(n_components=N_CENTERS,
                                               random_state=0).fit(data.X)
        model.decision_function(data.X)
        model.predict(data.X)
    return cycle


def _dbscan_estimator(attr):
    def build(data):
        from turbocluster import DBSCAN

        X = getattr(data, attr)

        def cycle():
            model = DBSCAN(eps=2.0, min_samples=5).fit(X)
            model.predict(X)
        return cycle
    return build


def _dbscan_function(data):
    from turbocluster import dbscan

    def cycle():
        dbscan(data.X, eps=2.0, min_samples=5)
    return cycle


def _agglomerative(linkage, graph):
    def build(data):
        from turbocluster import AgglomerativeClustering

        connectivity = data.connectivity if graph else None

        def cycle():
            AgglomerativeClustering(N_CENTERS, linkage=linkage,
                                    connectivity=connectivity).fit(data.X)
        return cycle
    return build


def _linkage_matrix(data):
    from turbocluster import AgglomerativeClustering, linkage_matrix

    def cycle():
        model = AgglomerativeClustering(N_CENTERS, compute_distances=True).fit(data.X)
        linkage_matrix(model)
    return cycle


def _silhouette_samples(data):
    from turbocluster import silhouette_samples

    def cycle():
        silhouette_samples(data.X, data.labels)
    return cycle


def _silhouette_score(data):
    from turbocluster import silhouette_score

    def cycle():
        silhouette_score(data.X, data.labels)
        silhouette_score(data.X, data.labels, sample_size=100, random_state=0)
    return cycle


def _select_n_clusters(data):
    from turbocluster import select_n_clusters

    def cycle():
        select_n_clusters(data.X, range(2, 6))
    return cycle


# family name -> builder(data) returning the cycle; every family runs in
# both dtypes (every kernel is fused over float32 and float64).
CASES = {
    "kmeans_lloyd": _kmeans("lloyd"),
    "kmeans_elkan": _kmeans("elkan"),
    "kmeans_sparse": _kmeans_sparse,
    "kmeans_plusplus": _kmeans_plusplus,
    "minibatch": _minibatch,
    "minibatch_partial_fit": _minibatch_partial_fit,
    "gmm_full": _gmm("full"),
    "gmm_tied": _gmm("tied"),
    "gmm_diag": _gmm("diag"),
    "gmm_spherical": _gmm("spherical"),
    "bgmm": _bgmm,
    "anomaly": _anomaly,
    "dbscan_grid": _dbscan_estimator("X"),
    "dbscan_brute": _dbscan_estimator("X8"),
    "dbscan_function": _dbscan_function,
    **{f"agglomerative_{linkage}": _agglomerative(linkage, graph=False)
       for linkage in ("ward", "complete", "average", "single")},
    **{f"agglomerative_{linkage}_graph": _agglomerative(linkage, graph=True)
       for linkage in ("ward", "complete", "average", "single")},
    "linkage_matrix": _linkage_matrix,
    "silhouette_samples": _silhouette_samples,
    "silhouette_score": _silhouette_score,
    "select_n_clusters": _select_n_clusters,
}


def case_names():
    return [f"{family}[{np.dtype(dtype).name}]" for family in CASES for dtype in DTYPES]


def select(names, only):
    """The case names that --only picks (all when only is empty)."""
    if not only:
        return names
    chosen = []
    for wanted in only:
        hits = [n for n in names if n == wanted or n.split("[")[0] == wanted]
        if not hits:
            raise ValueError(f"unknown case {wanted!r}; --list shows the names")
        chosen += [n for n in hits if n not in chosen]
    return chosen


###############################################################################
# Entry point


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Memory growth over many fit/predict cycles (see the module docstring)."
    )
    parser.add_argument("--cycles", type=int, default=1000,
                        help="measured cycles per case (default 1000)")
    parser.add_argument("--warm-up", type=int, default=50,
                        help="unmeasured cycles first (default 50)")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="cases to run: full names (kmeans_lloyd[float32]) "
                             "or families (both dtypes)")
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads of the kernels (default: as the "
                             "environment says)")
    parser.add_argument("--threshold-mib", type=float, default=THRESHOLD_MIB,
                        help=f"the growth that fails a case (default {THRESHOLD_MIB:g})")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.warm_up < 0:
        parser.error("--cycles must be at least 1 and --warm-up at least 0")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args, parser


_FORMATS = {"rss MiB": "{:.3f}", "rss B/cycle": "{:.0f}", "traced MiB": "{:.3f}",
            "traced B/cycle": "{:.0f}", "ms/cycle": "{:.1f}"}


def run_cases(names, args, out):
    """Measure each named case; one dict per case, printed as it ends."""
    data = {dtype: Data(dtype) for dtype in DTYPES}
    rows = []
    for name in names:
        family, dtype = name[:-1].split("[")
        cycle = CASES[family](data[np.dtype(dtype).type])
        with warnings.catch_warnings():
            # ConvergenceWarning and the like: the cycles are what is measured.
            warnings.simplefilter("ignore")
            row = {"case": name, **measure(cycle, args.cycles, args.warm_up)}
        row["leak"] = max(row["rss MiB"], row["traced MiB"]) > args.threshold_mib
        rows.append(row)
        cells = "  ".join(f"{key} {fmt.format(row[key])}" for key, fmt in _FORMATS.items())
        print(f"{name:38s} {cells}  {'LEAK' if row['leak'] else 'ok'}",
              file=out, flush=True)
    return rows


def main(argv=None, out=None):
    """Run the cases; returns a pandas DataFrame, one row per case (empty
    with --list)."""
    import pandas as pd
    from threadpoolctl import threadpool_limits
    from turbocluster._threads import effective_n_threads

    out = sys.stdout if out is None else out
    args, parser = parse_args(argv)
    names = case_names()
    if args.list:
        print("\n".join(names), file=out)
        return pd.DataFrame()
    try:
        chosen = select(names, args.only)
    except ValueError as exc:
        parser.error(str(exc))

    with threadpool_limits(limits=args.threads, user_api="openmp"):
        print(f"{len(chosen)} cases, {args.warm_up} warm-up + {args.cycles} measured "
              f"cycles each on {N_SAMPLES} x {N_FEATURES}, {effective_n_threads()} "
              f"OpenMP thread(s); a case fails above {args.threshold_mib:g} MiB of growth",
              file=out, flush=True)
        tracemalloc.start()
        try:
            rows = run_cases(chosen, args, out)
        finally:
            tracemalloc.stop()

    table = pd.DataFrame(rows)
    formatters = {key: fmt.format for key, fmt in _FORMATS.items()}
    print(file=out)
    print(table.to_string(index=False, formatters=formatters), file=out)
    failed = table.loc[table["leak"], "case"].tolist()
    print(f"\n{len(failed)} of {len(table)} cases grew by more than "
          f"{args.threshold_mib:g} MiB" + (f": {', '.join(failed)}" if failed else ""),
          file=out)
    return table


def exit_status(table):
    """1 when some case leaked, else 0."""
    return int(bool(len(table)) and bool(table["leak"].any()))


if __name__ == "__main__":
    sys.exit(exit_status(main()))
