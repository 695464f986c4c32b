"""report_moves: a report's segment and period tests form one Benjamini-Hochberg family."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from cxlib.analysis import compare
from cxlib.data import datasets


def test_one_family_over_segments_and_periods(sample_dir) -> None:
    responses = datasets.load(sample_dir).responses
    moves = compare.report_moves(responses, metric="csat", period="half",
                                 segment_column="segment", min_base=30)
    assert moves.segments is not None and moves.periods is not None
    # reference: statsmodels' BH over the p-values of both tables together
    seg = compare.compare_segments(responses, segment_column="segment", metric="csat",
                                   statistics=("mean", "top2"), min_base=30, adjust=False)
    per = compare.compare_periods(responses, period="half", metric="csat", by="segment",
                                  min_base=30, adjust=False)
    p = np.concatenate([seg["p_value"].to_numpy(float), per["p_value"].to_numpy(float)])
    ok = ~np.isnan(p)
    q = np.full(len(p), np.nan)
    q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    got = np.concatenate([moves.segments["q_value"].to_numpy(float),
                          moves.periods["q_value"].to_numpy(float)])
    np.testing.assert_allclose(got, q, rtol=1e-12)
    n_sig = int((got < 0.05).sum())
    assert len(moves.significant) == n_sig > 0
    assert moves.significant["delta"].abs().is_monotonic_decreasing
    # the planted drop (truth.json: website, segment mass, 2025H2) is among them, as "down"
    planted = next(m for m in datasets.load(sample_dir).truth["planted_moves"]
                   if m["segment_column"] == "segment")
    sig = moves.significant
    hit = sig[(sig["touchpoint_id"] == planted["touchpoint_id"])
              & (sig["segment"] == planted["segment"]) & (sig["period"] == planted["period"])]
    assert len(hit) == 1 and hit["direction"].iloc[0] == ("down" if planted["delta"] < 0
                                                          else "up")


def test_one_period_and_no_segments(sample_dir) -> None:
    responses = datasets.load(sample_dir).responses
    first = responses["date"].min()
    one = responses[responses["date"] < first + pd.Timedelta(days=20)]
    moves = compare.report_moves(one, metric="csat", period="year", segment_column=None)
    assert moves.segments is None and moves.periods is None
    assert moves.significant.empty
