"""Property-based tests over batch files (hypothesis), issue 12.

Whatever a batch file holds (random settings, values of every YAML type, hostile
notebooks, names and ``values_of`` strings, or bytes that are not YAML at all):

- ``cx run --check`` answers 0 or 2 and raises nothing (no exception outside
  :class:`~cxlib.errors.CxError` reaches the caller, none escapes ``cx``);
- it answers in bounded time (each example well under a few seconds);
- it writes nothing at all; and a real run writes only inside
  ``reports/<name>/`` (the workers replaced by an in-process fake, so that a
  hundred runs take seconds).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import cli, config
from cxlib.errors import CxError
from cxlib.run import batch, batchfile
from tests.run.test_batch import make_notebook

BOUND_S = 8.0  # per example; a hang (alias bomb, huge grid) would blow it

_NB_DIR = Path(tempfile.mkdtemp(prefix="cx-prop-nb-"))
atexit.register(shutil.rmtree, _NB_DIR, True)
NOTEBOOK = str(make_notebook(_NB_DIR / "probe.ipynb"))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
hostile = st.sampled_from([
    "../../x", "/etc/passwd", "/etc", "..", "responses.segment", "x.ipynb",
    'responses.x" FROM (SELECT 1 AS "x"); COPY (SELECT 42) TO \'/tmp/cx-pwned.csv\'; --',
    "responses.segment'; DROP TABLE x; --", "C00000012", "statement_C00000012.pdf",
    NOTEBOOK, "sample", "Ankara'daki", "a\nb", "\x00"])
names = st.one_of(hostile, st.text(max_size=20), st.integers(), st.none())
grid_values = st.one_of(st.lists(scalars, max_size=4),
                        st.fixed_dictionaries({"values_of": st.one_of(hostile, values)}),
                        values)
jobs = st.lists(st.one_of(
    hostile, st.integers(),
    st.fixed_dictionaries({"notebook": st.one_of(st.just(NOTEBOOK), hostile, values)},
                          optional={"parameters": st.one_of(
                              st.dictionaries(st.sampled_from(["x", "mode", "label", "dataset",
                                                               "results_path", "bad key"]),
                                              st.one_of(scalars, hostile), max_size=3),
                              values),
                              "grid": st.one_of(st.dictionaries(
                                  st.sampled_from(["x", "mode", "label"]), grid_values,
                                  max_size=2), values),
                              "rows": st.one_of(st.lists(st.dictionaries(
                                  st.sampled_from(["x", "mode", "label"]), scalars,
                                  max_size=2), max_size=3), values),
                              "extra": values})), max_size=4)
batch_specs = st.fixed_dictionaries({}, optional={
    "name": names,
    "workers": st.one_of(st.sampled_from(["auto", "many", -3, 0, 2]), values),
    "timeout": st.one_of(st.sampled_from([600, -5, "ten", 0.5]), values),
    "retries": st.one_of(st.sampled_from([0, 1, "lots", -1]), values),
    "retry_on": st.one_of(st.lists(st.sampled_from([*batchfile.KINDS, "x"])), values),
    "language": st.one_of(st.sampled_from(["en", "tr", "az", "xx"]), values),
    "parameters": st.one_of(st.dictionaries(st.sampled_from(["x", "dataset", "label"]),
                                            st.one_of(scalars, hostile), max_size=2), values),
    "jobs": st.one_of(jobs, values),
    "render": st.one_of(st.booleans(), values),
    "kernels": st.one_of(st.sampled_from(["warm", "cold", "hot"]), values),
    "preload": st.one_of(st.lists(st.sampled_from(["json", "os; rm", "pandas"])), values),
    "surprise": values,
})


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _write(folder: Path, spec: Any) -> Path:
    p = folder / "batch.yml"
    try:
        text = yaml.safe_dump(spec, allow_unicode=True)
    except yaml.YAMLError:
        text = repr(spec)
    p.write_text(text, encoding="utf-8")
    return p


def _check(folder: Path, p: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "REPORTS_DIR", folder / "reports")
    before = _tree(folder)
    t0 = time.perf_counter()
    code = cli.main(["run", str(p), "--check"])  # raises nothing: CxError becomes exit 2
    assert time.perf_counter() - t0 < BOUND_S
    assert code in (0, 2)
    assert _tree(folder) == before  # --check only reads
    assert not Path("/tmp/cx-pwned.csv").exists()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=batch_specs)
def test_check_never_raises_hangs_or_writes(spec: Any, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        _check(folder, _write(folder, spec), monkeypatch)
    capsys.readouterr()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(
    lambda b: b.decode("latin-1"))))
def test_any_text_is_answered(text: str, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        p = folder / "batch.yml"
        p.write_text(text, encoding="utf-8", errors="surrogateescape")
        _check(folder, p, monkeypatch)
    capsys.readouterr()


class _FakePool:
    """In-process stand-in for the worker pool: every job 'succeeds' with one output."""

    def __init__(self, n: int, **_: Any) -> None:
        self.n, self.address = n, "fake"

    def map_unordered(self, next_spec: Any, on_start: Any) -> Any:
        while (spec := next_spec()) is not None:
            on_start(spec)
            yield {"job_id": spec["job_id"], "status": "ok", "error": None, "duration": 0.0,
                   "files": {f"{spec['job_id']}.ipynb": b"{}"}}

    def close(self) -> None:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=names, rows=st.lists(st.fixed_dictionaries(
    {"label": st.one_of(hostile, st.text(max_size=20))}), min_size=1, max_size=3,
    unique_by=lambda r: r["label"]))
def test_a_run_writes_only_in_its_run_folder(name: Any, rows: list[dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(batch, "LocalPool", _FakePool)
    from cxlib.share import render

    monkeypatch.setattr(render, "build_index", lambda run_dir, **_: Path(run_dir) / "index.html")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        work = root / "work"
        work.mkdir()
        p = work / "batch.yml"
        p.write_text(yaml.safe_dump({"name": name, "render": False, "kernels": "cold",
                                     "jobs": [{"notebook": NOTEBOOK, "rows": rows}]}))
        reports = root / "reports"
        before = _tree(root)
        try:
            run_dir, manifest = batch.run_batch(p, out_root=reports, progress=False)
        except CxError:
            assert _tree(root) == before  # refused: nothing written
            return
        written = _tree(root) - before
        assert written, "the run wrote nothing"
        for w in written:
            target = (root / w).resolve()
            assert target == reports.resolve() or reports.resolve() in target.parents, w
        assert run_dir.parent.parent == reports.resolve()
        assert manifest["status"] == "ok"
        assert not any(os.sep in j["job_id"] or j["job_id"].startswith(".")
                       for j in manifest["jobs"])
    capsys.readouterr()
