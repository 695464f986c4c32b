"""40 small reports: ``cx run`` against the papermill CLI run one after another.

The cost of a small report is kernel start and imports, not analysis. The
baseline runs ``papermill`` (the CLI) 40 times in a row, as a cron script
would; ``cx run`` runs the same 40 jobs with one worker per core, each report
in a fresh kernel process forked from a pre-imported zygote. Both execute the
notebook only; a further row adds the HTML rendering that ``cx run`` also does
by default, and one shows cold (non-forked) kernels for comparison.
Goal (issue #6): at least 5x faster than the baseline.

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

GOAL = 5.0
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


def _cx_run(tmp: Path, *, kernels: str, render: bool) -> float:
    batch = tmp / f"bench-{kernels}-{int(render)}.yml"
    batch.write_text(yaml.safe_dump({
        "name": batch.stem, "kernels": kernels, "render": render, "retries": 0,
        "jobs": [{"notebook": str(NB), "rows": _jobs()}]}), encoding="utf-8")
    env = {**os.environ, "CX_REPORTS_DIR": str(tmp / "reports")}
    exe = Path(sys.executable).with_name("cx")
    t0 = time.perf_counter()
    out = subprocess.run([str(exe), "run", str(batch), "--no-progress"], env=env,
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
    return run_reports() + run_slices()


def run_reports() -> list[dict]:
    n = len(_jobs())
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="cxbench-") as tmp:
        t = Path(tmp)
        base = _papermill_cli(t)
        warm = _cx_run(t, kernels="warm", render=False)
        cold = _cx_run(t, kernels="cold", render=False)
        rendered = _cx_run(t, kernels="warm", render=True)
    row = {"benchmark": "batch", "peak_mib": None}
    return [
        {**row, "case": f"papermill CLI, {n} reports one after another (baseline)",
         "seconds": base, "ratio": 1.0, "goal": "baseline", "met": None,
         "per_report": base / n},
        {**row, "case": f"cx run, {cores} workers, warm forked kernels",
         "seconds": warm, "ratio": base / warm, "goal": f">= {GOAL:g}x faster",
         "met": base / warm >= GOAL, "per_report": warm / n},
        {**row, "case": f"cx run, {cores} workers, cold kernels (no zygote)",
         "seconds": cold, "ratio": base / cold, "goal": "for comparison", "met": None,
         "per_report": cold / n},
        {**row, "case": f"cx run, {cores} workers, warm, + managers'/analysts' HTML",
         "seconds": rendered, "ratio": base / rendered, "goal": "for comparison", "met": None,
         "per_report": rendered / n},
    ]
