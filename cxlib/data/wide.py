"""Wide survey exports -> long responses, driven by a mapping file, no code.

Survey tools export one row per respondent and one column per touchpoint,
with codes such as ``0 = not applicable``.  A mapping YAML in
``data/mappings/`` says how to read such a file::

    name: airline
    file: airline_satisfaction_train.csv   # in data/raw, else CX_SHARED_DATA (or absolute)
    catalog: airline                       # touchpoint ids are checked against it
    read: {sep: ",", index_col: 0}         # options for cxlib.data.loaders.read_table
    respondent_id: id                      # column -> response_id and customer_id
    date: "2019-01-01"                     # a column name, or a fixed ISO date
    touchpoints:                           # column -> touchpoint id, metric, scale
      "Inflight wifi service": {id: inflight_wifi, metric: csat, scale: [1, 5]}
    not_applicable: [0]                    # codes dropped (not rows)
    missing: []                            # codes treated as missing (also dropped, counted)
    outcomes:                              # whole-journey questions with value maps
      satisfaction: {id: journey, metric: overall, scale: [0, 1],
                     values: {satisfied: 1, "neutral or dissatisfied": 0}}
    segments:                              # column -> segment column (optional bins)
      "Customer Type": customer_type
      Age: {name: age_band, bins: [0, 25, 40, 60, 120], labels: ["<25", "25-39", "40-59", "60+"]}

:func:`wide_to_long` does the reshaping; :func:`load_mapped` reads the file
named by a mapping, reshapes and validates it (cached under data/processed).
:func:`export_path` says where a mapping's ``file:`` is: an absolute path as
given, else ``data/raw/<file>`` (``config.RAW_DIR``, the project's own exports)
and then ``<CX_SHARED_DATA>/<file>`` (``config.SHARED_DATA_DIR``, shared public
datasets).  A new mapping YAML dropped in ``data/mappings/`` is a dataset
:func:`cxlib.data.datasets.load` opens by name, with no code edit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cxlib import config
from cxlib.errors import DataError

__all__ = ["export_path", "load_mapped", "read_mapping", "wide_to_long"]

_REQUIRED = ("respondent_id", "touchpoints")


def read_mapping(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a mapping file (short name in ``data/mappings/`` or a path)."""
    p = Path(name_or_path)
    if not p.suffix:
        p = config.mapping_path(str(name_or_path))
    if not p.exists():
        raise DataError("mapping file not found; add it under data/mappings/", path=p)
    try:
        m = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"mapping is not valid YAML: {exc}", path=p) from exc
    missing = [k for k in _REQUIRED if k not in m]
    if missing:
        raise DataError(f"mapping lacks required keys {missing}", path=p, rule="required keys")
    for col, spec in m["touchpoints"].items():
        if not isinstance(spec, dict) or not {"id", "metric", "scale"} <= set(spec):
            raise DataError(
                f"touchpoint column {col!r} needs id, metric and scale [min, max]",
                path=p,
                column=str(col),
                rule="touchpoint spec",
            )
    m["_path"] = str(p)
    return m


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
        scale_max and the mapped segment columns. Not-applicable and missing codes
        produce no row; ``attrs["dropped"]`` counts them per touchpoint.
    """
    src = path or wide.attrs.get("source") or mapping.get("_path")
    cols = list(mapping["touchpoints"]) + list(mapping.get("outcomes", {}))
    needed = [mapping["respondent_id"], *cols]
    if isinstance(mapping.get("date"), str) and mapping["date"] in wide.columns:
        needed.append(mapping["date"])
    needed += list(mapping.get("segments", {}))
    absent = [c for c in needed if c not in wide.columns]
    if absent:
        raise DataError(
            f"columns named in the mapping are not in the file: {absent}. "
            f"The file has: {list(wide.columns)[:30]}",
            path=src,
            column=absent[0],
            rule="mapped column exists",
        )
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
    rid = wide[mapping["respondent_id"]].astype("str")
    if rid.duplicated().any():
        raise DataError(
            "respondent ids are not unique",
            path=src,
            column=mapping["respondent_id"],
            rule="unique respondent id",
            rows=wide.loc[rid.duplicated(keep=False), [mapping["respondent_id"]]].head(5),
        )
    date = _date_column(wide, mapping, src)
    base = pd.DataFrame({"response_id": rid.values, "customer_id": rid.values, "date": date})
    for col, spec in mapping.get("segments", {}).items():
        name, values = _segment(wide[col], spec, col)
        base[name] = values
    na_codes = set(mapping.get("not_applicable", []))
    miss_codes = set(mapping.get("missing", []))
    parts, dropped = [], {}
    for col, spec in mapping["touchpoints"].items():
        score = pd.to_numeric(wide[col], errors="coerce")
        lo, hi = spec["scale"]
        keep = score.notna() & ~score.isin(na_codes | miss_codes)
        bad = keep & ((score < lo) | (score > hi))
        if bad.any():
            raise DataError(
                f"scores outside the scale [{lo}, {hi}] that are not a declared n/a code "
                f"{sorted(na_codes)}; declare the code in the mapping or fix the export",
                path=src,
                column=str(col),
                rule=f"in [{lo}, {hi}] or n/a code",
                rows=[f"line {i + 2}: {v!r}" for i, v in wide.loc[bad, col].head(5).items()],
            )
        dropped[spec["id"]] = int((~keep).sum())
        parts.append(_block(base, keep.to_numpy(), spec, score))
    for col, spec in mapping.get("outcomes", {}).items():
        values = spec.get("values")
        raw = wide[col]
        score = raw.map(values) if values else pd.to_numeric(raw, errors="coerce")
        unmapped = raw.notna() & score.isna()
        if unmapped.any():
            raise DataError(
                f"outcome values not in the mapping's value map {list(values or {})}",
                path=src,
                column=str(col),
                rule="value map",
                rows=[f"line {i + 2}: {v!r}" for i, v in raw[unmapped].head(5).items()],
            )
        keep = score.notna()
        dropped[spec["id"] + ":" + spec["metric"]] = int((~keep).sum())
        parts.append(_block(base, keep.to_numpy(), spec, score.astype(float)))
    out = pd.concat(parts, ignore_index=True)
    out.attrs["dropped"] = dropped
    out.attrs["source"] = str(src) if src else None
    return out


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
        from cxlib.data.loaders import parse_dates

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


def _segment(s: pd.Series, spec: Any, col: str) -> tuple[str, pd.Series]:
    if isinstance(spec, str):
        return spec, s.astype("str").to_numpy()
    name = spec.get("name", col)
    if "bins" in spec:
        binned = pd.cut(pd.to_numeric(s, errors="coerce"), bins=spec["bins"],
                        labels=spec.get("labels"), right=False)
        return name, binned.astype("str").to_numpy()
    return name, s.astype("str").to_numpy()


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
    from cxlib.data.loaders import read_table, validate

    mapping = read_mapping(name_or_path)
    file = export_path(mapping)
    catalog = load_catalog(mapping["catalog"]) if mapping.get("catalog") else None
    inputs = [file, mapping["_path"]]
    if catalog is not None:
        inputs.append(config.catalog_path(mapping["catalog"]))

    def build() -> pd.DataFrame:
        wide = read_table(file, **mapping.get("read", {}))
        long = wide_to_long(wide, mapping, catalog=catalog, path=file)
        return validate(long, "responses", path=file)

    if not use_cache:
        return build()
    return cached(inputs, build, name=f"mapped_{Path(mapping['_path']).stem}")
