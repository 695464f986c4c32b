"""A notebook's ``parameters`` cell, read as a declaration, and jobs checked against it.

Every notebook has one cell tagged ``parameters`` (papermill's convention) with
one line per parameter::

    metric: str = "csat"  # one of csat | ces | overall: the metric to report
    segment_value: str = ""  # a value of responses.{segment_filter_column} ("" = everyone)
    drivers: str = "all"  # catalog ids, comma-separated: stages and/or touchpoints

The type hint gives the type, the literal the default, and the comment the
help. A comment may also declare the allowed values, in words an analyst
reads and a machine checks:

``one of A | B | C``
    static choices;
``a value of TABLE.COLUMN``
    a value present in the data (``COLUMN`` may name another parameter in
    braces, ``{segment_filter_column}``);
``a column of TABLE``
    a column name of that table;
``catalog ids``
    comma-separated stage or touchpoint ids of the catalog (or ``all``).

The default value is always accepted, and so is ``""`` for a data rule (an
empty filter or column means "not set"). A parameter named ``dataset`` must
name a dataset that exists (:func:`cxlib.data.datasets.load`). :func:`check_jobs` checks
every job of a batch **before any kernel starts**: unknown names, wrong types and values
outside the declared choices all come back in one :class:`ParameterError`
(papermill itself only warns about unknown names).
"""

from __future__ import annotations

import ast
import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cxlib.errors import CxError, ParameterError

__all__ = ["Param", "check_job", "check_jobs", "notebook_parameters"]

#: Parameters that the batch runner sets itself.
RESERVED = ("results_path",)

_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "dict": (dict,),
}
_ONE_OF = re.compile(r"\bone of\s+(.+?)(?=:\s|;|$)", re.IGNORECASE)
_VALUE_OF = re.compile(r"\ba value of\s+(\w+)\.(\{\w+\}|\w+)", re.IGNORECASE)
_COLUMN_OF = re.compile(r"\ba column of\s+(\w+)", re.IGNORECASE)
_CATALOG_IDS = re.compile(r"\bcatalog ids\b", re.IGNORECASE)


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    Attributes
    ----------
    name, type, default, help
        From ``name: type = default  # help``.
    choices
        Static choices (``one of ...``), or None.
    rule
        A data rule: ``("value_of", table, column)``, ``("column_of", table)``
        or ``("catalog_ids",)``; None when there is none.
    """

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    rule: tuple[str, ...] | None = None


def _parse_choices(text: str, type_: str) -> tuple[Any, ...]:
    out = []
    for raw in re.split(r"\s*\|\s*", text.strip().rstrip(".")):
        raw = raw.strip()
        if not raw:
            continue
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        if type_ == "str":
            value = str(value)
        out.append(value)
    return tuple(out)


def _rule(comment: str) -> tuple[str, ...] | None:
    if m := _VALUE_OF.search(comment):
        return ("value_of", m.group(1), m.group(2))
    if m := _COLUMN_OF.search(comment):
        return ("column_of", m.group(1))
    if _CATALOG_IDS.search(comment):
        return ("catalog_ids",)
    return None


def parse_parameters_source(source: str, *, where: str = "parameters cell") -> dict[str, Param]:
    """Parse the text of a parameters cell (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CxError(f"{where} is not valid Python ({exc}); fix the cell") from exc
    lines = source.splitlines()
    params: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            type_ = ast.unparse(node.annotation)
            name = node.target.id
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            type_, name = "", node.targets[0].id
        else:
            continue
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError as exc:
            raise CxError(f"{where}: the default of {name!r} must be a literal "
                          f"(a number, string, list...), not {ast.unparse(node.value)!r}") from exc
        if not type_:
            type_ = type(default).__name__
        tail = lines[node.end_lineno - 1][node.end_col_offset:]
        comment = tail.split("#", 1)[1].strip() if "#" in tail else ""
        m = _ONE_OF.search(comment)
        params[name] = Param(name=name, type=type_, default=default, help=comment,
                             choices=_parse_choices(m.group(1), type_) if m else None,
                             rule=_rule(comment))
    return params


@lru_cache(maxsize=64)
def _parameters_cached(path: str, mtime: float) -> dict[str, Param]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise CxError(f"{path} has {len(cells)} cells tagged 'parameters'; a notebook needs "
                      "exactly one (cell metadata tags: ['parameters'])")
    return parse_parameters_source(cells[0].source, where=f"{path} parameters cell")


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, Param]:
    """The declared parameters of a notebook, in cell order."""
    p = Path(path)
    if not p.exists():
        raise CxError(f"notebook {p} not found")
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

            self._cache[key] = datasets.load(dataset)
        return self._cache[key]

    def columns(self, dataset: str, table: str) -> list[str]:
        key = ("columns", dataset, table)
        if key not in self._cache:
            world = self.world(dataset)
            path = world.path(table) if hasattr(world, "path") else None
            if path is not None:
                import pyarrow.dataset as ds

                cols = list(ds.dataset(str(path), format="parquet",
                                       partitioning="hive").schema.names)
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
                import duckdb

                src = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
                con = duckdb.connect()
                try:
                    rows = con.execute(
                        f'SELECT DISTINCT "{column}" FROM read_parquet(?, hive_partitioning=true)',
                        [src]).fetchall()
                finally:
                    con.close()
                vals = {r[0] for r in rows}
            else:
                frame = world.table(table)
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
                            f"{value!r}")
            continue
        if value == p.default:
            continue
        if p.choices is not None and value not in p.choices:
            problems.append(f"{label}: {name}={value!r} is not one of {_show(p.choices)}")
    if problems:
        return problems
    if "dataset" in parameters and "dataset" in declared:
        try:
            facts.world(str(parameters["dataset"]))
        except CxError as exc:
            return [f"{label}: dataset={parameters['dataset']!r}: {exc}"]
    values = {n: p.default for n, p in declared.items()} | parameters
    for name, p in declared.items():
        if (p.rule is None or name not in parameters or parameters[name] == p.default
                or parameters[name] == ""):
            continue
        try:
            problems.extend(_check_rule(p, parameters[name], values, facts, label))
        except CxError as exc:
            problems.append(f"{label}: cannot check {name}={value!r}: {exc}")
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
