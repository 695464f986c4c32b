"""Scales and polarity: thresholds per row, binary scales, CES (lower is better)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import compare, satisfaction
from cxlib.data.catalog import load_catalog


def answers(rows):
    """rows: (respondent, touchpoint, metric, score, scale_min, scale_max, extra...)."""
    df = pd.DataFrame(rows, columns=["response_id", "touchpoint_id", "metric", "score",
                                     "scale_min", "scale_max", "seg"])
    df["score"] = df["score"].astype(float)
    return df.assign(customer_id="C", date=pd.Timestamp("2025-03-01"))


def test_top2_thresholds_come_from_each_row_not_the_first():
    # one csat metric asked on two scales: touchpoint a on 1-5, touchpoint b on 1-10.
    # By hand: a (1-5) top-2 = {4, 5}: scores 5, 4, 3, 1 -> 2/4; bottom {1} -> 1/4.
    # b (1-10) top-2 = {9, 10}: scores 10, 8, 5, 4 -> 1/4 (a first-row threshold of
    # 4 would give 4/4); bottom {1} -> 0.
    rows = [(f"R{i}", "a", "csat", s, 1, 5, "x") for i, s in enumerate([5, 4, 3, 1])]
    rows += [(f"S{i}", "b", "csat", s, 1, 10, "x") for i, s in enumerate([10, 8, 5, 4])]
    s = satisfaction.summarize(answers(rows), statistics=["top2", "bottom"]).set_index(
        ["unit", "statistic"])["estimate"]
    assert s[("a", "top2")] == 0.5 and s[("a", "bottom")] == 0.25
    assert s[("b", "top2")] == 0.25 and s[("b", "bottom")] == 0.0


def test_binary_scale_top_box_is_the_single_best_point():
    # overall satisfied yes/no on 0-1 (airline): "top 2" of a 2-point scale would be
    # everyone, so it is defined as the top box: share of 1 = 3/5; bottom = share of 0.
    rows = [(f"R{i}", "journey", "overall", s, 0, 1, "x") for i, s in enumerate([1, 1, 0, 1, 0])]
    s = satisfaction.summarize(answers(rows), metric="overall").set_index("statistic")
    assert s.loc["top2", "estimate"] == pytest.approx(0.6)
    assert s.loc["bottom", "estimate"] == pytest.approx(0.4)
    assert s.loc["mean", "estimate"] == pytest.approx(0.6)
    lo, hi = satisfaction.wilson_ci(0.6, 5)
    assert (s.loc["top2", "ci_low"], s.loc["top2", "ci_high"]) == pytest.approx((lo, hi))


def test_ces_top2_is_least_effort_bottom_is_most_effort():
    # CES 1 = very easy .. 7 = very difficult. Best two boxes {1, 2}: 3 of 8;
    # worst box {7}: 1 of 8. The mean stays the raw effort score (31/8 = 3.875).
    scores = [1, 2, 2, 4, 5, 6, 7, 4]
    rows = [(f"R{i}", "store_checkout", "ces", s, 1, 7, "x") for i, s in enumerate(scores)]
    s = satisfaction.summarize(answers(rows), metric="ces").set_index("statistic")
    assert s.loc["top2", "estimate"] == pytest.approx(3 / 8)
    assert s.loc["bottom", "estimate"] == pytest.approx(1 / 8)
    assert s.loc["mean", "estimate"] == pytest.approx(np.mean(scores))
    assert not s["higher_is_better"].any()
    best, worst, hib = satisfaction.box_thresholds(1, 7, "ces")
    assert (float(best), float(worst), hib) == (2.0, 7.0, False)


def _ces_stage(rng, n=300):
    """Respondents rate three sale-stage touchpoints on CES; checkout takes more effort."""
    rows = []
    for i in range(n):
        u = rng.normal(0, 0.7)
        seg = "x" if i % 2 else "y"
        for tp, mu in (("store_checkout", 4.6), ("store_space", 3.4), ("sales_staff", 3.3)):
            shift = -0.8 if (tp == "store_space" and seg == "x") else 0.0
            s = int(np.clip(np.round(mu + shift + u + rng.normal(0, 1)), 1, 7))
            rows.append((f"R{i}", tp, "ces", s, 1, 7, seg))
    return answers(rows)


def test_ces_weakest_link_is_the_highest_effort():
    df = _ces_stage(np.random.default_rng(3))
    wl = compare.weakest_links(df, load_catalog("retail"), metric="ces").set_index("stage")
    assert wl.loc["sale", "candidate"] == "store_checkout"
    assert wl.loc["sale", "weakest"] == "store_checkout" and wl.loc["sale", "delta"] > 0
    assert wl.loc["sale", "status"] == "significant" and not wl.loc["sale", "higher_is_better"]


def test_ces_moves_up_means_less_effort_and_raw_delta_is_kept():
    df = _ces_stage(np.random.default_rng(4))
    out = compare.compare_segments(df, segment_column="seg", metric="ces",
                                   statistics=["mean", "top2", "bottom"])
    row = out[(out.touchpoint_id == "store_space") & (out.segment == "x")].set_index(
        "statistic")
    # segment x needs less effort at store_space: its mean is lower (raw delta < 0) and
    # that is better: direction "up"; its share of easy answers is higher (better, up);
    # its share of "very difficult" is lower (better, up)
    assert row.loc["mean", "delta"] < 0 and row.loc["mean", "change"] == "lower"
    assert row.loc["mean", "direction"] == "up" and not row.loc["mean", "better_if_higher"]
    assert row.loc["top2", "delta"] > 0 and row.loc["top2", "direction"] == "up"
    assert row.loc["bottom", "delta"] <= 0
    mirror = out[(out.touchpoint_id == "store_space") & (out.segment == "y")].set_index(
        "statistic")
    assert mirror.loc["mean", "direction"] == "down" and mirror.loc["mean", "change"] == "higher"


def test_bottom_box_rising_is_a_move_down_for_csat():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(400):
        seg = "x" if i % 2 else "y"
        s = 1 if (seg == "x" and rng.random() < 0.4) else int(rng.integers(2, 6))
        rows.append((f"R{i}", "website", "csat", s, 1, 5, seg))
    out = compare.compare_segments(answers(rows), segment_column="seg", statistics=["bottom"])
    row = out[out.segment == "x"].iloc[0]
    assert row["delta"] > 0 and row["change"] == "higher" and row["direction"] == "down"


def test_two_groups_polarity_for_ces_boxes():
    a = np.array([1, 1, 2, 7, 3.0])   # best two boxes {1, 2}: 3/5; worst {7}: 1/5
    b = np.array([5, 6, 7, 7, 2.0])   # 1/5 and 2/5
    top = compare.test_two_groups(a, b, "top2", metric="ces", scale_min=1, scale_max=7)
    bot = compare.test_two_groups(a, b, "bottom", metric="ces", scale_min=1, scale_max=7)
    assert (top["estimate"], top["reference"]) == pytest.approx((0.6, 0.2))
    assert (bot["estimate"], bot["reference"]) == pytest.approx((0.2, 0.4))
