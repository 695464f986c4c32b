"""Where a warm report's time goes: a kept profile of one worker running jobs.

``python -m benchmarks.profile_warm_kernel [NOTEBOOK] [--jobs N] [--render] [--cprofile]``

Runs ``N`` jobs of a notebook (default: the benchmark's small report) one after
another through :func:`cxlib.run.workers.execute_job`, as a worker of ``cx run``
does, with warm kernels, and prints for the jobs after the first the median
time of each step:

- ``kernel_request``: the kernel manager asks the zygote for a kernel (connect,
  fork, answer);
- ``kernel_init``: in the child, from ``fork`` to an initialised IPython kernel
  (``CX_KERNEL_TRACE``, :mod:`cxlib.run.zygote`);
- ``kernel_ready``: from then to the first ``kernel_info`` reply (the client's
  handshake);
- ``cells``: the notebook's cells (papermill's per-cell durations), split into
  ``cell[i]``;
- ``shutdown``: killing the kernel and closing the client;
- ``papermill_other``: papermill's own work (reading, parameterising, writing);
- ``render``: the managers' and analysts' HTML (with ``--render``);
- ``pdf``: the brief printed by headless Chromium (with ``--render``, when installed);
- ``job_other``: the rest of the job (temporary folder, reading the output files).

``--cprofile`` also prints the worker side's cumulative profile. This profile
found the ~0.75 s a forked kernel paid per report before issue 17: a launcher
process per kernel, lazily imported modules (pyarrow's Parquet reader, pandera)
imported again by every report, 0.1 s polling after the kill, papermill saving
the notebook after every cell; see ``cxlib/run/zygote.py`` for what changed.

The second round (``--render``) found the rendering side: a new nbconvert
exporter per report compiled its Jinja templates again (0.09 s), the brief's
own templates likewise, the JupyterLab style sheet was sanitised again for
every page (0.02 s), nbconvert's bleach pass over every code cell duplicated
the page sanitiser (0.02 s), the message catalog was parsed by the pure-Python
YAML loader in every process (0.24 s), and a fresh Chromium per PDF cost about
0.5 s. ``render`` went from ~128 ms to ~35 ms and ``pdf`` from ~540 ms to
~55 ms (one kept browser per worker; :mod:`cxlib.share.pdf`).

The third round looked at the whole run's CPU (2 cores, both saturated: every
CPU-second saved is half a second of the batch). ``cell[3]`` (load and validate
the sample responses) went from ~100 ms to ~57 ms: a world's table is validated
once per file content (:func:`cxlib.data.datasets._validated`). nbconvert's
closing BeautifulSoup pass over the analysts' page was ~15 ms of ``render``
(now ~28 ms of CPU). Chromium spent ~78 ms of CPU a brief, half of it on the
navigation to the page's file: a brief, which can fetch nothing, is now set as
the tab's document from memory (~37 ms), and the omnibox popup's WebUI renderer
that redrew on every page is switched off (~29 ms). Outside the reports: the
zygote and the workers' fork server start before the batch file is read (they
were started after it, ~0.8 s later), and the zygote and ``cx`` itself exit
without tearing down their modules (~0.35 s at the end of a run). Left:
``kernel_init`` (~41 ms of CPU: IPython's application, shell and kernel objects;
pre-initialising the application in the zygote saved only ~5 ms), fork and
page faults (~60 ms of system time per kernel), and the notebook's own cells.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NB = Path(__file__).parent / "notebooks" / "small_report.ipynb"


class _Clock:
    """Worker-side timestamps of one job, by patching the steps' entry points."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def install(self) -> None:
        import nbclient.client as ncc

        from cxlib.run import kernels

        clock = self
        ask = kernels._ask_zygote

        async def timed_ask(*a: Any, **k: Any) -> Any:
            clock.marks["request_start"] = time.time()
            out = await ask(*a, **k)
            clock.marks["request_end"] = time.time()
            clock.marks["kernel_pid"] = out.pid
            return out

        kernels._ask_zygote = timed_ask  # type: ignore[assignment]
        start_client = ncc.NotebookClient.async_start_new_kernel_client
        cleanup = ncc.NotebookClient._async_cleanup_kernel

        async def timed_client(self: Any, *a: Any, **k: Any) -> Any:
            out = await start_client(self, *a, **k)
            clock.marks["ready"] = time.time()
            return out

        async def timed_cleanup(self: Any, *a: Any, **k: Any) -> Any:
            clock.marks["shutdown_start"] = time.time()
            out = await cleanup(self, *a, **k)
            clock.marks["shutdown_end"] = time.time()
            return out

        from jupyter_core.utils import run_sync

        # papermill calls the synchronous wrappers, made from these at class creation
        ncc.NotebookClient.async_start_new_kernel_client = timed_client  # type: ignore
        ncc.NotebookClient.start_new_kernel_client = run_sync(timed_client)  # type: ignore
        ncc.NotebookClient._async_cleanup_kernel = timed_cleanup  # type: ignore
        ncc.NotebookClient._cleanup_kernel = run_sync(timed_cleanup)  # type: ignore

        import papermill

        from cxlib.share import export, render

        self._time(papermill, "execute_notebook", "papermill")
        self._time(render, "render_notebook", "render")
        self._time(export, "html_to_pdf", "pdf")

    def _time(self, module: Any, name: str, step: str) -> None:
        """Replace ``module.name`` by a wrapper marking ``<step>_start``/``<step>_end``."""
        fn, clock = getattr(module, name), self

        def timed(*a: Any, **k: Any) -> Any:
            clock.marks[f"{step}_start"] = time.time()
            try:
                return fn(*a, **k)
            finally:
                clock.marks[f"{step}_end"] = time.time()

        setattr(module, name, timed)


def _steps(marks: dict[str, float], trace: list[dict[str, Any]], nb: Any,
           total: float) -> dict[str, float]:
    pid = marks.get("kernel_pid")
    kt = {r["step"]: r["t"] for r in trace if r.get("pid") == pid}
    cells = [float(c.metadata.get("papermill", {}).get("duration") or 0.0)
             for c in nb.cells if c.cell_type == "code"]
    out = {"kernel_request": marks["request_end"] - marks["request_start"]}
    if "initialized" in kt and "forked" in kt:
        out["kernel_init"] = kt["initialized"] - kt["forked"]
        out["kernel_ready"] = marks["ready"] - kt["initialized"]
    else:
        out["kernel_ready"] = marks["ready"] - marks["request_end"]
    out["cells"] = sum(cells)
    for i, c in enumerate(cells):
        out[f"cell[{i}]"] = c
    out["shutdown"] = marks["shutdown_end"] - marks["shutdown_start"]
    pm = marks["papermill_end"] - marks["papermill_start"]
    out["papermill_other"] = pm - sum(out[k] for k in
                                      ("kernel_request", "kernel_init", "kernel_ready",
                                       "cells", "shutdown") if k in out)
    if "render_end" in marks:
        out["render"] = marks["render_end"] - marks["render_start"]
    if "pdf_end" in marks:
        out["pdf"] = marks["pdf_end"] - marks["pdf_start"]
    out["job_other"] = total - pm - out.get("render", 0.0) - out.get("pdf", 0.0)
    out["total"] = total
    return out


def profile(notebook: Path = NB, jobs: int = 8, render: bool = False,
            use_cprofile: bool = False, parameters: dict[str, Any] | None = None
            ) -> dict[str, float]:
    """Median seconds of each step over jobs 2..N (job 1 starts the zygote)."""
    with tempfile.TemporaryDirectory(prefix="cxprof-") as tmp:
        trace_file = Path(tmp) / "trace.jsonl"
        os.environ["CX_KERNEL_TRACE"] = str(trace_file)
        from cxlib.run import kernels, workers

        clock = _Clock()
        clock.install()
        import nbformat

        text = notebook.read_text(encoding="utf-8")
        spec = {"notebook": str(notebook.resolve()), "notebook_json": text,
                "parameters": dict(parameters or {}), "timeout": 600, "render": render,
                "language": "en", "kernels": "warm",
                "preload": kernels.notebook_imports([notebook])}
        rows: list[dict[str, float]] = []
        prof = cProfile.Profile() if use_cprofile else None
        try:
            for i in range(jobs):
                clock.marks = {}
                t0 = time.perf_counter()
                if prof is not None and i:
                    prof.enable()
                rec = workers.execute_job({**spec, "job_id": f"p{i}"})
                if prof is not None:
                    prof.disable()
                total = time.perf_counter() - t0
                if rec["status"] != "ok":
                    raise RuntimeError(f"job {i} failed: {rec['error']}")
                nb = nbformat.reads(rec["files"][f"p{i}.ipynb"].decode(), as_version=4)
                trace = [json.loads(ln) for ln in trace_file.read_text().splitlines()] \
                    if trace_file.exists() else []
                if i:
                    rows.append(_steps(clock.marks, trace, nb, total))
        finally:
            kernels.close_all()
            os.environ.pop("CX_KERNEL_TRACE", None)
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    med = {k: statistics.median(r.get(k, 0.0) for r in rows) for k in keys}
    if prof is not None:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(40)
        print(s.getvalue())
    return med


def format_steps(med: dict[str, float]) -> str:
    width = max(len(k) for k in med)
    total = med.get("total") or 1.0
    return "\n".join(f"{k.ljust(width)}  {v * 1000:8.1f} ms  {100 * v / total:5.1f}%"
                     for k, v in med.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", nargs="?", type=Path, default=NB)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args(argv)
    med = profile(args.notebook, args.jobs, args.render, args.cprofile)
    print(f"load {os.getloadavg()[0]:.1f}; median of jobs 2..{args.jobs}")
    print(format_steps(med))
    return 0


if __name__ == "__main__":
    sys.exit(main())
