"""Does a service innovation pay? Causal effect on margin versus its cost.

Every new service (a channel, more calls, more staff) costs money; keep it only
if it raises margin by more than it costs (seed 003). The effect is estimated
on a unit × period panel by difference-in-differences, never by a plain
before/after average:

* :func:`twfe` — two-way fixed effects, standard errors clustered by unit
  (pyfixest ``feols``, CRV1; its small-sample convention counts fixed effects
  nested in the cluster as not estimated, which is why its clustered errors
  differ by ~2% from linearmodels: we use pyfixest's).
* :func:`event_study` — leads and lags around adoption (reference period −1,
  binned endpoints) with a joint Wald pre-trend test.
* :func:`callaway_santanna` — group-time ATT(g, t) for staggered roll-outs,
  robust to effects that differ across cohorts and time, with simple, dynamic
  and group aggregations and analytic (influence-function) standard errors.
  No maintained Python library offers it (pyfixest has TWFE, did2s, a
  saturated event study and local projections), so it is written here, for the
  unconditional case (no covariates) with never-treated controls and R's
  ``did`` default "varying" base period.
* :func:`money` turns an effect into incremental margin, net of cost, ROI,
  payback and P(net > 0), and :func:`decide` into scale / keep watching /
  roll back, with the reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib.errors import EstimationError
from cxlib.results import note_method

__all__ = [
    "ESTIMATORS",
    "DidResult",
    "build_panel",
    "callaway_santanna",
    "decide",
    "did_2x2",
    "estimate",
    "event_study",
    "money",
    "side_effects",
    "twfe",
]


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
    """Aggregate orders (and optionally CSAT and contacts) to a balanced unit × period panel.

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
        Optional period range (inclusive, e.g. ``"2024-01"``).
    exclude_other_treated
        Drop units that received a *different* innovation, so controls are
        never-treated units only (recommended: otherwise another innovation's
        effect contaminates the comparison).

    Returns
    -------
    DataFrame
        unit_id, period (Timestamp, period start), t (0-based period index),
        margin (sum; 0 where a unit had no orders in a period — a real zero, not
        missing), n_orders, csat (mean, NaN where no answers), contacts (count,
        0 filled), first_treated (t index of adoption, NaN = never), treated (0/1),
        rel (t − first_treated, NaN for never treated).
    """
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
    if start:
        periods = periods[periods >= pd.Period(start, period)]
    if end:
        periods = periods[periods <= pd.Period(end, period)]
    units = sorted(orders[unit].dropna().unique())
    if exclude_other_treated:
        others = set(innovations.loc[innovations["innovation_id"] != innovation_id, "unit_id"])
        units = [u for u in units if u not in others or u in set(inn["unit_id"])]
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
    starts = inn.set_index("unit_id")["start_date"].dt.to_period(period)
    first = panel["unit_id"].map(starts).map(
        lambda p: pos.get(p, np.nan) if pd.notna(p) else np.nan)
    panel["first_treated"] = first.astype(float)
    panel["treated"] = (panel["t"] >= panel["first_treated"]).astype(int)
    panel["rel"] = panel["t"] - panel["first_treated"]
    return panel.drop(columns="_p")


# ---------------------------------------------------------------------- results
@dataclass
class DidResult:
    """A difference-in-differences estimate; accessors derive from :meth:`tidy`."""

    table: pd.DataFrame
    estimator: str
    n_units: int
    n_obs: int
    diagnostics: dict[str, Any] = field(default_factory=dict)

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
    z = stats.norm.ppf(1 - alpha / 2)
    p = 2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan
    return {"term": term, "estimate": est, "std_error": se, "ci_low": est - z * se,
            "ci_high": est + z * se, "p_value": p, **extra}


# ------------------------------------------------------------------------- TWFE
def twfe(panel: pd.DataFrame, *, outcome: str = "margin", alpha: float = 0.05) -> DidResult:
    """Two-way fixed-effects DiD: outcome ~ treated | unit + period, CRV1 by unit.

    Notes
    -----
    y_it = α_i + λ_t + δ D_it + ε_it; δ is the ATT under parallel trends and
    homogeneous effects (use :func:`callaway_santanna` when roll-out is staggered
    and effects may differ by cohort). Estimated with pyfixest ``feols``.

    References
    ----------
    Angrist & Pischke (2009), Mostly Harmless Econometrics, ch. 5; Bergé (2018),
    fixest; pyfixest documentation (CRV1 small-sample correction).
    """
    import pyfixest as pf

    d = panel.dropna(subset=[outcome])
    fit = pf.feols(f"{outcome} ~ treated | unit_id + t", data=d, vcov={"CRV1": "unit_id"})
    est = float(fit.coef()["treated"])
    se = float(fit.se()["treated"])
    n_units = d["unit_id"].nunique()
    note_method("Innovation effect", "two-way fixed effects DiD, SE clustered by unit (CRV1)",
                reference="pyfixest feols", n=len(d), clusters=n_units)
    return DidResult(pd.DataFrame([_row("att", est, se, alpha)]), "twfe", n_units, len(d))


def twfe_numpy(
    y: np.ndarray, d: np.ndarray, unit: np.ndarray, t: np.ndarray
) -> tuple[float, float]:
    """TWFE coefficient and CRV1 SE for a BALANCED panel, in closed form (numpy).

    Used where thousands of fits are needed (coverage simulations); checked
    against pyfixest in the tests. Small-sample factor as pyfixest's default
    CRV1: G/(G−1) × (N−1)/(N−k) with k = T + 1 (the treatment coefficient and
    the T period effects; the unit effects, nested in the clusters, are not
    counted; matched numerically to pyfixest 0.60).
    """
    ui, ti = np.unique(unit, return_inverse=True)[1], np.unique(t, return_inverse=True)[1]
    n_u, n_t = ui.max() + 1, ti.max() + 1

    def within(v: np.ndarray) -> np.ndarray:
        mu_u = np.bincount(ui, v, n_u) / np.bincount(ui, None, n_u)
        mu_t = np.bincount(ti, v, n_t) / np.bincount(ti, None, n_t)
        return v - mu_u[ui] - mu_t[ti] + v.mean()

    yd, dd = within(y.astype(float)), within(d.astype(float))
    sxx = dd @ dd
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
    points; never-treated units carry no event dummies. The joint pre-trend
    test is a Wald test that every lead (rel ≤ −2) is zero, with the clustered
    covariance (χ² with #leads degrees of freedom; p-value in ``diagnostics``).

    Returns
    -------
    DidResult
        Rows ``term = "rel=k"`` with ``event_time`` k (the reference −1 is a row
        with estimate 0), plus ``diagnostics``: pretrend_chi2, pretrend_df,
        pretrend_p.
    """
    import pyfixest as pf

    d = panel.dropna(subset=[outcome]).copy()
    rel = d["rel"].clip(-leads, lags)
    events = [k for k in range(-leads, lags + 1) if k != -1]
    names = []
    for k in events:
        name = f"ev_m{-k}" if k < 0 else f"ev_p{k}"
        d[name] = (rel == k).astype(float)
        names.append(name)
    fit = pf.feols(f"{outcome} ~ {' + '.join(names)} | unit_id + t", data=d,
                   vcov={"CRV1": "unit_id"})
    coef, se, vcov = fit.coef(), fit.se(), np.asarray(fit._vcov)
    order = list(fit._coefnames)
    rows = []
    for k, name in zip(events, names, strict=True):
        rows.append(_row(f"rel={k}", float(coef[name]), float(se[name]), alpha, event_time=k))
    rows.append({"term": "rel=-1", "estimate": 0.0, "std_error": 0.0, "ci_low": 0.0,
                 "ci_high": 0.0, "p_value": np.nan, "event_time": -1})
    lead_names = [n for k, n in zip(events, names, strict=True) if k <= -2]
    ix = [order.index(n) for n in lead_names]
    b = np.array([coef[n] for n in lead_names])
    v = vcov[np.ix_(ix, ix)]
    chi2 = float(b @ np.linalg.solve(v, b))
    p = float(stats.chi2.sf(chi2, len(b)))
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    note_method("Event study", "leads/lags TWFE, ref. -1, clustered by unit; joint Wald pre-trend",
                diagnostics={"pretrend_p": p}, n=len(d))
    return DidResult(table, "event_study", d["unit_id"].nunique(), len(d),
                     {"pretrend_chi2": chi2, "pretrend_df": len(b), "pretrend_p": p})


# ------------------------------------------------------------ Callaway-Sant'Anna
def callaway_santanna(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "unit_id",
    time: str = "t",
    group: str = "first_treated",
    alpha: float = 0.05,
) -> DidResult:
    """Callaway & Sant'Anna (2021) group-time ATTs with never-treated controls.

    Parameters
    ----------
    data
        Balanced panel: one row per unit × time.
    outcome, unit, time
        Column names.
    group
        First treated time of each unit; 0 or NaN = never treated.

    Returns
    -------
    DidResult
        Rows ``term = "att_gt"`` (columns group, time), ``"dynamic"`` (event_time),
        ``"group"`` (group) and the headline ``"att"`` (simple aggregation:
        post-treatment ATT(g,t) weighted by group size).

    Notes
    -----
    For t ≥ g: ATT(g,t) = E[Y_t − Y_{g−1} | G = g] − E[Y_t − Y_{g−1} | never];
    for t < g (pre-periods, "varying" base): the same with base t − 1.
    Standard errors from the influence function
    ψ_i = (N/n_g) 1{G=g}(ΔY_i − m_g) − (N/n_c) 1{C}(ΔY_i − m_c), SE = √(Σψ²)/N;
    aggregations add the influence function of the estimated group-share
    weights, as in the ``did`` R package (analytic, not the multiplier bootstrap).

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
    multiple time periods. Journal of Econometrics 225(2), 200–230; R package
    ``did`` (att_gt, aggte).
    """
    wide = data.pivot(index=unit, columns=time, values=outcome)
    if wide.isna().any().any():
        raise EstimationError("callaway_santanna needs a balanced panel without missing outcomes")
    grp = data.groupby(unit)[group].first().reindex(wide.index).fillna(0)
    times = list(wide.columns)
    y = wide.to_numpy(float)
    g_of = grp.to_numpy(float)
    n = len(wide)
    never = g_of == 0
    n_c = never.sum()
    if n_c < 2:
        raise EstimationError("no never-treated units to compare with")
    groups = sorted(g for g in np.unique(g_of) if g != 0 and g > times[0])
    cells, ifs = [], []
    for g in groups:
        in_g = g_of == g
        n_g = in_g.sum()
        for j, tt in enumerate(times[1:], start=1):
            base = times.index(g) - 1 if tt >= g else j - 1
            if base < 0:
                continue
            dy = y[:, j] - y[:, base]
            m_g, m_c = dy[in_g].mean(), dy[never].mean()
            att = m_g - m_c
            psi = np.zeros(n)
            psi[in_g] = n / n_g * (dy[in_g] - m_g)
            psi[never] = -n / n_c * (dy[never] - m_c)
            cells.append({"group": g, "time": tt, "att": att, "post": tt >= g})
            ifs.append(psi)
    psi_all = np.array(ifs)
    cell = pd.DataFrame(cells)
    cell["std_error"] = np.sqrt((psi_all**2).sum(axis=1)) / n
    pg = {g: (g_of == g).mean() for g in groups}

    def aggregate(mask: np.ndarray) -> tuple[float, float]:
        k = np.flatnonzero(mask)
        w_raw = np.array([pg[g] for g in cell["group"].iloc[k]])
        s = w_raw.sum()
        w = w_raw / s
        att = float(w @ cell["att"].iloc[k].to_numpy())
        # influence of estimating the weights (group shares)
        ind = np.array([(g_of == g).astype(float) - pg[g] for g in cell["group"].iloc[k]])
        wif = ind / s - np.outer(w_raw, ind.sum(axis=0)) / s**2
        psi = w @ psi_all[k] + wif.T @ cell["att"].iloc[k].to_numpy()
        return att, float(np.sqrt((psi**2).sum()) / n)

    rows = []
    for r, psi in zip(cell.itertuples(), psi_all, strict=True):
        rows.append(_row("att_gt", r.att, float(np.sqrt((psi**2).sum()) / n), alpha,
                         group=r.group, time=r.time))
    e = (cell["time"] - cell["group"]).to_numpy()
    for ev in sorted(set(e)):
        est, se = aggregate(e == ev)
        rows.append(_row("dynamic", est, se, alpha, event_time=int(ev)))
    for g in groups:
        mask = (cell["group"] == g).to_numpy() & cell["post"].to_numpy()
        k = np.flatnonzero(mask)
        psi = psi_all[k].mean(axis=0)
        rows.append(_row("group", float(cell["att"].iloc[k].mean()),
                         float(np.sqrt((psi**2).sum()) / n), alpha, group=g))
    est, se = aggregate(cell["post"].to_numpy())
    rows.append(_row("att", est, se, alpha))
    note_method("Innovation effect (staggered)", "Callaway-Sant'Anna group-time ATT, "
                "never-treated controls, analytic influence-function SEs",
                reference="Callaway & Sant'Anna (2021), J. Econometrics 225(2)", n=n)
    return DidResult(pd.DataFrame(rows), "callaway_santanna", n, int(n * len(times)))


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


# ------------------------------------------------------------------------ money
def money(
    att: float,
    se: float,
    *,
    treated_unit_periods: int,
    n_units: int,
    cost_per_period: float,
    one_off_cost: float,
    horizon: int = 24,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Incremental margin, cost, net, ROI, payback and P(net > 0) of an innovation.

    Notes
    -----
    incremental margin = ATT × treated unit-periods;
    cost = cost per unit-period × treated unit-periods + one-off cost × units;
    net per unit-period = ATT − cost per period − one-off / horizon (the one-off
    amortised over ``horizon`` periods); net = that × treated unit-periods;
    ROI = net / cost; payback (periods) = one-off / (ATT − cost per period).
    Intervals carry the normal sampling distribution of the ATT through (delta
    method: every quantity is linear in the ATT except ROI and payback, whose
    interval ends are mapped through the ATT interval ends, monotone maps).

    Returns
    -------
    DataFrame
        One row per quantity: quantity, estimate, ci_low, ci_high (plus
        p_net_positive on the "net" row).
    """
    z = stats.norm.ppf(1 - alpha / 2)
    lo, hi = att - z * se, att + z * se
    tup = treated_unit_periods
    cost = cost_per_period * tup + one_off_cost * n_units
    amort = cost_per_period + one_off_cost / horizon

    def net_pp(a: float) -> float:
        return a - amort

    def payback(a: float) -> float:
        gain = a - cost_per_period
        return one_off_cost / gain if gain > 0 else np.inf

    p_pos = float(stats.norm.sf(amort, loc=att, scale=se)) if se > 0 else float(att > amort)
    rows = [
        {"quantity": "att_per_unit_period", "estimate": att, "ci_low": lo, "ci_high": hi},
        {"quantity": "incremental_margin", "estimate": att * tup, "ci_low": lo * tup,
         "ci_high": hi * tup},
        {"quantity": "incremental_cost", "estimate": cost, "ci_low": cost, "ci_high": cost},
        {"quantity": "net_per_unit_period", "estimate": net_pp(att), "ci_low": net_pp(lo),
         "ci_high": net_pp(hi)},
        {"quantity": "net", "estimate": net_pp(att) * tup, "ci_low": net_pp(lo) * tup,
         "ci_high": net_pp(hi) * tup, "p_net_positive": p_pos},
        {"quantity": "roi", "estimate": net_pp(att) * tup / cost if cost else np.nan,
         "ci_low": net_pp(lo) * tup / cost if cost else np.nan,
         "ci_high": net_pp(hi) * tup / cost if cost else np.nan},
        {"quantity": "payback_periods", "estimate": payback(att), "ci_low": payback(hi),
         "ci_high": payback(lo)},
    ]
    note_method("Innovation money", "net = ATT x treated unit-periods - cost; normal CI from the "
                "clustered SE", horizon=horizon)
    return pd.DataFrame(rows)


def decide(money_table: pd.DataFrame, *, pretrend_p: float | None = None,
           alpha: float = 0.05) -> dict[str, str]:
    """Scale, keep watching or roll back, with the reason in words."""
    net = money_table.set_index("quantity").loc["net_per_unit_period"]
    if pretrend_p is not None and pretrend_p < alpha:
        return {"decision": "no decision",
                "reason": f"the pre-trend test fails (p = {pretrend_p:.3f}): treated and control "
                          "units already diverged before the roll-out, so the estimate is not "
                          "credible. Check the comparison group before deciding."}
    if net["ci_low"] > 0:
        return {"decision": "scale",
                "reason": f"net margin per unit-period {net['estimate']:,.0f} "
                          f"[{net['ci_low']:,.0f}, {net['ci_high']:,.0f}] is above zero: the "
                          "innovation earns more margin than it costs."}
    if net["ci_high"] < 0:
        return {"decision": "roll back",
                "reason": f"net margin per unit-period {net['estimate']:,.0f} "
                          f"[{net['ci_low']:,.0f}, {net['ci_high']:,.0f}] is below zero: it "
                          "costs more than the margin it brings."}
    return {"decision": "keep watching",
            "reason": f"net margin per unit-period {net['estimate']:,.0f} "
                      f"[{net['ci_low']:,.0f}, {net['ci_high']:,.0f}] straddles zero: not yet "
                      "enough evidence either way; keep measuring before scaling."}


def side_effects(panel: pd.DataFrame, *, outcomes: tuple[str, ...] = ("csat", "contacts"),
                 alpha: float = 0.05) -> pd.DataFrame:
    """The same TWFE estimate on satisfaction and contact volume (one row each)."""
    rows = []
    for out in outcomes:
        if out not in panel or panel[out].notna().sum() == 0:
            continue
        r = twfe(panel, outcome=out, alpha=alpha).tidy().iloc[0].to_dict()
        r["outcome"] = out
        rows.append(r)
    return pd.DataFrame(rows)


ESTIMATORS = ("twfe", "event_study", "callaway_santanna")


def estimate(panel: pd.DataFrame, *, estimator: str = "twfe", outcome: str = "margin",
             alpha: float = 0.05) -> DidResult:
    """Headline ATT by the chosen estimator (its ``att`` row is what :func:`money` uses).

    ``event_study`` reports the average of its lags (rel ≥ 0) as the ATT, with
    the SE of that average from the clustered covariance approximated by the
    TWFE SE; prefer ``twfe`` or ``callaway_santanna`` for the money.
    """
    if estimator == "twfe":
        return twfe(panel, outcome=outcome, alpha=alpha)
    if estimator == "callaway_santanna":
        # 1-based periods so that group 0 can mean "never treated"
        p = panel.assign(_g=panel["first_treated"].fillna(-1) + 1, _t=panel["t"] + 1)
        p = p[p[outcome].notna()]
        res = callaway_santanna(p, outcome=outcome, time="_t", group="_g", alpha=alpha)
        t = res.table.copy()
        for col in ("group", "time"):
            if col in t:
                t[col] = t[col] - 1  # back to 0-based period index
        res.table = t
        return res
    if estimator == "event_study":
        es = event_study(panel, outcome=outcome, alpha=alpha)
        lags = es.tidy().query("event_time >= 0")
        base = twfe(panel, outcome=outcome, alpha=alpha)
        row = _row("att", float(lags["estimate"].mean()), base.se, alpha)
        es.table = pd.concat([es.table, pd.DataFrame([row])], ignore_index=True)
        return es
    raise EstimationError(f"unknown estimator {estimator!r}; one of {ESTIMATORS}")
