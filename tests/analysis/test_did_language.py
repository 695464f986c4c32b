"""The gaps note and the printed summary of a DiD result in the notebook's language (issue 15).

References: number marks are Babel's ``format_decimal`` in tr_TR/az_AZ/en (CLDR),
words the message catalog's entries read from the YAML file itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from babel.numbers import format_decimal

from cxlib.analysis.did import DidResult, gaps_note

MESSAGES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                           / "messages.yml").read_text(encoding="utf-8"))
GAPS = {"outcome": "csat", "n_missing": 2018, "n_units_with_gaps": 1234, "n_units": 40000,
        "first": ["B01", "B02"], "handling": "available"}


@pytest.mark.parametrize(("lang", "locale"), [("en", "en"), ("tr", "tr_TR"), ("az", "az_AZ")])
def test_gaps_note_numbers_and_words(lang, locale):
    note = gaps_note(GAPS, lang)
    for n in (2018, 1234, 40000):
        assert format_decimal(n, locale=locale) in note
    assert note.endswith(MESSAGES["did_gaps_available"][lang])
    assert "['B01', 'B02']" in note  # unit ids as they are
    if lang != "en":
        assert not re.search(r"\d,\d{3}", note) and "missing" not in note
    assert gaps_note({**GAPS, "handling": None}, lang).endswith("['B01', 'B02'])")


def test_did_summary_uses_the_languages_marks():
    r = DidResult(pd.DataFrame({"term": ["att"], "estimate": [2018.5], "std_error": [0.25],
                                "ci_low": [1.5], "ci_high": [4035.5], "p_value": [0.01]}),
                  "twfe", 2018, 40000, {"pretrend_p": 0.01234, "notes": []}, 0.05)
    tr = r.summary(language="tr")
    assert "2.018 units" in tr and "40.000 observations" in tr and "95% intervals" in tr
    assert format_decimal(2018.5, format="#,##0.0000", locale="tr_TR") in tr  # 2.018,5000
    assert "pretrend_p = 0,01234" in tr
    assert not re.search(r"\d,\d{3}\.", tr)
    en = r.summary()
    assert "2,018 units" in en and "2,018.5000" in en and "pretrend_p = 0.01234" in en
