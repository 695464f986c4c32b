"""Exact population truth of a world model (the body of ``truth.json``).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.special import ndtr

from cxlib.data.synth import constants as const
from cxlib.data.synth.constants import (
    AMORTISATION_PERIODS,
    CES_CUTS,
    CES_TOUCHPOINTS,
    CONTACT_CURVATURE,
    CONTACT_LEVELS,
    CONTACT_OPTIMUM,
    CONTACT_P,
    CSAT_CUTS,
    DRIVERS,
    INNOVATIONS,
    LOW_BASE_PILOT,
    MARGIN_NOISE_SD,
    MARGIN_PER_OVERALL_POINT,
    MONTH_FE_AMPLITUDE,
    MONTH_FE_TREND,
    MONTH_STARTS,
    MOVES,
    N_MONTHS,
    NPS_CUTS,
    ORDER_RATE,
    OVERALL_CUTS,
    PANEL_NOISE_AR,
    PANEL_NOISE_SD,
    PROACTIVE_SHARE,
    REGION_BRANCHES,
    RESPONSE_RATE,
    RETENTION_CURVATURE,
    RETENTION_INTERCEPT,
    RETENTION_PER_OVERALL_LATENT,
    SEGMENT_EFFECT,
    SEGMENT_MARGIN,
    SEGMENT_P,
    SEGMENTS,
    SIGMA_CES,
    SIGMA_E,
    SIGMA_N,
    SIGMA_O,
    SIGMA_U,
    SPEC_PER_SAT_POINT,
    SPEC_PER_TENURE_YEAR,
    SPEC_SAT_CENTRE,
    SPEC_TENURE_CENTRE,
    WEAK_GAP,
    WEAK_LINKS,
    planted_constants,
)
from cxlib.data.synth.model import World, expected_score, innovation_margin_truth, world_model
from cxlib.errors import CatalogError

__all__ = ["cached_truth", "world_truth"]


def world_truth(world: World) -> dict[str, Any]:
    """Every planted parameter and exact population figure of ``world``."""
    comp = world.components()
    tr = world.treated(comp["branch"], comp["month"])
    m, _ = world.customer_mean(comp["seg"], comp["spec"], comp["lam"], tr)
    p = comp["p"]
    sd_z = math.sqrt(SIGMA_U**2 + SIGMA_E**2)
    means = {}
    shifts = np.zeros((len(world.leaves), len(p)))
    for k, tp in enumerate(world.leaves):
        shifts[k] = world.move_shift(k, comp["seg"], comp["region"], comp["month"])
        x = world.mu[k] + m + shifts[k]
        means[tp] = float(p @ (1.0 + expected_score(x, CSAT_CUTS, sd_z)))
    # CES (reversed latent) on its touchpoints
    sd_ces = math.sqrt(SIGMA_U**2 + SIGMA_E**2 + SIGMA_CES**2)
    ces = {tp: float(p @ (1.0 + expected_score(-(world.mu[world.kidx[tp]] + m), CES_CUTS,
                                                sd_ces)))
           for tp in CES_TOUCHPOINTS}
    # overall and NPS: O | component ~ N(sum w mu + m + sum w shift, var)
    w = world.w
    o_mean = float(w @ world.mu) + m * w.sum() + w @ shifts
    o_var = (w.sum() * SIGMA_U) ** 2 + float(w @ w) * SIGMA_E**2 + SIGMA_O**2
    overall_mean = float(p @ (1.0 + expected_score(o_mean, OVERALL_CUTS, math.sqrt(o_var))))
    n_sd = math.sqrt(o_var + SIGMA_N**2)
    promoters = float(p @ ndtr((o_mean - NPS_CUTS[8]) / n_sd))
    detractors = float(p @ (1.0 - ndtr((o_mean - NPS_CUTS[6]) / n_sd)))
    # weak links: recheck they are the lowest truth mean of their stage
    for stage, tp in WEAK_LINKS.items():
        others = [means[k] for k in world.leaves if world.stage_of[k] == stage and k != tp]
        if not means[tp] < min(others) - 0.2:
            raise CatalogError(f"weak link {tp} is not clearly lowest in {stage}: the catalog or "
                               "the planted WEAK_GAP changed; restore them")
    # planted moves: exact change of the expected score in the segment x period
    moves = []
    for mv in MOVES:
        k = world.kidx[mv["touchpoint_id"]]
        mask = world.move_mask(mv, comp["seg"], comp["region"], comp["month"])
        x0 = world.mu[k] + m[mask] + shifts[k][mask] - mv["latent"]
        d = (expected_score(x0 + mv["latent"], CSAT_CUTS, sd_z)
             - expected_score(x0, CSAT_CUTS, sd_z))
        moves.append({"touchpoint_id": mv["touchpoint_id"], "segment_column": mv["segment_column"],
                      "segment": mv["segment"], "metric": mv["metric"], "period": mv["period"],
                      "start": mv["start"], "end": mv["end"],
                      "delta": float(p[mask] @ d / p[mask].sum()),
                      "delta_latent": mv["latent"], "latent": mv["latent"]})
    # innovation side effects on mean CSAT (all leaves, equal weight), exact
    c0 = world.components(months=False)
    mu_all = world.mu

    def mean_csat(treat: np.ndarray, extra: float = 0.0, spec_shift: np.ndarray | None = None
                  ) -> float:
        mm, _ = world.customer_mean(c0["seg"], c0["spec"], c0["lam"], treat)
        if spec_shift is not None:
            mm = mm + spec_shift[c0["spec"]]
        e = expected_score(mu_all[None, :] + mm[:, None] + extra, CSAT_CUTS, sd_z).mean(1)
        return float(c0["p"] @ (1.0 + e) / c0["p"].sum())

    none = np.zeros((len(c0["p"]), len(INNOVATIONS)))
    base = mean_csat(none)
    innovations = {}
    month_labels = [str(m.astype("datetime64[D]")) for m in MONTH_STARTS]
    margin_truth = innovation_margin_truth(world.starts, N_MONTHS, month_labels)
    for v, inn in enumerate(INNOVATIONS):
        t1 = none.copy()
        t1[:, v] = 1.0
        mt = margin_truth[inn["id"]]
        att, cost, one_off = mt["att_margin_per_unit_period"], inn["cost"], inn["one_off"]
        pays = att > cost + one_off / AMORTISATION_PERIODS
        units = np.flatnonzero(world.starts[:, v] >= 0)
        innovations[inn["id"]] = {
            "name": inn["name"],
            **{k: inn.get(k) or inn["name"] for k in ("name_tr", "name_az")},
            "unit": "branch_id",
            **mt, "cost_per_unit_period": cost,
            "one_off_cost": one_off, "amortisation_periods": AMORTISATION_PERIODS,
            "net_per_unit_period": att - cost - one_off / AMORTISATION_PERIODS,
            "effect_on_csat": mean_csat(t1) - base,
            # direct latent part; the extra contacts act through the inverted U
            "effect_on_csat_latent": inn["csat_latent"],
            "effect_on_contacts": inn["contacts"],
            "contact_direction": inn["direction"],
            "pays": bool(pays), "decision": "scale" if pays else "roll_back",
            "starts": {world.branch_ids[u]: str(MONTH_STARTS[world.starts[u, v]].astype(
                "datetime64[D]")) for u in units},
        }
    # specialist effects as average marginal effects on mean CSAT (exact)
    one = np.ones(len(world.spec_ids))
    ame_sat = (mean_csat(none, spec_shift=0.5 * SPEC_PER_SAT_POINT * one)
               - mean_csat(none, spec_shift=-0.5 * SPEC_PER_SAT_POINT * one))
    ame_ten = (mean_csat(none, spec_shift=0.5 * SPEC_PER_TENURE_YEAR * one)
               - mean_csat(none, spec_shift=-0.5 * SPEC_PER_TENURE_YEAR * one))
    weights = {tp: float(world.w[i]) for i, tp in enumerate(world.leaves)}
    order = sorted(weights, key=lambda k: (-weights[k], k))
    return {
        "catalog": "retail",
        # the currency of every amount in the world (orders, costs, margins): the
        # briefs show money in it (a job's `currency` parameter overrides)
        "currency": "AZN",
        "period": {"start": "2024-01-01", "end": "2025-12-31"},
        "touchpoint_means": means,
        "touchpoint_latent_means": {tp: float(world.mu[i]) for i, tp in enumerate(world.leaves)},
        "experience_probability": {tp: float(world.p_exp[i])
                                   for i, tp in enumerate(world.leaves)},
        "weak_links": dict(WEAK_LINKS),
        "driver_outcome": "overall",
        "driver_weights": weights,
        "driver_order": order,
        "drivers_planted": list(DRIVERS),
        "ces_touchpoints": list(CES_TOUCHPOINTS),
        "ces_means": ces,
        "overall_mean": overall_mean,
        "nps": {"promoters": promoters, "detractors": detractors,
                "nps": 100.0 * (promoters - detractors)},
        "contact_optimum": {
            "contacts_per_month": CONTACT_OPTIMUM,
            "satisfaction_curvature_latent": CONTACT_CURVATURE,
            "retention_curvature_logit": RETENTION_CURVATURE,
            "proactive_share": PROACTIVE_SHARE,
            "note": "latent satisfaction -= curvature * (contacts_per_month - optimum)^2; "
                    "logit(retained) -= retention_curvature * (...)^2",
        },
        "retention": {
            "intercept": RETENTION_INTERCEPT,
            "per_overall_latent": RETENTION_PER_OVERALL_LATENT,
            "curvature": RETENTION_CURVATURE,
            "reference_overall_latent": float(world.w @ world.mu),
            "formula": "logit P(retained) = intercept + per_overall_latent * (O_i - "
                       "reference_overall_latent) - curvature * (contacts_per_month - "
                       "contact_optimum)^2; O_i = the overall latent, contacts_per_month = "
                       "the customer's realised contacts / 24",
        },
        "coverage": {
            "never_asked": list(const.NEVER_ASKED),
            "low_base": list(const.LOW_BASE),
            "low_base_pilot_respondents": LOW_BASE_PILOT,
            "note": "never_asked leaves are experienced (they shape overall) but no question "
                    "reaches them: blind spots. low_base leaves are asked only of the first "
                    "low_base_pilot_respondents respondents (by number): fewer than "
                    "config.MIN_BASE answers at every size. touchpoint_means stays the "
                    "population truth for them. Decided by masking after every draw.",
        },
        "specialist_effects": {
            "per_satisfaction_point": SPEC_PER_SAT_POINT,
            "per_tenure_year": SPEC_PER_TENURE_YEAR,
            "satisfaction_centre": SPEC_SAT_CENTRE,
            "tenure_centre": SPEC_TENURE_CENTRE,
            "units": "latent (sd of touchpoint noise = 1; roughly CSAT points)",
            "csat_per_satisfaction_point": ame_sat,
            "csat_per_tenure_year": ame_ten,
        },
        "margin_per_overall_point": MARGIN_PER_OVERALL_POINT,
        "margin_note": "extra margin per customer over the 24 months per point of overall "
                       "satisfaction (1-10), within branch",
        "innovations": innovations,
        "never_treated_branches": [world.branch_ids[u] for u in
                                   np.flatnonzero((world.starts < 0).all(1))],
        "planted_moves": moves,
        "panel": {"month_fe_amplitude": MONTH_FE_AMPLITUDE, "month_fe_trend": MONTH_FE_TREND,
                  "noise_sd": PANEL_NOISE_SD, "noise_ar1": PANEL_NOISE_AR},
        "model": {
            "csat_cuts": CSAT_CUTS.tolist(), "overall_cuts": OVERALL_CUTS.tolist(),
            "nps_cuts": NPS_CUTS.tolist(), "ces_cuts": CES_CUTS.tolist(),
            "sigma_u": SIGMA_U, "sigma_e": SIGMA_E, "sigma_o": SIGMA_O, "sigma_nps": SIGMA_N,
            "sigma_ces": SIGMA_CES, "segment_effects": dict(zip(SEGMENTS,
                                                               SEGMENT_EFFECT.tolist(),
                                                               strict=True)),
            "response_sampling": "Bernoulli sample of customers independent of everything: "
                                 "respondents are i.i.d. from the population; no weights",
            "response_rate": RESPONSE_RATE,
            "order_rate": ORDER_RATE,
            "segment_shares": dict(zip(SEGMENTS, SEGMENT_P.tolist(), strict=True)),
            "segment_margin": dict(zip(SEGMENTS, SEGMENT_MARGIN.tolist(), strict=True)),
            "margin_noise_sd": MARGIN_NOISE_SD,
            "region_branches": dict(REGION_BRANCHES),
            "branch_shares": dict(zip(world.branch_ids, world.branch_p.tolist(), strict=True)),
            "contact_levels": dict(zip(map(str, CONTACT_LEVELS.tolist()), CONTACT_P.tolist(),
                                       strict=True)),
            "weak_gap_latent": WEAK_GAP,
        },
        "constants": planted_constants(),
    }



@lru_cache(maxsize=8)
def cached_truth(world_seed: int) -> dict[str, Any]:
    return world_truth(world_model(world_seed))

