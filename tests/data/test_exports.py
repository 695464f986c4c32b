"""Exports as survey tools write them: SPSS .sav, Qualtrics CSV, SurveyMonkey CSV.

The fixtures in tests/data/fixtures/ are hand-made (the .sav by
make_spss_fixture.py); every expected figure below is counted by hand from them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib.data import wide
from cxlib.data.exports import read_export
from cxlib.errors import DataError

FIX = Path(__file__).with_name("fixtures")


def test_qualtrics_header_rows_are_questions_and_import_ids():
    df = read_export(FIX / "qualtrics_export.csv")
    assert df.attrs["format"] == "qualtrics"
    assert len(df) == 5  # 8 lines: 3 header rows + 5 respondents
    assert df.attrs["questions"]["Q1_2"] == "How satisfied were you with... - Call centre"
    assert df.attrs["line_offset"] == 4  # first respondent is file line 4
    assert df["Q1_1"].tolist() == [5, 3, 4, 1, 5]
    # text such as N/A stays text (pandas would read it as missing): it is counted as n/a later
    assert df["Q1_3"].tolist()[0] == "N/A"


def test_surveymonkey_two_row_header_names_matrix_items():
    df = read_export(FIX / "surveymonkey_export.csv")
    assert df.attrs["format"] == "surveymonkey"
    assert len(df) == 5
    cols = list(df.columns)
    assert "How satisfied are you with each of the following? - Checkout" in cols
    assert "Overall how likely are you to recommend us?" in cols  # "Response" sub-row dropped
    assert df.attrs["line_offset"] == 3
    assert df["Respondent ID"].tolist() == [11811, 11812, 11813, 11814, 11815]


def test_spss_value_labels_and_variable_labels():
    df = read_export(FIX / "spss_export.sav")
    assert df.attrs["format"] == "spss"
    assert df.attrs["value_labels"]["q_seat"][9] == "Not applicable"
    assert df.attrs["questions"]["q_bag"] == "Baggage delivery"
    assert df["q_seat"].tolist() == [5, 4, 9, 2, 1, 3]


def test_format_declared_but_wrong_is_an_error():
    with pytest.raises(DataError, match="not a Qualtrics export"):
        read_export(FIX / "surveymonkey_export.csv", format="qualtrics")
    with pytest.raises(DataError, match="unknown export format"):
        read_export(FIX / "surveymonkey_export.csv", format="typeform")


def _mapping(tmp_path: Path, body: dict) -> Path:
    p = tmp_path / "m.yml"
    p.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return p


def test_qualtrics_export_loads_through_a_mapping_and_every_value_is_accounted(tmp_path):
    m = wide.read_mapping(_mapping(tmp_path, {
        "file": str(FIX / "qualtrics_export.csv"), "read": {"format": "qualtrics"},
        "respondent_id": "ResponseId", "date": "StartDate", "not_applicable": ["N/A"],
        "touchpoints": {"Q1_1": {"id": "website", "metric": "csat", "scale": [1, 5]},
                        "Q1_2": {"id": "call_centre", "metric": "csat", "scale": [1, 5]},
                        "Q1_3": {"id": "delivery", "metric": "csat", "scale": [1, 5]}},
        "outcomes": {"Q2": {"id": "journey", "metric": "nps", "scale": [0, 10]}},
        "segments": {"Q3": "region"}}))
    long = wide.wide_to_long(read_export(FIX / "qualtrics_export.csv", format="qualtrics"), m)
    # by hand: Q1_1 5 answers, Q1_2 4 (one blank), Q1_3 4 (one N/A), Q2 5 -> 18 rows
    assert len(long) == 18
    drops = {(d["column"], d["reason"]): d["n"] for d in long.attrs["drops"]}
    assert drops == {("Q1_2", "blank"): 1, ("Q1_3", "not_applicable"): 1}
    assert long.loc[long.touchpoint_id == "delivery", "score"].mean() == pytest.approx(
        (4 + 5 + 2 + 5) / 4)
    assert long.loc[long.metric == "nps", "score"].tolist() == [9, 6, 10, 3, 10]
    assert long["date"].min() == pd.Timestamp("2024-03-01 10:00:00")
    for col, kept in long.attrs["kept"].items():  # rows = kept + dropped, per column
        assert kept + sum(n for (c, _), n in drops.items() if c == col) == 5


def test_surveymonkey_labels_to_scores_and_unparsed_text(tmp_path):
    sm = read_export(FIX / "surveymonkey_export.csv")
    labels = {"Very dissatisfied": 1, "Dissatisfied": 2, "Neutral": 3, "Satisfied": 4,
              "Very satisfied": 5}
    body = {"respondent_id": "Respondent ID", "date": "2024-03-01",
            "not_applicable": ["Not applicable"], "values": labels,
            "touchpoints": {c: {"id": f"tp{i}", "metric": "csat", "scale": [1, 5]}
                            for i, c in enumerate(sm.columns[9:12])}}
    m = wide.read_mapping(_mapping(tmp_path, body))
    # 'five' is 1 of 5 answers of Checkout = 20% > 5%: an error naming it and its line
    with pytest.raises(DataError) as err:
        wide.wide_to_long(sm, m)
    assert "'five'" in str(err.value) and "line 5" in str(err.value)
    assert "max_unparsed" in str(err.value)
    m["max_unparsed"] = 0.25
    with pytest.warns(wide.UnparsedValuesWarning, match="'five' x1"):
        long = wide.wide_to_long(sm, m)
    checkout = long[long.touchpoint_id == "tp1"].set_index("response_id")["score"]
    # by hand: Satisfied 4, Dissatisfied 2, (five dropped), Very dissatisfied 1, Very satisfied 5
    assert checkout.to_dict() == {"11811": 4.0, "11812": 2.0, "11814": 1.0, "11815": 5.0}
    reasons = {(d["touchpoint_id"], d["reason"]): d for d in long.attrs["drops"]}
    assert reasons[("tp1", "unparsed")]["examples"] == {"five": 1}
    assert reasons[("tp2", "not_applicable")]["n"] == 1


def test_spss_codes_with_labelled_na_and_coded_segment(tmp_path):
    m = wide.read_mapping(_mapping(tmp_path, {
        "respondent_id": "caseid", "date": "2024-05-01", "not_applicable": [9],
        "touchpoints": {"q_seat": {"id": "seat", "metric": "csat", "scale": [1, 5]},
                        "q_bag": {"id": "bag", "metric": "csat", "scale": [1, 5]}},
        "outcomes": {"q_overall": {"id": "journey", "metric": "overall", "scale": [1, 10]}},
        "segments": {"region": {"name": "region", "values": {1: "North", 2: "South"}}}}))
    long = wide.wide_to_long(read_export(FIX / "spss_export.sav"), m)
    # 9 is n/a for the 1-5 ratings but a score of the 1-10 overall: kept there
    assert long.loc[long.metric == "overall", "score"].tolist() == [8, 6, 9, 3, 10, 5]
    assert len(long[long.touchpoint_id == "seat"]) == 5
    assert set(long["region"]) == {"North", "South"}
    assert long.loc[long.response_id == "102", "region"].iloc[0] == "South"
