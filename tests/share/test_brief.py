"""Manager briefs: numbers for people, finding sentences, banners, tables, exports.

References: the formats are worked by hand from the locale rules (CLDR via
Babel: tr and az group with "." and use "," for decimals; Turkish puts the
percent sign first); the sentences use the headline figures of a results file
written here, so every number in them is known in advance.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import nbformat
import pytest
from bs4 import BeautifulSoup

from cxlib import cli
from cxlib.share import brief, formats, render, tables
from cxlib.share.results import results_path_for

from .conftest import NOTEBOOKS


@pytest.mark.parametrize(("v", "kind", "lang", "text"), [
    (3.218574e-163, "pvalue", "en", "< 0.001"),
    (3.218574e-163, "pvalue", "tr", "< 0,001"),
    (0.04567, "pvalue", "en", "0.046"),
    (1.018262536764706, "percent", "en", "102%"),
    (1.018262536764706, "percent", "tr", "%102"),
    (0.9999999999962564, "probability", "en", "> 99.9%"),
    (0.5, "probability", "az", "50%"),
    (0.13942149852294014, "share", "en", "13.9%"),
    (-5.021276595744686, "points", "en", "-5.0"),
    (2.8856193640246794, "score", "tr", "2,89"),
    (2018.262536764706, "money", "tr", "2.018"),
    (2018.262536764706, "money", "en", "2,018"),
    (2107, "count", "az", "2.107"),
    (None, "score", "en", "—"),
    (float("nan"), "share", "en", "—"),
    (True, "number", "tr", "evet"),
])
def test_numbers_for_people(v, kind, lang, text):
    assert formats.value(v, kind, lang) == text


def test_money_carries_the_currency_and_intervals_their_kind():
    assert formats.value(138483.7, "money", "en", currency="AZN") == "138,484 AZN"
    assert formats.interval(0.122, 0.157, "share", "en") == "[12.2%; 15.7%]"
    assert formats.interval(None, 1.0, "share", "en") == ""
    assert formats.signed(10.0, 12.5, "points", "tr") == "+2,5"
    assert formats.signed(12.5, 10.0, "points", "en") == "-2.5"  # CLDR minus
    assert formats.signed(12.5, 12.5001, "points", "en") == "="  # never −0.0


RESULTS = {
    "schema": "cx-results/1", "notebook": "01_touchpoint_satisfaction",
    "parameters": {"dataset": "sample", "catalog": "retail", "metric": "csat",
                   "period": "half", "filter_column": "segment", "filter_value": "mass",
                   "min_base": 30},
    "headlines": [
        {"key": "weakest_sale", "label": "Weakest link: During the sale",
         "value": "store_checkout", "ci_low": 2.8339, "ci_high": 2.9374, "n": 2107,
         "touchpoint_id": "store_checkout", "estimate": 2.8856, "metric": "csat"},
        {"key": "weakest_pre_sale", "label": "x", "value": "none", "n": 2000},
        {"key": "nps", "label": "NPS", "value": -5.0213, "ci_low": -8.3317,
         "ci_high": -1.6981, "n": 2350, "unit": "points", "flag": None},
        {"key": "significant_moves", "label": "Significant moves", "value": 0},
    ],
    "moves": [], "methods": [],
    "tables": {"weakest_links": [
        {"stage": "sale", "stage_mean": 3.79, "stage_low": 3.76, "stage_high": 3.83,
         "verdict": "store_checkout", "candidate_mean": 2.8856, "candidate_low": 2.8339,
         "candidate_high": 2.9374, "n": 2107, "p_holm": 3.2e-163, "runner_up": "x",
         "higher_is_better": True}]},
}


@pytest.fixture(scope="module")
def retail():
    from cxlib.data.catalog import load_catalog

    return load_catalog("retail")


def test_findings_are_sentences_with_number_interval_and_base(retail):
    b = brief.build_brief(RESULTS, notebook="01_touchpoint_satisfaction", catalog=retail)
    assert b.findings == [
        "During the sale: the weakest link is Checkout, 2.89 of 5 [2.83; 2.94], "
        "2,107 respondents.",
        "Before the sale: no single weakest link; the lowest touchpoint is not "
        "significantly below the others.",
        "Net Promoter Score: -5.0 [-8.3; -1.7], 2,350 respondents.",
        "No significant change between segments or periods.",
    ]
    assert b.title == "How satisfied are customers at each touchpoint?"
    assert dict(b.context)["Segment"] == "mass"
    assert dict(b.context)["Period"] == "all dates in the data · trend by half-year"
    nps = next(k for k in b.tiles if k["key"] == "nps")
    assert (nps["value"], nps["ci"], nps["n"]) == ("-5.0", "[-8.3; -1.7]", "2,350")


def test_findings_in_turkish(retail):
    b = brief.build_brief(RESULTS, notebook="01_touchpoint_satisfaction", catalog=retail,
                          language="tr")
    assert b.findings[0] == ("Satış sırasında: en zayıf halka Kasa hizmeti, 5 üzerinden 2,89 "
                             "[2,83; 2,94], 2.107 yanıtlayan.")


def test_tables_have_names_units_and_no_internal_columns(retail):
    [t] = tables.manager_tables(RESULTS, catalog=retail)
    assert t.headers == ["Stage", "Stage mean [95% interval]", "Weakest link",
                         "Its mean [95% interval]", "Base (n)", "p (Holm)"]
    assert t.rows == [["During the sale", "3.79 [3.76; 3.83]", "Checkout",
                       "2.89 [2.83; 2.94]", "2,107", "< 0.001"]]
    assert "runner_up" not in str(t.headers) and "True" not in str(t.rows)


def test_a_decision_in_words_with_the_money():
    res = {"parameters": {"outcome": "margin"}, "headlines": [
        {"key": "net", "value": 138483.7, "ci_low": 98848.52, "ci_high": 178118.9},
        {"key": "p_net_positive", "value": 0.9999999999962564},
        {"key": "roi", "value": 1.0183, "ci_low": 0.7268, "ci_high": 1.3097},
        {"key": "payback_periods", "value": 8.9, "ci_low": 7.54, "ci_high": 10.853},
        {"key": "decision", "value": "scale"}], "tables": {}, "moves": []}
    b = brief.build_brief(res, notebook="03_service_innovation_margin", currency="AZN")
    assert b.decision["word"] == "scale it up"
    assert b.decision["money"] == (
        "Net margin after cost 138,484 AZN [98,849; 178,119]; probability that the net is "
        "positive > 99.9%; return on the cost 102% [73%; 131%]; paid back in 8.9 periods "
        "[7.5; 10.9].")
    tiles = {k["key"]: k["value"] for k in brief.kpis(res, currency="AZN")}
    assert tiles["roi"] == "102%" and tiles["p_net_positive"] == "> 99.9%"


@pytest.mark.parametrize(("status", "word"), [("failed", "did not finish"),
                                              ("incomplete", "incomplete")])
def test_failed_or_incomplete_jobs_get_a_banner_and_no_numbers(status, word):
    b = brief.build_brief(RESULTS, notebook="01_touchpoint_satisfaction", status=status,
                          problem="7")
    assert word in b.banner and not b.findings and not b.tiles and not b.tables
    html = brief.brief_html(b)
    assert "cx-banner" in html and "2.89" not in html


def test_notebook_status_reads_errors_and_unfinished_cells():
    nb = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("1")
    nb.cells = [ok]
    assert brief.notebook_status(nb) == ("ok", "")
    pending = nbformat.v4.new_code_cell("2")
    pending.metadata["papermill"] = {"status": "pending"}
    nb.cells.append(pending)
    assert brief.notebook_status(nb) == ("incomplete", "2")
    ok.outputs = [nbformat.v4.new_output("error", ename="KeyError", evalue="x", traceback=[])]
    assert brief.notebook_status(nb) == ("failed", "1: KeyError")


# ------------------------------------------------------------------ the real run

def test_the_batch_language_reaches_every_notebook(real_run):
    for p in real_run.glob("*.results.json"):
        assert json.loads(p.read_text(encoding="utf-8"))["parameters"]["language"] == "tr"


def test_every_brief_has_findings_first(real_run):
    for page in sorted(real_run.glob("*.manager.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        sections = [s.get("id") for s in soup.find_all(["section", "p"]) if s.get("id")]
        assert sections[0] == "cx-findings", (page.name, sections)
        assert sections[-1] == "cx-methods-appendix", (page.name, sections)
        assert soup.select("#cx-findings li"), page.name


def _index_numbers(index) -> dict[str, list[tuple[str, str]]]:
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    out = {}
    for tr in soup.select("table#jobs tr[data-job]"):
        out[tr["data-job"]] = [(d["data-key"], d.select_one(".kpi-value").get_text(strip=True))
                               for d in tr.select("div.headline")]
    return out


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_index_numbers_equal_the_briefs(rendered_run, lang):
    run = rendered_run(lang)
    index = _index_numbers(run / "index.html")
    assert len(index) == len(NOTEBOOKS) + 1  # and the satisfaction notebook for one segment
    for job, kpis in index.items():
        soup = BeautifulSoup((run / f"{job}.manager.html").read_text(encoding="utf-8"),
                             "html.parser")
        tiles = {d["data-key"]: d.select_one(".value").get_text(strip=True)
                 for d in soup.select("div.cx-tile")}
        for key, value in kpis:
            if key in tiles:
                assert tiles[key] == value, (job, key)
        assert sum(key in tiles for key, _ in kpis) >= 3, job  # compared, not skipped


def test_exports_pdf_excel_and_zip(real_run):
    from openpyxl import load_workbook

    from cxlib.share import export

    pdfs = sorted(real_run.glob("*.manager.pdf"))
    if export.chromium() is not None:
        assert len(pdfs) == len(NOTEBOOKS) + 1
        assert all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
        # A4, as Turkish and Azerbaijani offices print (issue 15; the brief's @page):
        # ISO 216's 210 x 297 mm is 595.3 x 841.9 points, US Letter would be 612 x 792
        for p in pdfs:
            boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]",
                               p.read_bytes())
            assert boxes, p.name
            assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1
                       for w, h in boxes), (p.name, boxes[:2])
    wb = load_workbook(real_run / "tables.xlsx")
    names = wb.sheetnames
    assert names[0] == "Tablolar" and len(names) > 8  # contents, then one sheet per table
    ws = wb[next(n for n in names if "zayıf" in n)]
    assert ws["A2"].value == "Aşama" and ws.freeze_panes == "A3"
    numbers = [c for row in ws.iter_rows(min_row=3) for c in row
               if isinstance(c.value, float)]
    assert numbers and all(c.number_format != "General" for c in numbers)
    with zipfile.ZipFile(real_run / f"{real_run.name}.zip") as z:
        names = z.namelist()
    assert f"{real_run.name}/index.html" in names and f"{real_run.name}/tables.xlsx" in names
    assert not [n for n in names if n.endswith((".ipynb", ".results.json"))]


def test_cx_render_for_a_notebook_run_by_hand(real_run, tmp_path, capsys):
    nb = next(real_run.glob("00_*.ipynb"))
    copy = tmp_path / "by_hand.ipynb"
    shutil.copy(nb, copy)
    shutil.copy(results_path_for(nb), results_path_for(copy))
    assert cli.main(["render", str(copy), "--language", "az"]) == 0
    out = capsys.readouterr().out
    assert "manager:" in out and "analyst:" in out
    html = (tmp_path / "by_hand.manager.html").read_text(encoding="utf-8")
    assert 'lang="az"' in html and "Müştərilərdən harada rəy alırıq" in html
    assert cli.main(["render", str(tmp_path / "missing.ipynb")]) == 2


def test_every_notebook_is_in_the_run(real_run):
    assert {p.name.split("--")[0] for p in real_run.glob("*.manager.html")} == set(NOTEBOOKS)
    assert render.render_notebook  # the module's entry point stays public


def test_cx_render_finds_the_results_of_a_notebook_run_by_hand(real_run, tmp_path,
                                                               monkeypatch):
    """papermill by hand with results_path "" writes reports/interactive/<notebook>.*"""
    from cxlib import config

    src = next(real_run.glob("00_*.ipynb"))
    nb = nbformat.read(src, as_version=4)
    nb.metadata.setdefault("papermill", {})["input_path"] = "notebooks/00_touchpoint_map.ipynb"
    out = tmp_path / "out.ipynb"
    nbformat.write(nb, out)
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    (tmp_path / "reports" / "interactive").mkdir(parents=True)
    res = json.loads(results_path_for(src).read_text(encoding="utf-8"))
    stale = {**res, "parameters": {**res["parameters"], "min_base": 999}}
    for name, data in (("00_touchpoint_map.sample.a.results.json", res),
                       ("00_touchpoint_map.sample.b.results.json", stale)):
        (tmp_path / "reports" / "interactive" / name).write_text(json.dumps(data))
    page = render.render_notebook(out, language="en")["manager"]
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.find(id="cx-banner") is None and soup.select("#cx-findings li")
    assert "fewer than 30 respondents" in soup.get_text()  # the matching file, not min 999
