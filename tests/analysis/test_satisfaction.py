"""Satisfaction metrics against hand-worked formulas, statsmodels and planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from cxlib.analysis import compare, satisfaction
from cxlib.analysis import weighting as wt
from cxlib.errors import EstimationError


def long_frame(scores, tp="store", metric="csat", smin=1, smax=5, **cols):
    n = len(scores)
    return pd.DataFrame({"response_id": [f"R{i}" for i in range(n)], "customer_id": "C",
                         "date": pd.Timestamp("2025-01-15"), "touchpoint_id": tp,
                         "metric": metric, "score": np.asarray(scores, float),
                         "scale_min": smin, "scale_max": smax, **cols})


def test_wilson_by_hand_and_statsmodels():
    # by hand, p = 8/20, z = 1.959964: centre = (0.4 + 3.8415/40)/(1 + 3.8415/20)
    # = 0.49604/1.19207 = 0.41611; half = 1.96*sqrt(0.012 + 0.0024)/1.19207 = 0.19733
    lo, hi = satisfaction.wilson_ci(0.4, 20)
    assert (lo, hi) == pytest.approx((0.2188, 0.6134), abs=1e-4)
    ref = proportion_confint(8, 20, alpha=0.05, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)


def test_mean_t_interval_and_weighted_kish():
    x = np.array([1, 2, 2, 3, 4, 5, 5, 4, 3, 2.0])
    m, lo, hi, n_eff = satisfaction.mean_ci(x)
    ref = DescrStatsW(x).tconfint_mean()
    assert (lo, hi) == pytest.approx(ref, abs=1e-12) and n_eff == 10
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 4.0])
    m, lo, hi, n_eff = satisfaction.mean_ci(x, w)
    # Kish n_eff = (Σw)²/Σw² = 17²/39 = 7.410
    assert n_eff == pytest.approx(289 / 39)
    ref = DescrStatsW(x, weights=w * n_eff / w.sum())
    assert m == pytest.approx(ref.mean) and (lo, hi) == pytest.approx(ref.tconfint_mean())


def test_nps_adjusted_wald_by_hand():
    # 50 promoters, 20 detractors, 30 passives (n = 100): NPS = 30.
    # adjusted: p_P = 50.75/103 = 0.492718, p_D = 20.75/103 = 0.201456
    # var = 0.694175 - 0.291262² = 0.609342; se = sqrt(var/103) = 0.076915
    # interval = 0.291262 ± 1.959964 * 0.076915 = [0.14051, 0.44201]
    est, lo, hi = satisfaction.nps_ci(50, 20, 100)
    assert est == pytest.approx(30.0)
    assert (lo, hi) == pytest.approx((14.051, 44.201), abs=2e-3)


def test_summarize_rows_carry_n_interval_flags():
    scores = [5] * 10 + [4] * 6 + [1] * 4
    df = long_frame(scores, region=["A"] * 12 + ["B"] * 8)
    s = satisfaction.summarize(df, by="region", min_base=10)
    a = s[(s.region == "A") & (s.statistic == "top2")].iloc[0]
    assert a["n"] == 12 and not a["low_base"]
    b = s[(s.region == "B") & (s.statistic == "mean")].iloc[0]
    assert b["n"] == 8 and b["low_base"]  # flagged, not dropped
    assert set(s.columns) >= {"estimate", "ci_low", "ci_high", "n", "n_eff", "low_base"}


def test_nps_statistic_on_nps_metric():
    df = long_frame([10] * 50 + [7] * 30 + [3] * 20, tp="journey", metric="nps", smin=0, smax=10)
    s = satisfaction.summarize(df, metric="nps").set_index("statistic")
    assert s.loc["nps", "estimate"] == pytest.approx(30.0)


def test_rollup_counts_a_respondent_once():
    df = pd.concat([long_frame([5, 1], tp="store_cleanliness"),
                    long_frame([3, 3], tp="store_checkout")])
    from cxlib.data.catalog import load_catalog

    s = satisfaction.summarize(df, level="parent", catalog=load_catalog("retail"))
    row = s[(s.unit == "store") & (s.statistic == "mean")].iloc[0]
    # respondent R0: mean(5, 3) = 4; R1: mean(1, 3) = 2 -> store mean 3, n = 2
    assert row["n"] == 2 and row["estimate"] == pytest.approx(3.0)


def test_tests_against_scipy_and_statsmodels():
    from scipy import stats
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(0)
    a, b = rng.integers(1, 6, 80).astype(float), rng.integers(2, 6, 120).astype(float)
    r = compare.test_two_groups(a, b, "mean")
    assert r["p_value"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    r = compare.test_two_groups(a, b, "top2")
    ref = proportions_ztest([(a >= 4).sum(), (b >= 4).sum()], [80, 120])[1]
    assert r["p_value"] == pytest.approx(ref)


def test_nps_difference_combined_variance_by_hand():
    a = np.array([10] * 6 + [8] * 2 + [3] * 2, float)  # NPS 40, var = 0.8 - 0.16 = 0.64
    b = np.array([10] * 3 + [8] * 4 + [3] * 3, float)  # NPS 0, var = 0.6 - 0 = 0.6
    r = compare.test_two_groups(a, b, "nps")
    se = np.sqrt(0.64 / 10 + 0.6 / 10)  # 0.35214
    assert r["delta"] == pytest.approx(40.0)
    assert r["ci_high"] - r["delta"] == pytest.approx(100 * 1.959964 * se, rel=1e-5)


def test_benjamini_hochberg_controls_moves():
    rng = np.random.default_rng(1)
    frames = []
    for tp in range(20):
        shift = 0.6 if tp == 0 else 0.0
        seg = np.repeat(["x", "y"], 200)
        scores = np.clip(np.round(rng.normal(3 + shift * (seg == "x"), 1)), 1, 5)
        frames.append(long_frame(scores, tp=f"tp{tp}", seg=seg).assign(
            response_id=lambda d, t=tp: d["response_id"] + f"_{t}"))
    out = compare.compare_segments(pd.concat(frames), segment_column="seg")
    sig = compare.significant_moves(out)
    assert set(sig["touchpoint_id"]) == {"tp0"}
    # q values against Benjamini & Hochberg (1995) worked by hand: sort p ascending,
    # q_(i) = min_{j >= i} p_(j) m / j
    p = out["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    q_sorted = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1)
    np.testing.assert_allclose(out["q_value"], q, rtol=1e-12)


def test_raking_meets_margins_and_is_biproportional():
    # Wikipedia's IPF example table (Kruithof / Deming-Stephan setting): cells
    # [[40,30,20,10],[35,50,100,75],[30,80,70,120],[20,30,40,50]] raked to row
    # totals (150,300,400,150) and column totals (200,300,400,100). The fixed
    # point is the unique biproportional fit X = P Z Q (Bishop 1967, Fienberg 1970):
    # checked by margins and by log(X/Z) = a_row + b_col exactly.
    z = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120], [20, 30, 40, 50]])
    rows = [(i, j) for i in range(4) for j in range(4) for _ in range(z[i, j])]
    data = pd.DataFrame(rows, columns=["r", "c"]).astype(str)
    w = wt.rake(data, {"r": {"0": 150, "1": 300, "2": 400, "3": 150},
                       "c": {"0": 200, "1": 300, "2": 400, "3": 100}}, total=1000)
    x = w.groupby([data["r"], data["c"]]).sum().unstack().to_numpy()
    np.testing.assert_allclose(x.sum(axis=1), [150, 300, 400, 150], rtol=1e-7)
    np.testing.assert_allclose(x.sum(axis=0), [200, 300, 400, 100], rtol=1e-7)
    lr = np.log(x / z)
    resid = lr - lr.mean(axis=1, keepdims=True) - lr.mean(axis=0, keepdims=True) + lr.mean()
    assert np.abs(resid).max() < 1e-6
    assert w.attrs["converged"] and 0 < w.attrs["n_eff"] <= 1000


def test_raking_reproduces_agresti_table_7_4():
    # Published textbook example: Agresti (2007), An Introduction to Categorical Data
    # Analysis, 2nd ed., Section 7.1.6, Table 7.3 (alcohol A, cigarette C and marijuana M
    # use of 2276 high-school seniors) and Table 7.4, column (AC, AM, CM): the fitted
    # values of the homogeneous-association model, found by IPF, printed to one decimal:
    # 910.4, 538.6, 44.6, 455.4, 3.6, 42.4, 1.4, 279.6. Raking one unit-weight
    # "respondent" per cell to the observed two-way margins is exactly that IPF.
    obs = {("y", "y", "y"): 911, ("y", "y", "n"): 538, ("y", "n", "y"): 44,
           ("y", "n", "n"): 456, ("n", "y", "y"): 3, ("n", "y", "n"): 43,
           ("n", "n", "y"): 2, ("n", "n", "n"): 279}
    cells = pd.DataFrame(list(obs), columns=["A", "C", "M"]).assign(n=list(obs.values()))
    for a, b in [("A", "C"), ("A", "M"), ("C", "M")]:
        cells[a + b] = cells[a] + cells[b]
    margins = {k: cells.groupby(k)["n"].sum().to_dict() for k in ["AC", "AM", "CM"]}
    w = wt.rake(cells[["AC", "AM", "CM"]], margins, total=2276, tol=1e-10, max_iter=500)
    printed = [910.4, 538.6, 44.6, 455.4, 3.6, 42.4, 1.4, 279.6]
    np.testing.assert_allclose(w.to_numpy(), printed, atol=0.05)
    assert w.attrs["converged"] and w.attrs["max_abs_error"] < 1e-10


def test_raking_tol_is_absolute_on_shares():
    # tol is the absolute share error: a loose tol stops early, within tol of the target
    data = pd.DataFrame({"seg": list("aabbbbbbbb"), "reg": list("xyxyxyxyxx")})
    margins = {"seg": {"a": 0.4, "b": 0.6}, "reg": {"x": 0.5, "y": 0.5}}
    loose = wt.rake(data, margins, tol=1e-2)
    tight = wt.rake(data, margins, tol=1e-12)
    assert loose.attrs["iterations"] < tight.attrs["iterations"]
    for w, tol in ((loose, 1e-2), (tight, 1e-12)):
        share = w.groupby(data["reg"]).sum() / w.sum()
        assert abs(share["x"] - 0.5) < tol and w.attrs["max_abs_error"] < tol


def test_raking_errors_and_trimming():
    data = pd.DataFrame({"seg": list("aabbbbbbbb"), "reg": list("xyxyxyxyxy")})
    with pytest.raises(EstimationError, match="inconsistent"):
        wt.rake(data, {"seg": {"a": 50, "b": 50}, "reg": {"x": 30, "y": 30}})
    with pytest.raises(EstimationError, match="not in the margins"):
        wt.rake(data, {"seg": {"a": 0.5}})
    with pytest.raises(EstimationError, match="no respondents"):
        wt.rake(data, {"seg": {"a": 0.4, "b": 0.4, "c": 0.2}})
    w = wt.rake(data, {"seg": {"a": 0.35, "b": 0.65}}, trim=(0.5, 2.0))
    assert w.max() / w.mean() <= 2.0 + 1e-9
    assert w[data.seg == "a"].sum() / w.sum() == pytest.approx(0.35)
    # when the bounds bind, the margins cannot be met: a clear error, not silence
    with pytest.raises(EstimationError, match="trimming"):
        wt.rake(data, {"seg": {"a": 0.5, "b": 0.5}}, trim=(0.5, 2.0))
    with pytest.raises(EstimationError, match="converge"):
        wt.rake(data, {"seg": {"a": 0.9, "b": 0.1}}, trim=(0.9, 1.1), max_iter=20)
    # without trimming, the message must not blame trimming bounds nobody asked for
    hard = pd.DataFrame({"s": list("ab" * 5), "r": ["x"] * 9 + ["y"]})
    with pytest.raises(EstimationError, match="did not converge") as exc:
        wt.rake(hard, {"s": {"a": 0.5, "b": 0.5}, "r": {"x": 0.01, "y": 0.99}}, max_iter=3)
    assert "trimming" not in str(exc.value) and "max_iter" in str(exc.value)


def test_weak_links_found_in_sample(sample_dir):
    from cxlib.data import datasets

    world = datasets.load(sample_dir)
    wl = compare.weakest_links(world.responses, world.catalog).set_index("stage")
    assert wl["weakest"].to_dict() == world.truth["weak_links"]


def test_planted_move_found(sample_dir):
    from cxlib.data import datasets

    world = datasets.load(sample_dir)
    mv = world.truth["planted_moves"][0]  # website, mass segment, 2025H2, down
    out = compare.compare_periods(world.responses, period="half", by=mv["segment_column"])
    sig = compare.significant_moves(out)
    hit = sig[(sig.touchpoint_id == mv["touchpoint_id"]) & (sig.segment == mv["segment"])]
    assert len(hit) == 1 and hit.iloc[0]["direction"] == ("down" if mv["delta"] < 0 else "up")


def test_nps_against_statsmodels_on_augmented_trinomial_data():
    # Independent route to Rocks (2016)'s adjusted Wald: score promoters +1, passives 0,
    # detractors -1, add 3/4 promoter, 3/4 detractor and 1.5 passives (3 pseudo-
    # respondents), and take statsmodels' normal interval of the weighted mean with
    # variance / (n + 3). DescrStatsW's std_mean divides by (sum of weights - 1), so the
    # weights are scaled to sum to n + 4 (the mean and ddof-0 variance do not change).
    for n_p, n_pass, n_d in [(50, 30, 20), (7, 2, 1), (0, 0, 1), (120, 40, 240)]:
        n = n_p + n_pass + n_d
        w = np.array([n_p + 0.75, n_pass + 1.5, n_d + 0.75]) * (n + 4) / (n + 3)
        lo, hi = DescrStatsW(np.array([1.0, 0.0, -1.0]), weights=w).zconfint_mean()
        est, my_lo, my_hi = satisfaction.nps_ci(n_p, n_d, n)
        assert est == pytest.approx(100 * (n_p - n_d) / n)
        assert my_lo == pytest.approx(max(100 * lo, -100), abs=1e-9)
        assert my_hi == pytest.approx(min(100 * hi, 100), abs=1e-9)


def test_nps_interval_clipped_and_n_of_one():
    # one promoter: NPS 100; adjusted p_P = 1.75/4, p_D = 0.75/4, var = 0.625 - 0.0625;
    # 0.25 ± 1.96 sqrt(0.5625/4) = [-0.4850, 0.9850] -> [-48.50, 98.50] (inside the range)
    est, lo, hi = satisfaction.nps_ci(1, 0, 1)
    assert est == 100 and (lo, hi) == pytest.approx((-48.50, 98.50), abs=0.01)
    # 20 promoters out of 20: the unclipped upper end is 100 * (0.9042 + 0.1242) > 100
    est, lo, hi = satisfaction.nps_ci(20, 0, 20)
    assert est == 100 and hi == 100 and lo < 100
    est, lo, hi = satisfaction.nps_ci(0, 20, 20)
    assert est == -100 and lo == -100 and hi > -100
    assert all(np.isnan(satisfaction.nps_ci(0, 0, 0)))


def test_weighted_summarize_end_to_end_against_statsmodels():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 11, 60).astype(float)
    w = rng.uniform(0.3, 3.0, 60)
    df = long_frame(scores, tp="journey", metric="nps", smin=0, smax=10).assign(wt=w)
    s = satisfaction.summarize(df, metric="nps", weight="wt").set_index("statistic")
    n_eff = w.sum() ** 2 / (w**2).sum()
    assert s.loc["mean", "n_eff"] == pytest.approx(n_eff) and s.loc["mean", "n"] == 60
    ref = DescrStatsW(scores, weights=w * n_eff / w.sum())
    assert s.loc["mean", "estimate"] == pytest.approx(ref.mean)
    assert (s.loc["mean", "ci_low"], s.loc["mean", "ci_high"]) == pytest.approx(
        ref.tconfint_mean())
    # top-2 box (9-10): weighted share, Wilson on the Kish n (statsmodels takes the
    # "count" p * n_eff and nobs n_eff)
    p = np.sum(w * (scores >= 9)) / w.sum()
    lo, hi = proportion_confint(p * n_eff, n_eff, method="wilson")
    assert s.loc["top2", "estimate"] == pytest.approx(p)
    assert (s.loc["top2", "ci_low"], s.loc["top2", "ci_high"]) == pytest.approx((lo, hi))
    assert s.loc["top2", "interval"] == "Wilson (Kish n_eff)"
    # NPS: weighted shares, adjusted Wald on the Kish n
    pp, pdt = np.sum(w * (scores >= 9)) / w.sum(), np.sum(w * (scores <= 6)) / w.sum()
    assert tuple(s.loc["nps", ["estimate", "ci_low", "ci_high"]]) == pytest.approx(
        satisfaction.nps_ci(pp * n_eff, pdt * n_eff, n_eff))


def test_stage_and_journey_rollups_by_hand():
    from cxlib.data.catalog import load_catalog

    cat = load_catalog("retail")
    # R0 rates website 5 and advertising 3 (pre_sale) and store_checkout 1 (sale);
    # R1 rates website 4 (pre_sale) and sales_staff 2 (sale); R2 rates store_checkout 4
    rows = [("R0", "website", 5), ("R0", "advertising", 3), ("R0", "store_checkout", 1),
            ("R1", "website", 4), ("R1", "sales_staff", 2), ("R2", "store_checkout", 4)]
    df = pd.DataFrame(rows, columns=["response_id", "touchpoint_id", "score"]).assign(
        customer_id="C", date=pd.Timestamp("2025-01-01"), metric="csat", scale_min=1,
        scale_max=5, score=lambda d: d["score"].astype(float))
    st = satisfaction.summarize(df, level="stage", catalog=cat, statistics=["mean", "top2"],
                           min_base=1).set_index(["unit", "statistic"])
    # pre_sale: R0 mean(5, 3) = 4, R1 4 -> mean 4, n 2; top-2 shares R0 1/2, R1 1 -> 0.75
    assert st.loc[("pre_sale", "mean"), "estimate"] == pytest.approx(4.0)
    assert st.loc[("pre_sale", "mean"), "n"] == 2
    assert st.loc[("pre_sale", "top2"), "estimate"] == pytest.approx(0.75)
    assert st.loc[("pre_sale", "top2"), "interval"] == "t on respondent shares"
    # sale: R0 1, R1 2, R2 4 -> mean 7/3, n 3
    assert st.loc[("sale", "mean"), "estimate"] == pytest.approx(7 / 3)
    ref = DescrStatsW(np.array([1.0, 2.0, 4.0])).tconfint_mean()
    assert (st.loc[("sale", "mean"), "ci_low"], st.loc[("sale", "mean"), "ci_high"]) == \
        pytest.approx(ref)
    j = satisfaction.summarize(df, level="journey", catalog=cat, statistics=["mean"],
                          min_base=1).iloc[0]
    # journey: R0 mean(5, 3, 1) = 3, R1 mean(4, 2) = 3, R2 4 -> 10/3, n 3
    assert j["unit"] == "journey" and j["n"] == 3 and j["estimate"] == pytest.approx(10 / 3)


def test_periods_by_hand():
    df = long_frame([5, 3, 4, 2, 1, 5], tp="website")
    df["date"] = pd.to_datetime(["2025-01-10", "2025-05-02", "2025-06-30", "2025-07-01",
                                 "2025-12-31", "2026-02-01"])
    s = satisfaction.summarize(df, period="half", statistics=["mean"], min_base=1)
    assert s["period"].tolist() == ["2025H1", "2025H2", "2026H1"]
    assert s["estimate"].tolist() == pytest.approx([4.0, 1.5, 5.0])
    assert s["n"].tolist() == [3, 2, 1] and np.isnan(s["ci_low"].iloc[2])  # n = 1: no spread
    q = satisfaction.summarize(df, period="quarter", statistics=["mean"], min_base=1)
    assert q["period"].tolist() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    m = satisfaction.summarize(df, period="month", statistics=["mean"], min_base=1)
    assert m["period"].tolist()[:2] == ["2025-01", "2025-05"]
    per = compare.compare_periods(df.assign(response_id=[f"R{i}" for i in range(6)]),
                                  period="half", last_only=False, min_base=1)
    assert per[["previous_period", "period"]].values.tolist() == [["2025H1", "2025H2"],
                                                                  ["2025H2", "2026H1"]]
    assert per["delta"].iloc[0] == pytest.approx(1.5 - 4.0)
    assert per["test"].tolist() == ["Welch t", "too few"]
