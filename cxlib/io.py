"""File I/O every writer shares: the raw-data guard, atomic writes, content hashes.

Core layer: imports only :mod:`cxlib.config` and :mod:`cxlib.errors`.

Every file or folder cxlib writes goes through :func:`guard_write` (``data/raw``
is immutable) and is written atomically: a uniquely named temporary beside the
target, then ``os.replace``. A reader never sees half a file, and two writers
never share a temporary name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.errors import DataError

__all__ = [
    "atomic_dir",
    "atomic_file",
    "file_digest",
    "guard_write",
    "jsonable",
    "read_yaml",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
    "yaml_loader",
]

_BLOCK = 1 << 20
#: Deepest nesting of lists and mappings :func:`read_yaml` accepts.
MAX_YAML_DEPTH = 100


def guard_write(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` (resolved) if it is safe to write; refuse anything under ``data/raw``.

    Every writer in cxlib calls this before writing a file or replacing a
    folder: the synthetic generator, the processed cache and store, results
    files, the batch runner and the renderer.

    Raises
    ------
    DataError
        When ``path`` is ``config.RAW_DIR`` or lies under it (raw data is immutable).
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


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path``; move it into place on success.

    The temporary is removed when the block raises; the target is then untouched.
    ``mode`` is applied before the rename (shared files are 0644, not mkstemp's 0600).
    """
    target = guard_write(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`); return the path."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2) -> Path:
    """Write JSON (numpy/pandas values made plain, NaN as null) to ``path`` atomically."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=jsonable)
    return write_text_atomic(path, text)


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], *, may_replace: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; swap it into place on success.

    An existing ``path`` is replaced only when ``may_replace(path)`` says so
    (default: never, unless it is empty); the old folder is removed after the swap.
    """
    out = guard_write(path)
    if out.exists() and any(out.iterdir()) and not (may_replace and may_replace(out)):
        raise FileExistsError(f"{out} exists and is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def file_digest(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                *, salt: str = "") -> str:
    """SHA-256 of files' bytes (a folder: every file in it, sorted), streamed in 1 MiB blocks.

    Each file's name (relative to its folder) is hashed with its bytes, so a
    rename changes the digest. ``salt`` (a code version) is hashed first.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    h = hashlib.sha256(salt.encode())
    for p in map(Path, paths):
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
            with open(f, "rb") as fh:
                while block := fh.read(_BLOCK):
                    h.update(block)
    return h.hexdigest()


def read_yaml(path: str | os.PathLike[str], *, what: str = "YAML file",
              max_bytes: int = 5 << 20) -> Any:
    """Read a small YAML file (batch file, mapping, catalog) safely.

    Refuses aliases and anchors (``&a`` / ``*a``: a few hundred bytes of nested
    aliases expand to gigabytes, the "billion laughs"), files over ``max_bytes``,
    files that are not regular files, and undecodable bytes; every refusal is a
    :class:`DataError` naming the file and saying how to fix it.
    """
    import yaml

    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise DataError(f"cannot read {what}: {exc.strerror}", path=p,
                        rule="file exists and is readable") from None
    if not p.is_file():
        raise DataError(f"{what} is not a regular file", path=p, rule="regular file")
    if st.st_size > max_bytes:
        raise DataError(f"{what} is {st.st_size:,} bytes; at most {max_bytes:,} are read",
                        path=p, rule="size limit")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} is not UTF-8 text (byte {exc.start}); save it as UTF-8",
                        path=p, rule="UTF-8") from None

    loader = yaml_loader()
    try:
        depth = 0
        # one pass over the parser's events (libyaml when installed) before anything
        # is built: refuses aliases and anchors, and nesting deeper than any of our
        # files needs (deep nesting would exhaust the composer's stack)
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                raise yaml.YAMLError(f"line {event.start_mark.line + 1}: aliases (*name) "
                                     "are not allowed")
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise yaml.YAMLError(f"line {event.start_mark.line + 1}: anchors (&{anchor}) "
                                     "are not allowed")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise RecursionError
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise DataError(f"{what} is not valid YAML: {exc}. Write each value out in full "
                        "(no anchors or aliases) and check the indentation.", path=p,
                        rule="YAML without aliases") from None
    except RecursionError:  # [[[[...]]]] thousands deep
        raise DataError(f"{what} nests lists or mappings too deeply to read (more than "
                        f"{MAX_YAML_DEPTH} levels); a batch file, mapping or catalog needs "
                        "only a few levels", path=p, rule="nesting depth") from None


def yaml_loader() -> Any:
    """The safe YAML loader: libyaml's ``CSafeLoader`` when PyYAML was built with it
    (about 10x faster: the message catalog took 0.24 s to read in every worker),
    else the pure-Python ``SafeLoader``; both build only plain types."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def jsonable(v: Any) -> Any:
    """Convert numpy / pandas values to plain JSON values (NaN and inf -> None)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        try:
            import pandas as pd

            if pd.isna(v):
                return None
        except (ImportError, TypeError, ValueError):
            pass
        return v.isoformat()
    if hasattr(v, "item"):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            return str(v)
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, int):
        return v
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(v)
