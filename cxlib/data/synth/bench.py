"""Benchmark worlds generated once and shared between processes (lock file).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from cxlib import config
from cxlib.data.synth.world import generate

__all__ = ["ensure_bench_world"]

# ======================================================== benchmark worlds
def ensure_bench_world(size: str | int = "large", seed: int = 7) -> Path:
    """``data/bench/world_<size>_<seed>``, generated only if missing.

    A lock file (``O_EXCL``, holding the generating process id) makes concurrent
    callers wait for the one that generates; a lock whose process is gone (or
    older than 30 minutes) is taken over.
    """
    bench = config.DATA_DIR / "bench"
    out = bench / f"world_{size}_{seed}"
    if (out / "truth.json").exists():
        return out
    bench.mkdir(parents=True, exist_ok=True)
    lock = bench / f"world_{size}_{seed}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if (out / "truth.json").exists():
                return out
            if _lock_is_stale(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            time.sleep(1.0)
            continue
        try:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            if not (out / "truth.json").exists():
                generate(out, size=size, seed=seed)
            return out
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


def _lock_is_stale(lock: Path) -> bool:
    try:
        age = time.time() - lock.stat().st_mtime
        text = lock.read_text().strip()
    except FileNotFoundError:
        return False
    if age > 1800:
        return True
    if not text.isdigit():
        return age > 10  # being written just now, or garbage
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
