"""The processed store: responses partitioned by a segment column, for sliced reports.

A batch that renders one report per segment must not scan every response for
each of them. :func:`ensure_store` writes a world's responses once as
Hive-partitioned Parquet (``<by>=<value>/``, rows sorted by metric and
respondent inside, so row-group statistics let a reader skip other metrics)
under ``data/processed/store/``; :func:`responses` returns a DuckDB relation
over one slice that reads only that partition's files.

The store is keyed by the content of its source: it records the SHA-256 of
the source files together with their sizes and modification times, and is
rebuilt when those change (a stale store is never served; a file touched but
unchanged is re-hashed, not rebuilt). The source is checked against the
responses contract when the store is built, so reading a slice needs no
further validation. Building is atomic (a temporary folder
renamed into place) and locked, so parallel jobs wait for one builder.

``cx store DATASET [--by segment]`` builds it ahead of a batch.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.errors import DataError
from cxlib.io import atomic_dir, file_digest, write_json_atomic

__all__ = ["ensure_store", "ensure_valid", "equals", "main", "responses", "source_columns",
           "store_path"]

#: Bump when the layout of the store changes.
STORE_VERSION = "2"
_CON: Any = None


def _con() -> Any:
    global _CON
    if _CON is None:
        import duckdb

        _CON = duckdb.connect()
        _CON.execute(f"SET threads TO {os.cpu_count() or 1}")
    return _CON


def _source(dataset: str | os.PathLike[str]) -> Path:
    from cxlib.data import datasets

    world = datasets.load(dataset)
    path = world.path("responses")
    if path is None:
        raise DataError(f"dataset {str(dataset)!r} has no responses file to store "
                        "(the store is built from a generated or processed world folder)")
    return path


def _files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*.parquet")) if src.is_dir() else [src]


def _stats(src: Path) -> list[list[Any]]:
    return [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in _files(src)]


def _digest(src: Path) -> str:
    return file_digest(_files(src), salt=STORE_VERSION)


def store_path(dataset: str | os.PathLike[str], by: str = "segment") -> Path:
    """Folder of the store for a dataset's responses partitioned ``by`` a column."""
    src = _source(dataset)
    tag = hashlib.sha1(str(src.resolve()).encode()).hexdigest()[:10]
    name = src.parent.name if src.name in ("responses", "responses.parquet") else src.stem
    return Path(config.PROCESSED_DIR) / "store" / f"{name}-{tag}" / f"by-{by}"


def _fresh(folder: Path, src: Path, by: str) -> bool:
    meta = folder / "store.json"
    if not meta.exists():
        return False
    info = json.loads(meta.read_text(encoding="utf-8"))
    if info.get("version") != STORE_VERSION or info.get("by") != by:
        return False
    if info.get("files") == _stats(src):
        return True
    if info.get("sha256") == _digest(src):  # touched, not changed: refresh the stat record
        info["files"] = _stats(src)
        _write_json(meta, info)
        return True
    return False


def _write_json(path: Path, data: Any) -> None:
    write_json_atomic(path, data, indent=1)


def _validate_source(dataset: str | os.PathLike[str], src: Path) -> int:
    """Check the source against the responses contract, a million rows at a time.

    The same pandera contract as :func:`cxlib.data.loaders.validate` (one
    :class:`DataError` naming file, column, rule and rows), plus the catalog
    check and, across chunks, the unique response key (in DuckDB). Returns
    the number of rows.
    """
    import pyarrow.dataset as pads

    from cxlib.data import datasets
    from cxlib.data.loaders import check_touchpoints, validate
    from cxlib.data.schemas import RESPONSE_KEY

    catalog = datasets.load(dataset).catalog
    rows = 0
    for part in pads.dataset([str(f) for f in _files(src)], format="parquet").to_batches(
            batch_size=1_000_000):
        frame = part.to_pandas()
        frame.index += rows
        check_touchpoints(validate(frame, "responses", path=src), catalog, path=src)
        rows += len(frame)
    key = ", ".join(RESPONSE_KEY)
    glob = str(src / "**" / "*.parquet") if src.is_dir() else str(src)
    dup = _con().execute(f"SELECT {key}, count(*) AS n FROM read_parquet(?) GROUP BY ALL "
                         "HAVING count(*) > 1 LIMIT 5", [glob]).df()
    if len(dup):
        raise DataError("responses repeat a (response, touchpoint, metric) key", path=src,
                        column=key, rule="unique response key", rows=dup)
    return rows


def source_columns(dataset: str | os.PathLike[str]) -> list[str]:
    """Column names of a world's responses (from the Parquet metadata)."""
    return [r[0] for r in _con().execute(
        "SELECT name FROM parquet_schema(?) WHERE name <> 'schema'",
        [str(_files(_source(dataset))[0])]).fetchall()]


def equals(column: str, value: Any) -> Any:
    """A DuckDB filter expression ``column = value`` (no SQL is pasted together)."""
    import duckdb

    return duckdb.ColumnExpression(column) == duckdb.ConstantExpression(str(value))


def _root(dataset: str | os.PathLike[str]) -> Path:
    return store_path(dataset, "x").parent


def ensure_valid(dataset: str | os.PathLike[str]) -> int:
    """Validate a world's responses once per content (a marker records it); rows."""
    src = _source(dataset)
    marker = _root(dataset) / "validated.json"
    if marker.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("version") == STORE_VERSION and (
                info.get("files") == _stats(src) or info.get("sha256") == _digest(src)):
            if info.get("files") != _stats(src):
                info["files"] = _stats(src)
                _write_json(marker, info)
            return int(info["rows"])
    from cxlib.io import guard_write

    guard_write(marker)
    marker.parent.mkdir(parents=True, exist_ok=True)
    rows = _validate_source(dataset, src)
    _write_json(marker, {"version": STORE_VERSION, "source": str(src), "rows": rows,
                         "contract": "responses", "files": _stats(src),
                         "sha256": _digest(src)})
    return rows


def ensure_store(dataset: str | os.PathLike[str], by: str = "segment") -> Path:
    """The fresh store of a dataset's responses partitioned by ``by`` (built if needed).

    Returns the folder holding ``responses/<by>=<value>/*.parquet``.
    """
    from cxlib.io import guard_write

    src = _source(dataset)
    folder = store_path(dataset, by)
    if _fresh(folder, src, by):
        return folder
    guard_write(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".by-{by}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel jobs wait for one builder
        if _fresh(folder, src, by):
            return folder
        con = _con()
        cols = source_columns(dataset)
        if by not in cols:
            raise DataError(f"cannot partition the responses by {by!r}: no such column",
                            path=src, column=by, rule="partition column exists",
                            rows=[f"columns: {', '.join(cols)}"])
        n_rows = ensure_valid(dataset)
        with atomic_dir(folder, may_replace=lambda _: True) as tmp:
            glob = str(src / "**" / "*.parquet") if src.is_dir() else str(src)
            # sorted by respondent within metric: the per-respondent steps of the
            # analysis (roll-ups, paired tests) group far faster on sorted rows
            con.execute(
                f"""COPY (SELECT * FROM read_parquet(?) ORDER BY "{by}", metric, response_id)
                    TO '{tmp / "responses"}' (FORMAT parquet, PARTITION_BY ("{by}"),
                    ROW_GROUP_SIZE 100000)""", [glob])
            _write_json(tmp / "store.json", {"version": STORE_VERSION, "by": by,
                                             "source": str(src), "rows": n_rows,
                                             "validated": "responses contract",
                                             "files": _stats(src),
                                             "sha256": _digest(src)})
    return folder


def responses(dataset: str | os.PathLike[str], *, by: str = "segment",
              value: Any = None) -> Any:
    """A DuckDB relation over a dataset's responses, one slice when ``value`` is given.

    With ``value``, only the files of the partition ``by=value`` are read
    (partition pruning); ``by=""`` reads the (validated) source unpartitioned.
    The relation is lazy: aggregate it in DuckDB (``rel.aggregate(...)``,
    ``cxlib.analysis.satisfaction``) or fetch it with ``rel.df()``.
    """
    from cxlib.data import datasets

    con = _con()
    world = datasets.load(dataset)
    if world.path("responses") is None:  # a mapped dataset (e.g. airline): its cached frame
        frame = world.responses
        if by not in frame.columns and value not in (None, ""):
            raise DataError(f"dataset {str(dataset)!r} has no column {by!r} to slice by",
                            column=by, rule="slice column exists",
                            rows=[f"columns: {', '.join(frame.columns)}"])
        rel = con.from_df(frame)
    elif not by:  # no slicing: the validated source itself
        ensure_valid(dataset)
        src = _source(dataset)
        rel = con.read_parquet(str(src / "**" / "*.parquet") if src.is_dir() else str(src))
    else:
        folder = ensure_store(dataset, by)
        glob = str(folder / "responses" / "**" / "*.parquet")
        rel = con.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
                      "hive_types_autocast = false)")
    if value is not None and value != "":
        if not by:
            raise DataError("a slice value needs the column to slice by (by=...)")
        rel = rel.filter(equals(by, value))
    return rel


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cx store", description=__doc__.splitlines()[0])
    ap.add_argument("dataset", help='"sample" or a world folder')
    ap.add_argument("--by", default="segment", help="partition column (default: segment)")
    args = ap.parse_args(argv)
    folder = ensure_store(args.dataset, args.by)
    parts = sorted(p.name for p in (folder / "responses").iterdir())
    print(f"{folder}: {len(parts)} partitions ({', '.join(parts[:8])}"
          f"{', ...' if len(parts) > 8 else ''})")
    return 0
