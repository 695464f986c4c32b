"""TWFE DiD with clustered errors on 20,000 units x 24 periods, and the event study,
beside pyfixest called directly in the same run (goal: within 1.5x of pyfixest).

Timing: the cxlib call and its pyfixest baseline are interleaved (A B, B A, A B, ...)
and each figure is the median of REPEAT runs, so that drift of the machine (other
processes, CPU frequency, caches) hits both alike; the event study is timed the same way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

UNITS, PERIODS = 20_000, 24
REPEAT = 9


def _panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(UNITS), PERIODS)
    t = np.tile(np.arange(PERIODS), UNITS)
    first = rng.choice([6, 12, 18, np.nan], size=UNITS, p=[0.25, 0.25, 0.25, 0.25])[unit]
    treated = (t >= first).astype(int)
    y = rng.normal(size=UNITS)[unit] + 0.1 * t + 0.5 * treated + rng.normal(size=len(t))
    return pd.DataFrame({"unit_id": unit, "t": t, "margin": y, "treated": treated,
                         "first_treated": first, "rel": t - first})


def interleaved(fns: dict[str, Callable[[], Any]], *, repeat: int = REPEAT) -> dict[str, float]:
    """Median seconds of each function, the calls alternating in order round by round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    keys = list(fns)
    for i in range(repeat):
        for k in keys if i % 2 == 0 else keys[::-1]:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def run() -> list[dict]:
    import pyfixest as pf

    from cxlib.analysis import innovation as inv

    p = _panel()
    binned = p.assign(relb=p["rel"].clip(-4, 6).fillna(-1).astype(int))
    inv.twfe(p)  # warm-up: pyfixest compiles on first use
    inv.event_study(p)
    twfe = interleaved({
        "base": lambda: pf.feols("margin ~ treated | unit_id + t", data=p,
                                 vcov={"CRV1": "unit_id"}),
        "ours": lambda: inv.twfe(p),
        "numpy": lambda: inv.twfe_numpy(p["margin"].to_numpy(), p["treated"].to_numpy(),
                                        p["unit_id"].to_numpy(), p["t"].to_numpy()),
    })
    es = interleaved({
        "base": lambda: pf.feols("margin ~ i(relb, ref=-1) | unit_id + t", data=binned,
                                 vcov={"CRV1": "unit_id"}),
        "ours": lambda: inv.event_study(p, leads=4, lags=6),
    })
    rows = [
        ("TWFE clustered, pyfixest direct (baseline)", twfe["base"], twfe["base"], None),
        ("TWFE clustered, cxlib.analysis.innovation.twfe", twfe["ours"], twfe["base"], True),
        ("TWFE clustered, closed-form numpy (simulations)", twfe["numpy"], twfe["base"], True),
        ("event study, pyfixest i(rel, ref=-1) direct (baseline)", es["base"], es["base"], None),
        ("event study + pre-trend Wald + w'Vw ATT, cxlib", es["ours"], es["base"], True),
    ]
    return [{"benchmark": "innovation",
             "case": f"{c} ({UNITS:,}x{PERIODS}, median of {REPEAT}, interleaved)",
             "seconds": s, "ratio": s / b,
             "goal": "<= 1.5x pyfixest" if goal else "baseline",
             "met": (s / b <= 1.5) if goal else None} for c, s, b, goal in rows]
