"""Loaders on every kind of bad input real exports bring.

Each bad input must raise one DataError naming the file, the column, the rule
and offending rows, and the raw file must be byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from cxlib import config, loaders
from cxlib.errors import DataError

GOOD = [
    ("response_id", "customer_id", "date", "touchpoint_id", "metric", "score", "scale_min",
     "scale_max", "region"),
    ("R1", "C1", "2024-03-01", "store", "csat", "4", "1", "5", "Bakı"),
    ("R1", "C1", "2024-03-01", "journey", "nps", "9", "0", "10", "Bakı"),
    ("R2", "C2", "2024-03-02", "store", "csat", "2", "1", "5", "İstanbul"),
]


def write_csv(path: Path, rows, *, sep=",", encoding="utf-8", bom=False) -> Path:
    text = "\r\n".join(sep.join(r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, sep):
    p = write_csv(tmp_path / "r.csv", GOOD, sep=sep)
    df = loaders.load(p, "responses")
    assert list(df["score"]) == [4.0, 9.0, 2.0]
    assert df["date"].dtype == "datetime64[ns]"


def test_utf8_bom_is_stripped(tmp_path):
    p = write_csv(tmp_path / "bom.csv", GOOD, bom=True)
    df = loaders.read_table(p)
    assert df.columns[0] == "response_id"  # not "\ufeffresponse_id"
    assert df.loc[2, "region"] == "İstanbul"


def test_cp1254_declared_and_detected(tmp_path):
    rows = [*GOOD[:1], ("R3", "C3", "2024-03-03", "store", "csat", "5", "1", "5",
                         "Şişli ığdır İzmir")]
    p = write_csv(tmp_path / "tr.csv", rows, sep=";", encoding="cp1254")
    before = digest(p)
    declared = loaders.read_table(p, encoding="cp1254")
    assert declared.loc[0, "region"] == "Şişli ığdır İzmir"
    detected = loaders.read_table(p)
    assert detected.loc[0, "region"] == "Şişli ığdır İzmir"
    # the message says which encoding was assumed and how to declare it
    assert any("cp1254" in n and "encoding=" in n for n in detected.attrs["notes"])
    assert digest(p) == before


def test_decimal_comma_and_day_first_dates(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "31.12.2024", "1.234,50", "1.000,25"),
            ("O2", "C2", "01.02.2025", "99,90", "10,00")]
    p = write_csv(tmp_path / "orders.csv", rows, sep=";")
    df = loaders.load(p, "orders")
    assert df["revenue"].tolist() == [1234.5, 99.9]
    assert df["date"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2025-02-01")]


def test_excel(tmp_path):
    df = pd.DataFrame([dict(zip(GOOD[0], r, strict=True)) for r in GOOD[1:]])
    df["score"] = df["score"].astype(float)
    p = tmp_path / "r.xlsx"
    df.to_excel(p, index=False)
    out = loaders.load(p, "responses")
    assert len(out) == 3 and out["score"].sum() == 15


def _assert_clear(err: DataError, path: Path, column: str, fragment: str) -> None:
    msg = str(err)
    assert str(path) in msg, msg
    assert column in msg, msg
    assert fragment in msg, msg


@pytest.mark.parametrize(
    ("mutate", "column", "fragment"),
    [
        (lambda r: [x for x in r if x[0] != "score"], "score", "column_in_dataframe"),
        (lambda r: [*r, ("R9", "C9", "2024-03-01", "store", "csat", "7", "1", "5", "X")],
         "score", "line 5"),
        (lambda r: [*r, ("R9", "C9", "2024-03-01", "store", "csat", "", "1", "5", "X")],
         "score", "not_nullable"),
    ],
    ids=["missing-column", "score-out-of-scale", "missing-score"],
)
def test_contract_violations_name_file_column_rule_rows(tmp_path, mutate, column, fragment):
    rows = GOOD
    if column == "score" and fragment == "column_in_dataframe":
        rows = [tuple(v for v, h in zip(r, GOOD[0], strict=True) if h != "score") for r in GOOD]
    else:
        rows = mutate(GOOD)
    p = write_csv(tmp_path / "bad.csv", rows)
    before = digest(p)
    with pytest.raises(DataError) as exc:
        loaders.load(p, "responses")
    _assert_clear(exc.value, p, column, fragment)
    assert "rule" in str(exc.value)
    assert digest(p) == before  # raw file untouched


def test_bad_date_names_rows(tmp_path):
    rows = [*GOOD, ("R9", "C9", "not a date", "store", "csat", "3", "1", "5", "X")]
    p = write_csv(tmp_path / "d.csv", rows)
    before = digest(p)
    with pytest.raises(DataError) as exc:
        loaders.load(p, "responses")
    _assert_clear(exc.value, p, "date", "not a date")
    assert "line 5" in str(exc.value)
    assert digest(p) == before


def test_duplicate_ids(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "2024-01-01", "10", "5"), ("O1", "C2", "2024-01-02", "12", "6")]
    p = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(DataError) as exc:
        loaders.load(p, "orders")
    _assert_clear(exc.value, p, "order_id", "unique")


def test_several_columns_failing_come_back_in_one_error(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "2024-01-01", "10", "-5"), ("O1", "C2", "2024-01-02", "12", "6")]
    p = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(DataError) as exc:
        loaders.load(p, "orders")
    msg = str(exc.value)
    assert "order_id" in msg and "cost" in msg and "greater_than_or_equal_to" in msg


def test_writing_under_raw_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "RAW_DIR", tmp_path / "raw")
    with pytest.raises(DataError, match="immutable"):
        loaders.guard_write(tmp_path / "raw" / "x.parquet")
    assert loaders.guard_write(tmp_path / "processed" / "x.parquet")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        loaders.read_table(tmp_path / "nope.csv")
