"""Care or nuisance: how many contacts help, and what each extra contact earns or costs.

The analyst's question (seed 003): *at what contact rate does care turn into
nuisance, and what does each extra contact cost or earn in money?*

The dose is what the company controls
-------------------------------------
Inbound contacts rise when something went wrong, so a curve on *total*
contacts mixes cause (the company's proactive contacts) and symptom (the
customer calling in).  The dose here is **proactive contacts per customer per
month**; inbound contacts are an outcome (a curve of their own).  The naive
total-contacts curve is computed the same way for comparison (``dose=
"total_per_month"``): it turns down too early, because high totals mark
unhappy customers.

Pipeline
--------
:func:`customer_rates`
    contacts + customers (+ responses) -> one row per customer: contacts per month
    by direction and channel, complaints, retention, satisfaction.
:func:`dose_response`
    flexible curves (a cubic B-spline of the dose in a GLM: Gaussian for scores,
    logistic for retention, Poisson for counts), controlling for branch (and any
    other columns), per segment; the **nuisance threshold** (where the marginal
    effect turns negative) with a bootstrap interval, overall and per segment.
:func:`cxlib.analysis.contact_money.money`
    margin from retention and satisfaction minus the cost of the contacts, as a
    function of the proactive rate: the money-optimal rate with its interval, and
    what moving each segment from today's rate to it is worth per year.
:func:`dose_table`
    the observed outcome by dose level (a cross-tabulation with intervals), the
    plain view beside the curve and the check of real data.
:func:`prepare_bank`, :func:`prepare_telecom`
    the real UCI bank campaign and telecom churn exports as customer rows.

The spline GLM machinery is :mod:`cxlib.analysis.curves`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlib.analysis.curves import (
    FAMILIES,
    CurveFit,
    fit_curve,
    fit_glm_batch,
    spline_basis,
)
from cxlib.analysis.stats import (
    bootstrap_counts,
    check_n_boot,
    percentile_interval,
    t_interval,
    wilson_interval,
)
from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = [
    "DoseResponse",
    "customer_rates",
    "dose_response",
    "dose_table",
    "load_care",
    "naive_comparison",
    "parse_costs",
    "prepare_bank",
    "prepare_telecom",
]

_DAYS_PER_YEAR = 365.25


# ================================================================ inputs
def parse_costs(text: str | Mapping[str, float]) -> dict[str, float]:
    """Unit cost per channel from ``"phone:1.2, email:0.1"`` (or a mapping).

    Raises
    ------
    ParameterError
        An entry without ``channel:cost``, a cost that is not a number or negative.

    Examples
    --------
    >>> parse_costs("phone:1.2, email:0.1")
    {'phone': 1.2, 'email': 0.1}
    """
    if isinstance(text, Mapping):
        items = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition(":")
            items.append((name.strip(), value.strip() if sep else None))
    out: dict[str, float] = {}
    problems = []
    for name, value in items:
        try:
            cost = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(f"channel cost {name!r}: write channel:cost, e.g. phone:1.2")
            continue
        if not name or cost < 0 or not np.isfinite(cost):
            problems.append(f"channel cost {name!r}: {value}: need a channel name and a "
                            "cost >= 0")
            continue
        out[name] = cost
    if problems:
        raise ParameterError(problems, source="channel costs")
    return out


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; it has {list(df.columns)[:20]}",
                        column=missing[0], rule="required column")


def customer_rates(contacts: pd.DataFrame | str | Path, customers: pd.DataFrame, *,
                   responses: pd.DataFrame | None = None, start: str | None = None,
                   end: str | None = None) -> pd.DataFrame:
    """Contacts per customer per month by direction and channel, with the outcomes.

    Parameters
    ----------
    contacts
        The contacts contract: customer_id, date, channel, direction
        (proactive/inbound), optionally ``complaint`` (bool). A DataFrame, or the path
        of a Parquet file or folder of parts: then DuckDB counts the contacts per
        customer, direction and channel while reading, so tens of millions of contact
        rows never sit in memory.
    customers
        The customers contract: customer_id, plus whatever columns to keep
        (segment, region, branch_id, signup_date, retained...).
    responses
        Optional responses: the mean ``overall`` score (touchpoint ``journey``) and
        the mean CSAT at the touchpoints the contacts reached (``csat_contact``) per
        customer, within the window.
    start, end
        The window (dates, inclusive); default: the months of the first and last
        contact.  Customers who signed up inside it count the months since.

    Returns
    -------
    DataFrame
        One row per customer: customer_id, the kept customer columns, months,
        proactive, inbound (counts), proactive_per_month, inbound_per_month,
        total_per_month, ``proactive_<channel>`` and ``inbound_<channel>`` counts,
        complaints and complaints_per_month (when contacts carry ``complaint``),
        account_age_years (at the window end, when customers carry signup_date),
        retained (0/1 float, when present), overall and csat_contact (when
        responses are given; NaN for customers without answers).

    Raises
    ------
    DataError
        Missing columns, an unknown direction, contacts of customers that are not
        in ``customers`` (up to five listed), duplicate customer ids.

    Examples
    --------
    >>> from cxlib.data.synth.care import simulate_care
    >>> t, _ = simulate_care(200, seed=1)
    >>> r = customer_rates(t["contacts"], t["customers"], responses=t["responses"])
    >>> int(r["proactive"].sum()) == int((t["contacts"]["direction"] == "proactive").sum())
    True
    """
    _require(customers, ["customer_id"], "customers")
    ids = customers["customer_id"].astype(str)
    if ids.duplicated().any():
        raise DataError("customers has duplicate customer ids: one row per customer, please",
                        column="customer_id", rule="unique", rows=customers[ids.duplicated()])
    index = pd.Index(ids)
    if isinstance(contacts, (str, Path)):
        counts, chans, comp, lo, hi, tps = _count_in_duckdb(contacts, index, start, end)
    else:
        counts, chans, comp, lo, hi, tps = _count_frame(contacts, index, start, end)
    n = len(ids)
    months_total = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    out = customers.drop(columns=[k for k in ("name", "email", "phone") if k in customers])
    out = out.reset_index(drop=True).copy()
    out["customer_id"] = ids.to_numpy()
    months = np.full(n, float(months_total))
    if "signup_date" in customers:
        signup = pd.to_datetime(customers["signup_date"]).to_numpy()
        late = signup > np.datetime64(lo)
        su = pd.DatetimeIndex(signup[late])
        months[late] = np.maximum(1, (hi.year - su.year) * 12 + hi.month - su.month + 1)
        out["account_age_years"] = ((np.datetime64(hi) - signup) / np.timedelta64(1, "D")
                                    / _DAYS_PER_YEAR)
        out = out.drop(columns="signup_date")
    out["months"] = months
    out["proactive"] = counts[:, 0].sum(1)
    out["inbound"] = counts[:, 1].sum(1)
    out["proactive_per_month"] = out["proactive"] / months
    out["inbound_per_month"] = out["inbound"] / months
    out["total_per_month"] = out["proactive_per_month"] + out["inbound_per_month"]
    for j, ch in enumerate(chans):
        out[f"proactive_{ch}"] = counts[:, 0, j]
        out[f"inbound_{ch}"] = counts[:, 1, j]
    if comp is not None:
        out["complaints"] = comp
        out["complaints_per_month"] = comp / months
    if "retained" in out:
        out["retained"] = out["retained"].astype(float)
    if responses is not None:
        _require(responses, ["customer_id", "date", "touchpoint_id", "metric", "score"],
                 "responses")
        rd = pd.to_datetime(responses["date"])
        inside = ((rd >= lo) & (rd < hi + pd.Timedelta(days=1))).to_numpy()
        metric = responses["metric"].to_numpy(dtype=object)
        rcode = index.get_indexer(responses["customer_id"].astype(str))  # -1: not a customer
        score = responses["score"].to_numpy(float)
        sel_o = inside & (metric == "overall") & (rcode >= 0)
        sel_c = (inside & (metric == "csat") & (rcode >= 0)
                 & responses["touchpoint_id"].astype(str).isin(list(tps)).to_numpy())
        for name, sel in (("overall", sel_o), ("csat_contact", sel_c)):
            tot = np.bincount(rcode[sel], weights=score[sel], minlength=n)
            cnt = np.bincount(rcode[sel], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    return out


def _count_frame(contacts: pd.DataFrame, index: pd.Index, start: str | None,
                 end: str | None) -> tuple[np.ndarray, list[str], np.ndarray | None,
                                           pd.Timestamp, pd.Timestamp, set[str]]:
    """(customers, 2, channels) contact counts of an in-memory contacts table, the
    channels, complaints per customer (or None), the window and the touchpoints."""
    _require(contacts, ["customer_id", "date", "channel", "direction"], "contacts")
    dates = pd.to_datetime(contacts["date"])
    lo = pd.Timestamp(start) if start else dates.min().to_period("M").start_time
    hi = pd.Timestamp(end) if end else dates.max().to_period("M").end_time.normalize()
    keep = ((dates >= lo) & (dates < hi + pd.Timedelta(days=1))).to_numpy()
    c = contacts.loc[keep] if not keep.all() else contacts
    cid = c["customer_id"]
    if isinstance(cid.dtype, pd.CategoricalDtype):  # large exports: map the categories only
        cat_pos = np.append(index.get_indexer(cid.cat.categories.astype(str)), -1)
        code = cat_pos[np.asarray(cid.cat.codes)]  # code -1 (missing) picks the -1 appended
    else:
        code = index.get_indexer(cid.astype(str)).astype(np.int64)
    show = [k for k in ("customer_id", "date", "channel", "direction") if k in c]
    if (code < 0).any():
        _unknown_customers(int((code < 0).sum()), c.loc[code < 0, show])
    direction = pd.Categorical(c["direction"], categories=["proactive", "inbound"])
    dcode = np.asarray(direction.codes)
    if (dcode < 0).any():
        raise DataError("direction must be proactive or inbound", column="direction",
                        rule="isin [proactive, inbound]", rows=c.loc[dcode < 0, ["direction"]])
    chan = pd.Categorical(c["channel"])
    chans = [str(x) for x in chan.categories]
    ccode = np.asarray(chan.codes)
    if (ccode < 0).any():
        raise DataError("every contact needs its channel (to cost it)", column="channel",
                        rule="not null", rows=c.loc[ccode < 0, show])
    n, nch = len(index), len(chans)
    key = code  # one int64 array, updated in place (tens of millions of contacts)
    key *= 2 * nch
    key += dcode * nch
    key += ccode
    counts = np.bincount(key, minlength=n * 2 * nch).reshape(n, 2, nch)
    comp = None
    if "complaint" in c:
        is_c = c["complaint"].fillna(False).to_numpy(dtype=bool)
        comp = np.bincount(key[is_c] // (2 * nch), minlength=n).astype(float)
    tps = set(map(str, pd.unique(c["touchpoint_id"].dropna()))) if "touchpoint_id" in c \
        else set()
    return counts, chans, comp, lo, hi, tps


def _unknown_customers(n_bad: int, rows: Any) -> None:
    raise DataError(f"{n_bad} contacts belong to customers that are not in the customers "
                    "table; load the matching customers export or drop those contacts",
                    column="customer_id", rule="customer exists", rows=rows)


def _count_in_duckdb(path: str | Path, index: pd.Index, start: str | None, end: str | None
                     ) -> tuple[np.ndarray, list[str], np.ndarray | None,
                                pd.Timestamp, pd.Timestamp, set[str]]:
    """:func:`_count_frame` for a Parquet file or folder: DuckDB counts while reading,
    one row per customer (a count column per direction and channel), so the contact
    rows never sit in memory."""
    from cxlib.data import duck

    # a private connection with a memory cap (DuckDB spills beyond it), closed when done
    # so that its buffers are given back: the count must not crowd out the curves
    con = duck.connect()
    try:
        con.execute("SET memory_limit = '512MB'")
        con.execute("SET preserve_insertion_order = false")
        return _count_with(con, duck, path, index, start, end)
    finally:
        con.close()


def _count_with(con: Any, duck: Any, path: str | Path, index: pd.Index, start: str | None,
                end: str | None) -> tuple[np.ndarray, list[str], np.ndarray | None,
                                          pd.Timestamp, pd.Timestamp, set[str]]:
    rel = duck.read_parquet(path, con=con)
    cols = duck.relation_columns(rel)
    duck.check_columns(rel, ["customer_id", "date", "channel", "direction"], what="column")
    first, last = rel.aggregate("min(date), max(date)").fetchall()[0]
    lo = pd.Timestamp(start) if start else pd.Timestamp(first).to_period("M").start_time
    hi = pd.Timestamp(end) if end else pd.Timestamp(last).to_period("M").end_time.normalize()
    upto = hi + pd.Timedelta(days=1)
    ql, qi = duck.quote_literal, duck.quote_ident
    rel = rel.filter(f"date >= CAST({ql(str(lo))} AS TIMESTAMP) AND "
                     f"date < CAST({ql(str(upto))} AS TIMESTAMP)")
    pairs = rel.aggregate("direction, channel", "direction, channel").fetchall()
    bad = [d for d, _ in pairs if d not in ("proactive", "inbound")]
    if bad:
        raise DataError("direction must be proactive or inbound", column="direction",
                        rule="isin [proactive, inbound]", rows=[{"direction": d} for d in bad])
    if any(ch is None for _, ch in pairs):
        raise DataError("every contact needs its channel (to cost it)", column="channel",
                        rule="not null")
    chans = sorted({str(ch) for _, ch in pairs})
    exprs = [f"count(*) FILTER (WHERE direction = {ql(d)} AND channel = {ql(ch)}) "
             f"AS {qi(f'n{i}')}" for i, (d, ch) in enumerate(pairs)]
    if "complaint" in cols:
        exprs.append("sum(CAST(coalesce(complaint, false) AS INTEGER)) AS complaints")
    wide = rel.aggregate("CAST(customer_id AS VARCHAR) AS customer_id, " + ", ".join(exprs),
                         "customer_id").df()
    code = index.get_indexer(wide["customer_id"].astype(str))
    if (code < 0).any():
        _unknown_customers(int(wide.loc[code < 0, [f"n{i}" for i in range(len(pairs))]]
                               .to_numpy().sum()), wide.loc[code < 0, ["customer_id"]])
    counts = np.zeros((len(index), 2, len(chans)), np.int64)
    for i, (d, ch) in enumerate(pairs):
        counts[code, 0 if d == "proactive" else 1, chans.index(str(ch))] = wide[f"n{i}"]
    comp = None
    if "complaints" in wide:
        comp = np.zeros(len(index))
        comp[code] = wide["complaints"].to_numpy(float)
    tps: set[str] = set()
    if "touchpoint_id" in cols:
        tps = {str(t) for (t,) in rel.aggregate("touchpoint_id", "touchpoint_id").fetchall()
               if t is not None}
    return counts, chans, comp, lo, hi, tps


# ============================================================ dose-response
@dataclass
class DoseResponse:
    """Curves and nuisance thresholds of :func:`dose_response`.

    Attributes
    ----------
    curves : DataFrame
        group, outcome, dose_value, estimate, ci_low, ci_high (pointwise percentile
        bootstrap interval); group ``"all"`` is the overall curve.
    thresholds : DataFrame
        group, outcome, threshold, ci_low, ci_high, n, today_rate, flag, cap.
    groups : DataFrame
        group, n, included, flag (groups too small for a curve are flagged, not hidden).
    """

    dose: str
    by: str | None
    outcomes: dict[str, str]
    lower_is_better: tuple[str, ...]
    curves: pd.DataFrame
    thresholds: pd.DataFrame
    groups: pd.DataFrame
    grids: dict[str, np.ndarray] = field(repr=False)
    point: dict[tuple[str, str], np.ndarray] = field(repr=False)
    boot: dict[tuple[str, str], np.ndarray] = field(repr=False)
    n_boot: int = 0
    alpha: float = 0.05
    data: pd.DataFrame | None = field(default=None, repr=False)

    def caps(self) -> pd.DataFrame:
        """Recommended cap per group: the lowest threshold over the outcomes."""
        t = self.thresholds.dropna(subset=["threshold"])
        return (t.sort_values("threshold").groupby("group", sort=False).head(1)
                [["group", "outcome", "threshold", "ci_low", "ci_high", "today_rate"]]
                .rename(columns={"threshold": "cap", "outcome": "binding_outcome"})
                .reset_index(drop=True))


def _threshold(curve: np.ndarray, grid: np.ndarray, sign: float) -> float:
    return float(grid[int(np.argmax(sign * curve))])


def dose_response(data: pd.DataFrame, *, dose: str = "proactive_per_month",
                  outcomes: Mapping[str, str] | None = None, by: str | None = "segment",
                  controls: Sequence[str] = ("branch_id",), df: int = 4, n_boot: int = 200,
                  seed: int = 0, min_customers: int = 200, grid_points: int = 201,
                  lower_is_better: Sequence[str] = ("inbound_per_month",
                                                    "complaints_per_month"),
                  trim: float = 0.01, alpha: float = 0.05,
                  boot_steps: int | None = 3) -> DoseResponse:
    """Dose-response curves and nuisance thresholds, overall and per group.

    Parameters
    ----------
    data
        One row per customer (:func:`customer_rates`, or a real export prepared
        with :func:`prepare_bank` / :func:`prepare_telecom`).
    dose
        The dose column: ``proactive_per_month`` (what the company controls; the
        default) or ``total_per_month`` (the naive curve, for comparison).
    outcomes
        Outcome column -> GLM family; default ``{"overall": "gaussian", "retained":
        "binomial", "inbound_per_month": "poisson"}`` (those present).
    by
        Group column (``segment``): a curve per group, the overall curve is their
        average with the groups' shares (standardisation), so it is not distorted
        by groups sitting at different rates. None: one curve.
    controls
        Columns adjusted for within each group (branch by default).
    df
        Spline degrees of freedom.
    n_boot, seed
        Bootstrap resamples of customers (within groups) and their seed.
    min_customers
        Groups with fewer customers are flagged ``"too few customers"`` and left
        out of the curves (the overall curve says so in ``groups``).
    grid_points, trim
        The curve is evaluated on ``grid_points`` doses between the ``trim`` and
        ``1 - trim`` quantiles of the group's dose (overall: the overlap of the
        groups' ranges).
    lower_is_better
        Outcomes where less is better (inbound contacts, complaints): their
        threshold is where the marginal effect turns *positive*.
    alpha
        1 - interval level.
    boot_steps
        IRLS steps per resample from the full-sample fit (the k-step bootstrap of
        Davison & Hinkley 1997, sec. 6.3); None iterates every resample to
        convergence (slower, same intervals to well below their sampling error).

    Returns
    -------
    DoseResponse

    Notes
    -----
    Each curve is the average predicted outcome with the dose set to ``x`` for every
    customer of the group (average predictive margin), from
    ``g(E[y]) = spline(dose) + controls``.  The **nuisance threshold** is the dose
    where the curve peaks, i.e. where the marginal effect ``d E[y] / d dose`` turns
    negative (for ``lower_is_better`` outcomes: where it turns positive). It is
    flagged ``"falls from the start"`` when the peak is at the lowest dose observed
    and ``"no turn within the data"`` when at the highest. Intervals: percentile
    bootstrap over customers (resampled within groups; the spline knots fixed),
    every outcome refitted on the same resample so that the money curve
    (:func:`money`) can combine them.

    References
    ----------
    Hastie, T., Tibshirani, R. & Friedman, J. (2009). *The Elements of Statistical
    Learning*, 2nd ed., ch. 5 (regression splines). Efron, B. & Tibshirani, R. (1993).
    *An Introduction to the Bootstrap*, ch. 13.

    Examples
    --------
    >>> from cxlib.data.synth.care import simulate_care
    >>> r = simulate_care(1500, seed=1, tables=("rates",))[0]["rates"]
    >>> r["proactive_per_month"] = r["proactive"] / r["months"]
    >>> dr = dose_response(r, outcomes={"overall": "gaussian"}, n_boot=20)
    >>> sorted(dr.thresholds["group"])
    ['affluent', 'all', 'business', 'mass']
    """
    if outcomes is None:
        outcomes = {k: v for k, v in {"overall": "gaussian", "retained": "binomial",
                                      "inbound_per_month": "poisson"}.items() if k in data}
    outcomes = dict(outcomes)
    problems = []
    for o, fam in outcomes.items():
        if fam not in FAMILIES:
            problems.append(f"outcome {o!r}: family {fam!r} is not one of {FAMILIES}")
    if not outcomes:
        problems.append("outcomes: name at least one outcome column")
    if int(grid_points) < 11:
        problems.append(f"grid_points={grid_points}: need at least 11")
    if not 0 <= trim < 0.5:
        problems.append(f"trim={trim}: need 0 <= trim < 0.5")
    if problems:
        raise ParameterError(problems, source="dose_response")
    check_n_boot(n_boot, minimum=200, what="the nuisance threshold")
    _require(data, [dose, *outcomes, *controls, *([by] if by else [])], "the data")
    x_all = pd.to_numeric(data[dose], errors="coerce")
    bad = x_all.isna() | (x_all < 0)
    if bad.any():
        raise DataError(f"{dose} must be a number >= 0 (contacts cannot be negative or "
                        "missing); fix or drop those customers", column=dose,
                        rule="number >= 0", rows=data.loc[bad])
    for o, fam in outcomes.items():
        y = pd.to_numeric(data[o], errors="coerce").dropna()
        if fam == "binomial" and not y.isin([0, 1]).all():
            raise DataError(f"outcome {o} must be 0/1 for a logistic curve", column=o,
                            rule="in {0, 1}", rows=data.loc[y.index[~y.isin([0, 1])]])
        if fam == "poisson" and (y < 0).any():
            raise DataError(f"outcome {o} is a count: it cannot be negative", column=o,
                            rule=">= 0", rows=data.loc[y.index[y < 0]])
    data = data.reset_index(drop=True)
    sign = {o: (-1.0 if o in lower_is_better else 1.0) for o in outcomes}
    if by:
        labels = data[by].astype(str)
        sizes = labels.value_counts().sort_index()
    else:
        labels = pd.Series("all", index=data.index)
        sizes = pd.Series({"all": len(data)})
    groups = pd.DataFrame({"group": sizes.index, "n": sizes.to_numpy()})
    groups["included"] = groups["n"] >= int(min_customers)
    groups["flag"] = np.where(groups["included"], "",
                              f"too few customers (< {int(min_customers)}) for a curve")
    inc = groups.loc[groups["included"], "group"].tolist()
    if not inc:
        raise EstimationError(f"no group has at least {min_customers} customers with a dose; "
                              "lower min_customers or pool the groups (by=None)")
    fits: dict[tuple[str, str], CurveFit] = {}
    grids: dict[str, np.ndarray] = {}
    pos: dict[str, np.ndarray] = {}
    for gname in inc:
        idx = np.flatnonzero((labels == gname).to_numpy())
        pos[gname] = idx
        sub = data.iloc[idx]
        xs = sub[dose].to_numpy(float)
        basis = spline_basis(xs, df)
        lo, hi = np.quantile(xs, [trim, 1 - trim])
        grids[gname] = np.linspace(lo, hi, int(grid_points))
        for o, fam in outcomes.items():
            n_o = int(sub[o].notna().sum())
            if n_o < max(20, 4 * df):
                raise EstimationError(f"group {gname!r}: only {n_o} customers with {o}; a "
                                      "curve needs more (or drop that outcome)")
            fits[(gname, o)] = fit_curve(sub, dose=dose, outcome=o, family=fam,
                                         controls=controls, basis=basis)
    multi = by is not None
    if multi:
        lo = max(grids[g][0] for g in inc)
        hi = min(grids[g][-1] for g in inc)
        if not hi > lo:
            raise EstimationError("the groups' dose ranges do not overlap: no overall curve; "
                                  "read the group curves")
        grids["all"] = np.linspace(lo, hi, int(grid_points))
    share = {g: float(sizes[g]) for g in inc}
    tot = sum(share.values())

    def curves_for(coefs: Mapping[tuple[str, str], np.ndarray],
                   wts: Mapping[str, np.ndarray] | None) -> dict[tuple[str, str], np.ndarray]:
        out = {}
        for o in outcomes:
            acc = 0.0
            for g in inc:
                f = fits[(g, o)]
                ww = None if wts is None else wts[g][f.rows]
                out[(g, o)] = f.curve(grids[g], coefs[(g, o)], ww)
                if multi:
                    wg = share[g] / tot if wts is None else float(wts[g].sum())
                    acc = acc + wg * f.curve(grids["all"], coefs[(g, o)], ww)
            if multi:
                norm = 1.0 if wts is None else float(sum(wts[g].sum() for g in inc))
                out[("all", o)] = acc / norm
        return out

    point = curves_for({k: f.coef for k, f in fits.items()}, None)
    for f in fits.values():  # the bootstrap needs only the distinct rows: free the rest
        f.compact()
    keys = list(point)
    boot = {k: np.empty((int(n_boot), len(point[k]))) for k in keys}
    # resamples in blocks (one stacked IRLS per block), each resample from its own stream
    # ([seed, b]) so the draws do not depend on the block size
    width = max(f.X.shape[1] for f in fits.values())
    m_max = max(len(f.aggregated()[1]) for f in fits.values())
    n_max = max(len(p) for p in pos.values())
    block = max(1, min(int(n_boot), int(4e7 // (8 * max(width * m_max, n_max)))))
    for b0 in range(0, int(n_boot), block):
        bb = range(b0, min(int(n_boot), b0 + block))
        draws = [np.random.default_rng([int(seed), b]) for b in bb]
        wts = {g: np.stack([bootstrap_counts(r, len(pos[g])) for r in draws]) for g in inc}
        for o in outcomes:
            acc = 0.0
            for g in inc:
                f = fits[(g, o)]
                W = wts[g] if len(f.rows) == len(pos[g]) else wts[g][:, f.rows]
                Xu, yu, inv, xx = f.aggregated()  # exact: weights summed on distinct rows
                Wu = np.stack([np.bincount(inv, weights=w, minlength=len(yu)) for w in W])
                del W
                C = fit_glm_batch(Xu, yu, f.family, Wu, start=f.coef, steps=boot_steps, xx=xx)
                boot[(g, o)][b0:b0 + len(bb)] = f.curves_aggregated(grids[g], C, Wu)
                if multi:
                    acc = acc + wts[g].sum(1)[:, None] * f.curves_aggregated(grids["all"], C,
                                                                             Wu)
            if multi:
                boot[("all", o)][b0:b0 + len(bb)] = acc / sum(wts[g].sum(1) for g in inc)[
                    :, None]
    rows_c, rows_t = [], []
    today = {g: float(data.loc[pos[g], dose].mean()) for g in inc}
    if multi:
        today["all"] = float(data[dose].mean())
        pos["all"] = np.arange(len(data))
    for (g, o) in keys:
        grid = grids[g]
        lo_c, hi_c = percentile_interval(boot[(g, o)], alpha)
        rows_c.append(pd.DataFrame({"group": g, "outcome": o, "dose_value": grid,
                                    "estimate": point[(g, o)], "ci_low": lo_c, "ci_high": hi_c}))
        th = _threshold(point[(g, o)], grid, sign[o])
        tb = np.array([_threshold(c, grid, sign[o]) for c in boot[(g, o)]])
        t_lo, t_hi = percentile_interval(tb, alpha)
        flag = ("falls from the start" if th <= grid[0] else
                "no turn within the data" if th >= grid[-1] else "")
        rows_t.append({"group": g, "outcome": o, "threshold": th, "ci_low": float(t_lo),
                       "ci_high": float(t_hi), "n": len(pos[g]) if g in pos else int(tot),
                       "today_rate": today[g], "flag": flag})
    for g in groups.loc[~groups["included"], "group"]:
        for o in outcomes:
            rows_t.append({"group": g, "outcome": o, "threshold": np.nan, "ci_low": np.nan,
                           "ci_high": np.nan, "n": int(sizes[g]), "today_rate":
                           float(data.loc[labels == g, dose].mean()),
                           "flag": groups.set_index("group").loc[g, "flag"]})
    note_method("nuisance threshold (contact dose-response)",
                f"cubic B-spline GLM (df={df}) per {by or 'data'}, controls {list(controls)}; "
                "threshold = peak of the average predicted curve; percentile bootstrap over "
                "customers", dose=dose, outcomes=outcomes, n_boot=int(n_boot), alpha=alpha,
                n=int(tot), reference="Hastie, Tibshirani & Friedman (2009), ch. 5; Efron & "
                "Tibshirani (1993), ch. 13")
    return DoseResponse(dose=dose, by=by, outcomes=outcomes,
                        lower_is_better=tuple(o for o in outcomes if sign[o] < 0),
                        curves=pd.concat(rows_c, ignore_index=True),
                        thresholds=pd.DataFrame(rows_t), groups=groups, grids=grids,
                        point=point, boot=boot, n_boot=int(n_boot), alpha=alpha, data=data)


# ============================================================ observed table
def dose_table(data: pd.DataFrame, *, dose: str, outcome: str, cap: int | None = None,
               alpha: float = 0.05) -> pd.DataFrame:
    """The observed outcome at each dose level: a cross-tabulation with intervals.

    Parameters
    ----------
    data
        One row per customer.
    dose
        An integer dose (contacts in a campaign, calls to customer service).
    outcome
        0/1 (a rate, Wilson interval) or a score (mean, t interval).
    cap
        Doses at or above ``cap`` form one level ``"cap+"``.

    Returns
    -------
    DataFrame
        dose_level (label), dose_min, n, events (0/1 outcomes), rate (mean),
        ci_low, ci_high; one row per level in dose order.

    Notes
    -----
    ``rate`` equals ``pd.crosstab(level, outcome, normalize="index")[1]``; the Wilson
    interval is ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.

    Examples
    --------
    >>> d = pd.DataFrame({"calls": [0, 0, 1, 5], "churned": [0, 1, 1, 1]})
    >>> dose_table(d, dose="calls", outcome="churned", cap=4)["rate"].tolist()
    [0.5, 1.0, 1.0]
    """
    _require(data, [dose, outcome], "the data")
    x = pd.to_numeric(data[dose], errors="coerce")
    if x.isna().any() or (x < 0).any():
        bad = x.isna() | (x < 0)
        raise DataError(f"{dose} must be a count >= 0", column=dose, rule="count >= 0",
                        rows=data.loc[bad])
    y = pd.to_numeric(data[outcome], errors="coerce")
    ok = y.notna()
    x, y = x[ok], y[ok]
    lvl = x.astype(int)
    if cap is not None:
        lvl = lvl.clip(upper=int(cap))
    g = pd.DataFrame({"lvl": lvl, "y": y}).groupby("lvl")["y"]
    out = pd.DataFrame({"dose_min": g.size().index.astype(int), "n": g.size().to_numpy(),
                        "rate": g.mean().to_numpy()})
    binary = bool(y.isin([0, 1]).all())
    out["events"] = g.sum().to_numpy() if binary else np.nan
    if binary:
        lo, hi = wilson_interval(out["rate"].to_numpy(), out["n"].to_numpy(), alpha)
    else:
        # t_interval takes the ddof-0 variance and divides by n - 1 itself
        lo, hi = t_interval(out["rate"].to_numpy(), g.var(ddof=0).to_numpy(),
                            out["n"].to_numpy(), alpha)
    out["ci_low"], out["ci_high"] = lo, hi
    out["dose_level"] = [f"{d}+" if cap is not None and d == int(cap) else str(d)
                         for d in out["dose_min"]]
    note_method("observed outcome by dose level", "cross-tabulation; Wilson interval"
                if binary else "mean by level; t interval", dose=dose, outcome=outcome)
    return out[["dose_level", "dose_min", "n", "events", "rate", "ci_low", "ci_high"]]


# ================================================================ real data
def prepare_bank(raw: pd.DataFrame) -> pd.DataFrame:
    """The UCI bank campaign export as one row per client.

    Returns
    -------
    DataFrame
        The export's columns without ``duration`` (known only after the call: it
        leaks the outcome), plus ``contacts`` (= ``campaign``, contacts in this
        campaign), ``subscribed`` (0/1 from ``y``), ``contacts_per_month`` (the
        campaign count, so the curve functions read it as the dose) and
        ``previously_contacted`` (``pdays != -1``).
    """
    _require(raw, ["campaign", "y", "pdays"], "the bank export")
    out = raw.drop(columns=[c for c in ("duration",) if c in raw]).copy()
    out["contacts"] = pd.to_numeric(out["campaign"], errors="coerce")
    y = out["y"].astype(str).str.strip().str.lower()
    if not y.isin(["yes", "no"]).all():
        raise DataError("y must be yes/no", column="y", rule="in {yes, no}",
                        rows=out.loc[~y.isin(["yes", "no"])])
    out["subscribed"] = (y == "yes").astype(float)
    out["contacts_per_month"] = out["contacts"].astype(float)
    out["previously_contacted"] = pd.to_numeric(out["pdays"], errors="coerce") != -1
    return out


def prepare_telecom(raw: pd.DataFrame) -> pd.DataFrame:
    """The telecom churn export as one row per customer.

    Returns
    -------
    DataFrame
        The export plus ``service_calls`` (``Customer service calls``: inbound, a
        symptom) and ``churned`` (0/1 from ``Churn``: ``True``/``False`` text).
    """
    _require(raw, ["Customer service calls", "Churn"], "the telecom export")
    out = raw.copy()
    out["service_calls"] = pd.to_numeric(out["Customer service calls"], errors="coerce")
    ch = out["Churn"].astype(str).str.strip().str.lower()
    if not ch.isin(["true", "false"]).all():
        raise DataError("Churn must be True/False", column="Churn", rule="in {True, False}",
                        rows=out.loc[~ch.isin(["true", "false"])])
    out["churned"] = (ch == "true").astype(float)
    return out


# ============================================================ notebook glue
def load_care(dataset: str) -> Any:
    """The world the care notebook reads: ``<world>/care`` when the dataset has one
    (the synthetic service line of :mod:`cxlib.data.synth.care`), else the dataset."""
    from pathlib import Path

    from cxlib.data import datasets

    folder = datasets.world_dir(dataset)
    if folder is not None and (Path(folder) / "care" / "truth.json").is_file():
        return datasets.load(str(Path(folder) / "care"))
    return datasets.load(dataset)


def naive_comparison(dr: DoseResponse, naive: DoseResponse) -> pd.DataFrame:
    """The proactive-dose thresholds beside the naive total-contacts ones.

    Returns
    -------
    DataFrame
        group, outcome, threshold (proactive per month), ci_low, ci_high,
        total_at_threshold (proactive + mean inbound of the customers near the
        threshold: the total rate the proactive answer implies), naive_threshold
        (total per month), naive_ci_low, naive_ci_high, naive_minus_implied.
    """
    a = dr.thresholds.dropna(subset=["threshold"])
    b = naive.thresholds.dropna(subset=["threshold"])[["group", "outcome", "threshold",
                                                       "ci_low", "ci_high"]]
    b = b.rename(columns={"threshold": "naive_threshold", "ci_low": "naive_ci_low",
                          "ci_high": "naive_ci_high"})
    out = a[["group", "outcome", "threshold", "ci_low", "ci_high"]].merge(
        b, on=["group", "outcome"], how="inner")
    data = dr.data
    implied = []
    for r in out.itertuples():
        d = data if r.group == "all" or dr.by is None else data[data[dr.by].astype(str)
                                                                 == r.group]
        x = d[dr.dose].to_numpy(float)
        near = np.abs(x - r.threshold) <= max(0.1, float(np.std(x)) / 4)
        inbound = d["inbound_per_month"].to_numpy(float) if "inbound_per_month" in d else \
            np.zeros(len(d))
        implied.append(float(r.threshold + (inbound[near].mean() if near.any() else np.nan)))
    out["total_at_threshold"] = implied
    out["naive_minus_implied"] = out["naive_threshold"] - out["total_at_threshold"]
    return out


