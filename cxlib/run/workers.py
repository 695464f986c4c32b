"""Executing batch jobs: one notebook in a fresh kernel, and the pools that run many.

Run layer. :func:`execute_job` runs one job (in a worker process or on a Dask
worker) with papermill in a kernel forked from a pre-imported zygote
(:mod:`cxlib.run.kernels`) or an ordinary one, under a watchdog that kills the
kernel at the job's timeout, renders both views (:mod:`cxlib.share.render`) and
returns a record with the output files as bytes. :class:`LocalPool` keeps
worker processes on this machine and replaces any that die or hang (a worker
whose runner was killed with ``kill -9`` ends its kernels and itself);
:class:`DaskPool` submits the same jobs to an existing Dask cluster. The run
itself (manifest, resume, CLI) is :mod:`cxlib.run.batch`.

Failures are classified by exception type (papermill's ``PapermillExecutionError``,
nbclient's ``CellTimeoutError`` and ``DeadKernelError``, distributed's
``KilledWorker``) into the kinds of :data:`cxlib.run.batchfile.KINDS`; a report
that cannot be rendered fails its job (kind ``render_error``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cxlib.errors import ExecutionError
from cxlib.share.results import SUFFIX

__all__ = ["GRACE", "DaskPool", "LocalPool", "execute_job", "lost_record", "start_fork_server"]

GRACE = 30.0  # seconds past a job's timeout before its worker is killed
#: What every worker imports: done once, in the fork server the workers are forked from.
_WORKER_IMPORTS = ("cxlib.run.workers", "cxlib.run.kernels", "papermill", "nbclient",
                   "nbformat", "cxlib.share.render", "cxlib.share.export", "cxlib.share.pdf",
                   "nbconvert.exporters.html", "bs4", "jinja2")


# ----------------------------------------------------------------- one job
def _kernel_manager(kind: str, preload: tuple[str, ...], registry: list[Any],
                    zygote: str | None = None) -> type:
    """A kernel-manager class for one job that records its instances (for the timeout)."""
    from cxlib.run import kernels

    if kind == "warm" and zygote:  # the local pool's one zygote, at this socket
        base = kernels.zygote_manager_class(zygote)
    elif kind == "warm":  # this process's zygote (kept across jobs; a Dask worker's too)
        base = kernels.warm_kernels(preload).manager_class
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
    if spec.get("kernels", "warm") == "warm" and not spec.get("zygote"):
        # this process's own zygote imports while this process does
        from cxlib.run.kernels import warm_kernels

        warm_kernels(tuple(spec.get("preload", ())))
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
        # the batch language reaches the notebook as its `language` parameter (set once)
        params = {"language": spec["language"], **spec["parameters"],
                  "results_path": str(res_path)}
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

            from cxlib.run.kernels import papermill_engine

            # cxlib.run.params checked the parameters before the run, more strictly than
            # papermill's own inference, whose warnings would only be noise here
            logging.getLogger("papermill").setLevel(logging.ERROR)
            kmc = _kernel_manager(spec.get("kernels", "warm"), tuple(spec.get("preload", ())),
                                  registry, spec.get("zygote"))
            timer.start()
            pm.execute_notebook(
                str(src), str(out), parameters=params, kernel_name="python3",
                kernel_manager_class=kmc, cwd=cwd, progress_bar=False, log_output=False,
                execution_timeout=float(spec["timeout"]), start_timeout=120,
                shutdown_kernel="immediate", engine_name=papermill_engine(),
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

                render_notebook(out, language=str(params.get("language", spec["language"])),
                                status=None if rec["status"] == "ok"
                                else (rec["error"] or {}).get("kind", "failed"))
            except Exception as exc:  # any failure to render fails the job (cron notices)
                rec["render_error"] = f"{type(exc).__name__}: {exc}"[:2000]
                if rec["status"] == "ok":
                    rec["status"] = "failed"
                    rec["error"] = {
                        "kind": "render_error", "type": type(exc).__name__,
                        "message": (f"the notebook ran but its report could not be rendered: "
                                    f"{exc}")[-2000:],
                        "traceback": traceback.format_exc()[-4000:], "cell": None}
            else:  # the brief's PDF here when the runner keeps no browser (spec pdf); the
                # run's export prints what is missing
                page = out.with_name(f"{job}.manager.html")
                if spec.get("pdf", True) and page.exists():
                    from cxlib.share.export import chromium, html_to_pdf

                    if chromium() is not None:
                        try:
                            html_to_pdf(page, page.with_suffix(".pdf"))
                        except Exception as exc:  # the HTML brief stands (as in export_run)
                            rec["pdf_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        rec["files"] = {p.name: p.read_bytes() for p in Path(tmp).iterdir()
                        if p.is_file() and p != src}
    rec["duration"] = round(time.perf_counter() - t0, 3)
    return rec


def _alive(km: Any) -> bool:
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return proc is not None and proc.poll() is None


def _classify(exc: BaseException, timed_out: bool, timeout: float) -> dict[str, Any]:
    """The manifest's error record for an exception, by its type (papermill, nbclient)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    name = type(exc).__name__
    message = str(exc)
    if timed_out:
        return {"kind": "timeout", "type": "Timeout",
                "message": f"the job ran past its timeout of {timeout:g} s and was stopped"}
    if isinstance(exc, PapermillExecutionError):
        return {"kind": "error", "type": exc.ename or name,
                "message": str(exc.evalue if exc.evalue is not None else message)[-2000:],
                "traceback": "\n".join(exc.traceback or [])[-4000:]}
    if isinstance(exc, CellTimeoutError):
        return {"kind": "timeout", "type": name, "message": message[-2000:]}
    # jupyter_client says "Kernel died before replying to kernel_info" as a RuntimeError
    if isinstance(exc, DeadKernelError) or (isinstance(exc, RuntimeError)
                                            and "died" in message.lower()):
        return {"kind": "kernel_died", "type": name,
                "message": ("the kernel process died (crashed, os._exit, or killed, e.g. by "
                            f"the out-of-memory killer): {message}")[-2000:]}
    return {"kind": "runner_error", "type": name, "message": message[-2000:],
            "traceback": traceback.format_exc()[-4000:]}


# ----------------------------------------------------------------- local pool
def _orphan_watch(runner: int, every: float = 1.0) -> None:
    """End this worker, its kernels and zygote when the runner is gone (``kill -9``).

    A worker busy with a job would otherwise run it to its timeout for nobody;
    once orphaned (its parent, the runner or the fork server the runner started,
    changed, or the runner's pid is gone), it kills every process it started and
    exits. The fork server itself exits when the runner does.
    """
    import psutil

    parent = os.getppid()
    while os.getppid() == parent and psutil.pid_exists(runner):
        time.sleep(every)
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(1)


def _warm_renderer(language: str, pdf: bool) -> None:
    """Start the PDF browser (non-blocking) and build the render templates in the
    background, while the worker waits for its first kernel (issue 17)."""
    from cxlib.share import pdf as pdf_
    from cxlib.share import render

    if pdf:
        pdf_.start_browser()  # in this (main) thread: the browser dies with it
    threading.Thread(target=contextlib.suppress(Exception)(render.warm_up), args=(language,),
                     daemon=True, name="cx-render-warm-up").start()


def _worker_main(conn: Any, runner: int | None = None,
                 environ: dict[str, str] | None = None, render: str | None = None,
                 pdf: bool = True) -> None:
    """A worker process: run job specs from the pipe until it closes.

    ``runner`` is the pid of the process that made the pool (passed, not read here:
    a runner killed while this worker was still starting has already left; the
    worker's parent is the fork server). ``render``: the language of the reports
    it will render, if any (their browser and templates are made ready first).
    """
    if environ is not None:  # the runner's environment now, not the fork server's at its start
        os.environ.clear()
        os.environ.update(environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    threading.Thread(target=_orphan_watch, args=(runner or os.getppid(),), daemon=True,
                     name="cx-orphan-watch").start()
    if render:
        with contextlib.suppress(Exception):  # a warm-up that fails costs only time
            _warm_renderer(render, pdf)
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
        from cxlib.run.kernels import close_all

        close_all()


def start_fork_server() -> Any:
    """Start the fork server the local workers come from, if not running; its context.

    It imports :data:`_WORKER_IMPORTS` once, and every worker is forked from it.
    Starting it does not wait for those imports (the first worker does), so the
    runner calls this before it loads the batch: the imports overlap with that
    (issue 17).
    """
    import multiprocessing as mp
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(_WORKER_IMPORTS))
    forkserver.ensure_running()
    return ctx


class _Slot:
    """One worker process of the local pool, restarted when it dies or hangs."""

    def __init__(self, ctx: Any, render: str | None = None, pdf: bool = True) -> None:
        self.ctx = ctx
        self.render, self.pdf = render, pdf
        self.proc: Any = None
        self.conn: Any = None

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker_main,
                                     args=(child, os.getpid(), dict(os.environ), self.render,
                                           self.pdf),
                                     daemon=True)
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
                    return lost_record(spec, "timeout", "the worker did not finish the job within "
                                 f"its timeout of {spec['timeout']:g} s (+{GRACE:g} s grace)")
        except (EOFError, OSError, BrokenPipeError):
            code = self.proc.exitcode if self.proc is not None else None
            self.stop(kill=True)
            return lost_record(spec, "worker_died", f"the worker process died (exit code {code})")

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


def lost_record(spec: dict[str, Any], kind: str, message: str) -> dict[str, Any]:
    """The record of a job whose worker was lost (died, hung, unreachable)."""
    return {"job_id": spec["job_id"], "status": "failed", "duration": None, "files": {},
            "error": {"kind": kind, "type": kind, "message": message, "cell": None}}


class LocalPool:
    """``n`` worker processes on this machine (default: one per core).

    With ``preload`` (warm kernels), the pool keeps one zygote for all its
    workers (:class:`cxlib.run.kernels.WarmKernels`) instead of one per worker:
    the imports are paid once per run, not once per core, and start at once,
    while the workers start. Each job gets its own kernel forked from it, as
    before. A zygote that died is started again before the next job (a kernel
    running at that moment fails as ``kernel_died``, which is retried by
    default). The workers start when the pool is made, not at their first job.
    ``zygote``: one already started for the same imports (the runner starts it
    before loading the batch), taken over and closed with the pool. ``render``:
    the language of the reports the workers will render, if they render (each
    worker then starts its PDF browser and builds its templates before its first
    report, while it waits for its first kernel).
    """

    def __init__(self, n: int, *, preload: tuple[str, ...] | None = None,
                 zygote: Any = None, render: str | None = None, pdf: bool = True) -> None:
        self.n = n
        self._preload = tuple(preload) if preload is not None else None
        self._zygote: Any = None
        self._zlock = threading.Lock()
        if self._preload is not None:
            from cxlib.run.kernels import WarmKernels

            if zygote is not None and zygote.alive() and \
                    zygote.preload == WarmKernels(self._preload).preload:
                self._zygote = zygote  # started early, for these very imports: taken over
            elif zygote is not None:
                zygote.close()  # for other imports (the batch changed as it was read)
            self._zygote_socket()
        ctx = start_fork_server()
        self._free = [_Slot(ctx, render, pdf) for _ in range(n)]
        for slot in self._free:
            slot._start()
        self._lock = threading.Lock()
        self.address = "local"

    def _zygote_socket(self) -> str:
        """The pool zygote's socket, after starting it again if it died."""
        from cxlib.run.kernels import WarmKernels

        with self._zlock:
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = WarmKernels(self._preload or ()).start()
            return str(self._zygote.socket_path)

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
                if self._preload is not None and spec.get("kernels", "warm") == "warm":
                    spec = {**spec, "zygote": self._zygote_socket()}
                try:
                    rec = slot.run(spec, time.monotonic() + float(spec["timeout"]) + GRACE)
                except Exception as exc:
                    rec = lost_record(spec, "runner_error", f"{type(exc).__name__}: {exc}")
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
        for slot in self._free:  # all workers wind down (zygotes, kernels) at once
            with contextlib.suppress(OSError, BrokenPipeError, AttributeError):
                slot.conn.send(None)
        for slot in self._free:
            slot.stop()
        with self._zlock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


class DaskPool:
    """Jobs on an existing Dask cluster (``--cluster tcp://HOST:PORT``)."""

    def __init__(self, address: str) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout=30)
        except OSError as exc:
            raise ExecutionError(f"cannot reach the Dask scheduler at {address}: {exc}; start one "
                          "(`dask scheduler`) or drop --cluster to run locally") from exc
        self.address = address
        self.n = max(1, sum(w.get("nthreads", 1) for w in
                            self.client.scheduler_info()["workers"].values()))

    def map_unordered(self, next_spec: Callable[[], dict[str, Any] | None],
                      on_start: Callable[[dict[str, Any]], None]) -> Iterator[dict[str, Any]]:
        """As :meth:`LocalPool.map_unordered`, on the cluster's workers."""
        from distributed import KilledWorker, as_completed

        futures: dict[Any, dict[str, Any]] = {}
        ac = as_completed()

        def top_up() -> None:
            while len(futures) < self.n and (spec := next_spec()) is not None:
                self._zygotes(spec)
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
                kind = "worker_died" if isinstance(exc, KilledWorker) else "runner_error"
                rec = lost_record(spec, kind, f"{type(exc).__name__}: {exc}")
            yield rec
            top_up()

    def _zygotes(self, spec: dict[str, Any]) -> None:
        """Once per run: every worker starts (and keeps) a zygote for the batch's imports."""
        if spec.get("kernels", "warm") != "warm" or getattr(self, "_plugged", False):
            return
        from cxlib.run.kernels import ZygotePlugin

        self._plugged = True
        self.client.register_plugin(ZygotePlugin(spec.get("preload", ())))

    def close(self) -> None:
        self.client.close()


