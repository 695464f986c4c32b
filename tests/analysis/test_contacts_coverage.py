"""Coverage over simulated worlds: the intervals of the care analysis contain the planted
truth in at least 90% of 100 small worlds (cxlib.data.synth.care.simulate_care, drawn in
memory with only the tables each check needs), and the naive total-contacts curve misses
in the planted direction.

The truth (truth["care"]): segment thresholds are the planted optima exactly; the overall
satisfaction threshold is the share-weighted mean of the optima; retention and money
curves are integrated numerically over the planted covariate law (see
cxlib/data/synth/care.py). Worlds use seeds 0-99 (the same every run).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxlib.analysis import contact_money as cm
from cxlib.analysis import contacts as ct
from cxlib.analysis import specialists as sp
from cxlib.data.synth.care import INBOUND_CHANNEL_P, PROACTIVE_CHANNEL_P, simulate_care

pytestmark = pytest.mark.slow

WORLDS = 100
SEGMENTS = ("mass", "affluent", "business")


def _rates(n: int, seed: int) -> tuple:
    tabs, truth = simulate_care(n, seed=seed, tables=("rates",))
    r = tabs["rates"]
    r["proactive_per_month"] = r["proactive"] / r["months"]
    r["inbound_per_month"] = r["inbound"] / r["months"]
    r["total_per_month"] = r["proactive_per_month"] + r["inbound_per_month"]
    # the expected channel mix (what customer_rates counts from the contact rows)
    for ch, p in PROACTIVE_CHANNEL_P.items():
        r[f"proactive_{ch}"] = r["proactive"] * p
    for ch, p in INBOUND_CHANNEL_P.items():
        r[f"inbound_{ch}"] = r["inbound"] * p
    return r, truth


def test_threshold_and_money_intervals_cover_the_truth():
    hits: dict[str, list[bool]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n_boot < 200
        for w in range(WORLDS):
            r, truth = _rates(2500, w)
            dr = ct.dose_response(r, outcomes={"overall": "gaussian", "retained": "binomial",
                                               "inbound_per_month": "poisson"},
                                  n_boot=200, seed=w, min_customers=150)
            th = dr.thresholds.set_index(["group", "outcome"])
            t = truth["thresholds"]
            for g in (*SEGMENTS, "all"):
                for o, key in (("overall", "satisfaction"), ("retained", "retention")):
                    tv = (t["by_segment"][g][f"threshold_{key}"] if g != "all"
                          else t[f"overall_{key}"])
                    row = th.loc[(g, o)]
                    hits.setdefault(f"threshold {g} {o}", []).append(
                        bool(row["ci_low"] <= tv <= row["ci_high"]))
            money = truth["money"]
            m = cm.money(dr, costs=money["unit_cost"],
                         value_retained=money["value_retained_per_year"],
                         value_per_point=money["value_per_overall_point_per_year"])
            opt = m.optimum.set_index("group")
            for g in (*SEGMENTS, "all"):
                tv = (money["by_segment"][g]["money_optimal_rate"] if g != "all"
                      else money["overall_money_optimal_rate"])
                hits.setdefault(f"money {g}", []).append(
                    bool(opt.loc[g, "ci_low"] <= tv <= opt.loc[g, "ci_high"]))
    cover = {k: float(np.mean(v)) for k, v in hits.items()}
    assert all(len(v) == WORLDS for v in hits.values())
    assert min(cover.values()) >= 0.90, cover


def test_naive_total_contacts_threshold_misses_low():
    """Inbound contacts rise when satisfaction falls, so the total-contacts curve turns
    down below the total rate customers at the proactive optimum have."""
    below = {g: [] for g in SEGMENTS}
    gap = {g: [] for g in SEGMENTS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for w in range(20):
            r, truth = _rates(3000, 500 + w)
            naive = ct.dose_response(r, dose="total_per_month", outcomes={"overall": "gaussian"},
                                     n_boot=1, seed=w)
            th = naive.thresholds.set_index("group")["threshold"]
            total = truth["naive_total_contacts"]["total_per_month_at_optimum"]
            assert truth["naive_total_contacts"]["direction"] == "below"
            for g in SEGMENTS:
                below[g].append(th[g] < total[g])
                gap[g].append(th[g] - total[g])
    for g in SEGMENTS:
        assert np.mean(below[g]) >= 0.9, (g, below[g])
        assert np.mean(gap[g]) < -0.3, (g, np.mean(gap[g]))


def test_continuity_and_mood_intervals_cover_the_truth():
    hits: dict[str, list[bool]] = {}
    for w in range(WORLDS):
        tabs, truth = simulate_care(1500, seed=1000 + w, tables=(
            "customers", "responses", "relationships", "pulse", "rates"))
        f = sp.service_frame(tabs["responses"], tabs["relationships"], tabs["customers"],
                             pulse=tabs["pulse"], since="2024-01-01")
        ce = sp.continuity_effect(f).set_index(["model", "term"])
        for term, key in (("relationship_years", "csat_per_relationship_year"),
                          ("specialist_changes", "csat_per_specialist_change")):
            row, tv = ce.loc[("controlled", term)], truth["continuity"][key]
            hits.setdefault(f"continuity {term}", []).append(
                bool(row["ci_low"] <= tv <= row["ci_high"]))
        me = sp.mood_effect(f).set_index(["model", "term"])
        for term, key in (("pulse", "csat_per_pulse_point_same_quarter"),
                          ("pulse_prev", "csat_per_pulse_point_next_quarter")):
            row, tv = me.loc[("within_specialist", term)], truth["mood"][key]
            hits.setdefault(f"mood {term}", []).append(bool(row["ci_low"] <= tv <=
                                                            row["ci_high"]))
        hits.setdefault("cross-section above truth", []).append(
            bool(me.loc[("cross_section", "pulse"), "estimate"]
                 > truth["mood"]["csat_per_pulse_point_same_quarter"]))
    cover = {k: float(np.mean(v)) for k, v in hits.items()}
    assert min(v for k, v in cover.items() if not k.startswith("cross")) >= 0.90, cover
    assert cover["cross-section above truth"] >= 0.9, cover
