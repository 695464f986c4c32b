"""Issue 12, "the money decision must fail safe": one named regression test per hole.

Each test says which deliberate break of the code it kills (all of them passed the
older tests); references are independent: formulas worked by hand with scipy,
statsmodels, or counts taken from the data with pandas.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from cxlib.analysis import did
from cxlib.analysis import innovation as inv
from cxlib.data import synth
from cxlib.plots.innovation import event_study_plot
from tests.conftest import shared_file_or_skip

matplotlib.use("Agg")


def table(att: float = 1000.0, se: float = 100.0, **kw) -> pd.DataFrame:
    args = {"treated_unit_periods": 120, "n_units": 10, "cost_per_period": 600.0,
            "one_off_cost": 2400.0, "horizon": 24, **kw}
    return inv.money(att, se, **args)


class Recorder:
    """Stands in for cxlib.share.results.Results: keeps what record_results writes."""

    def __init__(self) -> None:
        self.headlines: dict[str, dict] = {}
        self.tables: dict[str, pd.DataFrame] = {}

    def headline(self, key, value, **kw):
        self.headlines[key] = {"value": value, **kw}

    def table(self, key, frame):
        self.tables[key] = frame


def card_krueger_panel() -> pd.DataFrame:
    """Card & Krueger (1994) as a two-period unit panel: 391 stores, Feb and Nov 1992;
    New Jersey treated (minimum-wage rise) in the second period."""
    d = pd.read_csv(shared_file_or_skip("card_krueger_long.csv"))
    nj = d["treated"].eq("NJ")
    return pd.DataFrame({"unit_id": d["id"], "t": d["t"], "margin": d["fte"],
                         "first_treated": np.where(nj, 1.0, np.nan),
                         "treated": (nj & d["t"].eq(1)).astype(int),
                         "rel": np.where(nj, d["t"] - 1.0, np.nan)})


# ------------------------------------------------------- untestable pre-trend
def test_untestable_pretrend_never_scales_card_krueger_two_periods():
    # mutation killed: a NaN pre-trend p-value let through as if the test had passed.
    # Two periods leave no lead to test parallel trends on: the p-value is NaN, and
    # an effect whose interval is above zero must still not be scaled.
    panel = card_krueger_panel()
    pre = inv.pretrend(panel)
    assert np.isnan(pre["p_value"]) and pre["df"] == 0
    res = inv.estimate(panel, estimator="twfe")
    # Card & Krueger's DiD on FTE employment: +2.94 (this teaching panel), SE 1.32
    lo = res.att - stats.norm.ppf(0.975) * res.se
    assert res.att == pytest.approx(2.94, abs=0.01) and lo > 0
    m = inv.money(res.att, res.se, **inv.exposure(panel), cost_per_period=0.0,
                  one_off_cost=0.0, horizon=24)
    assert m.set_index("quantity").loc["net", "ci_low"] > 0  # would have said "scale"
    v = inv.decide(m, pretrend_p=pre["p_value"])
    assert v["decision"] == "keep watching"
    assert v["pretrend"] == "not tested"
    assert "not tested" in v["reason"] and "no period before adoption" in v["reason"]
    # no test given at all is not a passed test either
    assert inv.decide(m)["decision"] == "keep watching"
    assert "no pre-trend test" in inv.decide(m)["untested"]
    for language in ("tr", "az"):
        w = inv.decide(m, pretrend_p=pre["p_value"], language=language)
        assert w["decision"] == "keep watching" and w["untested"] in w["reason"]
    # ... and what the notebook records says so
    out = Recorder()
    inv.record_results(out, res, pretrend=pre, money_table=m, verdict=v, side=None,
                       name="minimum wage", outcome="margin", horizon=24)
    assert out.headlines["pretrend_p"]["tested"] is False
    assert out.headlines["pretrend_p"]["value"] is None
    assert out.headlines["pretrend_p"]["text"] == "not tested"
    assert out.headlines["decision"]["value"] == "keep watching"
    assert out.headlines["decision"]["pretrend"] == "not tested"
    assert "no period before adoption" in out.headlines["decision"]["untested"]


def test_untested_pretrend_still_rolls_back_a_loss():
    # stopping a loss is the safe direction: no trend test needed, but the reason
    # still says what was not tested
    v = inv.decide(table(att=300.0), pretrend_p=float("nan"))
    assert v["decision"] == "roll back" and "not tested" in v["reason"]


# ------------------------------------------------- the interval decides, not the point
def test_decide_on_the_interval_not_the_point_estimate():
    # mutation killed: `if net["estimate"] > 0: scale` (and the mirror for roll back).
    # ATT 750, SE 100, cost 700 per unit-period: net 6,000 > 0 but its 95% interval
    # (750 -/+ 196 - 700) x 120 = [-17,520, 29,520] straddles zero -> keep watching.
    m = table(att=750.0)
    net = m.set_index("quantity").loc["net"]
    assert net["estimate"] > 0 > net["ci_low"]
    assert inv.decide(m, pretrend_p=0.5)["decision"] == "keep watching"
    m = table(att=650.0)  # net -6,000 < 0, interval [-29,520, 17,520]
    net = m.set_index("quantity").loc["net"]
    assert net["estimate"] < 0 < net["ci_high"]
    assert inv.decide(m, pretrend_p=0.5)["decision"] == "keep watching"
    # the boundary: lower end just above / below zero (z = 1.959964)
    z = stats.norm.ppf(0.975)
    assert inv.decide(table(att=700 + z * 100 + 0.01), pretrend_p=0.5)["decision"] == "scale"
    assert inv.decide(table(att=700 + z * 100 - 0.01), pretrend_p=0.5)["decision"] == \
        "keep watching"


# ------------------------------------------------------------- 95% means 95%
def test_did_intervals_are_95_percent_and_p_values_two_sided():
    # mutations killed: z = Phi^-1(1 - alpha) (90% intervals labelled 95%) and
    # p = Phi(-|t|) (one-sided p-values) in the DiD rows. Reference: scipy's normal
    # quantile and tail worked by hand, and statsmodels' own HC1 inference on the
    # 2x2 regression (normal reference, two-sided).
    p, _ = synth.simulate_rollout(seed=5, innovation="self_service_kiosk", n_units=20)
    z = stats.norm.ppf(0.975)
    for estimator in did.ESTIMATORS:
        t = inv.estimate(p, estimator=estimator).tidy()
        t = t[t["std_error"] > 0]
        assert np.allclose(t["ci_high"] - t["estimate"], z * t["std_error"], rtol=1e-12)
        assert np.allclose(t["estimate"] - t["ci_low"], z * t["std_error"], rtol=1e-12)
        assert np.allclose(t["p_value"], 2 * stats.norm.sf(np.abs(t["estimate"]
                                                                   / t["std_error"])))
        assert (t["level"] == 0.95).all()
    d = p.assign(post=(p["t"] >= 12).astype(int), grp=p["first_treated"].notna().astype(int))
    ours = inv.did_2x2(d, outcome="margin", treated="grp", post="post").tidy().iloc[0]
    ref = smf.ols("margin ~ grp * post", data=d).fit(cov_type="HC1")
    assert ours["p_value"] == pytest.approx(ref.pvalues["grp:post"], rel=1e-9)
    lo, hi = ref.conf_int(alpha=0.05).loc["grp:post"]
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
    # a 90% interval is called 90%, in the tables and the figure
    t90 = inv.estimate(p, estimator="event_study", alpha=0.10).tidy()
    assert np.allclose(t90["level"], 0.90)
    ax = event_study_plot(t90)
    assert "estimate, 90% CI" in [x.get_text() for x in ax.get_legend().get_texts()]
    matplotlib.pyplot.close("all")
    shown = inv.money_display(table(alpha=0.10), horizon=24)
    assert list(shown.columns[2:]) == ["90% CI low", "90% CI high"]
    assert list(inv.money_display(table(), horizon=24, language="tr").columns[2:]) == [
        "%95 GA alt", "%95 GA üst"]


def test_headline_interval_follows_alpha():
    # mutation killed: the recorded ATT interval hard-coding 1.96 whatever alpha
    p, _ = synth.simulate_rollout(seed=6, innovation="self_service_kiosk", n_units=20)
    for alpha in (0.05, 0.10):
        res = inv.estimate(p, estimator="twfe", alpha=alpha)
        out = Recorder()
        inv.record_results(out, res, pretrend={"p_value": 0.5, "method": "given",
                                               "event": pd.DataFrame()},
                           money_table=None, verdict={"decision": "n/a", "reason": ""},
                           side=None, name="kiosk", outcome="margin", horizon=24)
        h = out.headlines["att"]
        z = stats.norm.ppf(1 - alpha / 2)
        assert h["ci"] == pytest.approx((res.att - z * res.se, res.att + z * res.se))
        assert h["level"] == pytest.approx(1 - alpha)


def test_decide_alpha_applies_to_the_interval_too():
    # mutation killed: decide(alpha=...) used only for the pre-trend. ATT 900, SE 100:
    # net per unit-period 200 +- z 100 -> 95%: [4, 396] (scale); 99.9%: z = 3.29 ->
    # [-129, 529] (keep watching); the interval decide used is returned.
    m = table(att=900.0)
    assert inv.decide(m, pretrend_p=0.5)["decision"] == "scale"
    v = inv.decide(m, pretrend_p=0.5, alpha=0.001)
    assert v["decision"] == "keep watching"
    z = stats.norm.ppf(1 - 0.001 / 2)
    assert v["net_ci_low"] == pytest.approx((900 - z * 100 - 700) * 120)
    # the same alpha decides on the pre-trend: p = 0.03 fails at 0.05, passes at 0.01
    assert inv.decide(m, pretrend_p=0.03)["decision"] == "no decision"
    assert inv.decide(m, pretrend_p=0.03, alpha=0.01)["decision"] == "keep watching"
    # by default decide uses the alpha the money table was made with
    m80 = table(att=800.0, alpha=0.20)  # 80%: 100 +- 128 per unit-period... straddles
    assert inv.decide(m80, pretrend_p=0.5)["alpha"] == pytest.approx(0.20)


# ----------------------------------------------------------- fitted sample size
def test_twfe_reports_the_observations_the_fit_used_njmin3():
    # mutation killed: n_obs = rows given (794) instead of rows fitted (768). njmin3
    # holds 410 stores x 2 waves (row i and row i + 410); 26 FTE values are missing,
    # so 26 stores are observed once: singletons, which the unit fixed effect absorbs
    # and pyfixest drops. Reference: the counts by hand with pandas.
    d = pd.read_csv(shared_file_or_skip("njmin3.csv"), sep=";")
    panel = pd.DataFrame({"unit_id": np.arange(len(d)) % 410, "t": d["d"],
                          "treated": d["nj"] * d["d"], "margin": d["fte"]})
    observed = panel.dropna(subset=["margin"])
    per_unit = observed.groupby("unit_id").size()
    assert len(observed) == 794 and (per_unit == 1).sum() == 26
    res = inv.twfe(panel)
    assert res.n_obs == int(per_unit[per_unit > 1].sum()) == 768
    assert res.n_units == int((per_unit > 1).sum()) == 384
    assert res.diagnostics["n_singletons_dropped"] == 26
    # the coefficient is the dummy-variable OLS on the same 768 rows (statsmodels)
    both = observed[observed["unit_id"].map(per_unit) > 1]
    ref = smf.ols("margin ~ treated + C(unit_id) + C(t)", data=both).fit()
    assert res.att == pytest.approx(ref.params["treated"], rel=1e-8)


# ---------------------------------------------------------------------- payback
def test_payback_with_zero_one_off_cost_is_immediate():
    # mutation killed: payback = 0 / gain -> inf when the gain is not positive, read
    # as "not within horizon"; with nothing to recover it pays back at once
    for att in (1000.0, 500.0):  # gain over running cost positive, then negative
        m = table(att=att, one_off_cost=0.0).set_index("quantity")
        pay = m.loc["payback_periods"]
        assert (pay["estimate"], pay["ci_low"], pay["ci_high"]) == (0.0, 0.0, 0.0)
        assert pay["note"] == ""
        assert inv.payback_text(m.reset_index(), horizon=24) == "0.0 [0.0, 0.0]"
    # a positive one-off keeps the old rule (tests/analysis/test_innovation_money.py)
    assert np.isinf(table(att=500.0).set_index("quantity").loc["payback_periods", "estimate"])
