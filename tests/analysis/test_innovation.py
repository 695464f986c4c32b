"""Innovation effects: DiD estimators against independent references and published results.

Money, decisions, panels, plots and simulations: tests/test_innov_*.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cxlib.analysis import innovation as inv
from cxlib.data import synth
from cxlib.errors import DataError, EstimationError, ParameterError
from tests.conftest import shared_file_or_skip


def sm_cluster(formula: str, data: pd.DataFrame):
    """statsmodels dummy-variable OLS with CR1 errors clustered by unit (independent reference)."""
    groups = pd.factorize(data["unit_id"])[0]
    return smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": groups})


def df_factor(fit_sm, n_obs: int, k_pyfixest: int) -> float:
    """statsmodels' CR1 counts every dummy in k (N - 1)/(N - k); pyfixest's CRV1 does not
    count the unit effects (nested in the clusters). SE_pyfixest = SE_sm * this factor."""
    k_sm = len(fit_sm.params)
    return float(np.sqrt((n_obs - k_sm) / (n_obs - k_pyfixest)))


# ------------------------------------------------------------------------- TWFE
def test_twfe_matches_statsmodels_dummy_ols_with_cluster_se():
    # reference: statsmodels OLS with unit and period dummies, CR1 by unit. The twfe()
    # coefficient must agree to 1e-6; the SE after converting the small-sample df
    # convention (statsmodels k = all dummies; pyfixest k = T + 1).
    for seed in (4, 6):
        p, _ = synth.simulate_rollout(seed=seed, innovation="self_service_kiosk", n_units=20)
        ref = sm_cluster("margin ~ treated + C(unit_id) + C(t)", p)
        r = inv.twfe(p)
        assert r.att == pytest.approx(ref.params["treated"], abs=1e-6)
        k_pf = p["t"].nunique() + 1
        assert r.se == pytest.approx(ref.bse["treated"] * df_factor(ref, len(p), k_pf), rel=1e-6)


def test_twfe_numpy_matches_statsmodels_and_pyfixest_to_1e6():
    for seed, n_units in [(2, 40), (3, 60)]:
        p, _ = synth.simulate_rollout(seed=seed, innovation="proactive_calls", n_units=n_units)
        b, se = inv.twfe_numpy(p["margin"].to_numpy(), p["treated"].to_numpy(),
                               p["unit_id"].to_numpy(), p["t"].to_numpy())
        ref = sm_cluster("margin ~ treated + C(unit_id) + C(t)", p)
        assert b == pytest.approx(ref.params["treated"], rel=1e-6)
        assert se == pytest.approx(ref.bse["treated"] * df_factor(ref, len(p), p["t"].nunique()
                                                                  + 1), rel=1e-6)
        pf_fit = inv.twfe(p)  # pyfixest feols, CRV1
        assert (b, se) == pytest.approx((pf_fit.att, pf_fit.se), rel=1e-6)


def test_card_krueger_njmin3():
    # Card & Krueger (1994); Wooldridge, Introductory Econometrics, Example 13.?:
    # FTE employment DiD estimate ~ +2.75 (NJ vs PA, before/after the rise).
    path = shared_file_or_skip("njmin3.csv")
    d = pd.read_csv(path, sep=";")
    res = inv.did_2x2(d, outcome="fte", treated="nj", post="d")
    assert res.att == pytest.approx(2.75, abs=0.005)


# ------------------------------------------------------------------ event study
def test_event_study_matches_statsmodels_dummy_ols_and_att_se_is_wvw():
    # reference: statsmodels OLS with one dummy per binned relative period (never-treated
    # units none), unit and period dummies, CR1 by unit: coefficients to 1e-8, SEs after
    # the df-convention factor
    p, _ = synth.simulate_rollout(seed=7, innovation="self_service_kiosk", n_units=40)
    es = inv.event_study(p, leads=4, lags=6)
    d = p.assign(relb=p["rel"].clip(-4, 6))
    events = [k for k in range(-4, 7) if k != -1]
    names = {k: (f"m{-k}" if k < 0 else f"p{k}") for k in events}
    for k, n in names.items():
        d[n] = (d["relb"] == k).astype(float)
    sm_fit = sm_cluster("margin ~ " + " + ".join(names.values()) + " + C(unit_id) + C(t)", d)
    factor = df_factor(sm_fit, len(d), len(events) + p["t"].nunique())
    ours = es.tidy().dropna(subset=["event_time"]).query("not reference")
    ours = ours.set_index(ours["event_time"].astype(int))
    assert sorted(ours.index) == events
    for k, n in names.items():
        assert ours.loc[k, "estimate"] == pytest.approx(sm_fit.params[n], abs=1e-8)
        assert ours.loc[k, "std_error"] == pytest.approx(sm_fit.bse[n] * factor, rel=1e-6)
    # aggregated ATT: w = treated unit-periods per event time; SE = sqrt(w'Vw), checked
    # against statsmodels' own t_test of the same linear combination
    post = [k for k in events if k >= 0]
    n_k = np.array([(d["relb"] == k).sum() for k in post], dtype=float)
    w = n_k / n_k.sum()
    R = np.zeros(len(sm_fit.params))
    for k, wk in zip(post, w, strict=True):
        R[list(sm_fit.params.index).index(names[k])] = wk
    tt = sm_fit.t_test(R)
    assert es.att == pytest.approx(float(tt.effect[0]), rel=1e-8)
    assert es.se == pytest.approx(float(tt.sd[0, 0]) * factor, rel=1e-6)
    assert es.diagnostics["att_weights"] == pytest.approx(dict(zip(post, w, strict=True)))
    # the fix this guards: the aggregate's SE is not the TWFE SE
    assert abs(es.se - inv.twfe(p).se) / es.se > 0.05


def test_event_study_pretrend_wald_matches_pyfixest_wald_test():
    # reference: pyfixest's Feols.wald_test (F = W/q) on the leads of the same fit
    import pyfixest as pf

    p, _ = synth.simulate_rollout(seed=8, innovation="proactive_calls", pretrend=80.0)
    es = inv.event_study(p)
    d = p.assign(relb=p["rel"].clip(-4, 6).fillna(-1).astype(int))
    fit = pf.feols("margin ~ i(relb, ref=-1) | unit_id + t", data=d, vcov={"CRV1": "unit_id"})
    names = list(fit.coef().index)
    leads = [i for i, n in enumerate(names) if int(float(str(n).split("::")[1])) <= -2]
    R = np.zeros((len(leads), len(names)))
    R[np.arange(len(leads)), leads] = 1.0
    ref = fit.wald_test(R=R, distribution="chi2")
    assert es.diagnostics["pretrend_chi2"] == pytest.approx(float(ref["statistic"]), rel=1e-6)
    assert es.diagnostics["pretrend_df"] == len(leads)


# ------------------------------------------------------------ Callaway-Sant'Anna
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
    assert len(gt) == len(R_ATT_GT)
    for (g, tt), val in R_ATT_GT.items():
        assert gt.loc[(g, tt), "estimate"] == pytest.approx(val, abs=5e-4), (g, tt)
    for key, se in R_SE_GT.items():  # analytic SEs vs R's printed (bootstrap) SEs
        assert gt.loc[key, "std_error"] == pytest.approx(se, abs=1.5e-3)
    dyn = t[t.term == "dynamic"].set_index("event_time")["estimate"]
    for e, val in R_DYNAMIC.items():
        assert dyn[e] == pytest.approx(val, abs=5e-4)
    assert res.att == pytest.approx(-0.0400, abs=5e-4)  # aggte(type="simple")
    assert res.diagnostics["n_never_treated"] == 309


def test_callaway_santanna_post_cells_equal_pyfixest_saturated_sun_abraham():
    # Independent library cross-check: on a balanced panel with never-treated controls,
    # the saturated cohort x relative-period regression (pyfixest, Sun-Abraham) gives
    # CATT(g, e) = CS's ATT(g, g + e) for every e >= 0, whatever the effects (here they
    # differ by cohort and grow over time), and both ATTs weight cells by unit-periods.
    p, _ = synth.simulate_rollout(seed=5, innovation="self_service_kiosk", n_units=44)
    assert p.groupby("first_treated")["unit_id"].nunique().nunique() > 1  # unequal cohorts
    cs = inv.estimate(p, estimator="callaway_santanna").tidy()
    sa = inv.estimate(p, estimator="sun_abraham")
    gt = cs[cs.term == "att_gt"].set_index(["group", "time"])["estimate"]
    cells = sa.tidy().query("term == 'cell' and event_time >= 0")
    assert len(cells) == int((gt.index.get_level_values(1)
                              >= gt.index.get_level_values(0)).sum()) > 20
    for r in cells.itertuples():
        assert r.estimate == pytest.approx(gt[(r.group, r.group + r.event_time)], abs=1e-6)
    assert sa.att == pytest.approx(float(cs.query("term == 'att'")["estimate"].iloc[0]),
                                   abs=1e-6)


def test_sun_abraham_dynamic_matches_pyfixest_aggregate():
    # reference: pyfixest's own SaturatedEventStudy.aggregate() (cohort shares per period)
    import pyfixest as pf

    p, _ = synth.simulate_rollout(seed=5, innovation="self_service_kiosk", n_units=44)
    sa = inv.estimate(p, estimator="sun_abraham").tidy()
    s = p.assign(g=p["first_treated"].fillna(-1) + 1, t1=p["t"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.event_study(s, yname="margin", idname="unit_id", tname="t1", gname="g",
                             estimator="saturated")
        agg = fit.aggregate().astype(float)
    dyn = sa.query("term == 'dynamic' and not reference").set_index("event_time")
    for e, row in agg.iterrows():
        assert dyn.loc[e, "estimate"] == pytest.approx(row["Estimate"], rel=1e-8)
        assert dyn.loc[e, "std_error"] == pytest.approx(row["Std. Error"], rel=1e-8)


def test_cs_standard_error_equals_two_group_hc0():
    # For one (g, t) cell the IF SE equals the HC0 SE of regressing the long
    # difference on a group dummy (statsmodels; two-sample variance with 1/n).
    p, _ = synth.simulate_rollout(seed=5, innovation="self_service_kiosk")
    res = inv.estimate(p, estimator="callaway_santanna")
    cell = res.tidy().query("term == 'att_gt' and time >= group").iloc[-1]
    g, tt = int(cell["group"]), int(cell["time"])
    w = p.pivot(index="unit_id", columns="t", values="margin")
    first = p.groupby("unit_id")["first_treated"].first()
    sel = first.isna() | (first == g)
    dy = (w[tt] - w[g - 1])[sel]
    x = sm.add_constant((first[sel] == g).astype(float))
    fit = sm.OLS(dy, x).fit(cov_type="HC0")
    assert cell["estimate"] == pytest.approx(fit.params.iloc[1], abs=1e-8)
    assert cell["std_error"] == pytest.approx(fit.bse.iloc[1], rel=1e-8)


def test_estimators_reject_bad_input():
    p, _ = synth.simulate_rollout(seed=1, innovation="self_service_kiosk")
    with pytest.raises(ParameterError, match="estimator"):
        inv.estimate(p, estimator="before_after")
    with pytest.raises(DataError, match="no column"):  # a missing column: cxlib.errors rule
        inv.twfe(p, outcome="churn")
    never = p[p["first_treated"].notna()]
    with pytest.raises(EstimationError, match="never-treated"):
        inv.estimate(never, estimator="callaway_santanna")
    with pytest.raises(EstimationError, match="never-treated"):
        inv.estimate(never, estimator="sun_abraham")
    # with not-yet-treated controls the early cohorts are compared with later adopters
    r = inv.estimate(never, estimator="callaway_santanna", control_group="not_yet_treated")
    assert np.isfinite(r.att) and r.diagnostics["control_group"] == "not_yet_treated"
