"""Issue 12, "fail safe": regression tests that kill mutations the older tests let through.

Each test names the mutation it guards against; every reference is independent
(a formula worked by hand with numpy, or scipy/statsmodels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib.analysis import compare, coverage, satisfaction
from cxlib.analysis import stats as cxstats


def long_frame(scores, tp="store", metric="csat", smin=1, smax=5, **cols):
    n = len(scores)
    return pd.DataFrame({"response_id": [f"R{i}" for i in range(n)], "customer_id": "C",
                         "date": pd.Timestamp("2025-01-15"), "touchpoint_id": tp,
                         "metric": metric, "score": np.asarray(scores, float),
                         "scale_min": smin, "scale_max": smax, **cols})


# ------------------------------------------------- NPS comparison, unequal groups
def test_nps_comparison_standard_error_with_unequal_groups():
    # mutation killed: a wrong SE with unequal groups (pooled n, swapped n's,
    # (v_a + v_b) / n). Reference by hand: each respondent scores +1 / 0 / -1; the
    # per-respondent variance is the ddof-0 variance of those scores, and
    # SE = sqrt(v_a / n_a + v_b / n_b).
    a = np.array([10] * 30 + [7] * 5 + [2] * 5, float)        # n_a = 40
    b = np.array([9] * 2 + [8] * 3 + [1] * 5, float)          # n_b = 10
    sa = np.where(a >= 9, 1, np.where(a <= 6, -1, 0))
    sb = np.where(b >= 9, 1, np.where(b <= 6, -1, 0))
    se = np.sqrt(sa.var() / len(a) + sb.var() / len(b))
    delta = 100 * (sa.mean() - sb.mean())
    r = compare.test_two_groups(a, b, "nps", scale_min=0, scale_max=10, metric="nps")
    assert r["delta"] == pytest.approx(delta)
    z = stats.norm.ppf(0.975)
    assert r["ci_low"] == pytest.approx(delta - 100 * z * se, rel=1e-9)
    assert r["ci_high"] == pytest.approx(delta + 100 * z * se, rel=1e-9)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(abs(delta / 100) / se), rel=1e-9)
    # the same through the DuckDB comparison table (segment vs rest), groups of 40 and 10
    df = long_frame(np.concatenate([a, b]), metric="nps", smin=0, smax=10,
                    segment=["a"] * len(a) + ["b"] * len(b))
    t = compare.compare_segments(df, metric="nps", segment_column="segment", statistics=["nps"],
                                 min_base=1, adjust=False)
    row = t.set_index("segment").loc["a"]
    assert row["delta"] == pytest.approx(delta)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 100 * z * se, rel=1e-9)
    assert row["p_value"] == pytest.approx(r["p_value"], rel=1e-9)
    # the shared formula itself
    e, v = cxstats.nps_variance(30, 5, 40)
    assert (float(e), float(v)) == pytest.approx((sa.mean(), sa.var()))


# ------------------------------------------------------ top-2 box on short scales
def test_top2_box_on_a_three_point_scale_is_the_single_best_point():
    # mutation killed: counting the best TWO points as "top 2" on a 1-3 scale (that
    # would count the middle, i.e. two thirds of the scale). Rule (module docstring):
    # scales of fewer than four points use the single best point.
    scores = [1] * 4 + [2] * 10 + [3] * 6
    s = satisfaction.summarize(long_frame(scores, smin=1, smax=3), statistics=["top2", "bottom"],
                               min_base=1).set_index("statistic")
    assert s.loc["top2", "estimate"] == pytest.approx(6 / 20)
    assert s.loc["bottom", "estimate"] == pytest.approx(4 / 20)
    best, worst, hib = satisfaction.box_thresholds(1, 3, "csat")
    assert (float(best), float(worst), hib) == (3.0, 1.0, True)
    # lower-is-better on a 3-point scale: the single lowest point
    best, worst, hib = satisfaction.box_thresholds(1, 3, "ces")
    assert (float(best), float(worst), hib) == (1.0, 3.0, False)
    # a 4-point scale already has a top 2 (3 and 4): the boundary of the rule
    s4 = satisfaction.summarize(long_frame([1, 2, 2, 3, 4, 4], smin=1, smax=4),
                                statistics=["top2"], min_base=1)
    assert s4["estimate"].iloc[0] == pytest.approx(3 / 6)
    # the numpy path of the two-group tests follows the same rule
    r = compare.test_two_groups(np.array([3, 3, 2, 1.0]), np.array([2, 2, 2, 3.0]), "top2",
                                scale_min=1, scale_max=3)
    assert (r["estimate"], r["reference"]) == pytest.approx((0.5, 0.25))


# ------------------------------------------------------------ low-base boundary
@pytest.mark.parametrize("min_base", [5, 30])
def test_low_base_boundary_n_equal_to_min_base_is_not_low(min_base):
    # mutation killed: flagging n <= min_base instead of n < min_base (the README,
    # config.MIN_BASE and the report say "fewer than min_base respondents")
    from cxlib.data.catalog import load_catalog

    cat = load_catalog("retail")
    at, below = cat.frame["touchpoint_id"].tolist()[:2]
    df = pd.concat([long_frame([4.0] * min_base, tp=at),
                    long_frame([4.0] * (min_base - 1), tp=below)], ignore_index=True)
    df["response_id"] = [f"R{i}" for i in range(len(df))]
    s = satisfaction.summarize(df, statistics=["mean"], min_base=min_base)
    by_unit = s.set_index("unit")
    assert by_unit.loc[at, "n"] == min_base and not by_unit.loc[at, "low_base"]
    assert by_unit.loc[below, "n"] == min_base - 1 and by_unit.loc[below, "low_base"]
    spots = satisfaction.blind_spots(s, cat, min_base=min_base).set_index("touchpoint_id")
    assert at not in spots.index
    assert spots.loc[below, "status"] == "low_base"


def test_coverage_status_boundary():
    # the same boundary in the coverage map (cxlib.analysis.coverage._status rule)
    from cxlib.data.catalog import load_catalog

    cat = load_catalog("retail")
    tps = cat.frame["touchpoint_id"].tolist()[:2]
    df = pd.concat([long_frame([4.0] * 30, tp=tps[0]), long_frame([4.0] * 29, tp=tps[1])],
                   ignore_index=True)
    df["response_id"] = [f"R{i}" for i in range(len(df))]
    df["customer_id"] = [f"C{i}" for i in range(len(df))]
    cov = coverage.coverage(df, cat, min_base=30).set_index("touchpoint_id")
    assert cov.loc[tps[0], "status"] == "covered"
    assert cov.loc[tps[1], "status"] == "low_base"
