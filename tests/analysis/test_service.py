"""Self-service, lead times, the cut-off rule and partner touchpoints."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlib.analysis import service as sv
from cxlib.data.synth.commerce import (
    CUTOFF_HOUR,
    SIM_ORDERS_PER_YEAR,
    late_share,
    simulate_commerce,
)
from cxlib.errors import DataError, ParameterError


def test_cutoff_share_covers_planted_share_over_worlds() -> None:
    # the Wilson interval of the share of late orders covers the exact planted share
    # (sum over channels of P(hour >= 12)) in >= 276 of 300 small worlds
    # and the Garwood interval of customer-days a year covers the planted expectation
    # E[late orders] = customers x SIM_ORDERS_PER_YEAR x late share (Poisson thinning),
    # per year of the observed window (365 days = 365 / 365.25 years)
    truth = late_share(CUTOFF_HOUR)
    days = 400 * SIM_ORDERS_PER_YEAR * truth / (365 / 365.25)
    hits = day_hits = 0
    # 300 worlds (~8 s): a 95% interval covers in >= 276 of them with probability
    # 0.99 (binomial), a 90% interval mislabelled 95% only with probability 0.13
    for rep in range(300):
        t, tr = simulate_commerce(400, seed=100 + rep)
        assert tr["late_share"] == truth
        row = sv.cutoff_cost(t["orders"], cutoff=CUTOFF_HOUR, by=None).iloc[0]
        hits += bool(row["ci_low"] <= truth <= row["ci_high"])
        day_hits += bool(row["days_ci_low"] <= days <= row["days_ci_high"])
    assert hits >= 276, hits
    assert day_hits >= 276, day_hits


def test_cutoff_days_per_year_by_hand() -> None:
    o = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                      "date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-06-01",
                                              "2025-12-31"]),
                      "hour": [9, 13, 12, 18], "urgent": [False, True, False, False]})
    r = sv.cutoff_cost(o, cutoff=12).set_index("urgent")
    # 3 late orders over 365 days = 1 year (365/365.25 adjusted)
    assert r.loc["all", "n_late"] == 3 and r.loc["all", "customers_affected"] == 3
    assert r.loc["all", "customer_days_per_year"] == pytest.approx(3 / (365 / 365.25))
    assert r.loc[True, "n_late"] == 1
    s = sv.simulate_cutoff(o, cutoff=12, new_cutoff=15, n_boot=200)
    assert s["orders_saved_a_day"] == 2  # 13:00 and 12:00 ship the same day at a 15:00 cut-off


def test_later_cutoff_saves_planted_share() -> None:
    t, _ = simulate_commerce(3000, seed=7)
    s = sv.simulate_cutoff(t["orders"], cutoff=12, new_cutoff=16, n_boot=300)
    truth = late_share(12) - late_share(16)
    assert s["share_saved"] == pytest.approx(truth, abs=0.02)
    assert s["ci_low"] <= s["days_saved_per_year"] <= s["ci_high"]


def test_self_service_share_and_shift_value() -> None:
    t, _ = simulate_commerce(2000, seed=1)
    o = t["orders"].merge(t["customers"][["customer_id", "segment"]])
    ss = sv.self_service_share(o, by=())
    row = ss.iloc[0]
    assert row["ci_low"] <= 0.35 <= row["ci_high"]  # planted: online = 35% of orders
    costs = {"phone": 4.0, "email": 1.5, "sms": 0.1, "branch": 8.0, "web": 0.2}
    k = pd.DataFrame({"channel": ["phone", "phone", "branch", "web"]})
    v = sv.shift_value(k, costs, share=0.5, to="web")
    # half of 3 assisted contacts moved: 0.5 * ((4-0.2)*2 + (8-0.2)) = 7.7
    assert v["saving"] == pytest.approx(7.7) and v["contacts_moved"] == 1.5
    with pytest.raises(ParameterError):
        sv.shift_value(k, costs, share=1.5)


def test_lead_times_and_missing_columns() -> None:
    o = pd.DataFrame({"channel": ["a", "a"], "date": pd.to_datetime(["2025-01-01"] * 2),
                      "delivered_date": pd.to_datetime(["2025-01-03", "2025-01-05"]),
                      "promised_date": pd.to_datetime(["2025-01-04"] * 2)})
    r = sv.lead_times(o).iloc[0]
    assert r["mean_days"] == 3.0 and r["share_late"] == 0.5
    with pytest.raises(DataError, match="commerce"):
        sv.lead_times(o.drop(columns=["delivered_date"]))


def test_partner_share(sample_dir) -> None:
    from cxlib.data import datasets

    w = datasets.load(sample_dir)
    r = sv.partner_share(w.responses, w.catalog).set_index("owner")
    assert set(r.index) == {"own", "partner"}
    assert r.loc["partner", "n_touchpoints"] == 2


def test_generator_ships_late_orders_a_day_later() -> None:
    # the planted rule itself: an order at or after the cut-off ships the next day
    t, _ = simulate_commerce(500, seed=2)
    o = t["orders"].dropna(subset=["shipped_date"])
    wait = (o["shipped_date"] - o["date"]).dt.days
    assert (wait == (o["hour"] >= CUTOFF_HOUR).astype(int)).all()


def test_satisfaction_by_channel_by_hand() -> None:
    o = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                      "channel": ["online", "online", "store", "online"]})
    r = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "metric": "overall",
                      "score": [8.0, 4.0, 6.0, 1.0]})
    got = sv.satisfaction_by_channel(r, o).set_index("channel_type")
    assert got.loc["self_service", "mean"] == 7.0 and got.loc["assisted", "mean"] == 4.0
    assert got["n_answers"].sum() == 3  # d has no orders


def test_partner_weight_share_sums_to_one(sample_dir) -> None:
    from cxlib.data import datasets

    w = datasets.load(sample_dir)
    imp = sv.partner_importance(w.responses, w.catalog)
    r = sv.partner_share(w.responses, w.catalog, importance=imp).set_index("owner")
    assert r["weight_share"].sum() == pytest.approx(1.0)
    # the only top-level partner touchpoint is advertising: its share is the partners'
    adv = imp.set_index("touchpoint_id")["importance"]
    assert r.loc["partner", "weight_share"] == pytest.approx(adv["advertising"] / adv.sum())
