"""Faults a batch must not hide (issue 12): a run killed with ``kill -9``, a report that
cannot be rendered. Both start real kernels (cold, one worker)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cxlib import cli, config
from cxlib.run import batch
from tests.run.test_batch import make_notebook, write_batch

pytestmark = pytest.mark.slow


def _manifest(root: Path) -> dict | None:
    runs = sorted(root.glob("*/manifest.json")) if root.is_dir() else []
    return json.loads(runs[-1].read_text()) if runs else None


def test_a_run_killed_with_kill_9_is_recognised_and_resumed(tmp_path: Path) -> None:
    flag = tmp_path / "hang.flag"
    flag.write_text("while this file exists the notebook hangs")
    nb = make_notebook(tmp_path / "hang.ipynb", parameters=textwrap.dedent(f'''\
        flag: str = {str(flag)!r}  # a file: while it exists, hang
        results_path: str = ""  # set by the runner
        '''), body="import os, time\nwhile os.path.exists(flag):\n    time.sleep(0.2)\n")
    p = write_batch(tmp_path, {"name": "killed", "workers": 1, "render": False,
                               "kernels": "cold", "timeout": 300, "jobs": [str(nb)]})
    reports = tmp_path / "reports"
    code = ("import sys; from cxlib import config; from pathlib import Path; "
            f"config.REPORTS_DIR = Path({str(reports)!r}); from cxlib.cli import main; "
            f"sys.exit(main(['run', {str(p)!r}, '--no-progress']))")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=config.ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            m = _manifest(reports / "killed")
            if m and m["jobs"] and m["jobs"][0]["status"] == "running":
                break
            time.sleep(0.3)
        else:
            pytest.fail("the run never reached 'running'")
        import psutil

        spawned = psutil.Process(proc.pid).children(recursive=True)  # worker, kernel...
        assert spawned
        os.kill(proc.pid, signal.SIGKILL)  # the runner only, as `kill -9 PID` does
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(spawned, timeout=20)
        assert not alive, f"orphans left running: {alive}"  # the worker ended them
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left, should the test fail
        proc.wait(timeout=30)
    dead = _manifest(reports / "killed")
    assert dead["status"] == "running" and dead["runner"]["pid"] == proc.pid  # left behind

    flag.unlink()  # the notebook now finishes
    run2, m2 = batch.run_batch(p, out_root=reports, resume=True, progress=False)
    first = next(d for d in (reports / "killed").iterdir() if d != run2)
    old = json.loads((first / "manifest.json").read_text())
    assert old["status"] == "interrupted"  # recognised as dead, not "running" for ever
    assert old["jobs"][0]["status"] == "failed"
    assert old["jobs"][0]["error"]["type"] == "Interrupted"
    assert m2["resumed_from"] == first.name  # --resume picked the dead run...
    assert [j["status"] for j in m2["jobs"]] == ["ok"]  # ...and reran its job


def test_a_live_run_is_not_marked_dead(tmp_path: Path) -> None:
    run = tmp_path / "b" / "r1"
    run.mkdir(parents=True)
    manifest = {"status": "running", "started": "2026-01-01T00:00:00+00:00",
                "runner": batch._runner(), "jobs": [{"job_id": "j", "status": "running"}]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert batch.recover_dead_runs(tmp_path / "b") == []  # this very process: alive
    other_host = {**manifest, "runner": {**manifest["runner"], "host": "elsewhere"}}
    (run / "manifest.json").write_text(json.dumps(other_host))
    assert batch.recover_dead_runs(tmp_path / "b") == []  # cannot tell: left alone
    reused = {**manifest, "runner": {**manifest["runner"], "pid_started": 1.0}}
    (run / "manifest.json").write_text(json.dumps(reused))  # same pid, another process
    assert batch.recover_dead_runs(tmp_path / "b") == [run]


def test_a_report_that_cannot_be_rendered_fails_its_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A notebook that declares a language cxlib cannot render: the job runs, the render
    fails, and the job, the manifest and the exit code say so (cron notices)."""
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    nb = make_notebook(tmp_path / "lang.ipynb", parameters=textwrap.dedent('''\
        language: str = "en"  # one of en | tr | az | xx: language of the report
        results_path: str = ""  # set by the runner
        '''), body="print('hello')\n")
    p = write_batch(tmp_path, {"name": "render", "workers": 1, "kernels": "cold",
                               "jobs": [{"notebook": str(nb), "rows": [{"language": "xx"}]}]})
    assert cli.main(["run", str(p), "--no-progress"]) == 1
    assert "render_error" in capsys.readouterr().err
    m = _manifest(tmp_path / "reports" / "render")
    job = m["jobs"][0]
    assert m["status"] == "failed" and job["status"] == "failed"
    assert job["error"]["kind"] == "render_error" and "xx" in job["error"]["message"]
    assert "ipynb" in job["outputs"]  # the executed notebook is kept for the analyst


def test_a_run_without_its_index_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Every job ok but no index.html: the run is failed and cron sees exit code 1."""
    from cxlib.share import render
    from tests.run.test_batch_properties import _FakePool

    def broken(*_a: object, **_k: object) -> None:
        raise KeyError("planted")

    monkeypatch.setattr(batch, "LocalPool", _FakePool)
    monkeypatch.setattr(render, "build_index", broken)
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    nb = make_notebook(tmp_path / "n.ipynb")
    p = write_batch(tmp_path, {"name": "noindex", "jobs": [str(nb)]})
    assert cli.main(["run", str(p), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "FAILED index.html: KeyError" in err and "Traceback" not in err
    m = _manifest(tmp_path / "reports" / "noindex")
    assert m["status"] == "failed" and m["jobs"][0]["status"] == "ok"
