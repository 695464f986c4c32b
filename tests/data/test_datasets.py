"""Named datasets: the sample world and the mapped real airline survey."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib import config
from cxlib.data import datasets
from cxlib.data.schemas import SCHEMAS
from cxlib.errors import DataError


def test_sample_world_tables_meet_contracts(sample_dir):
    w = datasets.load(sample_dir)
    # the care world (contacts by direction, specialists, pulse) is its own world in care/
    care = datasets.load(Path(sample_dir) / "care")
    for name in datasets.TABLES:
        df = (care if name in ("relationships", "pulse") else w).table(name)
        assert df is not None and len(df) > 0, name
        assert set(SCHEMAS[name].columns) - {"weight", "comment", "margin", "name", "email",
                                             "phone"} <= set(df.columns)
    assert w.truth["catalog"] == "retail"
    assert set(w.responses["touchpoint_id"]) - {"journey"} <= set(w.catalog.ids)


def test_missing_dataset_says_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="cx synth"):
        datasets.load(tmp_path / "nothing")


def _world_with(tmp_path, responses: pd.DataFrame):
    folder = tmp_path / "w"
    folder.mkdir(parents=True)
    responses.to_parquet(folder / "responses.parquet", index=False)
    (folder / "truth.json").write_text(json.dumps({"catalog": "retail"}), encoding="utf-8")
    return folder


def _responses(tps):
    n = len(tps)
    return pd.DataFrame({
        "response_id": [f"R{i}" for i in range(n)], "customer_id": "C1",
        "date": pd.Timestamp("2024-01-01"), "touchpoint_id": tps, "metric": "csat",
        "score": 4.0, "scale_min": 1, "scale_max": 5})


def test_unknown_touchpoint_ids_fail_when_the_world_loads(tmp_path):
    folder = _world_with(tmp_path, _responses(["store_air", "stroe", "website", "stroe", "x_y"]))
    before = (folder / "responses.parquet").read_bytes()
    w = datasets.load(folder)
    with pytest.raises(DataError) as exc:
        w.responses  # noqa: B018 (loading is the point)
    err = exc.value
    assert err.path == str(folder / "responses.parquet")
    assert (err.column, err.rule) == ("touchpoint_id", "touchpoint id in catalog 'retail'")
    assert err.rows == ["row 1: 'stroe'", "row 3: 'stroe'", "row 4: 'x_y'"]
    assert "'stroe' (2 rows, did you mean 'store'?)" in str(err)
    assert "retail.yml" in str(err)
    assert (folder / "responses.parquet").read_bytes() == before
    ok = _world_with(tmp_path / "ok", _responses(["store_air", "journey"]))
    assert len(datasets.load(ok).responses) == 2


def test_catalogs_and_mappings_stay_in_the_repository_under_a_data_override():
    # CX_DATA_DIR moves data (raw, sample, processed), never the committed catalogs/mappings
    assert config.CATALOG_DIR == config.ROOT / "data" / "touchpoints"
    assert config.MAPPINGS_DIR == config.ROOT / "data" / "mappings"
    code = ("import os, sys; os.environ['CX_DATA_DIR'] = sys.argv[1]; from cxlib import config; "
            "print(config.CATALOG_DIR, config.MAPPINGS_DIR, config.RAW_DIR, sep='|')")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code, "/elsewhere"], capture_output=True,
                         text=True, check=True).stdout.strip().split("|")
    assert out == [str(config.ROOT / "data" / "touchpoints"),
                   str(config.ROOT / "data" / "mappings"), "/elsewhere/raw"]


def test_a_new_mapping_is_a_dataset_with_no_code_edit(tmp_path, monkeypatch):
    # a mapping YAML dropped in data/mappings and its export in data/raw: load it by name
    mappings, raw = tmp_path / "mappings", tmp_path / "raw"
    mappings.mkdir()
    raw.mkdir()
    (raw / "cabin.csv").write_text("id,Seat,Food,sat\n1,5,0,yes\n2,3,2,no\n", encoding="utf-8")
    (mappings / "cabin.yml").write_text(yaml.safe_dump({
        "name": "cabin", "file": "cabin.csv", "catalog": "airline", "respondent_id": "id",
        "date": "2020-05-01", "not_applicable": [0],
        "touchpoints": {"Seat": {"id": "seat_comfort", "metric": "csat", "scale": [1, 5]},
                        "Food": {"id": "food_drink", "metric": "csat", "scale": [1, 5]}},
        "outcomes": {"sat": {"id": "journey", "metric": "overall", "scale": [0, 1],
                             "values": {"yes": 1, "no": 0}}}}), encoding="utf-8")
    monkeypatch.setattr(config, "MAPPINGS_DIR", mappings)
    monkeypatch.setattr(config, "RAW_DIR", raw)
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    assert datasets.mapped_datasets() == {"cabin": ("cabin", "airline")}
    assert "cabin" in datasets.MAPPED and dict(datasets.MAPPED) == {"cabin": ("cabin", "airline")}
    assert "airline" not in datasets.MAPPED  # discovery, not a hard-coded list
    w = datasets.load("cabin")
    assert (w.mapping, w.catalog_name, w.folder) == ("cabin", "airline", None)
    # by hand: Seat 2 answers, Food 1 (0 = n/a), the outcome 2 -> 5 rows
    assert len(w.responses) == 5 and w.customers is None
    assert datasets.world_dir("cabin") is None
    with pytest.raises(DataError, match="cx synth"):
        datasets.load("cabinet")  # not a mapping: looked up as a world folder


def test_shipped_mappings_are_discovered():
    assert datasets.mapped_datasets()["airline"] == ("airline", "airline")
    assert "airline" in datasets.MAPPED and "sample" not in datasets.MAPPED


def test_a_world_declares_its_currency_or_none(tmp_path, sample_dir):
    # reference: the "currency" the generator writes into truth.json
    planted = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["currency"]
    assert datasets.load(str(sample_dir)).currency == planted == "AZN"
    folder = _world_with(tmp_path, _responses(["checkout"]))
    assert datasets.load(str(folder)).currency is None  # truth.json without one


# ---------------------------------------------------- validated once per file content
def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("valid-*.parquet"))


def test_a_validated_table_is_served_from_the_cache_exactly(tmp_path, monkeypatch, sample_dir):
    from cxlib.data import validate as validate_mod
    from cxlib.data.readers import read_table
    from cxlib.data.validate import validate

    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    path = datasets.load(sample_dir).path("responses")
    reference = validate(read_table(path), "responses", path=path)  # no cache involved
    first = datasets.load(sample_dir).responses  # a miss: validated and stored
    assert len(_entries(tmp_path / "processed")) == 1
    calls = []
    monkeypatch.setattr(validate_mod, "validate", lambda *a, **k: calls.append(a))
    second = datasets.load(sample_dir).responses  # a hit: no validation at all
    assert calls == []
    for df in (first, second):  # the same frame, dtypes and attrs as a fresh validation
        pd.testing.assert_frame_equal(df, reference, check_exact=True)
        assert list(df.dtypes) == list(reference.dtypes) and df.attrs == reference.attrs


def test_a_changed_file_is_validated_again_and_a_bad_one_never_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    folder = _world_with(tmp_path, _responses(["store_checkout", "website"]))
    assert len(datasets.load(folder).responses) == 2
    bad = _responses(["store_checkout", "website"]).assign(score=[4.0, 9.0])  # 9 on a 1-5 scale
    bad.to_parquet(folder / "responses.parquet", index=False)  # same path, other bytes
    for _ in range(2):  # refused every time: a failed validation leaves no entry
        with pytest.raises(DataError, match="score"):
            datasets.load(folder).responses  # noqa: B018 (loading is the point)
    assert len(_entries(tmp_path / "processed")) == 1  # only the good content's entry


def test_an_unusable_cache_still_validates(tmp_path, monkeypatch):
    folder = _world_with(tmp_path, _responses(["store_checkout"]))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setattr(config, "PROCESSED_DIR", blocker / "processed")  # cannot be made
    assert len(datasets.load(folder).responses) == 1
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    datasets.load(folder).responses  # noqa: B018 (stores the entry)
    (entry,) = _entries(tmp_path / "processed")
    entry.write_bytes(b"damaged")  # a damaged entry is rebuilt, not served or raised
    assert len(datasets.load(folder).responses) == 1
    assert entry.read_bytes().startswith(b"PAR1")


def test_the_cache_keeps_the_newest_entries_only(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    monkeypatch.setattr(datasets, "KEEP_VALIDATED", 2)
    for i in range(4):
        folder = _world_with(tmp_path / str(i), _responses(["store_checkout"] * (i + 1)))
        datasets.load(folder).responses  # noqa: B018 (stores an entry per file)
    kept = _entries(tmp_path / "processed")
    assert len(kept) == 2
    assert sorted(len(pd.read_parquet(f)) for f in kept) == [3, 4]  # the two newest


def test_a_hit_keeps_the_rows_labels(tmp_path, monkeypatch, sample_dir):
    """A table saved with its own index (every third customer) reads back with the
    same labels on a hit as on the miss (row labels name offending rows in errors)."""
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    folder = tmp_path / "w"
    folder.mkdir()
    customers = pd.read_parquet(Path(sample_dir) / "customers.parquet").iloc[::3]
    customers.to_parquet(folder / "customers.parquet")  # the index is stored
    (folder / "truth.json").write_text(json.dumps({"catalog": "retail"}), encoding="utf-8")
    miss = datasets.load(folder).customers
    hit = datasets.load(folder).customers
    assert list(miss.index[:3]) == [0, 3, 6]
    pd.testing.assert_frame_equal(hit, miss, check_exact=True)
    (entry,) = _entries(tmp_path / "processed")
    assert entry.stat().st_mode & 0o777 == 0o600  # personal columns: the owner's only
