"""Does a service innovation pay? Causal effect on margin versus its cost.

Every new service (a channel, more calls, more staff) costs money; keep it only
if it raises margin by more than it costs (seed 003). The effect is estimated
on a unit × period panel by difference-in-differences, never by a plain
before/after average:

* :func:`build_panel` turns orders (and CSAT answers, contacts) into the unit ×
  period panel; the estimators (TWFE, event study, Callaway–Sant'Anna, Sun–Abraham)
  and the pre-trend test live in :mod:`cxlib.analysis.did` (re-exported here);
* :func:`money` turns an effect into incremental margin, cost, net, ROI,
  payback and P(net > 0) (one cost convention, see its Notes), and
  :func:`decide` into scale / keep watching / roll back / no decision, with
  the reason in words (en, tr, az). The decision fails safe: it scales only on the
  lower end of the net margin's interval, never on an untested pre-trend.

Labels (figures, tables, reasons) are in ``cxlib/locales/messages.yml`` under
``innovation.*`` (:func:`label`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

from cxlib.analysis.did import (
    CONTROL_GROUPS,
    ESTIMATORS,
    ROBUST_ESTIMATORS,
    UNBALANCED,
    DidResult,
    callaway_santanna,
    did_2x2,
    estimate,
    event_study,
    gaps_note,
    pretrend,
    sun_abraham,
    twfe,
    twfe_numpy,
)
from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = [
    "CONTROL_GROUPS",
    "DECISIONS",
    "ESTIMATORS",
    "OUTCOMES",
    "ROBUST_ESTIMATORS",
    "UNBALANCED",
    "DidResult",
    "build_panel",
    "callaway_santanna",
    "check_parameters",
    "decide",
    "did_2x2",
    "estimate",
    "event_study",
    "exposure",
    "innovation_names",
    "label",
    "money",
    "money_display",
    "panel_summary",
    "payback_text",
    "pretrend",
    "record_results",
    "side_effects",
    "sun_abraham",
    "twfe",
    "twfe_numpy",
]

DECISIONS = ("scale", "keep watching", "roll back", "no decision")


# ---------------------------------------------------------------------- labels
def _check_language(language: str) -> None:
    from cxlib import i18n

    i18n.check_language(language, source="cxlib.analysis.innovation")


def label(key: str, language: str = "en", **fmt: Any) -> str:
    """The label ``key`` in ``language`` (en, tr, az), from ``cxlib/locales/messages.yml``.

    Looks ``innovation.<key>`` up first (this analysis's labels), then ``key`` (the
    decision words, shared with the report renderer). Unknown keys come back
    unchanged; ``fmt`` fills ``{placeholders}``.
    """
    from cxlib import i18n

    _check_language(language)
    own = f"innovation.{key}"
    text = i18n.t(own, language) if i18n.has(own) else i18n.t(key, language)
    return text.format(**fmt) if fmt else text


# ----------------------------------------------------------------------- panel
def build_panel(
    orders: pd.DataFrame,
    innovations: pd.DataFrame,
    *,
    innovation_id: str,
    unit: str = "branch_id",
    period: str = "M",
    responses: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    start: str | None = None,
    end: str | None = None,
    exclude_other_treated: bool = True,
) -> pd.DataFrame:
    """Aggregate orders (and optionally CSAT and contacts) to a unit × period panel.

    Parameters
    ----------
    orders
        Orders with ``date``, ``margin`` and the ``unit`` column.
    innovations
        The innovations table (one row per innovation × unit with ``start_date``).
    innovation_id
        Which innovation defines treatment timing.
    unit, period
        Panel unit column and pandas period frequency (``"M"`` = month).
    responses, contacts
        Optional: mean CSAT and contact counts per unit-period are added.
    start, end
        Optional period range (inclusive, e.g. ``"2024-01"``). Units that adopted
        the innovation at or before the first period of the range are DROPPED: they
        have no untreated period inside the window, so they can serve neither as
        treated units (no pre-period) nor as controls (they are treated), and keeping
        them as "already treated" would let TWFE use them as controls. Units that
        adopt after the range are untreated throughout it and count as never treated
        within the window (no anticipation assumed). Both lists are kept in
        ``panel.attrs``.
    exclude_other_treated
        Drop units that received a *different* innovation, so controls are
        never-treated units only (recommended: otherwise another innovation's
        effect contaminates the comparison).

    Returns
    -------
    DataFrame
        unit_id, period (Timestamp, period start), t (0-based period index within
        the window), margin (sum; 0 where a unit had no orders in a period — a real
        zero, not missing), n_orders, csat (mean, NaN where no answers), contacts
        (count, 0 filled), first_treated (t index of adoption, NaN = never within
        the window), treated (0/1), rel (t − first_treated, NaN for never treated).
        ``attrs``: innovation_id, dropped_already_treated (unit ids),
        adopted_after_window (unit ids), dropped_other_treated (unit ids).
    """
    for name, frame, cols in (("orders", orders, ("date", "margin", unit)),
                              ("innovations", innovations,
                               ("innovation_id", "unit_id", "start_date"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{name} lacks the column(s) {missing} needed for the panel",
                            column=missing[0], rule="required column")
    inn = innovations[innovations["innovation_id"] == innovation_id]
    if inn.empty:
        raise EstimationError(
            f"innovation {innovation_id!r} not found; one of "
            f"{sorted(innovations['innovation_id'].unique())}"
        )
    per = orders["date"].dt.to_period(period)
    g = orders.assign(_p=per).groupby([unit, "_p"])
    agg = g["margin"].sum().to_frame("margin").join(g.size().rename("n_orders"))
    periods = pd.period_range(per.min(), per.max(), freq=period)
    try:
        if start:
            periods = periods[periods >= pd.Period(start, period)]
        if end:
            periods = periods[periods <= pd.Period(end, period)]
    except ValueError as exc:
        raise ParameterError([f"start={start!r} / end={end!r}: not a period ({exc})"],
                             source="build_panel") from None
    if len(periods) < 2:
        raise ParameterError([f"start={start!r}, end={end!r}: the range holds {len(periods)} "
                              f"period(s) of the orders ({per.min()}..{per.max()}); need 2+"],
                             source="build_panel")
    units = sorted(orders[unit].dropna().unique())
    own = set(inn["unit_id"])
    dropped_other: list[str] = []
    if exclude_other_treated:
        others = set(innovations.loc[innovations["innovation_id"] != innovation_id, "unit_id"])
        dropped_other = [u for u in units if u in others and u not in own]
        units = [u for u in units if u not in set(dropped_other)]
    starts = inn.set_index("unit_id")["start_date"].dt.to_period(period)
    already = sorted(u for u in units if u in starts.index and starts[u] <= periods[0])
    after = sorted(u for u in units if u in starts.index and starts[u] > periods[-1])
    units = [u for u in units if u not in set(already)]
    if not units:
        raise EstimationError(f"no units left for {innovation_id!r} in {periods[0]}..{periods[-1]}")
    idx = pd.MultiIndex.from_product([units, periods], names=[unit, "_p"])
    panel = agg.reindex(idx).fillna({"margin": 0.0, "n_orders": 0})
    if responses is not None and unit in responses:
        r = responses[responses["metric"] == "csat"]
        csat = r.groupby([unit, r["date"].dt.to_period(period)])["score"].mean()
        csat.index.names = [unit, "_p"]
        panel["csat"] = csat.reindex(idx)
    if contacts is not None and unit in contacts:
        c = contacts.groupby([unit, contacts["date"].dt.to_period(period)]).size()
        c.index.names = [unit, "_p"]
        panel["contacts"] = c.reindex(idx).fillna(0)
    panel = panel.reset_index().rename(columns={unit: "unit_id"})
    pos = {p: i for i, p in enumerate(periods)}
    panel["t"] = panel["_p"].map(pos)
    panel["period"] = panel["_p"].dt.start_time
    first = panel["unit_id"].map(starts).map(
        lambda p: pos.get(p, np.nan) if pd.notna(p) else np.nan)
    panel["first_treated"] = first.astype(float)
    panel["treated"] = (panel["t"] >= panel["first_treated"]).astype(int)
    panel["rel"] = panel["t"] - panel["first_treated"]
    panel = panel.drop(columns="_p")
    panel.attrs.update(innovation_id=innovation_id, dropped_already_treated=already,
                       adopted_after_window=after, dropped_other_treated=dropped_other)
    return panel


OUTCOMES = ("margin", "csat", "contacts")


def check_parameters(*, estimator: str, outcome: str, control_group: str = "never_treated",
                     language: str = "en", horizon: int = 24) -> None:
    """Validate notebook parameters at once (one :class:`ParameterError` listing every problem)."""
    from cxlib import i18n

    problems = []
    if estimator not in ESTIMATORS:
        problems.append(f"estimator={estimator!r}: use one of {ESTIMATORS}")
    if outcome not in OUTCOMES:
        problems.append(f"outcome={outcome!r}: use one of {OUTCOMES}")
    if control_group not in CONTROL_GROUPS:
        problems.append(f"control_group={control_group!r}: use one of {CONTROL_GROUPS}")
    if language not in i18n.LANGUAGES:
        problems.append(f"language={language!r}: use one of {i18n.LANGUAGES}")
    if not isinstance(horizon, int) or horizon <= 0:
        problems.append(f"horizon={horizon!r}: a positive number of periods")
    if problems:
        raise ParameterError(problems, source="03_service_innovation_margin parameters")


def innovation_names(innovations: pd.DataFrame | Mapping[str, Any],
                     innovation_id: str | None = None) -> dict[str, str]:
    """An innovation's name in each report language (en, tr, az).

    Parameters
    ----------
    innovations
        The innovations table (its first row of ``innovation_id``), or one
        innovation's record (a row, a ``truth.json`` entry).
    innovation_id
        Which innovation of the table; also the name of last resort.

    Returns
    -------
    dict
        ``name_<lang>`` where the data have it (the synthetic worlds carry
        ``name_tr`` and ``name_az``), else the plain ``name`` (user data with
        one name), else the id.

    Examples
    --------
    >>> t = pd.DataFrame({"innovation_id": ["k"], "name": ["Kiosks"],
    ...                   "name_tr": ["Kiosklar"]})
    >>> innovation_names(t, "k")
    {'en': 'Kiosks', 'tr': 'Kiosklar', 'az': 'Kiosks'}
    """
    from cxlib import i18n

    row: Mapping[str, Any] = {}
    if isinstance(innovations, pd.DataFrame):
        if "innovation_id" in innovations:
            rows = innovations[innovations["innovation_id"].astype(str) == str(innovation_id)]
            row = rows.iloc[0].to_dict() if len(rows) else {}
    else:
        row = innovations

    def text(key: str) -> str:
        v = row.get(key)
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()

    plain = text("name") or str(innovation_id or row.get("innovation_id") or "")
    return {lang: text(f"name_{lang}") or plain for lang in i18n.LANGUAGES}


def panel_summary(panel: pd.DataFrame, *, name: str = "", language: str = "en") -> str:
    """One paragraph on a panel from :func:`build_panel`: units, periods, exclusions.

    ``language`` (en, tr, az) gives the words (``inv_panel*`` in the message
    catalog) and the number marks (a Turkish 2.018 is two thousand and eighteen).
    """
    from cxlib import i18n

    def n(x: Any) -> str:
        return i18n.format_number(int(x), language, digits=0)

    first = panel.groupby("unit_id")["first_treated"].first()
    periods = panel["period"].drop_duplicates().sort_values()
    lines = [i18n.t("inv_panel", language).format(
        name=name or panel.attrs.get("innovation_id", "innovation"), units=n(len(first)),
        treated=n(first.notna().sum()), waves=n(first.dropna().nunique()),
        never=n(first.isna().sum()), periods=n(len(periods)),
        first=f"{periods.iloc[0]:%Y-%m}", last=f"{periods.iloc[-1]:%Y-%m}",
        treated_periods=n(panel["treated"].sum()))]
    for key in ("dropped_already_treated", "dropped_other_treated", "adopted_after_window"):
        units = panel.attrs.get(key) or []
        if units:
            ids = ", ".join(map(str, units[:8])) + (", ..." if len(units) > 8 else "")
            lines.append(i18n.t(f"inv_panel_{key}", language).format(n=n(len(units)), ids=ids))
    return "\n".join(lines)


def record_results(out: Any, res: DidResult, *, pretrend: dict[str, Any],
                   money_table: pd.DataFrame | None, verdict: dict[str, Any],
                   side: pd.DataFrame | None, name: str, outcome: str, horizon: int,
                   language: str = "en", names: Mapping[str, str] | None = None) -> None:
    """Write the notebook's headline figures and tables into a :class:`cxlib.share.results.Results`.

    Headlines: att (with the estimator's own (1 − α) interval and ``level``),
    pretrend_p (``text`` "not tested" and ``tested`` False when the test could not
    run), and for margin net, p_net_positive, roi, payback_periods (CI; bounds beyond
    the horizon are None with ``text`` saying "not within horizon"), decision (with
    the reason, the pre-trend status and what was not tested). Tables: money,
    side_effects, event_study (the pre-trend figure's rows), estimate (the
    estimator's tidy table). ``names`` (:func:`innovation_names`) are recorded
    with the att headline, so a brief names the innovation in its own language.
    """
    att = res.tidy().query("term == 'att'").iloc[0]
    out.headline("att", res.att, label=f"Effect of {name} on {outcome} per unit-period",
                 ci=(float(att["ci_low"]), float(att["ci_high"])), n=res.n_units,
                 unit="per unit-period", estimator=res.estimator, std_error=res.se,
                 level=1 - res.alpha, n_obs=res.n_obs,
                 **({"names": dict(names)} if names else {}))
    p = pretrend["p_value"]
    tested = p is not None and bool(np.isfinite(p))
    out.headline("pretrend_p", p if tested else None, label="Pre-trend test p-value",
                 method=pretrend["method"], tested=tested,
                 text=None if tested else label("pretrend_not_tested", language))
    if money_table is not None:
        m = money_table.set_index("quantity")
        net, roi, pay = m.loc["net"], m.loc["roi"], m.loc["payback_periods"]
        out.headline("net", net["estimate"], label="Net margin after cost",
                     ci=(net["ci_low"], net["ci_high"]), level=_level(money_table))
        out.headline("p_net_positive", net["p_net_positive"], label="P(net > 0)")
        out.headline("roi", roi["estimate"], label="ROI", ci=(roi["ci_low"], roi["ci_high"]))

        def within(x: float) -> float | None:
            return float(x) if np.isfinite(x) and x <= horizon else None

        out.headline("payback_periods", within(pay["estimate"]), label="Payback (periods)",
                     ci=(within(pay["ci_low"]), within(pay["ci_high"])), unit="periods",
                     text=payback_text(money_table, horizon=horizon, language=language),
                     note=pay["note"] or None, horizon=horizon)
        out.table("money", money_table)
    out.headline("decision", verdict["decision"], label="Decision", reason=verdict["reason"],
                 pretrend=verdict.get("pretrend"), untested=verdict.get("untested") or None)
    if side is not None:
        out.table("side_effects", side)
    out.table("event_study", pretrend["event"])
    out.table("estimate", res.tidy())


def exposure(panel: pd.DataFrame, *, horizon: int = 24) -> dict[str, int]:
    """Treated unit-periods, treated units and one-off-amortised unit-periods of a panel.

    Returns
    -------
    dict
        treated_unit_periods (Σ treated), n_units (units ever treated),
        amortised_unit_periods (Σ over treated units of min(treated periods, horizon):
        the unit-periods that carry 1/horizon of a unit's one-off cost, see :func:`money`).
    """
    per_unit = panel.groupby("unit_id")["treated"].sum()
    per_unit = per_unit[per_unit > 0]
    return {"treated_unit_periods": int(per_unit.sum()), "n_units": len(per_unit),
            "amortised_unit_periods": int(np.minimum(per_unit, horizon).sum())}


# ------------------------------------------------------------------------ money
def money(
    att: float,
    se: float,
    *,
    treated_unit_periods: int,
    cost_per_period: float,
    one_off_cost: float,
    n_units: int | None = None,
    amortised_unit_periods: int | None = None,
    horizon: int = 24,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Incremental margin, cost, net, ROI, payback and P(net > 0) of an innovation.

    Parameters
    ----------
    att, se
        Effect on margin per treated unit-period and its standard error.
    treated_unit_periods
        N = treated unit-periods in the evaluated window.
    cost_per_period, one_off_cost
        Running cost per treated unit-period; one-off cost per unit.
    n_units, amortised_unit_periods
        Treated units, and A = Σ_units min(treated periods, horizon)
        (:func:`exposure` gives both). Without A, A = min(N, n_units × horizon)
        (exact when no unit is treated longer than the horizon); without both, A = N.
    horizon
        Economic life of the one-off investment in periods (straight-line
        amortisation).
    alpha
        The intervals are (1 − α) intervals; ``level`` = 1 − α is a column.

    Returns
    -------
    DataFrame
        One row per quantity (treated_unit_periods, att_per_unit_period,
        incremental_margin, running_cost, one_off_cost_amortised, incremental_cost,
        net, net_per_unit_period, roi, payback_periods): quantity, estimate,
        std_error (of the quantities linear in the ATT; 0 for the known costs, NaN for
        the payback), ci_low, ci_high, level, p_net_positive (on the "net" row), note
        ("not within horizon" where a payback bound exceeds the horizon or never
        comes).

    Notes
    -----
    One cost convention throughout — the cost of the evaluated window:

    * incremental margin M = ATT × N;
    * incremental cost C = cost_per_period × N + one_off_cost × A / horizon: the
      running cost of every treated unit-period plus the share of each unit's
      one-off cost that the window uses up (1/horizon per treated period, at most the
      whole one-off). Why amortise rather than charge the whole one-off: the window
      is usually shorter than the investment's life, and charging all of it to the
      first months would roll back every investment evaluated early; the
      question "has it paid back its one-off yet?" is answered by the payback;
    * net = M − C; ROI = net / C; net per unit-period = net / N;
    * payback (periods per unit) = one_off_cost / (ATT − cost_per_period): periods
      of the margin gain net of running cost needed to recover the one-off cost;
      infinite when the gain is ≤ 0 ("not within horizon" when beyond the horizon);
      0 when there is no one-off cost (nothing to recover: it pays back at once,
      and a running loss shows in the net).

    C is known, so every quantity is linear in the ATT except the payback, which is
    monotone in it: the (1 − α) interval of each is the ATT's normal interval
    mapped through (payback: bounds swapped). P(net > 0) = Φ((ATT − C/N) / SE).

    References
    ----------
    Straight-line amortisation and simple payback: Brealey, Myers & Allen,
    Principles of Corporate Finance, ch. 5 (payback rule).

    Examples
    --------
    >>> m = money(1000.0, 100.0, treated_unit_periods=120, n_units=10,
    ...           cost_per_period=600.0, one_off_cost=2400.0, horizon=24)
    >>> float(m.set_index("quantity").loc["net", "estimate"])
    36000.0
    """
    if treated_unit_periods <= 0:
        raise EstimationError("money: no treated unit-periods to value")
    problems = []
    if horizon <= 0:
        problems.append(f"horizon={horizon}: must be a positive number of periods")
    if not 0 < alpha < 1:
        problems.append(f"alpha={alpha}: must be between 0 and 1 (0.05 = 95% intervals)")
    if one_off_cost < 0 or cost_per_period < 0:
        problems.append(f"one_off_cost={one_off_cost}, cost_per_period={cost_per_period}: "
                        "costs cannot be negative")
    if problems:
        raise ParameterError(problems, source="money")
    z = float(ndtri(1 - alpha / 2))
    lo, hi = att - z * se, att + z * se
    N = int(treated_unit_periods)
    if amortised_unit_periods is None:
        amortised_unit_periods = N if n_units is None else min(N, n_units * horizon)
    A = int(amortised_unit_periods)
    running = cost_per_period * N
    one_off = one_off_cost * A / horizon
    cost = running + one_off

    def net(a: float) -> float:
        return a * N - cost

    def payback(a: float) -> float:
        if one_off_cost == 0:
            return 0.0  # nothing to recover
        gain = a - cost_per_period
        return one_off_cost / gain if gain > 0 else np.inf

    def roi(a: float) -> float:
        return net(a) / cost if cost > 0 else np.nan

    p_pos = float(stats.norm.sf(cost / N, loc=att, scale=se)) if se > 0 else float(att * N > cost)
    pb = (payback(att), payback(hi), payback(lo))
    roi_se = se * N / cost if cost > 0 else np.nan
    rows = [
        {"quantity": "treated_unit_periods", "estimate": N, "std_error": 0.0, "ci_low": N,
         "ci_high": N},
        {"quantity": "att_per_unit_period", "estimate": att, "std_error": se, "ci_low": lo,
         "ci_high": hi},
        {"quantity": "incremental_margin", "estimate": att * N, "std_error": se * N,
         "ci_low": lo * N, "ci_high": hi * N},
        {"quantity": "running_cost", "estimate": running, "std_error": 0.0, "ci_low": running,
         "ci_high": running},
        {"quantity": "one_off_cost_amortised", "estimate": one_off, "std_error": 0.0,
         "ci_low": one_off, "ci_high": one_off},
        {"quantity": "incremental_cost", "estimate": cost, "std_error": 0.0, "ci_low": cost,
         "ci_high": cost},
        {"quantity": "net", "estimate": net(att), "std_error": se * N, "ci_low": net(lo),
         "ci_high": net(hi), "p_net_positive": p_pos},
        {"quantity": "net_per_unit_period", "estimate": net(att) / N, "std_error": se,
         "ci_low": net(lo) / N, "ci_high": net(hi) / N},
        {"quantity": "roi", "estimate": roi(att), "std_error": roi_se, "ci_low": roi(lo),
         "ci_high": roi(hi)},
        {"quantity": "payback_periods", "estimate": pb[0], "std_error": np.nan,
         "ci_low": pb[1], "ci_high": pb[2],
         "note": "not within horizon" if max(pb) > horizon else ""},
    ]
    note_method("Innovation money", "net = ATT x treated unit-periods - (running cost + one-off "
                "cost amortised over the horizon); normal interval of the ATT carried through",
                horizon=horizon, level=1 - alpha)
    out = pd.DataFrame(rows)
    out["level"] = 1 - alpha
    out["p_net_positive"] = out["p_net_positive"].astype(float)
    out["note"] = out["note"].fillna("")
    return out[["quantity", "estimate", "std_error", "ci_low", "ci_high", "level",
                "p_net_positive", "note"]]


def _level(money_table: pd.DataFrame) -> float:
    """The interval level 1 − α of a money table (0.95 for tables without the column)."""
    if "level" in money_table and money_table["level"].notna().any():
        return float(money_table["level"].dropna().iloc[0])
    return 0.95


def _percent(level: float) -> str:
    return f"{100 * level:.4g}"


def payback_text(money_table: pd.DataFrame, *, horizon: int, language: str = "en") -> str:
    """The payback with its interval in words ("8.1 [5.2, 19.4] periods" or "not within
    horizon" for a bound beyond the horizon)."""
    from cxlib import i18n

    _check_language(language)
    r = money_table.set_index("quantity").loc["payback_periods"]

    def fmt(x: float) -> str:
        return label("not_within_horizon", language) if not np.isfinite(x) or x > horizon \
            else i18n.format_number(x, language, digits=1)

    return f"{fmt(r['estimate'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"


def money_display(money_table: pd.DataFrame, *, horizon: int,
                  language: str = "en") -> pd.DataFrame:
    """The money table for readers: quantity names, numbers and payback in ``language``.

    Returns
    -------
    DataFrame
        Columns (translated): quantity, estimate, "{level}% CI low", "{level}% CI high"
        (the level of the money table: 95 for α = 0.05) — strings formatted with the
        locale's separators (ROI and P(net > 0) as percentages, payback bounds beyond
        the horizon as "not within horizon").
    """
    from cxlib import i18n

    _check_language(language)
    m = money_table.set_index("quantity")

    def num(x: float, digits: int = 0) -> str:
        return i18n.format_number(x, language, digits) if np.isfinite(x) else "–"

    def pay(x: float) -> str:
        return label("not_within_horizon", language) if not np.isfinite(x) or x > horizon \
            else i18n.format_number(x, language, 1)

    rows = []
    for q, r in m.iterrows():
        if q == "roi":
            cells = [i18n.format_percent(v, language) if np.isfinite(v) else "–"
                     for v in (r["estimate"], r["ci_low"], r["ci_high"])]
        elif q == "payback_periods":
            cells = [pay(r["estimate"]), pay(r["ci_low"]), pay(r["ci_high"])]
        elif q in ("incremental_cost", "running_cost", "one_off_cost_amortised",
                   "treated_unit_periods"):
            cells = [num(r["estimate"]), "", ""]
        else:
            cells = [num(r["estimate"]), num(r["ci_low"]), num(r["ci_high"])]
        rows.append([label(str(q), language), *cells])
    rows.append([label("p_net_positive", language),
                 i18n.format_percent(m.loc["net", "p_net_positive"], language), "", ""])
    level = _percent(_level(money_table))
    cols = [label("quantity", language), label("estimate", language),
            label("ci_low", language, level=level), label("ci_high", language, level=level)]
    return pd.DataFrame(rows, columns=cols)


def decide(money_table: pd.DataFrame, *, pretrend_p: float | None = None,
           alpha: float | None = None, language: str = "en") -> dict[str, Any]:
    """Scale, keep watching, roll back or no decision, with the reason in words.

    Parameters
    ----------
    money_table
        From :func:`money`.
    pretrend_p
        The pre-trend test's p-value (:func:`cxlib.analysis.did.pretrend`). None (no
        test given) or NaN (no pre-period to test on, e.g. a two-period panel) means
        parallel trends were **not tested**.
    alpha
        One α for both rules: the pre-trend test rejects at p < α, and the net
        margin's interval is the (1 − α) one. None = the α the money table was made
        with; another α recomputes the net interval from its standard error.

    Returns
    -------
    dict
        decision (one of :data:`DECISIONS`), label (the decision in ``language``),
        reason (in ``language``), pretrend ("passed", "failed" or "not tested"),
        untested (what was not tested, in ``language``; "" when everything was),
        alpha, net_ci_low, net_ci_high (the interval the decision used).

    Notes
    -----
    Rules, in order (fail safe: a doubt never leads to "scale"):

    1. the pre-trend test rejects (p < α) → "no decision" (the estimate is not credible);
    2. the lower end of the (1 − α) interval of net margin above zero → "scale",
       **only when the pre-trend was tested**; untested → "keep watching", and the
       reason says what was not tested;
    3. the upper end below zero → "roll back" (stopping a loss needs no trend test,
       but the reason still says what was not tested);
    4. otherwise (the interval straddles zero) → "keep watching".

    The point estimate never decides: a positive net whose interval reaches below
    zero is "keep watching".

    Examples
    --------
    >>> m = money(1000.0, 100.0, treated_unit_periods=120, n_units=10,
    ...           cost_per_period=600.0, one_off_cost=2400.0)
    >>> decide(m, pretrend_p=0.4)["decision"], decide(m, pretrend_p=float("nan"))["decision"]
    ('scale', 'keep watching')
    """
    from cxlib import i18n

    _check_language(language)
    m = money_table.set_index("quantity")
    net = m.loc["net"]
    table_alpha = 1 - _level(money_table)
    if alpha is None:
        alpha = table_alpha
    if not 0 < alpha < 1:
        raise ParameterError([f"alpha={alpha}: must be between 0 and 1"], source="decide")
    lo, hi = float(net["ci_low"]), float(net["ci_high"])
    if abs(alpha - table_alpha) > 1e-12:
        if "std_error" not in m or not np.isfinite(net["std_error"]):
            raise ParameterError([f"alpha={alpha}: the money table was made at alpha="
                                  f"{table_alpha:g} and has no standard error; pass the same "
                                  "alpha to money() and decide()"], source="decide")
        z = float(ndtri(1 - alpha / 2))
        lo = float(net["estimate"] - z * net["std_error"])
        hi = float(net["estimate"] + z * net["std_error"])
    tested = pretrend_p is not None and bool(np.isfinite(pretrend_p))
    untested = ""
    if not tested:
        why = "untested.not_given" if pretrend_p is None else "untested.no_pre_periods"
        untested = label(why, language)
    if tested and pretrend_p < alpha:
        decision, status = "no decision", "failed"
        reason = label("reason.no decision", language,
                       p=i18n.format_number(pretrend_p, language, 3))
    else:
        status = "passed" if tested else "not tested"
        if lo > 0:
            verdict = "scale"
        elif hi < 0:
            verdict = "roll back"
        else:
            verdict = "keep watching"
        reason = label(f"reason.{verdict}", language,
                       net=i18n.format_number(net["estimate"], language, 0),
                       lo=i18n.format_number(lo, language, 0),
                       hi=i18n.format_number(hi, language, 0),
                       tup=i18n.format_number(m.loc["treated_unit_periods", "estimate"],
                                              language, 0))
        decision = verdict
        if not tested:
            reason += " " + label("reason.untested", language, why=untested)
            if verdict == "scale":
                decision = "keep watching"
    return {"decision": decision, "label": label(decision, language), "reason": reason,
            "pretrend": status, "untested": untested, "alpha": alpha,
            "net_ci_low": lo, "net_ci_high": hi}


def side_effects(panel: pd.DataFrame, *, estimator: str = "twfe",
                 outcomes: Sequence[str] = ("csat", "contacts"), alpha: float = 0.05,
                 control_group: str = "never_treated",
                 unbalanced: str = "auto", language: str = "en") -> pd.DataFrame:
    """The same estimator's ATT on satisfaction and contact volume (one row each).

    ``language`` (en, tr, az) is the note's: the note on gaps in the outcome
    (:func:`cxlib.analysis.did.gaps_note`) in its words and number marks; other
    notes (the estimator's own warnings) stay as they are.

    Returns
    -------
    DataFrame
        outcome, estimator, estimate, std_error, ci_low, ci_high, p_value,
        n_units, n_obs, note (how gaps in the outcome were handled, if any).
        Effects are per unit-period of the panel: CSAT points of the mean score;
        contacts per unit-period (e.g. per branch-month, not per customer).
    """
    rows = []
    for out in outcomes:
        if out not in panel or panel[out].notna().sum() == 0:
            continue
        r = estimate(panel, estimator=estimator, outcome=out, alpha=alpha,
                     control_group=control_group, unbalanced=unbalanced)
        row = r.tidy().query("term == 'att'").iloc[0].to_dict()
        rows.append({"outcome": out, "estimator": estimator,
                     **{k: row[k] for k in ("estimate", "std_error", "ci_low", "ci_high",
                                            "p_value")},
                     "n_units": r.n_units, "n_obs": r.n_obs,
                     "note": (gaps_note(r.diagnostics["gaps"], language)
                              if r.diagnostics.get("gaps")
                              else "; ".join(r.diagnostics.get("notes", [])[:1]))})
    return pd.DataFrame(rows)
