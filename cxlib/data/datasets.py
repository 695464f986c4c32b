"""What notebooks load: a named dataset as validated tables plus its catalog.

``datasets.load("sample")``  the synthetic retail world in ``config.SAMPLE_DIR``
                             (every contract, plus the planted truth);
``datasets.load("airline")`` the real airline survey, long form via
                             ``data/mappings/airline.yml`` (responses only);
                             any ``data/mappings/<name>.yml`` is a dataset
                             ``<name>`` (discovered, no code edit);
``datasets.load(PATH)``      a folder holding a generated world.

Tables load lazily on first access and are validated against their contract
(once per file content: the validated frame is kept in ``config.PROCESSED_DIR``,
keyed by the file's bytes and the validation code); the touchpoint ids of
responses and contacts are checked against the dataset's catalog
(:func:`cxlib.data.validate.check_touchpoints`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config
from cxlib.errors import DataError

__all__ = ["KEEP_VALIDATED", "MAPPED", "TABLES", "World", "load", "mapped_datasets",
           "store_main", "world_dir"]

#: Tables a world may hold (each a contract of cxlib.data.schemas).
TABLES = ("responses", "customers", "orders", "contacts", "employees", "innovations",
          "payments", "relationships", "pulse")
#: Tables whose touchpoint_id is checked against the catalog.
_TOUCHPOINT_TABLES = ("responses", "contacts")


def _validated(path: Path, table: str) -> pd.DataFrame:
    """A world's table read and validated against its contract, memoised by content.

    A file is validated once per content: :func:`cxlib.data.cache.cached` keys
    the validated frame by the SHA-256 of the file's bytes, the contract, the
    source of the reading and validation code and the pandas, pandera, pyarrow
    and NumPy versions, and stores it (index and ``attrs`` included, readable by
    its owner only) under ``config.PROCESSED_DIR``. Change one byte of
    the file (or of that code) and it is validated again; a file that fails
    validation is never stored, so it fails on every load. A scheduled run's
    reports load the same files: validation (~45 ms of a 53 ms load of the sample
    world's responses, seconds on a large world) is paid by the first reports
    only, one per worker at most (issue 17). Whoever can write ``PROCESSED_DIR``
    can change what loads, as with every cache there. A partitioned folder, or a
    cache that cannot be read or written, is validated on every load as before.
    The newest :data:`KEEP_VALIDATED` entries are kept.
    """
    from cxlib.data.readers import read_table
    from cxlib.data.validate import validate

    def build() -> pd.DataFrame:
        return validate(read_table(path), table, path=path)

    if not path.is_file():
        return build()
    import hashlib

    import numpy
    import pandera
    import pyarrow

    from cxlib.data.cache import cached

    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    extra = {"contract": table, "pandas": pd.__version__, "pandera": pandera.__version__,
             "pyarrow": pyarrow.__version__, "numpy": numpy.__version__}
    # owner-only: a validated table may hold personal columns (names, e-mails)
    df = cached([path], build, name=f"valid-{table}-{where}", extra=extra, best_effort=True,
                mode=0o600)
    if not df.attrs.pop("cache", {}).get("hit"):
        _prune_validated(Path(config.PROCESSED_DIR))
    return df


#: Validated tables kept in ``config.PROCESSED_DIR`` (the most recently stored).
KEEP_VALIDATED = 64


def _prune_validated(folder: Path) -> None:
    """Keep the :data:`KEEP_VALIDATED` newest validated tables (temporary worlds, e.g. of
    tests, would otherwise pile up: each file path has an entry of its own)."""
    def age(f: Path) -> float:
        try:
            return f.stat().st_mtime
        except OSError:
            return 0.0

    for old in sorted(folder.glob("valid-*.parquet"), key=age, reverse=True)[KEEP_VALIDATED:]:
        old.unlink(missing_ok=True)


def mapped_datasets() -> dict[str, tuple[str, str]]:
    """Datasets loaded through a wide->long mapping: ``name -> (mapping, catalog)``.

    Every ``config.MAPPINGS_DIR/<name>.yml`` is one, read afresh at each call;
    its ``catalog:`` key names the catalog (default: the mapping's own name).
    """
    from cxlib.io import read_yaml

    out: dict[str, tuple[str, str]] = {}
    for p in sorted(Path(config.MAPPINGS_DIR).glob("*.yml")):
        raw = read_yaml(p, what="mapping") or {}  # DataError naming the file; no aliases
        catalog = raw.get("catalog") if isinstance(raw, dict) else None
        out[p.stem] = (p.stem, str(catalog or p.stem))
    return out


class _MappedView(Mapping[str, tuple[str, str]]):
    """Live view of :func:`mapped_datasets` (``"airline" in MAPPED``, ``MAPPED[name]``)."""

    def __getitem__(self, name: str) -> tuple[str, str]:
        return mapped_datasets()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(mapped_datasets())

    def __len__(self) -> int:
        return len(mapped_datasets())

    def __contains__(self, name: object) -> bool:
        return (isinstance(name, str) and bool(name) and not set(name) & set("/\\.")
                and (Path(config.MAPPINGS_DIR) / f"{name}.yml").is_file())

    def __repr__(self) -> str:
        return f"MAPPED({mapped_datasets()!r})"


#: Real datasets loaded through a wide->long mapping: name -> (mapping, catalog),
#: discovered from ``data/mappings/*.yml`` at each access.
MAPPED: Mapping[str, tuple[str, str]] = _MappedView()


@dataclass
class World:
    """One dataset: lazily loaded, validated tables and its touchpoint catalog.

    Attributes
    ----------
    name : str
        The dataset name given to :func:`load`.
    folder : Path or None
        Folder of a generated world (None for a mapped real dataset).
    catalog_name : str
        Short name of its touchpoint catalog.
    responses, customers, orders, contacts, employees, innovations : DataFrame or None
        The tables (None when the dataset has no such table).
    truth : dict or None
        The planted truth of a synthetic world.
    """

    name: str
    folder: Path | None
    catalog_name: str
    mapping: str | None = None
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @property
    def catalog(self) -> Any:
        from cxlib.data.catalog import load_catalog

        return load_catalog(self.catalog_name)

    def table(self, name: str) -> pd.DataFrame | None:
        """Load (once) and return one table, or None when the dataset lacks it."""
        if name not in TABLES:
            raise DataError(f"unknown table {name!r}; one of {TABLES}")
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def _load(self, name: str) -> pd.DataFrame | None:
        if self.mapping is not None:
            if name != "responses":
                return None
            from cxlib.data.wide import load_mapped

            return load_mapped(self.mapping)  # ids checked against the catalog there
        assert self.folder is not None
        path = self.folder / f"{name}.parquet"
        if not path.exists() and (self.folder / name).is_dir():
            path = self.folder / name
        if not path.exists():
            return None
        df = _validated(path, name)
        if name in _TOUCHPOINT_TABLES:
            from cxlib.data.validate import check_touchpoints

            check_touchpoints(df, self.catalog, path=path)
        return df

    @property
    def truth(self) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        from cxlib.data.readers import read_truth

        return read_truth(self.folder)

    @property
    def currency(self) -> str | None:
        """The currency of the world's money (``truth.json`` ``currency``, an ISO code such
        as ``AZN``), else None."""
        truth = self.truth
        value = truth.get("currency") if isinstance(truth, dict) else None
        return str(value) if value else None

    def path(self, name: str) -> Path | None:
        """File (or folder of parts) of a table of a generated world."""
        if self.folder is None:
            return None
        for p in (self.folder / f"{name}.parquet", self.folder / name):
            if p.exists():
                return p
        return None

    def responses_relation(self, **filters: Any) -> Any:
        """The responses as a DuckDB relation, keeping rows where ``column == value``.

        A generated world is read from the partitioned store
        (:func:`cxlib.data.store.responses`, partitioned by the first filter's column,
        ``segment`` without filters), so one segment's slice reads only its
        files; the store validated the data when it was built. A mapped dataset
        (e.g. ``airline``) registers its validated frame. ``""`` or None as a
        value means no filter on that column.
        """
        from cxlib.data import store

        filters = {k: v for k, v in filters.items() if v not in ("", None)}
        by = next(iter(filters), "segment")
        from cxlib.data import duck

        if self.folder is not None and self.path("responses") is not None and not filters:
            cols = store.source_columns(self)
            if by not in cols:  # nothing to slice by: one partition-less read
                by = ""
        rel = store.responses(self, by=by, value=filters.pop(by, None))
        for col, val in filters.items():
            duck.check_column(rel, col, what="filter column")
            rel = rel.filter(store.equals(col, val))
        return rel

    responses = property(lambda self: self.table("responses"))
    customers = property(lambda self: self.table("customers"))
    orders = property(lambda self: self.table("orders"))
    contacts = property(lambda self: self.table("contacts"))
    employees = property(lambda self: self.table("employees"))
    innovations = property(lambda self: self.table("innovations"))
    payments = property(lambda self: self.table("payments"))
    relationships = property(lambda self: self.table("relationships"))
    pulse = property(lambda self: self.table("pulse"))


def world_dir(dataset: str | os.PathLike[str]) -> Path | None:
    """Folder of a generated world for a dataset name (None for mapped datasets)."""
    if str(dataset) in MAPPED:
        return None
    if str(dataset) == "sample":
        return Path(config.SAMPLE_DIR)
    return Path(dataset)


def load(dataset: str | os.PathLike[str] = "sample") -> World:
    """Open a dataset by name (``"sample"``, ``"airline"``) or world folder path."""
    name = str(dataset)
    if name in MAPPED:
        mapping, catalog = MAPPED[name]
        return World(name=name, folder=None, catalog_name=catalog, mapping=mapping)
    folder = world_dir(name)
    assert folder is not None
    if not folder.is_dir():
        from cxlib.data.check import suggest

        hint = "run `make sample`" if name == "sample" else (
            "a dataset is `sample`, the name of a mapping in data/mappings/ (draft one from "
            "a survey export with `cx map EXPORT --name NAME`), or a world folder made by "
            "`cx synth --out DIR`; `cx datasets` lists them")
        near = suggest(name) if name != "sample" else ""
        raise DataError(f"dataset {name!r} not found. {near + ' ' if near else ''}{hint}",
                        path=folder)
    from cxlib.data.readers import world_catalog

    return World(name=name, folder=folder, catalog_name=world_catalog(folder))


def store_main(argv: list[str] | None = None) -> int:
    """``cx store DATASET [--by COLUMN]``: build a dataset's partitioned store ahead of a batch."""
    import argparse

    from cxlib.data import store

    ap = argparse.ArgumentParser(prog="cx store", description="Build the partitioned processed "
                                 "store of a dataset's responses (cxlib.data.store).")
    ap.add_argument("dataset", help='"sample" or a world folder')
    ap.add_argument("--by", default="segment", help="partition column (default: segment)")
    args = ap.parse_args(argv)
    folder = store.ensure_store(load(args.dataset), args.by)
    parts = sorted(p.name for p in (folder / "responses").iterdir())
    print(f"{folder}: {len(parts)} partitions ({', '.join(parts[:8])}"
          f"{', ...' if len(parts) > 8 else ''})")
    return 0
