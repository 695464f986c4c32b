"""The extension point of the generator: sub-generators that add tables and truth.

A sub-generator is a function ``f(world: WorldSoFar) -> Extension`` listed in
:data:`cxlib.data.synth.world.SUB_GENERATORS` (``(name, f)`` pairs, run in that order
after the core tables are written).  It receives the planted world model, the tables
written so far (read them with :meth:`WorldSoFar.table`), the size and its own random
stream (:meth:`WorldSoFar.rng`, keyed by its name, so adding one sub-generator never
changes the draws of another or of the core world), and returns new tables (or
extended versions of earlier ones, which replace them) plus its planted truth, which
``truth.json`` holds under the sub-generator's name.

Example
-------
A sub-generator in ``cxlib/data/synth/care.py``::

    def care(world: WorldSoFar) -> Extension:
        customers = world.table("customers", columns=["customer_id", "branch_id"])
        rng = world.rng()
        ...
        return Extension(tables={"pulse": pulse}, truth={"pulse_effect": 0.2})

and in ``world.py``: ``SUB_GENERATORS = (("care", care),)``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib.data.synth.model import World
from cxlib.errors import ParameterError

__all__ = ["WRITE_OPTS", "Extension", "SubGenerator", "WorldSoFar", "write_extension"]

#: Parquet options of every generated table (same bytes for the same seed).
WRITE_OPTS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}


@dataclass(frozen=True)
class WorldSoFar:
    """What a sub-generator receives.

    Attributes
    ----------
    name
        The sub-generator's name (its truth.json key, its random stream).
    model
        The planted world model (branches, specialists, innovations, leaves...).
    folder
        The temporary folder being written; tables so far are ``<table>.parquet``
        (``responses`` may be a folder of parts).
    seed, size
        The world's seed and target number of response rows.
    truth
        ``truth.json`` as built so far (read only).
    """

    name: str
    model: World
    folder: Path
    seed: int
    size: int
    truth: Mapping[str, Any]

    def table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """A table written so far (``customers``, ``orders``, ...), optionally some columns."""
        path = self.folder / f"{name}.parquet"
        if not path.exists() and (self.folder / name).is_dir():
            path = self.folder / name
        if not path.exists():
            have = sorted(p.name.split(".")[0] for p in self.folder.iterdir())
            raise ParameterError([f"sub-generator {self.name!r} asked for table {name!r}; "
                                  f"the world so far has {have}"], source="synth")
        return pq.read_table(path, columns=columns)

    def rng(self, stream: int = 0) -> np.random.Generator:
        """This sub-generator's own random stream (``stream`` picks an independent one)."""
        key = zlib.crc32(self.name.encode("utf-8"))
        return np.random.default_rng([self.seed, 100, key, int(stream)])


@dataclass
class Extension:
    """What a sub-generator returns.

    Attributes
    ----------
    tables
        Table name -> an Arrow table, or an iterable of tables with one schema (written
        as row groups, for large worlds). A name already written replaces that table
        (to extend it with columns, return the whole extended table).
    truth
        Its planted parameters and exact population figures (JSON-ready), written to
        ``truth.json[<name>]``.
    """

    tables: dict[str, pa.Table | Iterable[pa.Table]] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)


#: The signature of a sub-generator.
SubGenerator = Callable[[WorldSoFar], Extension]


def write_extension(folder: Path, name: str, ext: Extension) -> dict[str, int]:
    """Write ``ext``'s tables into ``folder``; return rows written per table."""
    if not isinstance(ext, Extension):
        raise ParameterError([f"sub-generator {name!r} returned {type(ext).__name__}, "
                              "not an Extension"], source="synth")
    rows: dict[str, int] = {}
    for table, data in ext.tables.items():
        if not table.isidentifier():
            raise ParameterError([f"sub-generator {name!r}: table name {table!r} must be a "
                                  "plain identifier"], source="synth")
        path = folder / f"{table}.parquet"
        tmp = folder / f".{table}.parquet.part"
        parts = [data] if isinstance(data, pa.Table) else data
        writer = None
        n = 0
        try:
            for part in parts:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, part.schema, **WRITE_OPTS)
                writer.write_table(part)
                n += part.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ParameterError([f"sub-generator {name!r}: table {table!r} is empty (no "
                                  "parts)"], source="synth")
        tmp.replace(path)
        rows[table] = n
    return rows
