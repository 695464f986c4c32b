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

Every function takes a *loaded* dataset (a :class:`cxlib.data.datasets.World`) or
a world folder path, never a dataset name: the caller resolves the name once
(``datasets.load``), and this module does not import :mod:`cxlib.data.datasets`
(the dependency is one-way). No SQL here is built from a path or an unchecked
name: paths are bound values or file lists (:mod:`cxlib.data.duck`), column
names are checked against the real columns and quoted.

``cx store DATASET [--by segment]`` (:func:`cxlib.data.datasets.store_main`)
builds it ahead of a batch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.data import duck
from cxlib.data.readers import world_catalog
from cxlib.errors import DataError
from cxlib.io import atomic_dir, file_digest, guard_write, write_json_atomic

__all__ = ["STORE_VERSION", "WorldLike", "ensure_store", "ensure_valid", "equals",
           "responses", "source_columns", "store_path"]

#: Bump when the layout of the store changes.
STORE_VERSION = "2"
#: What the functions here take: a loaded dataset (``datasets.World``) or a world folder.
WorldLike = Any


@dataclass
class _Source:
    """A world's responses as the store sees them (resolved once per call)."""

    label: str
    folder: Path | None
    src: Path | None  # responses.parquet or a responses/ folder of parts
    world: Any  # the loaded World, when one was given

    @property
    def catalog(self) -> Any:
        if self.world is not None:
            return self.world.catalog
        from cxlib.data.catalog import load_catalog

        return load_catalog(world_catalog(self.folder) if self.folder is not None else "retail")


def _resolve(world: WorldLike) -> _Source:
    if hasattr(world, "path") and hasattr(world, "catalog"):  # a loaded datasets.World
        folder = getattr(world, "folder", None)
        return _Source(label=str(getattr(world, "name", folder)), folder=folder,
                       src=world.path("responses"), world=world)
    if not isinstance(world, str | os.PathLike):
        raise DataError(f"the store takes a loaded dataset (cxlib.load_dataset(name)) or a "
                        f"world folder path, not {type(world).__name__}")
    folder = Path(world)
    for src in (folder / "responses.parquet", folder / "responses"):
        if src.exists():
            return _Source(label=str(folder), folder=folder, src=src, world=None)
    raise DataError("not a world folder: no responses.parquet or responses/ in it. The store "
                    "takes a loaded dataset (cxlib.load_dataset(name)) or the folder of a "
                    "generated world (cx synth --out DIR), never a dataset name",
                    path=folder, rule="a world folder")


def _need_file(s: _Source) -> Path:
    if s.src is None:
        raise DataError(f"dataset {s.label!r} has no responses file to store (the store is "
                        "built from a generated or processed world folder)")
    return s.src


def _files(src: Path) -> list[Path]:
    return [Path(f) for f in duck.parquet_files(src)]


def _stats(src: Path) -> list[list[Any]]:
    return [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in _files(src)]


def _digest(src: Path) -> str:
    return file_digest(_files(src), salt=STORE_VERSION)


def _store_path(src: Path, by: str) -> Path:
    if not by or by.startswith(".") or set(by) & set("/\\\0"):
        raise DataError(f"cannot partition by {by!r}: a column name without '/', '\\' or a "
                        "leading '.' is needed (it names a folder of the store)",
                        column=by, rule="partition column is a plain name")
    tag = hashlib.sha1(str(src.resolve()).encode()).hexdigest()[:10]
    name = src.parent.name if src.name in ("responses", "responses.parquet") else src.stem
    return Path(config.PROCESSED_DIR) / "store" / f"{name}-{tag}" / f"by-{by}"


def store_path(world: WorldLike, by: str = "segment") -> Path:
    """Folder of the store for a world's responses partitioned ``by`` a column."""
    return _store_path(_need_file(_resolve(world)), by)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A store's own record; None (rebuild) when it is missing or unreadable."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _fresh(folder: Path, src: Path, by: str) -> bool:
    info = _read_json(folder / "store.json")
    if info is None or info.get("version") != STORE_VERSION or info.get("by") != by:
        return False
    if info.get("files") == _stats(src):
        return True
    if info.get("sha256") == _digest(src):  # touched, not changed: refresh the stat record
        info["files"] = _stats(src)
        _write_json(folder / "store.json", info)
        return True
    return False


def _write_json(path: Path, data: Any) -> None:
    write_json_atomic(path, data, indent=1)


def _validate_source(s: _Source, src: Path) -> int:
    """Check the source against the responses contract, a million rows at a time.

    The same pandera contract as :func:`cxlib.data.validate.validate` (one
    :class:`DataError` naming file, column, rule and rows), plus the catalog
    check and, across chunks, the unique response key (in DuckDB). Returns
    the number of rows.
    """
    import pyarrow.dataset as pads

    from cxlib.data.schemas import RESPONSE_KEY
    from cxlib.data.validate import check_touchpoints, validate

    catalog = s.catalog
    rows = 0
    for part in pads.dataset([str(f) for f in _files(src)], format="parquet").to_batches(
            batch_size=1_000_000):
        frame = part.to_pandas()
        frame.index += rows
        check_touchpoints(validate(frame, "responses", path=src), catalog, path=src)
        rows += len(frame)
    if rows == 0:
        raise DataError("the world has no responses (zero rows): nothing to analyse. "
                        "Regenerate it (cx synth --out DIR) or check the export that made it",
                        path=src, rule="at least one response")
    key = ", ".join(duck.quote_ident(c) for c in RESPONSE_KEY)
    dup = duck.read_parquet(src).query(
        "src", f"SELECT {key}, count(*) AS n FROM src GROUP BY ALL HAVING count(*) > 1 "
        "LIMIT 5").df()
    if len(dup):
        raise DataError("responses repeat a (response, touchpoint, metric) key", path=src,
                        column=", ".join(RESPONSE_KEY), rule="unique response key", rows=dup)
    return rows


def source_columns(world: WorldLike) -> list[str]:
    """Column names of a world's responses (from the Parquet metadata)."""
    return list(duck.read_parquet(_need_file(_resolve(world))).columns)


def equals(column: str, value: Any) -> Any:
    """A DuckDB filter expression ``column = value`` (no SQL is pasted together)."""
    import duckdb

    return duckdb.ColumnExpression(column) == duckdb.ConstantExpression(str(value))


def ensure_valid(world: WorldLike) -> int:
    """Validate a world's responses once per content (a marker records it); rows."""
    s = _resolve(world)
    return _ensure_valid(s, _need_file(s))


def _ensure_valid(s: _Source, src: Path) -> int:
    marker = _store_path(src, "x").parent / "validated.json"
    info = _read_json(marker)
    if info is not None and info.get("version") == STORE_VERSION and (
            info.get("files") == _stats(src) or info.get("sha256") == _digest(src)):
        if info.get("files") != _stats(src):
            info["files"] = _stats(src)
            _write_json(marker, info)
        return int(info["rows"])
    guard_write(marker)
    marker.parent.mkdir(parents=True, exist_ok=True)
    rows = _validate_source(s, src)
    _write_json(marker, {"version": STORE_VERSION, "source": str(src), "rows": rows,
                         "contract": "responses", "files": _stats(src),
                         "sha256": _digest(src)})
    return rows


def ensure_store(world: WorldLike, by: str = "segment") -> Path:
    """The fresh store of a world's responses partitioned by ``by`` (built if needed).

    Returns the folder holding ``responses/<by>=<value>/*.parquet``.
    """
    s = _resolve(world)
    src = _need_file(s)
    return _ensure_store(s, src, by)


def _ensure_store(s: _Source, src: Path, by: str) -> Path:
    cols = list(duck.read_parquet(src).columns)
    if by not in cols:
        raise DataError(f"cannot partition the responses by {by!r}: no such column",
                        path=src, column=by, rule="partition column exists",
                        rows=[f"columns: {', '.join(cols)}"])
    folder = _store_path(src, by)
    if _fresh(folder, src, by):
        return folder
    guard_write(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".by-{hashlib.sha1(by.encode()).hexdigest()[:12]}.lock",
              "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel jobs wait for one builder
        if _fresh(folder, src, by):
            return folder
        rel = duck.read_parquet(src)
        n_rows = _ensure_valid(s, src)
        with atomic_dir(folder, may_replace=lambda _: True) as tmp:
            # sorted by respondent within metric: the per-respondent steps of the
            # analysis (roll-ups, paired tests) group far faster on sorted rows.
            # The target is a path argument and ``by`` a checked column: no SQL text
            # is made from either.
            order = ", ".join(duck.quote_ident(c) for c in (by, "metric", "response_id"))
            rel.order(order).write_parquet(str(tmp / "responses"), partition_by=[by],
                                           row_group_size=100_000)
            _write_json(tmp / "store.json", {"version": STORE_VERSION, "by": by,
                                             "source": str(src), "rows": n_rows,
                                             "validated": "responses contract",
                                             "files": _stats(src),
                                             "sha256": _digest(src)})
    return folder


def responses(world: WorldLike, *, by: str = "segment", value: Any = None) -> Any:
    """A DuckDB relation over a world's responses, one slice when ``value`` is given.

    Parameters
    ----------
    world
        A loaded dataset (``cxlib.load_dataset(name)``) or a world folder path.
    by
        The partition column; ``""`` reads the (validated) source unpartitioned.
    value
        Keep the rows where ``by == value``: only that partition's files are read.

    Returns
    -------
    duckdb.DuckDBPyRelation
        Lazy: aggregate it in DuckDB (``rel.aggregate(...)``,
        ``cxlib.analysis.satisfaction``) or fetch it with ``rel.df()``.
    """
    s = _resolve(world)
    con = duck.connection()
    if s.src is None:  # a mapped dataset (e.g. airline): its validated, cached frame
        frame = s.world.responses if s.world is not None else None
        if frame is None:
            raise DataError(f"dataset {s.label!r} has no responses table (no responses.parquet "
                            "or responses/ folder): nothing to analyse. Point to a world "
                            "that has one", path=s.folder, rule="a responses table")
        if by not in frame.columns and value not in (None, ""):
            duck.check_column(frame, by, what="slice column")
        rel = con.from_df(frame)
    elif not by:  # no slicing: the validated source itself
        _ensure_valid(s, s.src)
        rel = duck.read_parquet(s.src, con=con)
    else:
        folder = _ensure_store(s, s.src, by)
        rel = duck.read_parquet(folder / "responses", con=con)
    if value is not None and value != "":
        if not by:
            raise DataError("a slice value needs the column to slice by (by=...)")
        duck.check_column(rel, by, what="slice column")
        rel = rel.filter(equals(by, value))
    return rel
