"""Wide survey exports -> long responses, driven by a mapping file, no code.

Survey tools export one row per respondent and one column per touchpoint,
with codes such as ``0 = not applicable``.  A mapping YAML in
``data/mappings/`` says how to read such a file::

    name: airline
    file: airline_satisfaction_train.csv   # in data/raw, else CX_SHARED_DATA (or absolute)
    catalog: airline                       # touchpoint ids are checked against it
    read: {sep: ",", index_col: 0}         # options for cxlib.data.exports.read_export
                                           # (format: auto|table|spss|qualtrics|surveymonkey)
    respondent_id: id                      # column -> response_id and customer_id, or
                                           # {row_number: true}: r000001, r000002... by row
                                           # ({first_of: [_uuid, KEY], row_number: true}:
                                           # the first of these the export has, else rows)
    date: "2019-01-01"                     # a column name, or a fixed ISO date
    touchpoints:                           # column -> touchpoint id, metric, scale
      "Inflight wifi service": {id: inflight_wifi, metric: csat, scale: [1, 5]}
    not_applicable: [0, "N/A"]             # codes or labels dropped (not rows), counted;
                                           # a code inside a column's scale (0 for an NPS
                                           # 0-10) is not applied there; a column's own
                                           # `not_applicable:` replaces this list for it
    missing: []                            # codes treated as missing (also dropped, counted)
    values: {"Very satisfied": 5, ...}     # optional: answer labels -> scores (every
                                           # touchpoint; a touchpoint's own `values:` wins)
    max_unparsed: 0.05                     # share of a column's answers that may be text
                                           # that is no score/code/label (dropped, warned);
                                           # above it loading is an error
    outcomes:                              # whole-journey questions with value maps
      satisfaction: {id: journey, metric: overall, scale: [0, 1],
                     values: {satisfied: 1, "neutral or dissatisfied": 0}}
    segments:                              # column -> segment column (optional bins, or
      "Customer Type": customer_type       # values: {1: North, 2: South} for coded answers)
      Age: {name: age_band, bins: [0, 25, 40, 60, 120], labels: ["<25", "25-39", "40-59", "60+"]}

Every answer that produces no row is counted by column and reason (``blank``,
``not_applicable``, ``missing_code``, ``unparsed``, with examples) in
``attrs["drops"]``; unparsed text is an :class:`UnparsedValuesWarning`, or a
:class:`DataError` above ``max_unparsed`` (default :data:`MAX_UNPARSED` = 5%: a few
typos are noise, more means a wrong scale or a missing value map). Binned values
outside the bins (an age of 130) or missing become the band ``"unknown"`` with a
:class:`SegmentBinWarning`; an export without data rows is a DataError.

:func:`wide_to_long` does the reshaping; :func:`load_mapped` reads the file
named by a mapping, reshapes and validates it (cached under data/processed).
:func:`export_path` says where a mapping's ``file:`` is: an absolute path as
given, else ``data/raw/<file>`` (``config.RAW_DIR``, the project's own exports)
and then ``<CX_SHARED_DATA>/<file>`` (``config.SHARED_DATA_DIR``, shared public
datasets).  A new mapping YAML dropped in ``data/mappings/`` is a dataset
:func:`cxlib.data.datasets.load` opens by name, with no code edit.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlib import config
from cxlib.errors import DataError

__all__ = [
    "MAX_UNPARSED", "UNKNOWN_BAND", "SegmentBinWarning", "UnparsedValuesWarning", "export_path",
    "load_mapped", "read_mapping", "row_number_ids", "wide_to_long",
]

_REQUIRED = ("respondent_id", "touchpoints")


#: Default for the mapping's ``max_unparsed``: above this share of a column's
#: answers that are not a score, a code or a label of the mapping, loading stops
#: with a DataError (a wrong scale or value map, not a few typos); at or below
#: it, the values are dropped, counted and shown in an UnparsedValuesWarning.
MAX_UNPARSED = 0.05
#: Segment value given to ages (or any binned value) outside the bins or missing.
UNKNOWN_BAND = "unknown"
_LEADING_CODE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:[-\u2013=:)]\s*\S.*)?$")


class UnparsedValuesWarning(UserWarning):
    """Answers that are neither a score, a declared code nor a label were dropped."""


class SegmentBinWarning(UserWarning):
    """Values of a binned segment (e.g. age) fell outside the bins or were missing."""


def read_mapping(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a mapping file (short name in ``data/mappings/`` or a path).

    Raises
    ------
    DataError
        The file is missing, not valid YAML (aliases refused), lacks
        ``respondent_id`` or ``touchpoints``, or a touchpoint lacks id, metric
        or scale.
    """
    from cxlib.io import read_yaml

    p = Path(name_or_path)
    if not p.suffix:
        p = config.mapping_path(str(name_or_path))
    if not p.exists():
        raise DataError("mapping file not found; add it under data/mappings/ "
                        "(`cx map EXPORT --name NAME` drafts one)", path=p)
    m = read_yaml(p, what="mapping") or {}
    if not isinstance(m, dict):
        raise DataError("a mapping must be a YAML mapping (key: value lines)", path=p)
    missing = [k for k in _REQUIRED if k not in m]
    if missing:
        hint = (" An export without an id column can use the row number: "
                "`respondent_id: {row_number: true}`." if "respondent_id" in missing else "")
        raise DataError(f"mapping lacks required keys {missing}.{hint}", path=p,
                        rule="required keys")
    if not isinstance(m["touchpoints"], dict) or not m["touchpoints"]:
        raise DataError("`touchpoints:` must map export columns to {id, metric, scale}",
                        path=p, rule="touchpoint spec")
    for col, spec in m["touchpoints"].items():
        if not isinstance(spec, dict) or not {"id", "metric", "scale"} <= set(spec):
            raise DataError(
                f"touchpoint column {col!r} needs id, metric and scale [min, max]",
                path=p,
                column=str(col),
                rule="touchpoint spec",
            )
    rid = m["respondent_id"]
    if isinstance(rid, dict) and not (rid.get("row_number") or rid.get("first_of")):
        raise DataError("`respondent_id:` is a column name, {row_number: true} or "
                        "{first_of: [col, ...], row_number: true}", path=p,
                        column="respondent_id", rule="respondent id")
    m["_path"] = str(p)
    return m


def _id_column(mapping: dict[str, Any], columns: Any = ()) -> str | None:
    """The respondent-id column, or None when the id is the row number.

    ``{first_of: [a, b], row_number: true}`` takes the first of those columns the
    export has (survey tools name their submission id differently), else the row
    number.
    """
    rid = mapping["respondent_id"]
    if not isinstance(rid, dict):
        return str(rid)
    present = [str(c) for c in rid.get("first_of") or [] if c in set(columns)]
    if present:
        return present[0]
    if rid.get("first_of") and not rid.get("row_number"):
        raise DataError(f"none of the id columns {rid['first_of']} is in the export; add "
                        "`row_number: true` to use the row number instead",
                        path=mapping.get("_path"), column="respondent_id",
                        rule="respondent id column")
    return None


def row_number_ids(n: int, prefix: str = "r") -> np.ndarray:
    """Stable respondent ids from data row numbers: ``r000001``, ``r000002``, ...

    The same file read again gives the same ids (row ``i``, 0-based, gets
    ``i + 1``); rows appended at the end keep the earlier ids.
    """
    return np.array([f"{prefix}{i + 1:06d}" for i in range(n)], dtype=object)


def wide_to_long(
    wide: pd.DataFrame,
    mapping: dict[str, Any],
    *,
    catalog: Any = None,
    path: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Reshape a wide export into long responses (the ``responses`` contract).

    Parameters
    ----------
    wide
        One row per respondent, as read from the export.
    mapping
        A mapping dict (see the module docstring / :func:`read_mapping`).
    catalog
        Optional :class:`cxlib.data.catalog.Catalog`; every touchpoint id in the
        mapping must exist in it (or be ``"journey"``).
    path
        The source file, for error messages.

    Returns
    -------
    DataFrame
        response_id, customer_id, date, touchpoint_id, metric, score, scale_min,
        scale_max and the mapped segment columns. Blank answers, not-applicable
        and missing codes and unparsed text produce no row;
        ``attrs["dropped"]`` counts them per touchpoint, ``attrs["drops"]``
        lists them by column and reason (``blank``, ``not_applicable``,
        ``missing_code``, ``unparsed``) with examples, ``attrs["segment_issues"]``
        the binned values outside their bins, ``attrs["n_rows"]`` the export's rows and
        ``attrs["kept"]`` the answers kept per column (rows = kept + drops, per column).

    Raises
    ------
    DataError
        Mapped columns absent, duplicate ids, an empty export, scores outside
        the scale, or more than ``max_unparsed`` (default :data:`MAX_UNPARSED`)
        of a column's answers unparsed.

    Examples
    --------
    >>> m = {"respondent_id": {"row_number": True}, "date": "2024-01-01",
    ...      "not_applicable": [0, "N/A"],
    ...      "touchpoints": {"Seat": {"id": "seat", "metric": "csat", "scale": [1, 5]}}}
    >>> w = pd.DataFrame({"Seat": [5, "N/A", 3, None]})
    >>> wide_to_long(w, m)[["response_id", "score"]].to_dict("list")
    {'response_id': ['r000001', 'r000003'], 'score': [5.0, 3.0]}
    """
    src = path or wide.attrs.get("source") or mapping.get("_path")
    offset = int(wide.attrs.get("line_offset", 2))
    id_col = _id_column(mapping, wide.columns)
    cols = list(mapping["touchpoints"]) + list(mapping.get("outcomes", {}))
    needed = ([id_col] if id_col else []) + cols
    if isinstance(mapping.get("date"), str) and mapping["date"] in wide.columns:
        needed.append(mapping["date"])
    needed += list(mapping.get("segments", {}))
    absent = [c for c in needed if c not in wide.columns]
    if absent:
        near = {a: difflib.get_close_matches(str(a), [str(c) for c in wide.columns], n=1)
                for a in absent}
        hints = "; ".join(f"{a!r} -> did you mean {n[0]!r}?" for a, n in near.items() if n)
        raise DataError(
            f"columns named in the mapping are not in the file: {absent}. "
            + (f"{hints}. " if hints else "")
            + f"The file has: {list(wide.columns)[:30]}",
            path=src,
            column=str(absent[0]),
            rule="mapped column exists",
        )
    if len(wide) == 0:
        raise DataError("the export has no respondents (a header without data rows); "
                        "export the responses again, with data", path=src,
                        rule="at least one respondent")
    if catalog is not None:
        ids = [s["id"] for s in mapping["touchpoints"].values()]
        unknown = [i for i in ids if i not in catalog and i != "journey"]
        if unknown:
            raise DataError(
                f"touchpoint ids {unknown} are not in catalog {catalog.catalog_id!r}; "
                "fix the mapping or add them to the catalog",
                path=mapping.get("_path"),
                rule="touchpoint id in catalog",
            )
    if id_col is None:
        rid = pd.Series(row_number_ids(len(wide), str(mapping["respondent_id"].get("prefix", "r"))),
                        index=wide.index)
    else:
        raw_id = wide[id_col]
        if raw_id.isna().any():
            raise DataError(
                "missing respondent ids; fill them or use the row number "
                "(`respondent_id: {row_number: true}`)", path=src, column=id_col,
                rule="respondent id not null",
                rows=[f"line {i + offset}" for i in np.flatnonzero(raw_id.isna().to_numpy())[:5]])
        rid = raw_id.map(_id_text)
        if rid.duplicated().any():
            raise DataError(
                "respondent ids are not unique; map another column, or use the row number "
                "(`respondent_id: {row_number: true}`)",
                path=src,
                column=id_col,
                rule="unique respondent id",
                rows=wide.loc[rid.duplicated(keep=False), [id_col]].head(5),
            )
    date = _date_column(wide, mapping, src)
    base = pd.DataFrame({"response_id": rid.to_numpy(), "customer_id": rid.to_numpy(),
                         "date": date})
    seg_issues: list[dict[str, Any]] = []
    for col, spec in mapping.get("segments", {}).items():
        name, values, issue = _segment(wide[col], spec, col)
        base[name] = values
        if issue:
            seg_issues.append(issue)
    if seg_issues:
        warnings.warn(
            "; ".join(f"{i['column']!r}: {i['n_outside']} value(s) outside the bins "
                      f"{i['bins']} and {i['n_missing']} missing -> {UNKNOWN_BAND!r} "
                      f"(e.g. {i['examples']})" for i in seg_issues)
            + ". Widen the bins in the mapping if these are real values.",
            SegmentBinWarning, stacklevel=2)
    na_codes = list(mapping.get("not_applicable", []) or [])
    miss_codes = list(mapping.get("missing", []) or [])
    shared_values = mapping.get("values") or {}
    limit = float(mapping.get("max_unparsed", MAX_UNPARSED))
    parts, dropped, drops, unparsed_notes = [], {}, [], []
    kept: dict[str, int] = {}
    for col, spec in mapping["touchpoints"].items():
        values = spec.get("values") or shared_values
        lo, hi = spec["scale"]
        score, reason = _parse_scores(wide[col], values, _codes_for(spec, na_codes),
                                      miss_codes)
        keep = reason == "kept"
        bad = keep & ((score < lo) | (score > hi))
        if bad.any():
            raise DataError(
                f"scores outside the scale [{lo}, {hi}] that are not a declared n/a code "
                f"{na_codes}; declare the code in the mapping or fix the export",
                path=src,
                column=str(col),
                rule=f"in [{lo}, {hi}] or n/a code",
                rows=[f"line {i + offset}: {v!r}"
                      for i, v in zip(np.flatnonzero(bad.to_numpy())[:5],
                                      wide.loc[bad, col].head(5), strict=False)],
            )
        drops += _drop_records(wide[col], reason, col, spec)
        _check_unparsed(wide[col], reason, col, limit, src, offset, unparsed_notes)
        dropped[spec["id"]] = int((~keep).sum())
        kept[str(col)] = int(keep.sum())
        parts.append(_block(base, keep.to_numpy(), spec, score))
    for col, spec in mapping.get("outcomes", {}).items():
        values = spec.get("values")
        raw = wide[col]
        score, reason = _parse_scores(raw, values or {}, _codes_for(spec, na_codes),
                                      miss_codes, numbers=not values)
        unmapped = reason == "unparsed"
        if unmapped.any() and values:
            raise DataError(
                f"outcome values not in the mapping's value map {list(values or {})}",
                path=src,
                column=str(col),
                rule="value map",
                rows=[f"line {i + offset}: {v!r}"
                      for i, v in zip(np.flatnonzero(unmapped.to_numpy())[:5],
                                      raw[unmapped].head(5), strict=False)],
            )
        _check_unparsed(raw, reason, col, limit, src, offset, unparsed_notes)
        keep = reason == "kept"
        drops += _drop_records(raw, reason, col, spec)
        dropped[spec["id"] + ":" + spec["metric"]] = int((~keep).sum())
        kept[str(col)] = int(keep.sum())
        parts.append(_block(base, keep.to_numpy(), spec, score.astype(float)))
    if unparsed_notes:
        warnings.warn("answers that are not a score, code or label were dropped: "
                      + "; ".join(unparsed_notes)
                      + ". Add them to `values:` or `not_applicable:` in the mapping if they "
                      "mean something.", UnparsedValuesWarning, stacklevel=2)
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        raise DataError("no answer is left after dropping blank, not-applicable and unparsed "
                        f"values ({sum(d['n'] for d in drops)} dropped); check the mapping's "
                        "scales, codes and value labels", path=src, rule="at least one answer")
    out.attrs["dropped"] = dropped
    out.attrs["drops"] = drops
    out.attrs["segment_issues"] = seg_issues
    out.attrs["n_rows"] = len(wide)
    out.attrs["kept"] = kept
    out.attrs["source"] = str(src) if src else None
    return out


def _codes_for(spec: dict[str, Any], na_codes: list[Any]) -> list[Any]:
    """Not-applicable codes of one column: its own ``not_applicable:``, else the mapping's
    codes that are not a score of its scale (a ``0 = n/a`` beside 1-5 ratings must
    not drop the zeros of a 0-10 NPS column)."""
    if "not_applicable" in spec:
        return list(spec["not_applicable"] or [])
    lo, hi = spec["scale"]
    out = []
    for c in na_codes:
        try:
            inside = lo <= float(c) <= hi
        except (TypeError, ValueError):
            inside = False
        if not inside:
            out.append(c)
    return out


def _id_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _norm(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip().casefold()


def _parse_scores(raw: pd.Series, values: dict[Any, Any], na_codes: list[Any],
                  miss_codes: list[Any], *, numbers: bool = True) -> tuple[pd.Series, pd.Series]:
    """Scores and, per answer, why it is kept or dropped.

    Order: blank; a not-applicable code or label; a missing code; a value-map
    label (case-insensitive); a number (``4``, ``4.0``, or a label starting
    with its code, ``"5 - Very satisfied"``); otherwise unparsed. Each distinct
    value is classified once (exports repeat a handful of answers).
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    vmap = {_norm(k): v for k, v in (values or {}).items()}
    na = {_norm(c) for c in na_codes}
    miss = {_norm(c) for c in miss_codes}
    u_reason = np.empty(len(uniques) + 1, dtype=object)
    u_score = np.full(len(uniques) + 1, np.nan)
    for i, v in enumerate(uniques):
        u_reason[i], u_score[i] = _classify(_norm(v), vmap, na, miss, numbers)
    u_reason[-1] = "blank"  # the sentinel -1 indexes the last slot
    return (pd.Series(u_score[codes], index=raw.index, dtype=float),
            pd.Series(u_reason[codes], index=raw.index, dtype=object))


def _classify(t: str, vmap: dict[str, Any], na: set[str], miss: set[str],
              numbers: bool) -> tuple[str, float]:
    if t == "":
        return "blank", np.nan
    if t in na:
        return "not_applicable", np.nan
    if t in miss:
        return "missing_code", np.nan
    if t in vmap:
        return "kept", float(vmap[t])
    if not numbers:
        return "unparsed", np.nan
    try:
        num = float(t)
    except ValueError:
        m = _LEADING_CODE.match(t)
        if m is None:
            return "unparsed", np.nan
        num = float(m.group(1))
        code = _norm(num)  # a code that is n/a or missing once its label is stripped
        if code in na:
            return "not_applicable", np.nan
        if code in miss:
            return "missing_code", np.nan
    if not np.isfinite(num):
        return "unparsed", np.nan
    return "kept", num


def _drop_records(raw: pd.Series, reason: pd.Series, col: Any, spec: dict) -> list[dict]:
    out = []
    for why in ("blank", "not_applicable", "missing_code", "unparsed"):
        sel = reason == why
        n = int(sel.sum())
        if n:
            ex = raw[sel].map(lambda v: "" if pd.isna(v) else _id_text(v)).value_counts().head(5)
            out.append({"column": str(col), "touchpoint_id": spec["id"],
                        "metric": spec["metric"], "reason": why, "n": n,
                        "examples": {str(k): int(v) for k, v in ex.items()}})
    return out


def _check_unparsed(raw: pd.Series, reason: pd.Series, col: Any, limit: float, src: Any,
                    offset: int, notes: list[str]) -> None:
    sel = reason == "unparsed"
    n = int(sel.sum())
    if not n:
        return
    answered = int((reason != "blank").sum())
    share = n / answered if answered else 1.0
    ex = raw[sel].astype("str").value_counts().head(5)
    shown = ", ".join(f"{k!r} x{v}" for k, v in ex.items())
    if share > limit:
        raise DataError(
            f"{n} of {answered} answers ({share:.1%}) are neither a score, a declared code "
            f"nor a label of the mapping ({shown}); above max_unparsed = {limit:.0%} this is "
            "an error: add the labels to `values:` (label: score) or `not_applicable:`, or "
            "raise `max_unparsed:` in the mapping",
            path=src, column=str(col), rule=f"unparsed share <= {limit:.0%}",
            rows=[f"line {i + offset}: {v!r}"
                  for i, v in zip(np.flatnonzero(sel.to_numpy())[:5], raw[sel].head(5),
                                  strict=False)])
    notes.append(f"{col!r}: {n} ({shown})")


def _block(base: pd.DataFrame, keep: np.ndarray, spec: dict, score: pd.Series) -> pd.DataFrame:
    blk = base.loc[keep].copy()
    blk.insert(3, "touchpoint_id", spec["id"])
    blk.insert(4, "metric", spec["metric"])
    blk.insert(5, "score", score.to_numpy(dtype=float)[keep])
    blk.insert(6, "scale_min", int(spec["scale"][0]))
    blk.insert(7, "scale_max", int(spec["scale"][1]))
    return blk


def _date_column(wide: pd.DataFrame, mapping: dict, src: Any) -> pd.Series | pd.Timestamp:
    d = mapping.get("date")
    if d is None:
        raise DataError("the mapping needs `date:` (a column or a fixed ISO date)", path=src)
    if isinstance(d, str) and d in wide.columns:
        from cxlib.data.readers import parse_dates

        read = mapping.get("read") or {}
        parsed = parse_dates(wide[d], column=d, path=src, frame=wide,
                             dayfirst=read.get("dayfirst"), date_format=read.get("date_format"))
        if parsed.isna().any():
            raise DataError(
                "missing dates: every respondent needs a date (or give a fixed `date:`)",
                path=src, column=d, rule="not null", rows=wide.loc[parsed.isna(), [d]].head(5),
            )
        return parsed.to_numpy()
    try:
        return pd.Timestamp(str(d))
    except ValueError:
        raise DataError(f"`date: {d}` is neither a column of the file nor an ISO date "
                        "(yyyy-mm-dd)", path=mapping.get("_path"), rule="date column or ISO date"
                        ) from None


def _segment(s: pd.Series, spec: Any, col: str) -> tuple[str, np.ndarray, dict | None]:
    if isinstance(spec, str):
        return spec, s.astype("str").to_numpy(), None
    name = spec.get("name", col)
    if "bins" in spec:
        num = pd.to_numeric(s, errors="coerce")
        binned = pd.cut(num, bins=spec["bins"], labels=spec.get("labels"), right=False)
        out = binned.astype(object).where(binned.notna(), UNKNOWN_BAND).astype("str")
        outside = num.notna() & binned.isna()
        missing = num.isna()
        issue = None
        if outside.any() or missing.any():
            issue = {"column": str(col), "segment": name, "bins": list(spec["bins"]),
                     "n_outside": int(outside.sum()), "n_missing": int(missing.sum()),
                     "examples": s[outside | missing].map(
                         lambda v: "missing" if pd.isna(v) else _id_text(v))
                     .value_counts().head(5).index.tolist()}
        return name, out.to_numpy(), issue
    if "values" in spec:  # codes -> labels (e.g. SPSS value labels); unknown codes kept
        labels = {_norm(k): str(v) for k, v in spec["values"].items()}
        return name, s.map(lambda v: labels.get(_norm(v), _id_text(v))
                           if pd.notna(v) else UNKNOWN_BAND).astype("str").to_numpy(), None
    return name, s.astype("str").to_numpy(), None


def export_path(mapping: dict[str, Any]) -> Path:
    """The export file a mapping names (its ``file:`` key), found on disk.

    An absolute path is used as given; a relative one is looked up under
    ``config.RAW_DIR`` (``data/raw``) first, then ``config.SHARED_DATA_DIR``.

    Raises
    ------
    DataError
        When the mapping has no ``file:`` or the file is in none of those
        places (the message lists every place looked in).
    """
    src = mapping.get("_path")
    if not mapping.get("file"):
        raise DataError("the mapping needs `file:` (the export to read)", path=src,
                        rule="required keys")
    file = Path(str(mapping["file"]))
    candidates = [file] if file.is_absolute() else [
        Path(config.RAW_DIR) / file, Path(config.SHARED_DATA_DIR) / file]
    for c in candidates:
        if c.exists():
            return c
    raise DataError(
        f"the export {str(file)!r} named by the mapping was not found; looked in: "
        + "; ".join(str(c) for c in candidates)
        + ". Put the export under data/raw/ (config.RAW_DIR), set CX_SHARED_DATA to its "
        "folder, or give an absolute path in `file:`",
        path=src, column="file", rule="export file exists",
    )


def load_mapped(name_or_path: str | os.PathLike[str], *, use_cache: bool = True) -> pd.DataFrame:
    """Read the export a mapping names, reshape it to long and validate it.

    The result is cached as Parquet under ``data/processed`` keyed by the
    content of the export, the mapping and the catalog (:mod:`cxlib.data.cache`).
    """
    from cxlib.data.cache import cached
    from cxlib.data.catalog import load_catalog
    from cxlib.data.exports import read_export
    from cxlib.data.validate import validate

    mapping = read_mapping(name_or_path)
    file = export_path(mapping)
    catalog = load_catalog(mapping["catalog"]) if mapping.get("catalog") else None
    inputs = [file, mapping["_path"]]
    if catalog is not None:
        inputs.append(catalog.path or config.catalog_path(mapping["catalog"]))

    def build() -> pd.DataFrame:
        wide = read_export(file, **mapping.get("read", {}))
        long = wide_to_long(wide, mapping, catalog=catalog, path=file)
        return validate(long, "responses", path=file)

    if not use_cache:
        return build()
    return cached(inputs, build, name=f"mapped_{Path(mapping['_path']).stem}")
