"""Validate frames against the data contracts, and touchpoint ids against the catalog.

:func:`validate` checks a frame against a contract of :mod:`cxlib.data.schemas` and
turns every failure into one :class:`~cxlib.errors.DataError` naming the file,
column, rule and rows; :func:`check_touchpoints` checks ids against a catalog;
:func:`load` reads a file (:func:`cxlib.data.readers.read_table`) and validates it.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

import numpy as np
import pandas as pd

from cxlib.data.readers import DECIMAL_COMMA_RE, file_line, read_table, row_locator
from cxlib.errors import DataError

__all__ = ["check_touchpoints", "load", "validate"]


# ------------------------------------------------------------------ validation
def validate(
    df: pd.DataFrame, contract: str, *, path: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Validate ``df`` against a contract of :mod:`cxlib.data.schemas`.

    Every broken rule is collected (pandera ``lazy=True``) and raised as ONE
    :class:`DataError` listing, per rule, the columns it reads and up to five
    offending rows.  A table-level rule (``score`` within its scale, unique
    response key...) is one entry per rule naming its own columns (not one per
    column of the table).  Row numbers are file lines for a CSV read by
    :func:`read_table` (header = line 1), else index labels.  The error's
    ``column``, ``rule`` and ``rows`` are those of the first entry.

    Returns
    -------
    DataFrame
        The validated frame, with dtypes coerced as the contract declares.
    """
    import pandera.errors as pe

    from cxlib.data.schemas import SCHEMAS

    if contract not in SCHEMAS:
        raise DataError(f"unknown contract {contract!r}; one of {sorted(SCHEMAS)}")
    src = path or df.attrs.get("source")
    df = _before_coercion(df, SCHEMAS[contract], contract, src)
    try:
        out = SCHEMAS[contract].validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        raise _schema_error(exc, df, contract, src) from None
    out.attrs.update(df.attrs)
    return out


def _before_coercion(df: pd.DataFrame, schema: Any, contract: str, src: Any) -> pd.DataFrame:
    """What coercion would get silently wrong, checked on the values as they came.

    - a whole-number column (``scale_min``...) holding ``1.9`` would be truncated to 1;
    - a number column holding ``inf`` (``weight = inf``) would pass ``> 0``;
    - an optional text column left all blank (``comment``) is read as numbers (all
      missing) and is turned into an all-missing text column, not refused.
    """
    where = row_locator(df)
    problems: list[tuple[str, str, list[str]]] = []
    fixed: dict[str, pd.Series] = {}
    for name, col in schema.columns.items():
        if name not in df.columns or isinstance(df[name], pd.DataFrame):
            continue
        s = df[name]
        kind = str(col.dtype)
        if kind.startswith(("str", "string")):
            if len(s) and s.isna().all() and not pd.api.types.is_string_dtype(s):
                fixed[name] = s.astype("str")
            continue
        if not kind.startswith(("int", "float")):
            continue
        num = (s if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
               else pd.to_numeric(s, errors="coerce"))
        num = num.astype("float64")
        finite = np.isfinite(num.to_numpy())
        inf = num.notna().to_numpy() & ~finite
        if inf.any():
            problems.append((name, "finite number (not inf)",
                             [f"{where(i)}: {{{name!r}: {s.iloc[i]!r}}}"
                              for i in np.flatnonzero(inf)[:5]]))
        if kind.startswith("int"):
            frac = finite & (num.to_numpy() != np.floor(np.where(finite, num.to_numpy(), 0)))
            if frac.any():
                problems.append((name, "whole number (would be truncated)",
                                 [f"{where(i)}: {{{name!r}: {s.iloc[i]!r}}}"
                                  for i in np.flatnonzero(frac)[:5]]))
    if problems:
        lines = [f"column {c}: rule {r!r} broken" + "".join(f"\n    {x}" for x in rows)
                 for c, r, rows in problems]
        err = DataError(
            f"data does not meet the {contract!r} contract (cxlib/data/schemas.py): values "
            "that reading would change silently. Fix the export or the mapping, not the "
            "raw file (a scale bound is a whole number such as 1 or 5; a weight is a "
            "finite positive number):\n  " + "\n  ".join(lines),
            path=src, column=problems[0][0], rule=problems[0][1])
        err.rows = list(problems[0][2])
        raise err
    if fixed:
        df = df.assign(**fixed)
    return df


def _schema_error(exc: Any, df: pd.DataFrame, contract: str, src: Any) -> DataError:
    from cxlib.data.schemas import METRIC_SCALES, SCHEMAS, TABLE_CHECK_COLUMNS

    fc = exc.failure_cases.copy()
    offset = df.attrs.get("line_offset")
    label = df.attrs.get("row_label", "line")
    same_source = src is None or df.attrs.get("source") in (None, str(src))
    schema = SCHEMAS[contract]

    def where(idx: Any) -> str:
        if offset is not None and same_source and isinstance(idx, int | np.integer):
            return f"{label} {file_line(df.attrs, int(idx))}"
        return f"row {idx}"

    def record(idx: Any, cols: list[str]) -> dict[str, Any]:
        try:
            row = df.loc[idx]
        except (KeyError, TypeError, ValueError):
            return {}
        if isinstance(row, pd.DataFrame):  # duplicated index labels
            row = row.iloc[0]
        return {c: _plain(row[c]) for c in cols if c in row.index}

    entries: list[dict[str, Any]] = []
    table = fc["schema_context"].astype(str) == "DataFrameSchema"
    # column-level rules: one entry per (column, rule)
    coerce_failed = set()
    for (col, check), grp in fc[~table].groupby(["column", "check"], sort=False, dropna=False):
        col, check = str(col), str(check)
        if check.startswith("coerce_dtype("):
            coerce_failed.add(col)
        idx = [i for i in grp["index"].tolist() if i is not None and not pd.isna(i)]
        values = grp["failure_case"].tolist()
        shown = ([f"{where(i)}: {{{col!r}: {_plain(v)!r}}}" for i, v in zip(idx, values,
                                                                             strict=False)]
                 if idx else [f"value {v!r}" for v in values])
        hint = _column_hint(col, check, values, METRIC_SCALES)
        entries.append({"columns": [col], "rule": check, "n": len(grp), "rows": shown[:5],
                        "hint": hint})
    entries = [e for e in entries if not (e["rule"].startswith("dtype(")
                                          and e["columns"][0] in coerce_failed)]
    # table-level rules: one entry per rule, merged over the columns pandera repeats
    tab_entries: list[dict[str, Any]] = []
    for check, grp in fc[table].groupby("check", sort=False, dropna=False):
        check = str(check)
        if check == "column_in_dataframe":
            for missing in grp["failure_case"].tolist():
                tab_entries.append({"columns": [str(missing)], "rule": check, "n": 0,
                                    "rows": [], "hint": f"the contract requires column "
                                                        f"{missing!r}; the data has "
                                                        f"{list(df.columns)[:20]}"})
            continue
        reported = [str(c) for c in pd.unique(grp["column"]) if str(c) != contract]
        if check == "multiple_fields_uniqueness":
            cols = [str(c) for c in (schema.unique or reported)]
            rule = f"unique ({', '.join(cols)})"
        else:
            cols = list(TABLE_CHECK_COLUMNS.get(check, reported))
            rule = check
        idx = [i for i in pd.unique(grp["index"]) if i is not None and not pd.isna(i)]
        if idx:
            shown = [f"{where(i)}: {record(i, cols)}" for i in idx[:5]]
        else:  # the check itself could not run
            shown = [f"value {v!r}" for v in pd.unique(grp["failure_case"])[:5]]
        tab_entries.append({"columns": cols, "rule": rule, "n": len(idx) or len(grp),
                            "rows": shown, "hint": ""})
    entries = [e for e in tab_entries if e["rule"] == "column_in_dataframe"] + entries + [
        e for e in tab_entries if e["rule"] != "column_in_dataframe"]
    lines = []
    for e in entries:
        which = ("column " if len(e["columns"]) == 1 else "columns ") + ", ".join(e["columns"])
        head = (f"{which}: missing" if e["rule"] == "column_in_dataframe"
                else f"{which}: rule {e['rule']!r} broken in {e['n']} row(s)")
        body = "".join(f"\n    {x}" for x in e["rows"])
        lines.append(head + (f" ({e['hint']})" if e["hint"] else "") + body)
    message = (
        f"data does not meet the {contract!r} contract (cxlib/schemas.py); "
        "fix the export or the mapping, not the raw file:\n  " + "\n  ".join(lines)
    )
    first = entries[0] if entries else {"columns": [None], "rule": None, "rows": []}
    err = DataError(message, path=src, column=first["columns"][0], rule=first["rule"])
    err.rows = list(first["rows"])  # already in the message; kept for callers and tests
    return err


def _column_hint(col: str, check: str, values: list[Any],
                 metric_scales: dict[str, Any]) -> str:
    if check.startswith(("coerce_dtype('float", "coerce_dtype('int")) and any(
            isinstance(v, str) and DECIMAL_COMMA_RE.match(v.strip()) for v in values):
        return "numbers with a decimal comma: read the file with decimal=','"
    if col == "metric" and check.startswith("isin("):
        close = {str(v): difflib.get_close_matches(str(v), list(metric_scales), n=1)
                 for v in values[:5]}
        sugg = [f"{v!r} -> {c[0]!r}?" for v, c in close.items() if c]
        return f"metrics are {list(metric_scales)}" + (f"; did you mean {', '.join(sugg)}"
                                                        if sugg else "")
    return ""


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v.date()) if v == v.normalize() else str(v)
    return v


def check_touchpoints(
    df: pd.DataFrame,
    catalog: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    column: str = "touchpoint_id",
    allow_journey: bool = True,
) -> pd.DataFrame:
    """Check that every ``touchpoint_id`` is a touchpoint of ``catalog`` (or ``"journey"``).

    Parameters
    ----------
    df
        Responses (or contacts) with a touchpoint column; missing ids are allowed.
    catalog
        A :class:`cxlib.data.catalog.Catalog`.
    path
        The file the table came from, for the message.
    column
        The touchpoint column.
    allow_journey
        Accept the reserved ``"journey"`` (whole-journey questions).

    Returns
    -------
    DataFrame
        ``df`` unchanged.

    Raises
    ------
    DataError
        Naming the file, the column, the rule (with the catalog's file), each
        unknown id with its count and closest catalog id, and up to five rows.
    """
    if column not in df.columns:
        return df
    from cxlib.data.catalog import JOURNEY_ID

    known = set(catalog.ids) | ({JOURNEY_ID} if allow_journey else set())
    s = df[column]
    uniq = pd.unique(s.dropna())
    unknown = sorted({str(u) for u in uniq} - known)
    if not unknown:
        return df
    bad = s.isin(unknown).to_numpy()
    counts = s[bad].value_counts()
    desc = []
    for u in unknown[:10]:
        close = difflib.get_close_matches(u, sorted(known), n=1)
        desc.append(f"{u!r} ({int(counts.get(u, 0))} rows"
                    + (f", did you mean {close[0]!r}?)" if close else ")"))
    where = row_locator(df)
    idx = np.flatnonzero(bad)
    raise DataError(
        f"{len(unknown)} touchpoint id(s) are not in catalog {catalog.catalog_id!r}: "
        f"{', '.join(desc)}. Fix the ids in the export or mapping, or add them to "
        f"{catalog.path}",
        path=path or df.attrs.get("source"), column=column,
        rule=f"touchpoint id in catalog {catalog.catalog_id!r}",
        rows=[f"{where(i)}: {s.iloc[i]!r}" for i in idx[:5]],
    )


def load(
    path: str | os.PathLike[str], contract: str = "responses", **read_opts: Any
) -> pd.DataFrame:
    """Read a file with :func:`read_table` and validate it against ``contract``."""
    return validate(read_table(path, **read_opts), contract, path=path)
