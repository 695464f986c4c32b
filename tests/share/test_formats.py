"""Tests of cxlib.share.formats: period labels, one minus sign, share changes in points.

Issue 15 (a Turkish review of the default batch): period codes were shown raw
(``2025H1``), two minus characters were mixed on one page (``-5,0`` next to
``−%9,4``), and a change of a share read as a percent (``+%11,1``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent, get_minus_sign_symbol

from cxlib import i18n
from cxlib.share import formats, tables

LANGS = ("en", "tr", "az")


# --- 1. period codes in words ---------------------------------------------------------------

@pytest.mark.parametrize(("code", "lang", "text"), [
    ("2025H1", "en", "H1 2025"), ("2025H2", "tr", "2025 2. yarıyıl"),
    ("2025H1", "az", "2025, 1-ci yarımil"), ("2025Q1", "en", "Q1 2025"),
    ("2025Q2", "tr", "2025 2. çeyrek"), ("2025Q2", "az", "2025, 2-ci rüb"),
    ("2025Q3", "az", "2025, 3-cü rüb"), ("2025Q4", "tr", "2025 4. çeyrek"),
])
def test_half_years_and_quarters_in_words(code, lang, text):
    # reference: the reviewers' wording (issue 15); az ordinal suffixes by vowel harmony
    assert formats.period(code, lang) == text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("month", [1, 3, 12])
def test_month_is_named_by_babel(lang, month):
    # independent reference: Babel's (CLDR) year-month skeleton in the language's locale
    want = format_skeleton("yMMMM", dt.date(2025, month, 1), locale=i18n.LOCALES[lang])
    assert formats.period(f"2025-{month:02d}", lang) == want
    assert formats.period("2025-03", "tr") == "Mart 2025"


@pytest.mark.parametrize("raw", ["2025H3", "2025Q5", "2025-13", "week 12", "2025", "x2025H1",
                                 "all"])
def test_anything_else_stays_as_it_is(raw):
    assert all(formats.period(raw, lang) == raw for lang in LANGS)
    assert formats.period(None, "tr") == formats.MISSING


def test_moves_table_says_the_periods_in_words():
    move = {"touchpoint_id": "checkout", "metric": "csat", "statistic": "mean",
            "previous_period": "2024H2", "period": "2025H1", "delta": -0.4,
            "direction": "down", "q_value": 0.01}
    t = tables.moves_table([move], language="tr")
    assert t.rows[0][3] == "2024 2. yarıyıl → 2025 1. yarıyıl"


# --- 2. one minus sign ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_one_minus_character_throughout(lang):
    # independent reference: the locale's CLDR minus sign, and Babel's own negatives
    minus = get_minus_sign_symbol(i18n.LOCALES[lang])
    assert i18n.minus_sign(lang) == minus
    shown = [
        formats.value(-5.0, "points", lang), formats.value(-0.094, "share", lang),
        formats.value(-2.6, "score", lang), formats.value(-1.0183, "percent", lang),
        formats.signed(3.0, 2.6, "score", lang), formats.signed(10, 5, "points", lang),
        formats.signed(0.56, 0.45, "share", lang), formats.value(float("-inf"), "number", lang),
        i18n.format_signed(-1234.5, lang, digits=1), i18n.format_number(-3.5, lang, digits=1),
        i18n.format_percent(-0.26, lang), format_decimal(-5, locale=i18n.LOCALES[lang]),
        format_percent(-0.094, locale=i18n.LOCALES[lang]),
    ]
    minuses = {c for s in shown for c in s if c in "-\u2212\u2010\u2011\u2012\u2013\u2014"}
    assert minuses == {minus}, shown
    assert all(minus in s for s in shown), shown
    assert formats.signed(12.5, 10.0, "points", lang).startswith(minus)


# --- 3. a change of a share is in percentage points -----------------------------------------

@pytest.mark.parametrize(("lang", "up", "down"), [
    ("en", "+11.1 pts", "-9.4 pts"),
    ("tr", "+11,1 yüzde puan", "-9,4 yüzde puan"),
    ("az", "+11,1 faiz bəndi", "-9,4 faiz bəndi"),
])
def test_share_change_is_in_percentage_points(lang, up, down):
    # reference: 0.561 - 0.45 = 11.1 percentage points; the number part by Babel
    assert formats.signed(0.45, 0.561, "share", lang) == up
    assert formats.signed(0.5, 0.406, "share", lang) == down
    number = format_decimal(11.1, format="#,##0.0", locale=i18n.LOCALES[lang])
    assert formats.signed(0.45, 0.561, "share", lang).startswith("+" + number + " ")
    assert "%" not in formats.signed(0.45, 0.561, "share", lang)
    assert formats.signed(0.45, 0.4500001, "share", lang) == "="  # never -0.0 points


@pytest.mark.parametrize("lang", LANGS)
def test_share_level_stays_a_percent(lang):
    # independent reference: Babel's percent in the locale's pattern, one decimal
    loc = i18n.LOCALES[lang]
    from babel import Locale

    pattern = Locale.parse(loc).percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    assert formats.value(0.561, "share", lang) == format_percent(0.561, format=pattern,
                                                                  locale=loc)
    assert "%" in formats.value(0.561, "share", lang)


def test_moves_table_top_box_change_in_points():
    move = {"touchpoint_id": "checkout", "metric": "csat", "statistic": "top2",
            "previous_period": "2024H2", "period": "2025H1", "delta": 0.111,
            "direction": "up", "q_value": 0.01}
    assert tables.moves_table([move], language="tr").rows[0][4] == "▲ +11,1 yüzde puan"
    assert tables.moves_table([move], language="en").rows[0][4] == "▲ +11.1 pts"
