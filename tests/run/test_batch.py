"""Batch runs: parameter checking before any kernel, faults, resume, isolation, Dask."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from cxlib.errors import CxError, ParameterError
from cxlib.run import batch, params

pytestmark = pytest.mark.slow

PARAMS = '''\
x: int = 1  # one of 1 | 2 | 3: which case to run
mode: str = "ok"  # one of ok | raise | exit | sleep | kill_parent: what the notebook does
label: str = ""  # free text
results_path: str = ""  # set by the runner
'''

BODY = '''\
import json, os, time
import pandas
seen = {"leak": hasattr(pandas, "LEAK"), "patched": pandas.DataFrame.sum.__name__ == "<lambda>"}
pandas.LEAK = True                          # a module attribute left behind...
pandas.DataFrame.sum = lambda *a, **k: 42   # ...and a monkeypatch
if mode == "raise":
    raise ValueError("planted failure in cell 2")
if mode == "exit":
    os._exit(3)
if mode == "sleep":
    time.sleep(600)
if mode == "kill_parent":  # the worker (cold kernels) or the zygote (warm kernels)
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(600)
if results_path:
    with open(results_path, "w") as fh:
        json.dump({"schema": "cx-results/1", "pid": os.getpid(), "x": x, **seen}, fh)
'''


def make_notebook(path: Path, parameters: str = PARAMS, body: str = BODY) -> Path:
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# test notebook"),
                nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, str(path))
    return path


def write_batch(tmp: Path, spec: dict) -> Path:
    p = tmp / "batch.yml"
    p.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture()
def nb(tmp_path: Path) -> Path:
    return make_notebook(tmp_path / "probe.ipynb")


# ------------------------------------------------------------------ parsing
def test_parameters_cell_is_read_as_a_declaration(nb: Path) -> None:
    declared = params.notebook_parameters(nb)
    assert list(declared) == ["x", "mode", "label", "results_path"]
    assert declared["x"].type == "int" and declared["x"].default == 1
    assert declared["x"].choices == (1, 2, 3)
    assert declared["mode"].choices == ("ok", "raise", "exit", "sleep", "kill_parent")
    assert declared["label"].choices is None and declared["label"].help == "free text"


def test_grid_rows_and_ids(tmp_path: Path, nb: Path) -> None:
    p = write_batch(tmp_path, {"name": "g", "parameters": {"label": "all"}, "jobs": [
        {"notebook": str(nb), "grid": {"x": [1, 2], "mode": ["ok", "raise"]}},
        {"notebook": str(nb), "rows": [{"x": 3}, {"x": 3, "mode": "exit"}]},
        {"notebook": str(nb), "grid": {"x": [1, 2]}, "rows": [{"label": "a"}, {"label": "b"}]},
    ]})
    b = batch.load_batch(p)
    got = [(j.parameters["x"], j.parameters.get("mode", "ok"), j.parameters["label"])
           for j in b.jobs]
    assert got[:4] == [(1, "ok", "all"), (1, "raise", "all"), (2, "ok", "all"),
                       (2, "raise", "all")]  # the product of the grid's lists
    assert got[4:6] == [(3, "ok", "all"), (3, "exit", "all")]  # explicit rows
    assert got[6:] == [(1, "ok", "a"), (1, "ok", "b"), (2, "ok", "a"), (2, "ok", "b")]
    ids = [j.job_id for j in b.jobs]
    assert len(set(ids)) == len(ids)
    assert ids == [j.job_id for j in batch.load_batch(p).jobs]  # stable across reads
    assert all(i.startswith("probe--") for i in ids)
    assert "all" not in ids[0]  # batch-wide values are hashed, not spelled out


def test_duplicate_jobs_and_bad_keys_are_refused(tmp_path: Path, nb: Path) -> None:
    p = write_batch(tmp_path, {"jobs": [{"notebook": str(nb)}, {"notebook": str(nb)}]})
    with pytest.raises(CxError, match="appears twice"):
        batch.load_batch(p)
    p = write_batch(tmp_path, {"jobs": [{"notebook": str(nb), "grdi": {"x": [1]}}]})
    with pytest.raises(CxError, match="unknown keys"):
        batch.load_batch(p)


# ------------------------------------------------------------------ validation
def test_every_kind_of_bad_parameter_is_reported_before_anything_runs(
        tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_nb = make_notebook(tmp_path / "seg.ipynb", parameters=textwrap.dedent('''\
        dataset: str = "sample"  # "sample" or a world folder
        filter_column: str = "segment"  # a column of responses
        filter_value: str = ""  # "" = everyone, or a value of responses.{filter_column}
        drivers: str = "all"  # catalog ids, comma-separated
        language: str = "en"  # one of en | tr | az: language of the report
        results_path: str = ""  # set by the runner
        '''), body="pass\n")
    reports = tmp_path / "reports"
    rows = [
        {"filter_vaule": "mass"},                    # unknown name (typo)
        {"language": 7},                              # wrong type
        {"language": "de"},                           # outside the declared choices
        {"filter_value": "no-such-segment"},         # not a value present in the data
        {"filter_column": "no_such_column"},         # not a column of the table
        {"drivers": "pre_sale,no_such_touchpoint"},   # not a catalog id
        {"results_path": "/tmp/x.json"},              # reserved for the runner
        {"dataset": str(tmp_path / "no-such-world")},  # a dataset that does not exist
    ]
    p = write_batch(tmp_path, {"name": "bad", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(data_nb), "rows": rows}]})
    monkeypatch.setattr(batch.LocalPool, "__init__", _must_not_run)
    with pytest.raises(ParameterError) as info:
        batch.run_batch(p, out_root=reports)
    problems = info.value.problems
    assert len(problems) == len(rows), problems
    text = "\n".join(problems)
    assert "unknown parameter 'filter_vaule' (did you mean 'filter_value'?)" in text
    assert "language must be str, got int 7" in text
    assert "language='de' is not one of 'az', 'en', 'tr'" in text
    assert "'no-such-segment' is not a value of responses.segment" in text
    assert "values present: " in text and "'mass'" in text
    assert "'no_such_column' is not a column of responses" in text
    assert "a stage nor a touchpoint of the catalog: 'no_such_touchpoint';" in text
    assert "'results_path' is set by the batch runner" in text
    assert "no-such-world" in text and "not found" in text
    assert not reports.exists()  # nothing ran, no run folder

    ok = write_batch(tmp_path, {"name": "good", "parameters": {"dataset": str(sample_dir)},
                                "jobs": [{"notebook": str(data_nb), "rows": [
                                    {"filter_value": "mass", "drivers": "pre_sale,website"},
                                    {"language": "az"}]}]})
    batch.validate(batch.load_batch(ok))  # good values pass


def _must_not_run(*_a: object, **_k: object) -> None:
    raise AssertionError("a worker pool was started although the batch is invalid")


# ------------------------------------------------------------------ faults and resume
def test_faults_fail_only_their_job_and_resume_reruns_them(tmp_path: Path, nb: Path) -> None:
    reports = tmp_path / "reports"
    p = write_batch(tmp_path, {
        "name": "faults", "workers": 2, "timeout": 8, "retries": 1,
        "retry_on": ["kernel_died"], "render": False,
        "jobs": [{"notebook": str(nb), "grid": {"x": [1, 2, 3]}},
                 {"notebook": str(nb), "rows": [{"mode": "raise"}, {"mode": "exit"},
                                                {"mode": "sleep"}]}]})
    run_dir, manifest = batch.run_batch(p, out_root=reports, progress=False)
    by_mode = {j["parameters"].get("mode", "ok") + str(j["parameters"].get("x", "")): j
               for j in manifest["jobs"]}
    oks = [j for j in manifest["jobs"] if "mode" not in j["parameters"]]
    assert [j["status"] for j in oks] == ["ok"] * 3
    for j in oks:
        assert (run_dir / j["outputs"]["ipynb"]).exists()
        assert (run_dir / j["outputs"]["results"]).exists()

    raised, died, slept = by_mode["raise"], by_mode["exit"], by_mode["sleep"]
    assert raised["status"] == "failed" and raised["error"]["kind"] == "error"
    assert raised["error"]["type"] == "ValueError"
    assert "planted failure" in raised["error"]["message"]
    assert raised["error"]["cell"]["index"] == 2  # the failing cell is named
    assert raised["attempts"] == 1  # an error in the notebook is not retried
    assert (run_dir / raised["outputs"]["ipynb"]).exists()  # partial output kept

    assert died["status"] == "failed" and died["error"]["kind"] == "kernel_died"
    assert died["attempts"] == 2  # kernel deaths are retried once (retries: 1)
    assert died["error"]["cell"]["index"] == 2

    assert slept["status"] == "failed" and slept["error"]["kind"] == "timeout"
    assert "8 s" in slept["error"]["message"]
    assert slept["duration"] < 8 + 20  # stopped, not waited out

    saved = json.loads((run_dir / "manifest.json").read_text())
    assert saved["status"] == "failed" and saved["jobs"] == manifest["jobs"]
    assert (run_dir / "index.html").exists()

    # --resume: a new run folder; the three ok jobs carried over, only the failures run
    run2, m2 = batch.run_batch(p, out_root=reports, resume=True, progress=False)
    assert run2 != run_dir and run_dir.exists()  # the earlier run is untouched
    assert m2["resumed_from"] == run_dir.name
    rerun = {j["job_id"] for j in m2["jobs"] if not j.get("carried_from")}
    assert rerun == {raised["job_id"], died["job_id"], slept["job_id"]}
    for j in m2["jobs"]:
        if j.get("carried_from"):
            assert j["status"] == "ok" and (run2 / j["outputs"]["ipynb"]).exists()


@pytest.mark.parametrize("kernels", ["cold", "warm"])
def test_a_dead_worker_or_zygote_fails_only_its_job(tmp_path: Path, nb: Path,
                                                    kernels: str) -> None:
    """Cold: the kernel kills its worker process; warm: it kills the zygote it was forked
    from. Either way that job fails, the pool replaces what died, the rest complete."""
    p = write_batch(tmp_path, {
        "name": "kill", "workers": 1, "timeout": 30, "retries": 0, "render": False,
        "kernels": kernels,
        "jobs": [{"notebook": str(nb), "rows": [{"x": 1}, {"mode": "kill_parent"}, {"x": 2},
                                                {"x": 3}]}]})
    _, manifest = batch.run_batch(p, out_root=tmp_path / "r", progress=False)
    status = {j["parameters"].get("mode", "ok") + str(j["parameters"].get("x", "")):
              (j["status"], (j["error"] or {}).get("kind")) for j in manifest["jobs"]}
    want = "worker_died" if kernels == "cold" else "kernel_died"
    assert status == {"ok1": ("ok", None), "kill_parent": ("failed", want),
                      "ok2": ("ok", None), "ok3": ("ok", None)}


def test_cli_exit_codes(tmp_path: Path, nb: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from cxlib import cli, config

    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    good = write_batch(tmp_path, {"name": "cli", "render": False, "workers": 1,
                                  "jobs": [{"notebook": str(nb)}]})
    assert cli.main(["run", str(good), "--no-progress"]) == 0
    bad = write_batch(tmp_path, {"name": "cli", "render": False, "workers": 1,
                                 "jobs": [{"notebook": str(nb), "rows": [{"mode": "raise"}]}]})
    assert cli.main(["run", str(bad), "--no-progress"]) == 1  # cron notices
    assert "FAILED" in capsys.readouterr().err
    invalid = write_batch(tmp_path, {"name": "cli", "jobs": [
        {"notebook": str(nb), "rows": [{"x": 9}]}]})
    assert cli.main(["run", str(invalid)]) == 2
    assert "x=9 is not one of 1, 2, 3" in capsys.readouterr().err


# ------------------------------------------------------------------ isolation
@pytest.mark.parametrize("kernels", ["warm", "cold"])
def test_each_report_gets_a_fresh_process(tmp_path: Path, nb: Path, kernels: str) -> None:
    """A module attribute and a monkeypatch set by one job are gone in the next,
    although both ran one after another on the same worker."""
    p = write_batch(tmp_path, {"name": "iso", "workers": 1, "render": False,
                               "kernels": kernels,
                               "jobs": [{"notebook": str(nb), "grid": {"x": [1, 2, 3]}}]})
    run_dir, manifest = batch.run_batch(p, out_root=tmp_path / "r", progress=False)
    seen = [json.loads((run_dir / j["outputs"]["results"]).read_text())
            for j in manifest["jobs"]]
    assert len({s["pid"] for s in seen}) == 3
    assert not any(s["leak"] for s in seen)
    assert not any(s["patched"] for s in seen)
    assert len({j["pid"] for j in manifest["jobs"]}) == 1  # all on the same worker


# ------------------------------------------------------------------ Dask
def test_runs_on_a_dask_cluster(tmp_path: Path, nb: Path) -> None:
    distributed = pytest.importorskip("distributed")
    p = write_batch(tmp_path, {"name": "dask", "render": False,
                               "jobs": [{"notebook": str(nb), "grid": {"x": [1, 2]}},
                                        {"notebook": str(nb), "rows": [{"mode": "raise"}]}]})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        run_dir, manifest = batch.run_batch(p, out_root=tmp_path / "r",
                                            cluster=cluster.scheduler_address, progress=False)
    assert manifest["executor"]["kind"] == "dask"
    assert manifest["executor"]["address"].startswith("tcp://127.0.0.1:")
    status = {j["parameters"].get("mode", "ok"): j["status"] for j in manifest["jobs"]}
    assert status == {"ok": "ok", "raise": "failed"}
    worker_pids = {j["pid"] for j in manifest["jobs"]}
    assert os_getpid() not in worker_pids  # the jobs ran in the cluster's workers
    for j in manifest["jobs"]:
        assert (run_dir / j["outputs"]["ipynb"]).exists()


def os_getpid() -> int:
    import os

    return os.getpid()


def test_warm_kernels_behave_like_plain_ones(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures, working folder and environment are those of an ordinary kernel."""
    monkeypatch.setenv("CX_PROBE", "from-the-runner")
    body = textwrap.dedent('''\
        import json, os
        import matplotlib.pyplot as plt
        plt.plot([1, 2, 3])
        plt.show()
        with open(results_path, "w") as fh:
            json.dump({"cwd": os.getcwd(), "env": os.environ.get("CX_PROBE")}, fh)
        ''')
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    probe = make_notebook(nbdir / "fig.ipynb", parameters='results_path: str = ""  # runner',
                          body=body)
    seen = {}
    for kernels in ("warm", "cold"):
        p = write_batch(tmp_path, {"name": kernels, "workers": 1, "render": False,
                                   "kernels": kernels, "jobs": [{"notebook": str(probe)}]})
        run_dir, manifest = batch.run_batch(p, out_root=tmp_path / "r", progress=False)
        job = manifest["jobs"][0]
        assert job["status"] == "ok", job["error"]
        out = nbformat.read(str(run_dir / job["outputs"]["ipynb"]), as_version=4)
        kinds = [k for c in out.cells if c.cell_type == "code" for o in c.outputs
                 for k in o.get("data", {})]
        seen[kernels] = (json.loads((run_dir / job["outputs"]["results"]).read_text()),
                         "image/png" in kinds)
    assert seen["warm"] == seen["cold"]
    assert seen["warm"][0] == {"cwd": str(nbdir), "env": "from-the-runner"}
    assert seen["warm"][1]  # the figure was captured as an image
