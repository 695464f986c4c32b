"""What notebooks load: a named dataset as validated tables plus its catalog.

``datasets.load("sample")``  the synthetic retail world in ``config.SAMPLE_DIR``
                             (every contract, plus the planted truth);
``datasets.load("airline")`` the real airline survey, long form via
                             ``data/mappings/airline.yml`` (responses only);
``datasets.load(PATH)``      a folder holding a generated world.

Tables load lazily on first access and are validated against their contract.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config
from cxlib.errors import DataError

__all__ = ["TABLES", "World", "load", "world_dir"]

#: Tables a world may hold (each a contract of cxlib.schemas).
TABLES = ("responses", "customers", "orders", "contacts", "employees", "innovations")
#: Real datasets loaded through a wide->long mapping: name -> (mapping, catalog).
MAPPED = {"airline": ("airline", "airline")}


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
        from cxlib.catalog import load_catalog

        return load_catalog(self.catalog_name)

    def table(self, name: str) -> pd.DataFrame | None:
        """Load (once) and return one table, or None when the dataset lacks it."""
        if name not in TABLES:
            raise DataError(f"unknown table {name!r}; one of {TABLES}")
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def _load(self, name: str) -> pd.DataFrame | None:
        from cxlib.loaders import read_table, validate

        if self.mapping is not None:
            if name != "responses":
                return None
            from cxlib.wide import load_mapped

            return load_mapped(self.mapping)
        assert self.folder is not None
        path = self.folder / f"{name}.parquet"
        if not path.exists() and (self.folder / name).is_dir():
            path = self.folder / name
        if not path.exists():
            return None
        return validate(read_table(path), name, path=path)

    @property
    def truth(self) -> dict[str, Any] | None:
        if self.folder is None or not (self.folder / "truth.json").exists():
            return None
        return json.loads((self.folder / "truth.json").read_text(encoding="utf-8"))

    def path(self, name: str) -> Path | None:
        """File (or folder of parts) of a table of a generated world."""
        if self.folder is None:
            return None
        for p in (self.folder / f"{name}.parquet", self.folder / name):
            if p.exists():
                return p
        return None

    responses = property(lambda self: self.table("responses"))
    customers = property(lambda self: self.table("customers"))
    orders = property(lambda self: self.table("orders"))
    contacts = property(lambda self: self.table("contacts"))
    employees = property(lambda self: self.table("employees"))
    innovations = property(lambda self: self.table("innovations"))


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
        hint = "run `make sample`" if name == "sample" else "generate it with `cx synth --out DIR`"
        raise DataError(f"dataset {name!r} not found: {hint}", path=folder)
    catalog = "retail"
    truth = folder / "truth.json"
    if truth.exists():
        catalog = json.loads(truth.read_text(encoding="utf-8")).get("catalog", catalog)
    return World(name=name, folder=folder, catalog_name=catalog)
