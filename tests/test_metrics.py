"""Satisfaction metrics against hand-worked formulas, statsmodels and planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from cxlib import compare, metrics, synth
from cxlib import weighting as wt
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
    lo, hi = metrics.wilson_ci(0.4, 20)
    assert (lo, hi) == pytest.approx((0.2188, 0.6134), abs=1e-4)
    ref = proportion_confint(8, 20, alpha=0.05, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)


def test_mean_t_interval_and_weighted_kish():
    x = np.array([1, 2, 2, 3, 4, 5, 5, 4, 3, 2.0])
    m, lo, hi, n_eff = metrics.mean_ci(x)
    ref = DescrStatsW(x).tconfint_mean()
    assert (lo, hi) == pytest.approx(ref, abs=1e-12) and n_eff == 10
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 4.0])
    m, lo, hi, n_eff = metrics.mean_ci(x, w)
    # Kish n_eff = (Σw)²/Σw² = 17²/39 = 7.410
    assert n_eff == pytest.approx(289 / 39)
    ref = DescrStatsW(x, weights=w * n_eff / w.sum())
    assert m == pytest.approx(ref.mean) and (lo, hi) == pytest.approx(ref.tconfint_mean())


def test_nps_adjusted_wald_by_hand():
    # 50 promoters, 20 detractors, 30 passives (n = 100): NPS = 30.
    # adjusted: p_P = 50.75/103 = 0.492718, p_D = 20.75/103 = 0.201456
    # var = 0.694175 - 0.291262² = 0.609342; se = sqrt(var/103) = 0.076915
    # interval = 0.291262 ± 1.959964 * 0.076915 = [0.14051, 0.44201]
    est, lo, hi = metrics.nps_ci(50, 20, 100)
    assert est == pytest.approx(30.0)
    assert (lo, hi) == pytest.approx((14.051, 44.201), abs=2e-3)


def test_summarize_rows_carry_n_interval_flags():
    scores = [5] * 10 + [4] * 6 + [1] * 4
    df = long_frame(scores, region=["A"] * 12 + ["B"] * 8)
    s = metrics.summarize(df, by="region", min_base=10)
    a = s[(s.region == "A") & (s.statistic == "top2")].iloc[0]
    assert a["n"] == 12 and not a["low_base"]
    b = s[(s.region == "B") & (s.statistic == "mean")].iloc[0]
    assert b["n"] == 8 and b["low_base"]  # flagged, not dropped
    assert set(s.columns) >= {"estimate", "ci_low", "ci_high", "n", "n_eff", "low_base"}


def test_nps_statistic_on_nps_metric():
    df = long_frame([10] * 50 + [7] * 30 + [3] * 20, tp="journey", metric="nps", smin=0, smax=10)
    s = metrics.summarize(df, metric="nps").set_index("statistic")
    assert s.loc["nps", "estimate"] == pytest.approx(30.0)


def test_rollup_counts_a_respondent_once():
    df = pd.concat([long_frame([5, 1], tp="store_cleanliness"),
                    long_frame([3, 3], tp="store_checkout")])
    from cxlib.catalog import load_catalog

    s = metrics.summarize(df, level="parent", catalog=load_catalog("retail"))
    row = s[(s.unit == "store") & (s.statistic == "mean")].iloc[0]
    # respondent R0: mean(5, 3) = 4; R1: mean(1, 3) = 2 -> store mean 3, n = 2
    assert row["n"] == 2 and row["estimate"] == pytest.approx(3.0)


def test_duckdb_summary_equals_pandas_summary(tmp_path, sample_dir):
    from cxlib import datasets

    r = datasets.load(sample_dir).responses
    path = tmp_path / "r.parquet"
    r.to_parquet(path)
    fast = metrics.summary_duckdb(str(path), by=["touchpoint_id", "segment"]).set_index(
        ["touchpoint_id", "segment"])
    slow = metrics.summarize(r, by="segment").set_index(["unit", "segment", "statistic"])
    for (tp, seg), row in fast.head(30).iterrows():
        assert row["n"] == slow.loc[(tp, seg, "mean"), "n"]
        assert row["mean"] == pytest.approx(slow.loc[(tp, seg, "mean"), "estimate"])
        assert row["mean_low"] == pytest.approx(slow.loc[(tp, seg, "mean"), "ci_low"])
        assert row["top2_high"] == pytest.approx(slow.loc[(tp, seg, "top2"), "ci_high"])


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
    assert (out["q_value"] >= out["p_value"] - 1e-12).all()


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


def test_weak_links_found_in_sample(sample_dir):
    from cxlib import datasets

    world = datasets.load(sample_dir)
    wl = compare.weakest_links(world.responses, world.catalog).set_index("stage")
    assert wl["weakest"].to_dict() == world.truth["weak_links"]


def test_planted_move_found(sample_dir):
    from cxlib import datasets

    world = datasets.load(sample_dir)
    mv = world.truth["planted_moves"][0]  # website, mass segment, 2025H2, down
    out = compare.compare_periods(world.responses, period="half", by=mv["segment_column"])
    sig = compare.significant_moves(out)
    hit = sig[(sig.touchpoint_id == mv["touchpoint_id"]) & (sig.segment == mv["segment"])]
    assert len(hit) == 1 and hit.iloc[0]["direction"] == ("down" if mv["delta"] < 0 else "up")


def test_interval_coverage_of_planted_means_over_100_surveys():
    # 100 simulated surveys; each touchpoint's 95% t interval should cover the
    # planted population mean (exact expectation of the discrete score) >= 90%.
    hits = total = 0
    truth = None
    for seed in range(100):
        df, truth = synth.simulate_survey(400, seed=seed)
        s = metrics.summarize(df, statistics=["mean"])
        s = s[s["unit"].isin(truth["touchpoint_means"].keys())]
        tm = s["unit"].map(truth["touchpoint_means"])
        hits += int(((s["ci_low"] <= tm) & (tm <= s["ci_high"])).sum())
        total += len(s)
    assert total > 100 * 40
    assert hits / total >= 0.90, hits / total
