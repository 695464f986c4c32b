"""Fast in-memory simulators for coverage tests (surveys, innovation panels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cxlib.data.synth import constants as const
from cxlib.data.synth.arrays import id_array
from cxlib.data.synth.constants import AMORTISATION_PERIODS, INNOVATIONS
from cxlib.data.synth.customers import chunk_latents
from cxlib.data.synth.model import (
    assign_innovations,
    innovation_margin_truth,
    margin_panel,
    world_model,
)
from cxlib.data.synth.responses import responses_table
from cxlib.data.synth.truth import cached_truth
from cxlib.data.synth.world import innovations_table
from cxlib.errors import ParameterError

__all__ = ["simulate_innovation_panel", "simulate_rollout", "simulate_survey"]


def simulate_survey(n_respondents: int, *, seed: int, world_seed: int = 1
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A fresh survey of ``n_respondents`` from the fixed world ``world_seed``.

    Parameters
    ----------
    n_respondents
        Respondents (each answers the leaves they experienced, CES where
        relevant, overall and NPS on ``"journey"``).
    seed
        Sampling seed: different seeds give independent surveys of the same world.
    world_seed
        The world (planted parameters); the truth is the same for every ``seed``.

    Returns
    -------
    responses : DataFrame
        Long responses: response_id, customer_id, date, touchpoint_id, metric,
        score, scale_min, scale_max, comment, segment, region, branch_id,
        specialist_id, channel.
    truth : dict
        Same keys as ``truth.json`` (touchpoint_means is the exact population
        expectation each touchpoint's sample mean estimates).
    """
    if int(n_respondents) < 1:
        raise ParameterError([f"n_respondents={n_respondents}: need at least 1"],
                             source="simulate_survey")
    world = world_model(int(world_seed))
    truth = dict(cached_truth(int(world_seed)))
    rng = np.random.default_rng([int(seed), 9])
    n = int(n_respondents)
    lat = chunk_latents(world, rng, n)
    lat["respondent"][:] = True
    tab, _ = responses_table(world, lat, rng, id_array("C", np.arange(n) + 1, 8), 0)
    df = tab.to_pandas()
    truth.update({"seed": int(seed), "world_seed": int(world_seed), "n_responses": n,
                  "n_customers": n, "size": tab.num_rows})
    silent = [*const.NEVER_ASKED, *const.LOW_BASE]
    counts = df.loc[df["touchpoint_id"].isin(silent), "touchpoint_id"].value_counts()
    truth["coverage"] = {**truth["coverage"],
                         "n_respondents": {tp: int(counts.get(tp, 0)) for tp in silent}}
    return df, truth


def simulate_innovation_panel(*, seed: int, n_units: int = 40, n_periods: int = 24
                              ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Branch x month panel with staggered innovations and planted effects (fast).

    Parameters
    ----------
    seed
        Seed of the unit effects, cohorts and noise.
    n_units, n_periods
        Panel size (units are ``U001``...; periods are month starts from 2024-01).

    Returns
    -------
    panel : DataFrame
        unit_id, period (month start), period_index, margin (alpha_u + gamma_t +
        sum_v effect_v + AR(1) eps; effects vary by cohort and ramp up after adoption,
        see ``truth["innovations"][v]["effect_model"]``), csat (mean CSAT of the
        unit-month: unit level + effect_on_csat D + noise), contacts (per
        customer-month, effect_on_contacts D), and one
        ``treated_<innovation_id>`` 0/1 column per innovation.
    innovations : DataFrame
        The innovations contract (one row per innovation x treated unit).
    truth : dict
        ``innovations`` as in truth.json (att_margin_per_unit_period — the overall ATT of
        THIS panel's design, with att_by_cohort and att_by_event_time —, costs, pays,
        decision, starts ...), plus ``panel`` noise parameters.
    """
    if n_units < 4 or n_periods < 4:
        raise ParameterError([f"n_units={n_units}, n_periods={n_periods}: need at least 4 each"],
                             source="simulate_innovation_panel")
    wt = cached_truth(1)
    rng = np.random.default_rng([int(seed), 11])
    starts = assign_innovations(rng, n_units, n_periods)
    alpha = rng.normal(8000.0, 2500.0, n_units)
    margin, D = margin_panel(rng, alpha, starts, n_periods)
    eff_csat = np.array([wt["innovations"][v["id"]]["effect_on_csat"] for v in INNOVATIONS])
    eff_cont = np.array([v["contacts"] for v in INNOVATIONS])
    csat = (rng.normal(3.6, 0.15, n_units)[:, None] + D @ eff_csat
            + rng.normal(0.0, 0.04, (n_units, n_periods)))
    contacts = (rng.normal(1.1, 0.1, n_units)[:, None] + D @ eff_cont
                + rng.normal(0.0, 0.05, (n_units, n_periods)))
    unit_ids = [f"U{i + 1:03d}" for i in range(n_units)]
    periods = pd.date_range("2024-01-01", periods=n_periods, freq="MS")
    panel = pd.DataFrame({
        "unit_id": np.repeat(unit_ids, n_periods),
        "period": np.tile(periods.values, n_units),
        "period_index": np.tile(np.arange(n_periods), n_units),
        "margin": margin.ravel(),
        "csat": csat.ravel(),
        "contacts": contacts.ravel(),
    })
    for v, inn in enumerate(INNOVATIONS):
        panel[f"treated_{inn['id']}"] = D[:, :, v].ravel().astype(np.int64)
    inn_df = innovations_table(starts, unit_ids).to_pandas()
    innovations = {}
    margin_truth = innovation_margin_truth(starts, n_periods,
                                            [str(p.date()) for p in periods])
    for v, inn in enumerate(INNOVATIONS):
        t = dict(wt["innovations"][inn["id"]])
        t.update(margin_truth[inn["id"]])  # this panel's design: its own overall ATT
        net = (t["att_margin_per_unit_period"] - inn["cost"]
               - inn["one_off"] / AMORTISATION_PERIODS)
        t.update(net_per_unit_period=net, pays=bool(net > 0),
                 decision="scale" if net > 0 else "roll_back")
        t["unit"] = "unit_id"
        t["starts"] = {unit_ids[u]: str(periods[starts[u, v]].date())
                       for u in np.flatnonzero(starts[:, v] >= 0)}
        innovations[inn["id"]] = t
    truth = {"seed": int(seed), "n_units": n_units, "n_periods": n_periods,
             "innovations": innovations, "panel": dict(wt["panel"]),
             "never_treated": [unit_ids[u] for u in np.flatnonzero((starts < 0).all(1))]}
    return panel, inn_df, truth


def simulate_rollout(*, seed: int, innovation: str, n_units: int = 40, n_periods: int = 24,
                     pretrend: float = 0.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One innovation's analysis panel from :func:`simulate_innovation_panel` (fast).

    Keeps the units that got ``innovation`` and the never-treated ones, in the layout of
    :func:`cxlib.analysis.innovation.build_panel`.

    Parameters
    ----------
    seed, n_units, n_periods
        As in :func:`simulate_innovation_panel`.
    innovation
        One of the innovation ids (``proactive_calls``, ``self_service_kiosk``,
        ``messenger_support``).
    pretrend
        Planted violation of parallel trends: treated units' margin drifts by
        ``pretrend`` per period relative to the controls, before and after adoption
        (``margin += pretrend * (t - first_treated)``); 0 = parallel trends hold.

    Returns
    -------
    panel : DataFrame
        unit_id, period, t (0-based), margin, csat, contacts, first_treated (NaN =
        never), treated (0/1), rel (t - first_treated).
    truth : dict
        The innovation's entry of ``truth["innovations"]`` (overall ATT of this design,
        by cohort and event time, costs, decision) plus ``pretrend_per_period``.
    """
    panel, _, truth = simulate_innovation_panel(seed=seed, n_units=n_units, n_periods=n_periods)
    if innovation not in truth["innovations"]:
        raise ParameterError([f"innovation={innovation!r}: one of "
                              f"{sorted(truth['innovations'])}"], source="simulate_rollout")
    info = dict(truth["innovations"][innovation])
    keep = set(info["starts"]) | set(truth["never_treated"])
    p = panel[panel["unit_id"].isin(keep)].rename(columns={"period_index": "t"})
    treated = p[f"treated_{innovation}"]
    first = p["t"].where(treated == 1).groupby(p["unit_id"]).transform("min")
    p = p.assign(first_treated=first.astype(float), treated=treated.astype(int),
                 rel=(p["t"] - first).astype(float))
    p["margin"] = p["margin"] + pretrend * p["rel"].fillna(0.0)
    cols = ["unit_id", "period", "t", "margin", "csat", "contacts", "first_treated",
            "treated", "rel"]
    info["pretrend_per_period"] = float(pretrend)
    return p[cols].reset_index(drop=True), info

