"""Orchestration: generate a whole world on disk (tables, ``truth.json``) and ``cx synth``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.special import expit

from cxlib import config
from cxlib.data.synth import constants as const
from cxlib.data.synth.arrays import date_array, id_array
from cxlib.data.synth.care import care
from cxlib.data.synth.commerce import commerce
from cxlib.data.synth.constants import (
    CONTACT_OPTIMUM,
    INNOVATIONS,
    MARGIN_NOISE_SD,
    MARGIN_PER_OVERALL_POINT,
    MIN_SIZE,
    MONTH_FIRST_DAY,
    MONTH_STARTS,
    N_DAYS,
    N_MONTHS,
    ORDER_CHANNEL_P,
    ORDER_CHANNELS,
    ORDER_COST_FLOOR,
    ORDER_COST_PER_MARGIN,
    ORDER_RATE,
    RESPONSE_RATE,
    RETENTION_CURVATURE,
    RETENTION_INTERCEPT,
    RETENTION_PER_OVERALL_LATENT,
    SEGMENT_MARGIN,
    SIZES,
)
from cxlib.data.synth.contacts import contacts_table
from cxlib.data.synth.customers import chunk_latents, customers_table
from cxlib.data.synth.extend import WRITE_OPTS, SubGenerator, WorldSoFar, write_extension
from cxlib.data.synth.model import World, margin_panel, world_model
from cxlib.data.synth.responses import responses_table
from cxlib.data.synth.truth import world_truth
from cxlib.errors import ParameterError
from cxlib.io import atomic_dir, guard_write

__all__ = ["SUB_GENERATORS", "generate", "innovations_table", "main"]

#: Sub-generators run after the core tables, in this order: ``(name, function)`` pairs
#: (see :mod:`cxlib.data.synth.extend`). Add yours here; ``truth.json[name]`` holds its
#: truth and ``truth.json["tables"][name]`` the rows it wrote.
SUB_GENERATORS: tuple[tuple[str, SubGenerator], ...] = (("commerce", commerce), ("care", care))


# =================================================================== generate
def _resolve_size(size: str | int) -> int:
    if isinstance(size, str):
        if size in SIZES:
            return SIZES[size]
        try:
            size = int(size.replace("_", ""))
        except ValueError:
            raise ParameterError([f"size {size!r}: use small, medium, large or a number of "
                                  "response rows"], source="synth") from None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ParameterError([f"size {size!r}: need at least {MIN_SIZE} response rows"],
                             source="synth")
    return int(size)


def _rows_per_respondent(world: World) -> float:
    return float(world.p_exp.sum() + world.p_exp[world.ces_idx].sum() + 2.0)


@contextlib.contextmanager
def _atomic_dir(out: Path) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then swap it in for ``out``.

    ``out`` is replaced only when it does not exist, is empty, or already holds a
    generated world (``truth.json``); never when it is, holds or lies under
    ``data/raw``.  Anything else is refused with a :class:`ParameterError`, so a
    mistyped ``--out data`` cannot delete catalogs or exports.
    """
    out = Path(out)
    guard_write(out)
    guard_write(out.parent / f".{out.name}.tmp")
    raw = Path(config.RAW_DIR).resolve()
    if out.resolve() in raw.parents:
        raise ParameterError([f"out={str(out)!r} holds data/raw ({raw}); a generated world "
                              "replaces its folder entirely, and raw exports are immutable. "
                              "Choose a new or empty folder such as data/sample"],
                             source="synth")
    if out.exists():
        if not out.is_dir():
            raise ParameterError([f"out={str(out)!r} is a file, not a folder"], source="synth")
        if any(out.iterdir()) and not (out / "truth.json").is_file():
            raise ParameterError([
                f"out={str(out)!r} is not empty and holds no generated world (no truth.json); "
                "the generator replaces its output folder entirely, so it refuses to delete "
                "what it did not make. Choose a new or empty folder, or a previous world's"],
                source="synth")
    with atomic_dir(out, may_replace=lambda p: (p / "truth.json").is_file()) as tmp:
        yield tmp


def generate(out_dir: str | Path, *, size: str | int = "small", seed: int = 1) -> Path:
    """Write the synthetic world (all contracts + ``truth.json``) to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to (re)create atomically (written to a temporary sibling, then renamed).
        It must be new, empty or a previous world (holding ``truth.json``), and not
        under ``data/raw``; anything else raises :class:`ParameterError` /
        :class:`DataError` before a byte is written.
    size
        ``"small"`` (~50k long response rows), ``"medium"`` (~1M), ``"large"``
        (~10M, responses as ``responses/part-XXXXX.parquet``) or a number of rows.
    seed
        Same seed and size -> byte-identical files.

    Returns
    -------
    Path
        ``out_dir``, holding (columns beyond the contracts of :mod:`cxlib.data.schemas` noted):

        - ``customers.parquet``: customer_id, segment (mass/affluent/business), region
          (Baku/Ganja/Istanbul/Ankara), branch_id (B01..B40), specialist_id (E001..),
          signup_date, name, email, phone (personal), contact_rate_planned (baseline
          contacts per month), retained (renewed at the end of 2025).
        - ``employees.parquet``: employee_id, branch_id, role ("service_specialist"),
          satisfaction (1-5), tenure_years, accounts_served, name, region.
        - ``responses.parquet`` (or ``responses/part-XXXXX.parquet`` above 2M rows):
          response_id, customer_id, date, touchpoint_id, metric (csat/ces on leaves,
          overall/nps on ``"journey"``), score, scale_min, scale_max, comment, segment,
          region, branch_id, specialist_id, channel (survey mode).
        - ``orders.parquet``: order_id, customer_id, date, revenue, cost, margin,
          branch_id, channel (store/online/phone).
        - ``contacts.parquet``: contact_id, customer_id, date, channel, direction
          (proactive/inbound), touchpoint_id, branch_id.
        - ``innovations.parquet``: innovation_id, name, unit_id, start_date,
          cost_per_period, one_off_cost, name_tr, name_az.
        - ``truth.json``: every planted parameter (keys of the brief plus extras).

    Notes
    -----
    See the module docstring for the model; truth.json lists every planted value.
    Rows are generated in chunks of ``const.CHUNK_CUSTOMERS`` customers (each chunk with its
    own seeded stream), so memory stays bounded (about 2 GiB at 10M rows).
    """
    out = Path(out_dir)
    guard_write(out)  # raw exports are immutable: refuse before any work
    rows_target = _resolve_size(size)
    seed = int(seed)
    world = world_model(seed)
    truth = world_truth(world)
    n_customers = max(50, math.ceil(rows_target / _rows_per_respondent(world) / RESPONSE_RATE))
    parts = rows_target > const.PARTS_ABOVE
    B = len(world.branch_ids)
    silent = [*const.NEVER_ASKED, *const.LOW_BASE]
    n_silent = dict.fromkeys(silent, 0)
    with _atomic_dir(out) as tmp:
        if parts:
            (tmp / "responses").mkdir()
            resp_writer = None
        else:
            resp_writer = None
        cust_writer = contact_writer = None
        n_rows = n_resp = n_contacts = 0
        spec_count = np.zeros(len(world.spec_ids), np.int64)
        alpha = np.zeros(B)
        # order skeletons kept for the second pass (numeric only)
        o_cust, o_month, o_branch, o_planned, o_day, o_chan = [], [], [], [], [], []
        for ci, c0 in enumerate(range(0, n_customers, const.CHUNK_CUSTOMERS)):
            n = min(const.CHUNK_CUSTOMERS, n_customers - c0)
            rng = np.random.default_rng([seed, 2, ci])
            numbers = np.arange(c0, c0 + n) + 1
            cust_ids = id_array("C", numbers, 8)
            lat = chunk_latents(world, rng, n)
            spec_count += np.bincount(lat["spec"], minlength=len(world.spec_ids))
            # responses
            rtab, n_resp_new = responses_table(world, lat, rng, cust_ids, n_resp)
            n_resp = n_resp_new
            n_rows += rtab.num_rows
            for tp in silent:  # respondents at the planted blind spots / low-base leaves
                n_silent[tp] += int(pc.sum(pc.equal(rtab["touchpoint_id"], tp)).as_py() or 0)
            if parts:
                pq.write_table(rtab, tmp / "responses" / f"part-{ci:05d}.parquet", **WRITE_OPTS)
            else:
                if resp_writer is None:
                    resp_writer = pq.ParquetWriter(tmp / "responses.parquet", rtab.schema,
                                                   **WRITE_OPTS)
                resp_writer.write_table(rtab)
            # contacts
            ctab, n_contacts, per_cust = contacts_table(world, lat, rng, cust_ids, n_contacts)
            if contact_writer is None:
                contact_writer = pq.ParquetWriter(tmp / "contacts.parquet", ctab.schema,
                                                  **WRITE_OPTS)
            contact_writer.write_table(ctab)
            # retention: inverted U in the customer's average contact rate
            lam_avg = per_cust / N_MONTHS
            o_ref = float(world.w @ world.mu)
            p_ret = expit(RETENTION_INTERCEPT + RETENTION_PER_OVERALL_LATENT * (lat["o"] - o_ref)
                          - RETENTION_CURVATURE * (lam_avg - CONTACT_OPTIMUM) ** 2)
            retained = rng.random(n) < p_ret
            ctab2 = customers_table(world, lat, rng, cust_ids, numbers, retained)
            if cust_writer is None:
                cust_writer = pq.ParquetWriter(tmp / "customers.parquet", ctab2.schema,
                                               **WRITE_OPTS)
            cust_writer.write_table(ctab2)
            # orders skeleton: planned 24-month margin spread over the customer's orders
            M = (SEGMENT_MARGIN[lat["seg"]] + MARGIN_PER_OVERALL_POINT * lat["overall"]
                 + rng.normal(0.0, MARGIN_NOISE_SD, n))
            alpha += np.bincount(lat["branch"], weights=M / N_MONTHS, minlength=B)
            k = rng.poisson(ORDER_RATE, (n, N_MONTHS))
            tot = k.sum(1)
            flat = k.ravel()
            idx = np.repeat(np.arange(flat.size), flat)
            cu, mo = np.divmod(idx, N_MONTHS)
            o_cust.append((cu + c0).astype(np.int64))
            o_month.append(mo.astype(np.int16))
            o_branch.append(lat["branch"][cu].astype(np.int16))
            o_planned.append(M[cu] / np.maximum(tot[cu], 1))
            lens = np.diff(np.append(MONTH_FIRST_DAY, N_DAYS))[mo]
            o_day.append(MONTH_FIRST_DAY[mo] + (rng.random(len(mo)) * lens).astype(np.int64))
            o_chan.append(rng.choice(len(ORDER_CHANNELS), len(mo), p=ORDER_CHANNEL_P))
        resp_writer is not None and resp_writer.close()
        contact_writer.close()
        cust_writer.close()
        # second pass: the branch x month panel, split into orders
        prng = np.random.default_rng(world.panel_rng_seed)
        panel, _ = margin_panel(prng, alpha, world.starts, N_MONTHS)
        cu = np.concatenate(o_cust)
        mo = np.concatenate(o_month).astype(np.int64)
        br = np.concatenate(o_branch).astype(np.int64)
        planned = np.concatenate(o_planned)
        cell = br * N_MONTHS + mo
        n_cell = np.bincount(cell, minlength=B * N_MONTHS)
        planned_cell = np.bincount(cell, weights=planned, minlength=B * N_MONTHS)
        resid = (panel.ravel() - planned_cell) / np.maximum(n_cell, 1)
        margin = np.round(planned + resid[cell], 2)
        orng = np.random.default_rng([seed, 3])
        cost = np.round(np.abs(margin) * orng.uniform(*ORDER_COST_PER_MARGIN, len(margin))
                        + ORDER_COST_FLOOR, 2)
        revenue = np.round(margin + cost, 2)
        margin = revenue - cost
        day = np.concatenate(o_day)
        chan = np.concatenate(o_chan)
        # order rows sorted by date then customer, written in row groups
        order = np.lexsort((cu, day))
        n_orders = len(order)
        ow = None
        branch_arr = pa.array(world.branch_ids)
        for s in range(0, max(n_orders, 1), 2_000_000):
            sel = order[s:s + 2_000_000]
            otab = pa.table({
                "order_id": id_array("O", s + np.arange(len(sel)) + 1, 9),
                "customer_id": id_array("C", cu[sel] + 1, 8),
                "date": date_array(day[sel]),
                "revenue": pa.array(revenue[sel]),
                "cost": pa.array(cost[sel]),
                "margin": pa.array(margin[sel]),
                "branch_id": branch_arr.take(pa.array(br[sel])),
                "channel": pa.array(ORDER_CHANNELS).take(pa.array(chan[sel])),
            })
            if ow is None:
                ow = pq.ParquetWriter(tmp / "orders.parquet", otab.schema, **WRITE_OPTS)
            ow.write_table(otab)
        ow.close()
        # employees and innovations
        pq.write_table(pa.table({
            "employee_id": pa.array(world.spec_ids),
            "branch_id": branch_arr.take(pa.array(world.spec_branch)),
            "role": pa.array(["service_specialist"] * len(world.spec_ids)),
            "satisfaction": pa.array(world.spec_sat),
            "tenure_years": pa.array(world.spec_tenure),
            "accounts_served": pa.array(spec_count),
            "name": pa.array(world.spec_names, pa.string()),
            "region": pa.array(world.branch_region[world.spec_branch].tolist(), pa.string()),
        }), tmp / "employees.parquet", **WRITE_OPTS)
        pq.write_table(innovations_table(world.starts, world.branch_ids),
                       tmp / "innovations.parquet", **WRITE_OPTS)
        truth = {"seed": seed, "size": size if size in SIZES else rows_target,
                 "rows_target": rows_target, "n_customers": n_customers,
                 "n_responses": n_resp, "n_response_rows": n_rows, "n_orders": n_orders,
                 "n_contacts": n_contacts, "responses_layout": "parts" if parts else "file",
                 **truth}
        truth["coverage"] = {**truth["coverage"], "n_respondents": n_silent}
        extension_rows = {}
        for name, sub in SUB_GENERATORS:
            if name in truth:
                raise ParameterError([f"sub-generator name {name!r} clashes with a truth.json "
                                      "key; choose another name"], source="synth")
            ext = sub(WorldSoFar(name=name, model=world, folder=tmp, seed=seed,
                                 size=rows_target, truth=truth))
            extension_rows[name] = write_extension(tmp, name, ext)
            truth[name] = ext.truth
        if extension_rows:
            truth["tables"] = extension_rows
        (tmp / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False,
                                                   sort_keys=False) + "\n", encoding="utf-8")
    return out



def innovations_table(starts: np.ndarray, unit_ids: list[str]) -> pa.Table:
    """One row per innovation x unit that got it (``innovations.parquet``).

    ``name`` is the English name; ``name_tr`` and ``name_az`` (constants, no draw
    depends on them) come last, so the other columns are what they were without them.
    """
    names = [f"name_{lang}" for lang in ("tr", "az")]
    rows: dict[str, list] = {k: [] for k in ("innovation_id", "name", "unit_id", "start_date",
                                             "cost_per_period", "one_off_cost", *names)}
    for v, inn in enumerate(INNOVATIONS):
        for u in np.flatnonzero(starts[:, v] >= 0):
            rows["innovation_id"].append(inn["id"])
            rows["name"].append(inn["name"])
            rows["unit_id"].append(unit_ids[u])
            rows["start_date"].append(MONTH_STARTS[starts[u, v]].astype("datetime64[ns]"))
            rows["cost_per_period"].append(inn["cost"])
            rows["one_off_cost"].append(inn["one_off"])
            for k in names:
                rows[k].append(inn.get(k) or inn["name"])
    return pa.table({
        "innovation_id": pa.array(rows["innovation_id"], pa.string()),
        "name": pa.array(rows["name"], pa.string()),
        "unit_id": pa.array(rows["unit_id"], pa.string()),
        "start_date": pa.array(np.array(rows["start_date"], dtype="datetime64[ns]")),
        "cost_per_period": pa.array(rows["cost_per_period"], pa.float64()),
        "one_off_cost": pa.array(rows["one_off_cost"], pa.float64()),
        **{k: pa.array(rows[k], pa.string()) for k in names},
    })





# ===================================================================== CLI
def main(argv: list[str] | None = None) -> int:
    """``cx synth --size small|medium|large|N --seed S --out DIR``."""
    ap = argparse.ArgumentParser(prog="cx synth", description="Generate the synthetic CX world "
                                 "with planted truth (truth.json beside the data).")
    ap.add_argument("--size", default="small",
                    help="small (~50k response rows), medium (~1M), large (~10M) or a number")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(config.SAMPLE_DIR), help="output folder")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    t0 = time.perf_counter()
    out = generate(args.out, size=args.size, seed=args.seed)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    print(f"wrote {out}: {truth['n_customers']} customers, {truth['n_responses']} surveys, "
          f"{truth['n_response_rows']} response rows, {truth['n_orders']} orders, "
          f"{truth['n_contacts']} contacts in {time.perf_counter() - t0:.1f} s")
    return 0
