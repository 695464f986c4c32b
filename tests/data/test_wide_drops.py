"""Issue 16: every value dropped on the way from a wide export is accounted for.

Row-number ids, non-score text (warning or error above max_unparsed), n/a codes
per scale, ages outside the bins, empty exports. Expected counts are by hand.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cxlib.data import wide
from cxlib.errors import DataError


def mapping(**extra):
    m = {"respondent_id": {"row_number": True}, "date": "2024-01-01",
         "not_applicable": [0, "N/A"],
         "touchpoints": {"Seat": {"id": "seat", "metric": "csat", "scale": [1, 5]}}}
    m.update(extra)
    return m


def test_row_number_ids_are_stable_and_follow_the_rows():
    w = pd.DataFrame({"Seat": [5, 3, 0, 4]})
    a = wide.wide_to_long(w, mapping())
    b = wide.wide_to_long(w.copy(), mapping())
    assert a["response_id"].tolist() == ["r000001", "r000002", "r000004"]  # row 3 is n/a
    assert a["response_id"].tolist() == b["response_id"].tolist()
    assert (a["customer_id"] == a["response_id"]).all()


def test_missing_respondent_id_key_says_how_to_use_the_row_number(tmp_path):
    p = tmp_path / "m.yml"
    p.write_text("date: '2024-01-01'\ntouchpoints: {Seat: {id: s, metric: csat, "
                 "scale: [1, 5]}}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row_number: true"):
        wide.read_mapping(p)


def test_duplicate_ids_point_to_the_row_number():
    w = pd.DataFrame({"id": [1, 1, 2], "Seat": [5, 4, 3]})
    with pytest.raises(DataError, match="row_number"):
        wide.wide_to_long(w, mapping(respondent_id="id"))


def test_each_reason_is_counted_separately_with_examples():
    # by hand: 10 answers: 4 scores, 1 blank, 2 n/a (0 and 'n/a' any case), 1 missing code 8,
    # 1 label with its code ('5 - Very satisfied' -> 5), 1 unparsed ('five')
    w = pd.DataFrame({"Seat": [5, 4, None, 0, "n/a", 8, "5 - Very satisfied", "five", 1, "2"]})
    m = mapping(missing=[8], max_unparsed=0.2)
    with pytest.warns(wide.UnparsedValuesWarning) as rec:
        long = wide.wide_to_long(w, m)
    assert "'five' x1" in str(rec[0].message)
    assert long["score"].tolist() == [5, 4, 5, 1, 2]
    got = {d["reason"]: d["n"] for d in long.attrs["drops"]}
    assert got == {"blank": 1, "not_applicable": 2, "missing_code": 1, "unparsed": 1}
    assert sum(got.values()) + long.attrs["kept"]["Seat"] == len(w) == long.attrs["n_rows"]


def test_unparsed_share_above_the_threshold_is_an_error_and_at_it_a_warning():
    # 1 unparsed of 20 answered = 5%: at the default threshold, a warning
    w = pd.DataFrame({"Seat": [3] * 19 + ["N/A?"]})
    with pytest.warns(wide.UnparsedValuesWarning):
        wide.wide_to_long(w, mapping())
    # 2 of 20 = 10% > 5%: an error listing the values and their file lines
    w2 = pd.DataFrame({"Seat": [3] * 18 + ["five", "five"]})
    w2.attrs["line_offset"] = 2
    with pytest.raises(DataError) as err:
        wide.wide_to_long(w2, mapping())
    msg = str(err.value)
    assert "2 of 20 answers (10.0%)" in msg and "line 20: 'five'" in msg


def test_a_global_na_code_inside_a_scale_is_not_applied_there():
    # 0 means n/a on the 1-5 seat rating but is a score of NPS 0-10: zeros must stay
    w = pd.DataFrame({"Seat": [0, 5, 4], "rec": [0, 10, 7]})
    m = mapping(outcomes={"rec": {"id": "journey", "metric": "nps", "scale": [0, 10]}})
    long = wide.wide_to_long(w, m)
    assert long.loc[long.metric == "nps", "score"].tolist() == [0, 10, 7]
    assert long.loc[long.metric == "csat", "score"].tolist() == [5, 4]
    # a column's own not_applicable replaces the global list
    m["touchpoints"]["Seat"]["not_applicable"] = []
    with pytest.raises(DataError, match="outside the scale"):
        wide.wide_to_long(w, m)


def test_ages_outside_the_bins_are_reported_not_left_empty():
    w = pd.DataFrame({"Seat": [5, 4, 3, 2], "Age": [17, 30, 130, None]})
    m = mapping(segments={"Age": {"name": "age_band", "bins": [18, 40, 120],
                                  "labels": ["18-39", "40-119"]}})
    with pytest.warns(wide.SegmentBinWarning, match="2 value.s. outside the bins"):
        long = wide.wide_to_long(w, m)
    assert long["age_band"].tolist() == ["unknown", "18-39", "unknown", "unknown"]
    (issue,) = long.attrs["segment_issues"]
    assert issue["n_outside"] == 2 and issue["n_missing"] == 1
    assert set(issue["examples"]) == {"17", "130", "missing"}


def test_an_empty_export_is_an_error_not_zero_rows():
    with pytest.raises(DataError, match="no respondents"):
        wide.wide_to_long(pd.DataFrame({"Seat": pd.Series([], dtype=object)}), mapping())


def test_an_export_where_every_answer_is_dropped_is_an_error():
    with pytest.raises(DataError, match="no answer is left"):
        wide.wide_to_long(pd.DataFrame({"Seat": [0, "N/A", None]}), mapping())


def test_a_mistyped_column_gets_a_did_you_mean():
    with pytest.raises(DataError, match="did you mean 'Seat'"):
        wide.wide_to_long(pd.DataFrame({"Seat": [1]}), mapping(
            touchpoints={"Seats": {"id": "s", "metric": "csat", "scale": [1, 5]}}))


def test_no_warning_when_nothing_is_unparsed():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wide.wide_to_long(pd.DataFrame({"Seat": [1, 2, 0]}), mapping())
