"""Synthetic world generation: time and peak memory at 1M and 10M response rows.

``python -m benchmarks synth``.  Each case runs ``cxlib.data.synth.generate`` in a
fresh process (``harness.in_subprocess``) into a temporary folder.  The
baseline is the 1M-row case of the same run; the 10M case's ratio is its time
over ten times the baseline (1.0 = linear scaling).

Other benchmarks get the shared 10M world with :func:`ensure_bench_world`
(re-exported from :mod:`cxlib.data.synth`): generated once into
``data/bench/world_<size>_<seed>``, guarded by a lock file.
"""

from __future__ import annotations

from benchmarks.harness import in_subprocess
from cxlib.data.synth import SIZES, ensure_bench_world

__all__ = ["ensure_bench_world", "run"]

SETUP = """
import json, shutil, tempfile
from pathlib import Path
from cxlib.data import synth
tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
"""
BODY = """
out = synth.generate(tmp / "w", size={size}, seed=7)
rows = json.loads((out / "truth.json").read_text())["n_response_rows"]
shutil.rmtree(tmp)
"""

#: Goals: a 10M-row world in under 2 minutes within 4 GiB; 1M rows at >= 100k rows/s.
GOAL_1M_ROWS_PER_S = 100_000
GOAL_10M_SECONDS = 120.0
GOAL_10M_PEAK_MIB = 4096.0


def run() -> list[dict]:
    rows: list[dict] = []
    base = in_subprocess(SETUP, BODY.format(size=SIZES["medium"]), repeat=3)
    rps = SIZES["medium"] / base["seconds"]
    rows.append({"benchmark": "synth", "case": "generate 1M response rows",
                 "seconds": base["seconds"], "peak_mib": base["peak_mib"], "ratio": 1.0,
                 "goal": f">= {GOAL_1M_ROWS_PER_S:,} rows/s", "met": rps >= GOAL_1M_ROWS_PER_S,
                 "rows_per_s": round(rps)})
    big = in_subprocess(SETUP, BODY.format(size=SIZES["large"]), repeat=1)
    rps10 = SIZES["large"] / big["seconds"]
    rows.append({"benchmark": "synth", "case": "generate 10M response rows (chunked)",
                 "seconds": big["seconds"], "peak_mib": big["peak_mib"],
                 "ratio": big["seconds"] / (10 * base["seconds"]),
                 "goal": f"< {GOAL_10M_SECONDS:.0f} s and < {GOAL_10M_PEAK_MIB:.0f} MiB",
                 "met": big["seconds"] < GOAL_10M_SECONDS and big["peak_mib"] < GOAL_10M_PEAK_MIB,
                 "rows_per_s": round(rps10)})
    for r in rows:
        print(f"{r['case']}: {r['seconds']:.1f} s, {r['peak_mib']:.0f} MiB peak, "
              f"{r['rows_per_s']:,} rows/s")
    return rows
