"""Who earns and who costs money: cost to serve, the whale curve, value groups.

* :func:`customer_profit` — per customer: revenue, cost of goods, margin lost
  to returns, **cost to serve** (contacts by channel at unit costs,
  deliveries, return handling) and profit; reconciles to the orders and
  contacts to the cent.
* :func:`segment_profit` — per segment: mean profit per customer with a
  t interval, total, share of value-destroying customers.
* :func:`whale_curve` — cumulative profit against customers ranked by profit
  (Kaplan & Narayanan 2001), per segment if asked; :func:`whale_summary`
  its headline figures.
* :func:`value_groups` — loyal, can be made loyal, at risk, loss-making,
  from behaviour (profit to date, P(alive) and expected value of the BG/NBD /
  Gamma-Gamma models in :mod:`cxlib.analysis.clv`), and :func:`segment_actions`
  target / keep / stop serving at a loss.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxlib.analysis.stats import mean_ci
from cxlib.errors import DataError, ParameterError
from cxlib.methods import note_method

__all__ = ["DEFAULT_UNIT_COSTS", "GROUPS", "customer_profit", "segment_actions",
           "segment_profit", "value_groups", "whale_curve", "whale_summary"]

#: Default unit cost of one contact by channel (the synthetic world's planted costs).
DEFAULT_UNIT_COSTS: dict[str, float] = {"phone": 4.0, "email": 1.5, "sms": 0.1, "branch": 8.0,
                                        "messenger": 1.0, "web": 0.2, "app": 0.2, "kiosk": 0.5}
GROUPS = ("loyal", "can_be_made_loyal", "at_risk", "loss_making")


def _cents(s: pd.Series) -> pd.Series:
    return (s.astype(float) * 100).round().astype("int64")


def customer_profit(orders: pd.DataFrame, contacts: pd.DataFrame | None = None,
                    customers: pd.DataFrame | None = None, *,
                    unit_costs: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Profit of every customer, with the cost to serve itemised.

    Parameters
    ----------
    orders
        Orders contract rows with ``cost`` (and, when present, ``returned``,
        ``delivery_cost``, ``return_cost``).
    contacts
        Contacts contract rows (``channel`` priced by ``unit_costs``).
    customers
        When given, every customer appears (zero rows for those without orders)
        with its ``segment`` (and ``customer_type``) columns; orders or contacts
        of customers not in it are an error.
    unit_costs
        Cost of one contact by channel; every channel in ``contacts`` must be priced.

    Returns
    -------
    DataFrame
        One row per customer: ``customer_id, n_orders, n_returns, n_contacts,
        revenue, cost_of_goods, margin, returned_margin, delivery_cost,
        return_cost, contact_cost, cost_to_serve, profit`` plus the customer
        columns. Money is summed in integer cents, so totals reconcile exactly.

    Notes
    -----
    ``margin = revenue - cost_of_goods`` over all orders; a returned order's
    revenue is refunded and its goods restocked, so its margin is lost
    (``returned_margin``). ``cost_to_serve = contact_cost + delivery_cost +
    return_cost`` and ``profit = margin - returned_margin - cost_to_serve``.

    References
    ----------
    Kaplan, R. S. & Narayanan, V. G. (2001). Measuring and managing customer
    profitability. *Journal of Cost Management* 15(5), 5-15.

    Examples
    --------
    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "revenue": [10.0, 20.0],
    ...                   "cost": [6.0, 12.0]})
    >>> customer_profit(o)["profit"].tolist()
    [12.0]
    """
    if "cost" not in orders.columns:
        raise DataError("orders have no cost column: profitability needs the cost of goods "
                        "(revenue-only data such as CDNOW: use the whale curve on revenue)",
                        column="cost", rule="column exists")
    costs = dict(DEFAULT_UNIT_COSTS if unit_costs is None else unit_costs)
    o = pd.DataFrame({"customer_id": orders["customer_id"].astype(str),
                      "revenue": _cents(orders["revenue"]), "cost": _cents(orders["cost"])})
    ret = (orders["returned"].fillna(False).astype(bool) if "returned" in orders.columns
           else pd.Series(False, index=orders.index))
    o["returned_margin"] = np.where(ret.to_numpy(), o["revenue"] - o["cost"], 0)
    o["delivery_cost"] = (_cents(orders["delivery_cost"].fillna(0))
                          if "delivery_cost" in orders.columns else 0)
    o["return_cost"] = (_cents(orders["return_cost"].fillna(0))
                        if "return_cost" in orders.columns else 0)
    o["n_returns"] = ret.astype(int).to_numpy()
    g = o.groupby("customer_id", sort=True)
    out = g[["revenue", "cost", "returned_margin", "delivery_cost", "return_cost",
             "n_returns"]].sum()
    out["n_orders"] = g.size()
    if contacts is not None and len(contacts):
        ch = contacts["channel"].astype(str)
        unpriced = sorted(set(ch.unique()) - set(costs))
        if unpriced:
            raise ParameterError([f"unit_costs: no cost for contact channel(s) {unpriced}; "
                                  f"priced: {sorted(costs)}"])
        k = pd.DataFrame({"customer_id": contacts["customer_id"].astype(str),
                          "c": ch.map({c: round(v * 100) for c, v in costs.items()})
                          .astype("int64")})
        kg = k.groupby("customer_id", sort=True)["c"].agg(["sum", "size"])
        out = out.join(kg.rename(columns={"sum": "contact_cost", "size": "n_contacts"}),
                       how="outer")
    else:
        out["contact_cost"] = 0
        out["n_contacts"] = 0
    if customers is not None:
        known = pd.Index(customers["customer_id"].astype(str))
        unknown = out.index.difference(known)
        if len(unknown):
            raise DataError(f"{len(unknown)} customer id(s) in orders/contacts are not in the "
                            "customers table; load the matching customers export",
                            column="customer_id", rule="customer exists",
                            rows=[str(x) for x in unknown[:5]])
        out = out.reindex(known)
    out = out.fillna(0).astype("int64")
    out["margin"] = out["revenue"] - out["cost"]
    out["cost_to_serve"] = out["contact_cost"] + out["delivery_cost"] + out["return_cost"]
    out["profit"] = out["margin"] - out["returned_margin"] - out["cost_to_serve"]
    money = ["revenue", "cost", "margin", "returned_margin", "delivery_cost", "return_cost",
             "contact_cost", "cost_to_serve", "profit"]
    res = out[["n_orders", "n_returns", "n_contacts"]].copy()
    for c in money:
        res[c] = out[c] / 100.0
    res = res.rename(columns={"cost": "cost_of_goods"}).rename_axis("customer_id").reset_index()
    if customers is not None:
        extra = [c for c in ("segment", "customer_type", "region") if c in customers.columns]
        res = res.merge(customers[["customer_id", *extra]].astype({"customer_id": str}),
                        on="customer_id", how="left")
    note_method("customer profitability", "activity-based cost to serve",
                unit_costs=costs, reference="Kaplan & Narayanan (2001)")
    return res


def segment_profit(profit: pd.DataFrame, *, by: str = "segment", alpha: float = 0.05
                   ) -> pd.DataFrame:
    """Profit per customer by group, with a t interval for the mean.

    Returns
    -------
    DataFrame
        ``<by>, n_customers, mean_profit, ci_low, ci_high, total_profit,
        share_value_destroying, mean_cost_to_serve, low_base`` sorted by mean
        profit (``low_base`` when fewer than 30 customers).

    Notes
    -----
    ``mean ± t_{n-1, 1-alpha/2} s / sqrt(n)`` over customers (each customer's
    profit is one observation; customers are independent draws), computed by
    :func:`cxlib.analysis.stats.mean_ci`.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika* 6(1), 1-25.

    Examples
    --------
    >>> p = pd.DataFrame({"segment": ["a"] * 3, "profit": [1.0, 2.0, 3.0],
    ...                   "cost_to_serve": [0.0] * 3})
    >>> segment_profit(p)["mean_profit"].tolist()
    [2.0]
    """
    if by not in profit.columns:
        raise ParameterError([f"by={by!r}: not a column of the profit table "
                              f"({list(profit.columns)})"])
    rows = []
    for key, g in profit.groupby(by, sort=True):
        x = g["profit"].to_numpy(float)
        n = len(x)
        m, lo, hi, _ = mean_ci(x, alpha=alpha)
        rows.append({by: key, "n_customers": n, "mean_profit": m, "ci_low": lo,
                     "ci_high": hi, "total_profit": float(x.sum()),
                     "share_value_destroying": float((x < 0).mean()),
                     "mean_cost_to_serve": float(g["cost_to_serve"].mean()),
                     "low_base": n < 30})
    note_method("profit per customer by segment", "mean with Student t interval",
                alpha=alpha)
    return pd.DataFrame(rows).sort_values("mean_profit", ascending=False, ignore_index=True)


def whale_curve(profit: pd.DataFrame, *, value: str = "profit", by: str | None = None
                ) -> pd.DataFrame:
    """Cumulative profit against customers ranked from most to least profitable.

    Returns
    -------
    DataFrame
        ``[by,] rank, share_customers, value, cumulative, cumulative_share``:
        ``share_customers = rank / n``; ``cumulative_share`` = cumulative value
        over the group's total (it peaks above 1 when some customers destroy value).

    Notes
    -----
    Hand-worked example (tested): profits 5, -2, 3, -1 rank as 5, 3, -1, -2;
    cumulative 5, 8, 7, 5; total 5; shares 1.0, 1.6, 1.4, 1.0.

    References
    ----------
    Kaplan, R. S. & Cooper, R. (1998). *Cost and Effect*, ch. 10 (the whale
    curve of cumulative customer profitability). Harvard Business School Press.

    Examples
    --------
    >>> w = whale_curve(pd.DataFrame({"profit": [5.0, -2.0, 3.0, -1.0]}))
    >>> w["cumulative_share"].tolist()
    [1.0, 1.6, 1.4, 1.0]
    """
    if value not in profit.columns:
        raise ParameterError([f"value={value!r}: not a column ({list(profit.columns)})"])
    groups = [(None, profit)] if by is None else list(profit.groupby(by, sort=True))
    parts = []
    for key, g in groups:
        v = np.sort(g[value].to_numpy(float))[::-1]
        n = len(v)
        cum = np.cumsum(v)
        total = cum[-1] if n else 0.0
        part = pd.DataFrame({"rank": np.arange(1, n + 1), "share_customers": np.arange(1, n + 1)
                             / max(n, 1), "value": v, "cumulative": cum,
                             "cumulative_share": cum / total if total else np.nan})
        if by is not None:
            part.insert(0, by, key)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def whale_summary(profit: pd.DataFrame, *, value: str = "profit") -> dict[str, float]:
    """Headline figures of the whale curve.

    Returns
    -------
    dict
        ``share_value_destroying`` (customers with value < 0), ``peak_share``
        (the whale curve's peak, e.g. 1.6 = the profitable customers earn 160%
        of the total), ``top_decile_value`` and ``bottom_decile_value`` (summed
        value of the best and worst 10% of customers), ``total``.
    """
    v = np.sort(profit[value].to_numpy(float))[::-1]
    n = len(v)
    k = max(1, round(n / 10))
    cum = np.cumsum(v)
    total = float(cum[-1]) if n else 0.0
    return {"share_value_destroying": float((v < 0).mean()) if n else float("nan"),
            "peak_share": float(cum.max() / total) if total > 0 else float("nan"),
            "top_decile_value": float(v[:k].sum()), "bottom_decile_value": float(v[-k:].sum()),
            "total": total}


def value_groups(profit: pd.DataFrame, value: pd.DataFrame, *, alive_threshold: float = 0.5
                 ) -> pd.DataFrame:
    """Loyal, can be made loyal, at risk, loss-making: groups from behaviour.

    Parameters
    ----------
    profit
        :func:`customer_profit` output.
    value
        :func:`cxlib.analysis.clv.customer_value` output (``customer_id,
        p_alive, expected_purchases, expected_value``).
    alive_threshold
        P(alive) below which a profitable customer is "at risk".

    Returns
    -------
    DataFrame
        ``profit`` joined with ``p_alive, expected_purchases, expected_value,
        group``, where (first rule that holds):

        - ``loss_making``: profit to date < 0;
        - ``at_risk``: P(alive) < ``alive_threshold``;
        - ``loyal``: expected purchases over the horizon at or above the median
          of the remaining customers;
        - ``can_be_made_loyal``: the rest (alive and profitable, buying less
          often than the loyal).
    """
    if not 0 < alive_threshold < 1:
        raise ParameterError([f"alive_threshold={alive_threshold}: must be in (0, 1)"])
    cols = ["customer_id", "p_alive", "expected_purchases", "expected_value"]
    df = profit.merge(value[cols], on="customer_id", how="left")
    grp = np.full(len(df), "can_be_made_loyal", dtype=object)
    loss = df["profit"].to_numpy() < 0
    risk = ~loss & (df["p_alive"].fillna(0).to_numpy() < alive_threshold)
    rest = ~loss & ~risk
    med = np.nanmedian(df.loc[rest, "expected_purchases"]) if rest.any() else np.inf
    loyal = rest & (df["expected_purchases"].to_numpy() >= med)
    grp[loss] = "loss_making"
    grp[risk] = "at_risk"
    grp[loyal] = "loyal"
    df["group"] = pd.Categorical(grp, categories=GROUPS)
    return df


def segment_actions(seg: pd.DataFrame, groups: pd.DataFrame, *, by: str = "segment"
                    ) -> pd.DataFrame:
    """What to do with each segment: target, keep, win back or stop serving at a loss.

    Parameters
    ----------
    seg
        :func:`segment_profit` output.
    groups
        :func:`value_groups` output (for the share at risk and expected value).

    Returns
    -------
    DataFrame
        ``<by>, mean_profit, ci_low, ci_high, share_at_risk, share_loyal,
        mean_expected_value, action`` where ``action`` is ``stop_serving_at_a_loss``
        when the whole interval of mean profit is below zero, ``target`` when the
        interval is above zero and the segment's mean expected value is at or
        above the median of the segments, ``win_back`` when more than a third is
        at risk, otherwise ``keep``.
    """
    g = groups.groupby(by, sort=True).agg(
        share_at_risk=("group", lambda s: float((s == "at_risk").mean())),
        share_loyal=("group", lambda s: float((s == "loyal").mean())),
        mean_expected_value=("expected_value", "mean")).reset_index()
    df = seg[[by, "mean_profit", "ci_low", "ci_high"]].merge(g, on=by, how="left")
    med = df["mean_expected_value"].median()
    act = np.where(df["ci_high"] < 0, "stop_serving_at_a_loss",
                   np.where((df["ci_low"] > 0) & (df["mean_expected_value"] >= med), "target",
                            np.where(df["share_at_risk"] > 1 / 3, "win_back", "keep")))
    df["action"] = act
    return df
