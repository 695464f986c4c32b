"""Satisfaction at scale: 10 million responses, and one segment's report.

Row 1-2 (issue #3): touchpoint × segment summary (n, mean, top-2-box) of the
CSAT answers and the NPS (metric ``nps``) per segment, over the 10-million-row
world. Baseline: plain pandas ``read_csv`` + ``groupby`` on the same rows,
measured in the same run; ours: :func:`cxlib.analysis.satisfaction.summarize` on a DuckDB
relation over a Parquet store partitioned by segment and sorted by metric,
then respondent, within each partition: row-group statistics let DuckDB skip
the rows of other metrics, and a respondent's answers sit together, which
makes the per-respondent roll-ups of the slice rows about 2x faster than a
touchpoint order (measured while writing this; a touchpoint order makes the
touchpoint-level summary of rows 1-2 about 1.5x faster instead). Each case
runs in a fresh process (its peak memory is its own); the two outputs are
compared (n exactly, means, top-2 and NPS to 1e-9).
Goal: at least 20x faster than the baseline, peak memory <= 0.5 GiB.

Row 3-4 (data slices): the analysis notebook 01 runs (the same cxlib calls,
no drawing) on one segment of the 10M world, read with
``read_parquet(..., hive_partitioning=true) WHERE segment = ?``, against the
same on a 100k-row world (``cx synth --size 100000``). Goal: at most 2x.

The worlds live under ``data/bench/`` and their stores are built once by
:func:`cxlib.data.store.ensure_store` under ``data/processed/store/``; the first
run also generates the worlds (~35 s for 10M rows).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import in_subprocess

GOAL_RATIO, GOAL_MIB, GOAL_SLICE = 20.0, 512, 2.0
SEGMENT = "mass"  # the largest segment (60% of the answers)
THREADS = os.cpu_count() or 1
MEMORY_LIMIT = "256MB"

#: DuckDB connection over a store (setup code of the child processes)
CONNECT = """
import os, duckdb
con = duckdb.connect(config={{"threads": {threads}, "memory_limit": "{mem}"}})
rel = con.read_parquet({glob!r}, hive_partitioning=True)
"""

#: the calls of notebooks/01_touchpoint_satisfaction.ipynb for one segment, without figures
NOTEBOOK_01 = """
import pandas as pd
from cxlib.analysis import compare, satisfaction as mt
from cxlib.data.catalog import load_catalog
cat = load_catalog("retail")
responses = rel.filter("segment = '{segment}'")
metric, period, min_base = "csat", "half", 30
segment_column = mt.resolve_column(responses, "segment")
has_segments = len(mt.distinct_values(responses, segment_column)) > 1
chain = compare.weakest_links(responses, cat, metric=metric, min_base=min_base)
summary = mt.summarize(responses, metric=metric, catalog=cat, min_base=min_base)
rollups = pd.concat([mt.summarize(responses, metric=metric, level=lvl, catalog=cat,
                                  statistics=["mean"], min_base=min_base)
                     for lvl in ("parent", "journey")])
nps = None
if "nps" in mt.distinct_values(responses, "metric"):
    nps = mt.summarize(responses, metric="nps", statistics=["nps"], min_base=min_base)
by_segment = None
if has_segments:
    by_segment = mt.summarize(responses, metric=metric, by=segment_column, catalog=cat,
                              min_base=min_base)
trend = mt.summarize(responses, metric=metric, level="stage" if len(chain) else "touchpoint",
                     catalog=cat, period=period, statistics=["mean"], min_base=min_base)
moves = compare.report_moves(responses, metric=metric, period=period, min_base=min_base,
                             segment_column=segment_column if has_segments else None)
blind = mt.blind_spots(pd.concat([summary, rollups[rollups["level"] == "parent"]]), cat,
                       min_base=min_base)
"""


def _store(world: Path) -> str:
    """Glob of the world's responses in the partitioned store (cxlib.data.store: by segment,
    sorted by metric then respondent; validated and built once)."""
    from cxlib.data import store

    return str(store.ensure_store(world, "segment") / "responses" / "**" / "*.parquet")


def _csv(world: Path) -> Path:
    import duckdb

    csv = world.parent / f"{world.name}_responses.csv"
    if not csv.exists():
        parts = world / "responses"
        src = str(parts / "*.parquet") if parts.is_dir() else str(world / "responses.parquet")
        tmp = csv.with_suffix(".csv.tmp")
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{src}')) TO '{tmp}' (HEADER)")
        tmp.rename(csv)
    return csv


def _summary_rows(big: Path, tmp: Path) -> list[dict]:
    glob, csv = _store(big), _csv(big)
    base_out, our_out = tmp / "base.pkl", tmp / "ours.pkl"
    base = in_subprocess(
        "import pandas as pd",
        f"""
df = pd.read_csv({str(csv)!r}, usecols=["touchpoint_id", "segment", "metric", "score",
                                      "scale_max"])
c = df[df["metric"] == "csat"]
cells = c.assign(top2=c["score"] >= c["scale_max"] - 1).groupby(
    ["touchpoint_id", "segment"]).agg(n=("score", "size"), mean=("score", "mean"),
                                      top2=("top2", "mean"))
p = df[df["metric"] == "nps"]
nps = p.assign(pro=p["score"] >= 9, det=p["score"] <= 6).groupby("segment").agg(
    n=("score", "size"), mean=("score", "mean"), pro=("pro", "mean"), det=("det", "mean"))
nps["nps"] = 100 * (nps["pro"] - nps["det"])
pd.to_pickle((cells, nps), {str(base_out)!r})
""", repeat=1)
    ours = in_subprocess(
        CONNECT.format(threads=THREADS, mem=MEMORY_LIMIT, glob=glob)
        + "import pandas as pd\nfrom cxlib.analysis.satisfaction import summarize",
        f"""
cells = summarize(rel, metric="csat", by="segment", statistics=["mean", "top2"])
nps = summarize(rel, metric="nps", by="segment", statistics=["mean", "nps"])
pd.to_pickle((cells, nps), {str(our_out)!r})
""", repeat=3)
    agree = _agree(pd.read_pickle(base_out), pd.read_pickle(our_out))
    ratio = base["seconds"] / ours["seconds"]
    return [
        {"benchmark": "satisfaction", "case": "pandas read_csv + groupby, 10M rows (baseline)",
         **base, "ratio": 1.0, "goal": "baseline", "met": None},
        {"benchmark": "satisfaction",
         "case": f"cxlib summarize on DuckDB/Parquet ({THREADS} threads, {MEMORY_LIMIT}), "
                 f"10M rows; agrees with baseline: {agree}",
         **ours, "ratio": ratio, "goal": f">= {GOAL_RATIO:.0f}x faster, <= {GOAL_MIB} MiB",
         "met": bool(agree and ratio >= GOAL_RATIO and ours["peak_mib"] <= GOAL_MIB)},
    ]


def _agree(base: tuple, ours: tuple) -> bool:
    """n equal and means (and top-2, NPS) equal to 1e-9 between the two outputs."""
    b_cells, b_nps = base
    o_cells, o_nps = ours
    o = o_cells.pivot_table(index=["unit", "segment"], columns="statistic",
                            values="estimate")
    o["n"] = o_cells.drop_duplicates(["unit", "segment"]).set_index(["unit", "segment"])["n"]
    b = b_cells.rename_axis(["unit", "segment"]).reindex(o.index)
    np_ = o_nps.pivot_table(index="segment", columns="statistic", values="estimate")
    np_["n"] = o_nps.drop_duplicates("segment").set_index("segment")["n"]
    bn = b_nps.reindex(np_.index)
    checks = [
        len(o) == len(b_cells), (o["n"] == b["n"]).all(),
        np.allclose(o["mean"], b["mean"], rtol=1e-9, atol=1e-9),
        np.allclose(o["top2"], b["top2"], rtol=1e-9, atol=1e-9),
        (np_["n"] == bn["n"]).all(), np.allclose(np_["mean"], bn["mean"], rtol=1e-9),
        np.allclose(np_["nps"], bn["nps"], rtol=1e-9, atol=1e-9),
    ]
    if not all(checks):
        raise AssertionError(f"cxlib and the pandas baseline disagree: checks {checks}")
    return True


def _slice_rows(big: Path, small: Path) -> list[dict]:
    rows, secs = [], {}
    for label, world in (("100k-row world", small), ("10M-row world", big)):
        glob = _store(world)
        r = in_subprocess(CONNECT.format(threads=THREADS, mem=MEMORY_LIMIT, glob=glob),
                          NOTEBOOK_01.format(segment=SEGMENT), repeat=3)
        secs[label] = r["seconds"]
        rows.append({"benchmark": "satisfaction",
                     "case": f"notebook 01 analysis, segment {SEGMENT!r} of the {label}", **r})
    ratio = secs["10M-row world"] / secs["100k-row world"]
    rows[0].update(ratio=1.0, goal="baseline", met=None)
    rows[1].update(ratio=ratio, goal=f"<= {GOAL_SLICE:.0f}x the 100k world's time",
                   met=bool(ratio <= GOAL_SLICE))
    return rows


def run() -> list[dict]:
    from cxlib.data.synth import ensure_bench_world

    big = ensure_bench_world("large", seed=7)
    small = ensure_bench_world(100_000, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        rows = _summary_rows(big, Path(tmp))
    rows += _slice_rows(big, small)
    print(json.dumps({r["case"]: round(r["seconds"], 3) for r in rows}, indent=1))
    return rows
