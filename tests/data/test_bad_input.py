"""Issue 12, the data items: each bad input becomes a clear error or a correct result.

A clear error is one :class:`DataError` naming the file (and the column, the rule and
rows where there are some) and saying how to fix it; the raw file is never changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib import config
from cxlib.data import datasets, duck, schemas, store
from cxlib.data.encodings import EncodingGuessWarning, detect_encoding
from cxlib.data.readers import read_table, read_truth
from cxlib.data.validate import load, validate
from cxlib.errors import DataError

HEADER = ("response_id,customer_id,date,touchpoint_id,metric,score,scale_min,scale_max,"
          "weight,comment")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv(path: Path, rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def _unchanged(path: Path, before: str) -> None:
    assert _digest(path) == before, "the raw file was modified"


# ---------------------------------------------------------------- encodings
TURKISH = "Nestlé Café çok güzel, ğış İŞ"


def test_undeclared_cp1254_with_turkish_letters_and_e_acute_is_not_read_as_cyrillic(tmp_path):
    # the case: read as cp1251 it became 'Nestlй Cafй зok gьzel, рэю ЭЮ'
    p = tmp_path / "tr.csv"
    p.write_bytes(f"id;yorum\n1;{TURKISH}\n2;Müşteri hizmetleri yavaş\n".encode("cp1254"))
    before = _digest(p)
    with pytest.warns(EncodingGuessWarning, match="cp1254"):
        df = read_table(p)
    assert df.loc[0, "yorum"] == TURKISH
    assert df.loc[1, "yorum"] == "Müşteri hizmetleri yavaş"
    _unchanged(p, before)


def test_undeclared_cp1252_is_read_as_its_letters_not_cyrillic(tmp_path):
    p = tmp_path / "fr.csv"
    text = "Café crème, Müller Straße, Gänsefüßchen"
    p.write_bytes(f"id;comment\n1;{text}\n".encode("cp1252"))
    with pytest.warns(EncodingGuessWarning):
        df = read_table(p)
    assert df.loc[0, "comment"] == text  # cp1254 and cp1252 agree on these letters


def test_undeclared_cp1251_russian_still_reads_as_cyrillic(tmp_path):
    p = tmp_path / "ru.csv"
    p.write_bytes("id;comment\n1;Привет мир, как дела\n2;Москва\n".encode("cp1251"))
    with pytest.warns(EncodingGuessWarning, match="cp1251"):
        df = read_table(p)
    assert df.loc[0, "comment"] == "Привет мир, как дела"


def test_utf8_file_with_one_appended_legacy_line_is_a_mixed_encoding_error(tmp_path):
    p = tmp_path / "mixed.csv"
    data = "id;yorum\n1;İstanbul şubesi çok iyi\n2;Bakı filialı\n".encode()
    data += "3;Ankara'daki şube kötü\n".encode("cp1254")
    p.write_bytes(data)
    before = _digest(p)
    with pytest.raises(DataError, match="mixes encodings") as info:
        read_table(p)
    msg = str(info.value)
    assert "line(s) 4" in msg and "cp1254" in msg and "UTF-8" in msg
    assert str(p) in msg and info.value.rule == "one encoding per file"
    assert any("Ankara'daki şube kötü" in r for r in info.value.rows)  # shown decoded
    _unchanged(p, before)


def test_mixed_encoding_is_found_beyond_the_sniffed_head(tmp_path):
    # a large UTF-8 export whose last line was appended by a legacy program
    p = tmp_path / "big.csv"
    body = "".join(f"{i};İzmir şubesi\n" for i in range(40_000)).encode()
    p.write_bytes(b"id;yorum\n" + body + "40000;kötü\n".encode("cp1254"))
    with pytest.raises(DataError, match="mixes encodings") as info:
        read_table(p)
    assert "40002" in str(info.value)


def test_a_legacy_file_with_an_ascii_head_is_read_in_its_code_page(tmp_path):
    # the first 256 KiB are plain ASCII (so UTF-8 is assumed), Turkish letters come later
    p = tmp_path / "late.csv"
    body = "".join(f"{i};Izmir subesi\n" for i in range(30_000))
    p.write_bytes(("id;yorum\n" + body + "30000;Müşteri çok memnun, ğış\n").encode("cp1254"))
    with pytest.warns(EncodingGuessWarning, match="cp1254"):
        df = read_table(p)
    assert df["yorum"].iloc[-1] == "Müşteri çok memnun, ğış"


def test_a_legacy_head_with_utf8_lines_later_is_a_mixed_encoding_error(tmp_path):
    p = tmp_path / "reverse.csv"
    data = "id;yorum\n1;Şişli şubesi güzel\n".encode("cp1254")
    data += b"".join(f"{i};ok\n".encode() for i in range(2, 30_000))
    data += "30000;İstanbul şubesi\n".encode()
    p.write_bytes(data)
    with pytest.raises(DataError, match="mixes encodings") as info:
        read_table(p)
    assert "line 30001 (UTF-8)" in str(info.value)


def test_an_unsure_legacy_guess_is_an_error_saying_how_to_declare(tmp_path):
    # one byte 0xE9 alone: 'é' (cp1254/cp1252) or 'й' (cp1251)? Nothing settles it
    p = tmp_path / "unsure.csv"
    p.write_bytes(b"id;x\n1;\xe9\n")
    with pytest.raises(DataError, match="cannot be told safely") as info:
        read_table(p)
    assert "encoding='cp1254'" in str(info.value) and info.value.rule.startswith("encoding")
    # declaring it reads it
    assert read_table(p, encoding="cp1251").loc[0, "x"] == "й"


def test_detection_prefers_our_users_code_pages_on_a_tie(tmp_path):
    p = tmp_path / "tie.csv"
    p.write_bytes("a\nçok güzel\n".encode("cp1254"))  # same text in cp1254 and cp1252
    assert detect_encoding(p)[0] == "cp1254"


# ---------------------------------------------------------------- values coercion would change
def test_fractional_scale_bounds_are_refused_not_truncated(tmp_path):
    p = _csv(tmp_path / "r.csv", ["R1,C1,2024-03-01,store,csat,4,1.9,5.7,1,"])
    before = _digest(p)
    with pytest.raises(DataError) as info:
        load(p, "responses")
    assert info.value.column == "scale_min" and "whole number" in info.value.rule
    assert "line 2" in str(info.value) and "scale_max" in str(info.value)
    _unchanged(p, before)


def test_infinite_weight_is_refused(tmp_path):
    p = _csv(tmp_path / "r.csv", ["R1,C1,2024-03-01,store,csat,4,1,5,1,",
                                  "R2,C2,2024-03-01,store,csat,4,1,5,inf,"])
    with pytest.raises(DataError) as info:
        load(p, "responses")
    assert info.value.column == "weight" and "finite" in info.value.rule
    assert "line 3" in info.value.rows[0]


def test_future_dated_answers_are_refused(tmp_path):
    future = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    p = _csv(tmp_path / "r.csv", ["R1,C1,2024-03-01,store,csat,4,1,5,1,",
                                  f"R2,C2,{future},store,csat,4,1,5,1,"])
    with pytest.raises(DataError) as info:
        load(p, "responses")
    assert info.value.column == "date" and info.value.rule == schemas.NOT_IN_FUTURE
    assert "line 3" in str(info.value)
    # today itself is fine
    today = pd.Timestamp.now().strftime("%Y-%m-%d")
    ok = _csv(tmp_path / "ok.csv", [f"R1,C1,{today},store,csat,4,1,5,1,"])
    assert len(load(ok, "responses")) == 1


def test_an_all_blank_optional_comment_column_is_accepted(tmp_path):
    p = _csv(tmp_path / "r.csv", ["R1,C1,2024-03-01,store,csat,4,1,5,1,",
                                  "R2,C2,2024-03-02,store,csat,5,1,5,1,"])
    df = load(p, "responses")
    assert df["comment"].isna().all() and len(df) == 2
    assert df.attrs["source"] == str(p)


# ---------------------------------------------------------------- shapes of files
def test_a_repeated_header_name_is_refused_not_renamed(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("response_id,score,score\nR1,4,5\n", encoding="utf-8")
    with pytest.raises(DataError, match="repeats column name") as info:
        read_table(p)
    assert info.value.column == "score" and "columns 2, 3" in str(info.value)


def test_a_workbook_with_several_sheets_needs_sheet_name(tmp_path):
    p = tmp_path / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"a": [1, 2]}).to_excel(xw, sheet_name="2024", index=False)
        pd.DataFrame({"a": [3]}).to_excel(xw, sheet_name="2025", index=False)
    before = _digest(p)
    with pytest.raises(DataError, match="2 sheets") as info:
        read_table(p)
    assert "'2024', '2025'" in str(info.value) and "sheet_name=" in str(info.value)
    assert read_table(p, sheet_name="2025")["a"].tolist() == [3]
    assert read_table(p, sheet_name=0)["a"].tolist() == [1, 2]
    with pytest.raises(DataError, match="no sheet '2026'"):
        read_table(p, sheet_name="2026")
    _unchanged(p, before)


def test_a_one_sheet_workbook_reads_without_sheet_name(tmp_path):
    p = tmp_path / "one.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(p, index=False)
    assert read_table(p)["a"].tolist() == [1, 2]


@pytest.mark.parametrize("content", [b"", b"   \n\n \t\r\n"])
def test_empty_and_blank_files_say_so(tmp_path, content):
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_table(p)
    msg = str(info.value)
    assert ("empty" in msg or "blank" in msg) and "sep=" not in msg
    assert "Export it again" in msg


def test_a_quoted_newline_does_not_shift_the_line_an_error_names(tmp_path):
    rows = ['R1,C1,2024-03-01,store,csat,4,1,5,1,"first line\nsecond line"',
            "",  # a blank line, skipped by the reader
            "R2,C2,2024-03-02,store,csat,9,1,5,1,"]  # score 9 on a 1-5 scale: line 5
    p = _csv(tmp_path / "r.csv", rows)
    with pytest.raises(DataError) as info:
        load(p, "responses")
    assert "line 5" in str(info.value) and "line 3:" not in str(info.value)


def test_file_line_without_multiline_values_is_row_plus_two(tmp_path):
    p = _csv(tmp_path / "r.csv", ["R1,C1,2024-03-01,store,csat,4,1,5,1,",
                                  "R2,C2,2024-03-02,store,csat,9,1,5,1,"])
    df = read_table(p)
    assert "line_shifts" not in df.attrs
    with pytest.raises(DataError, match="line 3"):
        validate(df, "responses")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_at_once():
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="device") as info:
        read_table("/dev/zero")
    assert time.perf_counter() - t0 < 2 and info.value.rule == "a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="named pipe"):
        read_table(fifo)  # opening it would block until a writer came
    parts = tmp_path / "parts"
    parts.mkdir()
    os.mkfifo(parts / "part-0.parquet")
    with pytest.raises(DataError, match="not a regular file"):
        read_table(parts)


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "data.csv"
    link.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="device"):
        read_table(link)


# ---------------------------------------------------------------- world folders
@pytest.fixture()
def world(tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the sample world (Turkish folder name with an apostrophe)."""
    w = tmp_path / "Ankara'daki dünya"
    shutil.copytree(sample_dir, w)
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    return w


def test_a_truncated_truth_json_is_a_clear_error(world):
    text = (world / "truth.json").read_text(encoding="utf-8")
    (world / "truth.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(DataError, match=r"truth\.json is not valid JSON") as info:
        datasets.load(world)
    assert "truncated" in str(info.value) and "cx synth" in str(info.value)
    assert info.value.path == str(world / "truth.json")
    (world / "truth.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match="not an object"):
        read_truth(world)


def test_a_catalog_name_in_truth_json_cannot_be_a_path(world):
    (world / "truth.json").write_text('{"catalog": "../../../etc/passwd"}', encoding="utf-8")
    with pytest.raises(DataError, match="plain name") as info:
        datasets.load(world)
    assert info.value.column == "catalog"


def test_a_world_folder_with_an_apostrophe_builds_its_store(world):
    # `cx store` on a Turkish folder name used to break the SQL it pasted the path into
    w = datasets.load(world)
    folder = store.ensure_store(w, "segment")
    assert (folder / "responses").is_dir()
    full = pd.read_parquet(world / "responses.parquet")
    n = store.responses(w, value="mass").aggregate("count(*)").fetchall()[0][0]
    assert n == int((full["segment"] == "mass").sum())
    assert w.responses_relation(segment="").aggregate("count(*)").fetchall()[0][0] == len(full)
    out = subprocess.run([sys.executable, "-m", "cxlib.cli", "store", str(world)],
                         capture_output=True, text=True,
                         env={**os.environ, "CX_DATA_DIR": str(world.parent / "data2")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "partitions" in out.stdout and str(world.parent / "data2") in out.stdout


def test_the_store_takes_a_world_or_a_path_never_a_name(world, monkeypatch):
    monkeypatch.chdir(world.parent)
    with pytest.raises(DataError, match="never a dataset name"):
        store.ensure_store("sample")
    with pytest.raises(DataError, match="loaded dataset"):
        store.responses(42)
    # a World is resolved by the caller once: the store does not load it again
    w = datasets.load(world)
    calls = []
    monkeypatch.setattr(datasets, "load", lambda *a, **k: calls.append(a))
    store.responses(w, value="mass").aggregate("count(*)").fetchall()
    assert calls == []


def test_an_unknown_filter_column_says_did_you_mean(world):
    w = datasets.load(world)
    with pytest.raises(DataError, match="did you mean 'segment'") as info:
        w.responses_relation(segment="mass", segmnt="x")
    assert info.value.column == "segmnt"


def test_a_zero_row_world_is_a_clear_error_not_a_duckdb_io_error(world):
    r = pd.read_parquet(world / "responses.parquet")
    r.iloc[:0].to_parquet(world / "responses.parquet")
    w = datasets.load(world)
    with pytest.raises(DataError, match="zero rows"):
        w.responses_relation()
    with pytest.raises(DataError, match="zero rows"):
        w.responses_relation(segment="mass")


def test_a_world_without_responses_is_a_clear_error(world):
    (world / "responses.parquet").unlink()
    with pytest.raises(DataError, match="no responses table"):
        datasets.load(world).responses_relation()


def test_an_empty_folder_of_parts_is_a_clear_error(world):
    (world / "responses.parquet").unlink()
    (world / "responses").mkdir()
    w = datasets.load(world)
    with pytest.raises(DataError, match="holds no Parquet part"):
        w.responses_relation()
    with pytest.raises(DataError, match="holds no Parquet part"):
        duck.read_parquet(world / "responses")
    with pytest.raises(DataError, match="holds no Parquet part"):
        read_table(world / "responses")


def test_a_truncated_parquet_file_is_a_clear_error(tmp_path):
    p = tmp_path / "r.parquet"
    pd.DataFrame({"a": np.arange(1000)}).to_parquet(p)
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(DataError, match="complete Parquet"):
        read_table(p)


def test_no_warning_for_certain_encodings(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("a\nİstanbul\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(p).loc[0, "a"] == "İstanbul"
    assert json.dumps(read_table(p).attrs["notes"]) == "[]"
