"""Reading (cxlib.data.readers) and validating (cxlib.data.validate) every kind of bad
input real exports bring.

Each bad input must raise one DataError naming the file, the column, the rule
and offending rows, and the raw file must be byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from cxlib import config
from cxlib import io as cxio
from cxlib.data import schemas
from cxlib.data.encodings import EncodingGuessWarning
from cxlib.data.readers import read_table
from cxlib.data.validate import load
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
    df = load(p, "responses")
    assert list(df["score"]) == [4.0, 9.0, 2.0]
    assert df["date"].dtype == "datetime64[ns]"


def test_utf8_bom_is_stripped(tmp_path):
    p = write_csv(tmp_path / "bom.csv", GOOD, bom=True)
    df = read_table(p)
    assert df.columns[0] == "response_id"  # not "\ufeffresponse_id"
    assert df.loc[2, "region"] == "İstanbul"


def test_cp1254_declared_and_detected(tmp_path):
    rows = [*GOOD[:1], ("R3", "C3", "2024-03-03", "store", "csat", "5", "1", "5",
                         "Şişli ığdır İzmir")]
    p = write_csv(tmp_path / "tr.csv", rows, sep=";", encoding="cp1254")
    before = digest(p)
    declared = read_table(p, encoding="cp1254")
    assert declared.loc[0, "region"] == "Şişli ığdır İzmir"
    with pytest.warns(EncodingGuessWarning) as warned:
        detected = read_table(p)
    assert detected.loc[0, "region"] == "Şişli ığdır İzmir"
    # the guess is visible: a warning saying which encoding was assumed and how to declare it
    assert len(warned) == 1 and "encoding='cp1254'" in str(warned[0].message)
    assert any("encoding='cp1254'" in n for n in detected.attrs["notes"])
    assert digest(p) == before


def test_decimal_comma_and_day_first_dates(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "31.12.2024", "1.234,50", "1.000,25"),
            ("O2", "C2", "01.02.2025", "99,90", "10,00")]
    p = write_csv(tmp_path / "orders.csv", rows, sep=";")
    df = load(p, "orders")
    assert df["revenue"].tolist() == [1234.5, 99.9]
    assert df["date"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2025-02-01")]


def test_excel(tmp_path):
    df = pd.DataFrame([dict(zip(GOOD[0], r, strict=True)) for r in GOOD[1:]])
    df["score"] = df["score"].astype(float)
    p = tmp_path / "r.xlsx"
    df.to_excel(p, index=False)
    out = load(p, "responses")
    assert len(out) == 3 and out["score"].sum() == 15


def _assert_clear(err: DataError, path: Path, column: str, fragment: str) -> None:
    msg = str(err)
    assert str(path) in msg, msg
    assert column in msg, msg
    assert fragment in msg, msg


def _row(score="3", *, rid="R9", tp="store", metric="csat", lo="1", hi="5"):
    return (rid, "C9", "2024-03-01", tp, metric, score, lo, hi, "X")


@pytest.mark.parametrize(
    ("rows", "column", "rule", "rows_shown"),
    [
        ([tuple(v for v, h in zip(r, GOOD[0], strict=True) if h != "score") for r in GOOD],
         "score", "column_in_dataframe", []),
        ([*GOOD, _row("9")], "score", "score within [scale_min, scale_max]",
         ["line 5: {'score': 9, 'scale_min': 1, 'scale_max': 5}"]),
        ([*GOOD, _row("")], "score", "not_nullable", ["line 5: {'score': nan}"]),
    ],
    ids=["missing-column", "score-out-of-scale", "missing-score"],
)
def test_contract_violations_name_file_column_rule_rows(tmp_path, rows, column, rule, rows_shown):
    p = write_csv(tmp_path / "bad.csv", rows)
    before = digest(p)
    with pytest.raises(DataError) as exc:
        load(p, "responses")
    err = exc.value
    assert (err.path, err.column, err.rule, err.rows) == (str(p), column, rule, rows_shown)
    assert str(p) in str(err) and f"rule: {rule}" in str(err)
    assert digest(p) == before  # raw file untouched


def test_table_rule_is_one_entry_naming_its_columns_and_five_rows(tmp_path):
    # score 9 and 7 on a 1-5 scale in 7 rows: pandera reports the table-level check once per
    # column of each row (8 x 7 failure cases); the error has ONE entry, on score's columns
    bad = [_row(s, rid=f"R{9 + i}") for i, s in enumerate("9797979")]
    p = write_csv(tmp_path / "bad.csv", [*GOOD, *bad])
    with pytest.raises(DataError) as exc:
        load(p, "responses")
    err, msg = exc.value, str(exc.value)
    assert err.column == "score" and err.rule == "score within [scale_min, scale_max]"
    entries = [ln for ln in msg.splitlines() if "rule 'score within" in ln]
    assert entries == ["  columns score, scale_min, scale_max: rule 'score within "
                       "[scale_min, scale_max]' broken in 7 row(s)"]
    assert sum(ln.startswith("  column") for ln in msg.splitlines()) == 1
    assert err.rows == [f"line {5 + i}: {{'score': {s}, 'scale_min': 1, 'scale_max': 5}}"
                        for i, s in enumerate("97979")]  # the first five of seven


@pytest.mark.parametrize(
    ("bad_rows", "column", "rule", "shown"),
    [
        ([_row(metric="csatt")], "metric", "isin(['csat', 'nps', 'ces', 'overall'])",
         "line 5: {'metric': 'csatt'}"),
        ([_row(hi="10")], "scale_min", "scale is one declared for the metric "
         "(schemas.METRIC_ALLOWED_SCALES)", "line 5: {'scale_min': 1, 'scale_max': 10, "
         "'metric': 'csat'}"),
        ([_row(), _row()], "response_id", "unique (response_id, touchpoint_id, metric)",
         "line 5: {'response_id': 'R9', 'touchpoint_id': 'store', 'metric': 'csat'}"),
        ([_row(metric="nps", tp="journey", lo="1", hi="10")], "scale_min",
         "scale is one declared for the metric (schemas.METRIC_ALLOWED_SCALES)",
         "line 5: {'scale_min': 1, 'scale_max': 10, 'metric': 'nps'}"),
    ],
    ids=["unknown-metric", "csat-on-1-10", "duplicate-key", "nps-on-1-10"],
)
def test_responses_contract_refuses_bad_rows(tmp_path, bad_rows, column, rule, shown):
    p = write_csv(tmp_path / "r.csv", [*GOOD, *bad_rows])
    before = digest(p)
    with pytest.raises(DataError) as exc:
        load(p, "responses")
    assert (exc.value.column, exc.value.rule) == (column, rule)
    assert exc.value.rows[0] == shown
    assert digest(p) == before


def test_unknown_metric_suggests_the_close_one(tmp_path):
    p = write_csv(tmp_path / "r.csv", [*GOOD, _row(metric="csatt")])
    with pytest.raises(DataError, match="did you mean 'csatt' -> 'csat'"):
        load(p, "responses")


def test_declared_alternative_scales_pass(tmp_path):
    # overall as a 0/1 label (the airline mapping) and every metric on its usual scale
    rows = [*GOOD, _row("1", tp="journey", metric="overall", lo="0", hi="1"),
            _row("8", rid="R10", tp="journey", metric="overall", lo="1", hi="10"),
            _row("6", tp="store", metric="ces", lo="1", hi="7")]
    df = load(write_csv(tmp_path / "r.csv", rows), "responses")
    assert len(df) == 6
    assert set(schemas.METRIC_ALLOWED_SCALES) == set(schemas.METRIC_SCALES)
    for metric, scale in schemas.METRIC_SCALES.items():
        assert schemas.METRIC_ALLOWED_SCALES[metric][0] == scale
    assert schemas.HIGHER_IS_BETTER == {"csat": True, "nps": True, "ces": False,
                                        "overall": True}


def test_bad_date_names_rows(tmp_path):
    rows = [*GOOD, ("R9", "C9", "not a date", "store", "csat", "3", "1", "5", "X")]
    p = write_csv(tmp_path / "d.csv", rows)
    before = digest(p)
    with pytest.raises(DataError) as exc:
        load(p, "responses")
    _assert_clear(exc.value, p, "date", "not a date")
    assert "line 5" in str(exc.value)
    assert digest(p) == before


def test_duplicate_ids(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "2024-01-01", "10", "5"), ("O1", "C2", "2024-01-02", "12", "6")]
    p = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(DataError) as exc:
        load(p, "orders")
    _assert_clear(exc.value, p, "order_id", "unique")


def test_several_columns_failing_come_back_in_one_error(tmp_path):
    rows = [("order_id", "customer_id", "date", "revenue", "cost"),
            ("O1", "C1", "2024-01-01", "10", "-5"), ("O1", "C2", "2024-01-02", "12", "6")]
    p = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(DataError) as exc:
        load(p, "orders")
    msg = str(exc.value)
    assert "order_id" in msg and "cost" in msg and "greater_than_or_equal_to" in msg


def test_writing_under_raw_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "RAW_DIR", tmp_path / "raw")
    with pytest.raises(DataError, match="immutable"):
        cxio.guard_write(tmp_path / "raw" / "x.parquet")
    assert cxio.guard_write(tmp_path / "processed" / "x.parquet")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")


# ------------------------------------------------------------------ CSV as exports come
# One failing input per kind: each checks the message says what to declare, and that the
# raw file is byte-for-byte unchanged.
HEADER = ",".join(GOOD[0])


def _csv(tmp_path: Path, body: str, *, encoding: str = "utf-8", prefix: bytes = b"",
         name: str = "x.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(prefix + body.replace("\n", "\r\n").encode(encoding))
    return p


def _fails(p: Path, *fragments: str, **opts) -> DataError:
    before = digest(p)
    with pytest.raises(DataError) as exc:
        load(p, "responses", **opts)
    msg = str(exc.value)
    for f in fragments:
        assert f in msg, msg
    assert str(p) in msg
    assert digest(p) == before
    return exc.value


def test_cp1251_guess_names_cp1251_not_cp1254(tmp_path):
    p = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,1,5,Москва Баку\n",
             encoding="cp1251")
    before = digest(p)
    with pytest.warns(EncodingGuessWarning) as warned:
        df = read_table(p)
    msg = str(warned[0].message)
    assert df.loc[0, "region"] == "Москва Баку"
    assert "'cp1251'" in msg and "encoding='cp1251'" in msg and "encoding='cp1254'" not in msg
    assert digest(p) == before


def test_utf8_declared_on_a_cp1254_file_suggests_cp1254(tmp_path):
    p = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,1,5,İstanbul Şişli\n",
             encoding="cp1254")
    err = _fails(p, "cannot decode", "'utf-8' (declared)", "line 2", "encoding='cp1254'",
                 encoding="utf-8")
    assert err.rows == ["line 2: 'R1,C1,2024-03-01,store,csat,4,1,5,İstanbul Şişli'"]


def test_cp1254_declared_on_a_utf8_file_suggests_utf8(tmp_path):
    p = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,1,5,İstanbul Şişli\n")
    _fails(p, "encoding='cp1254' was declared", "valid UTF-8", "encoding='utf-8'",
           encoding="cp1254")


def test_utf16_with_bom_is_read_and_a_wrong_declaration_says_utf16(tmp_path):
    # Excel "Unicode text" exports: UTF-16 LE with a byte-order mark, tab-delimited
    body = "\t".join(GOOD[0]) + "\nR1\tC1\t2024-03-01\tstore\tcsat\t4\t1\t5\tİstanbul\n"
    p = _csv(tmp_path, body, encoding="utf-16")
    assert p.read_bytes()[:2] == b"\xff\xfe"
    before = digest(p)
    df = load(p, "responses")
    assert df.loc[0, "region"] == "İstanbul" and df.loc[0, "score"] == 4.0
    assert any("UTF-16" in n for n in df.attrs["notes"])
    _fails(p, "UTF-16 byte-order mark", "encoding='utf-16'", encoding="utf-8")
    assert digest(p) == before


def test_utf16_without_bom_is_guessed_with_a_warning(tmp_path):
    p = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,1,5,Baku\n",
             encoding="utf-16-le")
    with pytest.warns(EncodingGuessWarning, match="encoding='utf-16-le'"):
        df = load(p, "responses")
    assert df.loc[0, "region"] == "Baku"


def test_utf8_bom_with_utf8_declared_and_a_contract_error_names_clean_columns(tmp_path):
    body = ",".join(h for h in GOOD[0] if h != "score") + "\nR1,C1,2024-03-01,store,csat,1,5,X\n"
    p = _csv(tmp_path, body, prefix=b"\xef\xbb\xbf")
    err = _fails(p, "column score: missing", "'response_id'", encoding="utf-8")
    assert "\ufeff" not in str(err)
    ok = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,1,5,X\n",
              prefix=b"\xef\xbb\xbf", name="ok.csv")
    assert load(ok, "responses", encoding="utf-8").columns[0] == "response_id"


def test_decimal_comma_in_a_comma_delimited_file_asks_for_decimal(tmp_path):
    p = _csv(tmp_path, HEADER + '\nR1,C1,2024-03-01,store,csat,"4,5",1,5,X\n'
                                'R2,C2,2024-03-01,store,csat,3,1,5,X\n')
    err = _fails(p, "decimal comma", "pass decimal=','")
    assert (err.column, err.rows) == ("score", ["line 2: '4,5'"])
    assert load(p, "responses", decimal=",")["score"].tolist() == [4.5, 3.0]


def test_unquoted_decimal_comma_shifts_fields_and_says_so(tmp_path):
    p = _csv(tmp_path, HEADER + "\nR1,C1,2024-03-01,store,csat,4,5,1,5,X\n")
    err = _fails(p, "more fields than the header (9", "decimal comma")
    assert err.rows == ["line 2 (10 fields): 'R1,C1,2024-03-01,store,csat,4,5,1,5,X'"]


def test_bad_day_first_date_names_the_value_without_iso_advice(tmp_path):
    p = _csv(tmp_path, HEADER.replace(",", ";")
             + "\nR1;C1;31.12.2024;store;csat;4;1;5;X\nR2;C2;31.02.2024;store;csat;4;1;5;X\n")
    err = _fails(p, "dd.mm.yyyy", "31.02.2024")
    assert "ISO" not in str(err)
    assert (err.column, err.rows) == ("date", ["line 3: '31.02.2024'"])


def test_mixed_date_formats_name_the_offending_values(tmp_path):
    body = HEADER + "".join(f"\nR{i},C1,2024-03-{i:02d},store,csat,4,1,5,X" for i in range(1, 5))
    body += "\nR8,C1,01.03.2024,store,csat,4,1,5,X\nR9,C1,03/05/2024,store,csat,4,1,5,X\n"
    p = _csv(tmp_path, body)
    err = _fails(p, "mixes date formats", "4 like '2024-03-01' (yyyy-mm-dd)",
                 "1 like '01.03.2024' (dd.mm.yyyy)", "date_format='mixed'")
    assert "use ISO" not in str(err)
    assert (err.column, err.rows) == ("date", ["line 6: '01.03.2024'", "line 7: '03/05/2024'"])
    df = load(p, "responses", date_format="mixed", dayfirst=True)
    assert df["date"].tolist()[-2:] == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-05-03")]


def test_ambiguous_slash_dates_need_dayfirst(tmp_path):
    body = (HEADER + "\nR1,C1,13/05/2024,store,csat,4,1,5,X\nR2,C1,03/05/2024,store,csat,4,1,5,X"
            "\nR3,C1,05/05/2024,store,csat,4,1,5,X\n")
    p = _csv(tmp_path, body)
    err = _fails(p, "read both ways", "'03/05/2024'", "dayfirst=True", "dayfirst=False",
                 "'13/05/2024' suggest day first")
    assert (err.column, err.rule, err.rows) == ("date", "unambiguous date order",
                                                ["line 3: '03/05/2024'"])
    first = load(p, "responses", dayfirst=True)["date"].tolist()
    assert first[1] == pd.Timestamp("2024-05-03")
    with pytest.raises(DataError):  # 13/05 cannot be month first
        load(p, "responses", dayfirst=False)
    assert load(p, "responses", date_format="%d/%m/%Y")["date"].tolist() == first


def test_slash_dates_that_settle_the_order_are_read(tmp_path):
    # every value disambiguates: a part above 12, or day = month
    p = _csv(tmp_path, HEADER + "\nR1,C1,05/13/2024,store,csat,4,1,5,X"
                                "\nR2,C1,05/05/2024,store,csat,4,1,5,X\n")
    df = load(p, "responses")
    assert df["date"].tolist() == [pd.Timestamp("2024-05-13"), pd.Timestamp("2024-05-05")]
    assert any("%m/%d/%Y" in n for n in df.attrs["notes"])


@pytest.mark.parametrize(("real", "declared", "name"), [(";", ",", "semicolon"),
                                                         ("\t", ";", "tab")])
def test_wrong_delimiter_suggests_the_right_one(tmp_path, real, declared, name):
    p = _csv(tmp_path, "\n".join(real.join(r) for r in GOOD) + "\n")
    err = _fails(p, f"looks {name}-delimited", f"sep={real!r}", sep=declared)
    assert err.rows[0].startswith("line 1: 'response_id")
    assert len(load(p, "responses")) == 3  # undeclared: sniffed
