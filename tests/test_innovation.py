"""Innovation effects: DiD estimators against pyfixest, published results and planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from cxlib import datasets, synth
from cxlib import innovation as inv
from tests.conftest import shared_file_or_skip


def sim_panel(seed: int, innovation: str = "self_service_kiosk", n_units: int = 40):
    panel, _, truth = synth.simulate_innovation_panel(seed=seed, n_units=n_units)
    info = truth["innovations"][innovation]
    keep = set(info["starts"]) | set(truth["never_treated"])  # drop other innovations' units
    p = panel[panel["unit_id"].isin(keep)].rename(columns={"period_index": "t"})
    p = p.assign(treated=p[f"treated_{innovation}"])
    return p, info


def test_twfe_numpy_matches_pyfixest_to_1e6():
    for seed, n_units in [(2, 40), (3, 60)]:
        p, _ = sim_panel(seed, n_units=n_units)
        b, se = inv.twfe_numpy(p["margin"].to_numpy(), p["treated"].to_numpy(),
                               p["unit_id"].to_numpy(), p["t"].to_numpy())
        ref = inv.twfe(p)  # pyfixest feols, CRV1 by unit
        assert b == pytest.approx(ref.att, rel=1e-6)
        assert se == pytest.approx(ref.se, rel=1e-6)


def test_twfe_matches_statsmodels_dummies():
    # independent reference: OLS with unit and period dummies (statsmodels)
    p, _ = sim_panel(4, n_units=20)
    fit = smf.ols("margin ~ treated + C(unit_id) + C(t)", data=p).fit()
    assert inv.twfe(p).att == pytest.approx(fit.params["treated"], abs=1e-6)


def test_card_krueger_njmin3():
    # Card & Krueger (1994); Wooldridge, Introductory Econometrics, Example 13.?:
    # FTE employment DiD estimate ~ +2.75 (NJ vs PA, before/after the rise).
    path = shared_file_or_skip("njmin3.csv")
    d = pd.read_csv(path, sep=";")
    res = inv.did_2x2(d, outcome="fte", treated="nj", post="d")
    assert res.att == pytest.approx(2.75, abs=0.005)


# R package `did` README / vignette: att_gt(yname="lemp", tname="year",
# idname="countyreal", gname="first.treat", data=mpdta) and aggte(type="dynamic").
R_ATT_GT = {
    (2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373,
    (2004, 2007): -0.1008, (2006, 2004): 0.0065, (2006, 2005): -0.0028,
    (2006, 2006): -0.0046, (2006, 2007): -0.0412, (2007, 2004): 0.0305,
    (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261,
}
R_SE_GT = {(2004, 2004): 0.0233, (2004, 2005): 0.0310, (2004, 2006): 0.0364,
           (2006, 2007): 0.0202, (2007, 2004): 0.0150}
R_DYNAMIC = {-3: 0.0305, -2: -0.0006, -1: -0.0244, 0: -0.0199, 1: -0.0510, 2: -0.1373,
             3: -0.1008}


def test_callaway_santanna_mpdta_matches_r_did():
    path = shared_file_or_skip("mpdta.csv")
    d = pd.read_csv(path)
    res = inv.callaway_santanna(d, outcome="lemp", unit="countyreal", time="year",
                                group="first.treat")
    t = res.tidy()
    gt = t[t.term == "att_gt"].set_index(["group", "time"])
    for (g, tt), val in R_ATT_GT.items():
        assert gt.loc[(g, tt), "estimate"] == pytest.approx(val, abs=5e-4), (g, tt)
    for key, se in R_SE_GT.items():  # analytic SEs vs R's printed (bootstrap) SEs
        assert gt.loc[key, "std_error"] == pytest.approx(se, abs=1.5e-3)
    dyn = t[t.term == "dynamic"].set_index("event_time")["estimate"]
    for e, val in R_DYNAMIC.items():
        assert dyn[e] == pytest.approx(val, abs=5e-4)
    assert res.att == pytest.approx(-0.0400, abs=5e-4)  # aggte(type="simple")


def test_cs_standard_error_equals_two_group_hc0():
    # For one (g, t) cell the IF SE equals the HC0 SE of regressing the long
    # difference on a group dummy (Welch-type two-sample variance with 1/n).
    import statsmodels.api as sm

    p, _ = sim_panel(5, n_units=40)
    res = inv.callaway_santanna(p.assign(g=p["t"].where(p["treated"] == 1).groupby(
        p["unit_id"]).transform("min").fillna(0)), outcome="margin", group="g")
    cell = res.tidy().query("term == 'att_gt'").iloc[-1]
    g, tt = int(cell["group"]), int(cell["time"])
    w = p.pivot(index="unit_id", columns="t", values="margin")
    first = p.assign(g=p["t"].where(p["treated"] == 1)).groupby("unit_id")["g"].min()
    sel = first.isna() | (first == g)
    dy = (w[tt] - w[g - 1])[sel]
    x = sm.add_constant((first[sel] == g).astype(float))
    fit = sm.OLS(dy, x).fit(cov_type="HC0")
    assert cell["estimate"] == pytest.approx(fit.params.iloc[1], abs=1e-8)
    assert cell["std_error"] == pytest.approx(fit.bse.iloc[1], rel=1e-8)


def test_planted_effects_coverage_over_repeated_simulations():
    # 100 simulated roll-outs: the 95% TWFE interval must cover the planted ATT
    # in at least 90% of them.
    hits, n_sims = 0, 100
    planted = None
    for seed in range(100, 100 + n_sims):
        p, info = sim_panel(seed)
        planted = info["att_margin_per_unit_period"]
        b, se = inv.twfe_numpy(p["margin"].to_numpy(), p["treated"].to_numpy(),
                               p["unit_id"].to_numpy(), p["t"].to_numpy())
        hits += abs(b - planted) <= 1.96 * se
    assert hits / n_sims >= 0.90, (hits, planted)


def test_sample_world_decisions_match_planted_truth(sample_dir):
    w = datasets.load(sample_dir)
    truth = w.truth["innovations"]
    want = {"scale": "scale", "roll_back": "roll back"}
    for iid, info in truth.items():
        p = inv.build_panel(w.orders, w.innovations, innovation_id=iid)
        r = inv.twfe(p)
        assert abs(r.att - info["att_margin_per_unit_period"]) < 3 * r.se, iid
        m = inv.money(r.att, r.se, treated_unit_periods=int(p["treated"].sum()),
                      n_units=int(p.loc[p.treated == 1, "unit_id"].nunique()),
                      cost_per_period=info["cost_per_unit_period"],
                      one_off_cost=info["one_off_cost"])
        es = inv.event_study(p)
        verdict = inv.decide(m, pretrend_p=es.diagnostics["pretrend_p"])
        if iid in ("proactive_calls", "self_service_kiosk"):  # clear-cut planted cases
            assert verdict["decision"] == want[info["decision"]], (iid, verdict)
        assert verdict["reason"]


def test_side_effects_show_more_contacts_less_satisfaction(sample_dir):
    w = datasets.load(sample_dir)
    p = inv.build_panel(w.orders, w.innovations, innovation_id="proactive_calls",
                        responses=w.responses, contacts=w.contacts)
    se = inv.side_effects(p).set_index("outcome")
    assert se.loc["contacts", "ci_low"] > 0  # planted: more contacts
    assert se.loc["csat", "ci_high"] < 0  # planted: lower CSAT


def test_money_arithmetic_by_hand():
    m = inv.money(1000.0, 100.0, treated_unit_periods=120, n_units=10, cost_per_period=600.0,
                  one_off_cost=2400.0, horizon=24).set_index("quantity")
    # by hand: incremental 1000*120 = 120,000; cost 600*120 + 2400*10 = 96,000
    # net per unit-period 1000 - 600 - 100 = 300; net 36,000; payback 2400/400 = 6
    assert m.loc["incremental_margin", "estimate"] == 120_000
    assert m.loc["incremental_cost", "estimate"] == 96_000
    assert m.loc["net", "estimate"] == 36_000
    assert m.loc["payback_periods", "estimate"] == 6
    assert m.loc["net", "p_net_positive"] == pytest.approx(0.99865, abs=1e-4)  # Φ(3)
    assert inv.decide(m.reset_index())["decision"] == "scale"
    straddle = inv.money(750.0, 100.0, treated_unit_periods=120, n_units=10,
                         cost_per_period=600.0, one_off_cost=2400.0)
    assert inv.decide(straddle)["decision"] == "keep watching"
    assert inv.decide(straddle, pretrend_p=0.001)["decision"] == "no decision"
    assert np.isfinite(m.loc["roi", "estimate"])


def test_callaway_santanna_coverage_over_repeated_simulations():
    # the staggered-robust estimator must also cover the planted ATT (>= 90% of 100)
    hits = 0
    for seed in range(300, 400):
        p, info = sim_panel(seed, innovation="proactive_calls")
        first = p["t"].where(p["treated"] == 1).groupby(p["unit_id"]).transform("min")
        res = inv.estimate(p.assign(first_treated=first), estimator="callaway_santanna")
        hits += abs(res.att - info["att_margin_per_unit_period"]) <= 1.96 * res.se
    assert hits >= 90, hits
