"""Serving the customer: self-service, lead times and cut-off rules, partner touchpoints.

* :func:`self_service_share` — share of orders through self-service channels
  by segment and month, with Wilson intervals; :func:`hourly_profile` the
  orders around the clock; :func:`contact_costs` cost per contact by channel;
  :func:`shift_value` what moving a share of assisted contacts to
  self-service is worth.
* :func:`lead_times` — order-to-delivery days by channel and segment;
  :func:`cutoff_cost` — orders placed after the cut-off wait a day: how many
  customers and customer-days a year (urgent orders apart), with intervals;
  :func:`simulate_cutoff` — the days a later cut-off (or a second dispatch)
  would save on the same orders, with a bootstrap interval.
* :func:`partner_share` — satisfaction at partner-owned touchpoints next to own
  ones, and (with :func:`partner_importance`) the partners' share of the
  drivers' weight in overall satisfaction (seed 000: a partner's faults are
  charged to the brand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib.analysis.stats import mean_ci, wilson_interval
from cxlib.errors import DataError, ParameterError
from cxlib.methods import note_method

__all__ = ["SELF_SERVICE_CHANNELS", "contact_costs", "cutoff_cost", "hourly_profile",
           "lead_times", "partner_importance", "partner_share", "satisfaction_by_channel",
           "self_service_share", "shift_value", "simulate_cutoff"]

SELF_SERVICE_CHANNELS = ("online", "web", "app", "kiosk")


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{what} lack column(s) {missing}; a world generated with the "
                        "commerce sub-generator has them (cx synth)", column=missing[0],
                        rule="column exists")


def _is_self_service(orders: pd.DataFrame) -> pd.Series:
    if "channel_type" in orders.columns:
        return orders["channel_type"].astype(str) == "self_service"
    _need(orders, ["channel"], "orders")
    return orders["channel"].astype(str).isin(SELF_SERVICE_CHANNELS)


def self_service_share(orders: pd.DataFrame, *, by: Sequence[str] = ("segment",),
                       period: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Share of orders placed through self-service channels, with Wilson intervals.

    Parameters
    ----------
    orders
        Orders with ``channel_type`` (or ``channel``; online/web/app/kiosk count
        as self-service) and the ``by`` columns.
    by
        Grouping columns (``()`` for everyone).
    period
        ``"month"`` or ``"quarter"`` adds a ``period`` column (over time).

    Returns
    -------
    DataFrame
        ``[by..., period,] n_orders, n_self_service, share, ci_low, ci_high``.

    Notes
    -----
    Wilson score interval for a binomial share (Wilson 1927).

    Examples
    --------
    >>> o = pd.DataFrame({"channel": ["online", "store", "online", "store"]})
    >>> self_service_share(o, by=())["share"].tolist()
    [0.5]
    """
    df = pd.DataFrame({"ss": _is_self_service(orders).to_numpy()})
    keys = list(by)
    for c in keys:
        if c not in orders.columns:
            raise ParameterError([f"by: {c!r} is not a column of orders"])
        df[c] = orders[c].to_numpy()
    if period is not None:
        if period not in ("month", "quarter"):
            raise ParameterError([f"period={period!r}: one of month | quarter"])
        df["period"] = pd.to_datetime(orders["date"]).dt.to_period(
            "M" if period == "month" else "Q").astype(str).to_numpy()
        keys.append("period")
    if keys:
        g = df.groupby(keys, sort=True)["ss"].agg(["size", "sum"]).reset_index()
    else:
        g = pd.DataFrame({"size": [len(df)], "sum": [int(df["ss"].sum())]})
    g = g.rename(columns={"size": "n_orders", "sum": "n_self_service"})
    g["share"] = g["n_self_service"] / g["n_orders"]
    g["ci_low"], g["ci_high"] = wilson_interval(g["share"].to_numpy(float),
                                                g["n_orders"].to_numpy(float), alpha)
    note_method("self-service share", "Wilson score interval", alpha=alpha)
    return g


def satisfaction_by_channel(responses: pd.DataFrame, orders: pd.DataFrame, *,
                            metric: str = "overall", alpha: float = 0.05) -> pd.DataFrame:
    """Satisfaction of customers who mostly serve themselves versus those mostly assisted.

    Each customer is ``self_service`` when most of her orders went through a
    self-service channel, else ``assisted``; her answers on ``metric`` (at any
    touchpoint, usually ``overall`` on the journey) are averaged per group.

    Returns
    -------
    DataFrame
        ``channel_type, n_customers, n_answers, mean, ci_low, ci_high``.

    Notes
    -----
    Mean with a t interval over answers (:func:`cxlib.analysis.stats.mean_ci`);
    a customer's several answers are treated as independent, which narrows the
    interval slightly when she answered more than once.
    """
    _need(responses, ["customer_id", "metric", "score"], "responses")
    ss = pd.DataFrame({"customer_id": orders["customer_id"].astype(str).to_numpy(),
                       "ss": _is_self_service(orders).to_numpy()})
    kind = ss.groupby("customer_id")["ss"].mean().gt(0.5).map(
        {True: "self_service", False: "assisted"})
    r = responses[responses["metric"] == metric]
    r = r.assign(channel_type=r["customer_id"].astype(str).map(kind)).dropna(
        subset=["channel_type"])
    if r.empty:
        raise DataError(f"no {metric} answers from customers with orders", column="metric",
                        rule="answers present")
    rows = []
    for key, g in r.groupby("channel_type", sort=True):
        m, lo, hi, _ = mean_ci(g["score"].to_numpy(float), alpha=alpha)
        rows.append({"channel_type": key, "n_customers": g["customer_id"].nunique(),
                     "n_answers": len(g), "mean": m, "ci_low": lo, "ci_high": hi})
    note_method("satisfaction by channel", "mean with t interval", metric=metric)
    return pd.DataFrame(rows)


def hourly_profile(orders: pd.DataFrame, *, by: str = "channel_type") -> pd.DataFrame:
    """Orders by hour of day (0-23) and ``by``: ``<by>, hour, n_orders, share``."""
    _need(orders, ["hour", by], "orders")
    g = orders.groupby([by, "hour"], sort=True).size().rename("n_orders").reset_index()
    g["share"] = g["n_orders"] / g.groupby(by)["n_orders"].transform("sum")
    return g


def contact_costs(contacts: pd.DataFrame, unit_costs: Mapping[str, float], *,
                  responses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Contacts, unit cost and total cost by channel (and complaint share when known).

    Returns
    -------
    DataFrame
        ``channel, self_service, n_contacts, unit_cost, total_cost,
        share_complaints``.
    """
    _need(contacts, ["channel"], "contacts")
    ch = contacts["channel"].astype(str)
    missing = sorted(set(ch.unique()) - set(unit_costs))
    if missing:
        raise ParameterError([f"unit_costs: no cost for channel(s) {missing}"])
    g = contacts.assign(channel=ch).groupby("channel", sort=True)
    out = g.size().rename("n_contacts").reset_index()
    out["unit_cost"] = out["channel"].map(unit_costs).astype(float)
    out["total_cost"] = out["n_contacts"] * out["unit_cost"]
    out["self_service"] = out["channel"].isin(SELF_SERVICE_CHANNELS)
    if "complaint" in contacts.columns:
        out["share_complaints"] = g["complaint"].mean().to_numpy(float)
    return out[["channel", "self_service", *[c for c in out.columns
                                              if c not in ("channel", "self_service")]]]


def shift_value(contacts: pd.DataFrame, unit_costs: Mapping[str, float], *, share: float,
                to: str = "web", years: float | None = None) -> dict[str, float]:
    """What moving ``share`` of assisted contacts to a self-service channel saves.

    Returns
    -------
    dict
        ``contacts_moved, saving`` and, with ``years``, ``saving_per_year``.

    Notes
    -----
    ``saving = share * sum_ch n_ch (c_ch - c_to)`` over assisted channels ``ch``
    (a straight re-pricing: the contacts still happen, at the self-service cost).
    """
    if not 0 <= share <= 1:
        raise ParameterError([f"share={share}: must be within [0, 1]"])
    if to not in unit_costs:
        raise ParameterError([f"to={to!r}: not priced in unit_costs ({sorted(unit_costs)})"])
    cc = contact_costs(contacts, unit_costs)
    assisted = cc[~cc["self_service"]]
    moved = share * float(assisted["n_contacts"].sum())
    saving = share * float((assisted["n_contacts"] * (assisted["unit_cost"]
                                                      - unit_costs[to])).sum())
    out = {"contacts_moved": moved, "saving": saving}
    if years:
        out["saving_per_year"] = saving / years
    return out


def lead_times(orders: pd.DataFrame, *, by: Sequence[str] = ("channel",)) -> pd.DataFrame:
    """Order-to-delivery days of delivered orders by group.

    Returns
    -------
    DataFrame
        ``[by...], n_delivered, mean_days, median_days, p90_days,
        share_late`` (``share_late``: delivered after the promised date).
    """
    _need(orders, ["delivered_date", "date", *by], "orders")
    d = orders[orders["delivered_date"].notna()].copy()
    d["days"] = (pd.to_datetime(d["delivered_date"]) - pd.to_datetime(d["date"]).dt.normalize()
                 ).dt.days
    late = (pd.to_datetime(d["delivered_date"]) > pd.to_datetime(d["promised_date"])
            if "promised_date" in d.columns else pd.Series(np.nan, index=d.index))
    d["late"] = late.astype(float)
    g = d.groupby(list(by), sort=True)
    return g.agg(n_delivered=("days", "size"), mean_days=("days", "mean"),
                 median_days=("days", "median"), p90_days=("days", lambda s: s.quantile(0.9)),
                 share_late=("late", "mean")).reset_index()


def _hours(orders: pd.DataFrame) -> np.ndarray:
    if "ordered_at" in orders.columns:
        t = pd.to_datetime(orders["ordered_at"])
        return (t.dt.hour + t.dt.minute / 60.0).to_numpy(float)
    _need(orders, ["hour"], "orders")
    return orders["hour"].to_numpy(float)


def _years(orders: pd.DataFrame) -> float:
    d = pd.to_datetime(orders["date"])
    return max(((d.max() - d.min()).days + 1) / 365.25, 1 / 365.25)


def cutoff_cost(orders: pd.DataFrame, *, cutoff: float = 12.0, alpha: float = 0.05,
                by: str | None = "urgent") -> pd.DataFrame:
    """Orders placed at or after the cut-off wait a day: customers and customer-days a year.

    Parameters
    ----------
    orders
        Orders with ``ordered_at`` (or ``hour``), ``date`` and ``customer_id``.
    cutoff
        The hour of the rule ("orders until 12 ship at 3": 12).
    by
        A column to split by (``urgent``: spare-part orders apart), or None.

    Returns
    -------
    DataFrame
        ``[by,] n_orders, n_late, late_share, ci_low, ci_high, customers_affected,
        customer_days_per_year, days_ci_low, days_ci_high`` (plus an ``all`` row
        when ``by`` is given).

    Notes
    -----
    Each order placed at or after ``cutoff`` ships one day later than one
    placed before it, so it costs its customer one day. Customer-days a year
    ``= n_late / years`` observed (``years`` = days from the first to the last
    order date, inclusive, over 365.25); the interval treats ``n_late`` as
    Poisson: exact Garwood limits ``chi2(alpha/2, 2k)/2`` and
    ``chi2(1-alpha/2, 2k+2)/2``, divided by the years observed. The share of
    late orders has a Wilson interval.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution.
    *Biometrika* 28(3/4), 437-442.

    Examples
    --------
    >>> o = pd.DataFrame({"customer_id": ["a", "b"], "hour": [9, 13],
    ...                   "date": pd.to_datetime(["2025-01-01", "2025-12-31"])})
    >>> int(cutoff_cost(o, cutoff=12, by=None)["n_late"].iloc[0])
    1
    """
    if not 0 <= cutoff <= 24:
        raise ParameterError([f"cutoff={cutoff}: an hour within [0, 24]"])
    h = _hours(orders)
    late = h >= cutoff
    years = _years(orders)
    df = pd.DataFrame({"late": late, "customer_id": orders["customer_id"].to_numpy()})
    groups: list[tuple[Any, pd.DataFrame]] = [("all", df)]
    if by is not None:
        _need(orders, [by], "orders")
        df[by] = orders[by].to_numpy()
        groups = [*df.groupby(by, sort=True), ("all", df)]
    rows = []
    for key, g in groups:
        n, k = len(g), int(g["late"].sum())
        lo, hi = wilson_interval([k / max(n, 1)], [n], alpha)
        plo = stats.chi2.ppf(alpha / 2, 2 * k) / 2 if k else 0.0
        phi = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
        row = {"n_orders": n, "n_late": k, "late_share": k / max(n, 1), "ci_low": lo[0],
               "ci_high": hi[0], "customers_affected": int(g.loc[g["late"], "customer_id"]
                                                           .nunique()),
               "customer_days_per_year": k / years, "days_ci_low": plo / years,
               "days_ci_high": phi / years}
        if by is not None:
            row = {by: key, **row}
        rows.append(row)
    note_method("cost of the order cut-off rule", "count of late orders, Poisson (Garwood) "
                "interval per year; share with Wilson interval", cutoff=cutoff)
    return pd.DataFrame(rows)


def simulate_cutoff(orders: pd.DataFrame, *, cutoff: float = 12.0, new_cutoff: float = 15.0,
                    n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> dict[str, float]:
    """Customer-days a year a later cut-off (or a second dispatch) saves on the same orders.

    Parameters
    ----------
    cutoff, new_cutoff
        The current rule's hour and the proposed one (a second dispatch that
        takes orders until ``new_cutoff`` is the same on the customer's side).

    Returns
    -------
    dict
        ``orders_saved_a_day, days_saved_per_year, ci_low, ci_high, share_saved``:
        orders placed in ``[cutoff, new_cutoff)`` ship the same day instead of
        the next; the interval is a percentile bootstrap over days (orders
        resampled by calendar day, keeping a day's orders together).
    """
    if not 0 <= cutoff < new_cutoff <= 24:
        raise ParameterError([f"cutoff={cutoff}, new_cutoff={new_cutoff}: need "
                              "0 <= cutoff < new_cutoff <= 24"])
    if n_boot < 100:
        raise ParameterError([f"n_boot={n_boot}: use at least 100"])
    h = _hours(orders)
    saved = (h >= cutoff) & (h < new_cutoff)
    years = _years(orders)
    day = pd.to_datetime(orders["date"]).dt.normalize().to_numpy()
    per_day = pd.Series(saved.astype(int)).groupby(day).sum().to_numpy(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_day), (n_boot, len(per_day)))
    boot = per_day[idx].sum(1) / years
    note_method("days saved by a later cut-off", "percentile bootstrap over calendar days",
                n_boot=n_boot, cutoff=cutoff, new_cutoff=new_cutoff)
    return {"orders_saved_a_day": int(saved.sum()), "days_saved_per_year": saved.sum() / years,
            "ci_low": float(np.quantile(boot, alpha / 2)),
            "ci_high": float(np.quantile(boot, 1 - alpha / 2)),
            "share_saved": float(saved.mean())}


def partner_share(responses: pd.DataFrame, catalog: Any, *, metric: str = "csat",
                  importance: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Satisfaction at partner-owned touchpoints next to own ones.

    Parameters
    ----------
    responses
        Long responses.
    catalog
        The dataset's catalog (:class:`cxlib.data.catalog.Catalog`, or its ``frame``
        with ``touchpoint_id`` and ``owner``).
    importance
        Optional driver importance (``touchpoint_id, importance``, e.g. relative
        weights from :mod:`cxlib.analysis.drivers`): adds each owner's share of
        the weight in overall satisfaction.

    Returns
    -------
    DataFrame
        ``owner, n_touchpoints, n_answers, mean, ci_low, ci_high[, weight_share]``.
    """
    tps = catalog.frame if hasattr(catalog, "frame") else catalog
    owner = dict(zip(tps["touchpoint_id"], tps["owner"], strict=True))
    r = responses[responses["metric"] == metric]
    r = r[r["touchpoint_id"].isin(list(owner))]
    if r.empty:
        raise DataError(f"no {metric} answers at catalog touchpoints", column="metric",
                        rule="answers present")
    r = r.assign(owner=r["touchpoint_id"].map(owner))
    rows = []
    for key, g in r.groupby("owner", sort=True):
        m, lo, hi, _ = mean_ci(g["score"].to_numpy(float), alpha=alpha)
        rows.append({"owner": key, "n_touchpoints": g["touchpoint_id"].nunique(),
                     "n_answers": len(g), "mean": m, "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows)
    if importance is not None:
        imp = importance.assign(owner=importance["touchpoint_id"].map(owner))
        tot = imp["importance"].sum()
        out["weight_share"] = out["owner"].map(imp.groupby("owner")["importance"].sum() / tot)
    note_method("partner vs own touchpoints", "mean with t interval (answers pooled)",
                metric=metric)
    return out


def partner_importance(responses: pd.DataFrame, catalog: Any, *, outcome: str = "overall",
                       n_boot: int = 200, seed: int = 1) -> pd.DataFrame:
    """Importance of every top-level touchpoint in overall satisfaction, for :func:`partner_share`.

    Relative weights (Johnson 2000) of the top-level touchpoints' CSAT in the
    ``outcome`` (:func:`cxlib.analysis.drivers.driver_analysis`, missing answers
    mean-imputed: ``policy="available"``, since touchpoints are answered by
    different customers). A partner-owned sub-touchpoint counts under its
    top-level parent (and that parent's owner).

    Returns
    -------
    DataFrame
        ``touchpoint_id, importance, ci_low, ci_high`` (importance = share of R²).
    """
    from cxlib.analysis import drivers as drv

    frame = catalog.frame
    top = dict(zip(frame["touchpoint_id"], frame["top_level_id"], strict=True))
    asked = set(responses.loc[responses["metric"] == "csat", "touchpoint_id"])
    tops = sorted({top[t] for t in asked if t in top})
    if len(tops) < 2:
        raise DataError("partner weights need CSAT answers at two top-level touchpoints or more",
                        column="touchpoint_id", rule="two touchpoints answered")
    mat = drv.build_matrix(responses, catalog=catalog, drivers=tops, level="top",
                           outcome=outcome)
    res = drv.driver_analysis(mat, drivers=tops, method="relative_weights", policy="available",
                              n_boot=n_boot, seed=seed)
    return res.table.rename(columns={"driver": "touchpoint_id"})[
        ["touchpoint_id", "importance", "ci_low", "ci_high"]]
