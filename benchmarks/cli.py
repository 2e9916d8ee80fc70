"""Time the command line's reading and its whole job against doing it by hand.

Usage: python benchmarks/cli.py [--rows N] [--repeat N] [--data-dir DIR]

The data: ``make_blobs(n_samples=1_000_000, n_features=20, centers=16,
random_state=0)`` written by ``DataFrame.to_csv(index=False)`` (about 380 MB;
written once, then kept in --data-dir). Each measurement runs in its own
process, so that its peak memory (the child's maximum resident set size) is
its own; the runs alternate between the sides, median of --repeat.

- ``read``: ``pandas.read_csv(path)``, timed inside its process (imports
  excluded), against the reading step of the command line as it reports it
  on stderr (``read ... in 0.55 s``: it also sniffs the format, chooses the
  columns, checks every value and returns a C-ordered array), from the
  ``job`` runs below.
- ``job``: ``python -m turbocluster big.csv --n-clusters 16 --output
  labels.txt`` against the same job written by hand (``pandas.read_csv``,
  ``turbocluster.KMeans(n_clusters=16, random_state=0)``, ``np.savetxt``),
  both timed from outside, interpreter start-up included.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024.0 ** 2

_PANDAS_READ = """
import sys, time, pandas
start = time.perf_counter()
frame = pandas.read_csv(sys.argv[1])
print(time.perf_counter() - start)
"""

_BY_HAND = """
import sys
import numpy as np, pandas
from turbocluster import KMeans
X = pandas.read_csv(sys.argv[1]).to_numpy()
labels = KMeans(n_clusters=16, random_state=0).fit(X).labels_
np.savetxt(sys.argv[2], labels, fmt="%d")
"""


def make_data(path, n_rows):
    import pandas
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n_rows, n_features=20, centers=16, random_state=0)
    tmp = path.with_suffix(".tmp")
    pandas.DataFrame(X).to_csv(tmp, index=False)
    tmp.rename(path)


def run(argv):
    """Run a child; (wall seconds, seconds it printed or reported reading, peak RSS MiB)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = child.stdout.read()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv} failed:\n{err.decode()}")
    text = out.decode().strip()
    printed = float(text) if text and "\n" not in text else None
    reading = re.search(r"^turbocluster: read .* in ([\d.]+) (ms|s) ", err.decode(),
                        flags=re.MULTILINE)
    if reading:
        printed = float(reading.group(1)) / (1000 if reading.group(2) == "ms" else 1)
    return wall, printed, usage.ru_maxrss * 1024 / MIB  # ru_maxrss is in KiB on Linux


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(),
                                                           "turbocluster-bench"))
    args = parser.parse_args(argv)

    folder = Path(args.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"blobs_{args.rows}x20.csv"
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        make_data(path, args.rows)
    labels = folder / "labels.txt"
    python = sys.executable
    sides = {
        "read: pandas.read_csv": [python, "-c", _PANDAS_READ, str(path)],
        "job: by hand": [python, "-c", _BY_HAND, str(path), str(labels)],
        "job: python -m turbocluster": [
            python, "-m", "turbocluster", str(path), "--n-clusters", "16",
            "--output", str(labels),
        ],
    }
    results = {name: [] for name in sides}
    for _ in range(args.repeat):
        for name, command in sides.items():
            time.sleep(0.5)
            results[name].append(run(command))

    print(f"{path.name}: {path.stat().st_size / MIB:.0f} MiB, {args.rows} rows x 20 "
          f"columns; median of {args.repeat}, each in its own process; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"{'':32}{'seconds':>10}{'peak MiB':>10}   all seconds")
    rows = {
        "read: pandas.read_csv": [(r[1], r[2]) for r in results["read: pandas.read_csv"]],
        "read: turbocluster (its report)": [
            (r[1], None) for r in results["job: python -m turbocluster"]],
        "job: by hand": [(r[0], r[2]) for r in results["job: by hand"]],
        "job: python -m turbocluster": [
            (r[0], r[2]) for r in results["job: python -m turbocluster"]],
    }
    medians = {}
    for name, runs in rows.items():
        seconds = [s for s, _ in runs]
        memory = [m for _, m in runs if m is not None]
        medians[name] = (statistics.median(seconds),
                         statistics.median(memory) if memory else float("nan"))
        shown = " ".join(f"{s:.2f}" for s in seconds)
        memory_shown = "-" if not memory else f"{medians[name][1]:.0f}"
        print(f"{name:32}{medians[name][0]:>10.2f}{memory_shown:>10}   {shown}")
    read_ratio = (medians["read: turbocluster (its report)"][0]
                  / medians["read: pandas.read_csv"][0])
    job_memory = medians["job: python -m turbocluster"][1] / medians["job: by hand"][1]
    job_time = medians["job: python -m turbocluster"][0] / medians["job: by hand"][0]
    print(f"reading, turbocluster / pandas.read_csv: {read_ratio:.2f}x time (target <= 1.5)")
    print(f"whole job, turbocluster / by hand: {job_time:.2f}x time, "
          f"{job_memory:.2f}x peak memory (target <= 1.5)")
    return {"read_ratio": read_ratio, "job_time_ratio": job_time,
            "job_memory_ratio": job_memory}


if __name__ == "__main__":
    main()
