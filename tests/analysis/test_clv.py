"""BG/NBD and Gamma-Gamma: published CDNOW fits and planted parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import clv
from cxlib.errors import EstimationError
from tests.conftest import shared_file_or_skip


def _sig3(x: float) -> float:
    return float(f"{x:.3g}")


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    from cxlib.data.cdnow import CALIBRATION_END, load_orders

    path = shared_file_or_skip("CDNOW_sample.txt")
    orders = load_orders("sample", path=path)
    assert len(orders) == 6919 and orders["customer_id"].nunique() == 2357
    return clv.rfm_summary(orders, end=CALIBRATION_END)


def test_bgnbd_reproduces_published_cdnow_fit(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 280: r = 0.243,
    # alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 (39-week calibration).
    fit = clv.fit_bgnbd(cdnow_summary)
    got = {k: _sig3(v) for k, v in fit.params.items()}
    assert got == {"r": 0.243, "alpha": 4.41, "a": 0.793, "b": 2.43}
    assert fit.loglik == pytest.approx(-9582.4, abs=0.05)
    assert int((cdnow_summary["x"] > 0).sum()) == 946


def test_gamma_gamma_reproduces_published_cdnow_fit(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005), "RFM and CLV", JMR 42(4): p = 6.25, q = 3.74,
    # gamma = 15.44 on the 946 repeat buyers of the calibration period.
    fit = clv.fit_gamma_gamma(cdnow_summary)
    assert fit.n == 946
    got = {k: _sig3(v) for k, v in fit.params.items()}
    assert got == {"p": 6.25, "q": 3.74, "gamma": 15.4}
    assert fit.params["gamma"] == pytest.approx(15.44, abs=0.005)


def test_bgnbd_recovers_planted_parameters() -> None:
    planted = {"r": 0.6, "alpha": 4.0, "a": 0.9, "b": 3.0}
    s = clv.simulate_bgnbd(6000, **planted, T=52, seed=11)
    fit = clv.fit_bgnbd(s)
    tab = fit.table().set_index("parameter")
    for k, v in planted.items():  # 95% Wald intervals (log scale) cover the truth
        assert tab.loc[k, "ci_low"] <= v <= tab.loc[k, "ci_high"], (k, tab.loc[k].to_dict())
    # P(alive) is calibrated: predicted and simulated share alive agree
    v = clv.customer_value(s, fit, horizon_weeks=26)
    assert v["p_alive"].mean() == pytest.approx(s["alive"].mean(), abs=0.02)


def test_gamma_gamma_interval_coverage_of_planted_parameters() -> None:
    # 95% Wald intervals over 20 simulated worlds: >= 15 of 20 cover each planted
    # parameter (P(<= 14 | 0.95) = 0.003); measured 0.95 over 40 worlds
    planted = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    hits = dict.fromkeys(planted, 0)
    for rep in range(20):
        s = clv.simulate_bgnbd(3000, r=0.8, alpha=3.0, a=0.5, b=3.0, T=52, seed=100 + rep,
                               spend=(6.0, 4.0, 15.0))
        tab = clv.fit_gamma_gamma(s).table().set_index("parameter")
        for k, v in planted.items():
            hits[k] += bool(tab.loc[k, "ci_low"] <= v <= tab.loc[k, "ci_high"])
    assert min(hits.values()) >= 15, hits


def test_p_alive_by_hand() -> None:
    # FHL 2005a eq. 11 worked by hand: x = 2, t_x = 10, T = 20, r = 0.5, alpha = 4,
    # a = 1, b = 3: 1 / (1 + (1/4) * (24/14)^2.5) = 0.6750...
    params = {"r": 0.5, "alpha": 4.0, "a": 1.0, "b": 3.0}
    got = clv.p_alive(params, np.array([2.0, 0.0]), np.array([10.0, 0.0]),
                      np.array([20.0, 20.0]))
    assert got[0] == pytest.approx(1 / (1 + 0.25 * (24 / 14) ** 2.5), rel=1e-12)
    assert got[1] == 1.0


def test_expected_purchases_match_simulation() -> None:
    # the unconditional check: a new customer (x = 0, t_x = 0, T = 0) buys
    # E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
    params = {"r": 0.6, "alpha": 4.0, "a": 0.9, "b": 3.0}
    e = clv.expected_purchases(params, 30.0, np.array([0.0]), np.array([0.0]), np.array([0.0]))
    s = clv.simulate_bgnbd(40000, **params, T=30, seed=3)
    # simulate_bgnbd counts purchases after time 0 within (0, T]
    assert e[0] == pytest.approx(s["x"].mean(), rel=0.03)


def test_needs_repeat_purchases() -> None:
    s = pd.DataFrame({"x": [0] * 20, "t_x": [0.0] * 20, "T": [10.0] * 20})
    with pytest.raises(EstimationError, match="repeat"):
        clv.fit_bgnbd(s)


def test_cdnow_whale_curve_on_revenue_and_profile_lookup(tmp_path) -> None:
    # real purchases (revenue only): the whale curve on revenue and the indexed lookup
    from cxlib.analysis import profitability as pf
    from cxlib.data.cdnow import load_orders
    from cxlib.data.profiles import ProfileStore, build

    orders = load_orders("master", path=shared_file_or_skip("CDNOW_master.txt"))
    assert len(orders) == 69_659 and orders["customer_id"].nunique() == 23_570
    per = orders.groupby("customer_id", as_index=False)["revenue"].sum()
    w = pf.whale_curve(per, value="revenue")
    assert w["cumulative"].iloc[-1] == pytest.approx(orders["revenue"].sum())
    assert w["cumulative_share"].is_monotonic_increasing  # revenue is never negative
    top = pf.whale_summary(per, value="revenue")["top_decile_value"] / per["revenue"].sum()
    assert 0.4 < top < 0.7  # CDNOW: the top tenth of customers bring about half the revenue
    folder = tmp_path / "cdnow"
    folder.mkdir()
    orders.to_parquet(folder / "orders.parquet", index=False)
    per[["customer_id"]].to_parquet(folder / "customers.parquet", index=False)
    store = ProfileStore.load(build(folder, out=tmp_path / "store"))
    got = store.lookup("00042")["orders"]
    assert sorted(got["order_id"]) == sorted(orders.loc[orders["customer_id"] == "00042",
                                                        "order_id"])
