"""Contact dose-response with a 200-resample bootstrap: 1 million customers x 24 months
of contacts against the same on 100 thousand (issue 13).

Goals: the large case takes at most 12x the small one (near-linear) and its peak memory
stays at or below 2 GiB.

What is timed (each case in a fresh process, :func:`benchmarks.harness.in_subprocess`):
reading customers and responses (Parquet, written once to ``data/bench/care_<n>/`` by
:func:`cxlib.data.synth.care.simulate_care`), :func:`customer_rates` given the contacts'
Parquet path (DuckDB counts contacts per customer, direction and channel while reading:
the 41 million contact rows of the large case never sit in memory),
:func:`dose_response` on the proactive rate per segment (satisfaction,
retention, inbound contacts; 200 resamples, every outcome refitted on each) and
:func:`money`. Peak memory is the child process's high-water mark, reading included.

``CX_BENCH_CONTACTS_SIZES=20000,200000`` runs other sizes (same 10x ratio) on a busy
machine.
"""

from __future__ import annotations

import os
from pathlib import Path

N_BOOT = 200
GOAL_RATIO = 12.0
GOAL_MIB = 2048.0


def _sizes() -> tuple[int, int]:
    raw = os.environ.get("CX_BENCH_CONTACTS_SIZES", "100000,1000000")
    small, large = (int(x) for x in raw.split(","))
    return small, large


def ensure_data(n: int, seed: int = 7) -> Path:
    """``data/bench/care_<n>/`` with contacts.parquet and customers.parquet (once)."""
    from cxlib import config
    from cxlib.data.synth.care import simulate_care

    out = config.DATA_DIR / "bench" / f"care_{n}_{seed}"
    if (out / "done").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    tabs, _ = simulate_care(n, seed=seed, tables=("contacts", "customers", "responses"),
                            contact_ids=False)
    for name, df in tabs.items():
        df.to_parquet(out / f"{name}.parquet", index=False, compression="zstd")
    (out / "done").write_text("ok\n")
    return out


SETUP = """
import warnings
warnings.simplefilter("ignore")
import pandas as pd
from cxlib.analysis import contacts as ct
from cxlib.analysis import contact_money as cm
"""

BODY = """
customers = pd.read_parquet(r"{folder}/customers.parquet")
responses = pd.read_parquet(r"{folder}/responses.parquet",
                            columns=["customer_id", "date", "touchpoint_id", "metric", "score"])
rates = ct.customer_rates(r"{folder}/contacts.parquet", customers, responses=responses)
dr = ct.dose_response(rates, outcomes={{"overall": "gaussian", "retained": "binomial",
                                       "inbound_per_month": "poisson"}},
                      n_boot={n_boot}, seed=1)
m = cm.money(dr, costs="phone:1.2, email:0.1, sms:0.05, visit:12, messenger:0.6, branch:4",
             value_retained={{"mass": 300, "affluent": 800, "business": 2000}},
             value_per_point=25.0)
assert len(rates) == {n}
"""


def run() -> list[dict]:
    from benchmarks.harness import in_subprocess

    small, large = _sizes()
    rows = []
    figures = {}
    for n in (small, large):
        folder = ensure_data(n)
        res = in_subprocess(SETUP, BODY.format(folder=folder, n_boot=N_BOOT, n=n), repeat=1)
        figures[n] = res
    ratio = figures[large]["seconds"] / figures[small]["seconds"]
    rows.append({"benchmark": "contacts",
                 "case": f"dose-response + money, {small:,} customers x 24 months, "
                         f"{N_BOOT} resamples (baseline)",
                 "seconds": figures[small]["seconds"], "peak_mib": figures[small]["peak_mib"],
                 "ratio": 1.0, "goal": "baseline", "met": None})
    rows.append({"benchmark": "contacts",
                 "case": f"dose-response + money, {large:,} customers x 24 months, "
                         f"{N_BOOT} resamples",
                 "seconds": figures[large]["seconds"], "peak_mib": figures[large]["peak_mib"],
                 "ratio": ratio,
                 "goal": f"<= {GOAL_RATIO:g}x the {small:,} case, peak <= 2 GiB",
                 "met": bool(ratio <= GOAL_RATIO and figures[large]["peak_mib"] <= GOAL_MIB)})
    return rows
