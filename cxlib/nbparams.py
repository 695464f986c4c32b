"""A notebook's ``parameters`` cell read as a declaration (pure: no data, no kernel).

Core layer, so that both the batch runner (:mod:`cxlib.run.params`, which
checks jobs against the declaration) and the report renderer
(:mod:`cxlib.share.render`, which names a report's dataset, segment and
period) read parameters cells with one parser. Every notebook has one cell
tagged ``parameters`` (papermill's convention) with one line per parameter::

    metric: str = "csat"  # one of csat | ces | overall: the metric to report

The type hint gives the type, the literal the default, and the comment the
help; a comment may declare allowed values (``one of A | B``, ``a value of
TABLE.COLUMN``, ``a column of TABLE``, ``catalog ids``), see
:mod:`cxlib.run.params`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from cxlib.errors import ParameterError

__all__ = ["Param", "executed_parameters", "parse_parameters_source"]

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
    """Parse the text of a parameters cell (see the module docstring).

    Raises
    ------
    cxlib.errors.ParameterError
        The cell is not valid Python, or a default is not a literal.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{where} is not valid Python ({exc}); fix the cell") from exc
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
            raise ParameterError(
                f"{where}: the default of {name!r} must be a literal "
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


def executed_parameters(nb: Any) -> dict[str, Any]:
    """The parameter values an executed notebook ran with.

    The defaults of its ``parameters`` cell, overridden by what papermill
    injected (its ``metadata.papermill.parameters``, else the
    ``injected-parameters`` cell). Cells that do not parse are skipped: a
    report is still rendered.
    """
    values: dict[str, Any] = {}
    for tag in ("parameters", "injected-parameters"):
        for cell in nb.cells:
            if cell.cell_type == "code" and tag in cell.get("metadata", {}).get("tags", []):
                try:
                    values.update({k: p.default for k, p in
                                   parse_parameters_source(cell.source).items()})
                except ParameterError:
                    continue
    values.update(nb.metadata.get("papermill", {}).get("parameters", {}) or {})
    return values
