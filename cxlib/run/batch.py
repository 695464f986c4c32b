"""Batch report runs: ``cx run BATCH.yml``.

A batch file names notebooks and a parameter grid; every job is checked
against its notebook's ``parameters`` cell before any kernel starts
(:mod:`cxlib.run.params`), then run in parallel worker processes, each report in a
fresh kernel process forked from a pre-imported zygote (:mod:`cxlib.run.kernels`).
Outputs go to ``reports/<batch>/<run-id>/``, never over an earlier run::

    name: regions                 # reports/regions/<run-id>/
    workers: auto                 # parallel workers (auto = number of cores)
    timeout: 600                  # seconds per job (whole notebook)
    retries: 1                    # further attempts for failures in retry_on
    retry_on: [kernel_died, worker_died]
    language: en                  # index and views (a job's own language wins)
    parameters: {dataset: sample} # for every job
    jobs:
      - notebook: notebooks/00_touchpoint_map.ipynb
      - notebook: notebooks/01_touchpoint_satisfaction.ipynb
        grid:                     # the product of the lists
          segment_value: {values_of: responses.segment}   # every value in the data
          period: [quarter, half]
      - notebook: notebooks/01_touchpoint_satisfaction.ipynb
        rows:                     # explicit rows (combined with grid when both given)
          - {segment_filter_column: region, segment_value: baku}

Each job gets a stable id (notebook stem + parameter values + a short hash),
so ``cx run BATCH.yml --resume`` can rerun only the jobs of the latest run
that failed or never finished. The manifest (``manifest.json``) is rewritten
atomically after every job; outputs are written under a temporary name and
renamed. The exit code is 1 when any job failed, 2 when the batch is invalid.

With ``--cluster tcp://HOST:PORT`` the same jobs run on a Dask cluster; its
workers need cxlib installed and the data at the same paths.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.errors import CxError
from cxlib.io import guard_write, write_bytes_atomic, write_json_atomic
from cxlib.share.results import SUFFIX

__all__ = ["Batch", "Job", "execute_job", "load_batch", "main", "run_batch"]

#: Failure kinds recorded in the manifest.
KINDS = ("error", "timeout", "kernel_died", "worker_died", "runner_error")
DEFAULT_BATCH = "default.yml"
GRACE = 30.0  # seconds past a job's timeout before its worker is killed


# ----------------------------------------------------------------- batch file
@dataclass
class Job:
    """One notebook run: a notebook and its parameters."""

    notebook: Path
    parameters: dict[str, Any]
    job_id: str = ""
    #: parameters that tell this job from its siblings (shown in its id)
    varying: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.job_id:
            self.job_id = job_id(self.notebook, self.parameters, shown=self.varying)


@dataclass
class Batch:
    """A parsed batch file (see the module docstring)."""

    name: str
    jobs: list[Job]
    path: Path | None = None
    workers: int = 0
    timeout: float = 600.0
    retries: int = 1
    retry_on: tuple[str, ...] = ("kernel_died", "worker_died")
    language: str = "en"
    render: bool = True
    kernels: str = "warm"
    preload: list[str] = field(default_factory=list)


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return text[:24] or "_"


def job_id(notebook: str | os.PathLike[str], parameters: dict[str, Any],
           shown: tuple[str, ...] | None = None) -> str:
    """Stable, file-safe id: ``<stem>--<shown values>--<hash of all parameters>``.

    The hash covers every parameter, so two jobs never share an id and a
    changed parameter is a new job for ``--resume``; ``shown`` (default: all)
    picks the values written out for a reader.
    """
    stem = Path(notebook).stem
    canon = json.dumps(parameters, sort_keys=True, default=str)
    digest = hashlib.sha1(f"{stem}\n{canon}".encode()).hexdigest()[:6]
    keys = sorted(parameters if shown is None else [k for k in shown if k in parameters])
    values = "_".join(_slug(parameters[k]) for k in keys)
    return f"{stem}--{values[:60]}--{digest}" if values else f"{stem}--{digest}"


def _expand_values(name: str, spec: Any, params: dict[str, Any], where: str) -> list[Any]:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, dict) and set(spec) == {"values_of"}:
        from cxlib.run.params import DataFacts

        table, _, column = str(spec["values_of"]).partition(".")
        if not column:
            raise CxError(f"{where}: values_of must be TABLE.COLUMN, e.g. responses.segment")
        dataset = str(params.get("dataset", "sample"))
        values = sorted(DataFacts().values(dataset, table, column), key=str)
        if not values:
            raise CxError(f"{where}: no values of {table}.{column} in dataset {dataset!r}")
        return [v.item() if hasattr(v, "item") else v for v in values]
    return [spec]


def _expand(entry: dict[str, Any], defaults: dict[str, Any],
            where: str) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    fixed = {**defaults, **(entry.get("parameters") or {})}
    grid = entry.get("grid") or {}
    rows = entry.get("rows") or [{}]
    if not isinstance(grid, dict):
        raise CxError(f"{where}: grid must map parameter names to lists of values")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CxError(f"{where}: rows must be a list of mappings (one per job)")
    names = list(grid)
    lists = [_expand_values(n, grid[n], fixed, f"{where} grid.{n}") for n in names]
    out = []
    for combo in itertools.product(*lists):
        for row in rows:
            params = {**fixed, **dict(zip(names, combo, strict=True)), **row}
            shown = tuple(dict.fromkeys([*(entry.get("parameters") or {}), *names, *row]))
            out.append((params, shown))
    return out


def load_batch(path: str | os.PathLike[str]) -> Batch:
    """Read a batch file and expand its jobs (no parameter checking yet)."""
    import yaml

    p = Path(path)
    if not p.exists() and not p.is_absolute():
        for base in (config.BATCHES_DIR, config.ROOT):
            if (base / p).exists():
                p = base / p
                break
    if not p.exists():
        raise CxError(f"batch file {path} not found (looked in ., {config.BATCHES_DIR})")
    try:
        spec = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CxError(f"{p} is not valid YAML: {exc}") from exc
    known = {"name", "workers", "timeout", "retries", "retry_on", "language", "parameters",
             "jobs", "render", "kernels", "preload"}
    unknown = set(spec) - known
    if unknown:
        raise CxError(f"{p}: unknown keys {sorted(unknown)}; a batch has {sorted(known)}")
    if not spec.get("jobs"):
        raise CxError(f"{p}: no jobs; add a 'jobs:' list of {{notebook: ..., grid: ...}}")
    defaults = dict(spec.get("parameters") or {})
    jobs: list[Job] = []
    for i, entry in enumerate(spec["jobs"]):
        where = f"{p.name} jobs[{i}]"
        if isinstance(entry, str):
            entry = {"notebook": entry}
        if "notebook" not in entry:
            raise CxError(f"{where}: every job needs a 'notebook'")
        extra = set(entry) - {"notebook", "parameters", "grid", "rows"}
        if extra:
            raise CxError(f"{where}: unknown keys {sorted(extra)}; use parameters, grid, rows")
        nb = Path(entry["notebook"])
        if not nb.is_absolute():
            nb = config.ROOT / nb if (config.ROOT / nb).exists() else p.parent / nb
        jobs.extend(Job(nb, params, varying=shown)
                    for params, shown in _expand(entry, defaults, where))
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.job_id in seen:
            raise CxError(f"{p}: job {job.job_id} appears twice (same notebook and parameters)")
        seen[job.job_id] = job
    workers = spec.get("workers", "auto")
    retry_on = tuple(spec.get("retry_on", Batch.retry_on))
    bad = [k for k in retry_on if k not in KINDS]
    if bad:
        raise CxError(f"{p}: retry_on has unknown failure kinds {bad}; kinds: {list(KINDS)}")
    kernels = spec.get("kernels", "warm")
    if kernels not in ("warm", "cold"):
        raise CxError(f"{p}: kernels must be 'warm' (forked, pre-imported) or 'cold'")
    return Batch(
        name=str(spec.get("name") or p.stem), jobs=jobs, path=p,
        workers=0 if workers in (None, "auto") else int(workers),
        timeout=float(spec.get("timeout", 600)), retries=int(spec.get("retries", 1)),
        retry_on=retry_on, language=str(spec.get("language", "en")),
        render=bool(spec.get("render", True)), kernels=kernels,
        preload=list(spec.get("preload") or []),
    )


def validate(batch: Batch) -> None:
    """Check every job's parameters against its notebook; one error lists all problems."""
    from cxlib.run.params import check_jobs

    check_jobs([(j.job_id, j.notebook, j.parameters) for j in batch.jobs],
               source=str(batch.path or batch.name))


# ----------------------------------------------------------------- one job
_WARM: dict[tuple[str, ...], Any] = {}
_WARM_LOCK = threading.Lock()


def _kernel_manager(kind: str, preload: tuple[str, ...], registry: list[Any]) -> type:
    """A kernel-manager class for one job that records its instances (for the timeout)."""
    from cxlib.run import kernels

    if kind == "warm":
        with _WARM_LOCK:
            warm = _WARM.get(preload)
            if warm is None or not warm.alive():
                warm = _WARM[preload] = kernels.WarmKernels(preload).start()
        base = warm.manager_class
    else:
        base = kernels.ipc_kernel_manager()

    class JobKernelManager(base):  # type: ignore[misc, valid-type]
        async def start_kernel(self, **kw: Any) -> None:
            registry.append(self)
            await super().start_kernel(**kw)

    return JobKernelManager


def _kill_kernels(registry: list[Any]) -> None:
    for km in registry:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is None:
            continue
        for fn in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                fn(proc.pid, signal.SIGKILL)


def _failing_cell(nb_path: Path) -> dict[str, Any] | None:
    """The cell that was running or failed, from the (partial) output notebook."""
    import nbformat

    if not nb_path.exists():
        return None
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:  # a broken partial output is not worth a second error
        return None
    injected = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in nb.cells if not injected & set(c.get("metadata", {}).get("tags", []))]
    for i, cell in enumerate(cells):  # i: the cell's position in the notebook as written
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {})
        pm, execution = meta.get("papermill", {}), meta.get("execution", {})
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        started = pm.get("start_time") is not None or "iopub.status.busy" in execution
        unanswered = started and "shell.execute_reply" not in execution  # the kernel died
        if pm.get("status") in ("running", "failed") or errored or unanswered:
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            return {"index": i, "execution_count": cell.get("execution_count"),
                    "source": first[:200]}
    return None


def execute_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job (in a worker process or on a Dask worker) and return its record.

    ``spec`` holds ``job_id``, ``notebook`` (path), ``notebook_json`` (its
    content), ``parameters``, ``timeout``, ``render``, ``language``,
    ``kernels`` and ``preload``. The record carries ``status``, ``duration``,
    ``error`` (kind, type, message, cell) and ``files``: the output files as
    bytes, which the caller writes into the run folder.
    """
    import nbformat

    t0 = time.perf_counter()
    job = spec["job_id"]
    rec: dict[str, Any] = {"job_id": job, "status": "ok", "error": None,
                           "host": os.uname().nodename, "pid": os.getpid()}
    with tempfile.TemporaryDirectory(prefix="cxjob-") as tmp:
        out = Path(tmp) / f"{job}.ipynb"
        src = Path(tmp) / "input.ipynb"
        nbformat.write(nbformat.reads(spec["notebook_json"], as_version=4), str(src))
        nb_dir = Path(spec["notebook"]).parent
        cwd = str(nb_dir) if nb_dir.is_dir() else tmp
        res_path = Path(tmp) / f"{job}{SUFFIX}"
        params = {**spec["parameters"], "results_path": str(res_path)}
        registry: list[Any] = []
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            _kill_kernels(registry)

        timer = threading.Timer(float(spec["timeout"]), on_timeout)
        timer.daemon = True
        try:
            import logging

            import papermill as pm

            # cxlib.run.params checked the parameters before the run, more strictly than
            # papermill's own inference, whose warnings would only be noise here
            logging.getLogger("papermill").setLevel(logging.ERROR)
            kmc = _kernel_manager(spec.get("kernels", "warm"), tuple(spec.get("preload", ())),
                                  registry)
            timer.start()
            pm.execute_notebook(
                str(src), str(out), parameters=params, kernel_name="python3",
                kernel_manager_class=kmc, cwd=cwd, progress_bar=False, log_output=False,
                execution_timeout=float(spec["timeout"]), start_timeout=120,
                shutdown_kernel="immediate",
            )
        except BaseException as exc:  # every failure is recorded, none escapes
            rec["status"] = "failed"
            rec["error"] = _classify(exc, timed_out.is_set(), spec["timeout"])
            rec["error"]["cell"] = _failing_cell(out)
        finally:
            timer.cancel()
            _kill_kernels([km for km in registry if _alive(km)])
        if out.exists() and spec.get("render", True):
            try:
                from cxlib.share.render import render_notebook

                render_notebook(out, language=str(params.get("language", spec["language"])))
            except Exception as exc:  # a failed render marks the render only
                rec["render_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        rec["files"] = {p.name: p.read_bytes() for p in Path(tmp).iterdir()
                        if p.is_file() and p != src}
    rec["duration"] = round(time.perf_counter() - t0, 3)
    return rec


def _alive(km: Any) -> bool:
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return proc is not None and proc.poll() is None


def _classify(exc: BaseException, timed_out: bool, timeout: float) -> dict[str, Any]:
    name = type(exc).__name__
    message = str(exc)
    if timed_out:
        return {"kind": "timeout", "type": "Timeout",
                "message": f"the job ran past its timeout of {timeout:g} s and was stopped"}
    if name == "PapermillExecutionError":
        return {"kind": "error", "type": getattr(exc, "ename", name),
                "message": str(getattr(exc, "evalue", message))[-2000:],
                "traceback": "\n".join(getattr(exc, "traceback", []) or [])[-4000:]}
    if name == "CellTimeoutError":
        return {"kind": "timeout", "type": name, "message": message[-2000:]}
    if name == "DeadKernelError" or "died" in message.lower():
        return {"kind": "kernel_died", "type": name,
                "message": ("the kernel process died (crashed, os._exit, or killed, e.g. by "
                            f"the out-of-memory killer): {message}")[-2000:]}
    return {"kind": "runner_error", "type": name, "message": message[-2000:],
            "traceback": traceback.format_exc()[-4000:]}


# ----------------------------------------------------------------- local pool
def _worker_main(conn: Any) -> None:
    """A worker process: run job specs from the pipe until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        while True:
            try:
                spec = conn.recv()
            except EOFError:
                break
            if spec is None:
                break
            conn.send(execute_job(spec))
    finally:
        for warm in _WARM.values():
            warm.close()


class _Slot:
    """One worker process of the local pool, restarted when it dies or hangs."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.proc: Any = None
        self.conn: Any = None

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def run(self, spec: dict[str, Any], deadline: float) -> dict[str, Any]:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        try:
            self.conn.send(spec)
            while True:
                if self.conn.poll(0.2):
                    return self.conn.recv()
                if not self.proc.is_alive():
                    raise EOFError
                if time.monotonic() > deadline:
                    self.stop(kill=True)
                    return _lost(spec, "timeout", "the worker did not finish the job within "
                                 f"its timeout of {spec['timeout']:g} s (+{GRACE:g} s grace)")
        except (EOFError, OSError, BrokenPipeError):
            code = self.proc.exitcode if self.proc is not None else None
            self.stop(kill=True)
            return _lost(spec, "worker_died", f"the worker process died (exit code {code})")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(OSError, BrokenPipeError):
            if not kill:
                self.conn.send(None)
        self.proc.join(timeout=0 if kill else 15)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()
        self.proc = self.conn = None


def _lost(spec: dict[str, Any], kind: str, message: str) -> dict[str, Any]:
    return {"job_id": spec["job_id"], "status": "failed", "duration": None, "files": {},
            "error": {"kind": kind, "type": kind, "message": message, "cell": None}}


class LocalPool:
    """``n`` worker processes on this machine (default: one per core)."""

    def __init__(self, n: int) -> None:
        import multiprocessing as mp

        self.n = n
        ctx = mp.get_context("spawn")
        self._free = [_Slot(ctx) for _ in range(n)]
        self._lock = threading.Lock()
        self.address = "local"

    def map_unordered(self, next_spec: Callable[[], dict[str, Any] | None],
                      on_start: Callable[[dict[str, Any]], None]) -> Iterator[dict[str, Any]]:
        """Run specs as ``next_spec()`` hands them out; yield records as jobs end.

        ``next_spec`` is asked again after every yielded record, so a retry
        queued by the caller joins the run.
        """
        import queue

        todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
        done: queue.Queue[dict[str, Any]] = queue.Queue()

        def drive(slot: _Slot) -> None:
            while (spec := todo.get()) is not None:
                on_start(spec)
                try:
                    rec = slot.run(spec, time.monotonic() + float(spec["timeout"]) + GRACE)
                except Exception as exc:
                    rec = _lost(spec, "runner_error", f"{type(exc).__name__}: {exc}")
                done.put(rec)

        threads = [threading.Thread(target=drive, args=(s,), daemon=True) for s in self._free]
        for t in threads:
            t.start()
        pending = 0
        try:
            while True:
                while pending < self.n and (spec := next_spec()) is not None:
                    todo.put(spec)
                    pending += 1
                if pending == 0:
                    break
                rec = done.get()
                pending -= 1
                yield rec
        finally:
            for _ in threads:
                todo.put(None)

    def close(self) -> None:
        for slot in self._free:
            slot.stop()


class DaskPool:
    """Jobs on an existing Dask cluster (``--cluster tcp://HOST:PORT``)."""

    def __init__(self, address: str) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout=30)
        except OSError as exc:
            raise CxError(f"cannot reach the Dask scheduler at {address}: {exc}; start one "
                          "(`dask scheduler`) or drop --cluster to run locally") from exc
        self.address = address
        self.n = max(1, sum(w.get("nthreads", 1) for w in
                            self.client.scheduler_info()["workers"].values()))

    def map_unordered(self, next_spec: Callable[[], dict[str, Any] | None],
                      on_start: Callable[[dict[str, Any]], None]) -> Iterator[dict[str, Any]]:
        """As :meth:`LocalPool.map_unordered`, on the cluster's workers."""
        from distributed import as_completed

        futures: dict[Any, dict[str, Any]] = {}
        ac = as_completed()

        def top_up() -> None:
            while len(futures) < self.n and (spec := next_spec()) is not None:
                on_start(spec)
                key = f"cx-{spec['job_id']}-{spec['attempt']}-{secrets.token_hex(3)}"
                fut = self.client.submit(execute_job, spec, pure=False, key=key)
                futures[fut] = spec
                ac.add(fut)

        top_up()
        for fut in ac:
            spec = futures.pop(fut)
            try:
                rec = fut.result()
            except Exception as exc:  # a lost worker fails this job only
                kind = "worker_died" if type(exc).__name__ == "KilledWorker" else "runner_error"
                rec = _lost(spec, kind, f"{type(exc).__name__}: {exc}")
            yield rec
            top_up()

    def close(self) -> None:
        self.client.close()


# ----------------------------------------------------------------- the run
def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def latest_run(batch_dir: Path) -> Path | None:
    """The most recently started run of a batch (by its manifest), or None."""
    runs = []
    for d in batch_dir.iterdir() if batch_dir.is_dir() else []:
        m = d / "manifest.json"
        if d.is_dir() and m.exists():
            with contextlib.suppress(OSError, ValueError):
                runs.append((json.loads(m.read_text(encoding="utf-8")).get("started", ""), d))
    return max(runs)[1] if runs else None


def _guard(path: Path) -> None:
    guard_write(path)  # data/raw is read-only, whatever a batch file says


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)  # guarded: data/raw is read-only


def _outputs(job: str, names: set[str]) -> dict[str, str]:
    want = {"ipynb": f"{job}.ipynb", "results": f"{job}{SUFFIX}",
            "manager_html": f"{job}.manager.html", "analyst_html": f"{job}.analyst.html"}
    return {k: v for k, v in want.items() if v in names}


class _Progress:
    """Jobs done, failed, running and time left: a tqdm bar on a terminal, lines otherwise."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        from tqdm import tqdm

        self.tty = sys.stderr.isatty() if enabled is None else enabled
        self.bar = tqdm(total=total, unit="job", disable=not self.tty, dynamic_ncols=True)
        self.ok = self.failed = self.running = 0
        self.lock = threading.Lock()
        self.total = total
        self.t0 = time.monotonic()

    def started(self) -> None:
        with self.lock:
            self.running += 1
            self._post()

    def finished(self, rec: dict[str, Any], final: bool) -> None:
        with self.lock:
            self.running -= 1
            if final:
                if rec["status"] == "ok":
                    self.ok += 1
                else:
                    self.failed += 1
                self.bar.update(1)
            self._post()
        if not self.tty:
            err = rec.get("error") or {}
            what = "ok" if rec["status"] == "ok" else f"{err.get('kind')}: {err.get('type')}"
            done = self.ok + self.failed
            left = ""
            if done and done < self.total:
                eta = (time.monotonic() - self.t0) / done * (self.total - done)
                left = f", ~{eta:.0f} s left"
            retry = "" if final else " (will retry)"
            print(f"[{done}/{self.total}{left}] {rec['job_id']}: {what}{retry} "
                  f"({rec.get('duration')} s)", flush=True)

    def _post(self) -> None:
        self.bar.set_postfix(ok=self.ok, failed=self.failed, running=self.running)

    def close(self) -> None:
        self.bar.close()


def run_batch(
    batch: Batch | str | os.PathLike[str],
    *,
    resume: bool = False,
    workers: int | None = None,
    cluster: str | None = None,
    out_root: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Validate, then run every job of a batch; return the run folder and manifest.

    Parameters
    ----------
    batch
        A :class:`Batch` or the path of a batch file.
    resume
        Carry over the jobs that succeeded in the latest run of this batch and
        run only the failed and missing ones (into a new run folder).
    workers
        Parallel worker processes (default: the batch's ``workers``, else the
        number of cores). Ignored with ``cluster``.
    cluster
        Address of a Dask scheduler (``tcp://HOST:PORT``) to run the jobs on.
    out_root
        Reports root (default ``config.REPORTS_DIR``).
    progress
        Show a progress bar (default: when standard error is a terminal;
        otherwise one line per finished job).

    Raises
    ------
    ParameterError
        Before anything runs, listing every bad parameter of every job.
    """
    b = batch if isinstance(batch, Batch) else load_batch(batch)
    validate(b)
    root = Path(out_root or config.REPORTS_DIR) / b.name
    previous = latest_run(root) if resume else None
    carried: dict[str, dict[str, Any]] = {}
    if resume and previous is None:
        print(f"cx run: no earlier run of {b.name!r} under {root}; running every job",
              file=sys.stderr)
    if previous is not None:
        old = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
        for rec in old.get("jobs", []):
            files = [previous / f for f in (rec.get("outputs") or {}).values()]
            if rec.get("status") == "ok" and all(f.exists() for f in files):
                carried[rec["job_id"]] = rec
    run_id = _run_id()
    run_dir = root / run_id
    _guard(run_dir)
    run_dir.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "schema": "cx-manifest/1", "batch": b.name, "run_id": run_id,
        "batch_file": str(b.path) if b.path else None,
        "started": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "finished": None, "status": "running",
        "resumed_from": previous.name if previous else None,
        "jobs": [],
    }
    records: dict[str, dict[str, Any]] = {}
    to_run: list[Job] = []
    for job in b.jobs:
        if job.job_id in carried:
            rec = dict(carried[job.job_id])
            for name in (rec.get("outputs") or {}).values():
                src, dst = previous / name, run_dir / name  # type: ignore[operator]
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
            rec["carried_from"] = rec.get("carried_from") or previous.name  # type: ignore[union-attr]
            records[job.job_id] = rec
        else:
            to_run.append(job)
            records[job.job_id] = {"job_id": job.job_id, "notebook": _rel(job.notebook),
                                   "parameters": job.parameters, "status": "pending",
                                   "attempts": 0, "outputs": {}}
    lock = threading.Lock()

    def save() -> None:
        manifest["jobs"] = [records[j.job_id] for j in b.jobs]
        write_json_atomic(run_dir / "manifest.json", manifest)

    save()
    if previous is not None:
        print(f"resuming {previous.name}: {len(carried)} job(s) carried over, "
              f"{len(to_run)} to run", file=sys.stderr)
    preload = list(dict.fromkeys([*_imports(b), *b.preload]))
    nb_text = {j.notebook: j.notebook.read_text(encoding="utf-8") for j in to_run}
    n = workers or b.workers or os.cpu_count() or 1
    pool: Any = DaskPool(cluster) if cluster else LocalPool(min(n, max(1, len(to_run))))
    manifest["executor"] = {"kind": "dask" if cluster else "local", "address": pool.address,
                            "workers": pool.n, "kernels": b.kernels}
    bar = _Progress(len(to_run), progress)
    queue_ = [_spec(job, b, nb_text, preload, 1) for job in reversed(to_run)]

    def next_spec() -> dict[str, Any] | None:
        return queue_.pop() if queue_ else None

    def on_start(spec: dict[str, Any]) -> None:
        with lock:
            r = records[spec["job_id"]]
            r["status"], r["attempts"] = "running", spec["attempt"]
            r["started"] = datetime.now(UTC).isoformat(timespec="seconds")
        bar.started()

    try:
        for rec in pool.map_unordered(next_spec, on_start):
            spec_attempt = records[rec["job_id"]]["attempts"]
            err = rec.get("error") or {}
            again = (rec["status"] != "ok" and err.get("kind") in b.retry_on
                     and spec_attempt <= b.retries)
            files = rec.pop("files", {})
            with lock:
                for name, data in files.items():
                    _write_atomic(run_dir / name, data)
                r = records[rec["job_id"]]
                r.update({k: v for k, v in rec.items() if k != "job_id"})
                r["outputs"] = _outputs(rec["job_id"], set(files))
                r["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
                if again:
                    r["status"] = "retrying"
                save()
            bar.finished(rec, final=not again)
            if again:
                job = next(j for j in to_run if j.job_id == rec["job_id"])
                queue_.append(_spec(job, b, nb_text, preload, spec_attempt + 1))
    finally:
        pool.close()
        bar.close()
        for r in records.values():
            if r["status"] in ("pending", "running", "retrying"):
                r["status"] = "failed"
                r.setdefault("error", None)
                r["error"] = r["error"] or {"kind": "runner_error", "type": "Interrupted",
                                            "message": "the run stopped before this job ended"}
        manifest["finished"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        bad = [r for r in records.values() if r["status"] != "ok"]
        manifest["status"] = "failed" if bad else "ok"
        save()
    try:
        from cxlib.share.render import build_index

        build_index(run_dir, language=b.language)
    except Exception:  # a broken index must not hide the run's results
        traceback.print_exc()
    return run_dir, manifest


def _spec(job: Job, b: Batch, nb_text: dict[Path, str], preload: list[str],
          attempt: int) -> dict[str, Any]:
    return {"job_id": job.job_id, "notebook": str(job.notebook),
            "notebook_json": nb_text[job.notebook], "parameters": job.parameters,
            "timeout": b.timeout, "render": b.render, "language": b.language,
            "kernels": b.kernels, "preload": preload, "attempt": attempt}


def _rel(p: Path) -> str:
    return str(p.relative_to(config.ROOT)) if p.is_relative_to(config.ROOT) else str(p)


def _imports(b: Batch) -> list[str]:
    from cxlib.run.kernels import notebook_imports

    return notebook_imports(sorted({j.notebook for j in b.jobs}))


# ----------------------------------------------------------------- CLI
def _summary(run_dir: Path, manifest: dict[str, Any]) -> int:
    jobs = manifest["jobs"]
    bad = [j for j in jobs if j["status"] != "ok"]
    for j in bad:
        err = j.get("error") or {}
        cell = err.get("cell") or {}
        where = f" in cell {cell.get('index')} ({cell.get('source')!r})" if cell else ""
        print(f"FAILED {j['job_id']}: {err.get('kind')} {err.get('type')}{where}: "
              f"{str(err.get('message', ''))[:300]}", file=sys.stderr)
    print(f"{len(jobs) - len(bad)} ok, {len(bad)} failed -> {run_dir}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cx run", description="Run a batch of notebooks.")
    ap.add_argument("batch", nargs="?", default=DEFAULT_BATCH,
                    help=f"batch file (default: batches/{DEFAULT_BATCH})")
    ap.add_argument("--resume", action="store_true",
                    help="rerun only the failed and missing jobs of the latest run")
    ap.add_argument("--workers", type=int, default=None, help="parallel workers (default: cores)")
    ap.add_argument("--cluster", default=None, metavar="tcp://HOST:PORT",
                    help="run on this Dask scheduler instead of local workers")
    ap.add_argument("--check", action="store_true", help="validate the batch and stop")
    ap.add_argument("--no-progress", action="store_true", help="one line per job, no bar")
    args = ap.parse_args(argv)
    b = load_batch(args.batch)
    if args.check:
        validate(b)
        print(f"{b.path}: {len(b.jobs)} job(s), parameters valid")
        return 0
    run_dir, manifest = run_batch(b, resume=args.resume, workers=args.workers,
                                  cluster=args.cluster,
                                  progress=False if args.no_progress else None)
    return _summary(run_dir, manifest)


def report_main(argv: list[str] | None = None) -> int:
    """``cx report``: the default batch (what ``make report`` runs)."""
    return main([DEFAULT_BATCH, *(argv or [])])
