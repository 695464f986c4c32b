"""Touchpoint x segment summary (n, mean, top-2-box, NPS) of 10 million responses.

Baseline: plain pandas reading the same rows from CSV and grouping, measured in
the same run, each case in a fresh process (peak memory is its own).
Goal (issue #3): at least 20x faster than the baseline, peak memory <= 0.5 GiB.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import in_subprocess

GOAL_RATIO, GOAL_MIB = 20.0, 512


def _inputs() -> tuple[Path, Path]:
    import duckdb

    from cxlib.synth import ensure_bench_world

    world = ensure_bench_world("large", seed=7)
    parts = world / "responses"
    glob = str(parts / "*.parquet") if parts.is_dir() else str(world / "responses.parquet")
    csv = world.parent / f"{world.name}_responses.csv"
    if not csv.exists():
        tmp = csv.with_suffix(".csv.tmp")
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{glob}')) TO '{tmp}' (HEADER)")
        tmp.rename(csv)
    return Path(glob), csv


def run() -> list[dict]:
    glob, csv = _inputs()
    base = in_subprocess(
        "import pandas as pd",
        f"""
df = pd.read_csv({str(csv)!r}, usecols=["touchpoint_id", "segment", "metric", "score",
                                      "scale_max"])
df = df[df["metric"] == "csat"]
g = df.assign(top2=df["score"] >= df["scale_max"] - 1,
              pro=df["score"] >= 9, det=df["score"] <= 6).groupby(["touchpoint_id", "segment"])
out = g.agg(n=("score", "size"), mean=("score", "mean"), top2=("top2", "mean"),
            pro=("pro", "mean"), det=("det", "mean"))
""", repeat=1)
    ours = in_subprocess(
        "from cxlib.metrics import summary_duckdb",
        f"out = summary_duckdb({str(glob)!r}, by=['touchpoint_id', 'segment'])", repeat=3)
    ratio = base["seconds"] / ours["seconds"]
    return [
        {"benchmark": "satisfaction", "case": "pandas read_csv + groupby, 10M rows (baseline)",
         **base, "ratio": 1.0, "goal": "baseline", "met": None},
        {"benchmark": "satisfaction", "case": "cxlib summary_duckdb over Parquet, 10M rows",
         **ours, "ratio": ratio, "goal": f">= {GOAL_RATIO:.0f}x faster, <= {GOAL_MIB} MiB",
         "met": ratio >= GOAL_RATIO and ours["peak_mib"] <= GOAL_MIB},
    ]
