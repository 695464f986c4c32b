"""The local pool: one zygote for all its workers, a fresh kernel per job, restarts."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import nbformat
import pytest

from cxlib.run import kernels
from cxlib.run.workers import LocalPool

BODY = """\
import json, os
pid, parent = os.getpid(), os.getppid()
"""


def _notebook(path: Path) -> str:
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell('results_path: str = ""  # set by the pool',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(BODY + "json.dump({'pid': pid, 'parent': parent}, "
                                          "open(results_path, 'w'))")]
    nbformat.write(nb, str(path))
    return path.read_text(encoding="utf-8")


def _specs(path: Path, n: int, start: int = 0) -> list[dict[str, Any]]:
    text = _notebook(path)
    return [{"job_id": f"j{i}", "notebook": str(path), "notebook_json": text,
             "parameters": {}, "timeout": 60, "render": False, "language": "en",
             "kernels": "warm", "preload": [], "attempt": 1} for i in range(start, start + n)]


def _run(pool: LocalPool, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    queue = list(reversed(specs))
    out = []
    for rec in pool.map_unordered(lambda: queue.pop() if queue else None, lambda _s: None):
        assert rec["status"] == "ok", rec.get("error")
        name = next(k for k in rec["files"] if k.endswith(".results.json"))
        out.append(json.loads(rec["files"][name]))
    return out


def test_the_pool_keeps_one_zygote_for_its_workers_and_restarts_it(tmp_path: Path) -> None:
    pool = LocalPool(2, preload=())
    try:
        zygote = pool._zygote._proc.pid
        first = _run(pool, _specs(tmp_path / "a.ipynb", 6))
        # every kernel is a fresh process, and all were forked by the pool's one zygote
        assert len({r["pid"] for r in first}) == 6
        assert {r["parent"] for r in first} == {zygote}
        assert {r["parent"] for r in first}.isdisjoint({s.proc.pid for s in pool._free})
        os.kill(zygote, signal.SIGKILL)
        os.waitpid(zygote, 0)
        again = _run(pool, _specs(tmp_path / "b.ipynb", 2, start=6))
        new = pool._zygote._proc.pid
        assert new != zygote and {r["parent"] for r in again} == {new}
    finally:
        pool.close()
    assert pool._zygote is None
    assert kernels._ZYGOTES == {}  # the workers started no zygote of their own


def test_the_runner_starts_the_zygote_before_loading_the_batch(tmp_path: Path,
                                                               monkeypatch: Any) -> None:
    """run_batch starts the zygote from a first look at the batch file, and the pool
    takes that one over instead of starting another."""
    import yaml

    from cxlib.run import batch

    nb = tmp_path / "a.ipynb"
    _notebook(nb)
    path = tmp_path / "b.yml"
    path.write_text(yaml.safe_dump({"name": "early", "workers": 1, "render": False,
                                    "jobs": [str(nb)]}), encoding="utf-8")
    started: list[Any] = []
    real_start = kernels.WarmKernels.start

    def counting_start(self: Any) -> Any:
        started.append(self)
        return real_start(self)

    monkeypatch.setattr(kernels.WarmKernels, "start", counting_start)
    order: list[str] = []
    real_load = batch.load_batch
    monkeypatch.setattr(batch, "load_batch",
                        lambda p: (order.append(f"load after {len(started)}"), real_load(p))[1])
    _, manifest = batch.run_batch(path, out_root=tmp_path / "r", progress=False)
    assert manifest["jobs"][0]["status"] == "ok"
    assert order == ["load after 1"]  # the zygote was started before the batch was loaded
    assert len(started) == 1  # ... and the pool used it
    assert not started[0].alive()  # closed with the pool


@pytest.mark.parametrize("pdf", [False, True])
def test_pdf_false_renders_the_views_but_prints_no_pdf(tmp_path: Path, pdf: bool) -> None:
    import yaml

    from cxlib.run import batch
    from cxlib.share import pdf as pdf_

    if pdf and pdf_.chromium() is None:
        pytest.skip("headless Chromium not installed (scripts/install_test_deps.sh)")
    nb = tmp_path / "a.ipynb"
    nbf = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbf.cells = [nbformat.v4.new_code_cell('results_path: str = ""  # set by the runner',
                                           metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nbf, str(nb))
    path = tmp_path / "b.yml"
    path.write_text(yaml.safe_dump({"name": "nopdf", "workers": 1, "render": True, "pdf": pdf,
                                    "jobs": [str(nb)]}), encoding="utf-8")
    run_dir, manifest = batch.run_batch(path, out_root=tmp_path / "r", progress=False)
    assert manifest["status"] == "ok", manifest
    assert len(list(run_dir.glob("*.manager.html"))) == 1
    assert len(list(run_dir.glob("*.analyst.html"))) == 1
    assert len(list(run_dir.glob("*.manager.pdf"))) == (1 if pdf else 0)


def _pdf_batch(tmp_path: Path, jobs: int = 3) -> Path:
    import yaml

    nb = tmp_path / "a.ipynb"
    nbf = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbf.cells = [nbformat.v4.new_code_cell('x: int = 0  # which copy\n'
                                           'results_path: str = ""  # set by the runner',
                                           metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell("print(x)")]
    nbformat.write(nbf, str(nb))
    path = tmp_path / "b.yml"
    path.write_text(yaml.safe_dump({"name": "pdfs", "workers": 2, "render": True, "pdf": True,
                                    "jobs": [{"notebook": str(nb),
                                              "rows": [{"x": i} for i in range(jobs)]}]}),
                    encoding="utf-8")
    return path


def _needs_chromium() -> None:
    from cxlib.share import pdf as pdf_

    if pdf_.chromium() is None:
        pytest.skip("headless Chromium not installed (scripts/install_test_deps.sh)")


@pytest.mark.parametrize("where", ["local", "dask"])
def test_the_runner_prints_every_brief_with_one_browser_the_workers_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """One Chromium for the run, in the runner (this process); the pool is told not to
    start any and every job spec says not to print (issue 17), on a Dask cluster too."""
    from cxlib.run import batch
    from cxlib.share import pdf as pdf_

    _needs_chromium()
    if where == "dask":
        distributed = pytest.importorskip("distributed")
    pdf_.close_browser()
    starts: list[int] = []
    real_init = pdf_._Browser.__init__
    monkeypatch.setattr(pdf_._Browser, "__init__", lambda self, *a, **k: (
        starts.append(os.getpid()), real_init(self, *a, **k))[1])
    seen: dict[str, Any] = {"spec_pdf": set()}

    def spied(next_spec: Any) -> Any:
        def spy() -> Any:
            spec = next_spec()
            if spec is not None:
                seen["spec_pdf"].add(spec["pdf"])
            return spec
        return spy

    class SpyPool(batch.LocalPool):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **k: Any) -> None:
            seen["pool_pdf"] = k.get("pdf")
            super().__init__(*a, **k)

        def map_unordered(self, next_spec: Any, on_start: Any) -> Any:
            return super().map_unordered(spied(next_spec), on_start)

    class SpyDask(batch.DaskPool):  # type: ignore[misc, valid-type]
        def map_unordered(self, next_spec: Any, on_start: Any) -> Any:
            return super().map_unordered(spied(next_spec), on_start)

    monkeypatch.setattr(batch, "LocalPool", SpyPool)
    monkeypatch.setattr(batch, "DaskPool", SpyDask)
    if where == "dask":
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            run_dir, manifest = batch.run_batch(_pdf_batch(tmp_path), out_root=tmp_path / "r",
                                                cluster=cluster.scheduler_address,
                                                progress=False)
        seen["pool_pdf"] = False  # a Dask pool has no browsers to start
    else:
        run_dir, manifest = batch.run_batch(_pdf_batch(tmp_path), out_root=tmp_path / "r",
                                            progress=False)
    assert manifest["status"] == "ok", manifest
    assert manifest["executor"]["kind"] == where
    for job in manifest["jobs"]:
        name = job["outputs"]["manager_pdf"]
        assert (run_dir / name).read_bytes()[:5] == b"%PDF-" and "pdf_error" not in job
    assert seen == {"pool_pdf": False, "spec_pdf": {False}}
    assert starts == [os.getpid()]  # one browser, the runner's
    assert pdf_.browser_pid() is None  # closed with the run


def test_a_brief_that_cannot_be_printed_leaves_its_job_ok_and_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxlib.errors import CxError
    from cxlib.run import batch
    from cxlib.share import export

    _needs_chromium()

    def broken(*_a: Any, **_k: Any) -> Any:
        raise CxError("the printer is on fire")

    monkeypatch.setattr(export, "html_to_pdf", broken)
    run_dir, manifest = batch.run_batch(_pdf_batch(tmp_path, jobs=2), out_root=tmp_path / "r",
                                        progress=False)
    assert manifest["status"] == "ok"
    for job in manifest["jobs"]:
        assert job["status"] == "ok" and "manager_pdf" not in job["outputs"]
        assert "the printer is on fire" in job["pdf_error"]
        assert (run_dir / job["outputs"]["manager_html"]).is_file()  # the HTML brief stands
    assert not list(run_dir.glob("*.pdf"))


def test_an_interrupted_run_stops_printing_at_once() -> None:
    """Printer alone: close() prints what is queued; close(wait=False) drops it."""
    import threading
    import time as t

    from cxlib.run.batch import _Printer
    from cxlib.share import export

    done: list[tuple[Any, ...]] = []
    gate = threading.Event()
    real = export.html_to_pdf
    try:
        export.html_to_pdf = lambda page, target: (gate.wait(10), target)[1]
        p = _Printer(lambda *a: done.append(a), had=True)
        for i in range(5):
            p.add(f"j{i}", 1, Path(f"/nowhere/j{i}.manager.html"))
        t0 = t.monotonic()
        threading.Timer(0.2, gate.set).start()
        p.close(wait=False)  # the page being printed finishes; the four queued are dropped
        assert len(done) <= 1 and t.monotonic() - t0 < 5
        p = _Printer(lambda *a: done.append(a), had=True)
        done.clear()
        for i in range(3):
            p.add(f"k{i}", 2, Path(f"/nowhere/k{i}.manager.html"))
        p.close()
        assert done == [(f"k{i}", 2, f"k{i}.manager.pdf", None) for i in range(3)]
    finally:
        export.html_to_pdf = real


def test_a_broken_browser_is_given_up_after_three_failures_in_a_row(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each failure could cost a page its whole timeout: after three in a row the
    rest are not tried, and say why."""
    from cxlib.errors import CxError
    from cxlib.run.batch import _Printer
    from cxlib.share import export

    tried: list[str] = []

    def broken(page: Path, _target: Path) -> Any:
        tried.append(page.name)
        raise CxError("Chromium is gone")

    monkeypatch.setattr(export, "html_to_pdf", broken)
    done: list[tuple[Any, ...]] = []
    p = _Printer(lambda *a: done.append(a), had=True)
    for i in range(6):
        p.add(f"j{i}", 1, Path(f"/nowhere/j{i}.manager.html"))
    p.close()
    assert len(tried) == 3 and len(done) == 6
    assert all(d[2] is None and "Chromium is gone" in d[3] for d in done)
    assert all("not printed after 3 failures" in d[3] for d in done[3:])


def test_without_a_kept_browser_the_workers_print(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """CX_PDF_ONESHOT=1 (or no POSIX): no browser can be kept, so the runner does not
    print one page after another; the workers print theirs, in parallel, as before."""
    from cxlib.run import batch

    _needs_chromium()
    monkeypatch.setenv("CX_PDF_ONESHOT", "1")
    specs: set[bool] = set()
    real = batch._spec
    monkeypatch.setattr(batch, "_spec", lambda *a, **k: (
        lambda spec: (specs.add(spec["pdf"]), spec)[1])(real(*a, **k)))
    run_dir, manifest = batch.run_batch(_pdf_batch(tmp_path, jobs=2), out_root=tmp_path / "r",
                                        progress=False)
    assert manifest["status"] == "ok" and specs == {True}
    assert all((run_dir / j["outputs"]["manager_pdf"]).read_bytes()[:5] == b"%PDF-"
               for j in manifest["jobs"])


def test_a_retried_job_keeps_the_pdf_of_its_last_attempt(tmp_path: Path) -> None:
    """Attempt 1's kernel dies after its brief could be rendered; attempt 2 succeeds:
    the record is attempt 2's, with its PDF and no error of attempt 1."""
    import yaml

    from cxlib.run import batch

    _needs_chromium()
    nb = tmp_path / "a.ipynb"
    nbf = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    marker = tmp_path / "died-once"
    nbf.cells = [nbformat.v4.new_code_cell('results_path: str = ""  # set by the runner',
                                           metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell(
                     f"import os\nif not os.path.exists({str(marker)!r}):\n"
                     f"    open({str(marker)!r}, 'w').close()\n    os._exit(3)")]
    nbformat.write(nbf, str(nb))
    path = tmp_path / "b.yml"
    path.write_text(yaml.safe_dump({"name": "retry", "workers": 1, "render": True, "pdf": True,
                                    "retries": 1, "jobs": [str(nb)]}), encoding="utf-8")
    run_dir, manifest = batch.run_batch(path, out_root=tmp_path / "r", progress=False)
    (job,) = manifest["jobs"]
    assert (job["status"], job["attempts"]) == ("ok", 2), job
    assert "pdf_error" not in job and (run_dir / job["outputs"]["manager_pdf"]).is_file()
