"""Read exports as they really come, and validate them against the data contracts.

Survey tools, CRMs and finance systems in Türkiye and Azerbaijan export CSV with
``;`` or tab delimiters, decimal commas, ``dd.mm.yyyy`` dates and legacy
encodings (cp1254, cp1251...).  :func:`read_table` reads CSV, Parquet (a file
or a folder of parts) and Excel; :func:`validate` checks a frame against a
contract of :mod:`cxlib.schemas` and turns every failure into one
:class:`~cxlib.errors.DataError` naming the file, column, rule and rows;
:func:`load` does both.

Raw files are only ever read: :func:`guard_write` refuses any write path under
``config.RAW_DIR`` and every writer in cxlib calls it.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config
from cxlib.errors import DataError

__all__ = ["detect_encoding", "guard_write", "load", "read_table", "validate"]

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ";,\t|"
_DAYFIRST_RE = re.compile(r"^\s*\d{1,2}[./]\d{1,2}[./]\d{4}")
_DECIMAL_COMMA_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")


def guard_write(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` if it is safe to write; refuse anything under ``data/raw``.

    Raises
    ------
    DataError
        When ``path`` lies under ``config.RAW_DIR`` (raw data is immutable).
    """
    p = Path(path).resolve()
    raw = Path(config.RAW_DIR).resolve()
    if p == raw or raw in p.parents:
        raise DataError(
            "refusing to write under data/raw: raw exports are immutable. "
            "Write derived data under data/processed (config.PROCESSED_DIR) instead.",
            path=p,
            rule="data/raw is read-only",
        )
    return p


def detect_encoding(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Guess a text file's encoding.

    Returns ``(encoding, note)``: ``note`` is None for UTF-8 (with or without
    BOM) and otherwise a message saying which legacy encoding was assumed and
    how to declare it.
    """
    raw = Path(path).read_bytes()[: 4 * _SNIFF_BYTES]
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", None
    try:
        raw.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError as exc:
        # a multi-byte char cut at the sniff boundary is still UTF-8
        if exc.start >= len(raw) - 3:
            return "utf-8", None
    enc = _best_legacy_encoding(raw)
    note = (
        f"{Path(path).name} is not UTF-8; read it as {enc!r} (detected). "
        f"If letters look wrong, declare the encoding: read_table(..., encoding='cp1254')."
    )
    return enc, note


#: Legacy code pages of our users' systems, in order of preference on ties.
LEGACY_ENCODINGS = ("cp1254", "cp1251", "iso8859_9", "cp1252", "cp1250")
_NATIVE = (
    set("çğıöşüəÇĞİÖŞÜƏâîûÂÎÛ")
    | {chr(c) for c in range(0x410, 0x450)}
    | set("ЁёҒғҺһӘәӨөҮүҸҹҚқ")
)


def _best_legacy_encoding(raw: bytes) -> str:
    """Pick the legacy code page under which the bytes read most like tr/az/ru text.

    Each candidate decoding scores +1 per letter of the Turkish, Azerbaijani or
    Cyrillic alphabets and -2 per other non-ASCII character (``Ţ``, ``ý``, ``đ``
    are what Turkish text looks like through the wrong code page). Detectors
    such as charset-normalizer guess poorly on short Turkish samples, which is
    why this small scorer exists.
    """
    best, best_score = LEGACY_ENCODINGS[0], float("-inf")
    for enc in LEGACY_ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        score = sum(1 if ch in _NATIVE else -2 for ch in text if ord(ch) > 127)
        if score > best_score:
            best, best_score = enc, score
    return best


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    dayfirst: bool | None = None,
    date_columns: list[str] | None = None,
    sheet_name: str | int = 0,
    index_col: int | None = None,
) -> pd.DataFrame:
    """Read a CSV, Parquet (file or folder of parts) or Excel export.

    Parameters
    ----------
    path
        The file (``.csv``/``.txt``/``.tsv``, ``.parquet``/folder, ``.xlsx``/``.xls``).
    encoding
        Text encoding of a CSV; detected when None (UTF-8 with or without BOM,
        else a legacy code page with a warning attached to ``df.attrs``).
    sep
        Delimiter; sniffed among ``; , TAB |`` when None.
    decimal
        Decimal mark; ``","`` is detected when numbers look like ``1.234,5``.
    dayfirst
        Parse dates as ``dd.mm.yyyy``; detected from the values when None.
    date_columns
        Columns to parse as dates (default: columns named ``date`` or ending in
        ``_date``).
    sheet_name, index_col
        Passed to pandas for Excel / CSV.

    Returns
    -------
    DataFrame
        Strings as pandas' ``str`` dtype, dates as ``datetime64[ns]``;
        ``df.attrs["source"]`` holds the path and ``df.attrs["notes"]`` what was
        detected.
    """
    p = Path(path)
    if not p.exists():
        raise DataError("file not found; check the path or the config", path=p)
    notes: list[str] = []
    suffix = p.suffix.lower()
    try:
        if p.is_dir() or suffix in {".parquet", ".pq"}:
            df = pd.read_parquet(p)
        elif suffix in {".xlsx", ".xlsm", ".xls"}:
            df = pd.read_excel(p, sheet_name=sheet_name)
        else:
            df = _read_csv(p, encoding, sep, decimal, index_col, notes)
    except DataError:
        raise
    except Exception as exc:  # parser errors: say which file and how to fix
        raise DataError(
            f"cannot read the file ({type(exc).__name__}: {exc}). Declare sep=, encoding= "
            "or decimal= if the export uses unusual settings.",
            path=p,
        ) from exc
    cols = date_columns if date_columns is not None else [
        c for c in df.columns if str(c) == "date" or str(c).endswith("_date")
    ]
    for col in cols:
        if col in df.columns:
            df[col] = _parse_dates(df[col], col=col, path=p, dayfirst=dayfirst, notes=notes)
    df.attrs["source"] = str(p)
    df.attrs["notes"] = notes
    return df


def _read_csv(
    p: Path,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    index_col: int | None,
    notes: list[str],
) -> pd.DataFrame:
    if encoding is None:
        encoding, note = detect_encoding(p)
        if note:
            notes.append(note)
    with open(p, encoding=encoding, errors="strict", newline="") as fh:
        head = fh.read(_SNIFF_BYTES)
    if sep is None:
        try:
            first = head.split("\n", 1)[0] + "\n"
            sep = csv.Sniffer().sniff(first, delimiters=_DELIMITERS).delimiter
        except csv.Error:
            counts = {d: head.split("\n", 1)[0].count(d) for d in _DELIMITERS}
            sep = max(counts, key=counts.get) if max(counts.values()) else ","
    if decimal is None:
        decimal = _guess_decimal(head, sep)
        if decimal == ",":
            notes.append(f"{p.name}: decimal comma detected")
    thousands = "." if decimal == "," else None
    # dates stay text here (a thousands separator "." would eat dd.mm.yyyy)
    header = next(csv.reader(io.StringIO(head.lstrip("\ufeff")), delimiter=sep), [])
    as_text = {c: "str" for c in header if c == "date" or c.endswith("_date")}
    return pd.read_csv(
        p, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
        index_col=index_col, dtype=as_text or None,
    )


def _guess_decimal(head: str, sep: str) -> str:
    if sep == ",":
        return "."
    rows = list(csv.reader(io.StringIO(head), delimiter=sep))[1:50]
    cells = [c.strip() for r in rows for c in r]
    comma = sum(bool(_DECIMAL_COMMA_RE.match(c)) for c in cells)
    dot = sum(bool(re.match(r"^-?\d+\.\d+$", c)) for c in cells)
    return "," if comma > dot else "."


def _parse_dates(
    s: pd.Series, *, col: str, path: Path, dayfirst: bool | None, notes: list[str]
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("datetime64[ns]")
    text = s.astype("str")
    if dayfirst is None:
        sample = text.dropna().head(200)
        dayfirst = bool(len(sample)) and bool(sample.str.match(_DAYFIRST_RE).mean() > 0.5)
        if dayfirst:
            notes.append(f"{path.name}: column {col!r} read as dd.mm.yyyy")
    fmt = None
    if dayfirst:
        sep = "." if text.dropna().head(1).str.contains(r"\.").any() else "/"
        fmt = f"%d{sep}%m{sep}%Y"
        text = text.str.slice(0, 10)
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = parsed.isna() & s.notna() & (text.str.strip() != "")
    if bad.any():
        raise DataError(
            "unreadable dates; use ISO yyyy-mm-dd or dd.mm.yyyy, or pass dayfirst=",
            path=path,
            column=col,
            rule="valid date" + (" (dd.mm.yyyy)" if dayfirst else ""),
            rows=[f"line {i + 2}: {v!r}" for i, v in s[bad].head(5).items()],
        )
    return parsed.astype("datetime64[ns]")


def validate(
    df: pd.DataFrame, contract: str, *, path: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Validate ``df`` against a contract of :mod:`cxlib.schemas`.

    Every broken rule is collected (pandera ``lazy=True``) and raised as ONE
    :class:`DataError` listing, per column and rule, up to five offending rows.
    Row numbers are file lines for CSV (header = line 1), else index labels.

    Returns
    -------
    DataFrame
        The validated frame, with dtypes coerced as the contract declares.
    """
    import pandera.errors as pe

    from cxlib.schemas import SCHEMAS

    if contract not in SCHEMAS:
        raise DataError(f"unknown contract {contract!r}; one of {sorted(SCHEMAS)}")
    src = path or df.attrs.get("source")
    try:
        out = SCHEMAS[contract].validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        raise _schema_error(exc, df, contract, src) from None
    out.attrs.update(df.attrs)
    return out


def _schema_error(exc: Any, df: pd.DataFrame, contract: str, src: Any) -> DataError:
    fc = exc.failure_cases
    is_csv = bool(src) and str(src).lower().endswith((".csv", ".txt", ".tsv"))
    lines: list[str] = []
    first_col = first_rule = None
    for (col, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        col_name = None if pd.isna(col) else str(col)
        if col_name in (contract, SCHEMAS_NAME_FALLBACK):
            col_name = None
        first_col = first_col or col_name
        first_rule = first_rule or str(check)
        rows = []
        for _, r in grp.head(5).iterrows():
            idx = r.get("index")
            if idx is None or pd.isna(idx):
                rows.append(f"value {r['failure_case']!r}")
                continue
            numeric = isinstance(idx, int | float)
            where = f"line {int(idx) + 2}" if is_csv and numeric else f"row {idx}"
            try:
                record = (
                    df.loc[idx].to_dict() if col_name is None else {col_name: df.loc[idx, col_name]}
                )
            except (KeyError, TypeError, ValueError):
                record = {col_name or "value": r["failure_case"]}
            rows.append(f"{where}: {record}")
        lines.append(
            f"column {col_name or '(table)'}: rule {check!s} broken in {len(grp)} row(s)"
            + "".join(f"\n    {x}" for x in rows)
        )
    message = (
        f"data does not meet the {contract!r} contract (cxlib/schemas.py); "
        "fix the export or the mapping, not the raw file:\n  " + "\n  ".join(lines)
    )
    return DataError(message, path=src, column=first_col, rule=first_rule)


SCHEMAS_NAME_FALLBACK = "DataFrameSchema"


def load(
    path: str | os.PathLike[str], contract: str = "responses", **read_opts: Any
) -> pd.DataFrame:
    """Read a file with :func:`read_table` and validate it against ``contract``."""
    return validate(read_table(path, **read_opts), contract, path=path)
