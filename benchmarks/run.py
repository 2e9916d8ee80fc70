"""Time turbocluster against scikit-learn on the workloads of workloads.py.

Usage: python benchmarks/run.py [WORKLOAD ...] [--repeat N] [--quick]
                                [--markdown] [--memory] [--rss] [--list]

Both sides run in this process on the same array. Each is warmed up once
(untimed), then the timed runs alternate between the two, swapping which goes
first every repetition so that neither always follows the other; the table
shows the median. Before each timed run, a pause lets the worker threads
that the last run left spinning (OpenMP and BLAS pools of either library) go
to sleep. Data generation, the fixed init of the per-iteration timings and
the quality figures are never timed. See benchmarks/README.md.
"""

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

# Runnable as a script (python benchmarks/run.py) and loadable by path from
# the tests: either way its sibling module must be importable.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

import turbocluster  # noqa: E402
import workloads as wl  # noqa: E402

MIB = 1024.0 ** 2
# Seconds of quiet before each timed run. Idle OpenMP and BLAS workers spin
# for a while before they sleep, on the cores the next run needs: measured
# here, k-means++ took 4-10% longer right after the other library's run.
SETTLE_S = 0.25


###############################################################################
# Measuring


def _timed(fn, args, settle):
    gc.collect()
    time.sleep(settle)
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def time_pair(ours, reference, args, repeat, read, settle, warm_up=True):
    """Median seconds of ``ours`` and ``reference`` over ``repeat`` runs each.

    ``read(result)`` extracts what is kept from a run (a dict), so that large
    results (labels of every sample) are dropped at once. Returns
    ``{"ours": (seconds, [read of each run]), "reference": (...)}``.
    """
    sides = {"ours": ours, "reference": reference}
    sides = {side: fn for side, fn in sides.items() if fn is not None}
    if warm_up:
        for fn in sides.values():
            fn(*args)
    seconds = {side: [] for side in sides}
    figures = {side: [] for side in sides}
    for rep in range(repeat):
        order = list(sides) if rep % 2 == 0 else list(sides)[::-1]
        for side in order:
            dt, result = _timed(sides[side], args, settle)
            seconds[side].append(dt)
            figures[side].append(read(result, dt))
            del result
    return {side: (statistics.median(seconds[side]), figures[side]) for side in sides}


def peak_mib(fn, args):
    """Peak memory traced by tracemalloc during one untimed call, in MiB.

    numpy reports its array buffers to tracemalloc, so this counts the arrays
    a fit allocates (bounds, labels, copies of X) but not buffers a compiled
    kernel mallocs itself.
    """
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    del result
    return peak / MIB


def _status_kib(field):
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Make VmHWM restart from the current resident set (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child_peak_rss(label, side, quick):
    """In a fresh process: the extra peak resident memory of one call, MiB.

    The data is generated and a small call on its first 1,000 samples loads
    whatever the libraries import lazily and starts their thread pools; then
    the peak is reset and one full call measured, as the resident high-water
    mark above the resident set just before it. Unlike tracemalloc this
    counts every allocation (a kernel's malloc, BLAS buffers, thread stacks
    touched), and the other side's earlier runs cannot inflate or hide it.
    """
    sizes = wl.QUICK if quick else wl.FULL
    (w,) = wl.select(wl.build_workloads(sizes), [label])
    X = wl.DataCache(sizes, [w]).X(w.data_key)
    fn = w.ours if side == "ours" else w.reference
    fn(X[:1000])
    gc.collect()
    if not _reset_peak_rss():
        raise OSError("no /proc/self/clear_refs: peak resident memory needs Linux")
    before = _status_kib("VmRSS")
    result = fn(X)
    peak = _status_kib("VmHWM")
    del result
    return (peak - before) / 1024.0


def peak_rss_mib(w, side, quick):
    """:func:`child_peak_rss` of one side, run in its own Python process."""
    command = [sys.executable, __file__, "--child-rss", w.label, side]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"peak-memory run of {w.label} ({side}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def run_workload(w, cache, repeat, memory, settle=SETTLE_S, rss=False, quick=False):
    """Measure one workload; returns its table row as a dict."""
    X = cache.X(w.data_key)

    def read(result, seconds, X=X):  # X bound now: it is deleted below
        return {
            "inertia": float(w.inertia(result, X)),
            "n_iter": int(w.n_iter(result)) if w.n_iter is not None else None,
        }

    timing = time_pair(w.ours, w.reference, (X,), repeat, read, settle)
    row = {
        "label": w.label,
        "name": w.name,
        "dtype": np.dtype(w.dtype).name,
    }
    for side, prefix in (("reference", "sklearn"), ("ours", "ours")):
        seconds, figures = timing.get(side, (None, [{"inertia": None, "n_iter": None}]))
        row[f"{prefix}_s"] = seconds
        row[f"{prefix}_inertia"] = figures[0]["inertia"]
        row[f"{prefix}_n_iter"] = figures[0]["n_iter"]
    # Ours alone (no reference): no speed-up.
    row["speedup"] = None if row["sklearn_s"] is None else row["sklearn_s"] / row["ours_s"]
    if w.anchors:
        # Other libraries, each timed alone after one warm-up call.
        row["anchors_s"] = {
            name: time_pair(fn, None, (X,), repeat, lambda result, dt: {}, settle)["ours"][0]
            for name, fn in w.anchors.items()}
    if w.per_iteration:
        for prefix in ("sklearn", "ours"):
            row[f"{prefix}_s_per_iter"] = row[f"{prefix}_s"] / max(row[f"{prefix}_n_iter"], 1)

    if w.from_init is not None:
        init = cache.fixed_init(w.data_key)  # untimed, computed once per data set
        ours_from, reference_from = w.from_init
        # Already warm: the same code paths just ran in the timings above.
        per_iter = time_pair(
            ours_from, reference_from, (X, init), repeat,
            read=lambda est, seconds: seconds / max(int(est.n_iter_), 1),
            settle=settle, warm_up=False,
        )
        row["sklearn_s_per_iter"] = statistics.median(per_iter["reference"][1])
        row["ours_s_per_iter"] = statistics.median(per_iter["ours"][1])

    if memory and w.memory:
        row["sklearn_peak_mib"] = None if w.reference is None else peak_mib(w.reference, (X,))
        row["ours_peak_mib"] = peak_mib(w.ours, (X,))
    if rss and w.memory:
        for side, prefix in (("reference", "sklearn"), ("ours", "ours")):
            if getattr(w, side) is not None:
                row[f"{prefix}_peak_rss_mib"] = peak_rss_mib(w, side, quick)

    del X
    cache.release(w.data_key)
    gc.collect()
    return row


###############################################################################
# Reporting


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _thread_summary():
    info = threadpool_info()
    openmp = [lib["num_threads"] for lib in info if lib["user_api"] == "openmp"]
    blas = [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]
    parts = []
    if openmp:
        # Every OpenMP runtime loaded (ours and scikit-learn's vendored libgomp);
        # the effective count is what the least generous of them allows.
        parts.append(f"OpenMP threads {min(openmp)} (per runtime: {openmp})")
    else:
        parts.append("OpenMP threads: no OpenMP runtime loaded")
    if blas:
        parts.append(f"BLAS threads {min(blas)}")
    env = os.environ.get("OMP_NUM_THREADS")
    if env:
        parts.append(f"OMP_NUM_THREADS={env}")
    return ", ".join(parts)


def _load_average():
    # Other processes on a shared machine slow both sides unevenly (OpenMP
    # threads of either side lose their core): the load says how quiet it was.
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def header_lines(sizes, repeat, started):
    return [
        f"date: {started.isoformat(timespec='seconds')}; {_load_average()}",
        f"machine: {_cpu_model()}; os.cpu_count()={os.cpu_count()}; {_thread_summary()}",
        f"versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, turbocluster {turbocluster.__version__}",
        f"sizes: n_samples={sizes.n_samples}, n_features={sizes.n_features}, "
        f"n_clusters={sizes.n_clusters}, max_iter={sizes.max_iter}; median of "
        f"{repeat} timed runs per side after 1 warm-up, ours/sklearn alternating",
    ]


def _columns(memory, rss=False):
    # (title, row key or function of the row, format); None values print "-".
    cols = [
        ("workload", "label", "{}"),
        ("dtype", "dtype", "{}"),
        ("sklearn s", "sklearn_s", "{:.3f}"),
        ("ours s", "ours_s", "{:.3f}"),
        ("speed-up", "speedup", "{:.2f}x"),
        ("sklearn inertia", "sklearn_inertia", "{:.6e}"),
        ("ours inertia", "ours_inertia", "{:.6e}"),
        ("d inertia", _inertia_delta, "{:+.3%}"),
        ("iters sk/ours", _iters, "{}"),
        ("sklearn s/iter", "sklearn_s_per_iter", "{:.4f}"),
        ("ours s/iter", "ours_s_per_iter", "{:.4f}"),
    ]
    if memory:
        cols += [
            ("sklearn MiB", "sklearn_peak_mib", "{:.1f}"),
            ("ours MiB", "ours_peak_mib", "{:.1f}"),
        ]
    if rss:
        cols += [
            ("sklearn RSS MiB", "sklearn_peak_rss_mib", "{:.1f}"),
            ("ours RSS MiB", "ours_peak_rss_mib", "{:.1f}"),
        ]
    return cols


def _inertia_delta(row):
    if row["sklearn_inertia"] is None:
        return None
    return (row["ours_inertia"] - row["sklearn_inertia"]) / row["sklearn_inertia"]


def _iters(row):
    if row.get("sklearn_n_iter") is None:
        return None
    return f"{row['sklearn_n_iter']}/{row['ours_n_iter']}"


def _cells(row, cols):
    cells = []
    for _, key, fmt in cols:
        value = key(row) if callable(key) else row.get(key)
        cells.append("-" if value is None else fmt.format(value))
    return cells


class Table:
    """Prints rows as they come: fixed-width text or Markdown."""

    def __init__(self, cols, markdown, label_width, out):
        self.cols = cols
        self.markdown = markdown
        self.out = out
        self.widths = [max(len(title), 8) for title, _, _ in cols]
        self.widths[0] = max(self.widths[0], label_width)
        self.widths[5] = self.widths[6] = max(self.widths[5], 12)  # inertias

    def _line(self, cells):
        if self.markdown:
            return "| " + " | ".join(cells) + " |"
        first = cells[0].ljust(self.widths[0])
        second = cells[1].ljust(self.widths[1])
        rest = [c.rjust(w) for c, w in zip(cells[2:], self.widths[2:])]
        return "  ".join([first, second] + rest)

    def header(self):
        titles = [title for title, _, _ in self.cols]
        print(self._line(titles), file=self.out)
        if self.markdown:
            rule = ["---", "---"] + ["---:"] * (len(titles) - 2)
        else:
            rule = ["-" * w for w in self.widths]
        print(self._line(rule), file=self.out)

    def row(self, row):
        print(self._line(_cells(row, self.cols)), file=self.out, flush=True)


def derived_notes(rows):
    """Our Elkan against our Lloyd on the overlap data, our Fortran-ordered fit
    against the C-ordered one, per dtype, and a mean."""
    notes = []
    by_label = {r["label"]: r for r in rows}
    for dtype in sorted({r["dtype"] for r in rows}, reverse=True):
        lloyd = by_label.get(f"kmeans_lloyd_overlap[{dtype}]")
        elkan = by_label.get(f"kmeans_elkan_overlap[{dtype}]")
        if lloyd is None or elkan is None:
            continue
        fit = elkan["ours_s"] / lloyd["ours_s"]
        it = elkan["ours_s_per_iter"] / lloyd["ours_s_per_iter"]
        sk = elkan["sklearn_s_per_iter"] / lloyd["sklearn_s_per_iter"]
        verdict = "ok" if max(fit, it) <= 1.10 else "OVER TARGET"
        notes.append(
            f"ours elkan/lloyd on overlap data [{dtype}]: fit {fit:.2f}x, "
            f"per iteration {it:.2f}x (target <= 1.10: {verdict}); "
            f"sklearn elkan/lloyd per iteration {sk:.2f}x"
        )
    for dtype in sorted({r["dtype"] for r in rows}, reverse=True):
        c_order = by_label.get(f"kmeans_lloyd_overlap[{dtype}]")
        fortran = by_label.get(f"kmeans_lloyd_fortran[{dtype}]")
        if c_order is not None and fortran is not None:
            ratio = fortran["ours_s"] / c_order["ours_s"]
            verdict = "ok" if ratio <= 1.10 else "OVER TARGET"
            notes.append(f"ours Fortran-ordered / C-ordered fit [{dtype}]: {ratio:.2f}x "
                         f"(target <= 1.10: {verdict})")
    for row in rows:
        if row.get("anchors_s"):
            anchors = ", ".join(f"{name} {seconds:.3f} s"
                                for name, seconds in row["anchors_s"].items())
            notes.append(f"{row['label']}: ours {row['ours_s']:.3f} s; linkage matrix "
                         f"alone (anchors): {anchors}")
    compared = [r for r in rows if r["speedup"] is not None]
    if compared:
        gmean = math.exp(statistics.fmean(math.log(r["speedup"]) for r in compared))
        notes.append(f"geometric mean speed-up over {len(compared)} workloads: {gmean:.2f}x")
    return notes


###############################################################################
# Entry point


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time turbocluster against scikit-learn (see benchmarks/README.md)."
    )
    parser.add_argument(
        "workloads", nargs="*",
        help="workload names (both dtypes) or labels like kmeans_lloyd[float32]; "
             "default: all",
    )
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs per side, median reported (>= 3, default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: the whole suite in seconds (for tests)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as Markdown")
    parser.add_argument("--memory", action="store_true",
                        help="also report peak traced memory (Elkan, sparse and "
                             "silhouette workloads; one extra untimed run per side)")
    parser.add_argument("--rss", action="store_true",
                        help="also report the extra peak resident memory of one "
                             "call per side, each in its own process (the "
                             "workloads --memory covers; Linux)")
    parser.add_argument("--child-rss", nargs=2, metavar=("LABEL", "SIDE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--list", action="store_true",
                        help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3 (the median of fewer is noise)")
    return args, parser


def main(argv=None, out=None):
    """Run the benchmark; returns {"rows": [dict per workload], "notes": [str]}."""
    out = sys.stdout if out is None else out
    args, parser = parse_args(argv)
    if args.child_rss:
        label, side = args.child_rss
        peak = child_peak_rss(label, side, args.quick)
        print(json.dumps({"peak_rss_mib": peak}), file=out)
        return {"rows": [], "notes": []}
    sizes = wl.QUICK if args.quick else wl.FULL
    everything = wl.build_workloads(sizes)
    if args.list:
        for w in everything:
            print(w.label, file=out)
        return {"rows": [], "notes": []}
    try:
        selected = wl.select(everything, args.workloads)
    except ValueError as exc:
        parser.error(str(exc))

    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    for line in header_lines(sizes, args.repeat, started):
        print(f"- {line}" if args.markdown else line, file=out)
    print(file=out)

    table = Table(_columns(args.memory, args.rss), args.markdown,
                  max(len(w.label) for w in selected), out)
    table.header()
    cache = wl.DataCache(sizes, selected)
    rows = []
    for w in selected:
        # The quick sizes check the runner, not the timings: no pauses.
        row = run_workload(w, cache, args.repeat, args.memory,
                           settle=0.0 if args.quick else SETTLE_S,
                           rss=args.rss, quick=args.quick)
        rows.append(row)
        table.row(row)

    notes = derived_notes(rows)
    finished = datetime.datetime.now().astimezone()
    notes.append(f"finished {finished.isoformat(timespec='seconds')} "
                 f"({time.perf_counter() - t0:.0f} s in all); {_load_average()}")
    print(file=out)
    for note in notes:
        print(f"- {note}" if args.markdown else note, file=out)
    out.flush()
    return {"rows": rows, "notes": notes}


if __name__ == "__main__":
    main()
