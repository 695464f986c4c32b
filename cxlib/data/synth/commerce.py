"""Sub-generator ``commerce``: order timing, delivery, returns, payments, complaints.

Extends the core world (seed 002's CRM checklist) without changing a single
draw of the core tables: it reads ``customers``, ``orders`` and ``contacts``,
draws everything from its own random stream and returns extended versions
(new columns only) plus a new ``payments`` table.

The model (every parameter in ``truth.json["commerce"]``)
---------------------------------------------------------
* Every customer gets a ``customer_type`` (``regular``, ``trade``,
  ``bargain``; :data:`TYPE_P`), independent of everything in the core world.
  ``bargain`` customers return most of what they buy, pay late and complain:
  the planted loss-making group.
* Order time: the hour of day is drawn from a per-channel profile
  (:data:`HOUR_P`: stores 9-21, phone 9-18, online around the clock), minutes
  uniform. ``channel_type`` is ``self_service`` for online orders, else
  ``assisted``.
* Dispatch: an order placed before the cut-off hour (:data:`CUTOFF_HOUR`)
  ships the same day at :data:`DISPATCH_HOUR`, a later one the next day: the
  planted cost of the rule is one customer-day per late order, so the expected
  share of orders that wait is ``sum_ch P(ch) P(hour >= cutoff | ch)``
  (``truth["late_share"]``). Urgent orders (spare parts; :data:`URGENT_P` by
  type) travel one day, others ``1 + Binomial(2, 0.3)`` days.
  ``promised_date`` = order day + 1 (urgent) or + 3.
* ``status``: ``delivered`` when delivered by the world's end (2025-12-31),
  ``shipped`` when shipped but not delivered, else ``processing``.
* Returns: a delivered order is returned with probability :data:`RETURN_P` by
  type; a return refunds the revenue and restocks the goods (its margin is
  lost) and costs :data:`RETURN_COST` to handle. Every delivery costs
  :data:`DELIVERY_COST` (standard / urgent).
* Payments: one per order, amount = revenue; the method by channel
  (:data:`METHOD_P`), trade customers pay by invoice (transfer, 30 days);
  ``due_date`` = order day + terms; paid on the due date or, with probability
  :data:`LATE_P` by type, ``Geometric(1/LATE_MEAN_DAYS)`` days later;
  ``paid_date`` is empty when not paid by the world's end.
* Complaints: an inbound contact is a complaint with probability
  :data:`COMPLAINT_P` by type.

:func:`simulate_commerce` draws a small world of the same model in memory
(customers, orders with Normal margins per segment, contacts) for coverage
checks; its ``truth`` gives the exact expected profit per customer of each
type (closed form, see its Notes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib.data.synth.arrays import date_array, id_array
from cxlib.data.synth.constants import (
    CONTACT_CHANNEL_P,
    CONTACT_CHANNELS,
    N_DAYS,
    ORDER_CHANNEL_P,
    ORDER_CHANNELS,
    SEGMENT_P,
    SEGMENTS,
    START,
)
from cxlib.data.synth.extend import Extension, WorldSoFar

__all__ = [
    "CONTACT_UNIT_COST", "CUTOFF_HOUR", "DELIVERY_COST", "DISPATCH_HOUR", "HOUR_P", "LATE_P",
    "RETURN_COST", "RETURN_P", "TYPES", "TYPE_P", "URGENT_P", "commerce", "commerce_truth",
    "late_share", "simulate_commerce",
]

TYPES = ("regular", "trade", "bargain")
TYPE_P = np.array([0.75, 0.15, 0.10])
RETURN_P = np.array([0.05, 0.03, 0.80])
URGENT_P = np.array([0.08, 0.50, 0.05])
LATE_P = np.array([0.08, 0.15, 0.40])
LATE_MEAN_DAYS = 20.0
COMPLAINT_P = np.array([0.12, 0.20, 0.45])
DELIVERY_COST = {"standard": 6.0, "urgent": 15.0}
RETURN_COST = 45.0
CUTOFF_HOUR = 12
DISPATCH_HOUR = 15
TRANSIT_EXTRA = (2, 0.3)  # standard transit = 1 + Binomial(2, 0.3) days
PROMISED_DAYS = {"standard": 3, "urgent": 1}
#: Unit cost of one contact by channel (currency units), the default of the analysis.
CONTACT_UNIT_COST = {"phone": 4.0, "email": 1.5, "sms": 0.1, "branch": 8.0, "messenger": 1.0,
                     "web": 0.2, "app": 0.2, "kiosk": 0.5}
TRADE_TERMS_DAYS = 30
METHODS = ("card", "cash", "transfer", "wallet")
#: Payment method probabilities by order channel (store, online, phone).
METHOD_P = np.array([[0.6, 0.4, 0.0, 0.0], [0.8, 0.0, 0.0, 0.2], [0.3, 0.0, 0.7, 0.0]])


def _hour_profile(hours: range, peak: float | None = None) -> np.ndarray:
    p = np.zeros(24)
    for h in hours:
        p[h] = 1.0 if peak is None else 1.0 + np.exp(-0.5 * ((h - peak) / 2.5) ** 2) * 3
    return p / p.sum()


#: P(hour | channel), channels in ORDER_CHANNELS order (store, online, phone).
HOUR_P = np.stack([
    _hour_profile(range(9, 21), peak=17.0),
    (lambda p: p / p.sum())(0.3 + _hour_profile(range(24), peak=20.0) * 24),
    _hour_profile(range(9, 18), peak=11.0),
])


def late_share(cutoff: float = CUTOFF_HOUR, *, channel_p: np.ndarray = ORDER_CHANNEL_P
               ) -> float:
    """Exact share of orders placed at or after ``cutoff`` (hour; minutes uniform)."""
    h = np.arange(24)
    frac = np.clip(h + 1 - cutoff, 0.0, 1.0)  # share of hour h at or after the cut-off
    return float(channel_p @ (HOUR_P @ frac))


def commerce_truth(*, orders_per_year: float | None = None) -> dict[str, Any]:
    """The planted parameters (JSON-ready) and the exact figures they imply."""
    out: dict[str, Any] = {
        "customer_types": dict(zip(TYPES, TYPE_P.tolist(), strict=True)),
        "loss_making_type": "bargain",
        "return_p": dict(zip(TYPES, RETURN_P.tolist(), strict=True)),
        "urgent_p": dict(zip(TYPES, URGENT_P.tolist(), strict=True)),
        "late_payment_p": dict(zip(TYPES, LATE_P.tolist(), strict=True)),
        "late_payment_mean_days": LATE_MEAN_DAYS,
        "complaint_p": dict(zip(TYPES, COMPLAINT_P.tolist(), strict=True)),
        "delivery_cost": DELIVERY_COST, "return_cost": RETURN_COST,
        "contact_unit_cost": CONTACT_UNIT_COST,
        "cutoff_hour": CUTOFF_HOUR, "dispatch_hour": DISPATCH_HOUR,
        "late_share": late_share(CUTOFF_HOUR),
        "late_share_if_cutoff": {str(c): late_share(c) for c in (12, 14, 15, 16, 18)},
        "self_service_share_orders": float(ORDER_CHANNEL_P[ORDER_CHANNELS.index("online")]),
        "hour_p": {ch: HOUR_P[i].round(6).tolist() for i, ch in enumerate(ORDER_CHANNELS)},
    }
    if orders_per_year is not None:
        out["orders_per_year"] = orders_per_year
        out["cutoff_customer_days_per_year"] = orders_per_year * out["late_share"]
    return out


# ------------------------------------------------------------------ the layer
def _order_columns(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray,
                   ctype: np.ndarray, revenue: np.ndarray, margin: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Timing, delivery, returns and costs of orders (numpy; channel and type as codes)."""
    n = len(day)
    u = rng.random(n)
    cdf = np.cumsum(HOUR_P, axis=1)[channel]
    hour = (u[:, None] > cdf).sum(1).clip(0, 23)
    minute = rng.integers(0, 60, n)
    urgent = rng.random(n) < URGENT_P[ctype]
    late = hour >= CUTOFF_HOUR
    ship = day + late
    transit = np.where(urgent, 1, 1 + rng.binomial(*TRANSIT_EXTRA, n))
    delivered = ship + transit
    promised = day + np.where(urgent, PROMISED_DAYS["urgent"], PROMISED_DAYS["standard"])
    end = N_DAYS - 1
    status = np.where(delivered <= end, 0, np.where(ship <= end, 1, 2))
    returned = (status == 0) & (rng.random(n) < RETURN_P[ctype])
    delivery_cost = np.where(urgent, DELIVERY_COST["urgent"], DELIVERY_COST["standard"])
    return {"hour": hour, "minute": minute, "urgent": urgent, "ship": ship,
            "delivered": delivered, "promised": promised, "status": status,
            "returned": returned, "delivery_cost": delivery_cost,
            "return_cost": np.where(returned, RETURN_COST, 0.0), "revenue": revenue,
            "margin": margin}


def _payments(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray,
              ctype: np.ndarray) -> dict[str, np.ndarray]:
    n = len(day)
    cdf = np.cumsum(METHOD_P, axis=1)[channel]
    method = (rng.random(n)[:, None] > cdf).sum(1).clip(0, len(METHODS) - 1)
    trade = ctype == TYPES.index("trade")
    method = np.where(trade, METHODS.index("transfer"), method)
    terms = np.where(method == METHODS.index("transfer"), TRADE_TERMS_DAYS, 0)
    due = day + terms
    late = rng.random(n) < LATE_P[ctype]
    delay = np.where(late, rng.geometric(1.0 / LATE_MEAN_DAYS, n), 0)
    paid = due + delay
    return {"method": method, "due": due, "paid": paid, "unpaid": paid > N_DAYS - 1}


def _nullable_dates(days: np.ndarray, valid: np.ndarray) -> pa.Array:
    arr = date_array(np.where(valid, days, 0))
    return pa.array(arr.to_numpy(zero_copy_only=False), mask=~valid)


#: Rows per batch when the sub-generator streams orders and contacts (fixed, so the
#: draws are the same whatever the machine; memory stays bounded at any world size).
BATCH_ROWS = 1_000_000


def _batches(world: WorldSoFar, table: str) -> Iterator[pa.Table]:
    f = pq.ParquetFile(world.folder / f"{table}.parquet")
    for b in f.iter_batches(batch_size=BATCH_ROWS):
        yield pa.Table.from_batches([b])


def _order_batch(orders: pa.Table, pos: pd.Index, ctype: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o_type = ctype[pos.get_indexer(orders["customer_id"].to_numpy(zero_copy_only=False))]
    day = (orders["date"].to_numpy().astype("datetime64[D]") - START).astype(np.int64)
    chan = pd.Index(ORDER_CHANNELS).get_indexer(
        orders["channel"].to_numpy(zero_copy_only=False))
    return day, chan, o_type


def _extended_orders(world: WorldSoFar, pos: pd.Index, ctype: np.ndarray,
                     rng: np.random.Generator, counts: dict[str, int]) -> Iterator[pa.Table]:
    status_names = pa.array(["delivered", "shipped", "processing"])
    for orders in _batches(world, "orders"):
        day, chan, o_type = _order_batch(orders, pos, ctype)
        cols = _order_columns(rng, day, chan, o_type, orders["revenue"].to_numpy(),
                              orders["margin"].to_numpy())
        counts["n_late_orders"] += int((cols["hour"] >= CUTOFF_HOUR).sum())
        ordered_at = (START + day.astype("timedelta64[D]")).astype("datetime64[s]") + (
            cols["hour"] * 3600 + cols["minute"] * 60).astype("timedelta64[s]")
        yield (orders
               .append_column("ordered_at", pa.array(ordered_at))
               .append_column("hour", pa.array(cols["hour"].astype(np.int8)))
               .append_column("channel_type", pa.array(
                   np.where(chan == ORDER_CHANNELS.index("online"), "self_service",
                            "assisted")))
               .append_column("urgent", pa.array(cols["urgent"]))
               .append_column("status", status_names.take(pa.array(cols["status"])))
               .append_column("promised_date", date_array(cols["promised"]))
               .append_column("shipped_date", _nullable_dates(cols["ship"],
                                                              cols["status"] <= 1))
               .append_column("delivered_date", _nullable_dates(cols["delivered"],
                                                                cols["status"] == 0))
               .append_column("returned", pa.array(cols["returned"]))
               .append_column("delivery_cost", pa.array(cols["delivery_cost"]))
               .append_column("return_cost", pa.array(cols["return_cost"])))


def _payment_batches(world: WorldSoFar, pos: pd.Index, ctype: np.ndarray,
                     rng: np.random.Generator) -> Iterator[pa.Table]:
    done = 0
    for orders in _batches(world, "orders"):
        day, chan, o_type = _order_batch(orders, pos, ctype)
        pay = _payments(rng, day, chan, o_type)
        n = orders.num_rows
        yield pa.table({
            "payment_id": id_array("P", done + np.arange(1, n + 1), 9),
            "order_id": orders["order_id"],
            "customer_id": orders["customer_id"],
            "method": pa.array(METHODS).take(pa.array(pay["method"])),
            "amount": orders["revenue"],
            "due_date": date_array(pay["due"]),
            "paid_date": _nullable_dates(pay["paid"], ~pay["unpaid"]),
        })
        done += n


def _contact_batches(world: WorldSoFar, pos: pd.Index, ctype: np.ndarray,
                     rng: np.random.Generator) -> Iterator[pa.Table]:
    for contacts in _batches(world, "contacts"):
        k_type = ctype[pos.get_indexer(contacts["customer_id"].to_numpy(zero_copy_only=False))]
        inbound = contacts["direction"].to_numpy(zero_copy_only=False) == "inbound"
        complaint = inbound & (rng.random(contacts.num_rows) < COMPLAINT_P[k_type])
        yield contacts.append_column("complaint", pa.array(complaint))


def commerce(world: WorldSoFar) -> Extension:
    """The ``commerce`` sub-generator (see the module docstring).

    Orders, payments and contacts are streamed in batches of :data:`BATCH_ROWS`
    (the tables returned are generators that the orchestrator writes one after the
    other), so a world of any size needs memory for one batch only. The truth's
    ``n_late_orders`` is filled while the orders are written, before ``truth.json``.
    """
    customers = world.table("customers")
    rng_c, rng_o, rng_p, rng_k = (world.rng(i) for i in range(4))
    nc = customers.num_rows
    ctype = rng_c.choice(len(TYPES), nc, p=TYPE_P)
    pos = pd.Index(customers["customer_id"].to_numpy(zero_copy_only=False))
    n = pq.ParquetFile(world.folder / "orders.parquet").metadata.num_rows
    ext_customers = customers.append_column("customer_type",
                                            pa.array(TYPES).take(pa.array(ctype)))
    truth = commerce_truth(orders_per_year=n / (N_DAYS / 365.25))
    truth["n_payments"] = n
    truth["n_late_orders"] = 0  # counted while the orders are written
    return Extension(tables={
        "customers": ext_customers,
        "orders": _extended_orders(world, pos, ctype, rng_o, truth),
        "payments": _payment_batches(world, pos, ctype, rng_p),
        "contacts": _contact_batches(world, pos, ctype, rng_k),
    }, truth=truth)


# ------------------------------------------------------------------ simulator
#: Mean margin per order by segment in :func:`simulate_commerce` (and its sd).
SIM_MARGIN_PER_ORDER = np.array([40.0, 90.0, 150.0])
SIM_MARGIN_SD = 30.0
SIM_ORDERS_PER_YEAR = 6.0
SIM_CONTACTS_PER_YEAR = 8.0


def simulate_commerce(n_customers: int, *, seed: int, years: float = 1.0
                      ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """A small commerce world in memory, with the exact expected profit of each type.

    Customers get a segment (``SEGMENT_P``) and a type (``TYPE_P``) independently;
    orders arrive at ``SIM_ORDERS_PER_YEAR`` per customer-year (Poisson), with
    margin ``N(SIM_MARGIN_PER_ORDER[segment], SIM_MARGIN_SD)`` and revenue =
    margin + cost (cost = 2 |margin| + 5); contacts at ``SIM_CONTACTS_PER_YEAR``
    (channels by ``CONTACT_CHANNEL_P``, 35% proactive). Then the commerce layer
    of :func:`commerce` (timing, delivery, returns, payments, complaints).

    Returns
    -------
    tables, truth
        ``customers, orders, contacts, payments`` as DataFrames of the contracts;
        ``truth["expected_profit"][type]`` the exact expected profit per
        customer over ``years`` and ``truth["late_share"]``.

    Notes
    -----
    Per customer of type ``t`` (independent of segment):
    ``E[profit] = E[N] (E[m] - P(delivered) r_t (E[m] + c_ret) - E[c_del | t])
    - E[K] sum_ch p_ch c_ch``, with ``E[N] = 6 years``, ``E[m] = sum_s p_s mu_s``,
    ``E[c_del | t] = u_t 15 + (1 - u_t) 6``, ``E[K] = 8 years``. P(delivered)
    (delivered by the end of the window) is 1 minus a boundary share, computed
    exactly from the hour and transit distributions.
    """
    rng = np.random.default_rng([seed, 41])
    n_days = round(365 * years)
    seg = rng.choice(len(SEGMENTS), n_customers, p=SEGMENT_P)
    ctype = rng.choice(len(TYPES), n_customers, p=TYPE_P)
    n_o = rng.poisson(SIM_ORDERS_PER_YEAR * years, n_customers)
    oc = np.repeat(np.arange(n_customers), n_o)
    no = len(oc)
    day = rng.integers(0, n_days, no)
    chan = rng.choice(len(ORDER_CHANNELS), no, p=ORDER_CHANNEL_P)
    margin = np.round(rng.normal(SIM_MARGIN_PER_ORDER[seg[oc]], SIM_MARGIN_SD), 2)
    cost = np.round(2 * np.abs(margin) + 5, 2)
    revenue = np.round(margin + cost, 2)
    margin = np.round(revenue - cost, 2)
    # the layer works on the generator's calendar; place the window at its end
    offset = N_DAYS - n_days
    cols = _order_columns(rng, day + offset, chan, ctype[oc], revenue, margin)
    pay = _payments(rng, day + offset, chan, ctype[oc])
    cid = np.array([f"C{i + 1:07d}" for i in range(n_customers)], dtype=object)
    oid = np.array([f"O{i + 1:08d}" for i in range(no)], dtype=object)
    base = START + np.timedelta64(offset, "D")

    def dates(d: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
        s = pd.Series((base + (d - offset).astype("timedelta64[D]")).astype("datetime64[ns]"))
        return s if valid is None else s.where(valid)

    orders = pd.DataFrame({
        "order_id": oid, "customer_id": cid[oc], "date": dates(day + offset),
        "revenue": revenue, "cost": cost, "margin": margin,
        "channel": np.array(ORDER_CHANNELS, dtype=object)[chan],
        "channel_type": np.where(chan == 1, "self_service", "assisted"),
        "hour": cols["hour"], "urgent": cols["urgent"],
        "status": np.array(["delivered", "shipped", "processing"], dtype=object)[cols["status"]],
        "promised_date": dates(cols["promised"]),
        "shipped_date": dates(cols["ship"], cols["status"] <= 1),
        "delivered_date": dates(cols["delivered"], cols["status"] == 0),
        "returned": cols["returned"], "delivery_cost": cols["delivery_cost"],
        "return_cost": cols["return_cost"],
    })
    payments = pd.DataFrame({
        "payment_id": [f"P{i + 1:08d}" for i in range(no)], "order_id": oid,
        "customer_id": cid[oc], "method": np.array(METHODS, dtype=object)[pay["method"]],
        "amount": revenue, "due_date": dates(pay["due"]),
        "paid_date": dates(pay["paid"], ~pay["unpaid"]),
    })
    n_k = rng.poisson(SIM_CONTACTS_PER_YEAR * years, n_customers)
    kc = np.repeat(np.arange(n_customers), n_k)
    nk = len(kc)
    kch = rng.choice(4, nk, p=CONTACT_CHANNEL_P)
    inbound = rng.random(nk) >= 0.35
    contacts = pd.DataFrame({
        "contact_id": [f"K{i + 1:08d}" for i in range(nk)], "customer_id": cid[kc],
        "date": dates(rng.integers(0, n_days, nk) + offset),
        "channel": np.array(CONTACT_CHANNELS, dtype=object)[kch],
        "direction": np.where(inbound, "inbound", "proactive"),
        "touchpoint_id": "customer_service_centre_post",
        "complaint": inbound & (rng.random(nk) < COMPLAINT_P[ctype[kc]]),
    })
    customers = pd.DataFrame({
        "customer_id": cid, "segment": np.array(SEGMENTS, dtype=object)[seg],
        "region": "Baku", "branch_id": "B01", "specialist_id": None,
        "signup_date": pd.Timestamp("2020-01-01"),
        "customer_type": np.array(TYPES, dtype=object)[ctype],
    })
    # exact expectation
    p_deliv = _p_delivered_by_end(n_days)
    em = float(SEGMENT_P @ SIM_MARGIN_PER_ORDER)
    ek = SIM_CONTACTS_PER_YEAR * years
    unit = np.array([CONTACT_UNIT_COST[c] for c in CONTACT_CHANNELS[:4]])
    contact_cost = ek * float(CONTACT_CHANNEL_P @ unit)
    en = SIM_ORDERS_PER_YEAR * years
    exp_profit = {}
    for t, name in enumerate(TYPES):
        pd_t = p_deliv[t]
        c_del = URGENT_P[t] * DELIVERY_COST["urgent"] + (1 - URGENT_P[t]) * DELIVERY_COST[
            "standard"]
        per_order = em - pd_t * RETURN_P[t] * (em + RETURN_COST) - c_del
        exp_profit[name] = en * per_order - contact_cost
    truth = {"expected_profit": exp_profit, "late_share": late_share(CUTOFF_HOUR),
             "loss_making_type": "bargain", "n_days": n_days}
    return {"customers": customers, "orders": orders, "contacts": contacts,
            "payments": payments}, truth


def _p_delivered_by_end(n_days: int) -> np.ndarray:
    """P(an order is delivered by the window's last day), per type (exact).

    Order day uniform on the window, hour from the channel mix, transit from
    urgency; margin is independent of all of it.
    """
    lateness = late_share(CUTOFF_HOUR)  # P(ships the next day)
    out = np.empty(len(TYPES))
    k = np.arange(3)
    from scipy.stats import binom

    p_extra = binom.pmf(k, *TRANSIT_EXTRA)
    for t in range(len(TYPES)):
        # total days from order to delivery: late (0/1) + transit
        dist = np.zeros(6)
        for lt, pl in ((0, 1 - lateness), (1, lateness)):
            dist[lt + 1] += pl * URGENT_P[t]
            for e, pe in zip(k, p_extra, strict=True):
                dist[lt + 1 + e] += pl * (1 - URGENT_P[t]) * pe
        # delivered by the end iff order day <= n_days - 1 - lag
        lags = np.arange(6)
        frac = np.clip((n_days - lags) / n_days, 0.0, 1.0)
        out[t] = float(dist @ frac)
    return out
