"""A notebook's ``parameters`` cell, read as a declaration, and jobs checked against it.

Every notebook has one cell tagged ``parameters`` (papermill's convention) with
one line per parameter::

    metric: str = "csat"  # one of csat | ces | overall: the metric to report
    filter_value: str = ""  # a value of responses.{filter_column} ("" = everyone)
    drivers: str = "all"  # catalog ids, comma-separated: stages and/or touchpoints

The type hint gives the type, the literal the default, and the comment the
help. A comment may also declare the allowed values, in words an analyst
reads and a machine checks:

``one of A | B | C``
    static choices;
``a value of TABLE.COLUMN``
    a value present in the data (``COLUMN`` may name another parameter in
    braces, ``{filter_column}``);
``a column of TABLE``
    a column name of that table;
``catalog ids``
    comma-separated stage or touchpoint ids of the catalog (or ``all``).

The default value is always accepted, and so is ``""`` for a data rule (an
empty filter or column means "not set"). A parameter named ``dataset`` must
name a dataset that exists (:func:`cxlib.data.datasets.load`); a folder must be
a world (it holds a responses table), not any folder. Columns and values are
read through :mod:`cxlib.data.duck`: a column is checked against the table's
real columns and never formatted into SQL. :func:`check_jobs` checks
every job of a batch **before any kernel starts**: unknown names, wrong types and values
outside the declared choices all come back in one :class:`ParameterError`
(papermill itself only warns about unknown names).
"""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cxlib.errors import CxError, DataError, ParameterError
from cxlib.nbparams import Param, parse_parameters_source

__all__ = ["Param", "check_job", "check_jobs", "notebook_parameters"]

#: Parameters that the batch runner sets itself.
RESERVED = ("results_path",)

_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "dict": (dict,),
}
# the parameters-cell parser (Param, parse_parameters_source) lives in the core layer,
# cxlib.nbparams, shared with the report renderer


@lru_cache(maxsize=64)
def _parameters_cached(path: str, mtime: float) -> dict[str, Param]:
    import nbformat

    try:
        nb = nbformat.reads(Path(path).read_bytes().decode("utf-8"), as_version=4)
    except Exception:  # a third-party parser on untrusted bytes; never quote them
        raise ParameterError([f"{path} is not a Jupyter notebook (nbformat JSON); open and "
                              "save it in JupyterLab"]) from None
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError([f"{path} has {len(cells)} cells tagged 'parameters'; a notebook "
                              "needs exactly one (cell metadata tags: ['parameters'])"])
    return parse_parameters_source(cells[0].source, where=f"{path} parameters cell")


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, Param]:
    """The declared parameters of a notebook, in cell order."""
    p = Path(path)
    if p.suffix.lower() != ".ipynb" or not p.is_file():
        raise ParameterError([f"notebook {p} not found, or not a .ipynb file"])
    return _parameters_cached(str(p.resolve()), p.stat().st_mtime)


def _type_ok(value: Any, type_: str) -> bool:
    base = type_.split("[", 1)[0].strip()
    if "|" in type_:
        return any(_type_ok(value, t.strip()) for t in type_.split("|"))
    if base == "None":
        return value is None
    allowed = _TYPES.get(base)
    if allowed is None:
        return True  # a type we do not know: papermill will pass it as is
    if isinstance(value, bool) and base != "bool":
        return False
    return isinstance(value, allowed)


class DataFacts:
    """What the data of a dataset allows (columns, values, catalog ids), read once.

    Reads only what a rule asks for: column names from Parquet metadata and
    distinct values with DuckDB, so checking a batch over a 10-million-row
    store costs a fraction of a second.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Any] = {}

    def world(self, dataset: str) -> Any:
        key = ("world", dataset)
        if key not in self._cache:
            from cxlib.data import datasets

            try:
                world = datasets.load(dataset)
            except (OSError, ValueError) as exc:  # e.g. an unreadable truth.json
                raise DataError(f"dataset {dataset!r} cannot be opened: {exc}",
                                path=str(dataset), rule="readable dataset") from None
            if world.folder is not None and world.path("responses") is None:
                raise DataError(
                    f"dataset {dataset!r} is not a world folder: it has no responses table "
                    "(responses.parquet or a responses/ folder of parts). Name 'sample', a "
                    "mapped dataset, or a folder written by `cx synth --out DIR`",
                    path=str(world.folder), rule="a world folder")
            self._cache[key] = world
        return self._cache[key]

    def columns(self, dataset: str, table: str) -> list[str]:
        key = ("columns", dataset, table)
        if key not in self._cache:
            world = self.world(dataset)
            path = world.path(table) if hasattr(world, "path") else None
            if path is not None:
                from cxlib.data import duck

                cols = list(duck.read_parquet(path).columns)
            else:
                frame = world.table(table)
                cols = [] if frame is None else list(frame.columns)
            self._cache[key] = cols
        return self._cache[key]

    def values(self, dataset: str, table: str, column: str) -> set[Any]:
        key = ("values", dataset, table, column)
        if key not in self._cache:
            world = self.world(dataset)
            path = world.path(table) if hasattr(world, "path") else None
            if path is not None:
                from cxlib.data import duck

                # the column is checked against the table's real columns and passed as
                # an expression (duck.read_parquet), never formatted into SQL text
                rows = duck.read_parquet(path, columns=[column]).distinct().fetchall()
                vals = {r[0] for r in rows}
            else:
                from cxlib.data import duck

                frame = world.table(table)
                if frame is not None:
                    duck.check_column(frame, column, what=f"{table} column")
                vals = set() if frame is None else set(frame[column].dropna().unique())
            self._cache[key] = {v for v in vals if v is not None}
        return self._cache[key]

    def catalog_ids(self, dataset: str, catalog: str | None) -> tuple[set[str], set[str]]:
        key = ("catalog", dataset, catalog)
        if key not in self._cache:
            from cxlib.data.catalog import load_catalog

            cat = load_catalog(catalog) if catalog else self.world(dataset).catalog
            frame = cat.frame
            self._cache[key] = (set(frame["stage"]), set(frame["touchpoint_id"]))
        return self._cache[key]


def _show(values: Any, limit: int = 12) -> str:
    vals = sorted(values, key=str)
    more = f", ... ({len(vals)} in all)" if len(vals) > limit else ""
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals[:limit]) + more


def check_job(notebook: str | os.PathLike[str], parameters: dict[str, Any], *,
              facts: DataFacts | None = None, label: str | None = None) -> list[str]:
    """Problems with one job's parameters (an empty list when it is fine)."""
    label = label or Path(notebook).stem
    try:
        declared = notebook_parameters(notebook)
    except ParameterError as exc:
        return [f"{label}: {p}" for p in exc.problems]
    except CxError as exc:
        return [f"{label}: {exc}"]
    facts = facts or DataFacts()
    problems: list[str] = []
    for name, value in parameters.items():
        if name in RESERVED:
            problems.append(f"{label}: {name!r} is set by the batch runner; remove it")
            continue
        if name not in declared:
            near = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(f"{label}: unknown parameter {name!r}{hint}; "
                            f"the notebook declares {', '.join(declared)}")
            continue
        p = declared[name]
        if not _type_ok(value, p.type):
            problems.append(f"{label}: {name} must be {p.type}, got {type(value).__name__} "
                            f"{value!r:.80}")
            continue
        if value == p.default:
            continue
        if p.choices is not None and value not in p.choices:
            problems.append(f"{label}: {name}={value!r:.80} is not one of {_show(p.choices)}")
    if problems:
        return problems
    if "dataset" in declared:  # as the kernel will see it: relative to the notebook's folder
        from cxlib.data.check import preflight, resolve_dataset

        nb_dir = Path(notebook).parent
        if "dataset" in parameters:
            parameters = {**parameters, "dataset": resolve_dataset(
                str(parameters["dataset"]), cwd=nb_dir)}
    if "dataset" in parameters and "dataset" in declared:
        try:
            facts.world(str(parameters["dataset"]))
        except CxError as exc:
            return [f"{label}: dataset={parameters['dataset']!r}: {exc}"]
    if "dataset" in declared:  # data files present, catalog covering the data's ids
        job = {n: p.default for n, p in declared.items()} | parameters
        key = ("preflight", str(job["dataset"]), str(job.get("catalog", "") or ""))
        if key not in facts._cache:
            facts._cache[key] = preflight(str(job["dataset"]), catalog=key[2], cwd=nb_dir)
        if facts._cache[key]:
            return [f"{label}: {p}" for p in facts._cache[key]]
    values = {n: p.default for n, p in declared.items()} | parameters
    for name, p in declared.items():
        if (p.rule is None or name not in parameters or parameters[name] == p.default
                or parameters[name] == ""):
            continue
        try:
            problems.extend(_check_rule(p, parameters[name], values, facts, label))
        except CxError as exc:
            problems.append(f"{label}: cannot check {name}={parameters[name]!r:.80}: {exc}")
    return problems


def _check_rule(p: Param, value: Any, values: dict[str, Any], facts: DataFacts,
                label: str) -> list[str]:
    dataset = str(values.get("dataset", "sample"))
    kind = p.rule[0] if p.rule else ""
    if kind == "value_of":
        table, column = p.rule[1], p.rule[2]
        if column.startswith("{"):
            column = str(values.get(column.strip("{}"), ""))
        if column not in facts.columns(dataset, table):
            return [f"{label}: {p.name}={value!r} filters on {table}.{column}, which dataset "
                    f"{dataset!r} does not have"]
        allowed = facts.values(dataset, table, column)
        if value not in allowed and str(value) not in {str(v) for v in allowed}:
            return [f"{label}: {p.name}={value!r} is not a value of {table}.{column} in dataset "
                    f"{dataset!r}; values present: {_show(allowed)}"]
    elif kind == "column_of":
        cols = facts.columns(dataset, p.rule[1])
        if value not in cols:
            return [f"{label}: {p.name}={value!r} is not a column of {p.rule[1]} in dataset "
                    f"{dataset!r}; columns: {_show(cols)}"]
    elif kind == "catalog_ids":
        stages, tps = facts.catalog_ids(dataset, str(values.get("catalog", "")) or None)
        items = [x.strip() for x in str(value).split(",") if x.strip()]
        bad = [x for x in items if x != "all" and x not in stages and x not in tps]
        if bad:
            return [f"{label}: {p.name} has ids that are neither 'all', a stage nor a touchpoint "
                    f"of the catalog: {_show(bad)}; stages: {_show(stages)}"]
    return []


def check_jobs(jobs: list[tuple[str, str | os.PathLike[str], dict[str, Any]]], *,
               source: str | None = None) -> None:
    """Check every ``(label, notebook, parameters)``; raise one ParameterError listing all."""
    facts = DataFacts()
    problems: list[str] = []
    for label, notebook, parameters in jobs:
        problems.extend(check_job(notebook, parameters, facts=facts, label=label))
    if problems:
        raise ParameterError(problems, source=source)
