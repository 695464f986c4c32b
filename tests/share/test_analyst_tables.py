"""The tables notebooks display follow ``language`` (issue 15): words, names, number marks.

References: the decimal and grouping marks are CLDR's, read through Babel
(``babel.numbers.format_decimal`` in tr_TR, az_AZ and en), not through cxlib;
touchpoint names are the retail catalog's YAML; the words are the message catalog's
entries, read from the YAML file itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from babel import Locale
from babel.numbers import format_decimal, format_percent
from bs4 import BeautifulSoup

from cxlib.data.catalog import load_catalog
from cxlib.errors import CxError
from cxlib.share import privacy
from cxlib.share.analyst_tables import analyst_table

MESSAGES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                           / "messages.yml").read_text(encoding="utf-8"))
LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}


def shown(styler) -> tuple[list[str], list[list[str]]]:
    """Headers and cell texts as a browser shows them (HTML entities decoded)."""
    soup = BeautifulSoup(styler.to_html(), "html.parser")
    heads = [th.get_text() for th in soup.select("thead th")]
    rows = [[td.get_text() for td in tr.find_all(["th", "td"])] for tr in soup.select("tbody tr")]
    return heads, rows


FRAME = pd.DataFrame({
    "stage": ["pre_sale", "sale"], "touchpoint_id": ["store_checkout", "website"],
    "segment": ["mass", "affluent"], "status": ["blind_spot", "covered"],
    "estimate": [2018.5, 3.25], "p_value": [0.00001, 0.25], "n": [2107, 12],
    "low_base": [True, False], "share": [0.1391, np.nan], "ci_low": [0.12, np.nan],
    "ci_high": [0.16, np.nan], "branch_id": ["B01", None]})


@pytest.mark.parametrize("lang", ["tr", "az"])
def test_headers_values_and_names_in_the_language(lang):
    cat = load_catalog("retail")
    heads, rows = shown(analyst_table(FRAME, language=lang, catalog=cat))
    m = {k: v[lang] for k, v in MESSAGES.items()}
    assert heads == [m["col_stage"], m["col_touchpoint"], m["col_segment"], m["col_status"],
                     m["col_estimate"], m["col_p_value"], m["col_n"], m["col_low_base"],
                     m["col_share"], m["col_ci_low"], m["col_ci_high"], m["col_branch_id"]]
    first = rows[0]
    assert first[0] == cat.name("pre_sale", lang) and first[1] == cat.name("store_checkout", lang)
    assert first[2] == m["v_segment_mass"] and first[3] == m["w_blind_spot"]
    assert first[7] == m["yes"] and rows[1][7] == m["no"]
    assert first[11] == "B01"  # a value the catalog has no word for stays as it is
    # no English id is left in a Turkish or Azerbaijani table
    assert not set(FRAME.columns) & set(heads)
    assert not {"pre_sale", "store_checkout", "mass", "blind_spot"} & {c for r in rows for c in r}


@pytest.mark.parametrize(("lang", "text"), [("en", "2,018.5"), ("tr", "2.018,5"),
                                            ("az", "2.018,5")])
def test_numbers_use_the_languages_marks(lang, text):
    _, rows = shown(analyst_table(pd.DataFrame({"estimate": [2018.5]}), language=lang))
    assert rows[0][0] == text == format_decimal(2018.5, locale=LOCALES[lang])
    _, rows = shown(analyst_table(FRAME, language=lang))
    assert rows[0][6] == format_decimal(2107, locale=LOCALES[lang])  # a count, grouped
    assert rows[0][5] == "< " + format_decimal(0.001, format="0.000", locale=LOCALES[lang])
    # the locale's own percent pattern (CLDR: tr "%#,##0"), with one decimal
    pattern = Locale.parse(LOCALES[lang]).percent_formats[None].pattern.replace(
        "#,##0", "#,##0.0", 1)
    assert rows[0][8] == format_percent(0.1391, format=pattern, locale=LOCALES[lang])
    assert rows[0][8] == {"en": "13.9%", "tr": "%13,9", "az": "13,9%"}[lang]
    # an interval's bounds are shown like the share they bound
    assert rows[0][9] == format_percent(0.12, format=pattern, locale=LOCALES[lang])


def test_missing_values_are_an_em_dash_and_the_frame_is_not_touched():
    before = FRAME.copy(deep=True)
    styler = analyst_table(FRAME, language="tr", catalog=load_catalog("retail"))
    _, rows = shown(styler)
    assert rows[1][8] == rows[1][9] == rows[1][11] == "—"
    pd.testing.assert_frame_equal(FRAME, before)
    assert styler.data["estimate"].tolist() == [2018.5, 3.25]  # numbers stay numbers


def test_row_numbers_are_hidden_a_named_index_becomes_a_column():
    heads, rows = shown(analyst_table(FRAME.iloc[[1, 0]], language="en"))
    assert rows[0][0] == "sale" and len(rows[0]) == len(FRAME.columns)  # no "1" column
    by = FRAME.groupby("segment")[["estimate"]].mean()
    heads, rows = shown(analyst_table(by, language="tr"))
    assert heads == [MESSAGES["col_segment"]["tr"], MESSAGES["col_estimate"]["tr"]]
    assert rows[0][0] == MESSAGES["v_segment_affluent"]["tr"]
    series = pd.Series([0.5, 0.25], index=["website", "store"], name="share")
    heads, rows = shown(analyst_table(series, language="en", catalog=load_catalog("retail")))
    assert rows[0] == ["Website and online resources", "50.0%"]  # a label index stays


def test_a_table_with_names_keeps_its_ids():
    cat = load_catalog("retail")
    frame = cat.frame[["touchpoint_id", "name_az", "parent"]].head(3)
    heads, rows = shown(analyst_table(frame, language="az", catalog=cat))
    assert heads[:2] == [MESSAGES["col_touchpoint_id"]["az"], MESSAGES["col_name"]["az"]]
    assert rows[0][:2] == [frame["touchpoint_id"].iloc[0], frame["name_az"].iloc[0]]


def test_text_is_escaped_and_long_tables_say_they_are_cut():
    frame = pd.DataFrame({"comment": ["<script>alert(1)</script>"] * 70, "n": range(70)})
    styler = analyst_table(frame, language="tr")
    html = styler.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    soup = BeautifulSoup(html, "html.parser")
    assert len(soup.select("tbody tr")) == 60
    assert soup.caption.get_text() == "70 satırın ilk 60 satırı"
    with pytest.raises(CxError, match="language"):
        analyst_table(frame, language="de")


def test_the_analysts_page_shows_styler_tables_without_css_text():
    """A Styler's sheet (``#T_...`` rules) goes to the page's head, never into its text."""
    from nbconvert import HTMLExporter

    styler = analyst_table(FRAME, language="tr", catalog=load_catalog("retail"))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("analyst_table(FRAME, language='tr')")
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "text/html": styler._repr_html_(), "text/plain": repr(styler)})]
    nb.cells = [cell]
    body, _ = HTMLExporter(template_name="lab", embed_images=True).from_notebook_node(nb)
    page = privacy.sanitize_html(body, language="tr", title="t")
    soup = BeautifulSoup(page, "html.parser")
    assert "#T_" in " ".join(s.get_text() for s in soup.head.find_all("style"))
    text = soup.body.get_text(" ")
    assert "#T_" not in text and "text-align" not in text and "{" not in text
    [table] = soup.body.find_all("table")
    assert "2.018,5" in table.get_text() and "Satış öncesi" in table.get_text()


# ---------------------------------------------------------------- notebooks run in Turkish

#: Headers that would be English: a column id (snake_case or a key of the catalog) or
#: the English header of a column whose Turkish header differs.
ENGLISH = ({k[4:] for k in MESSAGES if k.startswith("col_")}
           | {v["en"] for k, v in MESSAGES.items() if k.startswith("col_") and v["tr"] != v["en"]})


def _html_outputs(path):
    """(cell source, HTML) of every HTML output of an executed notebook."""
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if html:
                yield cell.source, html


@pytest.mark.slow
def test_notebooks_run_in_turkish_show_turkish_tables(real_run):
    """Every table the six notebooks display (the shared tr batch) is an analyst table:
    Turkish headers, no English number, and the analysts' page shows it as a table."""
    seen = {}
    for path in sorted(real_run.glob("0*.ipynb")):
        tables = []
        for source, html in _html_outputs(path):
            assert 'class="dataframe' not in html, (path.name, source[:80])
            if '<table id="T_' in html:
                tables.append(BeautifulSoup(html, "html.parser"))
        seen[path.name] = len(tables)
        for soup in tables:
            heads = [th.get_text() for th in soup.select("thead th")]
            english = [h for h in heads if h in ENGLISH or re.fullmatch(r"[a-z0-9]+_\w+", h)]
            assert not english, (path.name, english)
            cells = " ".join(td.get_text() for td in soup.select("tbody td"))
            assert not re.search(r"\d,\d{3}\.\d", cells), path.name  # 2,018.5: English marks
        page = path.with_name(path.stem + ".analyst.html")
        body = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").body
        assert len(body.find_all("table")) >= len(tables)
        assert "#T_" not in body.get_text(" "), page.name  # no style sheet shown as text
    assert all(n > 0 for n in seen.values()) and len(seen) >= 6, seen


@pytest.mark.slow
def test_customer_card_of_the_turkish_run_is_turkish(real_run):
    """Notebook 05's card (its last display, not a Styler) in the shared tr batch:
    the catalog's Turkish labels, no English number marks, the card's markup only."""
    [path] = sorted(real_run.glob("05_*.ipynb"))
    cards = [BeautifulSoup(html, "html.parser") for _, html in _html_outputs(path)
             if "cx-card" in html]
    [card] = cards
    assert card.find("table", class_="cx-card")["lang"] == "tr"
    heads = [th.get_text() for th in card.select("th")]
    for key in ("card_orders", "card_last_purchase", "card_churn_risk", "card_expected_value"):
        assert MESSAGES[key]["tr"] in heads, key
        assert MESSAGES[key]["en"] not in heads, key
    text = card.get_text(" ")
    assert not re.search(r"\d,\d{3}\.\d|\d\.\d\d\b", text)  # 2,018.50 or 596.61: English marks
    # only markup the page sanitiser keeps for a notebook's HTML output (issue 15)
    assert {t.name for t in card.find_all(True)} <= {"div", "table", "caption", "thead",
                                                     "tbody", "tr", "th", "td"}


def test_a_tests_name_is_said_as_the_appendix_says_it():
    """The Test column of the moves ("two-proportion z", "Welch t") in the language,
    as the methods appendix says it (its words: cxlib/locales/phrases.yml)."""
    phrases = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                              / "phrases.yml").read_text(encoding="utf-8"))
    df = pd.DataFrame({"segment": ["mass", "affluent"],
                       "test": ["two-proportion z", "Welch t"]})
    _, rows = shown(analyst_table(df, language="tr"))
    assert [r[-1] for r in rows] == [phrases["two-proportion z"]["tr"],
                                     phrases["Welch t"]["tr"]]
    assert [r[-2] for r in rows] == [MESSAGES["v_segment_mass"]["tr"],
                                     MESSAGES["v_segment_affluent"]["tr"]]
    _, rows = shown(analyst_table(df, language="en"))
    assert [r[-1] for r in rows] == ["two-proportion z", "Welch t"]


def _pct1(x: float, lang: str) -> str:
    """Reference: Babel's percent in the locale's own CLDR pattern, one decimal."""
    pattern = Locale.parse(LOCALES[lang]).percent_formats[None].pattern.replace(
        "#,##0", "#,##0.0", 1)
    return format_percent(x, format=pattern, locale=LOCALES[lang])


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_rates_of_0_to_1_and_their_bounds_are_percent(lang):
    # notebook 04's dose tables: a Wilson rate with its interval, and a mean of 0/1
    table = pd.DataFrame({"dose_level": ["1", "2"], "n": [17544, 12505],
                          "rate": [0.1460, 0.1120], "ci_low": [0.1408, 0.1066],
                          "ci_high": [0.1513, 0.1177], "retained": [0.745, 0.646],
                          "churn_rate": [0.2, 0.25], "late_share": [0.14, 0.12]})
    _, rows = shown(analyst_table(table, language=lang, digits=4))
    for i, col in ((2, "rate"), (3, "ci_low"), (4, "ci_high"), (5, "retained"),
                   (6, "churn_rate"), (7, "late_share")):
        assert rows[0][i] == _pct1(float(table[col].iloc[0]), lang)
    assert rows[0][2] == {"en": "14.6%", "tr": "%14,6", "az": "14,6%"}[lang]
    assert table["rate"].tolist() == [0.1460, 0.1120]  # the numbers stay numbers


def test_rates_outside_0_to_1_and_contact_rates_stay_numbers():
    frame = pd.DataFrame({"rate": [0.5, 1.5], "today_rate": [0.91, 0.5],
                          "money_optimal_rate": [0.8, 0.9], "retained": [1, 0]})
    _, rows = shown(analyst_table(frame, language="tr", digits=2))
    # reference: Babel's decimal with two decimals; a 0/1 column per customer stays 0/1
    two = "#,##0.00"
    assert rows[0][:3] == [format_decimal(v, format=two, locale="tr_TR")
                           for v in (0.5, 0.91, 0.8)]
    assert rows[0][3] == "1" and rows[1][3] == "0"


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_money_shows_the_currency_and_no_decimals_from_a_thousand(lang):
    # notebook 04's optimum: per-customer values below 1,000 keep the caller's decimals
    frame = pd.DataFrame({"group": ["mass"], "value_today": [712.58],
                          "worth_per_year": [174091.33], "worth_ci_low": [147613.63],
                          "cost_per_proactive": [1.78], "mean_profit": [845.4],
                          "ci_low": [828.94], "value": [0.5]})
    _, rows = shown(analyst_table(frame, language=lang, digits=2, currency="AZN"))
    loc = LOCALES[lang]
    row = rows[0]
    assert row[1] == format_decimal(712.58, format="#,##0.00", locale=loc) + " AZN"
    assert row[2] == format_decimal(174091, format="#,##0", locale=loc) + " AZN"
    assert row[2] == {"en": "174,091 AZN", "tr": "174.091 AZN", "az": "174.091 AZN"}[lang]
    assert row[3] == format_decimal(147614, format="#,##0", locale=loc) + " AZN"
    assert row[4] == format_decimal(1.78, format="#,##0.00", locale=loc) + " AZN"
    assert row[5] == format_decimal(845.4, format="#,##0.00", locale=loc) + " AZN"
    assert row[6] == format_decimal(828.94, format="#,##0.00", locale=loc) + " AZN"  # its bound
    assert row[7] == format_decimal(0.5, format="#,##0.00", locale=loc)  # a bare "value"
    # without a currency the amounts are still rounded, with no code
    _, rows = shown(analyst_table(frame, language=lang, digits=2))
    assert rows[0][2] == format_decimal(174091, format="#,##0", locale=loc)
