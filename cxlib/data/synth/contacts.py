"""Contacts (proactive and inbound) of one chunk's customers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlib.data.synth.arrays import date_array, id_array
from cxlib.data.synth.constants import (
    CONTACT_CHANNEL_P,
    CONTACT_CHANNELS,
    CONTACT_TPS_INBOUND,
    CONTACT_TPS_INBOUND_P,
    CONTACT_TPS_PROACTIVE,
    INNOVATIONS,
    MONTH_FIRST_DAY,
    N_DAYS,
    N_MONTHS,
    PROACTIVE_SHARE,
)
from cxlib.data.synth.model import World

__all__ = ["contacts_table"]

def contacts_table(world: World, lat: dict[str, np.ndarray], rng: np.random.Generator,
                    cust_ids: pa.Array, offset: int) -> tuple[pa.Table, int, np.ndarray]:
    months = np.arange(N_MONTHS)
    tr = (world.starts[lat["branch"]][:, None, :] >= 0) & (
        world.starts[lat["branch"]][:, None, :] <= months[None, :, None])  # n, T, V
    dl = np.array([v["contacts"] for v in INNOVATIONS])
    pro_extra = tr @ (dl * np.array([v["direction"] == "proactive" for v in INNOVATIONS]))
    in_extra = tr @ (dl * np.array([v["direction"] == "inbound" for v in INNOVATIONS]))
    base = lat["lam"][:, None]
    rate_pro = base * PROACTIVE_SHARE + pro_extra
    rate_in = base * (1 - PROACTIVE_SHARE) + in_extra
    n_pro = rng.poisson(rate_pro)
    n_in = rng.poisson(rate_in)
    counts = np.stack([n_pro, n_in], -1)  # n, T, 2
    flat = counts.ravel()
    idx = np.repeat(np.arange(flat.size), flat)
    cust, month, direction = np.unravel_index(idx, counts.shape)
    nc = len(cust)
    day = MONTH_FIRST_DAY[month] + (rng.random(nc) * np.diff(
        np.append(MONTH_FIRST_DAY, N_DAYS))[month]).astype(np.int64)
    tp_names = pa.array([*CONTACT_TPS_PROACTIVE, *CONTACT_TPS_INBOUND])
    tp = np.where(direction == 0, rng.integers(0, len(CONTACT_TPS_PROACTIVE), nc),
                  len(CONTACT_TPS_PROACTIVE)
                  + rng.choice(len(CONTACT_TPS_INBOUND), nc, p=CONTACT_TPS_INBOUND_P))
    ch = rng.choice(4, nc, p=CONTACT_CHANNEL_P)
    messenger_v = [v for v, i in enumerate(INNOVATIONS) if i["id"] == "messenger_support"]
    if messenger_v:
        v = messenger_v[0]
        on = tr[cust, month, v]
        ch = np.where(on & (direction == 1) & (rng.random(nc) < 0.3), 4, ch)
    table = pa.table({
        "contact_id": id_array("K", offset + np.arange(nc) + 1, 9),
        "customer_id": cust_ids.take(pa.array(cust)),
        "date": date_array(day),
        "channel": pa.array(CONTACT_CHANNELS).take(pa.array(ch)),
        "direction": pa.array(["proactive", "inbound"]).take(pa.array(direction)),
        "touchpoint_id": tp_names.take(pa.array(tp)),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"][cust])),
    })
    per_customer = counts.sum((1, 2))
    return table, offset + nc, per_customer

