"""Read the wide exports survey tools actually produce, with what they know about answers.

:func:`read_export` returns one row per respondent and one column per question,
plus what the tool says about the answers in ``df.attrs``:

``attrs["format"]``
    ``"spss"``, ``"qualtrics"``, ``"surveymonkey"`` or ``"table"`` (a plain
    CSV / Excel / Parquet export read by :func:`cxlib.data.readers.read_table`).
``attrs["questions"]``
    column -> question text (SPSS variable labels, Qualtrics' second header
    row, SurveyMonkey's first header row); empty where the tool gives none.
``attrs["value_labels"]``
    column -> {code: label} (SPSS value labels); ``cx map`` reads scales and
    not-applicable codes from them.
``attrs["line_offset"]``
    data row ``i`` is file line ``i + line_offset`` (messages name file lines).

The formats, as the tools write them:

* **SPSS** ``.sav`` / ``.zsav`` / ``.por`` (read with pyreadstat): answers as
  codes, value labels and variable labels in the file's dictionary.
* **Qualtrics** CSV: three header rows, the column names (``Q1``, ``Q2_3``...),
  the question texts, and ``{"ImportId":"QID1"}`` records; detected by the
  third row.
* **SurveyMonkey** CSV/Excel: two header rows, the question (once, over all the
  columns of a matrix question) and the sub-question or ``Response`` /
  ``Open-Ended Response``; detected by ``Respondent ID`` in the first row and
  ``Response`` in the second. Columns are named ``question`` or
  ``question - sub-question``.

A mapping may name the format (``read: {format: qualtrics}``); by default it is
detected. Nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib.errors import DataError

__all__ = ["FORMATS", "read_export"]

#: Export formats :func:`read_export` understands.
FORMATS = ("auto", "table", "spss", "qualtrics", "surveymonkey")
_SPSS_SUFFIXES = (".sav", ".zsav", ".por")
_SM_SUB = {"response", "open-ended response", "other (please specify)"}


def read_export(path: str | os.PathLike[str], *, format: str = "auto",
                **read_opts: Any) -> pd.DataFrame:
    """Read a wide survey export (SPSS, Qualtrics, SurveyMonkey, CSV, Excel, Parquet).

    Parameters
    ----------
    path
        The export file.
    format
        One of :data:`FORMATS`; ``"auto"`` detects it from the suffix and the
        header rows.
    **read_opts
        Options for :func:`cxlib.data.readers.read_table` (``sep``,
        ``encoding``, ``index_col``, ``dayfirst``...); ignored for SPSS.

    Returns
    -------
    DataFrame
        One row per respondent; ``attrs`` as the module docstring says.

    Raises
    ------
    DataError
        Unknown format, unreadable file, or header rows that do not match the
        declared format.

    Examples
    --------
    >>> wide = read_export("data/raw/survey.sav")            # doctest: +SKIP
    >>> wide.attrs["value_labels"]["Q1"]                      # doctest: +SKIP
    {1.0: 'Very dissatisfied', ..., 9.0: 'Not applicable'}
    """
    p = Path(path)
    if format not in FORMATS:
        raise DataError(f"unknown export format {format!r}; use one of {list(FORMATS)}",
                        path=p, rule="export format")
    if not p.exists():
        raise DataError("export file not found; check the path", path=p)
    if format == "spss" or (format == "auto" and p.suffix.lower() in _SPSS_SUFFIXES):
        return _read_spss(p)
    from cxlib.data.readers import read_table

    df = read_table(p, keep_na_text=True, **read_opts)
    df.attrs.setdefault("line_offset", 2)
    kind = format if format != "auto" else _detect(df)
    if kind == "qualtrics":
        df = _qualtrics(df, p)
    elif kind == "surveymonkey":
        df = _surveymonkey(df, p)
    else:
        df.attrs.setdefault("questions", {})
        df.attrs.setdefault("value_labels", {})
    df.attrs["format"] = kind if kind != "auto" else "table"
    return df


def _detect(df: pd.DataFrame) -> str:
    if len(df) >= 2:
        third = df.iloc[1].astype("str")
        if third.str.startswith('{"ImportId"').sum() >= max(1, df.shape[1] // 2):
            return "qualtrics"
    if len(df) >= 1:
        cols = {str(c).strip().lower() for c in df.columns}
        second = {str(v).strip().lower() for v in df.iloc[0].dropna()}
        if "respondent id" in cols and second & _SM_SUB:
            return "surveymonkey"
    return "table"


def _numeric_where_possible(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            if num.notna().sum() == s.notna().sum() - (s.astype("str").str.strip() == "").sum():
                df[c] = num
        s = df[c]
        if pd.api.types.is_float_dtype(s) and s.notna().all() and (s == s.round()).all():
            df[c] = s.astype("int64")  # ids and codes read as floats because of a header row
    return df


def _qualtrics(df: pd.DataFrame, p: Path) -> pd.DataFrame:
    if len(df) < 2 or not df.iloc[1].astype("str").str.startswith('{"ImportId"').any():
        raise DataError("not a Qualtrics export: the third header row should hold "
                        '{"ImportId": ...} records; export again with the default '
                        "header rows, or drop `format: qualtrics`", path=p, rule="Qualtrics header")
    questions = {str(c): ("" if pd.isna(q) else str(q)) for c, q in df.iloc[0].items()}
    out = df.iloc[2:].reset_index(drop=True).copy()
    out = _numeric_where_possible(out)
    out.attrs.update(df.attrs)
    out.attrs["questions"] = questions
    out.attrs["value_labels"] = {}
    out.attrs["line_offset"] = int(df.attrs.get("line_offset", 2)) + 2
    return out


def _surveymonkey(df: pd.DataFrame, p: Path) -> pd.DataFrame:
    if len(df) < 1:
        raise DataError("not a SurveyMonkey export: it needs its two header rows",
                        path=p, rule="SurveyMonkey header")
    names: list[str] = []
    questions: dict[str, str] = {}
    current = ""
    for col, sub in zip(df.columns, df.iloc[0], strict=True):
        head = str(col).strip()
        if head and not head.startswith("Unnamed:"):
            current = head
        sub_s = "" if pd.isna(sub) else str(sub).strip()
        name = current if not sub_s or sub_s.lower() in _SM_SUB else f"{current} - {sub_s}"
        base, k = name, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
        questions[name] = current
    out = df.iloc[1:].reset_index(drop=True).copy()
    out.columns = names
    out = _numeric_where_possible(out)
    out.attrs.update(df.attrs)
    out.attrs["questions"] = questions
    out.attrs["value_labels"] = {}
    out.attrs["line_offset"] = int(df.attrs.get("line_offset", 2)) + 1
    return out


def _read_spss(p: Path) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_por if p.suffix.lower() == ".por" else pyreadstat.read_sav
    try:
        df, meta = reader(str(p), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own types: say which file
        raise DataError(f"cannot read the SPSS file ({type(exc).__name__}: {exc}); "
                        "export it again from SPSS as .sav", path=p) from exc
    labels = {str(c): {_plain(k): str(v) for k, v in d.items()}
              for c, d in (meta.variable_value_labels or {}).items()}
    df.attrs["questions"] = {str(c): str(q or "")
                             for c, q in (meta.column_names_to_labels or {}).items()}
    df.attrs["value_labels"] = labels
    df.attrs["format"] = "spss"
    df.attrs["source"] = str(p)
    df.attrs["row_label"] = "case"
    df.attrs["line_offset"] = 1
    df.attrs["notes"] = []
    return df


def _plain(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v
