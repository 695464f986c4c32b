"""Defects a browser review of the rendered default batch found in briefs and the index.

Each test pins one fix: a filtered job's moves name its segment; money carries
its currency in the index and briefs; the methods appendix says lists and
column names in words; the privacy footer names no column ids; small wording
and table fixes. Expected texts are worked by hand from the message catalog.
"""

from __future__ import annotations

import json
from pathlib import Path

from cxlib.share import tables

MOVE = {"touchpoint_id": "web", "segment": None, "segment_column": None,
        "metric": "csat", "statistic": "mean", "period": "2025H2",
        "previous_period": "2025H1", "delta": -0.62, "direction": "down", "q_value": 0.007}
FILTERED = {"filter_column": "segment", "filter_value": "mass"}


def test_moves_of_a_filtered_job_name_its_segment():
    t = tables.moves_table([MOVE], language="en", params=FILTERED)
    seg = t.headers.index("Segment")
    assert t.rows[0][seg] == "mass"
    # an unfiltered job: all customers; a move's own segment wins over the filter
    t = tables.moves_table([MOVE], language="en", params={})
    assert t.rows[0][seg] == "all customers"
    t = tables.moves_table([{**MOVE, "segment": "affluent"}], language="en", params=FILTERED)
    assert t.rows[0][seg] == "affluent"


def test_moves_of_a_filtered_job_through_manager_tables():
    res = {"parameters": FILTERED, "moves": [MOVE], "tables": {}}
    (t,) = tables.manager_tables(res, language="tr")
    assert t.rows[0][1] == "kitle"  # v_segment_mass in Turkish (issue 15)
    # the job's parameters reach the table even when the results file lacks them
    (t,) = tables.manager_tables({"moves": [MOVE]}, language="en", params=FILTERED)
    assert t.rows[0][1] == "mass"


def test_moves_table_has_a_measure_column():
    t = tables.moves_table([MOVE, {**MOVE, "statistic": "top2", "delta": 0.139,
                                   "touchpoint_id": "app"}], language="en", params={})
    assert t.headers == ["Touchpoint", "Segment", "Measure", "Period", "Change", "q (FDR)"]
    assert t.rows[0][4] == "▼ -0.62"  # the locale's (CLDR) minus
    assert t.rows[1][4] == "▼ +13.9 pts"  # a share's change is in percentage points
    assert t.rows[0][2] != t.rows[1][2]


def test_move_segment_masks_a_personal_filter():
    col, seg, text = tables.move_segment(MOVE, {"filter_column": "customer_id",
                                                "filter_value": "C000123"}, "en")
    assert col == "customer_id" and seg == "C000123"
    assert "C000123" not in text


# --------------------------------------------------------------------------- money

def test_money_headlines_carry_the_currency_in_briefs():
    from cxlib.share import brief

    res = {"notebook": "02_touchpoint_drivers", "parameters": {"outcome": "overall"},
           "headlines": [{"key": "margin_per_point", "label": "Margin per point",
                          "value": 34.96, "ci_low": 31.0, "ci_high": 39.0, "n": 2350,
                          "touchpoint_id": "sales_staff", "unit": "per customer"}],
           "tables": {}, "moves": [], "methods": []}
    b = brief.build_brief(res, notebook="02_touchpoint_drivers", currency="AZN")
    assert "35 AZN of margin per customer" in b.findings[0]
    (tile,) = b.tiles
    assert tile["value"] == "35 AZN"
    res = {"notebook": "03_service_innovation_margin", "parameters": {},
           "headlines": [{"key": "net", "label": "Net margin after cost",
                          "value": 138483.7, "ci_low": 98849.0, "ci_high": 178119.0},
                         {"key": "decision", "value": "scale"}],
           "tables": {}, "moves": [], "methods": []}
    b = brief.build_brief(res, notebook="03_service_innovation_margin", currency="AZN")
    assert "138,484 AZN" in b.decision["money"]
    assert [k["value"] for k in b.tiles] == ["138,484 AZN"]


def test_index_money_has_the_currency_of_the_brief(rendered_run):
    import json

    from bs4 import BeautifulSoup

    from cxlib.share import brief

    run = rendered_run("en")
    page = next(run.glob("03_service_innovation_margin--*.manager.html"))
    job = page.name.removesuffix(".manager.html")
    res = json.loads(next(run.glob(f"{job}.results.json")).read_text(encoding="utf-8"))
    currency = brief.dataset_facts(res["parameters"]["dataset"], res["parameters"])["currency"]
    assert currency  # the world's truth.json names it
    soup = BeautifulSoup((run / "index.html").read_text(encoding="utf-8"), "html.parser")
    net = soup.select_one(f'tr[data-job="{job}"] div.headline[data-key="net"] .kpi-value')
    assert net is not None and net.get_text(strip=True).endswith(currency)
    tile = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one(
        'div.cx-tile[data-key="net"] .value')
    assert tile.get_text(strip=True) == net.get_text(strip=True)


# --------------------------------------------------------------------------- appendix

METHODS = [
    {"step": "nuisance threshold", "method": "cubic B-spline GLM (df=4) per segment, controls "
     "['branch_id']; threshold = peak", "dose": "proactive_per_month", "n": 6250,
     "reference": "Hastie, Tibshirani & Friedman (2009), ch. 5"},
    {"step": "nuisance threshold", "method": "cubic B-spline GLM (df=4) per data, controls []; "
     "threshold = peak", "dose": "contacts_per_month", "n": 451},
    {"step": "mean score", "method": "t", "by": ["segment"], "r2_ci": [0.553, 0.604]},
    {"step": "effect", "method": "CS", "outcome": "margin", "pretrend_p": 0.2946933702071098},
    {"step": "effect", "method": "CS", "outcome": "margin", "pretrend_p": 0.29469337020710923},
    {"step": "effect", "method": "CS", "outcome": "csat", "pretrend_p": 0.459},
    {"step": "continuity", "method": "OLS", "controls": ["segment", "branch_id", "account_age"]},
]


def _said(lang: str) -> str:
    from cxlib.share import appendix

    def pairs(xs: list[tuple[str, str]]) -> str:
        return "; ".join(f"{k}: {v}" for k, v in xs)

    return " | ".join(f"{g['step']} {g['method']} {pairs(g['common'])} "
                      + " / ".join(pairs(v) for v in g["variants"])
                      for g in appendix.appendix_groups(METHODS, lang))


def test_appendix_says_lists_and_columns_in_words():
    text = _said("en")
    assert "['" not in text and "[]" not in text and "per data" not in text
    assert "controls: Branch;" in text and "controls: none;" in text
    assert "dose (contacts measure): proactive contacts per month" in text
    assert "broken down by: Segment" in text
    assert "controls: Segment, Branch, and account age" in text
    assert "chapter 5" in text and "ch. 5" not in text
    assert "[0.553; 0.604]" in text  # numbers stay an interval
    tr = _said("tr")
    assert "bölüm 5" in tr and "Segment, Şube ve account age" in tr


def test_appendix_shows_uses_that_read_the_same_once():
    from cxlib.share import appendix

    (g,) = [g for g in appendix.appendix_groups(METHODS, "en") if g["step"] == "effect"]
    assert g["variants"] == [[("outcome", "margin"), ("pre-trend test p-value", "0.295")],
                             [("outcome", "csat"), ("pre-trend test p-value", "0.459")]]


def test_privacy_note_names_kinds_not_column_ids():
    from cxlib.share import render

    cols = {"contacts.customer_id", "customers.customer_id", "customers.email",
            "customers.name", "customers.phone", "employees.name"}
    assert render.personal_kinds(cols, "en") == "customer ids, names, e-mails, and phones"
    assert render.personal_kinds(cols, "tr") == "müşteri kimlikleri, adlar, e-postalar ve " \
                                                 "telefonlar"


def test_rendered_footer_has_no_column_ids(rendered_run):
    from bs4 import BeautifulSoup

    for lang in ("en", "tr"):
        for page in rendered_run(lang).glob("*.manager.html"):
            note = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one(
                "p.cx-privacy")
            assert note is not None, page.name
            text = note.get_text()
            assert "customers." not in text and "_id" not in text, (page.name, text)


def test_footer_names_the_dataset_as_the_header_does(tmp_path, monkeypatch):
    """Issue 15: the footer read "sample veri kümesinin" (the folder's name) under a header
    that says "örnek veri (sentetik)". The reference is the message catalog's ds_sample
    entry, read from the YAML file, and the page's own header."""
    import nbformat
    import yaml
    from bs4 import BeautifulSoup
    from nbformat.v4 import new_code_cell, new_notebook

    from cxlib import config
    from cxlib.share import render
    from cxlib.share.results import results_path_for

    # self-contained: no results file of an earlier interactive run may be picked up
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    catalog = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                              / "messages.yml").read_text(encoding="utf-8"))
    nb = new_notebook(cells=[new_code_cell('dataset = "sample"',
                                           metadata={"tags": ["parameters"]})])
    path = tmp_path / "00_touchpoint_map.ipynb"
    nbformat.write(nb, path)
    results_path_for(path).write_text(json.dumps(
        {"schema": "cx-results/1", "notebook": "00_touchpoint_map",
         "parameters": {"dataset": "sample"}, "headlines": [], "methods": []}),
        encoding="utf-8")
    for lang in ("tr", "en"):
        page = render.render_notebook(path, language=lang)["manager"]
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        note = soup.select_one("p.cx-privacy").get_text()
        header = soup.select_one("#cx-context b").get_text()  # the dataset comes first
        assert header == catalog["ds_sample"][lang]
        assert "•••" in note and header in note, note  # personal values known, named alike
        assert lang == "en" or "sample" not in note, note  # the folder's name is gone


# --------------------------------------------------------------------------- small

def test_a_count_of_one_is_singular():
    from cxlib.share import brief

    res = {"parameters": {"min_base": 30}, "tables": {}, "moves": [], "methods": [],
           "headlines": [{"key": "n_low_base", "value": 1}, {"key": "n_blind_spots", "value": 2}]}
    b = brief.build_brief(res, notebook="00_touchpoint_map")
    assert b.findings[0].startswith("1 touchpoint has a low base")
    assert b.findings[1].startswith("2 touchpoints are blind spots")


def test_tile_without_score_or_interval_has_no_stray_separator():
    from bs4 import BeautifulSoup

    from cxlib.share import brief

    res = {"parameters": {}, "tables": {}, "moves": [], "methods": [],
           "headlines": [{"key": "n_respondents", "label": "Respondents", "value": 2350,
                          "n": 2350},
                         {"key": "nps", "label": "NPS", "value": -5.02, "ci_low": -8.3,
                          "ci_high": -1.7, "n": 2350}]}
    html = brief.brief_html(brief.build_brief(res, notebook="01_touchpoint_satisfaction"))
    subs = [d.get_text() for d in BeautifulSoup(html, "html.parser").select(".cx-tile .sub")]
    assert subs == ["n = 2,350", "[−8.3; −1.7] · n = 2,350".replace("−", "-")], subs


def test_a_column_empty_in_every_row_is_left_out():
    rows = [{"group": "mass", "outcome": "overall", "threshold": 1.7, "ci_low": 1.4,
             "ci_high": 1.9, "today_rate": 1.2, "n": 900, "flag": None},
            {"group": "affluent", "outcome": "overall", "threshold": 1.9, "ci_low": 1.5,
             "ci_high": 2.2, "today_rate": 1.1, "n": 700, "flag": ""}]
    t = tables.manager_table("thresholds", rows, language="en")
    assert "Note" not in t.headers and len(t.rows[0]) == len(t.headers) == 5
    rows[1]["flag"] = "too few customers (< 200) for a curve"
    t = tables.manager_table("thresholds", rows, language="en")
    assert t.headers[-1] == "Note" and t.rows[0][-1] == ""


def test_brief_css_keeps_headings_with_what_follows_and_tables_scroll():
    from cxlib.share import appendix

    css = (appendix.TEMPLATES / "brief.html.j2").read_text(encoding="utf-8")
    assert "break-after: avoid" in css and "overflow-x: auto" in css
    assert '<div class="cx-scroll"><table class="cx-table"' in css


def test_index_changes_are_sorted(rendered_run):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((rendered_run("en") / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    rows = soup.select("table#digest tbody tr")
    assert rows, "the sample plants period moves"
    names = [r.find("td").find(string=True, recursive=False).strip() for r in rows]
    assert names == sorted(names)
    segments = {r.find_all("td")[1].get_text(" ", strip=True) for r in rows}
    assert any("mass" in s for s in segments)  # the filtered job's moves name its segment
