"""Care or nuisance in money: margin minus contact cost against the proactive rate.

:func:`money` turns the jointly bootstrapped dose-response curves of
:func:`cxlib.analysis.contacts.dose_response` (retention, satisfaction, inbound
contacts) into margin per customer-year minus the cost of the contacts (unit
cost per channel, a parameter): the money-optimal proactive rate with its
interval, and what moving each segment from today's rates to it is worth per
year. :func:`record_results` writes the notebook's headline figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cxlib.analysis.contacts import DoseResponse, parse_costs
from cxlib.analysis.stats import percentile_interval
from cxlib.errors import ParameterError
from cxlib.methods import note_method

__all__ = ["MoneyResult", "money", "record_results"]


@dataclass
class MoneyResult:
    """Money-optimal proactive rate per group (:func:`money`).

    Attributes
    ----------
    optimum : DataFrame
        group, money_optimal_rate, ci_low, ci_high, today_rate, value_today,
        value_at_optimum (per customer-year), worth_per_year (moving the group's
        customers from today's rates to the optimum, all of them), worth_ci_low,
        worth_ci_high, n, cost_per_proactive, cost_per_inbound.
    curves : DataFrame
        group, dose_value, value (per customer-year), ci_low, ci_high.
    """

    optimum: pd.DataFrame
    curves: pd.DataFrame


def _unit_cost(data: pd.DataFrame, direction: str, costs: Mapping[str, float],
               rows: np.ndarray) -> float:
    cols = [c for c in data.columns if c.startswith(f"{direction}_")
            and c not in (f"{direction}_per_month",)]
    counts = {c.removeprefix(f"{direction}_"): float(data.loc[rows, c].sum()) for c in cols}
    counts = {k: v for k, v in counts.items() if v > 0}
    missing = sorted(set(counts) - set(costs))
    if missing:
        raise ParameterError([f"channel {ch!r} has {direction} contacts but no unit cost; add "
                              f"it to the costs, e.g. '{ch}:1.0'" for ch in missing],
                             source="money")
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return sum(v * costs[k] for k, v in counts.items()) / total


def money(dr: DoseResponse, *, costs: Mapping[str, float] | str,
          value_retained: float | Mapping[str, float], value_per_point: float = 0.0,
          retention: str = "retained", satisfaction: str | None = "overall",
          inbound: str | None = "inbound_per_month") -> MoneyResult:
    """Margin minus contact cost as a function of the proactive rate; its optimum.

    Parameters
    ----------
    dr
        A :func:`dose_response` result on ``proactive_per_month`` whose outcomes
        include ``retention`` (binomial) and, when named, ``satisfaction`` and
        ``inbound``; its data must carry the ``proactive_<channel>`` and
        ``inbound_<channel>`` counts of :func:`customer_rates`.
    costs
        Unit cost per contact by channel (``"phone:1.2, email:0.1"`` or a mapping);
        every channel used needs one.
    value_retained
        Yearly margin of a retained customer (one number, or by group).
    value_per_point
        Yearly margin per point of the satisfaction outcome, beyond retention.
    retention, satisfaction, inbound
        The outcome columns playing these roles (None leaves a term out).

    Returns
    -------
    MoneyResult

    Notes
    -----
    Per customer-year, for group ``g`` and proactive rate ``x``::

        V_g(x) = value_retained_g P_g(x) + value_per_point S_g(x)
                 - 12 (x c_pro,g + I_g(x) c_in,g)

    with ``P, S, I`` the retention, satisfaction and inbound curves of ``dr`` and
    ``c`` the unit cost of a contact of that direction at the group's channel mix.
    The money-optimal rate maximises ``V_g``; every bootstrap resample of ``dr``
    gives one (the curves were refitted jointly), hence the percentile interval.
    The worth of moving group ``g`` is ``n_g (V_g(x_opt) - mean_i V_g(x_i))``,
    ``x_i`` each customer's rate today (clipped to the curve's range).

    Examples
    --------
    >>> from cxlib.analysis.contacts import customer_rates, dose_response
    >>> from cxlib.data.synth.care import simulate_care
    >>> t = simulate_care(2500, seed=1, tables=("contacts", "customers"))[0]
    >>> r = customer_rates(t["contacts"], t["customers"])
    >>> dr = dose_response(r, outcomes={"retained": "binomial"}, n_boot=20)
    >>> m = money(dr, costs="phone:1.2, email:0.1, sms:0.05, visit:12, messenger:0.6, "
    ...           "branch:4", value_retained=500.0, satisfaction=None, inbound=None)
    >>> sorted(m.optimum["group"])
    ['affluent', 'all', 'business', 'mass']
    """
    costs = parse_costs(costs)
    data = dr.data
    if data is None:
        raise ParameterError(["the dose-response result carries no data"], source="money")
    need = {retention: "binomial"}
    problems = [f"outcome {o!r} was not fitted by dose_response (outcomes: "
                f"{sorted(dr.outcomes)})" for o in [retention, satisfaction, inbound]
                if o is not None and o not in dr.outcomes]
    if retention in dr.outcomes and dr.outcomes[retention] != need[retention]:
        problems.append(f"retention outcome {retention!r} must be binomial")
    if problems:
        raise ParameterError(problems, source="money")
    inc = dr.groups.loc[dr.groups["included"], "group"].tolist()
    labels = data[dr.by].astype(str) if dr.by else pd.Series("all", index=data.index)
    groups = [*inc, *(["all"] if dr.by else [])]

    def vr(g: str) -> float:
        if isinstance(value_retained, Mapping):
            if g not in value_retained:
                raise ParameterError([f"value_retained has no value for group {g!r}"],
                                     source="money")
            return float(value_retained[g])
        return float(value_retained)

    unit: dict[str, tuple[float, float]] = {}
    for g in inc:
        rows = np.flatnonzero((labels == g).to_numpy())
        unit[g] = (_unit_cost(data, "proactive", costs, rows),
                   _unit_cost(data, "inbound", costs, rows) if inbound else 0.0)

    def value(g: str, grid: np.ndarray, ret: np.ndarray, sat: np.ndarray | None,
              inb: np.ndarray | None) -> np.ndarray:
        c_pro, c_in = unit[g]
        v = vr(g) * ret - 12 * grid * c_pro
        if sat is not None:
            v = v + value_per_point * sat
        if inb is not None:
            v = v - 12 * inb * c_in
        return v

    def group_values(src: Mapping[tuple[str, str], np.ndarray], b: int | None
                     ) -> dict[str, np.ndarray]:
        out = {}
        for g in inc:
            def get(o: str | None, g: str = g) -> np.ndarray | None:
                if o is None:
                    return None
                a = src[(g, o)]
                return a if b is None else a[b]
            out[g] = value(g, dr.grids[g], get(retention), get(satisfaction), get(inbound))
        return out

    n = {g: int((labels == g).sum()) for g in inc}
    tot = sum(n.values())
    # the overall value curve: group value curves evaluated on the common grid
    def overall(b: int | None) -> np.ndarray:
        acc = 0.0
        for g in inc:
            src = dr.point if b is None else {k: v[b] for k, v in dr.boot.items()}
            # group curves on the common grid, by interpolation of the group curve
            v = value(g, dr.grids["all"],
                      np.interp(dr.grids["all"], dr.grids[g], src[(g, retention)]),
                      None if satisfaction is None else np.interp(
                          dr.grids["all"], dr.grids[g], src[(g, satisfaction)]),
                      None if inbound is None else np.interp(
                          dr.grids["all"], dr.grids[g], src[(g, inbound)]))
            acc = acc + n[g] / tot * v
        return acc

    def summarise(vals: dict[str, np.ndarray]) -> dict[str, tuple[float, float, float, float]]:
        res = {}
        today = {g: float(np.mean(np.interp(_dose(g), dr.grids[g], vals[g]))) for g in inc}
        if dr.by:
            today["all"] = sum(n[g] * today[g] for g in inc) / tot
        for g in groups:
            v = vals[g]
            i = int(np.argmax(v))
            size = tot if g == "all" else n[g]
            res[g] = (float(dr.grids[g][i]), float(v[i]), today[g],
                      float(size * (float(v[i]) - today[g])))
        return res

    def _dose(g: str) -> np.ndarray:
        return data.loc[labels == g, dr.dose].to_numpy(float)

    pv = group_values(dr.point, None)
    if dr.by:
        pv["all"] = overall(None)
    point = summarise(pv)
    draws = {g: [] for g in groups}
    curves_b = {g: [] for g in groups}
    for b in range(dr.n_boot):
        bv = group_values(dr.boot, b)
        if dr.by:
            bv["all"] = overall(b)
        s = summarise(bv)
        for g in groups:
            draws[g].append(s[g])
            curves_b[g].append(bv[g])
    rows, crow = [], []
    for g in groups:
        d = np.array(draws[g])
        lo, hi = percentile_interval(d, dr.alpha)
        x_opt, v_opt, today, worth = point[g]
        rows.append({"group": g, "money_optimal_rate": x_opt, "ci_low": float(lo[0]),
                     "ci_high": float(hi[0]), "today_rate": float(np.mean(_dose(g))) if g != "all"
                     else float(data[dr.dose].mean()), "value_today": today,
                     "value_at_optimum": v_opt, "worth_per_year": worth,
                     "worth_ci_low": float(lo[3]), "worth_ci_high": float(hi[3]),
                     "n": n.get(g, tot),
                     "cost_per_proactive": unit[g][0] if g in unit else np.nan,
                     "cost_per_inbound": unit[g][1] if g in unit else np.nan})
        c_lo, c_hi = percentile_interval(np.array(curves_b[g]), dr.alpha)
        crow.append(pd.DataFrame({"group": g, "dose_value": dr.grids[g], "value": pv[g],
                                  "ci_low": c_lo, "ci_high": c_hi}))
    note_method("money-optimal contact rate",
                "margin from retention (and satisfaction) minus contact costs on the "
                "dose-response curves; optimum = argmax; joint percentile bootstrap",
                costs=costs, value_per_point=value_per_point, n_boot=dr.n_boot)
    return MoneyResult(pd.DataFrame(rows), pd.concat(crow, ignore_index=True))



def record_results(out: Any, *, dose_response: DoseResponse, money_result: MoneyResult | None,
                   outcome: str, continuity: pd.DataFrame | None = None,
                   mood: pd.DataFrame | None = None) -> None:
    """Headline figures of the care notebook into a results file (``Results``-like).

    Per group: the nuisance threshold of ``outcome`` and the money-optimal rate with
    their intervals, and the yearly worth of moving to it; the controlled
    continuity effects and the within-specialist mood effects.
    """
    th = dose_response.thresholds
    for r in th[th["outcome"] == outcome].itertuples():
        out.headline(f"threshold_{r.group}", None if pd.isna(r.threshold) else r.threshold,
                     label=f"nuisance threshold ({outcome}), {r.group}",
                     ci=None if pd.isna(r.threshold) else (r.ci_low, r.ci_high), n=int(r.n),
                     unit="proactive contacts per customer-month", flag=r.flag or None,
                     today=r.today_rate)
    if money_result is not None:
        for r in money_result.optimum.itertuples():
            out.headline(f"money_optimal_{r.group}", r.money_optimal_rate,
                         label=f"money-optimal proactive rate, {r.group}",
                         ci=(r.ci_low, r.ci_high), n=int(r.n),
                         unit="proactive contacts per customer-month", today=r.today_rate)
            out.headline(f"worth_per_year_{r.group}", r.worth_per_year,
                         label=f"worth of moving {r.group} to the money-optimal rate",
                         ci=(r.worth_ci_low, r.worth_ci_high), n=int(r.n),
                         unit="margin per year")
        out.table("money_optimum", money_result.optimum)
    out.table("thresholds", th)
    out.table("caps", dose_response.caps())
    if continuity is not None:
        for r in continuity[continuity["model"] == "controlled"].itertuples():
            out.headline(f"continuity_{r.term}", r.estimate, label=f"CSAT per {r.term}",
                         ci=(r.ci_low, r.ci_high), n=int(r.n), unit="CSAT points")
        out.table("continuity", continuity)
    if mood is not None:
        for r in mood[mood["model"] == "within_specialist"].itertuples():
            out.headline(f"mood_{r.term}", r.estimate, label=f"CSAT per pulse point ({r.term})",
                         ci=(r.ci_low, r.ci_high), n=int(r.n), unit="CSAT points")
        out.table("mood", mood)

