"""DuckDB helpers: the one connection set-up, quoting, checked columns, Parquet reads.

Every module that talks to DuckDB goes through here, so that no SQL is ever built
by pasting an unchecked name or path into a string:

- :func:`connection` is the process-wide in-memory connection (all cores), made
  again after a fork (zygote kernels fork; a DuckDB connection must not cross a
  fork); :func:`connect` a new private one with the same settings.
- :func:`quote_ident` / :func:`quote_literal` quote a name / a value for SQL text.
- :func:`check_column` / :func:`check_columns` test names against a relation's real
  columns (a :class:`~cxlib.errors.DataError` with "did you mean" otherwise), so
  an identifier that reaches SQL is a real column, and quoted too.
- :func:`parquet_files` / :func:`read_parquet` read a file or a folder of parts
  given as a path; paths are passed as a list of files (bound values, no glob
  syntax, no quoting: a folder named ``Ankara'daki`` or ``data[1]`` is fine).
"""

from __future__ import annotations

import difflib
import math
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlib.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

__all__ = [
    "check_column",
    "check_columns",
    "connect",
    "connection",
    "parquet_files",
    "quote_ident",
    "quote_literal",
    "read_parquet",
    "relation_columns",
]

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"pid": None, "con": None}


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection using every core (close it when done).

    Returns
    -------
    duckdb.DuckDBPyConnection

    Example
    -------
    >>> con = connect()
    >>> con.execute("SELECT 1").fetchall()
    [(1,)]
    >>> con.close()
    """
    import duckdb

    return duckdb.connect(config={"threads": os.cpu_count() or 1})


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide in-memory connection (opened once per process; ~20 ms saved per call).

    A child process (a forked kernel) gets its own: the parent's connection is never
    used across a fork.
    """
    with _LOCK:
        if _STATE["con"] is None or _STATE["pid"] != os.getpid():
            _STATE["con"] = connect()
            _STATE["pid"] = os.getpid()
        return _STATE["con"]


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"a""b"`` for ``a"b``).

    Quoting makes any text one identifier; it does not make it a column that exists:
    check it first with :func:`check_column`.

    Example
    -------
    >>> quote_ident('segment')
    '"segment"'
    >>> quote_ident('x" FROM t; --')
    '"x"" FROM t; --"'
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise DataError(f"{name!r} is not a usable column name (an empty or non-text name, "
                        "or one holding a NUL character)", rule="column name")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """``value`` as a SQL literal: text quoted (``'Ankara''daki'``), numbers, NULL, booleans.

    Non-finite floats become typed literals (``CAST('nan' AS DOUBLE)``), never a bare
    word that SQL would read as a column name. Prefer bound parameters (``?``) where
    the SQL API allows them; this is for the places it does not (``VALUES`` tables).

    Example
    -------
    >>> quote_literal("Ankara'daki")
    "'Ankara''daki'"
    >>> quote_literal(3), quote_literal(None), quote_literal(float("inf"))
    ('3', 'NULL', "CAST('inf' AS DOUBLE)")
    """
    import numpy as np

    if value is None:
        return "NULL"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return repr(v) if math.isfinite(v) else f"CAST('{v!r}' AS DOUBLE)"
    text = str(value)
    if "\x00" in text:
        raise DataError(f"{text[:40]!r}... holds a NUL character, which SQL text cannot "
                        "carry; remove it from the value", rule="no NUL in text")
    return "'" + text.replace("'", "''") + "'"


def relation_columns(source: Any) -> list[str]:
    """Column names of a DuckDB relation, a DataFrame, or a list of names."""
    cols = getattr(source, "columns", source)
    return [str(c) for c in cols]


def check_column(source: Any, name: str, *, what: str = "column",
                 path: str | Path | None = None) -> str:
    """``name`` when ``source`` (a relation, a DataFrame or a list of names) has that column.

    Raises
    ------
    DataError
        Naming the column, the columns there are and the closest ones ("did you mean").

    Example
    -------
    >>> check_column(["segment", "region"], "segment")
    'segment'
    """
    cols = relation_columns(source)
    if isinstance(name, str) and name in cols:
        return name
    close = difflib.get_close_matches(str(name), cols, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(cols[:30]) + (", ..." if len(cols) > 30 else "")
    raise DataError(f"{what} {name!r} is not a column here{hint} Columns: {shown}. "
                    "Use one of them (names are case-sensitive)", path=path, column=str(name),
                    rule="column exists")


def check_columns(source: Any, names: Iterable[str], *, what: str = "column",
                  path: str | Path | None = None) -> list[str]:
    """:func:`check_column` for several names (the first missing one is reported)."""
    return [check_column(source, n, what=what, path=path) for n in names]


def parquet_files(path: str | Path) -> list[str]:
    """The Parquet files of a table: the file itself, or the parts under a folder (sorted).

    Raises
    ------
    DataError
        When the path is missing, or a folder holds no ``*.parquet`` file (a zero-row
        world written as an empty folder), instead of DuckDB's ``IO Error``.
    """
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet") if f.is_file())
        if not files:
            raise DataError("the folder holds no Parquet part (*.parquet): an empty table "
                            "(zero rows) or an unfinished copy. Regenerate the world "
                            "(`cx synth --out DIR`) or copy its parts again", path=p,
                            rule="at least one Parquet part")
        return files
    if not p.is_file():
        raise DataError("no such Parquet file or folder of parts", path=p, rule="file exists")
    return [str(p)]


def read_parquet(path: str | Path, *, con: duckdb.DuckDBPyConnection | None = None,
                 hive: bool = True, columns: Sequence[str] | None = None
                 ) -> duckdb.DuckDBPyRelation:
    """A lazy DuckDB relation over a Parquet file or folder of parts.

    Parameters
    ----------
    path
        A ``.parquet`` file or a folder of parts (``hive`` partition folders allowed).
    con
        The connection (default: :func:`connection`).
    hive
        Read ``key=value`` folder names as columns (as text: no type guessing).
    columns
        Keep only these columns (checked, with "did you mean").
    """
    import duckdb

    con = con if con is not None else connection()
    files = parquet_files(path)
    try:
        # the file list is a bound value (no path is pasted into SQL)
        rel = con.sql("SELECT * FROM read_parquet(?, hive_partitioning = ?, "
                      "hive_types_autocast = false)",
                      params=[files, bool(hive and Path(path).is_dir())])
    except duckdb.Error as exc:
        raise DataError(f"cannot read Parquet: {exc}. Is it a complete Parquet file "
                        "(re-export or regenerate it)?", path=path,
                        rule="readable Parquet") from exc
    if columns is not None:
        rel = rel.select(*[duckdb.ColumnExpression(c)
                           for c in check_columns(rel, columns, path=path)])
    return rel
