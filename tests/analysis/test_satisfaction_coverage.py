"""Intervals against the planted truth over 200 simulated surveys of one world.

Each survey (400 respondents) is an independent sample of the same synthetic
world (``synth.simulate_survey``), whose truth holds the exact population
values: touchpoint CSAT means, CES means, the overall mean, the promoter share
and the NPS. A 95% interval should cover the truth about 95% of the time, not
much less (too narrow) and not much more (too wide), and the standard error it
implies should match the spread of the estimates across surveys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib.analysis import satisfaction
from cxlib.data import synth

N_SURVEYS, N_RESP = 200, 400


@pytest.fixture(scope="module")
def surveys():
    frames, truth = [], None
    for seed in range(N_SURVEYS):
        df, truth = synth.simulate_survey(N_RESP, seed=seed)
        frames.append(df.assign(survey=seed, response_id=df["response_id"] + f"_{seed}"))
    return pd.concat(frames, ignore_index=True), truth


def _check(s: pd.DataFrame, truth: pd.Series, lo_cov: float, hi_cov: float, *,
           z_or_t: str = "t", width_tol: float = 0.12) -> None:
    covered = (s["ci_low"] <= truth) & (truth <= s["ci_high"])
    cov = covered.mean()
    assert lo_cov <= cov <= hi_cov, f"coverage {cov:.3f} outside [{lo_cov}, {hi_cov}]"
    # width: the SE implied by each interval vs the spread of estimates across surveys
    q = (stats.t.ppf(0.975, s["n_eff"] - 1) if z_or_t == "t"
         else np.full(len(s), stats.norm.ppf(0.975)))
    se = (s["ci_high"] - s["ci_low"]) / (2 * q)
    by_unit = s.assign(se=se).groupby("unit").agg(sd=("estimate", "std"), se=("se", "mean"))
    ratio = float((by_unit["sd"] / by_unit["se"]).median())
    assert abs(ratio - 1) <= width_tol, f"spread/SE ratio {ratio:.3f}"


def test_touchpoint_means_t_interval(surveys):
    df, truth = surveys
    s = satisfaction.summarize(df, by="survey", statistics=["mean"])
    s = s[s["unit"].isin(truth["touchpoint_means"])]
    assert len(s) > N_SURVEYS * 40
    # ~9,000 intervals: Monte Carlo sd of the coverage is 0.2 points
    _check(s, s["unit"].map(truth["touchpoint_means"]), 0.935, 0.965)


def test_ces_means_t_interval(surveys):
    df, truth = surveys
    s = satisfaction.summarize(df, metric="ces", by="survey", statistics=["mean"])
    assert len(s) == N_SURVEYS * len(truth["ces_means"])
    _check(s, s["unit"].map(truth["ces_means"]), 0.92, 0.98)


def test_overall_mean_t_interval(surveys):
    df, truth = surveys
    s = satisfaction.summarize(df, metric="overall", by="survey", statistics=["mean"])
    _check(s, pd.Series(truth["overall_mean"], index=s.index), 0.91, 0.985)


def test_promoter_share_wilson_and_nps_adjusted_wald(surveys):
    # on the 0-10 scale the top-2 box is 9-10: the promoter share, whose truth is planted
    df, truth = surveys
    s = satisfaction.summarize(df, metric="nps", by="survey", statistics=["top2", "nps"])
    top2 = s[s["statistic"] == "top2"]
    assert (top2["interval"] == "Wilson").all()
    _check(top2, pd.Series(truth["nps"]["promoters"], index=top2.index), 0.91, 0.985,
           z_or_t="z", width_tol=0.15)
    nps = s[s["statistic"] == "nps"]
    _check(nps, pd.Series(truth["nps"]["nps"], index=nps.index), 0.91, 0.985, z_or_t="z",
           width_tol=0.15)
