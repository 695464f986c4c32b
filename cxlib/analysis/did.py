"""Difference-in-differences estimators, for any area that evaluates a roll-out.

A unit × period panel in (columns ``unit_id``, ``t`` (0-based period index),
``treated`` (0/1), ``first_treated`` (t of adoption, NaN = never), ``rel``
(t − first_treated) and the outcome: :func:`cxlib.analysis.innovation.build_panel`
makes one from orders), a :class:`DidResult` out:

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
* :func:`did_2x2` — the classic two-group, two-period regression.
* :func:`estimate` dispatches by name; :func:`pretrend` is the joint pre-trend
  test every decision uses, on the Callaway–Sant'Anna leads (not contaminated
  by effects that differ between cohorts, unlike the TWFE event study's), with a
  few-clusters F reference.

Every row carries its (1 − α) interval and two-sided p-value; ``DidResult.alpha``
says which α. Own code, and why: the aggregations w'β, √(w'Vw) with weights =
treated unit-periods (pyfixest gives β and V but aggregates the saturated event
study only by period) and the pre-trend F reference (no library offers a
small-sample correction for these Wald tests). Everything else is pyfixest,
diff-diff or statsmodels.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlib import i18n
from cxlib.analysis.stats import effect_row, wald_pretrend  # shared formulas, re-exported
from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = ["CONTROL_GROUPS", "ESTIMATORS", "ROBUST_ESTIMATORS", "UNBALANCED", "DidResult",
           "callaway_santanna", "did_2x2", "effect_row", "estimate", "event_study", "gaps_note",
           "pretrend", "staggered_input", "sun_abraham", "twfe", "twfe_numpy", "wald_pretrend"]

ESTIMATORS = ("twfe", "event_study", "callaway_santanna", "sun_abraham")
#: Estimators robust to effects that differ by cohort and over time.
ROBUST_ESTIMATORS = ("callaway_santanna", "sun_abraham")
CONTROL_GROUPS = ("never_treated", "not_yet_treated")
UNBALANCED = ("auto", "drop_units", "available", "error")


# ---------------------------------------------------------------------- results
@dataclass
class DidResult:
    """A difference-in-differences estimate; accessors derive from :meth:`tidy`."""

    table: pd.DataFrame
    estimator: str
    n_units: int
    n_obs: int
    diagnostics: dict[str, Any] = field(default_factory=dict)
    #: the rows' intervals are (1 − alpha) intervals
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if "reference" in self.table:  # a boolean column (False on rows that are no period)
            self.table["reference"] = self.table["reference"].astype("boolean").fillna(
                False).astype(bool)

    def tidy(self) -> pd.DataFrame:
        """Columns: term, estimate, std_error, ci_low, ci_high, p_value (+ estimator
        specific: group, time, event_time, reference), level (= 1 − alpha: the
        intervals' coverage, what figures and tables must call them)."""
        return self.table.assign(level=1 - self.alpha)

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

    def summary(self, language: str = "en") -> str:
        """The estimator, its sizes, diagnostics and table: English words, numbers with
        ``language``'s marks (en, tr, az: a Turkish 2.018,5 is never printed 2,018.5)."""
        def num(x: float, digits: int) -> str:
            return str(x) if not np.isfinite(x) else i18n.format_number(
                x + 0.0, language, digits=digits)

        def short(v: float) -> str:  # about 4 significant digits, like :.4g
            return i18n.format_significant(v, language) if np.isfinite(v) else str(v)

        head = (f"{self.estimator}: {num(self.n_units, 0)} units, {num(self.n_obs, 0)} "
                f"observations, {short(100 * (1 - self.alpha))}% intervals")
        diag = "; ".join(f"{k} = {short(v)}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in self.diagnostics.items())
        body = self.tidy().to_string(index=False, float_format=lambda x: num(x, 4))
        return "\n".join([head, diag, body]) if diag else "\n".join([head, body])

    def __repr__(self) -> str:
        return self.summary()


def _min_side(units_group: pd.Series) -> int:
    """min(number of treated units, number of never-treated units); group NaN/0 = never."""
    g = units_group.fillna(0)
    return int(min((g > 0).sum(), (g == 0).sum()))


def _outcome_rows(panel: pd.DataFrame, outcome: str,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows with the outcome observed (only ``columns`` kept, outcome first, if given)."""
    if outcome not in panel.columns:
        raise DataError(f"the panel has no column {outcome!r}; columns: "
                        f"{sorted(map(str, panel.columns))}. Pass an outcome the panel "
                        "holds (build_panel adds csat and contacts when given responses "
                        "and contacts)", column=outcome, rule="required column")
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
    with warnings.catch_warnings():
        # "N singleton fixed effect(s) dropped": reported below as a diagnostic
        warnings.filterwarnings("ignore", message=".*singleton", category=UserWarning)
        fit = pf.feols(f"{outcome} ~ treated | unit_id + t", data=d,
                       vcov={"CRV1": "unit_id"})
    est = float(fit.coef()["treated"])
    se = float(fit.se()["treated"])
    # the sample the fit used: pyfixest drops singleton units (observed once: their
    # fixed effect absorbs them, they carry no information), so report its n, not ours
    n_obs = int(fit._N)
    n_units = int(fit._data["unit_id"].nunique())
    notes = []
    if n_obs < len(d):
        notes.append(f"{len(d) - n_obs} singleton observation(s) dropped (units observed in "
                     "one period only carry no within-unit information)")
    note_method("Innovation effect", "two-way fixed effects DiD, SE clustered by unit (CRV1)",
                reference="pyfixest feols", outcome=outcome, n=n_obs, units=n_units,
                periods=int(d["t"].nunique()), controls="never-treated and not-yet-treated "
                "units (implicitly, also already-treated ones)")
    return DidResult(pd.DataFrame([effect_row("att", est, se, alpha)]), "twfe", n_units, n_obs,
                     {"n_periods": int(d["t"].nunique()), "n_singletons_dropped": len(d) - n_obs,
                      "notes": notes}, alpha)


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
    clustered covariance, referred to F(q, m − 1) (see :func:`wald_pretrend`; q = number of
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
    rows = [effect_row(f"rel={k}", float(coef[n]), float(se[n]), alpha, event_time=k,
                 reference=False) for k, n in kept]
    rows.append({"term": "rel=-1", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                 "ci_high": 0.0, "p_value": np.nan, "event_time": -1, "reference": True})
    lead_names = [n for k, n in kept if k <= -2]
    m = _min_side(rows_ok.groupby("unit_id")["first_treated"].first() + 1)
    pre = wald_pretrend(coef[lead_names].to_numpy(float),
                        vcov.loc[lead_names, lead_names].to_numpy(), m)
    p = pre["pretrend_p"]
    post = [(k, n) for k, n in kept if k >= 0]
    counts = d.loc[d["relb"] >= 0, "relb"].value_counts()
    n_k = np.array([counts.get(k, 0) for k, _ in post], dtype=float)
    w = n_k / n_k.sum()
    pn = [n for _, n in post]
    att = float(w @ coef[pn].to_numpy(float))
    att_se = float(np.sqrt(w @ vcov.loc[pn, pn].to_numpy() @ w))
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    table = pd.concat([table, pd.DataFrame([effect_row("att", att, att_se, alpha)])],
                      ignore_index=True)
    n_units, n_periods = int(d["unit_id"].nunique()), int(d["t"].nunique())
    note_method("Event study", "leads/lags TWFE, ref. -1, clustered by unit (CRV1); joint "
                "Wald pre-trend; ATT = lags weighted by treated unit-periods, SE from w'Vw",
                reference="pyfixest feols; Sun & Abraham (2021)", outcome=outcome,
                n=int(fit._N), units=n_units, periods=n_periods, pretrend_p=p,
                controls="never-treated and not-yet-treated units")
    # the rows the fit used (pyfixest drops singletons), as twfe() reports
    return DidResult(table, "event_study", n_units, int(fit._N),
                     {**pre, "n_periods": n_periods,
                      "att_weights": {int(k): float(x) for (k, _), x in zip(post, w,
                                                                            strict=True)}},
                     alpha)


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
        pretrend_p; see :func:`wald_pretrend`), notes (diff-diff's warnings, e.g. cells
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
    gaps: dict[str, Any] = {}
    if dropped:
        n_all = d[unit].nunique()
        gaps = {"outcome": outcome, "n_missing": int(d[outcome].isna().sum()),
                "n_units_with_gaps": len(dropped), "n_units": int(n_all),
                "first": list(dropped[:5]), "handling": None}
        if unbalanced == "error":
            raise EstimationError(f"callaway_santanna: {gaps_note(gaps)}; use "
                                  "unbalanced='drop_units' or 'available'")
        if unbalanced == "auto":
            kept_never = int((balanced.groupby(unit)[group].first() == 0).sum())
            ok = len(dropped) <= 0.2 * n_all and (kept_never >= 2
                                                   or control_group != "never_treated")
            unbalanced = "drop_units" if ok else "available"
        gaps["handling"] = "drop_units" if unbalanced == "drop_units" else "available"
        notes.append(gaps_note(gaps))
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
        rows.append(effect_row("att_gt", float(cell["effect"]), float(cell["se"]), alpha,
                         group=g, time=tt))
    for k, cell in sorted(r.event_study_effects.items()):
        if np.isfinite(cell["se"]):
            rows.append(effect_row("dynamic", float(cell["effect"]), float(cell["se"]), alpha,
                             event_time=int(k), reference=False))
        else:
            rows.append({"term": "dynamic", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                         "ci_high": 0.0, "p_value": np.nan, "event_time": int(k),
                         "reference": True})
    for g, cell in sorted(r.group_effects.items()):
        rows.append(effect_row("group", float(cell["effect"]), float(cell["se"]), alpha, group=g))
    rows.append(effect_row("att", float(r.overall_att), float(r.overall_se), alpha))
    # joint pre-trend test of the dynamic leads
    ix = [int(k) for k in r.event_study_vcov_index]
    last = -1 if base_period == "varying" else -2
    sel = [i for i, k in enumerate(ix) if last - leads + 1 <= k <= last]
    b = np.array([r.event_study_effects[r.event_study_vcov_index[i]]["effect"] for i in sel],
                 dtype=float)
    n_ctrl = n_never if control_group == "never_treated" else len(grp_of) - 1
    pre = wald_pretrend(b, np.asarray(r.event_study_vcov)[np.ix_(sel, sel)], min(n_treated, n_ctrl))
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
                      "n_periods": int(use[time].nunique()), **pre, "notes": notes,
                      **({"gaps": gaps} if gaps else {})}, alpha)


def gaps_note(gaps: dict[str, Any], language: str = "en") -> str:
    """The note on an outcome's gaps (``diagnostics["gaps"]`` of :func:`callaway_santanna`).

    Parameters
    ----------
    gaps
        ``outcome, n_missing, n_units_with_gaps, n_units, first`` (the first unit
        ids with a gap) and ``handling`` (``drop_units``, ``available`` or None).
    language
        ``en``, ``tr`` or ``az``: the words (``did_gaps*`` in the message
        catalog) and the number marks.

    Returns
    -------
    str
        One sentence; unit ids are shown as they are in the data.

    Examples
    --------
    >>> g = {"outcome": "csat", "n_missing": 2018, "n_units_with_gaps": 3, "n_units": 40,
    ...      "first": ["B01"], "handling": "drop_units"}
    >>> gaps_note(g, "tr").split(" (")[0]
    "'csat' 2.018 birim-dönemde eksik"
    """
    def n(x: Any) -> str:
        return i18n.format_number(int(x), language, digits=0)

    text = i18n.t("did_gaps", language).format(
        outcome=repr(gaps["outcome"]), n=n(gaps["n_missing"]), k=n(gaps["n_units_with_gaps"]),
        units=n(gaps["n_units"]), first=list(gaps["first"]))
    if gaps.get("handling"):
        text += ": " + i18n.t(f"did_gaps_{gaps['handling']}", language)
    return text


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
        zero, see :func:`wald_pretrend`), n_periods, n_never_treated.

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
    rows = [effect_row("cell", float(beta[i]), float(np.sqrt(V[i, i])), alpha, group=g,
                       event_time=e) for i, g, e in cells]

    def weights(mask: np.ndarray) -> np.ndarray:
        w = np.zeros(len(beta))
        w[idx[mask]] = n_cell[mask] / n_cell[mask].sum()
        return w

    W_dyn = {int(e): weights(e_arr == e) for e in sorted(set(e_arr))}
    for e, w in W_dyn.items():
        rows.append(effect_row("dynamic", float(w @ beta), float(np.sqrt(w @ V @ w)), alpha,
                         event_time=e, reference=False))
    rows.append({"term": "dynamic", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                 "ci_high": 0.0, "p_value": np.nan, "event_time": -1, "reference": True})
    post = e_arr >= 0
    if not post.any():
        raise EstimationError("sun_abraham: no treated unit-period in the panel")
    w = weights(post)
    rows.append(effect_row("att", float(w @ beta), float(np.sqrt(w @ V @ w)), alpha))
    lead_w = np.array([W_dyn[e] for e in range(-leads - 1, -1) if e in W_dyn])
    if len(lead_w):
        pre = wald_pretrend(lead_w @ beta, lead_w @ V @ lead_w.T,
                    _min_side(d.groupby(unit)[group].first()))
    else:
        pre = wald_pretrend(np.array([]), np.zeros((0, 0)), 1)
    p = pre["pretrend_p"]
    n_units, n_periods = int(d[unit].nunique()), int(d[time].nunique())
    note_method("Innovation effect (staggered)", "Sun-Abraham interaction-weighted event study "
                "(saturated cohort x relative period, CRV1 by unit); ATT = post cells weighted "
                "by treated unit-periods, SE from w'Vw; Wald pre-trend on the lead cells",
                reference="Sun & Abraham (2021), J. Econometrics 225(2); pyfixest",
                outcome=outcome, n=int(fit._N), units=n_units, periods=n_periods,
                pretrend_p=p, controls="never-treated")
    table = pd.DataFrame(rows)
    order = table["term"].map({"cell": 0, "dynamic": 1, "att": 2})
    table = table.assign(_o=order).sort_values(["_o", "event_time", "group"],
                                               na_position="last").drop(columns="_o")
    return DidResult(table.reset_index(drop=True), "sun_abraham", n_units, int(fit._N),
                     {**pre, "n_periods": n_periods,
                      "n_never_treated": int((d.groupby(unit)[group].first() == 0).sum())},
                     alpha)


def did_2x2(data: pd.DataFrame, *, outcome: str, treated: str, post: str,
            alpha: float = 0.05) -> DidResult:
    """Classic two-group, two-period DiD by OLS: y ~ treated + post + treated:post.

    HC1 standard errors (pooled cross-sections, as in Card & Krueger 1994 /
    Wooldridge, Introductory Econometrics, Example 13.x); normal (1 − α) interval
    and two-sided p-value of the interaction.
    """
    import statsmodels.formula.api as smf

    for col in (outcome, treated, post):
        if col not in data.columns:
            raise DataError("did_2x2: column missing", column=col, rule="required column")
    d = data.dropna(subset=[outcome, treated, post])
    fit = smf.ols(f"Q('{outcome}') ~ Q('{treated}') * Q('{post}')", data=d).fit(cov_type="HC1")
    term = f"Q('{treated}'):Q('{post}')"
    note_method("Difference-in-differences (2x2)", "OLS with interaction, HC1", n=len(d))
    row = effect_row("att", float(fit.params[term]), float(fit.bse[term]), alpha)
    return DidResult(pd.DataFrame([row]), "did_2x2", len(d), len(d), {}, alpha)


# ------------------------------------------------------------------- dispatch
def staggered_input(panel: pd.DataFrame) -> pd.DataFrame:
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
    p = staggered_input(panel)
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
    (:func:`wald_pretrend`).

    Returns
    -------
    dict
        p_value (NaN when there is no lead to test, e.g. two periods: df = 0 and
        ``method`` says "not tested"), statistic (Wald), df, df2, method, event (the
        dynamic rows of the universal-base fit, for the figure:
        :func:`cxlib.plots.innovation.event_study_plot`).
    """
    r = callaway_santanna(staggered_input(panel), outcome=outcome, time="_t", group="_g",
                          control_group=control_group, base_period="universal",
                          unbalanced=unbalanced, leads=leads, alpha=alpha)
    dg = r.diagnostics
    method = ("Callaway-Sant'Anna dynamic leads (universal base), Wald with "
              f"F({dg['pretrend_df']}, {dg['pretrend_df2']}) reference")
    if not dg["pretrend_df"]:  # p = NaN: decide() never scales on it
        method = "not tested: no period before adoption to test parallel trends on"
    return {"p_value": dg["pretrend_p"], "statistic": dg["pretrend_chi2"],
            "df": dg["pretrend_df"], "df2": dg["pretrend_df2"], "method": method,
            "event": r.tidy().query("term == 'dynamic'").reset_index(drop=True)}


