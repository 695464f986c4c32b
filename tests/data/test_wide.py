"""Wide survey exports to long responses via a mapping file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib import config
from cxlib.data import cache, wide
from cxlib.data.catalog import load_catalog
from cxlib.errors import DataError
from tests.conftest import shared_file_or_skip

TOUCHPOINT_COLUMNS = [
    "Inflight wifi service", "Departure/Arrival time convenient", "Ease of Online booking",
    "Gate location", "Food and drink", "Online boarding", "Seat comfort",
    "Inflight entertainment", "On-board service", "Leg room service", "Baggage handling",
    "Checkin service", "Inflight service", "Cleanliness",
]


@pytest.fixture()
def tiny_mapping(tmp_path):
    m = {
        "name": "tiny", "file": str(tmp_path / "tiny.csv"), "respondent_id": "id",
        "date": "2020-05-01", "not_applicable": [0],
        "touchpoints": {"Seat": {"id": "seat_comfort", "metric": "csat", "scale": [1, 5]},
                        "Food": {"id": "food_drink", "metric": "csat", "scale": [1, 5]}},
        "outcomes": {"sat": {"id": "journey", "metric": "overall", "scale": [0, 1],
                             "values": {"yes": 1, "no": 0}}},
        "segments": {"Class": "travel_class"},
    }
    path = tmp_path / "tiny.yml"
    path.write_text(yaml.safe_dump(m))
    return path


def test_codes_zero_are_dropped_and_counted(tiny_mapping):
    m = wide.read_mapping(tiny_mapping)
    w = pd.DataFrame({"id": [1, 2, 3], "Seat": [5, 0, 3], "Food": [0, 0, 2],
                      "sat": ["yes", "no", "yes"], "Class": ["Eco", "Business", "Eco"]})
    long = wide.wide_to_long(w, m, catalog=load_catalog("airline"))
    # by hand: Seat has 2 non-zero, Food 1 non-zero, outcome 3 rows
    assert len(long) == 6
    assert long.attrs["dropped"] == {"seat_comfort": 1, "food_drink": 2, "journey:overall": 0}
    seat = long[long.touchpoint_id == "seat_comfort"].set_index("response_id")["score"]
    assert seat.to_dict() == {"1": 5.0, "3": 3.0}
    assert set(long["travel_class"]) == {"Eco", "Business"}
    assert (long["date"] == pd.Timestamp("2020-05-01")).all()


def test_out_of_scale_code_is_an_error(tiny_mapping):
    m = wide.read_mapping(tiny_mapping)
    w = pd.DataFrame({"id": [1, 2], "Seat": [5, 9], "Food": [1, 1], "sat": ["yes", "no"],
                      "Class": ["Eco", "Eco"]})
    with pytest.raises(DataError) as exc:
        wide.wide_to_long(w, m, path="tiny.csv")
    assert "Seat" in str(exc.value) and "line 3" in str(exc.value) and "tiny.csv" in str(exc.value)


def test_unknown_touchpoint_id_and_unmapped_outcome(tiny_mapping):
    m = wide.read_mapping(tiny_mapping)
    m["touchpoints"]["Seat"]["id"] = "seat_comfortt"
    w = pd.DataFrame({"id": [1], "Seat": [5], "Food": [1], "sat": ["yes"], "Class": ["Eco"]})
    with pytest.raises(DataError, match="seat_comfortt"):
        wide.wide_to_long(w, m, catalog=load_catalog("airline"))
    m = wide.read_mapping(tiny_mapping)
    w["sat"] = ["maybe"]
    with pytest.raises(DataError, match="maybe"):
        wide.wide_to_long(w, m)


def test_real_airline_file_wide_to_long(tmp_path, monkeypatch):
    path = shared_file_or_skip("airline_satisfaction_train.csv")
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    long = wide.load_mapped("airline")
    # independent count with plain pandas: non-zero ratings + one overall row per passenger
    raw = pd.read_csv(path)
    assert len(raw) == 103_904
    nonzero = int((raw[TOUCHPOINT_COLUMNS] != 0).sum().sum())
    assert len(long) == nonzero + 103_904
    assert long["response_id"].nunique() == 103_904
    overall = long[long.metric == "overall"]
    assert overall["score"].sum() == (raw["satisfaction"] == "satisfied").sum()
    assert set(long["touchpoint_id"]) == {*load_catalog("airline").ids, "journey"}
    # second call is served from the cache, identical
    again = wide.load_mapped("airline")
    assert again.attrs["cache"]["hit"] is True
    pd.testing.assert_frame_equal(long.reset_index(drop=True), again.reset_index(drop=True),
                                  check_dtype=False)


def test_cache_hit_miss_on_content(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    calls = []

    def build():
        calls.append(1)
        return pd.read_csv(src)

    first = cache.cached([src], build, name="t")
    second = cache.cached([src], build, name="t")
    assert len(calls) == 1 and second.attrs["cache"]["hit"]
    src.write_text("a\n2\n")  # one byte changed -> new key, rebuilt
    third = cache.cached([src], build, name="t")
    assert len(calls) == 2 and third["a"].tolist() == [2]
    assert first["a"].tolist() == [1]
    assert len(list((tmp_path / "processed").glob("t-*.parquet"))) == 1  # stale entry removed
    assert all(p.parent == tmp_path / "processed" for p in (tmp_path / "processed").iterdir())


def test_cache_hit_keeps_attrs(tmp_path, monkeypatch, tiny_mapping):
    # a hit returns what a miss returned: the dropped counts and the source travel with it
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    (tmp_path / "tiny.csv").write_text("id,Seat,Food,sat,Class\n1,5,0,yes,Eco\n2,0,0,no,Eco\n"
                                       "3,3,2,yes,Business\n", encoding="utf-8")
    miss = wide.load_mapped(tiny_mapping)
    hit = wide.load_mapped(tiny_mapping)
    assert (miss.attrs["cache"]["hit"], hit.attrs["cache"]["hit"]) == (False, True)
    # by hand: Seat has one 0, Food two, the outcome none
    assert miss.attrs["dropped"] == {"seat_comfort": 1, "food_drink": 2, "journey:overall": 0}
    assert hit.attrs["dropped"] == miss.attrs["dropped"]
    assert hit.attrs["source"] == miss.attrs["source"] == str(tmp_path / "tiny.csv")
    pd.testing.assert_frame_equal(miss, hit)


def test_cache_key_changes_when_the_processing_code_changes(tmp_path, monkeypatch):
    # the key hashes the source of readers/validate/schemas/wide/cache: an edit there is a miss
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    code = []
    for name in ("encodings.py", "readers.py", "validate.py", "schemas.py", "wide.py",
                 "exports.py", "cache.py"):
        copy = tmp_path / name
        copy.write_bytes((Path(cache.__file__).with_name(name)).read_bytes())
        code.append(copy)
    assert [p.name for p in cache.CODE_FILES] == [p.name for p in code]
    monkeypatch.setattr(cache, "CODE_FILES", tuple(code))
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    calls = []

    def build():
        calls.append(1)
        return pd.read_csv(src)

    key = cache.content_key([src])
    cache.cached([src], build, name="t")
    cache.cached([src], build, name="t")
    assert len(calls) == 1
    for p in code:
        p.write_bytes(p.read_bytes() + b"\n# edited\n")
        assert cache.content_key([src]) != key, p.name
        key = cache.content_key([src])
    cache.cached([src], build, name="t")
    assert len(calls) == 2


def test_mapping_file_is_found_under_data_raw_then_the_shared_folder(tmp_path, monkeypatch):
    raw, shared = tmp_path / "raw", tmp_path / "shared"
    raw.mkdir()
    shared.mkdir()
    monkeypatch.setattr(config, "RAW_DIR", raw)
    monkeypatch.setattr(config, "SHARED_DATA_DIR", shared)
    m = {"file": "export.csv", "_path": "m.yml"}
    with pytest.raises(DataError) as exc:
        wide.export_path(m)
    msg = str(exc.value)
    assert str(raw / "export.csv") in msg and str(shared / "export.csv") in msg
    assert (exc.value.column, exc.value.rule) == ("file", "export file exists")
    (shared / "export.csv").write_text("x\n")
    assert wide.export_path(m) == shared / "export.csv"
    (raw / "export.csv").write_text("x\n")
    assert wide.export_path(m) == raw / "export.csv"  # the project's own export first
    assert wide.export_path({"file": str(shared / "export.csv")}) == shared / "export.csv"


def test_ambiguous_date_column_in_a_mapping_needs_dayfirst(tiny_mapping):
    m = wide.read_mapping(tiny_mapping)
    m["date"] = "when"
    w = pd.DataFrame({"id": [1, 2], "Seat": [5, 3], "Food": [1, 1], "sat": ["yes", "no"],
                      "Class": ["Eco", "Eco"], "when": ["03/05/2024", "13/05/2024"]})
    with pytest.raises(DataError, match="read both ways") as exc:
        wide.wide_to_long(w, m, path="tiny.csv")
    assert exc.value.column == "when" and exc.value.rows == ["row 0: '03/05/2024'"]
    m["read"] = {"dayfirst": True}
    long = wide.wide_to_long(w, m, path="tiny.csv")
    assert set(long["date"]) == {pd.Timestamp("2024-05-03"), pd.Timestamp("2024-05-13")}
