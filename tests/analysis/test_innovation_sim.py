"""Innovation effects on simulated roll-outs and the sample world: planted truth recovered.

The generator plants effects that differ by cohort and grow after adoption, with AR(1)
noise within unit (cxlib.data.synth: _innovation_effects, _ar1_noise); the target is the
overall ATT over treated unit-periods (truth["att_margin_per_unit_period"]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import innovation as inv
from cxlib.data import datasets, synth

N_SIMS = 100


def never_treated_autocorrelation(p: pd.DataFrame) -> float:
    """Lag-1 autocorrelation of never-treated units' margin after removing unit and period
    means (their noise: no innovation effect there)."""
    w = p[p["first_treated"].isna()].pivot(index="unit_id", columns="t", values="margin")
    e = w.to_numpy()
    e = e - e.mean(1, keepdims=True) - e.mean(0, keepdims=True) + e.mean()
    return float((e[:, 1:] * e[:, :-1]).sum() / (e * e).sum())


def test_robust_estimator_covers_the_planted_att_where_twfe_does_not():
    # 100 simulated roll-outs (40 branches, 24 months, 3 cohorts with different and
    # growing effects, AR(1) noise). Callaway-Sant'Anna's 95% interval must cover the
    # planted overall ATT in >= 90% of them; static TWFE is biased (its comparisons of
    # late with early adopters subtract growing effects) and covers far less often.
    cs_hits = tw_hits = 0
    cs_err, tw_err, rho = [], [], []
    for seed in range(100, 100 + N_SIMS):
        p, truth = synth.simulate_rollout(seed=seed, innovation="self_service_kiosk")
        att = truth["att_margin_per_unit_period"]
        r = inv.estimate(p, estimator="callaway_santanna")
        cs_hits += abs(r.att - att) <= 1.96 * r.se
        cs_err.append(r.att - att)
        b, se = inv.twfe_numpy(p["margin"].to_numpy(), p["treated"].to_numpy(),
                               p["unit_id"].to_numpy(), p["t"].to_numpy())
        tw_hits += abs(b - att) <= 1.96 * se
        tw_err.append(b - att)
        rho.append(never_treated_autocorrelation(p))
    assert cs_hits / N_SIMS >= 0.90, cs_hits
    mc = np.std(cs_err) / np.sqrt(N_SIMS)
    assert abs(np.mean(cs_err)) < 3 * mc  # unbiased within Monte-Carlo error
    assert tw_hits / N_SIMS < 0.75, tw_hits
    assert np.mean(tw_err) < -10 * np.std(tw_err) / np.sqrt(N_SIMS)  # biased downwards
    # the planted AR(1) noise (0.6) is there, so errors must be clustered by unit; the
    # two-way demeaning biases the estimate down by about (1 + 3 rho) / T = 0.12
    assert 0.4 < np.mean(rho) < 0.6, np.mean(rho)


def test_pretrend_test_size_and_power():
    # size: no planted pre-trend -> rejects at 5% in about 5% of roll-outs (<= 12% of 100);
    # power: treated units drifting by 250 a month (sd of the noise 350) -> >= 80% of 40
    def rejects(pretrend: float, seeds: range) -> float:
        out = []
        for seed in seeds:
            p, _ = synth.simulate_rollout(seed=seed, innovation="self_service_kiosk",
                                          pretrend=pretrend)
            out.append(inv.pretrend(p)["p_value"] < 0.05)
        return float(np.mean(out))

    assert rejects(0.0, range(500, 600)) <= 0.12
    assert rejects(250.0, range(700, 740)) >= 0.80


@pytest.mark.parametrize("estimator", inv.ESTIMATORS)
def test_planted_pretrend_blocks_the_decision(estimator):
    p, truth = synth.simulate_rollout(seed=11, innovation="self_service_kiosk", pretrend=250.0)
    pre = inv.pretrend(p)
    assert pre["p_value"] < 0.05
    r = inv.estimate(p, estimator=estimator)
    m = inv.money(r.att, r.se, **inv.exposure(p), cost_per_period=truth["cost_per_unit_period"],
                  one_off_cost=truth["one_off_cost"])
    verdict = inv.decide(m, pretrend_p=pre["p_value"])
    assert verdict["decision"] == "no decision"
    assert "pre-trend" in verdict["reason"]
    # the same roll-out without the planted drift is decided as planted
    q, _ = synth.simulate_rollout(seed=11, innovation="self_service_kiosk")
    assert inv.pretrend(q)["p_value"] >= 0.05


PLANTED = {"scale": "scale", "roll_back": "roll back"}


@pytest.mark.parametrize("estimator", inv.ESTIMATORS)
def test_sample_world_decisions_match_planted_truth(sample_dir, estimator):
    # every innovation of the sample world, every estimator: the one planted to pay is
    # told to scale, the one that does not to roll back, the third as planted
    w = datasets.load(sample_dir)
    truth = w.truth["innovations"]
    assert {i["decision"] for i in truth.values()} == {"scale", "roll_back"}
    for iid, info in truth.items():
        p = inv.build_panel(w.orders, w.innovations, innovation_id=iid)
        ex = inv.exposure(p)
        assert ex["treated_unit_periods"] == info["treated_unit_periods"]
        r = inv.estimate(p, estimator=estimator)
        if estimator in inv.ROBUST_ESTIMATORS:  # TWFE is biased by design here
            assert abs(r.att - info["att_margin_per_unit_period"]) < 3 * r.se, (iid, r.att)
        m = inv.money(r.att, r.se, **ex, cost_per_period=info["cost_per_unit_period"],
                      one_off_cost=info["one_off_cost"])
        verdict = inv.decide(m, pretrend_p=inv.pretrend(p)["p_value"])
        assert verdict["decision"] == PLANTED[info["decision"]], (iid, estimator, verdict)


@pytest.mark.parametrize("estimator", ["twfe", "callaway_santanna"])
def test_side_effects_match_planted_magnitudes(sample_dir, estimator):
    # truth is per customer-month (contacts) and a change of mean CSAT; the panel is per
    # branch-month: contacts effect = 0.6 planted contacts per customer-month x customers
    # of the treated branches (each customer is contacted every month), averaged over the
    # treated branch-months.
    w = datasets.load(sample_dir)
    info = w.truth["innovations"]["proactive_calls"]
    p = inv.build_panel(w.orders, w.innovations, innovation_id="proactive_calls",
                        responses=w.responses, contacts=w.contacts)
    side = inv.side_effects(p, estimator=estimator).set_index("outcome")
    assert side.loc["csat", "estimate"] == pytest.approx(
        inv.estimate(p, estimator=estimator, outcome="csat").att, rel=1e-12)  # same estimator
    customers = w.customers.groupby("branch_id").size()
    treated = p[p["treated"] == 1]
    contacts_truth = info["effect_on_contacts"] * treated["unit_id"].map(customers).mean()
    c = side.loc["contacts"]
    assert c["ci_low"] > 0 and abs(c["estimate"] - contacts_truth) < 3 * c["std_error"], (
        c["estimate"], contacts_truth)
    s = side.loc["csat"]
    assert s["ci_high"] < 0 and abs(s["estimate"] - info["effect_on_csat"]) < 3 * s["std_error"]
