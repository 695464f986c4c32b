"""Nothing under data/raw is ever written: every cxlib writer refuses it, raw stays byte-identical.

Each test snapshots the raw folder (every file's path and SHA-256, and the
listing of its parent) before and after aiming a writer at it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from cxlib import config
from cxlib import io as cxio
from cxlib.data import encodings, readers, synth, validate, wide
from cxlib.errors import CxError, DataError, ParameterError
from cxlib.share import results

ROWS = ("response_id,customer_id,date,touchpoint_id,metric,score,scale_min,scale_max\r\n"
        "R1,C1,2024-03-01,store,csat,4,1,5\r\n")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (recursively) with the SHA-256 of files."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest()
                                               if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root whose raw folder holds a survey export and a wide export."""
    root = tmp_path / "data"
    raw = root / "raw"
    raw.mkdir(parents=True)
    (raw / "README.md").write_text("raw exports\n", encoding="utf-8")
    (raw / "survey.csv").write_bytes(ROWS.encode("utf-8"))
    (raw / "wide.csv").write_bytes(b"id,Seat\r\n1,5\r\n2,0\r\n")
    (raw / "sub").mkdir()
    (raw / "sub" / "crm.csv").write_bytes("id;ad\r\n1;Şişli\r\n".encode("cp1254"))
    monkeypatch.setattr(config, "DATA_DIR", root)
    monkeypatch.setattr(config, "RAW_DIR", raw)
    monkeypatch.setattr(config, "PROCESSED_DIR", root / "processed")
    monkeypatch.setattr(config, "SAMPLE_DIR", root / "sample")
    return root


def test_reading_raw_files_leaves_them_unchanged(data: Path) -> None:
    raw, before, top = data / "raw", snapshot(data / "raw"), snapshot(data)
    assert len(validate.load(raw / "survey.csv", "responses")) == 1
    with pytest.raises(DataError):  # a contract failure must not "fix" the file either
        validate.load(raw / "wide.csv", "responses")
    with pytest.warns(encodings.EncodingGuessWarning):
        readers.read_table(raw / "sub" / "crm.csv")
    assert snapshot(raw) == before and snapshot(data) == top


def test_load_mapped_with_its_cache_under_raw_is_refused(data: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = {"name": "tiny", "file": "wide.csv", "respondent_id": "id", "date": "2024-01-01",
               "not_applicable": [0],
               "touchpoints": {"Seat": {"id": "seat_comfort", "metric": "csat", "scale": [1, 5]}}}
    mpath = tmp_path / "tiny.yml"
    mpath.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    # the export is found under data/raw and read; its cache aimed at data/raw is refused
    monkeypatch.setattr(config, "PROCESSED_DIR", data / "raw" / "processed")
    before, top = snapshot(data / "raw"), snapshot(data)
    with pytest.raises(DataError, match="immutable") as exc:
        wide.load_mapped(mpath)
    assert exc.value.rule == "data/raw is read-only"
    assert snapshot(data / "raw") == before and snapshot(data) == top
    # the same mapping with the cache where it belongs works and still leaves raw alone
    monkeypatch.setattr(config, "PROCESSED_DIR", data / "processed")
    assert len(wide.load_mapped(mpath)) == 1
    assert snapshot(data / "raw") == before


@pytest.mark.parametrize("target", ["raw", "raw/world", "raw/sub", "."],
                         ids=["raw", "under-raw", "raw-subfolder", "data-root-holding-raw"])
def test_generate_into_raw_or_a_folder_holding_it_is_refused(data: Path, target: str) -> None:
    before, top = snapshot(data / "raw"), snapshot(data)
    with pytest.raises(CxError) as exc:
        synth.generate(data / target, size=1000, seed=1)
    assert "data/raw" in str(exc.value)
    assert snapshot(data / "raw") == before and snapshot(data) == top


def test_generate_refuses_a_folder_that_is_not_a_world(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(ParameterError, match=r"no truth\.json"):
        synth.generate(out, size=1000, seed=1)
    assert snapshot(tmp_path) == before
    # an empty folder, a new one and a previous world are fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (synth.generate(empty, size=1000, seed=1) / "truth.json").exists()
    assert (synth.generate(empty, size=1000, seed=2) / "truth.json").exists()


def test_results_file_under_raw_is_refused(data: Path) -> None:
    before, top = snapshot(data / "raw"), snapshot(data)
    res = results.Results("00_touchpoint_map", parameters={})
    res.headline("n", 1, label="n")
    for target in (data / "raw" / "x.results.json", data / "raw" / "new" / "x.results.json"):
        with pytest.raises(DataError, match="immutable"):
            res.save(target)
    assert snapshot(data / "raw") == before and snapshot(data) == top
    assert res.save(data / "reports" / "x.results.json").exists()


def test_rendered_report_under_raw_is_refused(data: Path) -> None:
    from cxlib.share import render

    before = snapshot(data / "raw")
    with pytest.raises(DataError, match="immutable"):
        render._write(data / "raw" / "x.manager.html", "<html></html>")
    assert snapshot(data / "raw") == before


def test_guard_resolves_links_and_dots(data: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(data / "raw", target_is_directory=True)
    for p in (link / "x.parquet", data / "processed" / ".." / "raw" / "x.parquet"):
        with pytest.raises(DataError, match="immutable"):
            cxio.guard_write(p)
    assert cxio.guard_write(data / "processed" / "x.parquet")
