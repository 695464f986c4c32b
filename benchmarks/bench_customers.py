"""Customer 360 lookups and profitability at a million customers.

``python -m benchmarks customers`` (``CX_BENCH_CUSTOMERS=200000`` for a smaller
run on a busy machine; the 100k case always runs).

1. **One customer's profile** among ``N`` customers (about 20 rows per
   customer: 8 orders, 8 contacts, 4 survey answers, plus a payment per order)
   with :class:`cxlib.data.profiles.ProfileStore` (sorted Parquet, row-group
   index), beside a full pandas scan of the same tables held in memory
   (``df[df.customer_id == id]`` per table) in the same run. Goals: >= 50x
   faster than the scan, and at most 2x the time of the same lookup among
   100 thousand customers.
2. **Profitability and the purchase model** for all ``N`` customers
   (:func:`cxlib.analysis.profitability.customer_profit`,
   :func:`cxlib.analysis.clv.rfm_summary`, :func:`~cxlib.analysis.clv.fit_bgnbd`
   and :func:`~cxlib.analysis.clv.customer_value`) in a fresh process: time and
   peak memory (goal <= 4 GiB).

The tables are drawn directly with numpy (the columns the functions read), so
the benchmark does not need a 60-million-row synthetic world.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import in_subprocess

__all__ = ["make_tables", "run"]

GOAL_SPEEDUP = 50.0
GOAL_SCALING = 2.0
GOAL_PEAK_MIB = 4096.0
PER_CUSTOMER = {"orders": 8, "contacts": 8, "responses": 4}
LOOKUPS = 50


def make_tables(folder: Path, n_customers: int, seed: int = 0) -> Path:
    """Write customers, orders, contacts, payments, responses Parquet files for the bench."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.char.add("C", np.char.zfill(np.arange(1, n_customers + 1).astype(str), 8))
    start = np.datetime64("2024-01-01", "D")
    pq.write_table(pa.table({
        "customer_id": ids, "segment": rng.choice(["mass", "affluent", "business"], n_customers),
        "region": rng.choice(["Baku", "Istanbul"], n_customers),
        "name": np.char.add("Name ", np.arange(n_customers).astype(str)),
    }), folder / "customers.parquet")
    for table, k in PER_CUSTOMER.items():
        n = n_customers * k
        cust = rng.integers(0, n_customers, n)
        days = rng.integers(0, 730, n)
        cols = {f"{table[:-1]}_id": np.arange(n), "customer_id": ids[cust],
                "date": (start + days.astype("timedelta64[D]")).astype("datetime64[ns]")}
        if table == "orders":
            margin = np.round(rng.normal(60, 40, n), 2)
            cost = np.round(np.abs(margin) * 2 + 5, 2)
            cols.update(revenue=np.round(margin + cost, 2), cost=cost,
                        margin=np.round(margin + cost, 2) - cost,
                        delivery_cost=np.where(rng.random(n) < 0.1, 15.0, 6.0),
                        returned=rng.random(n) < 0.05,
                        channel=rng.choice(["store", "online", "phone"], n))
            cols["return_cost"] = np.where(cols["returned"], 45.0, 0.0)
            pq.write_table(pa.table({"payment_id": np.arange(n), "order_id": np.arange(n),
                                     "customer_id": ids[cust], "amount": cols["revenue"]}),
                           folder / "payments.parquet")
        elif table == "contacts":
            cols.update(channel=rng.choice(["phone", "email", "sms", "branch"], n),
                        direction=rng.choice(["inbound", "proactive"], n))
        else:
            cols.update(touchpoint_id=np.full(n, "store"), metric=np.full(n, "csat"),
                        score=rng.integers(1, 6, n).astype(float))
        pq.write_table(pa.table(cols), folder / f"{table}.parquet", row_group_size=1_000_000)
    return folder


def _open(folder: Path) -> tuple[object, float]:
    from cxlib.data.profiles import ProfileStore, build

    t0 = time.perf_counter()
    store = ProfileStore.load(build(folder, out=folder / "profiles"))
    return store, time.perf_counter() - t0


def _lookups(stores: dict[str, tuple[object, int]]) -> dict[str, float]:
    """Median seconds of one lookup per store, the stores alternating round by round
    (drift of the shared machine hits both alike)."""
    rng = np.random.default_rng(1)
    ids = {k: [f"C{i:08d}" for i in rng.integers(1, n + 1, LOOKUPS)]
           for k, (_, n) in stores.items()}
    for k, (store, _) in stores.items():
        store.lookup(ids[k][0])  # warm the index
    times: dict[str, list[float]] = {k: [] for k in stores}
    for i in range(LOOKUPS):
        for k, (store, _) in stores.items():
            t0 = time.perf_counter()
            store.lookup(ids[k][i])
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _scan(folder: Path, n_customers: int) -> float:
    """Median seconds of a full pandas scan of every table (held in memory) for one id."""
    import pandas as pd

    frames = {t: pd.read_parquet(folder / f"{t}.parquet")
              for t in ("customers", *PER_CUSTOMER, "payments")}
    rng = np.random.default_rng(2)
    scans = []
    for i in rng.integers(1, n_customers + 1, 5):
        cid = f"C{i:08d}"
        t0 = time.perf_counter()
        for df in frames.values():
            df[df["customer_id"] == cid]
        scans.append(time.perf_counter() - t0)
    return statistics.median(scans)


PROFIT_SETUP = """
import pandas as pd
from pathlib import Path
from cxlib.analysis import clv, profitability as pf
folder = Path({folder!r})
"""
PROFIT_BODY = """
orders = pd.read_parquet(folder / "orders.parquet")
contacts = pd.read_parquet(folder / "contacts.parquet", columns=["customer_id", "channel"])
customers = pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "segment"])
profit = pf.customer_profit(orders, contacts, customers)
seg = pf.segment_profit(profit)
summary = clv.rfm_summary(orders, value="margin")
fit = clv.fit_bgnbd(summary)
value = clv.customer_value(summary, fit, horizon_weeks=52)
groups = pf.value_groups(profit, value)
"""


def run() -> list[dict]:
    n_big = int(os.environ.get("CX_BENCH_CUSTOMERS", "1000000"))
    n_small = 100_000
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_customers_"))
    try:
        small_store, _ = _open(make_tables(tmp / "small", n_small))
        big_folder = make_tables(tmp / "big", n_big)
        big_store, build_s = _open(big_folder)
        look = _lookups({"small": (small_store, n_small), "big": (big_store, n_big)})
        scan = _scan(big_folder, n_big)
        big = {"lookup": look["big"], "scan": scan, "build": build_s}
        small = {"lookup": look["small"]}
        speedup = big["scan"] / big["lookup"]
        scaling = big["lookup"] / small["lookup"]
        n_rows = n_big * (sum(PER_CUSTOMER.values()) + PER_CUSTOMER["orders"] + 1)
        rows.append({"benchmark": "customers", "case": f"profile lookup, {n_big:,} customers "
                     f"({n_rows / 1e6:.0f}M rows) vs pandas scan",
                     "seconds": big["lookup"], "ratio": speedup,
                     "goal": f">= {GOAL_SPEEDUP:.0f}x faster", "met": speedup >= GOAL_SPEEDUP,
                     "scan_seconds": big["scan"], "build_seconds": big["build"]})
        rows.append({"benchmark": "customers", "case": f"profile lookup, {n_big:,} vs "
                     f"{n_small:,} customers", "seconds": big["lookup"], "ratio": scaling,
                     "goal": f"<= {GOAL_SCALING:.0f}x the 100k lookup",
                     "met": scaling <= GOAL_SCALING, "small_seconds": small["lookup"]})
        prof = in_subprocess(PROFIT_SETUP.format(folder=str(big_folder)), PROFIT_BODY, repeat=1)
        rows.append({"benchmark": "customers", "case": f"profitability + BG/NBD, {n_big:,} "
                     "customers", "seconds": prof["seconds"], "peak_mib": prof["peak_mib"],
                     "ratio": prof["peak_mib"] / GOAL_PEAK_MIB,
                     "goal": f"<= {GOAL_PEAK_MIB:.0f} MiB",
                     "met": prof["peak_mib"] <= GOAL_PEAK_MIB})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in rows:
        print(f"{r['case']}: {r['seconds']:.4f} s, ratio {r['ratio']:.3g} ({r['goal']})")
    return rows
