"""English, Turkish and Azerbaijani: casing, numbers, dates, phrases (cxlib.i18n).

Expected strings are written out by hand (CLDR conventions: tr/az group with a
dot and decimals with a comma; Turkish percent sign first), never computed
with the function under test.
"""

from __future__ import annotations

import pytest

from cxlib import i18n
from cxlib.errors import CxError


def test_dotted_and_dotless_i():
    assert i18n.upper("istanbul ılık", "tr") == "İSTANBUL ILIK"
    assert "istanbul".upper() == "ISTANBUL"  # why the helper exists
    assert i18n.lower("IŞIK İZMİR", "tr") == "ışık izmir"
    assert i18n.upper("əli işıq", "az") == "ƏLİ İŞIQ"
    assert i18n.title("iyi ışık", "tr") == "İyi Işık"
    assert i18n.upper("istanbul", "en") == "ISTANBUL"


@pytest.mark.parametrize(("lang", "number", "signed", "percent", "date"), [
    ("en", "1,234.5", "-1,234.5", "26%", "March 14, 2025"),
    ("tr", "1.234,5", "-1.234,5", "%26", "14 Mart 2025"),
    ("az", "1.234,5", "-1.234,5", "26%", "14 mart 2025"),
])
def test_numbers_and_dates(lang, number, signed, percent, date):
    assert i18n.format_number(1234.5, lang, digits=1) == number
    assert i18n.format_signed(-1234.5, lang, digits=1) == signed
    assert i18n.format_signed(1234.5, lang, digits=1) == "+" + number
    assert i18n.format_signed(-0.0004, lang, digits=3) == "0"  # never "-0,000"
    assert i18n.format_percent(0.256, lang) == percent
    assert i18n.format_date("2025-03-14", lang) == date


def test_phrases_translate_known_pieces_and_keep_the_rest():
    assert i18n.phrase("mean score (leaf level)", "tr") == "ortalama puan (alt düzey)"
    assert i18n.phrase("Segment vs rest: mean (csat)", "az") == "Seqment ilə qalanlar: orta (CSAT)"
    assert i18n.phrase("Grömping (2006) JSS 17(1)", "tr") == "Grömping (2006) JSS 17(1)"
    assert i18n.phrase("mean score", "en") == "mean score"


def test_unknown_language_is_refused():
    with pytest.raises(CxError, match="language"):
        i18n.t("report_title", "de")
