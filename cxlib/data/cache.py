"""Parquet cache of processed data, keyed by the content of its inputs.

A cached table lives at ``data/processed/<name>-<key>.parquet`` where ``key``
is a SHA-256 over the bytes of every input file (streamed in 1 MiB blocks),
the extra key parts (read options, mapping), :data:`CODE_VERSION` and the
source of the modules that shape a cached table (:data:`CODE_FILES`: encodings,
reading, survey exports, validation, contracts, wide-to-long, this cache).
Change one byte of an input or of that code and the key changes, so a stale
cache is never served; old entries of the same name are removed after a
successful rebuild.

The frame's ``attrs`` (``dropped`` counts, ``source``, ``notes``...) are stored
in the Parquet file's metadata (``cx_attrs``, JSON) and restored on a hit, so a
hit returns what a miss returned.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib import config
from cxlib.io import atomic_file, file_digest, guard_write

__all__ = ["CODE_FILES", "CODE_VERSION", "cached", "code_digest", "content_key", "file_digest"]

#: Bump when the processing code changes what a cached table contains.
CODE_VERSION = "2"
#: Source files whose edits invalidate every cached table.
CODE_FILES: tuple[Path, ...] = tuple(
    Path(__file__).with_name(f) for f in ("encodings.py", "readers.py", "validate.py",
                                          "schemas.py", "wide.py", "exports.py",
                                          "cache.py")
)
_ATTRS_KEY = b"cx_attrs"
_BLOCK = 1 << 20


def code_digest() -> str:
    """SHA-256 over the source of :data:`CODE_FILES` (name and bytes of each)."""
    h = hashlib.sha256()
    for f in CODE_FILES:
        h.update(Path(f).name.encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def content_key(inputs: Iterable[str | os.PathLike[str]], extra: Any = None) -> str:
    """Key of a cached table: input file contents + ``extra`` + code version and source."""
    h = hashlib.sha256(CODE_VERSION.encode())
    h.update(code_digest().encode())
    for p in inputs:
        h.update(file_digest(p).encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def cached(
    inputs: Iterable[str | os.PathLike[str]],
    build: Callable[[], pd.DataFrame],
    *,
    name: str,
    extra: Any = None,
    best_effort: bool = False,
    mode: int = 0o644,
) -> pd.DataFrame:
    """Return the cached table for these inputs, building and storing it on a miss.

    Parameters
    ----------
    inputs
        Files the table is derived from (their bytes are hashed).
    build
        Function that computes the table from scratch.
    name
        Short name of the table (file name prefix).
    extra
        Anything else the result depends on (read options...), JSON-serialisable.
    best_effort
        A cache that cannot be read or written (read-only or full disk, a damaged
        entry, a table Parquet cannot hold) is passed by: the table is built and
        returned, not stored.
    mode
        Permissions of the stored file (``0o600`` for tables with personal data).
    """
    key = content_key(list(inputs), extra)
    folder = Path(config.PROCESSED_DIR)
    target = guard_write(folder / f"{name}-{key}.parquet")
    if target.exists():
        try:
            df = _read(target)
        except (OSError, ValueError, pa.ArrowException):
            if not best_effort:
                raise
        else:
            df.attrs["cache"] = {"hit": True, "path": str(target)}
            return df
    df = build()
    try:
        with atomic_file(target, mode=mode) as tmp:
            _write(df, tmp)
        for old in folder.glob(f"{name}-*.parquet"):
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, ValueError, TypeError, pa.ArrowException):
        if not best_effort:
            raise
    df.attrs["cache"] = {"hit": False, "path": str(target)}
    return df


def _write(df: pd.DataFrame, path: Path) -> None:
    """Parquet with the frame's attrs (minus ``cache``) as JSON metadata.

    Stored by cxlib itself (not left to pandas/pyarrow, whose handling of ``attrs``
    differs between versions), with ``default=str`` for values JSON cannot hold.
    """
    bare = df.copy(deep=False)
    bare.attrs = {}
    # the index too (a RangeIndex as metadata only): a hit returns the rows' labels
    table = pa.Table.from_pandas(bare, preserve_index=None)
    attrs = {k: v for k, v in df.attrs.items() if k != "cache"}
    meta = dict(table.schema.metadata or {})
    meta[_ATTRS_KEY] = json.dumps(attrs, default=str, ensure_ascii=False).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)


def _read(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    df = table.to_pandas()
    df.attrs = json.loads(meta[_ATTRS_KEY]) if _ATTRS_KEY in meta else {}
    return df
