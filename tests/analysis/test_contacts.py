"""Contact dose-response (cxlib.analysis.contacts, .curves): fits, counts, bad input.

References used as independent checks:
- statsmodels ``GLM`` (Gaussian, Binomial, Poisson) on the same B-spline design;
- patsy's own ``bs()`` for the basis;
- ``pd.crosstab`` for contact counts and the observed outcome by dose level;
- the planted world of ``cxlib.data.synth.care`` for the threshold's location.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import contact_money as cm
from cxlib.analysis import contacts as ct
from cxlib.analysis.curves import fit_curve, fit_glm, spline_basis
from cxlib.data.synth.care import simulate_care
from cxlib.errors import DataError, EstimationError, ParameterError

COSTS = "phone:1.2, email:0.1, sms:0.05, visit:12, messenger:0.6, branch:4"


@pytest.fixture(scope="module")
def world() -> dict:
    tabs, truth = simulate_care(3000, seed=11)
    rates = ct.customer_rates(tabs["contacts"], tabs["customers"], responses=tabs["responses"])
    return {"tabs": tabs, "truth": truth, "rates": rates}


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*a, **k)


# ------------------------------------------------------------ GLM vs statsmodels
@pytest.mark.parametrize(("outcome", "family"), [("overall", "gaussian"),
                                                 ("retained", "binomial"),
                                                 ("inbound_per_month", "poisson"),
                                                 ("complaints", "poisson")])
def test_spline_glm_equals_statsmodels_on_the_same_basis(world, outcome, family):
    import statsmodels.api as sm

    fam = {"gaussian": sm.families.Gaussian(), "binomial": sm.families.Binomial(),
           "poisson": sm.families.Poisson()}[family]
    fit = fit_curve(world["rates"], dose="proactive_per_month", outcome=outcome, family=family,
                    controls=("branch_id", "account_age_years"), df=5)
    ref = sm.GLM(fit.y, fit.X, family=fam).fit(tol=1e-12, maxiter=200)  # independent fit
    np.testing.assert_allclose(fit.coef, ref.params, atol=1e-6, rtol=0)
    # and with bootstrap frequency weights (statsmodels freq_weights)
    w = np.random.default_rng(1).integers(0, 3, len(fit.y)).astype(float)
    b = fit_glm(fit.X, fit.y, family, weights=w, start=fit.coef)
    refw = sm.GLM(fit.y, fit.X, family=fam, freq_weights=w).fit(tol=1e-12, maxiter=200)
    np.testing.assert_allclose(b, refw.params, atol=1e-6, rtol=0)


def test_basis_is_patsys_bs():
    import patsy

    x = np.random.default_rng(2).gamma(2.0, 0.7, 400)
    basis = spline_basis(x, df=5)
    ref = np.asarray(patsy.dmatrix("bs(x, df=5, degree=3) - 1", {"x": x}))
    np.testing.assert_allclose(basis(x), ref, atol=1e-12)
    grid = np.linspace(x.min(), x.max(), 7)
    np.testing.assert_allclose(basis.at_grid(grid), basis(grid), atol=0)


def test_curve_is_the_average_prediction(world):
    """The logistic curve equals the mean predicted probability with the dose set to x
    for every customer (computed here row by row)."""
    from scipy.special import expit

    fit = fit_curve(world["rates"], dose="proactive_per_month", outcome="retained",
                    family="binomial", controls=("segment", "branch_id"))
    grid = np.array([0.5, 1.0, 2.0])
    k = fit.n_spline
    B = fit.basis(grid)
    by_hand = [expit(fit.coef[0] + B[i] @ fit.coef[1:1 + k] + fit.X[:, 1 + k:] @ fit.coef[1 + k:])
               .mean() for i in range(3)]
    np.testing.assert_allclose(fit.curve(grid), by_hand, atol=1e-12)


# ------------------------------------------------------------ counts
def test_customer_rates_match_a_crosstab(world):
    c, r = world["tabs"]["contacts"], world["rates"].set_index("customer_id")
    tab = pd.crosstab(c["customer_id"].astype(str), [c["direction"].astype(str),
                                                     c["channel"].astype(str)])
    for (direction, channel), col in tab.items():
        got = r.loc[col.index, f"{direction}_{channel}"]
        np.testing.assert_array_equal(got.to_numpy(), col.to_numpy())
    per = pd.crosstab(c["customer_id"].astype(str), c["direction"].astype(str))
    np.testing.assert_allclose(r.loc[per.index, "proactive_per_month"],
                               per["proactive"] / 24)
    assert r["months"].eq(24).all()
    assert r["complaints"].sum() == c["complaint"].sum()
    # the generator's own customer-level counts agree
    sim = simulate_care(3000, seed=11, tables=("rates",))[0]["rates"].set_index("customer_id")
    np.testing.assert_array_equal(r.loc[sim.index, "proactive"], sim["proactive"])
    np.testing.assert_array_equal(r.loc[sim.index, "inbound"], sim["inbound"])
    np.testing.assert_allclose(r.loc[sim.index, "overall"], sim["overall"])


# ------------------------------------------------------------ planted shape
def test_planted_thresholds_are_found_in_a_large_world():
    tabs, truth = simulate_care(20_000, seed=5, tables=("rates",))
    r = tabs["rates"]
    r["proactive_per_month"] = r["proactive"] / r["months"]
    dr = quiet(ct.dose_response, r, outcomes={"overall": "gaussian", "retained": "binomial"},
               n_boot=40, seed=1)
    th = dr.thresholds.set_index(["group", "outcome"])
    for seg, t in truth["thresholds"]["by_segment"].items():
        assert th.loc[(seg, "overall"), "threshold"] == pytest.approx(
            t["threshold_satisfaction"], abs=0.25)
        assert th.loc[(seg, "retained"), "threshold"] == pytest.approx(
            t["threshold_retention"], abs=0.25)
    assert th.loc[("all", "overall"), "threshold"] == pytest.approx(
        truth["thresholds"]["overall_satisfaction"], abs=0.2)
    caps = dr.caps().set_index("group")
    assert caps.loc["business", "cap"] < caps.loc["business", "today_rate"]  # over-contacted


def test_lower_is_better_outcomes_turn_the_other_way(world):
    dr = quiet(ct.dose_response, world["rates"], outcomes={"inbound_per_month": "poisson"},
               n_boot=10)
    th = dr.thresholds.set_index("group")["threshold"]
    curve = dr.curves[(dr.curves["group"] == "all")]
    assert th["all"] == pytest.approx(curve.loc[curve["estimate"].idxmin(), "dose_value"])


# ------------------------------------------------------------ money
def test_money_curve_is_the_formula_on_the_curves(world):
    """V = value_retained P + value_per_point S - 12 (x c_pro + I c_in), by hand."""
    r = world["rates"]
    dr = quiet(ct.dose_response, r, outcomes={"overall": "gaussian", "retained": "binomial",
                                              "inbound_per_month": "poisson"}, n_boot=10)
    costs = ct.parse_costs(COSTS)
    m = cm.money(dr, costs=costs, value_retained={"mass": 300, "affluent": 800,
                                                  "business": 2000}, value_per_point=25)
    g = "mass"
    rows = r[r["segment"] == g]
    pro = {ch: rows[f"proactive_{ch}"].sum() for ch in ("phone", "email", "sms", "visit")}
    inb = {ch: rows[f"inbound_{ch}"].sum() for ch in ("phone", "email", "messenger", "branch")}
    c_pro = sum(costs[k] * v for k, v in pro.items()) / sum(pro.values())
    c_in = sum(costs[k] * v for k, v in inb.items()) / sum(inb.values())
    grid = dr.grids[g]
    V = (300 * dr.point[(g, "retained")] + 25 * dr.point[(g, "overall")]
         - 12 * (grid * c_pro + dr.point[(g, "inbound_per_month")] * c_in))
    curve = m.curves[m.curves["group"] == g]
    np.testing.assert_allclose(curve["value"], V, atol=1e-9)
    opt = m.optimum.set_index("group").loc[g]
    assert opt["money_optimal_rate"] == pytest.approx(grid[np.argmax(V)])
    assert opt["cost_per_proactive"] == pytest.approx(c_pro)
    x = rows["proactive_per_month"].to_numpy()
    today = np.mean(np.interp(x, grid, V))
    assert opt["worth_per_year"] == pytest.approx(len(rows) * (V.max() - today))
    # contacts cost money: the money-optimal rate is not above the retention threshold
    th = dr.thresholds.set_index(["group", "outcome"]).loc[(g, "retained"), "threshold"]
    assert opt["money_optimal_rate"] <= th + 1e-9


# ------------------------------------------------------------ bad input
def test_contacts_of_unknown_customers_are_named(world):
    c = world["tabs"]["contacts"].copy()
    c["customer_id"] = c["customer_id"].astype(str)
    c.loc[c.index[:3], "customer_id"] = "K9999999"
    with pytest.raises(DataError, match="not in the customers table") as e:
        ct.customer_rates(c, world["tabs"]["customers"])
    assert "K9999999" in str(e.value) and e.value.column == "customer_id"


def test_negative_counts_are_refused():
    d = pd.DataFrame({"calls": [0, 2, -1, 3] * 20, "churned": [0, 1, 0, 1] * 20})
    with pytest.raises(DataError, match="cannot be negative") as e:
        ct.dose_response(d, dose="calls", outcomes={"churned": "binomial"}, by=None,
                         controls=(), n_boot=200, min_customers=10)
    assert e.value.column == "calls" and "-1" in str(e.value)
    with pytest.raises(DataError, match="count >= 0"):
        ct.dose_table(d, dose="calls", outcome="churned")


def test_a_channel_without_a_unit_cost_is_named(world):
    dr = quiet(ct.dose_response, world["rates"], outcomes={"retained": "binomial"}, n_boot=5)
    with pytest.raises(ParameterError, match="'visit' has proactive contacts but no unit cost"):
        cm.money(dr, costs="phone:1.2, email:0.1, sms:0.05, messenger:0.6, branch:4",
                 value_retained=500.0, satisfaction=None, inbound=None)
    with pytest.raises(ParameterError, match="channel:cost"):
        ct.parse_costs("phone=1.2")
    with pytest.raises(ParameterError, match="cost >= 0"):
        ct.parse_costs("phone:-1")


def test_a_small_segment_is_flagged_not_hidden(world):
    r = world["rates"].copy()
    small = r.index[r["segment"] == "business"][:150]
    r = r.drop(r.index[(r["segment"] == "business")].difference(small))
    dr = quiet(ct.dose_response, r, outcomes={"overall": "gaussian"}, n_boot=5,
               min_customers=200)
    row = dr.thresholds.set_index("group").loc["business"]
    assert np.isnan(row["threshold"]) and "too few customers" in row["flag"]
    assert row["n"] == 150
    assert not dr.groups.set_index("group").loc["business", "included"]
    assert np.isfinite(dr.thresholds.set_index("group").loc["all", "threshold"])
    with pytest.raises(EstimationError, match="no group has at least"):
        quiet(ct.dose_response, r, outcomes={"overall": "gaussian"}, n_boot=5,
              min_customers=100_000)


def test_bad_parameters_are_listed_at_once(world):
    with pytest.raises(ParameterError) as e:
        ct.dose_response(world["rates"], outcomes={"overall": "normal"}, grid_points=3)
    assert len(e.value.problems) == 2
    with pytest.raises(DataError, match="must be 0/1"):
        quiet(ct.dose_response, world["rates"], outcomes={"overall": "binomial"}, n_boot=5)
    with pytest.raises(DataError, match="lacks column"):
        ct.dose_response(world["rates"], outcomes={"nps": "gaussian"}, n_boot=5)


# ------------------------------------------------------------ observed table
def test_dose_table_is_a_crosstab():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"calls": rng.poisson(1.5, 2000)})
    d["churned"] = (rng.random(2000) < 0.1 + 0.1 * (d["calls"] >= 4)).astype(int)
    t = ct.dose_table(d, dose="calls", outcome="churned", cap=4)
    lvl = d["calls"].clip(upper=4)
    ref = pd.crosstab(lvl, d["churned"], normalize="index")[1]
    np.testing.assert_array_equal(t["rate"].to_numpy(), ref.to_numpy())
    np.testing.assert_array_equal(t["n"].to_numpy(), lvl.value_counts().sort_index().to_numpy())
    assert t["dose_level"].iloc[-1] == "4+"
    # Wilson (1927) by hand for the first level
    n, p, z = t["n"].iloc[0], t["rate"].iloc[0], 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert t["ci_low"].iloc[0] == pytest.approx(centre - half)
    assert t["ci_high"].iloc[0] == pytest.approx(centre + half)


def test_rates_from_parquet_are_the_same_as_from_a_frame(world, tmp_path):
    """DuckDB counts while reading (large exports); the result equals the in-memory one."""
    t = world["tabs"]
    path = tmp_path / "contacts.parquet"
    t["contacts"].astype({"customer_id": "str", "channel": "str", "direction": "str",
                          "touchpoint_id": "str"}).to_parquet(path, index=False)
    a = ct.customer_rates(t["contacts"], t["customers"], responses=t["responses"])
    b = ct.customer_rates(path, t["customers"], responses=t["responses"])
    pd.testing.assert_frame_equal(a[sorted(a.columns)], b[sorted(b.columns)],
                                  check_dtype=False)
    bad = t["contacts"].astype({"customer_id": "str"}).head(50).copy()
    bad.loc[bad.index[0], "customer_id"] = "K9999999"
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(DataError, match="K9999999"):
        ct.customer_rates(tmp_path / "bad.parquet", t["customers"])


def test_dose_table_score_interval_equals_scipy_t_interval():
    """A score outcome's interval per dose level is the textbook t interval (scipy.stats.t)."""
    from scipy import stats

    rng = np.random.default_rng(3)
    n = 100
    df = pd.DataFrame({"dose": np.repeat([0, 1], n), "score": rng.normal(5, 2, 2 * n)})
    out = ct.dose_table(df, dose="dose", outcome="score")
    for lvl, row in out.set_index("dose_min").iterrows():
        y = df.loc[df["dose"] == lvl, "score"]
        lo, hi = stats.t.interval(0.95, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
        assert row["ci_low"] == pytest.approx(lo, rel=1e-9)
        assert row["ci_high"] == pytest.approx(hi, rel=1e-9)
