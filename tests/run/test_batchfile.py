"""Batch files under bad input and attack (issue 12): schema, SQL, paths, YAML, personal ids.

Each case of the issue is a named regression test. Nothing here starts a kernel:
``cx run --check`` and :func:`cxlib.run.batchfile.load_batch` must refuse bad
files with one :class:`ParameterError` (exit code 2) listing every problem.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml

from cxlib import cli, config
from cxlib.errors import CxError, ParameterError
from cxlib.run import batch, batchfile
from cxlib.share.mask import mask_value
from tests.run.test_batch import make_notebook, write_batch

SEG_PARAMS = textwrap.dedent('''\
    dataset: str = "sample"  # "sample" or a world folder
    filter_column: str = ""  # a column of responses ("" = no filter)
    filter_value: str = ""  # "" = everyone, or a value of responses.{filter_column}
    language: str = "en"  # one of en | tr | az: language of the report
    results_path: str = ""  # set by the runner
    ''')


@pytest.fixture()
def nb(tmp_path: Path) -> Path:
    return make_notebook(tmp_path / "probe.ipynb")


@pytest.fixture()
def seg_nb(tmp_path: Path) -> Path:
    return make_notebook(tmp_path / "seg.ipynb", parameters=SEG_PARAMS, body="pass\n")


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ParameterError) as info:
        batch.validate(batch.load_batch(path))
    return info.value.problems


def check_exit(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["run", str(path), "--check"])
    cap = capsys.readouterr()
    return code, cap.err + cap.out


# ------------------------------------------------------------------ SQL injection
def test_values_of_cannot_inject_sql(tmp_path: Path, seg_nb: Path, sample_dir: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's payload: --check must only read, name the bad column and exit 2."""
    pwned = tmp_path / "pwned.csv"
    payload = (f'responses.x" FROM (SELECT 1 AS "x"); COPY (SELECT 42 AS pwned) TO '
               f"'{pwned}'; SELECT DISTINCT \"segment")
    p = write_batch(tmp_path, {"name": "sqli", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(seg_nb), "grid": {
                                   "filter_value": {"values_of": payload}}}]})
    code, out = check_exit(p, capsys)
    assert code == 2 and not pwned.exists()
    assert "has no such column in responses" in out and "segment" in out
    assert "parameters valid" not in out


def test_values_of_cannot_read_a_system_file(tmp_path: Path, seg_nb: Path,
                                             sample_dir: Path) -> None:
    payload = ("responses.segment\" FROM read_csv('/etc/passwd') UNION SELECT \"segment")
    p = write_batch(tmp_path, {"name": "sqli2", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(seg_nb), "grid": {
                                   "filter_value": {"values_of": payload}}}]})
    text = "\n".join(problems_of(p))
    assert "root:" not in text and "has no such column" in text


def test_values_of_reads_the_real_values(tmp_path: Path, seg_nb: Path,
                                         sample_dir: Path) -> None:
    """The planted segments of the sample come back as one job each (the good path)."""
    p = write_batch(tmp_path, {"name": "seg", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(seg_nb), "grid": {
                                   "filter_column": ["segment"],
                                   "filter_value": {"values_of": "responses.segment"}}}]})
    b = batch.load_batch(p)
    import pandas as pd

    want = set(pd.read_parquet(sample_dir / "responses.parquet", columns=["segment"])
               ["segment"].dropna().unique())  # independent reference: pandas
    assert {j.parameters["filter_value"] for j in b.jobs} == want
    batch.validate(b)


@pytest.mark.parametrize("spec", ["segment", "nosuchtable.segment", "responses.", 42,
                                  ["responses.segment"]])
def test_values_of_must_name_a_table_and_column(tmp_path: Path, seg_nb: Path,
                                                sample_dir: Path, spec: object) -> None:
    p = write_batch(tmp_path, {"name": "v", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(seg_nb), "grid": {
                                   "filter_value": {"values_of": spec}}}]})
    assert any("values_of must be TABLE.COLUMN" in x for x in problems_of(p))


# ------------------------------------------------------------------ paths
@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "..", ".hidden", "x" * 65,
                                  "a\nb", "", 7])
def test_batch_names_are_plain_names(tmp_path: Path, nb: Path, name: object) -> None:
    p = write_batch(tmp_path, {"name": name, "jobs": [{"notebook": str(nb)}]})
    assert any("name must be a plain name" in x for x in problems_of(p))


def test_a_batch_built_in_code_cannot_write_outside_reports(tmp_path: Path, nb: Path) -> None:
    b = batch.Batch(name="../escaped", jobs=[batch.Job(nb, {})])
    with pytest.raises(ParameterError, match="not a plain name"):
        batch.run_batch(b, out_root=tmp_path / "reports")
    assert not (tmp_path / "escaped").exists()


def test_a_dataset_must_be_a_world(tmp_path: Path, seg_nb: Path) -> None:
    """``dataset: ../../../../etc`` is a folder, not a world: refused."""
    p = write_batch(tmp_path, {"name": "etc", "parameters": {"dataset": "../../../../etc"},
                               "jobs": [{"notebook": str(seg_nb)}]})
    text = "\n".join(problems_of(p))
    assert "is not a world folder" in text and "responses" in text


@pytest.mark.parametrize("notebook", ["/etc/passwd", "/etc", "notes.txt", "missing.ipynb"])
def test_a_notebook_must_be_a_notebook(tmp_path: Path, notebook: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    if notebook == "notes.txt":
        (tmp_path / notebook).write_text("root:x:0:0:secret\n")
    p = write_batch(tmp_path, {"name": "nb", "jobs": [{"notebook": notebook}]})
    code, out = check_exit(p, capsys)
    assert code == 2
    assert "Traceback" not in out and "root:" not in out
    assert "not a Jupyter notebook" in out or "not found" in out


def test_a_fake_notebook_is_not_quoted(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fake.ipynb").write_text("root:x:0:0:SECRET-LINE\n")
    p = write_batch(tmp_path, {"name": "nb", "jobs": [{"notebook": "fake.ipynb"}]})
    code, out = check_exit(p, capsys)
    assert code == 2 and "SECRET-LINE" not in out and "not a Jupyter notebook" in out


# ------------------------------------------------------------------ YAML
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},"
                     f"*{prev},*{prev},*{prev}]")
    lines.append("jobs: [*i]")
    p = tmp_path / "bomb.yml"
    p.write_text("\n".join(lines) + "\n")
    assert p.stat().st_size < 1000
    t0 = time.perf_counter()
    code, out = check_exit(p, capsys)
    assert code == 2 and time.perf_counter() - t0 < 5
    assert "anchors" in out or "aliases" in out


@pytest.mark.parametrize("text", ["jobs: [", "- just\n- a list\n", "42\n", "", "\x00\x01",
                                  "name: x\njobs: {notebook: a.ipynb}\n",
                                  "jobs: " + "[" * 20000 + "]" * 20000 + "\n"])
def test_broken_files_are_clear_errors(tmp_path: Path, text: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "broken.yml"
    p.write_text(text)
    code, out = check_exit(p, capsys)
    assert code == 2 and "Traceback" not in out


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize(("key", "value", "rule"), [
    ("workers", "many", "workers must be"), ("workers", -3, "workers must be"),
    ("workers", 0, "workers must be"), ("workers", True, "workers must be"),
    ("timeout", "ten", "timeout must be"), ("timeout", -5, "timeout must be"),
    ("timeout", 0, "timeout must be"), ("timeout", float("inf"), "timeout must be"),
    ("retries", "lots", "retries must be"), ("retries", -1, "retries must be"),
    ("retry_on", ["gremlins"], "retry_on must be"), ("language", "xx", "language must be"),
    ("parameters", ["dataset", "sample"], "parameters must be"),
    ("jobs", [42], "a job is a notebook path or a mapping"),
    ("jobs", "x.ipynb", "jobs must be"), ("jobs", [], "jobs must be"),
    ("render", "yes", "render must be"), ("kernels", "hot", "kernels must be"),
    ("preload", ["os; rm -rf /"], "preload must be"), ("wrokers", 2, "unknown keys"),
])
def test_every_setting_is_checked_against_the_schema(tmp_path: Path, nb: Path, key: str,
                                                     value: object, rule: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"name": "s", "jobs": [{"notebook": str(nb)}], key: value}
    p = write_batch(tmp_path, spec)
    code, out = check_exit(p, capsys)
    assert code == 2, out
    assert rule in out and "Traceback" not in out


def test_all_problems_come_back_at_once(tmp_path: Path, nb: Path) -> None:
    p = write_batch(tmp_path, {"name": "../x", "workers": "many", "timeout": -5,
                               "language": "xx", "jobs": [{"notebook": str(nb)}, 42]})
    problems = problems_of(p)
    for rule in ("name must be", "workers must be", "timeout must be", "language must be",
                 "a job is a notebook path"):
        assert any(rule in x for x in problems), (rule, problems)


def test_good_settings_are_read(tmp_path: Path, nb: Path) -> None:
    p = write_batch(tmp_path, {"name": "fine.v2", "workers": 3, "timeout": 2.5, "retries": 0,
                               "language": "az", "kernels": "cold", "preload": ["json"],
                               "jobs": [str(nb)]})
    b = batch.load_batch(p)
    assert (b.name, b.workers, b.timeout, b.retries, b.language, b.kernels) == (
        "fine.v2", 3, 2.5, 0, "az", "cold")


def test_a_huge_grid_is_refused_before_it_is_expanded(tmp_path: Path, nb: Path) -> None:
    grid = {f"p{i}": list(range(30)) for i in range(8)}  # 30**8 jobs
    p = write_batch(tmp_path, {"name": "big", "jobs": [{"notebook": str(nb), "grid": grid}]})
    t0 = time.perf_counter()
    with pytest.raises(ParameterError, match="at most"):
        batch.load_batch(p)
    assert time.perf_counter() - t0 < 5


def test_cli_workers_option_is_checked(tmp_path: Path, nb: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    p = write_batch(tmp_path, {"name": "w", "jobs": [{"notebook": str(nb)}]})
    assert cli.main(["run", str(p), "--workers", "-3"]) == 2
    assert "--workers must be" in capsys.readouterr().err


# ------------------------------------------------------------------ personal data
def test_a_customer_id_never_names_files(tmp_path: Path, seg_nb: Path, sample_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A report filtered to one customer: the id is masked in the job id, which names the
    files, the index rows and the page titles."""
    monkeypatch.delenv("CX_MASK_KEY", raising=False)
    cid = "C00000012"
    p = write_batch(tmp_path, {"name": "one", "parameters": {"dataset": str(sample_dir)},
                               "jobs": [{"notebook": str(seg_nb), "rows": [
                                   {"filter_column": "customer_id", "filter_value": cid},
                                   {"filter_column": "segment", "filter_value": "mass"},
                                   {"filter_column": "region",
                                    "filter_value": f"statement_{cid}.pdf"}]}]})
    ids = [j.job_id for j in batch.load_batch(p).jobs]
    assert not any(cid in i for i in ids), ids
    slug = batchfile._slug(mask_value(cid))
    assert slug in ids[0] and "mass" in ids[1] and slug in ids[2]


def test_errors_are_of_the_family(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="not found"):
        batch.load_batch(tmp_path / "nope.yml")
    p = tmp_path / "dir.yml"
    p.mkdir()
    with pytest.raises(CxError):
        batch.load_batch(p)


def test_default_batch_is_valid() -> None:
    """The shipped batch passes the schema (the README's `make report`)."""
    spec = yaml.safe_load((config.BATCHES_DIR / "default.yml").read_text())
    assert batchfile.check_settings(spec, "default.yml") == []
