"""Batch report runs: ``cx run BATCH.yml`` (the run, its manifest, resume, the command).

Run layer. The batch file (schema, grid, job ids) is :mod:`cxlib.run.batchfile`;
executing one job and the worker pools are :mod:`cxlib.run.workers`. Here every
job is checked against its notebook's ``parameters`` cell before any kernel
starts (:mod:`cxlib.run.params`), then run in parallel; outputs go to
``reports/<batch>/<run-id>/``, never over an earlier run, and never outside
``reports/<batch>/`` (a batch name is a plain name, checked again here).

The manifest (``manifest.json``) is rewritten atomically after every job. It
names the process running the batch (host, pid and the process's start time),
so a run killed with ``kill -9`` is recognised as dead by the next ``cx run``
or ``--resume`` of the batch: its unfinished jobs are marked failed
(``interrupted``) and ``--resume`` reruns them. ``cx run BATCH.yml --resume``
starts a new run folder, carries over the jobs that succeeded in the latest
run and runs only the failed and missing ones. The exit code is 1 when any job
failed (a report that could not be rendered included), 2 when the batch is invalid.

With ``--cluster tcp://HOST:PORT`` the same jobs run on a Dask cluster; its
workers need cxlib installed and the data at the same paths.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.errors import ParameterError
from cxlib.io import guard_write, write_bytes_atomic, write_json_atomic
from cxlib.run.batchfile import Batch, Job, load_batch, validate
from cxlib.run.workers import DaskPool, LocalPool, start_fork_server
from cxlib.share.results import SUFFIX

__all__ = ["Batch", "Job", "latest_run", "load_batch", "main", "recover_dead_runs",
           "report_main", "run_batch", "validate"]

DEFAULT_BATCH = "default.yml"


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


def _runner() -> dict[str, Any]:
    """Who runs this batch: host, pid and the process's start time (a pid is reused)."""
    import psutil

    return {"host": socket.gethostname(), "pid": os.getpid(),
            "pid_started": psutil.Process().create_time()}


def _alive(runner: Any) -> bool | None:
    """Whether the process that wrote a manifest still runs (None: cannot tell, other host)."""
    import psutil

    if not isinstance(runner, dict) or runner.get("host") != socket.gethostname():
        return None
    try:
        proc = psutil.Process(int(runner["pid"]))
        return abs(proc.create_time() - float(runner["pid_started"])) < 1.0
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def recover_dead_runs(batch_dir: Path) -> list[Path]:
    """Mark runs of a batch whose process died (``kill -9``, a power cut) as interrupted.

    A manifest left at ``running`` whose process (same host, same pid and start
    time) is gone gets status ``interrupted``; its unfinished jobs become failed
    with kind ``runner_error`` (type ``Interrupted``), so ``--resume`` reruns them.
    A manifest written on another host is left alone (its process cannot be seen
    from here). Returns the runs marked.
    """
    marked = []
    for d in sorted(batch_dir.iterdir()) if batch_dir.is_dir() else []:
        m = d / "manifest.json"
        if not (d.is_dir() and m.is_file()):
            continue
        try:
            manifest = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(manifest, dict) or manifest.get("status") != "running" \
                or _alive(manifest.get("runner")) is not False:
            continue
        pid = (manifest.get("runner") or {}).get("pid")
        for r in manifest.get("jobs") or []:
            if isinstance(r, dict) and r.get("status") in ("pending", "running", "retrying"):
                r["status"] = "failed"
                r["error"] = {"kind": "runner_error", "type": "Interrupted", "cell": None,
                              "message": f"the run's process (pid {pid}) died before this job "
                                         "ended (killed?); rerun with --resume"}
        manifest["status"] = "interrupted"
        manifest["finished"] = manifest.get("finished") or None
        write_json_atomic(m, manifest)
        print(f"cx run: run {d.name} of {batch_dir.name!r} was left 'running' by a process "
              f"that no longer exists (pid {pid}); marked interrupted", file=sys.stderr)
        marked.append(d)
    return marked


def _guard(path: Path) -> None:
    guard_write(path)  # data/raw is read-only, whatever a batch file says


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)  # guarded: data/raw is read-only


def _outputs(job: str, names: set[str]) -> dict[str, str]:
    want = {"ipynb": f"{job}.ipynb", "results": f"{job}{SUFFIX}",
            "manager_html": f"{job}.manager.html", "analyst_html": f"{job}.analyst.html",
            "manager_pdf": f"{job}.manager.pdf"}
    return {k: v for k, v in want.items() if v in names}


class _Printer:
    """The run's one PDF browser: each brief is printed in a thread of the runner as
    soon as its job's pages arrive, while the workers go on with the next reports.

    One headless Chromium for the run instead of one per worker (issue 17): its
    start, ~0.65 s of CPU, is paid once, and the workers skip printing (Dask
    workers too). :meth:`start` gives None where no browser can be kept (no
    Chromium, ``CX_PDF_ONESHOT=1``): then the workers print, in parallel, as
    before. The browser is started from the main thread (so it dies with the
    runner) and closed with the run, unless this process had one already.
    ``done(job_id, attempt, pdf_name, error)`` is called from the thread after
    each page. After :data:`GIVE_UP` failures in a row the rest are not tried
    (a broken browser would cost each page its timeout); they get the last error.
    """

    GIVE_UP = 3

    def __init__(self, done: Callable[[str, int, str | None, str | None], None],
                 had: bool) -> None:
        import queue

        self._had = had
        self._done = done
        self._queue: queue.Queue[tuple[str, int, Path] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, daemon=True, name="cx-pdf")
        self._thread.start()

    @classmethod
    def start(cls, done: Callable[[str, int, str | None, str | None], None]
              ) -> _Printer | None:
        from cxlib.share import pdf

        had = pdf.browser_pid() is not None
        if pdf.start_browser() is None:  # not waiting: it starts while the first reports run
            return None
        return cls(done, had)

    def add(self, job_id: str, attempt: int, page: Path) -> None:
        self._queue.put((job_id, attempt, page))

    def _work(self) -> None:
        from cxlib.share.export import html_to_pdf

        failures, last = 0, ""
        while (item := self._queue.get()) is not None:
            job_id, attempt, page = item
            target = page.with_suffix(".pdf")
            if failures >= self.GIVE_UP:
                self._done(job_id, attempt, None, f"not printed after {failures} failures in "
                           f"a row; the last: {last}"[:2000])
                continue
            try:
                html_to_pdf(page, target)
            except Exception as exc:  # the HTML brief stands; the index says what is missing
                failures, last = failures + 1, f"{type(exc).__name__}: {exc}"[:1500]
                self._done(job_id, attempt, None, last)
            else:
                failures = 0
                self._done(job_id, attempt, target.name, None)

    def close(self, *, wait: bool = True) -> None:
        """Print what is queued (unless ``wait`` is false: then only the page being
        printed is awaited, at most 10 s), then stop the thread and the browser."""
        import contextlib as cl
        import queue

        if not wait:
            with cl.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
        self._queue.put(None)
        self._thread.join(None if wait else 10)
        if not self._had:
            from cxlib.share import pdf

            pdf.close_browser()


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
    early = None if cluster or isinstance(batch, Batch) else _early_zygote(batch)
    try:
        if cluster is None:
            start_fork_server()  # the workers' imports, too, overlap with loading the batch
        return _run_batch(batch, early=early, resume=resume, workers=workers, cluster=cluster,
                          out_root=out_root, progress=progress)
    finally:
        if early is not None:
            early.close()  # no-op when the pool took it over (the pool closed it)


def _early_zygote(path: str | os.PathLike[str]) -> Any:
    """The zygote for a batch file's notebooks, started before the batch is loaded and
    checked: its imports (the longest part of a run's start) overlap with the
    runner's own. None when the batch is not for warm kernels or cannot be read."""
    from cxlib.run.batchfile import peek
    from cxlib.run.kernels import WarmKernels, notebook_imports

    seen = peek(path)
    if seen is None or seen[0] != "warm" or not seen[1]:
        return None
    _, notebooks, extra = seen
    return WarmKernels(_preload_list(notebook_imports(sorted(set(notebooks))), extra)).start()


def _preload_list(imports: list[str], extra: list[str]) -> list[str]:
    return list(dict.fromkeys([*imports, *extra]))


def _run_batch(
    batch: Batch | str | os.PathLike[str],
    *,
    early: Any,
    resume: bool,
    workers: int | None,
    cluster: str | None,
    out_root: str | os.PathLike[str] | None,
    progress: bool | None,
) -> tuple[Path, dict[str, Any]]:
    b = batch if isinstance(batch, Batch) else load_batch(batch)
    validate(b)
    reports = Path(out_root or config.REPORTS_DIR).resolve()
    root = (reports / b.name).resolve()
    if root.parent != reports:  # a Batch built in code is not schema-checked
        raise ParameterError([f"batch name {b.name!r} is not a plain name: it would write "
                              f"outside {reports}"], source=str(b.path or b.name))
    recover_dead_runs(root)
    previous = latest_run(root) if resume else None
    carried: dict[str, dict[str, Any]] = {}
    if resume and previous is None:
        print(f"cx run: no earlier run of {b.name!r} under {root}; running every job",
              file=sys.stderr)
    if previous is not None:
        old = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
        for rec in old.get("jobs", []):
            names = list((rec.get("outputs") or {}).values())
            plain = all(isinstance(f, str) and f == Path(f).name and not f.startswith(".")
                        for f in names)  # a manifest names files of its own folder only
            files = [previous / f for f in names] if plain else []
            if rec.get("status") == "ok" and plain and all(f.is_file() for f in files):
                carried[rec["job_id"]] = rec
    run_id = _run_id()
    run_dir = root / run_id
    _guard(run_dir)
    run_dir.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "schema": "cx-manifest/1", "batch": b.name, "run_id": run_id,
        "batch_file": str(b.path) if b.path else None,
        "started": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "finished": None, "status": "running", "runner": _runner(),
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
    preload = _preload_list(_imports(b), list(b.preload))
    nb_text = {j.notebook: j.notebook.read_text(encoding="utf-8") for j in to_run}
    n = workers or b.workers or os.cpu_count() or 1
    printer: _Printer | None = None
    if b.render and b.pdf and to_run:
        from cxlib.share.export import chromium

        if chromium() is not None:  # else the workers print, if they can (Dask workers)

            def printed(job_id: str, attempt: int, name: str | None, error: str | None
                        ) -> None:
                with lock:
                    r = records[job_id]
                    if r.get("attempts") != attempt:
                        return  # an earlier attempt's brief: its record is gone
                    if name:
                        r["outputs"] = {**r.get("outputs", {}), "manager_pdf": name}
                    else:
                        r["pdf_error"] = error

            printer = _Printer.start(printed)
    try:
        pool: Any = DaskPool(cluster) if cluster else LocalPool(
            min(n, max(1, len(to_run))), preload=tuple(preload) if b.kernels == "warm" else None,
            zygote=early, render=b.language if b.render else None,
            pdf=b.render and b.pdf and printer is None)
    except BaseException:
        if printer is not None:
            printer.close(wait=False)
        raise
    completed = False
    bar: _Progress | None = None
    try:
        manifest["executor"] = {"kind": "dask" if cluster else "local", "address": pool.address,
                                "workers": pool.n, "kernels": b.kernels}
        bar = shown = _Progress(len(to_run), progress)
        # the index is built here once the jobs end: its imports happen meanwhile, not after
        importer = threading.Thread(target=_import_quietly, args=(_INDEX_IMPORTS,), daemon=True,
                                    name="cx-index-imports")
        importer.start()
        pdf_in_worker = printer is None
        queue_ = [_spec(job, b, nb_text, preload, 1, pdf_in_worker) for job in reversed(to_run)]

        def next_spec() -> dict[str, Any] | None:
            return queue_.pop() if queue_ else None

        def on_start(spec: dict[str, Any]) -> None:
            with lock:
                r = records[spec["job_id"]]
                r["status"], r["attempts"] = "running", spec["attempt"]
                r["started"] = datetime.now(UTC).isoformat(timespec="seconds")
                save()  # the manifest shows what is running (and, after a kill -9, what was)
            shown.started()

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
                r.pop("pdf_error", None)  # an earlier attempt's
                r.update({k: v for k, v in rec.items() if k != "job_id"})
                r["outputs"] = _outputs(rec["job_id"], set(files))
                r["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
                if again:
                    r["status"] = "retrying"
                save()
            page = f"{rec['job_id']}.manager.html"
            if printer is not None and page in files:
                printer.add(rec["job_id"], spec_attempt, run_dir / page)
            shown.finished(rec, final=not again)
            if again:
                job = next(j for j in to_run if j.job_id == rec["job_id"])
                queue_.append(_spec(job, b, nb_text, preload, spec_attempt + 1, pdf_in_worker))
        completed = True
    finally:
        try:
            pool.close()
        finally:
            try:
                if printer is not None:  # the last briefs' PDFs (all, unless interrupted)
                    printer.close(wait=completed)
            finally:  # the manifest is finished whatever happened above
                if bar is not None:
                    bar.close()
                for r in records.values():
                    if r["status"] in ("pending", "running", "retrying"):
                        r["status"] = "failed"
                        r.setdefault("error", None)
                        r["error"] = r["error"] or {
                            "kind": "runner_error", "type": "Interrupted",
                            "message": "the run stopped before this job ended"}
                manifest["finished"] = datetime.now(UTC).isoformat(timespec="milliseconds")
                bad = [r for r in records.values() if r["status"] != "ok"]
                manifest["status"] = "failed" if bad else "ok"
                save()
    importer.join(timeout=60)  # never two threads importing the same modules
    try:
        from cxlib.share.render import build_index

        build_index(run_dir, language=b.language, pdf=b.render and b.pdf)
    except Exception as exc:  # a broken index must not hide the run's results, nor pass
        manifest["index_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        manifest["index_traceback"] = traceback.format_exc()[-4000:]  # for the analyst
        manifest["status"] = "failed"
        save()
    return run_dir, manifest


#: What :func:`cxlib.share.render.build_index` imports (Excel writer, HTML parser).
_INDEX_IMPORTS = ("cxlib.share.render", "cxlib.share.dashboard", "cxlib.share.export",
                  "openpyxl", "bs4")


def _import_quietly(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        with contextlib.suppress(Exception):  # the index reports its own import errors
            importlib.import_module(name)


def _spec(job: Job, b: Batch, nb_text: dict[Path, str], preload: list[str],
          attempt: int, pdf_in_worker: bool = True) -> dict[str, Any]:
    return {"job_id": job.job_id, "notebook": str(job.notebook),
            "notebook_json": nb_text[job.notebook], "parameters": job.parameters,
            "timeout": b.timeout, "render": b.render, "pdf": b.pdf and pdf_in_worker,
            "language": b.language,
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
    if manifest.get("index_error"):
        print(f"FAILED index.html: {manifest['index_error'][:300]}", file=sys.stderr)
    print(f"{len(jobs) - len(bad)} ok, {len(bad)} failed -> {run_dir}")
    return 1 if bad or manifest.get("index_error") else 0


def main(argv: list[str] | None = None) -> int:
    """``cx run``: 0 when every job succeeded, 1 when any failed, 2 when the batch is invalid."""
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
    if args.workers is not None and not 1 <= args.workers <= 512:
        raise ParameterError([f"--workers must be from 1 to 512, got {args.workers}"],
                             source="cx run")
    if args.check:
        b = load_batch(args.batch)
        validate(b)
        print(f"{b.path}: {len(b.jobs)} job(s), parameters valid")
        return 0
    # the path, not a loaded Batch: run_batch starts the kernels' imports before loading it
    run_dir, manifest = run_batch(args.batch, resume=args.resume, workers=args.workers,
                                  cluster=args.cluster,
                                  progress=False if args.no_progress else None)
    return _summary(run_dir, manifest)


def report_main(argv: list[str] | None = None) -> int:
    """``cx report``: the default batch (what ``make report`` runs)."""
    return main([DEFAULT_BATCH, *(argv or [])])
