"""40 small reports: ``cx run`` against the papermill CLI run one after another.

The cost of a small report is kernel start and imports, not analysis. The
baseline runs ``papermill`` (the CLI) 40 times in a row, as a cron script
would; ``cx run`` runs the same 40 jobs with one worker per core, each report
in a fresh kernel process forked from the run's pre-imported zygote, renders
both HTML views in the workers and prints the briefs' PDFs with the runner's
one kept headless Chromium while the workers go on. Goal (issue 17): with the
HTML views, at least 15x faster than the baseline, in the same run; rendering
at most 15% of the batch time (the rendered run against the same run without
HTML). Both are shown with the PDF (the default) and without it (``pdf:
false``). Rows for comparison: without HTML, cold (non-forked) kernels, and the same batch on a
``distributed.LocalCluster`` with one worker per core, each keeping a zygote
(goal: per report at most 1.2x the local time).

The warm path's per-report time split into its parts (kernel request, kernel
start in the child, handshake, each cell, shutdown, papermill, rendering) comes
from :mod:`benchmarks.profile_warm_kernel` (one worker, jobs after the first),
so a regression shows where it came from.

Data slices: one segment's satisfaction report (notebook 01, ``filter_value``)
on a 10-million-response world against the same report on a 100-thousand one.
The responses are read from the partitioned store (``cx store``), so the job
reads only its segment's files and aggregates them in DuckDB. Each is timed as
the second job of a one-worker batch (the first warms the worker), which is
what a report costs inside a scheduled run. Goal: at most 2x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

GOAL = 15.0
RENDER_SHARE = 0.15
CLUSTER_RATIO = 1.2
NB = Path(__file__).parent / "notebooks" / "small_report.ipynb"
SEGMENTS = ["", "mass", "affluent", "business"]
COPIES = 10  # 4 segment values x 10 copies = 40 reports


def _jobs() -> list[dict]:
    return [{"filter_value": s, "copy": c} for c in range(COPIES) for s in SEGMENTS]


def _papermill_cli(tmp: Path) -> float:
    exe = Path(sys.executable).with_name("papermill")
    t0 = time.perf_counter()
    for i, job in enumerate(_jobs()):
        args = [str(exe), str(NB), str(tmp / f"out{i}.ipynb"), "--cwd", str(NB.parent),
                "--no-progress-bar", "-k", "python3"]
        for k, v in job.items():
            args += ["-p", k, str(v)]
        subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t0


def _cx_run(tmp: Path, *, kernels: str, render: bool, cluster: str | None = None,
            pdf: bool = True) -> float:
    batch = tmp / f"bench-{kernels}-{int(render)}{int(pdf)}{'-dask' if cluster else ''}.yml"
    batch.write_text(yaml.safe_dump({
        "name": batch.stem, "kernels": kernels, "render": render, "pdf": pdf, "retries": 0,
        "jobs": [{"notebook": str(NB), "rows": _jobs()}]}), encoding="utf-8")
    env = {**os.environ, "CX_REPORTS_DIR": str(tmp / "reports")}
    exe = Path(sys.executable).with_name("cx")
    t0 = time.perf_counter()
    out = subprocess.run([str(exe), "run", str(batch), "--no-progress",
                          *(["--cluster", cluster] if cluster else [])], env=env,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"cx run failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return elapsed


def _slice_report(world: Path, tmp: Path, segment: str = "mass") -> float:
    nb = Path(__file__).resolve().parent.parent / "notebooks" / "01_touchpoint_satisfaction.ipynb"
    batch = tmp / f"slice-{world.name}.yml"
    batch.write_text(yaml.safe_dump({
        "name": batch.stem, "workers": 1, "render": False, "retries": 0,
        "parameters": {"dataset": str(world)},
        "jobs": [{"notebook": str(nb), "rows": [{"filter_value": "business"},
                                                {"filter_value": segment}]}]},
        sort_keys=False), encoding="utf-8")
    env = {**os.environ, "CX_REPORTS_DIR": str(tmp / "reports")}
    exe = Path(sys.executable).with_name("cx")
    out = subprocess.run([str(exe), "run", str(batch), "--no-progress"], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"cx run failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    import json

    runs = sorted((tmp / "reports" / batch.stem).glob("*/manifest.json"))
    jobs = json.loads(runs[-1].read_text())["jobs"]
    return float(next(j for j in jobs if j["parameters"]["filter_value"] == segment)
                 ["duration"])


def run_slices() -> list[dict]:
    from cxlib.data import store
    from cxlib.data.synth import ensure_bench_world

    big = ensure_bench_world("large", seed=7)
    small = ensure_bench_world(100_000, seed=7)
    t0 = time.perf_counter()
    store.ensure_store(big)
    build = time.perf_counter() - t0
    store.ensure_store(small)
    with tempfile.TemporaryDirectory(prefix="cxbench-") as tmp:
        t_small = _slice_report(small, Path(tmp))
        t_big = _slice_report(big, Path(tmp))
    row = {"benchmark": "batch", "peak_mib": None}
    return [
        {**row, "case": "one segment's report (01), 100k-response world", "seconds": t_small,
         "ratio": 1.0, "goal": "baseline", "met": None},
        {**row, "case": "one segment's report (01), 10M-response world", "seconds": t_big,
         "ratio": t_big / t_small, "goal": "<= 2x the 100k report", "met": t_big <= 2 * t_small},
        {**row, "case": "building the 10M store once (cx store), not per report",
         "seconds": build, "ratio": None, "goal": "one-off", "met": None},
    ]


def run() -> list[dict]:
    return run_reports() + run_split() + run_slices()


def _on_cluster(tmp: Path, cores: int) -> float | None:
    try:
        from distributed import LocalCluster
    except ImportError:
        return None
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster:
        return _cx_run(tmp, kernels="warm", render=True, cluster=cluster.scheduler_address)


def run_reports() -> list[dict]:
    n = len(_jobs())
    cores = os.cpu_count() or 1
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cxbench-") as tmp:
        t = Path(tmp)
        base = _papermill_cli(t)
        rendered = _cx_run(t, kernels="warm", render=True)
        html = _cx_run(t, kernels="warm", render=True, pdf=False)
        warm = _cx_run(t, kernels="warm", render=False)
        cold = _cx_run(t, kernels="cold", render=False)
        dask = _on_cluster(t, cores)
    load = f"load {load0:.1f}->{os.getloadavg()[0]:.1f}"
    row = {"benchmark": "batch", "peak_mib": None}
    share = max(0.0, rendered - warm) / rendered
    html_share = max(0.0, html - warm) / html
    rows = [
        {**row, "case": f"papermill CLI, {n} reports one after another (baseline; {load})",
         "seconds": base, "ratio": 1.0, "goal": "baseline", "met": None,
         "per_report": base / n},
        {**row, "case": f"cx run, {cores} workers, warm forked kernels, both HTML views and "
         "the brief's PDF (default)", "seconds": rendered, "ratio": base / rendered,
         "goal": f">= {GOAL:g}x faster", "met": base / rendered >= GOAL,
         "per_report": rendered / n},
        {**row, "case": f"cx run, {cores} workers, warm forked kernels, both HTML views, "
         "no PDF (pdf: false)", "seconds": html, "ratio": base / html,
         "goal": f">= {GOAL:g}x faster", "met": base / html >= GOAL, "per_report": html / n},
        {**row, "case": f"cx run, {cores} workers, warm forked kernels, no HTML",
         "seconds": warm, "ratio": base / warm, "goal": "for comparison", "met": None,
         "per_report": warm / n},
        {**row, "case": "rendering's share of the batch, HTML and PDF: (with - without) / with",
         "seconds": rendered - warm, "ratio": share, "goal": f"<= {RENDER_SHARE:.0%}",
         "met": share <= RENDER_SHARE},
        {**row, "case": "rendering's share of the batch, HTML only",
         "seconds": html - warm, "ratio": html_share, "goal": f"<= {RENDER_SHARE:.0%}",
         "met": html_share <= RENDER_SHARE},
        {**row, "case": f"cx run, {cores} workers, cold kernels (no zygote)",
         "seconds": cold, "ratio": base / cold, "goal": "for comparison", "met": None,
         "per_report": cold / n},
    ]
    if dask is not None:
        rows.append({**row, "case": f"cx run --cluster, LocalCluster of {cores} workers, warm "
                     "(zygote per worker), with HTML; ratio: per report vs local",
                     "seconds": dask, "ratio": dask / rendered,
                     "goal": f"<= {CLUSTER_RATIO:g}x local", "met":
                     dask / rendered <= CLUSTER_RATIO, "per_report": dask / n})
    return rows


def run_split() -> list[dict]:
    """The warm path's per-report time, split into its parts (one worker, jobs 2..8)."""
    from benchmarks.profile_warm_kernel import profile

    med = profile(NB, jobs=8, render=True)
    total = med["total"]
    return [{"benchmark": "batch", "case": f"warm report, part: {step}", "seconds": sec,
             "peak_mib": None, "ratio": sec / total, "goal": "share of a report",
             "met": None} for step, sec in med.items()]
