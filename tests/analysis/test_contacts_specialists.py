"""Specialist continuity and staff mood (cxlib.analysis.specialists).

Independent references:
- relationship length and changes worked by hand on a tiny relationships table;
- the continuity coefficients against numpy least squares on the same dummies;
- the within-specialist mood estimate against statsmodels OLS with specialist and
  quarter dummies (the textbook two-way fixed-effects regression), and its CRV1
  standard error against the sandwich formula computed here;
- the planted effects of ``cxlib.data.synth.care`` (truth.json["care"]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import specialists as sp
from cxlib.data.synth.care import simulate_care
from cxlib.errors import DataError, EstimationError

TABLES = ("customers", "responses", "relationships", "pulse", "rates")


@pytest.fixture(scope="module")
def world() -> dict:
    tabs, truth = simulate_care(3000, seed=21, tables=TABLES)
    frame = sp.service_frame(tabs["responses"], tabs["relationships"], tabs["customers"],
                             pulse=tabs["pulse"], since="2024-01-01")
    return {"tabs": tabs, "truth": truth, "frame": frame}


def test_continuity_by_hand():
    rel = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B"],
        "specialist_id": ["S1", "S2", "S3", "S9"],
        "start_date": pd.to_datetime(["2020-01-01", "2024-03-01", "2024-09-01", "2023-01-01"]),
        "end_date": pd.to_datetime(["2024-03-01", "2024-09-01", None, "2024-06-30"]),
    })
    cust = pd.DataFrame({"customer_id": ["A", "B"], "segment": ["mass", "business"],
                         "branch_id": ["B1", "B2"],
                         "signup_date": pd.to_datetime(["2019-01-01", "2022-01-01"])})
    resp = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5"], "customer_id": ["A", "A", "A", "B", "B"],
        "date": pd.to_datetime(["2024-02-01", "2024-03-01", "2025-01-01", "2024-02-01",
                                "2024-08-01"]),
        "touchpoint_id": "after_sales_staff", "metric": "csat", "score": [5.0, 4, 3, 4, 2]})
    f = sp.service_frame(resp, rel, cust, since="2024-01-01")
    assert f["specialist_id"].tolist() == ["S1", "S2", "S3", "S9"]  # r5: relationship ended
    assert f.attrs["dropped_no_specialist"] == 1
    assert f["specialist_changes"].tolist() == [0, 1, 2, 0]
    days = [(pd.Timestamp("2024-02-01") - pd.Timestamp("2020-01-01")).days, 0,
            (pd.Timestamp("2025-01-01") - pd.Timestamp("2024-09-01")).days,
            (pd.Timestamp("2024-02-01") - pd.Timestamp("2023-01-01")).days]
    np.testing.assert_allclose(f["relationship_years"], np.array(days) / 365.25)
    assert f["account_age_years"].iloc[0] == pytest.approx(
        (pd.Timestamp("2024-02-01") - pd.Timestamp("2019-01-01")).days / 365.25)
    c = sp.customer_continuity(rel, cust, at="2024-12-31", since="2024-01-01")
    assert c["specialist_id"].iloc[0] == "S3"
    assert pd.isna(c["specialist_id"].iloc[1])
    assert c["specialist_changes"].tolist() == [2, 0]


def test_service_frame_recovers_the_generators_continuity(world):
    """The generator plants CSAT on L and k computed its own way; the frame must agree."""
    f = world["frame"]
    assert f.attrs["dropped_no_specialist"] == 0
    assert (f["relationship_years"] >= 0).all() and f["pulse"].notna().all()
    cur = f.sort_values("date").groupby("customer_id").tail(1)
    ends = world["tabs"]["customers"].set_index("customer_id")["specialist_id"]
    # a customer's last answer is served by the specialist current at the end, unless a
    # change came later
    same = (cur.set_index("customer_id")["specialist_id"] == ends.loc[cur["customer_id"]]
            .to_numpy())
    assert same.mean() > 0.8


def test_continuity_point_estimate_is_least_squares(world):
    f = world["frame"]
    res = sp.continuity_effect(f).set_index(["model", "term"])
    X = pd.get_dummies(f[["relationship_years", "specialist_changes", "segment", "branch_id",
                          "account_age_years"]], columns=["segment", "branch_id"],
                       drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    b = np.linalg.lstsq(X.to_numpy(), f["score"].to_numpy(), rcond=None)[0]
    assert res.loc[("controlled", "relationship_years"), "estimate"] == pytest.approx(b[1],
                                                                                       abs=1e-9)
    assert res.loc[("controlled", "specialist_changes"), "estimate"] == pytest.approx(b[2],
                                                                                       abs=1e-9)
    assert res.loc[("controlled", "relationship_years"), "n_clusters"] == f[
        "customer_id"].nunique()


def test_mood_within_equals_dummy_ols_and_crv1(world):
    import statsmodels.formula.api as smf

    f = world["frame"]
    res = sp.mood_effect(f).set_index(["model", "term"])
    d = f.assign(q=f["quarter_start"].astype(str))
    ols = smf.ols("score ~ pulse + pulse_prev + C(specialist_id) + C(q)", data=d).fit()
    for t in ("pulse", "pulse_prev"):
        assert res.loc[("within_specialist", t), "estimate"] == pytest.approx(ols.params[t],
                                                                               abs=1e-8)
    # CRV1 by hand: (X'X)^-1 sum_g X_g'u_g u_g'X_g (X'X)^-1 * G/(G-1) (N-1)/(N-K), with the
    # fixed effects nested in the clusters not counted in K (pyfixest's default ssc)
    Xd = ols.model.exog
    u = ols.resid.to_numpy()
    bread = np.linalg.pinv(Xd.T @ Xd)
    g = pd.factorize(d["specialist_id"])[0]
    meat = sum(np.outer(Xd[g == k].T @ u[g == k], Xd[g == k].T @ u[g == k])
               for k in np.unique(g))
    G, N = len(np.unique(g)), len(u)
    K = 2 + d["q"].nunique() - 1 + 1  # slopes + quarter dummies + intercept
    V = bread @ meat @ bread * G / (G - 1) * (N - 1) / (N - K)
    i = list(ols.params.index).index("pulse")
    assert res.loc[("within_specialist", "pulse"), "se"] == pytest.approx(np.sqrt(V[i, i]),
                                                                           rel=0.02)


def test_mood_cross_section_overstates_the_planted_effect(world):
    res = sp.mood_effect(world["frame"]).set_index(["model", "term"])
    truth = world["truth"]["mood"]["csat_per_pulse_point_same_quarter"]
    assert res.loc[("cross_section", "pulse"), "estimate"] > res.loc[
        ("within_specialist", "pulse"), "estimate"]
    assert res.loc[("cross_section", "pulse"), "ci_low"] > truth  # biased upwards


def test_bad_input(world):
    t = world["tabs"]
    bad = t["relationships"].copy()
    bad.loc[bad.index[0], "end_date"] = bad.loc[bad.index[0], "start_date"] - pd.Timedelta(
        days=3)
    with pytest.raises(DataError, match="ends before it starts"):
        sp.service_frame(t["responses"], bad, t["customers"])
    p = t["pulse"].copy()
    p.loc[p.index[0], "score"] = 7.0
    with pytest.raises(DataError, match=r"\[1, 5\]"):
        sp.service_frame(t["responses"], t["relationships"], t["customers"], pulse=p)
    with pytest.raises(EstimationError, match="no csat answers"):
        sp.service_frame(t["responses"], t["relationships"], t["customers"],
                         touchpoints=("website",))
    few = world["frame"][world["frame"]["specialist_id"].isin(["S001", "S002"])]
    with pytest.raises(EstimationError, match="at least 10"):
        sp.mood_effect(few)
    with pytest.raises(DataError, match="lacks column"):
        sp.continuity_effect(world["frame"].drop(columns="account_age_years"))
