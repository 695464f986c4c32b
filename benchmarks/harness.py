"""Tiny measuring helpers shared by the benchmark modules."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

_CHILD = """
import json, resource, time, sys
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
# VmHWM belongs to this process image; ru_maxrss survives exec and would
# report the parent's peak
with open("/proc/self/status") as fh:
    hwm = [ln for ln in fh if ln.startswith("VmHWM")]
peak = (int(hwm[0].split()[1]) if hwm else
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
print("__BENCH__" + json.dumps({{"seconds": elapsed, "peak_mib": peak}}))
"""


def in_subprocess(setup: str, body: str, *, repeat: int = 3) -> dict[str, float]:
    """Time ``body`` (after ``setup``) in fresh Python processes.

    Returns the median seconds of ``repeat`` runs and the largest peak RSS
    (MiB) of the process, so that each case's memory is its own.
    """
    runs = []
    code = textwrap.dedent(setup) + "\n" + _CHILD.format(body=textwrap.dedent(body))
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"benchmark child failed:\n{out.stderr[-3000:]}")
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("__BENCH__")][-1]
        runs.append(json.loads(line.removeprefix("__BENCH__")))
    secs = sorted(r["seconds"] for r in runs)
    return {"seconds": secs[len(secs) // 2], "peak_mib": max(r["peak_mib"] for r in runs)}


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``repeat`` calls, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], result
