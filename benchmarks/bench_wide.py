"""Wide export -> long responses: ``cxlib.data.wide.wide_to_long`` against a plain pandas melt.

The export: 300,000 respondents, 14 touchpoint columns answered with labels
("Very poor".."Excellent", "Did not use") and a few stray texts, no id column
(row-number ids). The baseline is what an analyst would write by hand: melt,
map labels to scores, drop the rest (no accounting, no checks). cxlib also
classifies and counts every dropped value by reason, with examples, and checks
scales. Goal: at most 3x the hand-written melt.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from benchmarks.harness import timed

N_ROWS = 300_000
N_COLS = 14
LABELS = {"Very poor": 1, "Poor": 2, "Fair": 3, "Good": 4, "Excellent": 5}
GOAL = 3.0


def _export() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    opts = np.array([*LABELS, "Did not use", "five"], dtype=object)
    p = np.array([0.1, 0.15, 0.25, 0.3, 0.15, 0.0499, 0.0001])
    return pd.DataFrame({f"Q{i}": rng.choice(opts, N_ROWS, p=p) for i in range(N_COLS)})


def run() -> list[dict]:
    from cxlib.data.wide import wide_to_long

    wide = _export()
    mapping = {"respondent_id": {"row_number": True}, "date": "2024-01-01",
               "not_applicable": ["Did not use"], "values": LABELS,
               "touchpoints": {f"Q{i}": {"id": f"tp{i}", "metric": "csat", "scale": [1, 5]}
                               for i in range(N_COLS)}}

    def baseline() -> pd.DataFrame:
        w = wide.assign(response_id=np.arange(len(wide)).astype(str))
        long = w.melt(id_vars="response_id", var_name="touchpoint_id", value_name="answer")
        long["score"] = long["answer"].map(LABELS)
        return long.dropna(subset=["score"])

    def ours() -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stray 'five' answers are announced
            return wide_to_long(wide, mapping)

    base, ref = timed(baseline)
    secs, got = timed(ours)
    assert len(got) == len(ref)  # the same answers are kept
    common = {"benchmark": "wide", "peak_mib": None}
    return [
        {**common, "case": f"pandas melt + map, {N_ROWS:,} x {N_COLS} labelled",
         "seconds": base, "ratio": 1.0, "goal": "baseline", "met": None},
        {**common, "case": "wide_to_long with drop accounting, row-number ids",
         "seconds": secs, "ratio": secs / base, "goal": f"<= {GOAL}x melt",
         "met": secs <= GOAL * base},
    ]
