"""Read exports as they really come: CSV (encodings, delimiters, decimal marks), Parquet, Excel.

Survey tools, CRMs and finance systems in Türkiye and Azerbaijan export CSV with
``;`` or tab delimiters, decimal commas, ``dd.mm.yyyy`` dates and legacy
encodings (cp1254, cp1251...), sometimes UTF-16 ("Unicode text" from Excel).
:func:`read_table` reads CSV, Parquet (a file or a folder of parts) and Excel, and
:func:`parse_dates` one column of text dates. Validation against the contracts is
:mod:`cxlib.data.validate`.

What is guessed is said: an encoding guessed from the bytes is a warning
(:class:`~cxlib.data.encodings.EncodingGuessWarning`) and a note in
``df.attrs["notes"]``; what cannot be guessed safely is an error saying what to
declare: a declared encoding the bytes contradict, a decimal comma inside a
comma-delimited file, a date column mixing formats, slash dates such as
``03/05/2024`` that read both ways.

Raw files are only ever read: :func:`cxlib.io.guard_write` refuses any write path under
``config.RAW_DIR`` and every writer in cxlib calls it.
"""

from __future__ import annotations

import bisect
import csv
import io
import os
import re
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlib.data.encodings import (
    SNIFF_BYTES,
    EncodingGuessWarning,
    check_declared_encoding,
    decode_error,
    detect_encoding,
)
from cxlib.errors import DataError

__all__ = [
    "DECIMAL_COMMA_RE", "file_line", "parse_dates", "read_table", "read_truth", "row_locator",
    "world_catalog",
]

_DELIMITERS = ";,\t|"
_DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
DECIMAL_COMMA_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_NUMBER_COMMA_RE = re.compile(r"^-?\d+(,\d+)?$")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


# ------------------------------------------------------------------ reading
def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    date_columns: list[str] | None = None,
    sheet_name: str | int | None = None,
    index_col: int | None = None,
    keep_na_text: bool = False,
) -> pd.DataFrame:
    """Read a CSV, Parquet (file or folder of parts) or Excel export.

    Parameters
    ----------
    path
        The file (``.csv``/``.txt``/``.tsv``, ``.parquet``/folder, ``.xlsx``/``.xls``).
    encoding
        Text encoding of a CSV.  When None it is detected: a byte-order mark
        (UTF-8, UTF-16, UTF-32) or valid UTF-8 is certain; otherwise the guess
        (UTF-16 without a mark, or a legacy code page) is announced with an
        :class:`EncodingGuessWarning` naming it and how to declare it.  A
        declared encoding the bytes contradict is a :class:`DataError`
        suggesting the encoding the bytes look like.
    sep
        Delimiter; sniffed among ``; , TAB |`` when None.  A declared delimiter
        that leaves the header in one column while another delimiter appears in
        it is an error suggesting that one.
    decimal
        Decimal mark.  ``","`` is detected when a ``;``/tab file's numbers look
        like ``1.234,5``; in a comma-delimited file, quoted ``"4,5"`` numbers
        are an error asking for ``decimal=","`` (they cannot be told apart from
        text otherwise).
    dayfirst
        For ``03/05/2024``-style dates: True reads dd/mm/yyyy, False mm/dd/yyyy.
        When None, slash dates are read only if every value settles the order
        (a part above 12, or day = month); otherwise an error lists the
        ambiguous values.  ``dd.mm.yyyy`` (dots) is read day first unless
        ``dayfirst=False``.
    date_format
        A strftime format for every date column (``"%d/%m/%Y"``), or
        ``"mixed"`` to accept a column mixing formats (each value parsed on its
        own, slash dates by ``dayfirst``).
    date_columns
        Columns to parse as dates (default: columns named ``date`` or ending in
        ``_date``).
    sheet_name
        The sheet of a workbook to read (name or 0-based position). When None, the
        workbook must have one sheet: with several, which one is meant cannot be
        guessed, and the error lists them.
    index_col
        Passed to pandas for a CSV.
    keep_na_text
        Keep text such as ``N/A``, ``NA``, ``null`` in a CSV or workbook as text (only empty
        fields are missing), instead of pandas' default of reading them as
        missing; survey exports (:mod:`cxlib.data.exports`) use it so that such
        answers are counted as what they are, not as blanks.

    Returns
    -------
    DataFrame
        Strings as pandas' ``str`` dtype, dates as ``datetime64[ns]``;
        ``df.attrs["source"]`` holds the path, ``df.attrs["notes"]`` what was
        detected, and for CSV without ``index_col`` ``df.attrs["line_offset"]``
        = 2 (row ``i`` is file line ``i + 2``, header = line 1); when quoted values
        span lines or blank lines are skipped, ``df.attrs["line_shifts"]`` holds
        ``[[row, extra_lines], ...]`` from each row on (:func:`file_line`).

    Raises
    ------
    DataError
        For anything that cannot be read as a table, naming the file and how to fix
        it: not a regular file (a FIFO, a device such as ``/dev/zero``: never read),
        an empty or blank file, a repeated column name, a workbook with several
        sheets and no ``sheet_name``, an undetectable or mixed encoding, a parser
        error (with the file line).
    """
    p = Path(path)
    _require_regular(p)
    notes: list[str] = []
    suffix = p.suffix.lower()
    excel = suffix in {".xlsx", ".xlsm", ".xls"}
    parquet = p.is_dir() or suffix in {".parquet", ".pq"}
    try:
        if parquet:
            if p.is_dir():
                from cxlib.data.duck import parquet_files

                parquet_files(p)  # an empty folder of parts is said so, not a parser error
            df = pd.read_parquet(p)
        elif excel:
            df = _read_excel(p, sheet_name, notes, keep_na_text)
        else:
            df = _read_csv(p, encoding, sep, decimal, index_col, notes, keep_na_text)
    except DataError:
        raise
    except Exception as exc:  # parser errors: say which file and how to fix
        how = ("Is it a complete Parquet file (copy or export it again)?" if parquet
               else "Is it a complete workbook (open and save it again)?" if excel
               else "Declare sep=, encoding= or decimal= if the export uses unusual settings.")
        raise DataError(f"cannot read the file ({type(exc).__name__}: {exc}). {how}",
                        path=p, rule="readable table") from exc
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        df.attrs["row_label"] = "sheet row"
        df.attrs["line_offset"] = 2
    cols = date_columns if date_columns is not None else [
        c for c in df.columns if str(c) == "date" or str(c).endswith("_date")
    ]
    where = row_locator(df)
    for col in cols:
        if col in df.columns:
            df[col] = _parse_dates(df[col], col=col, path=p, dayfirst=dayfirst,
                                   date_format=date_format, notes=notes, where=where)
    df.attrs["source"] = str(p)
    df.attrs["notes"] = notes
    return df


def row_locator(df: pd.DataFrame) -> Any:
    """Function: positional row -> 'line N' (CSV), 'sheet row N' (Excel) or 'row <label>'."""
    offset = df.attrs.get("line_offset")
    label = df.attrs.get("row_label", "line")
    index = df.index
    attrs = dict(df.attrs)

    def where(pos: int) -> str:
        if offset is not None:
            return f"{label} {file_line(attrs, pos)}"
        return f"row {index[pos]}"

    return where


def file_line(attrs: dict[str, Any], pos: int) -> int | None:
    """The file line where data row ``pos`` (0-based) starts, from a frame's ``attrs``.

    ``line_offset`` (header lines + 1) plus, when quoted values span lines or blank
    lines were skipped, the extra lines before that row (``line_shifts``).
    """
    offset = attrs.get("line_offset")
    if offset is None:
        return None
    shifts = attrs.get("line_shifts") or []
    extra = 0
    if shifts:
        i = bisect.bisect_right([int(r) for r, _ in shifts], int(pos)) - 1
        extra = int(shifts[i][1]) if i >= 0 else 0
    return int(pos) + int(offset) + extra


def _require_regular(p: Path) -> None:
    """A regular file, or a folder of Parquet parts holding only regular files."""
    if not p.exists():
        raise DataError("file not found; check the path or the config", path=p,
                        rule="file exists")
    if p.is_dir():
        odd = [f for f in p.rglob("*") if not (f.is_file() or f.is_dir())]
        if odd:
            raise DataError("the folder holds something that is not a regular file (a pipe, "
                            "a device, a broken link): it is never read. Remove it, or point "
                            "to the Parquet files themselves", path=p,
                            rule="regular files only", rows=[str(f) for f in odd])
        return
    if not p.is_file():
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(p.stat().st_mode)
                else "a device" if stat.S_ISCHR(p.stat().st_mode) or stat.S_ISBLK(
                    p.stat().st_mode) else "not a regular file")
        raise DataError(f"this is {kind}, not a file: it is never read (it could stream "
                        "forever). Export the data to a file and read that", path=p,
                        rule="a regular file")


def _read_excel(p: Path, sheet_name: str | int | None, notes: list[str],
                keep_na_text: bool = False) -> pd.DataFrame:
    book = pd.ExcelFile(p)
    sheets = [str(s) for s in book.sheet_names]
    if sheet_name is None:
        if len(sheets) > 1:
            shown = ", ".join(map(repr, sheets[:10])) + (", ..." if len(sheets) > 10 else "")
            raise DataError(f"the workbook has {len(sheets)} sheets ({shown}) and reading "
                            "only the first "
                            "would silently drop the others: pass sheet_name= (a name or a "
                            "0-based position), once per sheet to read", path=p,
                            rule="one sheet, or sheet_name declared")
        sheet_name = 0
    elif isinstance(sheet_name, str) and sheet_name not in sheets:
        raise DataError(f"no sheet {sheet_name!r}; the workbook has {sheets}", path=p,
                        rule="sheet exists")
    head = pd.read_excel(book, sheet_name=sheet_name, header=None, nrows=1)
    names = ["" if pd.isna(v) else str(v) for v in head.iloc[0]] if len(head) else []
    _refuse_repeated_names(p, names, "sheet row 1")
    df = pd.read_excel(book, sheet_name=sheet_name, **(
        {"keep_default_na": False, "na_values": [""]} if keep_na_text else {}))
    if len(sheets) > 1:
        notes.append(f"{p.name}: sheet {sheet_name!r} of {sheets}")
    return df


def _refuse_repeated_names(p: Path, names: list[str], where: str) -> None:
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n.strip():
            seen.setdefault(n.strip(), []).append(i + 1)
    dup = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if dup:
        desc = "; ".join(f"{n!r} in columns {', '.join(map(str, pos))}" for n, pos in dup.items())
        raise DataError(f"the header repeats column name(s): {desc}. Which one holds the data "
                        "cannot be guessed (pandas would rename the second to 'x.1'): rename "
                        "or drop the duplicates in the export", path=p,
                        column=next(iter(dup)), rule="unique column names",
                        rows=[f"{where}: {names}"[:300]])


def _read_csv(
    p: Path,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    index_col: int | None,
    notes: list[str],
    keep_na_text: bool = False,
) -> pd.DataFrame:
    declared = encoding is not None
    if encoding is None:
        encoding, note = detect_encoding(p)
        if note:
            notes.append(note)
            warnings.warn(note, EncodingGuessWarning, stacklevel=3)
        elif encoding.startswith(("utf-16", "utf-32")):
            notes.append(f"{p.name}: {encoding.upper()} (byte-order mark) detected")
    else:
        encoding = check_declared_encoding(p, encoding, notes)
    try:
        return _read_csv_text(p, encoding, sep, decimal, index_col, notes, keep_na_text)
    except UnicodeError:
        if declared or encoding != "utf-8":
            raise decode_error(p, encoding, declared) from None
    # the head was UTF-8, a later byte is not: mixed encodings (an error), or a legacy
    # file whose first 256 KiB happen to be ASCII (read as detected, announced)
    encoding, note = detect_encoding(p, whole_file=True)
    if note:
        notes.append(note)
        warnings.warn(note, EncodingGuessWarning, stacklevel=3)
    try:
        return _read_csv_text(p, encoding, sep, decimal, index_col, notes, keep_na_text)
    except UnicodeError:
        raise decode_error(p, encoding, False) from None


def _read_csv_text(
    p: Path,
    encoding: str,
    sep: str | None,
    decimal: str | None,
    index_col: int | None,
    notes: list[str],
    keep_na_text: bool = False,
) -> pd.DataFrame:
    with open(p, encoding=encoding, errors="strict", newline="") as fh:
        head = fh.read(SNIFF_BYTES).lstrip("\ufeff")
        blank = not head.strip() and not any(chunk.strip() for chunk in iter(
            lambda: fh.read(1 << 20), ""))
    if blank:
        size = p.stat().st_size
        raise DataError(("the file is empty (0 bytes)" if size == 0 else
                         f"the file holds only blank space ({size} bytes, no header, no "
                         "rows)") + ": the export or copy did not finish. Export it again",
                        path=p, rule="a header line and rows")
    first = head.replace("\r\n", "\n").split("\n", 1)[0]
    if sep is None:
        try:
            sep = csv.Sniffer().sniff(first + "\n", delimiters=_DELIMITERS).delimiter
        except csv.Error:
            counts = {d: first.count(d) for d in _DELIMITERS}
            sep = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    else:
        _check_declared_sep(p, sep, first)
    declared_decimal = decimal
    if decimal is None:
        decimal = _guess_decimal(head, sep)
        if decimal == ",":
            notes.append(f"{p.name}: decimal comma detected")
    thousands = "." if decimal == "," and sep != "." else None
    # dates stay text here (a thousands separator "." would eat dd.mm.yyyy)
    header = next(csv.reader(io.StringIO(head), delimiter=sep), [])
    if index_col is None:
        _refuse_repeated_names(p, header, "line 1")
    as_text = {c: "str" for c in header if c == "date" or c.endswith("_date")}
    try:
        df = pd.read_csv(
            p, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
            index_col=index_col, dtype=as_text or None,
            **({"keep_default_na": False, "na_values": [""]} if keep_na_text else {}),
        )
    except pd.errors.ParserError as exc:
        raise _parser_error(p, exc, sep, encoding) from None
    if index_col is None:
        if not isinstance(df.index, pd.RangeIndex):  # pandas took the extra field as an index
            raise _field_count_error(p, encoding, sep)
        df.attrs["line_offset"] = 2  # header = line 1
        shifts = _line_shifts(p, encoding, sep, len(df))
        if shifts:
            df.attrs["line_shifts"] = shifts
    if sep == "," and declared_decimal is None:
        _refuse_decimal_comma(df, p)
    return df


def _line_shifts(p: Path, encoding: str, sep: str, n_rows: int) -> list[list[int]]:
    """``[[row, extra_lines], ...]``: where rows stop starting on line ``row + 2``.

    Quoted values spanning lines and skipped blank lines shift the lines of every
    later row. Counting newlines is cheap; only a file with more lines than rows is
    parsed again (by the csv module) to find where the shifts happen.
    """
    with open(p, "rb") as fh:
        newlines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        fh.seek(-1, os.SEEK_END)
        ends_with_newline = fh.read(1) == b"\n"
    lines = newlines + (0 if ends_with_newline else 1)
    if lines <= n_rows + 1:
        return []
    shifts: list[list[int]] = []
    with open(p, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=sep)
        prev_end, row, extra = 0, -1, 0
        for rec in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not rec:  # a blank line: pandas skips it
                continue
            if row >= 0:
                shift = start - (row + 2)
                if shift != extra:
                    shifts.append([row, shift])
                    extra = shift
            row += 1
    return shifts


def _check_declared_sep(p: Path, sep: str, first: str) -> None:
    fields = next(csv.reader([first], delimiter=sep), [])
    if len(fields) > 1:
        return
    others = {d: first.count(d) for d in _DELIMITERS if d != sep and first.count(d)}
    if not others:
        return
    best = max(others, key=lambda d: others[d])
    raise DataError(
        f"with sep={sep!r} the header is a single column, but it contains {others[best]} "
        f"{_DELIMITER_NAMES[best]}(s): the file looks {_DELIMITER_NAMES[best]}-delimited. "
        f"Pass sep={best!r} (or leave sep undeclared to sniff it)",
        path=p, rule=f"delimiter {sep!r} splits the header",
        rows=[f"line 1: {first[:120]!r}"],
    )


def _parser_error(p: Path, exc: Exception, sep: str, encoding: str) -> DataError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if not m:
        return DataError(f"cannot parse the file ({exc}); check sep= and quoting", path=p)
    want, line_no, saw = (int(x) for x in m.groups())
    with open(p, encoding=encoding, errors="replace", newline="") as fh:
        lines = [ln.rstrip("\r\n") for _, ln in zip(range(line_no), fh, strict=False)]
    hint = ("a decimal comma in an unquoted number? quote it or export with ';' as delimiter"
            if sep == "," else "a delimiter inside an unquoted value?")
    return DataError(
        f"line {line_no} has {saw} fields but the header has {want} (delimiter {sep!r}): "
        f"{hint} Check sep= and the export's quoting",
        path=p, rule=f"{want} fields per line",
        rows=[f"line {line_no}: {lines[-1][:120]!r}"] if lines else None,
    )


def _field_count_error(p: Path, encoding: str, sep: str) -> DataError:
    """Data lines with more fields than the header (pandas would shift them silently)."""
    bad, want = [], 0
    with open(p, encoding=encoding, newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
            if n == 1:
                want = len([c for c in row if c != ""]) if row and row[0] == "" else len(row)
                continue
            if len(row) > want:
                bad.append(f"line {n} ({len(row)} fields): {sep.join(row)[:120]!r}")
                if len(bad) == 5:
                    break
    hint = ("a decimal comma in an unquoted number (\"4,5\" must be quoted, or export with "
            "';' as delimiter)" if sep == "," else "a delimiter inside an unquoted value")
    return DataError(
        f"data lines have more fields than the header ({want}, delimiter {sep!r}): {hint}? "
        "Fix the export's quoting or check sep=; if the first column is a row index, pass "
        "index_col=0",
        path=p, rule=f"{want} fields per line", rows=bad,
    )


def _guess_decimal(head: str, sep: str) -> str:
    if sep == ",":
        return "."
    rows = list(csv.reader(io.StringIO(head), delimiter=sep))[1:50]
    cells = [c.strip() for r in rows for c in r]
    comma = sum(bool(DECIMAL_COMMA_RE.match(c)) for c in cells)
    dot = sum(bool(re.match(r"^-?\d+\.\d+$", c)) for c in cells)
    return "," if comma > dot else "."


def _refuse_decimal_comma(df: pd.DataFrame, p: Path) -> None:
    """A comma-delimited file with quoted ``"4,5"`` numbers: ask for ``decimal=','``."""
    where = row_locator(df)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        text = s.dropna().astype("str").str.strip()
        text = text[text != ""]
        if text.empty or not text.str.match(_NUMBER_COMMA_RE).all():
            continue
        has_comma = text.str.contains(",", regex=False)
        if not has_comma.any():
            continue
        pos = np.flatnonzero(df.index.isin(text[has_comma].index))
        raise DataError(
            f"column {col!r} holds numbers with a decimal comma (e.g. {text[has_comma].iloc[0]!r}) "
            "inside a comma-delimited file: pass decimal=',' to read them as numbers "
            "(or decimal='.' to keep them as text)",
            path=p, column=str(col), rule="numbers use the declared decimal mark",
            rows=[f"{where(i)}: {s.iloc[i]!r}" for i in pos[:5]],
        )


# ------------------------------------------------------------------ dates
_DATE_KINDS = (
    ("yyyy-mm-dd", re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?$")),
    ("dd.mm.yyyy", re.compile(r"^(\d{1,2})\.(\d{1,2})\.\d{4}(?: .*)?$")),
    ("nn/nn/yyyy", re.compile(r"^(\d{1,2})/(\d{1,2})/\d{4}(?: .*)?$")),
    ("nn-nn-yyyy", re.compile(r"^(\d{1,2})-(\d{1,2})-\d{4}(?: .*)?$")),
)


def _date_kind(text: pd.Series) -> pd.Series:
    kind = pd.Series("other", index=text.index, dtype=object)
    for name, rx in reversed(_DATE_KINDS):
        kind[text.str.match(rx).fillna(False).astype(bool)] = name
    return kind


def parse_dates(
    s: pd.Series,
    *,
    column: str | None = None,
    path: str | os.PathLike[str] | None = None,
    frame: pd.DataFrame | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> pd.Series:
    """Parse one column of text dates with the rules of :func:`read_table`.

    ISO ``yyyy-mm-dd`` and ``dd.mm.yyyy`` are read as such; ``nn/nn/yyyy``
    needs ``dayfirst`` unless every value settles the order; a column mixing
    formats, or holding values that are not dates, raises a :class:`DataError`
    listing them (file lines when ``frame`` is a CSV read by :func:`read_table`).
    Missing and empty values stay missing (NaT).

    Returns
    -------
    Series
        ``datetime64[ns]``, same index as ``s``.
    """
    p = Path(str(path)) if path is not None else None
    where = row_locator(frame if frame is not None else s.to_frame())
    return _parse_dates(s, col=str(column if column is not None else s.name), path=p,
                        dayfirst=dayfirst, date_format=date_format, notes=[], where=where)


def _parse_dates(
    s: pd.Series, *, col: str, path: Path | None, dayfirst: bool | None, date_format: str | None,
    notes: list[str], where: Any,
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("datetime64[ns]")
    raw = s.astype("object")
    text = s.astype("str").str.strip()
    filled = s.notna() & (text != "")

    def rows(mask: pd.Series) -> list[str]:
        idx = np.flatnonzero(mask.to_numpy())
        return [f"{where(i)}: {raw.iloc[i]!r}" for i in idx[:5]]

    def fail(message: str, rule: str, mask: pd.Series) -> DataError:
        return DataError(message, path=path, column=col, rule=rule, rows=rows(mask))

    if date_format is not None:
        fmt = date_format
        parsed = (pd.to_datetime(text.where(filled), format="mixed", dayfirst=bool(dayfirst),
                                 errors="coerce") if fmt == "mixed"
                  else pd.to_datetime(text.where(filled), format=fmt, errors="coerce"))
        bad = filled & parsed.isna()
        if bad.any():
            raise fail(f"{int(bad.sum())} value(s) do not match the declared date_format "
                       f"{fmt!r}", f"date in format {fmt}", bad)
        return parsed.astype("datetime64[ns]")

    kind = _date_kind(text).where(filled)
    counts = kind.dropna().value_counts()
    known = [k for k in counts.index if k != "other"]
    if len(known) > 1:
        main = known[0]
        minority = filled & kind.isin([*known[1:], "other"])
        examples = ", ".join(
            f"{int(counts[k])} like {text[kind == k].iloc[0]!r} ({k})" for k in counts.index)
        raise fail(
            f"column mixes date formats: {examples}. One export should use one format: fix the "
            f"export, or pass date_format='mixed' (with dayfirst= for slash dates) to parse each "
            f"value on its own. Values not in the main format ({main}):",
            "one date format per column", minority)
    if not known:
        parsed = pd.to_datetime(text.where(filled), format="ISO8601", errors="coerce")
        bad = filled & parsed.isna()
        if bad.any():
            raise fail("unreadable dates: not yyyy-mm-dd, dd.mm.yyyy or dd/mm/yyyy; pass "
                       "date_format= (e.g. '%d %B %Y') matching the export",
                       "valid date", bad)
        return parsed.astype("datetime64[ns]")
    main = known[0]
    other = filled & (kind == "other")
    if main == "yyyy-mm-dd":
        fmt = "ISO8601"
    elif main == "dd.mm.yyyy":
        fmt = "%m.%d.%Y" if dayfirst is False else "%d.%m.%Y"
        notes.append(f"{path.name if path else 'data'}: column {col!r} read as "
                     f"{'mm.dd.yyyy' if dayfirst is False else 'dd.mm.yyyy'}")
    else:
        sep = main[2]
        fmt = _slash_format(text, kind == main, sep, col=col, dayfirst=dayfirst, fail=fail)
        notes.append(f"{path.name if path else 'data'}: column {col!r} read with format {fmt!r}")
    ok = filled & ~other
    # dd.mm.yyyy hh:mm -> the date part, parsed exactly (a partial match would read
    # 13/05/2024 as month 3)
    part = text if fmt == "ISO8601" else text.str.split(" ", n=1).str[0]
    parsed = pd.to_datetime(part.where(ok), format=fmt, errors="coerce")
    bad = (ok & parsed.isna()) | other
    if bad.any():
        raise fail(f"unreadable dates: not valid {main} dates like the rest of the column "
                   f"(e.g. {text[ok & parsed.notna()].iloc[0]!r})" if (ok & parsed.notna()).any()
                   else f"unreadable dates in a {main} column",
                   f"valid date ({main})", bad)
    return parsed.astype("datetime64[ns]")


def _slash_format(text: pd.Series, mask: pd.Series, sep: str, *, col: str,
                  dayfirst: bool | None, fail: Any) -> str:
    """Format of ``nn/nn/yyyy`` dates: declared by ``dayfirst`` or settled by every value.

    A value settles the order when one part is above 12 (it must be the day) or
    both parts are equal; ``03/05/2024`` does not, and is never read silently.
    """
    day_first, month_first = f"%d{sep}%m{sep}%Y", f"%m{sep}%d{sep}%Y"
    if dayfirst is not None:
        return day_first if dayfirst else month_first
    q = re.escape(sep)
    parts = text[mask].str.extract(rf"^(\d{{1,2}}){q}(\d{{1,2}}){q}").astype(int)
    a, b = parts[0], parts[1]
    first_big, second_big = a > 12, b > 12

    def flag(*masks: pd.Series) -> pd.Series:
        out = pd.Series(False, index=text.index)
        for m in masks:
            out[m[m].index[:5]] = True
        return out

    if first_big.any() and second_big.any():
        raise fail(f"column mixes dd{sep}mm{sep}yyyy and mm{sep}dd{sep}yyyy dates (some have a "
                   "number above 12 first, others second): fix the export",
                   "one date order per column", flag(first_big, second_big))
    ambiguous = (a <= 12) & (b <= 12) & (a != b)
    if ambiguous.any():
        i = ambiguous[ambiguous].index[0]
        m_abbr = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                  "Nov", "Dec")
        both_ways = f"{a[i]} {m_abbr[b[i]]} or {b[i]} {m_abbr[a[i]]}?"
        hint = ""
        if first_big.any():
            hint = (f" Other values such as {text[first_big.idxmax()]!r} suggest day first "
                    "(dayfirst=True).")
        elif second_big.any():
            hint = (f" Other values such as {text[second_big.idxmax()]!r} suggest month first "
                    "(dayfirst=False).")
        raise fail(f"{int(ambiguous.sum())} date(s) read both ways, e.g. {text[i]!r} "
                   f"({both_ways}): pass dayfirst=True for dd{sep}mm{sep}yyyy or "
                   f"dayfirst=False for mm{sep}dd{sep}yyyy (or date_format=).{hint}",
                   "unambiguous date order", flag(ambiguous))
    return month_first if second_big.any() else day_first



# ------------------------------------------------------------------ world metadata
def read_truth(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A generated world's ``truth.json`` as a dict; None when the folder has none.

    Raises
    ------
    DataError
        When the file is not a JSON object (truncated by an interrupted copy, edited
        by hand...), naming the file, where the JSON breaks and how to fix it.
    """
    import json

    path = Path(folder) / "truth.json"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise DataError(f"truth.json is not UTF-8 text (byte {exc.start}): regenerate the "
                        "world with `cx synth --out DIR` (or copy it again)", path=path,
                        rule="truth.json is a JSON object") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"truth.json is not valid JSON ({exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno}; the file has {len(text)} characters: "
                        "truncated?). Regenerate the world with `cx synth --out DIR` (or "
                        "copy it again); the data files are not affected", path=path,
                        rule="truth.json is a JSON object") from None
    if not isinstance(data, dict):
        raise DataError(f"truth.json holds a JSON {type(data).__name__}, not an object: "
                        "regenerate the world with `cx synth --out DIR`", path=path,
                        rule="truth.json is a JSON object")
    return data


def world_catalog(folder: str | os.PathLike[str], default: str = "retail") -> str:
    """The catalog name a world's ``truth.json`` declares (``default`` without one).

    Raises
    ------
    DataError
        When it is not a plain name (``../../etc/passwd`` would reach outside the
        catalogs folder).
    """
    truth = read_truth(folder) or {}
    name = truth.get("catalog", default)
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise DataError(f"truth.json names catalog {name!r}: a catalog is a plain name (a "
                        "file data/touchpoints/<name>.yml), such as 'retail'. Fix the key or "
                        "regenerate the world with `cx synth --out DIR`",
                        path=Path(folder) / "truth.json", column="catalog",
                        rule="a catalog name")
    return name
