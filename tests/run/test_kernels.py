"""Warm kernels (cxlib.run.kernels, cxlib.run.zygote): fast, yet one fresh process per report.

The isolation tests of ``test_batch.py`` (variables, monkeypatches, environment,
working folder, figures) hold for these kernels; here: what the speed-ups could
break. Forked kernels must not share random draws; the zygote learns library
modules reports import but never a notebook's own files; kernels are forked
straight from the zygote (no launcher process), and their end is seen at once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cxlib.run import batch, kernels, zygote
from tests.run.test_batch import make_notebook, write_batch

PROBE = 'results_path: str = ""  # set by the runner\nx: int = 1  # one of 1 | 2 | 3 | 4: job'


def _run(tmp_path: Path, body: str, rows: list[dict], name: str = "k",
         kernels_kind: str = "warm", files: dict[str, str] | None = None) -> list[dict]:
    nbdir = tmp_path / f"nb-{name}"
    nbdir.mkdir()
    for fname, text in (files or {}).items():
        (nbdir / fname).write_text(text, encoding="utf-8")
    nb = make_notebook(nbdir / "probe.ipynb", parameters=PROBE, body=textwrap.dedent(body))
    p = write_batch(tmp_path, {"name": name, "workers": 1, "render": False, "retries": 0,
                               "kernels": kernels_kind,
                               "jobs": [{"notebook": str(nb), "rows": rows}]})
    run_dir, manifest = batch.run_batch(p, out_root=tmp_path / "r", progress=False)
    out = []
    for j in manifest["jobs"]:
        assert j["status"] == "ok", j["error"]
        out.append(json.loads((run_dir / j["outputs"]["results"]).read_text()))
    return out


@pytest.mark.slow
def test_forked_kernels_draw_fresh_random_numbers(tmp_path: Path) -> None:
    """Every kernel forked from one zygote would inherit the same NumPy global
    generator (Python's random reseeds itself after fork, NumPy does not); each
    report must draw its own numbers, as a cold kernel does."""
    body = '''
        import json, os, random
        import numpy as np
        with open(results_path, "w") as fh:
            json.dump({"np": np.random.rand(4).tolist(), "py": random.random(),
                       "pid": os.getpid(), "ppid": os.getppid()}, fh)
        '''
    seen = _run(tmp_path, body, [{"x": 1}, {"x": 2}, {"x": 3}])
    assert len({s["pid"] for s in seen}) == 3
    assert len({tuple(s["np"]) for s in seen}) == 3  # fails without np.random.seed() in the child
    assert len({s["py"] for s in seen}) == 3
    # forked straight from the zygote, with no launcher process in between
    assert len({s["ppid"] for s in seen}) == 1


@pytest.mark.slow
def test_the_zygote_learns_library_imports_but_not_notebook_files(tmp_path: Path) -> None:
    """A library module the first report imports (stdlib ``tabnanny``, in no ``import`` line)
    is already loaded when the next report starts; a module beside the notebook never is,
    so an edited local helper is always read afresh."""
    body = '''
        import importlib, json, sys, time
        seen = {m: m in sys.modules for m in ("tabnanny", "cx_local_helper")}
        for m in seen:  # not `import` lines: those the zygote preloads from the start
            importlib.import_module(m)
        with open(results_path, "w") as fh:
            json.dump(seen, fh)
        time.sleep(0.5)  # the zygote learns between forks; give it the time a report takes
        '''
    seen = _run(tmp_path, body, [{"x": 1}, {"x": 2}, {"x": 3}], name="learn",
                files={"cx_local_helper.py": "VALUE = 1\n"})
    assert seen[0] == {"tabnanny": False, "cx_local_helper": False}
    assert seen[2]["tabnanny"] is True
    assert not any(s["cx_local_helper"] for s in seen)


def test_learnable_keeps_library_modules_only(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cx_probe_local.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import cx_probe_local  # noqa: F401  (a notebook's own module)
    import pandas.io.parquet  # noqa: F401

    import cxlib.data.readers  # noqa: F401

    assert zygote.learnable(["json", "pandas.io.parquet", "cxlib.data.readers"]) == [
        "json", "pandas.io.parquet", "cxlib.data.readers"]
    assert zygote.learnable(["cx_probe_local", "__main__", "not.imported"]) == []


def _fake_zygote_pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    return a, b


def test_a_kernel_is_seen_to_end_when_the_zygote_says_so() -> None:
    """The zygote answers the kernel's exit code, then closes: poll() sees it at once."""
    ours, zyg = _fake_zygote_pair()
    k = kernels.ZygoteKernel(ours, pid=2 ** 22 + 12345)  # no such process
    assert k.poll() is None
    zyg.sendall(b'{"exit": 3}\n')
    zyg.close()
    assert k.wait(timeout=5) == 3
    assert k.poll() == 3


def test_a_killed_kernel_is_done_without_waiting_and_a_lost_zygote_kills_its_kernel() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               start_new_session=True)
    try:
        ours, zyg = _fake_zygote_pair()
        k = kernels.ZygoteKernel(ours, pid=sleeper.pid)
        assert k.poll() is None
        k.kill()  # SIGKILL cannot be caught: no polling for the end of the kernel
        assert k.poll() == -signal.SIGKILL
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
        zyg.close()
    finally:
        sleeper.kill()
        sleeper.wait()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               start_new_session=True)
    try:
        ours, zyg = _fake_zygote_pair()
        k = kernels.ZygoteKernel(ours, pid=sleeper.pid)
        zyg.close()  # EOF without an exit code: the zygote died, the kernel must not linger
        assert k.poll() == -signal.SIGKILL
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_slow_optional_import_is_skipped_in_the_run_layer() -> None:
    """cxlib.run keeps jsonschema from importing rfc3987_syntax (seconds, unused by
    nbformat); notebooks still validate."""
    code = textwrap.dedent('''
        import sys, time
        import cxlib.run
        import nbformat
        nb = nbformat.v4.new_notebook()
        nbformat.validate(nb)
        print("rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is not None)
        ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_dask_workers_keep_a_zygote(tmp_path: Path) -> None:
    """On a cluster every job of a worker forks from that worker's zygote (one parent)."""
    distributed = pytest.importorskip("distributed")
    body = '''
        import json, os
        with open(results_path, "w") as fh:
            json.dump({"pid": os.getpid(), "ppid": os.getppid()}, fh)
        '''
    nb = make_notebook(tmp_path / "probe.ipynb", parameters=PROBE, body=textwrap.dedent(body))
    p = write_batch(tmp_path, {"name": "dz", "render": False, "retries": 0,
                               "jobs": [{"notebook": str(nb), "grid": {"x": [1, 2, 3]}}]})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        t0 = time.monotonic()
        run_dir, manifest = batch.run_batch(p, out_root=tmp_path / "r",
                                            cluster=cluster.scheduler_address, progress=False)
        assert time.monotonic() - t0 < 120
    seen = [json.loads((run_dir / j["outputs"]["results"]).read_text())
            for j in manifest["jobs"]]
    assert len({s["pid"] for s in seen}) == 3
    worker_pids = {j["pid"] for j in manifest["jobs"]}
    assert len(worker_pids) == 1
    zygotes = {s["ppid"] for s in seen}
    assert len(zygotes) == 1 and zygotes != worker_pids  # forked from the worker's zygote
    assert os.getpid() not in worker_pids
