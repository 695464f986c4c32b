"""Read exports as they really come, and validate them against the data contracts.

Survey tools, CRMs and finance systems in Türkiye and Azerbaijan export CSV with
``;`` or tab delimiters, decimal commas, ``dd.mm.yyyy`` dates and legacy
encodings (cp1254, cp1251...), sometimes UTF-16 ("Unicode text" from Excel).
:func:`read_table` reads CSV, Parquet (a file or a folder of parts) and Excel;
:func:`validate` checks a frame against a contract of :mod:`cxlib.data.schemas` and
turns every failure into one :class:`~cxlib.errors.DataError` naming the file,
column, rule and rows; :func:`load` does both.

What is guessed is said: an encoding guessed from the bytes is a warning
(:class:`EncodingGuessWarning`) and a note in ``df.attrs["notes"]``; what cannot
be guessed safely is an error saying what to declare: a declared encoding the
bytes contradict, a decimal comma inside a comma-delimited file, a date column
mixing formats, slash dates such as ``03/05/2024`` that read both ways.

Raw files are only ever read: :func:`cxlib.io.guard_write` refuses any write path under
``config.RAW_DIR`` and every writer in cxlib calls it.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlib.errors import DataError

__all__ = [
    "LEGACY_ENCODINGS",
    "EncodingGuessWarning",
    "check_touchpoints",
    "detect_encoding",
    "load",
    "parse_dates",
    "read_table",
    "validate",
]

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ";,\t|"
_DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
_DECIMAL_COMMA_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_NUMBER_COMMA_RE = re.compile(r"^-?\d+(,\d+)?$")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


class EncodingGuessWarning(UserWarning):
    """A CSV's encoding was guessed from its bytes; declare it to be sure."""


# ------------------------------------------------------------------ raw guard
# ------------------------------------------------------------------ encodings
#: Legacy code pages of our users' systems, in order of preference on ties.
LEGACY_ENCODINGS = ("cp1254", "cp1251", "iso8859_9", "cp1252", "cp1250")
_NATIVE = (
    set("çğıöşüəÇĞİÖŞÜƏâîûÂÎÛ")
    | {chr(c) for c in range(0x410, 0x450)}
    | set("ЁёҒғҺһӘәӨөҮүҸҹҚқ")
)
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _bom_encoding(raw: bytes) -> str | None:
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return enc
    return None


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte is mostly NUL (ASCII-heavy UTF-16)."""
    sample = raw[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Guess a text file's encoding.

    Returns ``(encoding, note)``.  ``note`` is None when the bytes leave no
    doubt (a byte-order mark: UTF-8, UTF-16 or UTF-32; or valid UTF-8) and
    otherwise says which encoding was assumed and how to declare it (UTF-16
    without a byte-order mark, or a legacy code page picked among
    :data:`LEGACY_ENCODINGS`).
    """
    p = Path(path)
    raw = p.read_bytes()[: 4 * _SNIFF_BYTES]
    bom = _bom_encoding(raw)
    if bom:
        return bom, None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return utf16, _declare_note(p, utf16, f"it has no byte-order mark but every other "
                                              f"byte is zero, as in {utf16.upper()}")
    try:
        raw.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError as exc:
        # a multi-byte char cut at the sniff boundary is still UTF-8
        if exc.start >= len(raw) - 3:
            return "utf-8", None
    enc = _best_legacy_encoding(raw)
    return enc, _declare_note(p, enc, "it is not UTF-8; its letters read best as "
                                      f"{enc!r} among {list(LEGACY_ENCODINGS)}")


def _declare_note(p: Path, enc: str, why: str) -> str:
    return (f"{p.name}: encoding guessed as {enc!r} ({why}). If letters look wrong, declare "
            f"the right one; to confirm this guess and silence the warning, declare it: "
            f"read_table(..., encoding={enc!r}) or `read: {{encoding: {enc}}}` in a mapping.")


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


def _is_single_byte(encoding: str) -> bool:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("cp12", "cp8", "cp4", "iso8859", "latin", "koi8", "mac-"))


def _check_declared_encoding(p: Path, encoding: str, notes: list[str]) -> str:
    """The encoding to read with, after checking the declared one against the bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                        "'utf-8', 'cp1254', 'cp1251' or 'utf-16'", path=p,
                        rule="known encoding") from None
    raw = p.read_bytes()[: 4 * _SNIFF_BYTES]
    bom = _bom_encoding(raw)
    if bom and bom.startswith("utf-16") and not name.startswith("utf-16"):
        raise DataError(
            f"encoding={encoding!r} was declared, but the file starts with a UTF-16 byte-order "
            "mark (an Excel 'Unicode text' export): pass encoding='utf-16'",
            path=p, rule="declared encoding matches the bytes")
    if bom == "utf-8-sig" and name == "utf-8":
        notes.append(f"{p.name}: UTF-8 byte-order mark skipped")
        return "utf-8-sig"
    if bom == "utf-8-sig" and name != "utf-8":
        raise DataError(
            f"encoding={encoding!r} was declared, but the file starts with a UTF-8 byte-order "
            "mark: pass encoding='utf-8' (or leave encoding undeclared)",
            path=p, rule="declared encoding matches the bytes")
    if _is_single_byte(name) and any(b > 127 for b in raw):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(raw) - 3:
                return encoding
        raise DataError(
            f"encoding={encoding!r} was declared, but the file is valid UTF-8 with non-ASCII "
            f"letters: read as {encoding!r} they would be garbled (e.g. 'İ' -> 'Ä°'). "
            "Pass encoding='utf-8' (or leave encoding undeclared)",
            path=p, rule="declared encoding matches the bytes")
    return encoding


def _decode_error(p: Path, encoding: str, declared: bool) -> DataError:
    """Where the bytes stop being ``encoding``, and what they look like instead."""
    dec = codecs.getincrementaldecoder(encoding)()
    data = p.read_bytes()
    pos, block = 0, 1 << 20
    bad = None
    for start in range(0, len(data), block):
        try:
            dec.decode(data[start:start + block], final=start + block >= len(data))
        except UnicodeDecodeError as exc:
            bad = start + exc.start
            break
        pos = start
    bad = pos if bad is None else bad
    line_no = data.count(b"\n", 0, bad) + 1
    line_start = data.rfind(b"\n", 0, bad) + 1
    line_end = data.find(b"\n", bad)
    line = data[line_start: line_end if line_end >= 0 else len(data)]
    bom = _bom_encoding(data[:4])
    guess = bom or _utf16_without_bom(data[:4096]) or _best_legacy_encoding(line)
    how = "declared" if declared else "assumed"
    shown = line[:120].rstrip(b"\r").decode(guess, errors="replace")
    return DataError(
        f"cannot decode the file as {encoding!r} ({how}): byte 0x{data[bad]:02X} on line "
        f"{line_no} is not valid {encoding!r}. Those bytes look like {guess!r}: "
        f"pass encoding={guess!r}",
        path=p, rule=f"text in the declared encoding ({encoding})",
        rows=[f"line {line_no}: {shown!r}"],
    )


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
    sheet_name: str | int = 0,
    index_col: int | None = None,
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
    sheet_name, index_col
        Passed to pandas for Excel / CSV.

    Returns
    -------
    DataFrame
        Strings as pandas' ``str`` dtype, dates as ``datetime64[ns]``;
        ``df.attrs["source"]`` holds the path, ``df.attrs["notes"]`` what was
        detected, and for CSV without ``index_col`` ``df.attrs["line_offset"]``
        = 2 (row ``i`` is file line ``i + 2``, header = line 1; a quoted value
        spanning lines shifts this).
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
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        df.attrs["row_label"] = "sheet row"
        df.attrs["line_offset"] = 2
    cols = date_columns if date_columns is not None else [
        c for c in df.columns if str(c) == "date" or str(c).endswith("_date")
    ]
    where = _where_fn(df)
    for col in cols:
        if col in df.columns:
            df[col] = _parse_dates(df[col], col=col, path=p, dayfirst=dayfirst,
                                   date_format=date_format, notes=notes, where=where)
    df.attrs["source"] = str(p)
    df.attrs["notes"] = notes
    return df


def _where_fn(df: pd.DataFrame) -> Any:
    """Function: positional row -> 'line N' (CSV), 'sheet row N' (Excel) or 'row <label>'."""
    offset = df.attrs.get("line_offset")
    label = df.attrs.get("row_label", "line")
    index = df.index

    def where(pos: int) -> str:
        if offset is not None:
            return f"{label} {pos + offset}"
        return f"row {index[pos]}"

    return where


def _read_csv(
    p: Path,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    index_col: int | None,
    notes: list[str],
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
        encoding = _check_declared_encoding(p, encoding, notes)
    try:
        return _read_csv_text(p, encoding, sep, decimal, index_col, notes)
    except UnicodeError:
        raise _decode_error(p, encoding, declared) from None


def _read_csv_text(
    p: Path,
    encoding: str,
    sep: str | None,
    decimal: str | None,
    index_col: int | None,
    notes: list[str],
) -> pd.DataFrame:
    with open(p, encoding=encoding, errors="strict", newline="") as fh:
        head = fh.read(_SNIFF_BYTES).lstrip("\ufeff")
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
    as_text = {c: "str" for c in header if c == "date" or c.endswith("_date")}
    try:
        df = pd.read_csv(
            p, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
            index_col=index_col, dtype=as_text or None,
        )
    except pd.errors.ParserError as exc:
        raise _parser_error(p, exc, sep, encoding) from None
    if index_col is None:
        if not isinstance(df.index, pd.RangeIndex):  # pandas took the extra field as an index
            raise _field_count_error(p, encoding, sep)
        df.attrs["line_offset"] = 2  # header = line 1
    if sep == "," and declared_decimal is None:
        _refuse_decimal_comma(df, p)
    return df


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
    comma = sum(bool(_DECIMAL_COMMA_RE.match(c)) for c in cells)
    dot = sum(bool(re.match(r"^-?\d+\.\d+$", c)) for c in cells)
    return "," if comma > dot else "."


def _refuse_decimal_comma(df: pd.DataFrame, p: Path) -> None:
    """A comma-delimited file with quoted ``"4,5"`` numbers: ask for ``decimal=','``."""
    where = _where_fn(df)
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
    where = _where_fn(frame if frame is not None else s.to_frame())
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
    try:
        out = SCHEMAS[contract].validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        raise _schema_error(exc, df, contract, src) from None
    out.attrs.update(df.attrs)
    return out


def _schema_error(exc: Any, df: pd.DataFrame, contract: str, src: Any) -> DataError:
    from cxlib.data.schemas import METRIC_SCALES, SCHEMAS, TABLE_CHECK_COLUMNS

    fc = exc.failure_cases.copy()
    offset = df.attrs.get("line_offset")
    label = df.attrs.get("row_label", "line")
    same_source = src is None or df.attrs.get("source") in (None, str(src))
    schema = SCHEMAS[contract]

    def where(idx: Any) -> str:
        if offset is not None and same_source and isinstance(idx, int | np.integer):
            return f"{label} {int(idx) + offset}"
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
            isinstance(v, str) and _DECIMAL_COMMA_RE.match(v.strip()) for v in values):
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
    where = _where_fn(df)
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
