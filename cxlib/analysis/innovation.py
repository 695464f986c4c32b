"""Does a service innovation pay? Causal effect on margin versus its cost.

Every new service (a channel, more calls, more staff) costs money; keep it only
if it raises margin by more than it costs (seed 003). The effect is estimated
on a unit × period panel by difference-in-differences, never by a plain
before/after average:

* :func:`twfe` — two-way fixed effects, standard errors clustered by unit
  (pyfixest ``feols``, CRV1). Right when every treated unit gains the same
  amount at every date; biased when effects differ by adoption cohort or grow
  over time (it then compares late adopters with early adopters whose effect
  is still growing — Goodman-Bacon 2021).
* :func:`event_study` — leads and lags around adoption (reference period −1,
  binned endpoints) with a joint Wald pre-trend test and an aggregated effect
  whose standard error comes from the event-study covariance (w'Vw).
* :func:`callaway_santanna` — group-time ATT(g, t) for staggered roll-outs,
  robust to effects that differ across cohorts and time, with simple, dynamic
  and group aggregations; never-treated or not-yet-treated controls. Computed by
  the maintained ``diff-diff`` library (``diff_diff.CallawaySantAnna``, which
  reproduces R's ``did``); this module only prepares the panel (balancing,
  1-based periods) and tidies the result.
* :func:`sun_abraham` — Sun & Abraham's interaction-weighted event study: the
  saturated cohort × relative-period regression of pyfixest
  (``pyfixest.event_study(estimator="saturated")``), aggregated here with
  weights = treated unit-periods per cell, SE = √(w'Vw) from pyfixest's
  clustered covariance.
* :func:`pretrend` — the joint pre-trend test every decision uses, on the
  Callaway–Sant'Anna leads (not contaminated by effects that differ between
  cohorts, unlike the TWFE event study's), with a few-clusters F reference.
* :func:`money` turns an effect into incremental margin, cost, net, ROI,
  payback and P(net > 0) (one cost convention, see its Notes), and
  :func:`decide` into scale / keep watching / roll back / no decision, with
  the reason in words (en, tr, az).

Own code, and why: the aggregations w'β, √(w'Vw) with weights = treated
unit-periods (pyfixest gives β and V but aggregates the saturated event study
only by period), the pre-trend F reference (no library offers a small-sample
correction for these Wald tests), money and decisions. Everything else is
pyfixest, diff-diff or statsmodels.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr, ndtri

from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = [
    "DECISIONS",
    "ESTIMATORS",
    "LABELS",
    "DidResult",
    "build_panel",
    "callaway_santanna",
    "check_parameters",
    "decide",
    "did_2x2",
    "estimate",
    "event_study",
    "exposure",
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

ESTIMATORS = ("twfe", "event_study", "callaway_santanna", "sun_abraham")
#: Estimators robust to effects that differ by cohort and over time.
ROBUST_ESTIMATORS = ("callaway_santanna", "sun_abraham")
DECISIONS = ("scale", "keep watching", "roll back", "no decision")
CONTROL_GROUPS = ("never_treated", "not_yet_treated")
UNBALANCED = ("auto", "drop_units", "available", "error")

# ---------------------------------------------------------------------- labels
#: Labels of this analysis in English, Turkish and Azerbaijani (figures, tables,
#: reasons). ``label(key, lang)`` looks in ``cxlib.i18n`` (locales/messages.yml, which
#: holds the decision words shared with the report renderer) first, then here.
LABELS: dict[str, dict[str, str]] = {
    "event_time_axis": {"en": "periods relative to adoption (−1 = reference)",
                        "tr": "benimsemeye göre dönem (−1 = referans)",
                        "az": "tətbiqə nisbətən dövr (−1 = istinad)"},
    "effect_on": {"en": "effect on {outcome} per unit-period",
                  "tr": "birim-dönem başına {outcome} etkisi",
                  "az": "vahid-dövr üzrə {outcome} təsiri"},
    "reference": {"en": "reference period", "tr": "referans dönem", "az": "istinad dövrü"},
    "ci95": {"en": "estimate, 95% CI", "tr": "tahmin, %95 GA", "az": "qiymətləndirmə, 95% Eİ"},
    "margin": {"en": "margin", "tr": "marj", "az": "marja"},
    "csat": {"en": "CSAT", "tr": "CSAT", "az": "CSAT"},
    "contacts": {"en": "contacts", "tr": "temas sayısı", "az": "təmas sayı"},
    "churn": {"en": "churn", "tr": "müşteri kaybı", "az": "müştəri itkisi"},
    "treated_unit_periods": {"en": "treated unit-periods", "tr": "uygulanan birim-dönem",
                             "az": "tətbiq olunmuş vahid-dövr"},
    "att_per_unit_period": {"en": "effect per unit-period", "tr": "birim-dönem başına etki",
                            "az": "vahid-dövr üzrə təsir"},
    "incremental_margin": {"en": "incremental margin", "tr": "ek marj", "az": "əlavə marja"},
    "running_cost": {"en": "running cost", "tr": "işletme maliyeti", "az": "cari xərc"},
    "one_off_cost_amortised": {"en": "one-off cost (amortised)",
                               "tr": "tek seferlik maliyet (itfa edilen)",
                               "az": "birdəfəlik xərc (amortizasiya olunan)"},
    "incremental_cost": {"en": "incremental cost", "tr": "ek maliyet", "az": "əlavə xərc"},
    "net": {"en": "net margin after cost", "tr": "maliyet sonrası net marj",
            "az": "xərcdən sonra xalis marja"},
    "net_per_unit_period": {"en": "net per unit-period", "tr": "birim-dönem başına net",
                            "az": "vahid-dövr üzrə xalis"},
    "roi": {"en": "ROI", "tr": "yatırım getirisi (ROI)", "az": "investisiya gəliri (ROI)"},
    "payback_periods": {"en": "payback (periods)", "tr": "geri ödeme süresi (dönem)",
                        "az": "özünü ödəmə müddəti (dövr)"},
    "p_net_positive": {"en": "P(net > 0)", "tr": "P(net > 0)", "az": "P(xalis > 0)"},
    "not_within_horizon": {"en": "not within horizon", "tr": "ufuk içinde değil",
                           "az": "üfüq daxilində deyil"},
    "quantity": {"en": "quantity", "tr": "büyüklük", "az": "kəmiyyət"},
    "estimate": {"en": "estimate", "tr": "tahmin", "az": "qiymətləndirmə"},
    "ci_low": {"en": "95% CI low", "tr": "%95 GA alt", "az": "95% Eİ aşağı"},
    "ci_high": {"en": "95% CI high", "tr": "%95 GA üst", "az": "95% Eİ yuxarı"},
    "decision": {"en": "decision", "tr": "karar", "az": "qərar"},
    "reason.scale": {
        "en": "net margin {net} [{lo}, {hi}] over {tup} treated unit-periods is above zero: "
              "the innovation earns more margin than it costs.",
        "tr": "{tup} uygulanan birim-dönemde net marj {net} [{lo}, {hi}] sıfırın üzerinde: "
              "yenilik maliyetinden fazla marj getiriyor.",
        "az": "{tup} tətbiq olunmuş vahid-dövrdə xalis marja {net} [{lo}, {hi}] sıfırdan "
              "yuxarıdır: yenilik xərcindən çox marja gətirir."},
    "reason.roll back": {
        "en": "net margin {net} [{lo}, {hi}] over {tup} treated unit-periods is below zero: "
              "it costs more than the margin it brings.",
        "tr": "{tup} uygulanan birim-dönemde net marj {net} [{lo}, {hi}] sıfırın altında: "
              "getirdiği marjdan daha pahalıya mal oluyor.",
        "az": "{tup} tətbiq olunmuş vahid-dövrdə xalis marja {net} [{lo}, {hi}] sıfırdan "
              "aşağıdır: gətirdiyi marjadan çox xərc tələb edir."},
    "reason.keep watching": {
        "en": "net margin {net} [{lo}, {hi}] over {tup} treated unit-periods straddles zero: "
              "not yet enough evidence either way; keep measuring before scaling.",
        "tr": "{tup} uygulanan birim-dönemde net marj {net} [{lo}, {hi}] sıfırı kapsıyor: "
              "henüz iki yönde de yeterli kanıt yok; yaygınlaştırmadan önce ölçmeye devam "
              "edin.",
        "az": "{tup} tətbiq olunmuş vahid-dövrdə xalis marja {net} [{lo}, {hi}] sıfırı "
              "əhatə edir: hələ heç bir istiqamətdə kifayət qədər sübut yoxdur; "
              "genişləndirməzdən əvvəl ölçməyə davam edin."},
    "reason.no decision": {
        "en": "the pre-trend test fails (p = {p}): treated and control units already diverged "
              "before the roll-out, so the estimate is not credible. Check the comparison "
              "group before deciding.",
        "tr": "ön eğilim testi başarısız (p = {p}): uygulanan ve kontrol birimleri yenilikten "
              "önce zaten ayrışmıştı, bu yüzden tahmin güvenilir değil. Karar vermeden önce "
              "karşılaştırma grubunu kontrol edin.",
        "az": "ilkin meyil testi uğursuz oldu (p = {p}): tətbiq olunan və nəzarət vahidləri "
              "yenilikdən əvvəl artıq fərqlənirdi, ona görə qiymətləndirmə etibarlı deyil. "
              "Qərar verməzdən əvvəl müqayisə qrupunu yoxlayın."},
}


def _check_language(lang: str) -> None:
    from cxlib import i18n

    if lang not in i18n.LANGUAGES:
        raise ParameterError([f"language={lang!r}: use one of {i18n.LANGUAGES}"],
                             source="cxlib.analysis.innovation")


def label(key: str, lang: str = "en", **fmt: Any) -> str:
    """The label ``key`` in ``lang`` (en, tr, az): ``cxlib.i18n`` first, then :data:`LABELS`.

    Unknown keys come back unchanged; ``fmt`` fills ``{placeholders}``.
    """
    from cxlib import i18n

    _check_language(lang)
    text = i18n.t(key, lang)
    if text == key and key in LABELS:
        text = LABELS[key].get(lang) or LABELS[key]["en"]
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


def panel_summary(panel: pd.DataFrame, *, name: str = "") -> str:
    """One paragraph on a panel from :func:`build_panel`: units, periods, exclusions."""
    first = panel.groupby("unit_id")["first_treated"].first()
    periods = panel["period"].drop_duplicates().sort_values()
    lines = [f"{name or panel.attrs.get('innovation_id', 'innovation')}: "
             f"{len(first)} units ({int(first.notna().sum())} treated in "
             f"{first.dropna().nunique()} waves, {int(first.isna().sum())} never treated), "
             f"{len(periods)} periods ({periods.iloc[0]:%Y-%m}..{periods.iloc[-1]:%Y-%m}), "
             f"{int(panel['treated'].sum())} treated unit-periods"]
    for key, why in (("dropped_already_treated", "dropped: adopted at or before the first "
                      "period, no untreated period to compare"),
                     ("dropped_other_treated", "dropped: got another innovation"),
                     ("adopted_after_window", "adopt after the last period: untreated "
                      "controls within the window")):
        units = panel.attrs.get(key) or []
        if units:
            lines.append(f"{len(units)} units {why} ({', '.join(map(str, units[:8]))}"
                         f"{', ...' if len(units) > 8 else ''})")
    return "\n".join(lines)


def record_results(out: Any, res: DidResult, *, pretrend: dict[str, Any],
                   money_table: pd.DataFrame | None, verdict: dict[str, str],
                   side: pd.DataFrame | None, name: str, outcome: str, horizon: int,
                   language: str = "en") -> None:
    """Write the notebook's headline figures and tables into a :class:`cxlib.share.results.Results`.

    Headlines: att (with CI), pretrend_p, and for margin net, p_net_positive, roi,
    payback_periods (CI; bounds beyond the horizon are None with ``text`` saying "not
    within horizon"), decision (with the reason). Tables: money, side_effects,
    event_study (the pre-trend figure's rows), estimate (the estimator's tidy table).
    """
    out.headline("att", res.att, label=f"Effect of {name} on {outcome} per unit-period",
                 ci=(res.att - 1.959964 * res.se, res.att + 1.959964 * res.se), n=res.n_units,
                 unit="per unit-period", estimator=res.estimator, std_error=res.se)
    out.headline("pretrend_p", pretrend["p_value"], label="Pre-trend test p-value",
                 method=pretrend["method"])
    if money_table is not None:
        m = money_table.set_index("quantity")
        net, roi, pay = m.loc["net"], m.loc["roi"], m.loc["payback_periods"]
        out.headline("net", net["estimate"], label="Net margin after cost",
                     ci=(net["ci_low"], net["ci_high"]))
        out.headline("p_net_positive", net["p_net_positive"], label="P(net > 0)")
        out.headline("roi", roi["estimate"], label="ROI", ci=(roi["ci_low"], roi["ci_high"]))

        def within(x: float) -> float | None:
            return float(x) if np.isfinite(x) and x <= horizon else None

        out.headline("payback_periods", within(pay["estimate"]), label="Payback (periods)",
                     ci=(within(pay["ci_low"]), within(pay["ci_high"])), unit="periods",
                     text=payback_text(money_table, horizon=horizon, lang=language),
                     note=pay["note"] or None, horizon=horizon)
        out.table("money", money_table)
    out.headline("decision", verdict["decision"], label="Decision", reason=verdict["reason"])
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


# ---------------------------------------------------------------------- results
@dataclass
class DidResult:
    """A difference-in-differences estimate; accessors derive from :meth:`tidy`."""

    table: pd.DataFrame
    estimator: str
    n_units: int
    n_obs: int
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "reference" in self.table:  # a boolean column (False on rows that are no period)
            self.table["reference"] = self.table["reference"].astype("boolean").fillna(
                False).astype(bool)

    def tidy(self) -> pd.DataFrame:
        """Columns: term, estimate, std_error, ci_low, ci_high, p_value (+ estimator
        specific: group, time, event_time)."""
        return self.table.copy()

    @property
    def att(self) -> float:
        """The headline ATT (row ``term == "att"``)."""
        t = self.tidy()
        return float(t.loc[t["term"] == "att", "estimate"].iloc[0])

    @property
    def se(self) -> float:
        """Standard error of the headline ATT."""
        t = self.tidy()
        return float(t.loc[t["term"] == "att", "std_error"].iloc[0])

    def summary(self) -> str:
        head = f"{self.estimator}: {self.n_units} units, {self.n_obs} observations"
        diag = "; ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in self.diagnostics.items())
        body = self.tidy().to_string(index=False, float_format=lambda x: f"{x:.4f}")
        return "\n".join([head, diag, body]) if diag else "\n".join([head, body])

    def __repr__(self) -> str:
        return self.summary()


def _row(term: str, est: float, se: float, alpha: float = 0.05, **extra: Any) -> dict:
    # normal quantile and tail by scipy.special (scipy.stats' per-call overhead is ~50x)
    z = float(ndtri(1 - alpha / 2))
    p = float(2 * ndtr(-abs(est / se))) if se > 0 else np.nan
    return {"term": term, "estimate": est, "std_error": se, "ci_low": est - z * se,
            "ci_high": est + z * se, "p_value": p, **extra}


def _wald(b: np.ndarray, v: np.ndarray, m: int) -> dict[str, float]:
    """Joint Wald test of b = 0 (covariance v) with a few-clusters F reference.

    W = b'V⁺b (pseudo-inverse; q = rank of V); p from F(q, m − 1) applied to W/q,
    with m = the smaller of the numbers of treated and control units. Why: the
    covariance of pre-period contrasts is estimated from each side's units, and
    with few units (4–12 per side here) the χ²(q) reference over-rejects badly
    (17–27% at a nominal 5% in our simulations); min(n₁, n₂) − 1 is the classical
    conservative lower bound of the Welch–Satterthwaite degrees of freedom, and
    gave 5–8% (simulated size) with good power.
    """
    out = {"pretrend_chi2": np.nan, "pretrend_df": 0, "pretrend_df2": max(m - 1, 1),
           "pretrend_p": np.nan}
    ok = np.isfinite(b)
    b, v = b[ok], v[np.ix_(ok, ok)]
    if len(b) == 0:
        return out
    q = int(np.linalg.matrix_rank(v))
    if q == 0:
        return out
    w = float(b @ np.linalg.pinv(v) @ b)
    out.update(pretrend_chi2=w, pretrend_df=q,
               pretrend_p=float(stats.f.sf(w / q, q, max(m - 1, 1))))
    return out


def _min_side(units_group: pd.Series) -> int:
    """min(number of treated units, number of never-treated units); group NaN/0 = never."""
    g = units_group.fillna(0)
    return int(min((g > 0).sum(), (g == 0).sum()))


def _outcome_rows(panel: pd.DataFrame, outcome: str,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows with the outcome observed (only ``columns`` kept, outcome first, if given)."""
    if outcome not in panel.columns:
        raise EstimationError(f"the panel has no column {outcome!r}; columns: "
                              f"{sorted(panel.columns)}")
    if columns is not None:
        panel = panel[[outcome, *columns]]
    d = panel if panel[outcome].notna().all() else panel.dropna(subset=[outcome])
    if d.empty:
        raise EstimationError(f"outcome {outcome!r} is missing in every unit-period")
    return d


# ------------------------------------------------------------------------- TWFE
def twfe(panel: pd.DataFrame, *, outcome: str = "margin", alpha: float = 0.05) -> DidResult:
    """Two-way fixed-effects DiD: outcome ~ treated | unit + period, CRV1 by unit.

    Notes
    -----
    y_it = α_i + λ_t + δ D_it + ε_it; δ is the ATT under parallel trends and
    homogeneous effects (use :func:`callaway_santanna` when roll-out is staggered
    and effects may differ by cohort or grow over time). Estimated with pyfixest
    ``feols``; CRV1 small-sample factor G/(G−1) × (N−1)/(N−k) with k counting the
    coefficient and the period effects but not the unit effects (nested in the
    clusters), pyfixest's default.

    References
    ----------
    Angrist & Pischke (2009), Mostly Harmless Econometrics, ch. 5; Bergé (2018),
    fixest; pyfixest documentation (CRV1 small-sample correction).
    """
    import pyfixest as pf

    d = _outcome_rows(panel, outcome, ["treated", "unit_id", "t"])  # slim: pyfixest copies
    fit = pf.feols(f"{outcome} ~ treated | unit_id + t", data=d, vcov={"CRV1": "unit_id"})
    est = float(fit.coef()["treated"])
    se = float(fit.se()["treated"])
    n_units = d["unit_id"].nunique()
    note_method("Innovation effect", "two-way fixed effects DiD, SE clustered by unit (CRV1)",
                reference="pyfixest feols", outcome=outcome, n=len(d), units=n_units,
                periods=int(d["t"].nunique()), controls="never-treated and not-yet-treated "
                "units (implicitly, also already-treated ones)")
    return DidResult(pd.DataFrame([_row("att", est, se, alpha)]), "twfe", n_units, len(d),
                     {"n_periods": int(d["t"].nunique())})


def twfe_numpy(
    y: np.ndarray, d: np.ndarray, unit: np.ndarray, t: np.ndarray
) -> tuple[float, float]:
    """TWFE coefficient and CRV1 SE for a BALANCED panel, in closed form (numpy).

    Used where thousands of fits are needed (coverage simulations); checked
    against pyfixest and a statsmodels dummy-variable regression in the tests.
    Small-sample factor as pyfixest's default CRV1: G/(G−1) × (N−1)/(N−k) with
    k = T + 1 (the treatment coefficient and the T period effects; the unit
    effects, nested in the clusters, are not counted).

    Raises
    ------
    EstimationError
        If the panel is not balanced (every unit once in every period) or holds
        missing values: the two-way demeaning below is only exact when balanced.
    """
    y, d = np.asarray(y, dtype=float), np.asarray(d, dtype=float)
    uu, ui = np.unique(unit, return_inverse=True)
    tt, ti = np.unique(t, return_inverse=True)
    n_u, n_t = len(uu), len(tt)
    if not (len(y) == len(d) == len(ui) == len(ti)):
        raise EstimationError("twfe_numpy: y, d, unit and t must have the same length")
    bad = ~(np.isfinite(y) & np.isfinite(d))
    if bad.any():
        rows = [f"unit {unit[i]!r}, period {t[i]!r}" for i in np.flatnonzero(bad)[:5]]
        raise EstimationError("twfe_numpy: missing outcome or treatment (rule: no NaN); "
                              f"first offending rows: {rows}")
    counts = np.bincount(ui * n_t + ti, minlength=n_u * n_t).reshape(n_u, n_t)
    if (counts != 1).any():
        bad_u = [str(uu[i]) for i in np.flatnonzero((counts != 1).any(axis=1))[:5]]
        raise EstimationError(
            "twfe_numpy needs a balanced panel (rule: every unit exactly once in every "
            f"period); {int((counts == 0).sum())} unit-periods missing, "
            f"{int((counts > 1).sum())} duplicated; first offending units: {bad_u}. Use "
            "twfe() (pyfixest) for unbalanced panels.")

    def within(v: np.ndarray) -> np.ndarray:
        mu_u = np.bincount(ui, v, n_u) / n_t
        mu_t = np.bincount(ti, v, n_t) / n_u
        return v - mu_u[ui] - mu_t[ti] + v.mean()

    yd, dd = within(y), within(d)
    sxx = dd @ dd
    if sxx <= 0:
        raise EstimationError("twfe_numpy: treatment has no variation within unit and period")
    beta = (dd @ yd) / sxx
    e = yd - beta * dd
    score = np.bincount(ui, dd * e, n_u)
    n, k = len(y), n_t + 1
    adj = n_u / (n_u - 1) * (n - 1) / (n - k)
    return float(beta), float(np.sqrt(adj * (score @ score)) / sxx)


# ------------------------------------------------------------------ event study
def event_study(
    panel: pd.DataFrame,
    *,
    outcome: str = "margin",
    leads: int = 4,
    lags: int = 6,
    alpha: float = 0.05,
) -> DidResult:
    """Event study: leads and lags of adoption, reference period −1, binned ends.

    Relative periods below ``-leads`` and above ``lags`` are binned into the end
    points; never-treated units carry no event dummies. Estimated with pyfixest
    (unit and period fixed effects, CRV1 by unit).

    Returns
    -------
    DidResult
        Rows ``term = "rel=k"`` with ``event_time`` k (the reference −1 is a row
        with estimate 0 and ``reference = True``), and ``term = "att"``: the lags
        averaged with weights = treated unit-periods per event time. ``diagnostics``:
        pretrend_chi2 (Wald statistic), pretrend_df, pretrend_df2, pretrend_p,
        n_periods, att_weights.

    Notes
    -----
    Pre-trend test: Wald statistic that every lead (k ≤ −2) is zero, with the
    clustered covariance, referred to F(q, m − 1) (see :func:`_wald`; q = number of
    leads). Under effects that differ by cohort the TWFE leads are contaminated by
    lags of other cohorts and the test rejects too often: :func:`pretrend` uses the
    Callaway–Sant'Anna leads instead. Aggregated effect: ATT = w'β over the lags,
    w_k = n_k / Σn (n_k = treated unit-periods at event time k, the binned end point
    counting all periods beyond it), SE = √(w'Vw) with V the clustered covariance
    of the lags. Like TWFE, the event study is biased when effects differ by cohort
    (Sun & Abraham 2021): prefer :func:`sun_abraham` or :func:`callaway_santanna`.

    References
    ----------
    Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event
    studies with heterogeneous treatment effects. J. Econometrics 225(2), 175–199.
    """
    import pyfixest as pf

    rows_ok = _outcome_rows(panel, outcome, ["unit_id", "t", "rel", "first_treated"])
    # a slim frame (pyfixest copies every column it is given); the binned relative
    # period as one integer column, never-treated units coded -1 (the reference)
    rel = rows_ok["rel"].clip(-leads, lags)
    d = pd.DataFrame({outcome: rows_ok[outcome].to_numpy(float),
                      "unit_id": rows_ok["unit_id"].to_numpy(),
                      "t": rows_ok["t"].to_numpy(),
                      "relb": rel.fillna(-1).astype(int).to_numpy()})
    if not (rel >= 0).any():
        raise EstimationError("event_study: no treated unit-period in the panel")
    fit = pf.feols(f"{outcome} ~ i(relb, ref=-1) | unit_id + t", data=d,
                   vcov={"CRV1": "unit_id"})
    coef, se = fit.coef(), fit.se()
    order = [str(c) for c in fit._coefnames]
    coef.index, se.index = order, order
    vcov = pd.DataFrame(np.asarray(fit._vcov), index=order, columns=order)
    kept = sorted(((int(n.split("::")[1]), n) for n in order), key=lambda kn: kn[0])
    rows = [_row(f"rel={k}", float(coef[n]), float(se[n]), alpha, event_time=k,
                 reference=False) for k, n in kept]
    rows.append({"term": "rel=-1", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                 "ci_high": 0.0, "p_value": np.nan, "event_time": -1, "reference": True})
    lead_names = [n for k, n in kept if k <= -2]
    m = _min_side(rows_ok.groupby("unit_id")["first_treated"].first() + 1)
    pre = _wald(coef[lead_names].to_numpy(float), vcov.loc[lead_names, lead_names].to_numpy(), m)
    p = pre["pretrend_p"]
    post = [(k, n) for k, n in kept if k >= 0]
    counts = d.loc[d["relb"] >= 0, "relb"].value_counts()
    n_k = np.array([counts.get(k, 0) for k, _ in post], dtype=float)
    w = n_k / n_k.sum()
    pn = [n for _, n in post]
    att = float(w @ coef[pn].to_numpy(float))
    att_se = float(np.sqrt(w @ vcov.loc[pn, pn].to_numpy() @ w))
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    table = pd.concat([table, pd.DataFrame([_row("att", att, att_se, alpha)])],
                      ignore_index=True)
    n_units, n_periods = int(d["unit_id"].nunique()), int(d["t"].nunique())
    note_method("Event study", "leads/lags TWFE, ref. -1, clustered by unit (CRV1); joint "
                "Wald pre-trend; ATT = lags weighted by treated unit-periods, SE from w'Vw",
                reference="pyfixest feols; Sun & Abraham (2021)", outcome=outcome,
                n=len(d), units=n_units, periods=n_periods, pretrend_p=p,
                controls="never-treated and not-yet-treated units")
    return DidResult(table, "event_study", n_units, len(d),
                     {**pre, "n_periods": n_periods,
                      "att_weights": {int(k): float(x) for (k, _), x in zip(post, w,
                                                                            strict=True)}})


# ------------------------------------------------------------ Callaway-Sant'Anna
def _balance(data: pd.DataFrame, *, outcome: str, unit: str, time: str
             ) -> tuple[pd.DataFrame, list[Any]]:
    """Keep units observed (non-missing outcome) in every period; return the dropped ones."""
    obs = data.dropna(subset=[outcome])
    n_t = data[time].nunique()
    per_unit = obs.groupby(unit)[time].nunique()
    full = per_unit.index[per_unit == n_t]
    dropped = sorted(set(data[unit]) - set(full))
    return obs[obs[unit].isin(full)], dropped


def callaway_santanna(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "unit_id",
    time: str = "t",
    group: str = "first_treated",
    control_group: str = "never_treated",
    base_period: str = "varying",
    unbalanced: str = "auto",
    leads: int = 4,
    alpha: float = 0.05,
) -> DidResult:
    """Callaway & Sant'Anna (2021) group-time ATTs, computed by ``diff_diff``.

    Parameters
    ----------
    data
        Panel: one row per unit × time (``time`` numeric).
    outcome, unit, time
        Column names.
    group
        First treated time of each unit (same scale as ``time``); 0 or NaN = never
        treated.
    control_group
        ``"never_treated"`` (R ``did`` default) or ``"not_yet_treated"`` (also
        units adopting later; more controls when few units are never treated).
    base_period
        ``"varying"`` (R default: pre-period cells are one-period changes) or
        ``"universal"`` (every cell against g − 1; event time −1 is the reference).
        Post-period cells are the same under both.
    unbalanced
        What to do with units whose outcome is missing in some period (e.g. no
        survey answer in a branch-month): ``"drop_units"`` (the balanced-panel
        estimator on the units observed every period), ``"available"`` (every
        observed cell: diff-diff's unbalanced-panel estimator, which treats the cells
        as repeated cross-sections, as R ``did`` with allow_unbalanced_panel — it
        assumes the composition of the cells is stable over time and is less
        efficient, but keeps all data), ``"error"``, or ``"auto"`` (default: drop
        the units with gaps when that keeps at least 80% of the units and 2
        never-treated ones, else use the available cells). What was done is in
        ``diagnostics`` (unbalanced, dropped_units, notes).
    leads
        Pre-periods in the joint pre-trend test (event times −1…−leads, varying
        base; −2…−(leads+1), universal base).

    Returns
    -------
    DidResult
        Rows ``term = "att_gt"`` (columns group, time), ``"dynamic"`` (event_time;
        with ``reference = True`` on the universal base's −1), ``"group"`` (group)
        and the headline ``"att"`` (simple aggregation: post-treatment ATT(g,t)
        weighted by group size, i.e. the average effect over treated unit-periods).
        ``diagnostics``: control_group, base_period, n_never_treated,
        n_treated_units, dropped_units, unbalanced, n_periods and the pre-trend
        test of the dynamic leads (pretrend_chi2, pretrend_df, pretrend_df2,
        pretrend_p; see :func:`_wald`), notes (diff-diff's warnings, e.g. cells
        without controls).

    Notes
    -----
    For t ≥ g: ATT(g,t) = E[Y_t − Y_{g−1} | G = g] − E[Y_t − Y_{g−1} | C]; for
    t < g (pre-periods, "varying" base): the same with base t − 1. C = never
    treated, or not yet treated by t. Analytic influence-function standard errors
    (clustered by unit; no covariates: the outcome-regression, IPW and doubly
    robust estimators coincide; "reg" is used). The pre-trend test uses the
    covariance of the dynamic aggregation. Why a library: diff-diff is maintained,
    depends only on numpy/pandas/scipy and reproduces R ``did`` on ``mpdta``
    (tested to 4 decimals).

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
    multiple time periods. Journal of Econometrics 225(2), 200–230; R package
    ``did`` (att_gt, aggte); diff-diff (``diff_diff.CallawaySantAnna``).
    """
    try:
        import diff_diff as dd
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EstimationError("callaway_santanna needs the diff-diff package "
                              "(pip install 'diff-diff>=3.13,<4')") from exc
    problems = []
    if control_group not in CONTROL_GROUPS:
        problems.append(f"control_group={control_group!r}: use one of {CONTROL_GROUPS}")
    if base_period not in ("varying", "universal"):
        problems.append(f"base_period={base_period!r}: use varying or universal")
    if unbalanced not in UNBALANCED:
        problems.append(f"unbalanced={unbalanced!r}: use one of {UNBALANCED}")
    if problems:
        raise ParameterError(problems, source="callaway_santanna")
    for col in (outcome, unit, time, group):
        if col not in data.columns:
            raise DataError("callaway_santanna: column missing", column=col,
                            rule="required column")
    d = data[[unit, time, group, outcome]].copy()
    d[group] = d[group].fillna(0)
    dup = d.duplicated([unit, time])
    if dup.any():
        raise DataError("callaway_santanna: more than one row per unit and time",
                        column=unit, rule="unique (unit, time)", rows=d[dup])
    balanced, dropped = _balance(d, outcome=outcome, unit=unit, time=time)
    notes: list[str] = []
    if dropped:
        n_all = d[unit].nunique()
        gaps = (f"{outcome!r} is missing in {int(d[outcome].isna().sum())} unit-periods "
                f"({len(dropped)} of {n_all} units have gaps, first: {dropped[:5]})")
        if unbalanced == "error":
            raise EstimationError(f"callaway_santanna: {gaps}; use unbalanced='drop_units' "
                                  "or 'available'")
        if unbalanced == "auto":
            kept_never = int((balanced.groupby(unit)[group].first() == 0).sum())
            ok = len(dropped) <= 0.2 * n_all and (kept_never >= 2
                                                   or control_group != "never_treated")
            unbalanced = "drop_units" if ok else "available"
        notes.append(f"{gaps}: " + ("dropped those units (balanced-panel estimator)"
                                    if unbalanced == "drop_units" else
                                    "used every observed cell (unbalanced-panel estimator)"))
    elif unbalanced == "auto":
        unbalanced = "drop_units"  # balanced: nothing to drop
    if unbalanced == "available":
        use, dropped = d.dropna(subset=[outcome]), []
    else:
        use = balanced
    grp_of = use.groupby(unit)[group].first()
    t_min = use[time].min()
    n_never = int((grp_of == 0).sum())
    n_treated = int((grp_of > t_min).sum())
    gap_note = (f" ({len(dropped)} units with a missing {outcome!r} period dropped)"
                if dropped else "")
    if n_treated == 0:
        raise EstimationError("callaway_santanna: no unit adopts after the first period: "
                              "nothing to estimate" + gap_note)
    if control_group == "never_treated" and n_never < 2:
        raise EstimationError(
            f"callaway_santanna: {n_never} never-treated unit(s) left{gap_note}; need 2+. "
            "Use control_group='not_yet_treated', or unbalanced='available'.")
    use = use.assign(**{unit: pd.factorize(use[unit])[0]})  # integer ids: faster in diff-diff
    cs = dd.CallawaySantAnna(control_group=control_group, estimation_method="reg",
                             alpha=alpha, base_period=base_period,
                             allow_unbalanced_panel=unbalanced == "available")
    with warnings.catch_warnings(record=True) as caught:
        # fit(aggregate="all") is deprecated in diff-diff 3.x (removed in 4.0) but is the
        # call that also returns the covariance of the dynamic effects (pre-trend test);
        # diff-diff's notes (cells without controls...) go to diagnostics["notes"]
        warnings.simplefilter("always")
        r = cs.fit(use, outcome=outcome, unit=unit, time=time, first_treat=group,
                   aggregate="all")
    notes += sorted({str(w.message) for w in caught if not issubclass(w.category,
                                                                      FutureWarning)})
    rows = []
    for (g, tt), cell in sorted(r.group_time_effects.items()):
        if not np.isfinite(cell["se"]):  # the universal base's reference cell
            continue
        rows.append(_row("att_gt", float(cell["effect"]), float(cell["se"]), alpha,
                         group=g, time=tt))
    for k, cell in sorted(r.event_study_effects.items()):
        if np.isfinite(cell["se"]):
            rows.append(_row("dynamic", float(cell["effect"]), float(cell["se"]), alpha,
                             event_time=int(k), reference=False))
        else:
            rows.append({"term": "dynamic", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                         "ci_high": 0.0, "p_value": np.nan, "event_time": int(k),
                         "reference": True})
    for g, cell in sorted(r.group_effects.items()):
        rows.append(_row("group", float(cell["effect"]), float(cell["se"]), alpha, group=g))
    rows.append(_row("att", float(r.overall_att), float(r.overall_se), alpha))
    # joint pre-trend test of the dynamic leads
    ix = [int(k) for k in r.event_study_vcov_index]
    last = -1 if base_period == "varying" else -2
    sel = [i for i, k in enumerate(ix) if last - leads + 1 <= k <= last]
    b = np.array([r.event_study_effects[r.event_study_vcov_index[i]]["effect"] for i in sel],
                 dtype=float)
    n_ctrl = n_never if control_group == "never_treated" else len(grp_of) - 1
    pre = _wald(b, np.asarray(r.event_study_vcov)[np.ix_(sel, sel)], min(n_treated, n_ctrl))
    n_units = int(use[unit].nunique())
    note_method("Innovation effect (staggered)", "Callaway-Sant'Anna group-time ATT, "
                "simple aggregation, analytic influence-function SEs (clustered by unit)",
                reference="Callaway & Sant'Anna (2021), J. Econometrics 225(2); diff-diff",
                outcome=outcome, n=len(use), units=n_units, periods=int(use[time].nunique()),
                controls=control_group.replace("_", "-"), never_treated_units=n_never,
                dropped_units=len(dropped), unbalanced=unbalanced,
                pretrend_p=pre["pretrend_p"])
    return DidResult(pd.DataFrame(rows), "callaway_santanna", n_units, len(use),
                     {"control_group": control_group, "base_period": base_period,
                      "n_never_treated": n_never, "n_treated_units": n_treated,
                      "dropped_units": len(dropped), "unbalanced": unbalanced,
                      "n_periods": int(use[time].nunique()), **pre, "notes": notes})


# ------------------------------------------------------------------ Sun-Abraham
_SAT = re.compile(r"rel_time::(?P<rel>-?[\d.]+):first_treated_period::(?P<g>-?[\d.]+)$")


def sun_abraham(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "unit_id",
    time: str = "t",
    group: str = "first_treated",
    leads: int = 4,
    alpha: float = 0.05,
) -> DidResult:
    """Sun & Abraham (2021) interaction-weighted estimator via pyfixest's saturated event study.

    Parameters
    ----------
    data
        Panel with ``time`` numeric and > 0 and ``group`` the first treated time
        (0 or NaN = never treated); never-treated units are the controls.

    Returns
    -------
    DidResult
        Rows ``term = "cell"`` (group, event_time: cohort-specific effects CATT(g, e),
        reference e = −1), ``"dynamic"`` (event_time; cells weighted by their
        unit-periods; the reference −1 as a row with ``reference = True``), ``"att"``
        (post cells e ≥ 0 weighted by treated unit-periods = the average effect over
        treated unit-periods). ``diagnostics``: pretrend_chi2, pretrend_df,
        pretrend_df2, pretrend_p (Wald test that the dynamic leads −2…−(leads+1) are
        zero, see :func:`_wald`), n_periods, n_never_treated.

    Notes
    -----
    pyfixest fits y ~ Σ_{g,e≠−1} β_{g,e} 1{G=g, t−g=e} | unit + time with CRV1
    errors by unit. ATT = w'β with w ∝ n_{g,e} over post cells, SE = √(w'Vw). On a
    balanced panel β_{g,e} for e ≥ 0 equals Callaway–Sant'Anna's ATT(g, g+e) with
    never-treated controls (tested).

    References
    ----------
    Sun, L. & Abraham, S. (2021). J. Econometrics 225(2), 175–199; pyfixest
    ``event_study(estimator="saturated")``.
    """
    import pyfixest as pf

    d = _outcome_rows(data, outcome)[[unit, time, group, outcome]].copy()
    d[group] = d[group].fillna(0).astype(int)
    if (d[time] <= 0).any():
        raise EstimationError("sun_abraham: time must be > 0 (pyfixest codes never-treated "
                              "as 0); shift the period index")
    if not (d.groupby(unit)[group].first() == 0).any():
        raise EstimationError("sun_abraham needs never-treated units as controls; none left")
    with warnings.catch_warnings():
        # "beta" notice of pyfixest's saturated event study, and the dropped (empty)
        # cohort x relative-period cells
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pyfixest\.")
        fit = pf.event_study(d, yname=outcome, idname=unit, tname=time, gname=group,
                             estimator="saturated", cluster=unit)
    names = [str(c) for c in fit._coefnames]
    beta = np.asarray(fit._beta_hat, dtype=float)
    V = np.asarray(fit._vcov, dtype=float)
    cells = []
    for i, n in enumerate(names):
        m = _SAT.search(n)
        if m:
            cells.append((i, int(float(m["g"])), int(float(m["rel"]))))
    rel = (d[time] - d[group]).where(d[group] > 0)
    counts = pd.DataFrame({"g": d[group], "e": rel}).dropna().value_counts()
    n_cell = np.array([counts.get((g, e), 0) for _, g, e in cells], dtype=float)
    idx = np.array([i for i, _, _ in cells])
    e_arr = np.array([e for _, _, e in cells])
    rows = [_row("cell", float(beta[i]), float(np.sqrt(V[i, i])), alpha, group=g, event_time=e)
            for i, g, e in cells]

    def weights(mask: np.ndarray) -> np.ndarray:
        w = np.zeros(len(beta))
        w[idx[mask]] = n_cell[mask] / n_cell[mask].sum()
        return w

    W_dyn = {int(e): weights(e_arr == e) for e in sorted(set(e_arr))}
    for e, w in W_dyn.items():
        rows.append(_row("dynamic", float(w @ beta), float(np.sqrt(w @ V @ w)), alpha,
                         event_time=e, reference=False))
    rows.append({"term": "dynamic", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                 "ci_high": 0.0, "p_value": np.nan, "event_time": -1, "reference": True})
    post = e_arr >= 0
    if not post.any():
        raise EstimationError("sun_abraham: no treated unit-period in the panel")
    w = weights(post)
    rows.append(_row("att", float(w @ beta), float(np.sqrt(w @ V @ w)), alpha))
    lead_w = np.array([W_dyn[e] for e in range(-leads - 1, -1) if e in W_dyn])
    if len(lead_w):
        pre = _wald(lead_w @ beta, lead_w @ V @ lead_w.T,
                    _min_side(d.groupby(unit)[group].first()))
    else:
        pre = _wald(np.array([]), np.zeros((0, 0)), 1)
    p = pre["pretrend_p"]
    n_units, n_periods = int(d[unit].nunique()), int(d[time].nunique())
    note_method("Innovation effect (staggered)", "Sun-Abraham interaction-weighted event study "
                "(saturated cohort x relative period, CRV1 by unit); ATT = post cells weighted "
                "by treated unit-periods, SE from w'Vw; Wald pre-trend on the lead cells",
                reference="Sun & Abraham (2021), J. Econometrics 225(2); pyfixest",
                outcome=outcome, n=len(d), units=n_units, periods=n_periods, pretrend_p=p,
                controls="never-treated")
    table = pd.DataFrame(rows)
    order = table["term"].map({"cell": 0, "dynamic": 1, "att": 2})
    table = table.assign(_o=order).sort_values(["_o", "event_time", "group"],
                                               na_position="last").drop(columns="_o")
    return DidResult(table.reset_index(drop=True), "sun_abraham", n_units, len(d),
                     {**pre, "n_periods": n_periods,
                      "n_never_treated": int((d.groupby(unit)[group].first() == 0).sum())})


def did_2x2(data: pd.DataFrame, *, outcome: str, treated: str, post: str) -> DidResult:
    """Classic two-group, two-period DiD by OLS: y ~ treated + post + treated:post.

    HC1 standard errors (pooled cross-sections, as in Card & Krueger 1994 /
    Wooldridge, Introductory Econometrics, Example 13.x).
    """
    import statsmodels.formula.api as smf

    d = data.dropna(subset=[outcome, treated, post])
    fit = smf.ols(f"{outcome} ~ {treated} * {post}", data=d).fit(cov_type="HC1")
    term = f"{treated}:{post}"
    note_method("Difference-in-differences (2x2)", "OLS with interaction, HC1", n=len(d))
    return DidResult(pd.DataFrame([_row("att", float(fit.params[term]), float(fit.bse[term]))]),
                     "did_2x2", len(d), len(d))


# ------------------------------------------------------------------- dispatch
def _staggered_input(panel: pd.DataFrame) -> pd.DataFrame:
    """1-based periods and groups (0 = never treated), as diff-diff and pyfixest want."""
    return panel.assign(_g=panel["first_treated"].fillna(-1) + 1, _t=panel["t"] + 1)


def _back_to_zero_based(res: DidResult) -> DidResult:
    t = res.table.copy()
    for col in ("group", "time"):
        if col in t:
            t[col] = t[col] - 1
    res.table = t
    return res


def estimate(panel: pd.DataFrame, *, estimator: str = "twfe", outcome: str = "margin",
             alpha: float = 0.05, control_group: str = "never_treated",
             unbalanced: str = "auto") -> DidResult:
    """Headline ATT by the chosen estimator (its ``att`` row is what :func:`money` uses).

    Parameters
    ----------
    panel
        From :func:`build_panel`.
    estimator
        ``"twfe"``, ``"event_study"`` (lags aggregated by treated unit-periods, SE
        from the event-study covariance), ``"callaway_santanna"`` or
        ``"sun_abraham"`` (heterogeneity-robust: use these for staggered roll-outs).
    control_group, unbalanced
        Passed to :func:`callaway_santanna`.
    """
    if estimator not in ESTIMATORS:
        raise ParameterError([f"estimator={estimator!r}: use one of {ESTIMATORS}"],
                             source="cxlib.analysis.innovation.estimate")
    if estimator == "twfe":
        return twfe(panel, outcome=outcome, alpha=alpha)
    if estimator == "event_study":
        return event_study(panel, outcome=outcome, alpha=alpha)
    p = _staggered_input(panel)
    if estimator == "callaway_santanna":
        res = callaway_santanna(p, outcome=outcome, time="_t", group="_g", alpha=alpha,
                                control_group=control_group, unbalanced=unbalanced)
    else:
        res = sun_abraham(p, outcome=outcome, time="_t", group="_g", alpha=alpha)
    return _back_to_zero_based(res)


def pretrend(panel: pd.DataFrame, *, outcome: str = "margin",
             control_group: str = "never_treated", unbalanced: str = "auto",
             leads: int = 4, alpha: float = 0.05) -> dict[str, Any]:
    """Joint pre-trend test used for decisions, whatever the estimator.

    Parallel trends is a property of the data, not of the estimator, so one test
    serves all: the Callaway–Sant'Anna dynamic leads (universal base: event times
    −2…−(leads+1) against −1), which compare each cohort only with its controls and
    so are not contaminated by effects that differ between cohorts (the TWFE event
    study's leads are; its own test is reported by :func:`event_study`). Wald
    statistic with the influence-function covariance, F(q, m − 1) reference
    (:func:`_wald`).

    Returns
    -------
    dict
        p_value, statistic (Wald), df, df2, method, event (the dynamic rows of the
        universal-base fit, for the figure: :func:`cxlib.plots.innovation.event_study_plot`).
    """
    r = callaway_santanna(_staggered_input(panel), outcome=outcome, time="_t", group="_g",
                          control_group=control_group, base_period="universal",
                          unbalanced=unbalanced, leads=leads, alpha=alpha)
    dg = r.diagnostics
    return {"p_value": dg["pretrend_p"], "statistic": dg["pretrend_chi2"],
            "df": dg["pretrend_df"], "df2": dg["pretrend_df2"],
            "method": "Callaway-Sant'Anna dynamic leads (universal base), Wald with "
                      f"F({dg['pretrend_df']}, {dg['pretrend_df2']}) reference",
            "event": r.tidy().query("term == 'dynamic'").reset_index(drop=True)}


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

    Returns
    -------
    DataFrame
        One row per quantity (treated_unit_periods, att_per_unit_period,
        incremental_margin, running_cost, one_off_cost_amortised, incremental_cost,
        net, net_per_unit_period, roi, payback_periods): quantity, estimate,
        ci_low, ci_high, p_net_positive (on the "net" row), note ("not within
        horizon" where a payback bound exceeds the horizon or never comes).

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
      infinite when the gain is ≤ 0 ("not within horizon" when beyond the horizon).

    C is known, so every quantity is linear in the ATT except the payback, which is
    monotone in it: the (1 − α) interval of each is the ATT's normal interval
    mapped through (payback: bounds swapped). P(net > 0) = Φ((ATT − C/N) / SE).
    """
    if treated_unit_periods <= 0:
        raise EstimationError("money: no treated unit-periods to value")
    if horizon <= 0:
        raise ParameterError([f"horizon={horizon}: must be a positive number of periods"],
                             source="money")
    z = stats.norm.ppf(1 - alpha / 2)
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
        gain = a - cost_per_period
        return one_off_cost / gain if gain > 0 else np.inf

    def roi(a: float) -> float:
        return net(a) / cost if cost > 0 else np.nan

    p_pos = float(stats.norm.sf(cost / N, loc=att, scale=se)) if se > 0 else float(att * N > cost)
    pb = (payback(att), payback(hi), payback(lo))
    rows = [
        {"quantity": "treated_unit_periods", "estimate": N, "ci_low": N, "ci_high": N},
        {"quantity": "att_per_unit_period", "estimate": att, "ci_low": lo, "ci_high": hi},
        {"quantity": "incremental_margin", "estimate": att * N, "ci_low": lo * N,
         "ci_high": hi * N},
        {"quantity": "running_cost", "estimate": running, "ci_low": running,
         "ci_high": running},
        {"quantity": "one_off_cost_amortised", "estimate": one_off, "ci_low": one_off,
         "ci_high": one_off},
        {"quantity": "incremental_cost", "estimate": cost, "ci_low": cost, "ci_high": cost},
        {"quantity": "net", "estimate": net(att), "ci_low": net(lo), "ci_high": net(hi),
         "p_net_positive": p_pos},
        {"quantity": "net_per_unit_period", "estimate": net(att) / N, "ci_low": net(lo) / N,
         "ci_high": net(hi) / N},
        {"quantity": "roi", "estimate": roi(att), "ci_low": roi(lo), "ci_high": roi(hi)},
        {"quantity": "payback_periods", "estimate": pb[0], "ci_low": pb[1], "ci_high": pb[2],
         "note": "not within horizon" if max(pb) > horizon else ""},
    ]
    note_method("Innovation money", "net = ATT x treated unit-periods - (running cost + one-off "
                "cost amortised over the horizon); normal interval of the ATT carried through",
                horizon=horizon)
    out = pd.DataFrame(rows)
    out["p_net_positive"] = out["p_net_positive"].astype(float)
    out["note"] = out["note"].fillna("")
    return out


def payback_text(money_table: pd.DataFrame, *, horizon: int, lang: str = "en") -> str:
    """The payback with its interval in words ("8.1 [5.2, 19.4] periods" or "not within
    horizon" for a bound beyond the horizon)."""
    from cxlib import i18n

    _check_language(lang)
    r = money_table.set_index("quantity").loc["payback_periods"]

    def fmt(x: float) -> str:
        return label("not_within_horizon", lang) if not np.isfinite(x) or x > horizon \
            else i18n.format_number(x, lang, digits=1)

    return f"{fmt(r['estimate'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"


def money_display(money_table: pd.DataFrame, *, horizon: int, lang: str = "en") -> pd.DataFrame:
    """The money table for readers: quantity names, numbers and payback in ``lang``.

    Returns
    -------
    DataFrame
        Columns (translated): quantity, estimate, 95% CI low, 95% CI high — strings
        formatted with the locale's separators (ROI and P(net > 0) as percentages,
        payback bounds beyond the horizon as "not within horizon").
    """
    from cxlib import i18n

    _check_language(lang)
    m = money_table.set_index("quantity")

    def num(x: float, digits: int = 0) -> str:
        return i18n.format_number(x, lang, digits) if np.isfinite(x) else "–"

    def pay(x: float) -> str:
        return label("not_within_horizon", lang) if not np.isfinite(x) or x > horizon \
            else i18n.format_number(x, lang, 1)

    rows = []
    for q, r in m.iterrows():
        if q == "roi":
            cells = [i18n.format_percent(v, lang) if np.isfinite(v) else "–"
                     for v in (r["estimate"], r["ci_low"], r["ci_high"])]
        elif q == "payback_periods":
            cells = [pay(r["estimate"]), pay(r["ci_low"]), pay(r["ci_high"])]
        elif q in ("incremental_cost", "running_cost", "one_off_cost_amortised",
                   "treated_unit_periods"):
            cells = [num(r["estimate"]), "", ""]
        else:
            cells = [num(r["estimate"]), num(r["ci_low"]), num(r["ci_high"])]
        rows.append([label(str(q), lang), *cells])
    rows.append([label("p_net_positive", lang),
                 i18n.format_percent(m.loc["net", "p_net_positive"], lang), "", ""])
    cols = [label(c, lang) for c in ("quantity", "estimate", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=cols)


def decide(money_table: pd.DataFrame, *, pretrend_p: float | None = None,
           alpha: float = 0.05, lang: str = "en") -> dict[str, str]:
    """Scale, keep watching, roll back or no decision, with the reason in words.

    Rules, in order: the pre-trend test rejects (p < α) → "no decision" (the
    estimate is not credible); the (1 − α) interval of net margin above zero →
    "scale"; below zero → "roll back"; straddling zero → "keep watching".

    Returns
    -------
    dict
        decision (one of :data:`DECISIONS`), label (the decision in ``lang``),
        reason (in ``lang``).
    """
    from cxlib import i18n

    _check_language(lang)
    m = money_table.set_index("quantity")
    net = m.loc["net"]
    if pretrend_p is not None and pretrend_p < alpha:
        decision = "no decision"
        reason = label("reason.no decision", lang, p=i18n.format_number(pretrend_p, lang, 3))
    else:
        if net["ci_low"] > 0:
            decision = "scale"
        elif net["ci_high"] < 0:
            decision = "roll back"
        else:
            decision = "keep watching"
        reason = label(f"reason.{decision}", lang,
                       net=i18n.format_number(net["estimate"], lang, 0),
                       lo=i18n.format_number(net["ci_low"], lang, 0),
                       hi=i18n.format_number(net["ci_high"], lang, 0),
                       tup=i18n.format_number(m.loc["treated_unit_periods", "estimate"],
                                              lang, 0))
    return {"decision": decision, "label": label(decision, lang), "reason": reason}


def side_effects(panel: pd.DataFrame, *, estimator: str = "twfe",
                 outcomes: Sequence[str] = ("csat", "contacts"), alpha: float = 0.05,
                 control_group: str = "never_treated",
                 unbalanced: str = "auto") -> pd.DataFrame:
    """The same estimator's ATT on satisfaction and contact volume (one row each).

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
                     "note": "; ".join(r.diagnostics.get("notes", [])[:1])})
    return pd.DataFrame(rows)
