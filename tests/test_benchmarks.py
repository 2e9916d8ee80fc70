"""The benchmark runner (benchmarks/run.py) runs end to end in quick mode.

Only the shape of the report is checked: timings on a shared machine are
noise at these sizes, so no assertion is made on any ratio.
"""

import importlib.util
import io
import math
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

pytestmark = pytest.mark.skipif(not RUN_PY.exists(), reason="no benchmarks/ in this tree")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("turbocluster_bench_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positive(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_quick_run_reports_every_selected_workload(bench):
    out = io.StringIO()
    labels = ["kmeans_lloyd[float64]", "kmeans_init[float32]"]
    report = bench.main(["--quick", *labels], out=out)
    text = out.getvalue()

    rows = report["rows"]
    assert [row["label"] for row in rows] == labels
    for row in rows:
        for key in ("sklearn_s", "ours_s", "speedup", "sklearn_inertia", "ours_inertia"):
            assert _positive(row[key]), (row["label"], key, row[key])
        assert row["label"] in text
        assert "sklearn_s_per_iter" not in row  # not an overlap workload
    assert rows[0]["dtype"] == "float64" and rows[1]["dtype"] == "float32"
    assert rows[0]["ours_n_iter"] >= 1 and rows[0]["sklearn_n_iter"] >= 1

    for word in ("date:", "machine:", "OpenMP threads", "scikit-learn", "turbocluster"):
        assert word in text
    assert any("geometric mean speed-up" in note for note in report["notes"])


def test_quick_run_overlap_pair_gives_per_iteration_and_memory(bench):
    out = io.StringIO()
    report = bench.main(
        ["--quick", "--memory", "--markdown",
         "kmeans_lloyd_overlap[float32]", "kmeans_elkan_overlap[float32]"],
        out=out,
    )
    text = out.getvalue()
    rows = {row["label"]: row for row in report["rows"]}
    assert set(rows) == {"kmeans_lloyd_overlap[float32]", "kmeans_elkan_overlap[float32]"}
    for row in rows.values():
        assert _positive(row["sklearn_s_per_iter"]) and _positive(row["ours_s_per_iter"])
    # Peak memory only for Elkan, where the bounds are what is measured.
    elkan = rows["kmeans_elkan_overlap[float32]"]
    assert _positive(elkan["sklearn_peak_mib"]) and _positive(elkan["ours_peak_mib"])
    assert "ours_peak_mib" not in rows["kmeans_lloyd_overlap[float32]"]

    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 2  # titles, rule, one row per workload
    assert "| kmeans_elkan_overlap[float32] |" in text
    assert any("ours elkan/lloyd on overlap data [float32]" in n for n in report["notes"])


def test_bare_name_selects_both_dtypes(bench):
    workloads = bench.wl.build_workloads(bench.wl.QUICK)
    chosen = bench.wl.select(workloads, ["kmeans_elkan"])
    assert [w.label for w in chosen] == ["kmeans_elkan[float64]", "kmeans_elkan[float32]"]


def test_unknown_workload_and_short_repeat_are_refused(bench):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "no_such_workload"], out=io.StringIO())
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--repeat", "2"], out=io.StringIO())


def test_potential_matches_a_direct_computation(bench):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)).astype(np.float32)
    centers = X[:4]
    direct = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1).min(1).sum()
    assert bench.wl.potential(X, centers, chunk_rows=97) == pytest.approx(direct, rel=1e-9)


def test_cli_benchmark_runs_on_a_small_file(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "turbocluster_bench_cli", RUN_PY.parent / "cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ratios = module.main(["--rows", "2000", "--repeat", "1", "--data-dir", str(tmp_path)])
    assert set(ratios) == {"read_ratio", "job_time_ratio", "job_memory_ratio"}
    assert all(_positive(value) for value in ratios.values())
    out = capsys.readouterr().out
    for row in ("read: pandas.read_csv", "read: turbocluster (its report)",
                "job: by hand", "job: python -m turbocluster"):
        assert row in out


def test_labels_fingerprint_ignores_cluster_ids_only(bench):
    import numpy as np

    labels = np.array([0, 0, 1, -1, 2, 1, 2, -1, 0])
    renamed = np.array([5, 5, 0, -1, 3, 0, 3, -1, 5])
    fingerprint = bench.wl.labels_fingerprint
    assert fingerprint(labels) == fingerprint(renamed) > 0
    moved = labels.copy()
    moved[4] = 1  # one sample changes cluster
    assert fingerprint(moved) != fingerprint(labels)
    noise = labels.copy()
    noise[0] = -1  # one sample becomes noise
    assert fingerprint(noise) != fingerprint(labels)


def test_quick_dbscan_workloads_report_identical_labels_and_memory(bench):
    report = bench.main(["--quick", "--memory", "dbscan_2d", "dbscan_dense[float32]"],
                        out=io.StringIO())
    rows = report["rows"]
    assert [row["label"] for row in rows] == [
        "dbscan_2d[float64]", "dbscan_2d[float32]", "dbscan_dense[float32]"]
    for row in rows:
        assert _positive(row["ours_inertia"]) and _positive(row["sklearn_inertia"])
        assert row["ours_inertia"] == row["sklearn_inertia"], row["label"]
        assert _positive(row["sklearn_peak_mib"]) and _positive(row["ours_peak_mib"])


def test_quick_linkage_workloads_report_identical_labels_and_ours_alone(bench):
    report = bench.main(["--quick", "linkage_average[float64]", "linkage_single[float32]",
                         "linkage_large_single[float64]"], out=io.StringIO())
    rows = {row["label"]: row for row in report["rows"]}
    for label in ("linkage_average[float64]", "linkage_single[float32]"):
        row = rows[label]
        assert row["ours_inertia"] == row["sklearn_inertia"], label
        assert _positive(row["speedup"]) and "scipy" in row["anchors_s"]
    large = rows["linkage_large_single[float64]"]
    # Ours alone: scikit-learn's condensed matrix would not fit at full size.
    assert large["sklearn_s"] is None and large["speedup"] is None
    assert _positive(large["ours_s"]) and "anchors_s" not in large
    assert any(note.startswith("linkage_average[float64]: ours") for note in report["notes"])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_peak_rss_counts_an_allocation_and_runs_each_side_in_its_own_process(bench):
    import numpy as np

    assert bench._reset_peak_rss()
    before = bench._status_kib("VmRSS")
    block = np.ones(64 * 1024 ** 2 // 8)  # 64 MiB, touched
    extra_mib = (bench._status_kib("VmHWM") - before) / 1024
    del block
    assert 60 <= extra_mib <= 80

    report = bench.main(["--quick", "--rss", "dbscan_dense[float32]"], out=io.StringIO())
    (row,) = report["rows"]
    for key in ("sklearn_peak_rss_mib", "ours_peak_rss_mib"):
        assert math.isfinite(row[key]) and row[key] >= 0, (key, row[key])
    assert "ours_peak_mib" not in row  # tracemalloc only with --memory


###############################################################################
# benchmarks/leaks.py: memory growth over many fit/predict cycles

LEAKS_PY = RUN_PY.with_name("leaks.py")


@pytest.fixture(scope="module")
def leaks():
    spec = importlib.util.spec_from_file_location("turbocluster_bench_leaks", LEAKS_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_leak_check_runs_the_chosen_cases(leaks):
    out = io.StringIO()
    table = leaks.main(["--cycles", "3", "--warm-up", "1", "--threads", "1",
                        "--only", "kmeans_lloyd[float32]", "dbscan_grid"], out=out)
    text = out.getvalue()
    assert table["case"].tolist() == [
        "kmeans_lloyd[float32]", "dbscan_grid[float64]", "dbscan_grid[float32]"]
    for key in ("rss MiB", "rss B/cycle", "traced MiB", "traced B/cycle"):
        assert table[key].map(math.isfinite).all(), key
    assert (table["ms/cycle"] > 0).all()
    # Three cycles are too few for a verdict on a real estimator (the
    # allocator's one-off growth is not yet amortised): only its form.
    assert table["leak"].dtype == bool
    assert "1 OpenMP thread(s)" in text and "dbscan_grid[float32]" in text
    assert "cases grew by more than 0.5 MiB" in text


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_leak_check_flags_a_leaking_case_and_passes_a_clean_one(leaks, monkeypatch):
    import numpy as np

    kept = []

    def leaking(data):
        # 64 KiB a cycle, kept: RSS and tracemalloc (NumPy traces its
        # buffers) both see it.
        return lambda: kept.append(np.ones(8192))

    def clean(data):
        return lambda: np.ones(8192).sum()

    monkeypatch.setattr(leaks, "CASES", {"leaking": leaking, "clean": clean})
    out = io.StringIO()
    table = leaks.main(["--cycles", "20", "--warm-up", "2"], out=out)
    verdict = dict(zip(table["case"], table["leak"]))
    assert verdict == {"leaking[float64]": True, "leaking[float32]": True,
                       "clean[float64]": False, "clean[float32]": False}
    leaked = table.set_index("case").loc["leaking[float64]"]
    assert 60 * 1024 <= leaked["traced B/cycle"] <= 70 * 1024
    assert leaked["rss MiB"] > 0.5
    assert leaks.exit_status(table) == 1
    assert leaks.exit_status(table[~table["leak"]]) == 0
    assert "2 of 4 cases grew by more than 0.5 MiB: leaking[float64], leaking[float32]" \
        in out.getvalue()


def test_leak_check_names(leaks):
    names = leaks.case_names()
    assert len(names) == 2 * len(leaks.CASES) and len(set(names)) == len(names)
    assert leaks.select(names, ["gmm_tied"]) == ["gmm_tied[float64]", "gmm_tied[float32]"]
    assert leaks.select(names, ["bgmm[float32]", "bgmm"]) == ["bgmm[float32]", "bgmm[float64]"]
    with pytest.raises(ValueError, match="unknown case 'gmm'"):
        leaks.select(names, ["gmm"])
