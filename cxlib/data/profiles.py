"""An indexed store for looking up one customer's whole history fast.

Every customer table of a world (customers, orders, contacts, payments,
responses) is rewritten once as Parquet **sorted by customer_id** in small row
groups (DuckDB ``COPY ... ORDER BY``, out of core). The row groups' min/max
statistics of ``customer_id`` form the index: a lookup bisects them and reads
only the row group(s) that can hold the id, so its cost does not grow with the
number of customers (one small read per table instead of a scan).

The store lives in ``data/processed/profiles/<world>-<tag>/`` and is rebuilt
when the world's files change (size and modification time, then content).

>>> store = ProfileStore.open(world)         # builds on first use  # doctest: +SKIP
>>> tables = store.lookup("C00000042")       # dict table -> DataFrame  # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib import config
from cxlib.data import duck
from cxlib.errors import DataError
from cxlib.io import atomic_dir, write_json_atomic

__all__ = ["PROFILE_TABLES", "ROW_GROUP_SIZE", "STORE_VERSION", "ProfileStore", "build",
           "store_path"]

#: Tables of a customer's profile (each has ``customer_id``).
PROFILE_TABLES = ("customers", "orders", "contacts", "payments", "responses")
#: Rows per row group of the sorted files: smaller = less read per lookup, bigger footer.
ROW_GROUP_SIZE = 2_048
STORE_VERSION = "profiles-1"


def _sources(folder: Path) -> dict[str, Path]:
    out = {}
    for t in PROFILE_TABLES:
        for p in (folder / f"{t}.parquet", folder / t):
            if p.exists():
                out[t] = p
                break
    return out


def _stats(src: dict[str, Path]) -> list[list[Any]]:
    files = []
    for p in src.values():
        files.extend(sorted(p.rglob("*.parquet")) if p.is_dir() else [p])
    return [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]


def store_path(folder: str | os.PathLike[str]) -> Path:
    """Folder of the profile store of a world folder."""
    folder = Path(folder).resolve()
    tag = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    return Path(config.PROCESSED_DIR) / "profiles" / f"{folder.name}-{tag}"


def build(folder: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
          row_group_size: int = ROW_GROUP_SIZE) -> Path:
    """Write the sorted copy of a world's customer tables (atomically) and return its folder.

    The source tables are validated when the world loads them elsewhere; here
    they are read with DuckDB, never modified.
    """
    import duckdb

    folder = Path(folder)
    src = _sources(folder)
    if "customers" not in src:
        raise DataError("a profile store needs a customers table", path=folder,
                        column="customer_id", rule="customers.parquet exists")
    dest = Path(out) if out is not None else store_path(folder)
    with atomic_dir(dest, may_replace=lambda p: (p / "store.json").is_file()) as tmp:
        con = duckdb.connect()
        con.execute(f"SET threads TO {os.cpu_count() or 1}")
        con.execute("SET preserve_insertion_order = false")
        for t, p in src.items():
            # paths as bound values / arguments (cxlib.data.duck), never pasted into SQL:
            # a folder such as "Ankara'daki" must not break (or inject into) the query
            duck.read_parquet(p, con=con).order("customer_id").write_parquet(
                str(tmp / f"{t}.parquet"), compression="zstd",
                row_group_size=int(row_group_size))
        con.close()
        write_json_atomic(tmp / "store.json", {"version": STORE_VERSION,
                                               "source": str(folder.resolve()),
                                               "files": _stats(src),
                                               "tables": sorted(src)})
    return dest


def _fresh(dest: Path, folder: Path) -> bool:
    meta = dest / "store.json"
    if not meta.exists():
        return False
    info = json.loads(meta.read_text(encoding="utf-8"))
    return info.get("version") == STORE_VERSION and info.get("files") == _stats(
        _sources(folder))


@dataclass
class _Index:
    file: pq.ParquetFile
    mins: list[str]
    maxs: list[str]


@dataclass
class ProfileStore:
    """A built profile store, its row-group index held in memory.

    Attributes
    ----------
    folder
        The store folder.
    tables
        Table name -> index (row-group min/max of ``customer_id``).
    """

    folder: Path
    tables: dict[str, _Index] = field(default_factory=dict)
    _ids: pa.Array | None = None

    @classmethod
    def open(cls, world: Any, *, rebuild: bool = False) -> ProfileStore:
        """Open (building or refreshing when needed) the store of a world or world folder."""
        folder = Path(getattr(world, "folder", None) or world)
        dest = store_path(folder)
        if rebuild or not _fresh(dest, folder):
            build(folder, out=dest)
        return cls.load(dest)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ProfileStore:
        """Open an existing store folder (built by :func:`build`)."""
        folder = Path(folder)
        tables = {}
        for t in json.loads((folder / "store.json").read_text(encoding="utf-8"))["tables"]:
            f = pq.ParquetFile(folder / f"{t}.parquet")
            col = f.schema_arrow.get_field_index("customer_id")
            mins, maxs = [], []
            for i in range(f.metadata.num_row_groups):
                st = f.metadata.row_group(i).column(col).statistics
                mins.append(st.min)
                maxs.append(st.max)
            tables[t] = _Index(f, mins, maxs)
        return cls(folder=folder, tables=tables)

    def _read(self, table: str, customer_id: str) -> pd.DataFrame:
        idx = self.tables[table]
        lo = bisect.bisect_left(idx.maxs, customer_id)
        hi = bisect.bisect_right(idx.mins, customer_id)
        groups = list(range(lo, hi))
        if not groups:
            return idx.file.schema_arrow.empty_table().to_pandas()
        tab = idx.file.read_row_groups(groups, use_threads=False)
        mask = pa.compute.equal(tab["customer_id"], customer_id)
        return tab.filter(mask).to_pandas()

    def customer_ids(self) -> pa.Array:
        """All customer ids (sorted), read once."""
        if self._ids is None:
            self._ids = self.tables["customers"].file.read(columns=["customer_id"])[
                "customer_id"].combine_chunks()
        return self._ids

    def closest(self, customer_id: str, n: int = 5) -> list[str]:
        """Up to ``n`` existing ids closest to ``customer_id`` (neighbours and look-alikes)."""
        ids = self.customer_ids()
        pos = bisect.bisect_left(_SortedView(ids), customer_id)
        near = [ids[i].as_py() for i in range(max(0, pos - n), min(len(ids), pos + n))]
        # a dropped or extra leading zero: the same number at the ids' width
        head = customer_id.rstrip("0123456789")
        digits = customer_id[len(head):]
        if digits and len(ids):
            width = len(ids[0].as_py()) - len(head)
            cand = head + digits.lstrip("0").zfill(width)
            j = bisect.bisect_left(_SortedView(ids), cand)
            first = [cand] if j < len(ids) and ids[j].as_py() == cand else []
        else:
            first = []
        rest = difflib.get_close_matches(customer_id, near, n=n, cutoff=0.0)
        return list(dict.fromkeys(first + rest))[:n]

    def lookup(self, customer_id: str) -> dict[str, pd.DataFrame]:
        """Every table's rows of one customer.

        Raises
        ------
        DataError
            When the id is not a customer, naming the closest ids.
        """
        customer_id = str(customer_id)
        cust = self._read("customers", customer_id)
        if cust.empty:
            close = self.closest(customer_id)
            raise DataError(f"unknown customer id {customer_id!r}; closest ids: {close}",
                            column="customer_id", rule="customer exists")
        out = {"customers": cust}
        for t in self.tables:
            if t != "customers":
                out[t] = self._read(t, customer_id)
        return out


class _SortedView:
    """Sequence view of a sorted Arrow string array for :mod:`bisect`."""

    def __init__(self, arr: pa.Array) -> None:
        self.arr = arr

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: int) -> str:
        return self.arr[i].as_py()
