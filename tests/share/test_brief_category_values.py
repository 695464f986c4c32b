"""Category values (segments, groups, customer types) in the reader's language (issue 15).

Briefs, KPI tiles, tables and the run index say a recorded segment value in the
words the figures use (``v_<column>_<value>``), never the raw English id
(``affluent``, ``trade``). The expected words are read from the message catalog's
YAML file itself (the independent reference), not through :mod:`cxlib.i18n`.
The results files in ``fixtures/`` were recorded by notebooks 01, 04 and 05 run
in Turkish on the sample world (a review run); the rendered pages of the
session's real run (``rendered_run``, no extra notebook runs) are checked too.

Break it on purpose: make :func:`cxlib.share.formats.category` return
``str(v)`` and every test here but the English one fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from cxlib.share import brief, dashboard, formats, tables

FIXTURES = Path(__file__).parent / "fixtures"
MESSAGES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                           / "messages.yml").read_text(encoding="utf-8"))
RAW = re.compile(r"\b(affluent|business|mass|regular|trade|bargain)\b", re.IGNORECASE)
SEGMENTS = ("mass", "affluent", "business")
TYPES = ("regular", "trade", "bargain")


def _results(name: str) -> dict:
    return json.loads((FIXTURES / f"results_{name}_tr.json").read_text(encoding="utf-8"))


def _words(column: str, values: tuple[str, ...], lang: str = "tr") -> dict[str, str]:
    return {v: MESSAGES[f"v_{column}_{v}"][lang] for v in values}


def _brief_text(b: brief.Brief) -> str:
    parts = [*b.findings, *(f"{t['label']} {t['value']}" for t in b.tiles)]
    for t in b.tables:
        parts += [t.title, *t.headers, *(c for row in t.rows for c in row)]
    return "\n".join(parts + [v for _, v in b.context])


def test_the_helper_uses_the_figures_keys_and_keeps_unknown_values():
    assert formats.category("affluent", "tr", "segment") == "varlıklı"
    assert formats.category("mass", "az", "group") == MESSAGES["v_group_mass"]["az"]
    # no column recorded: the job's compare_by, then segment
    assert formats.category("trade", "tr", params={"compare_by": "customer_type"}) == "ticari"
    assert formats.category("business", "tr") == "kurumsal"
    assert formats.category("B07", "tr", "branch_id") == "B07"  # no key: as recorded
    assert formats.category("Baku", "tr", "region") == "Baku"
    assert formats.category(None, "tr") == formats.MISSING


def _turkish_brief(notebook: str):
    """A recorded results file's brief in Turkish, checked to hold no raw English value."""
    res = _results(notebook)
    b = brief.build_brief(res, notebook=notebook, language="tr")
    text = _brief_text(b)
    assert not RAW.findall(text), sorted(set(RAW.findall(text)))
    return res, b, text


def test_care_brief_in_turkish_names_groups_in_turkish():
    res, b, _ = _turkish_brief("04_care_vs_nuisance")
    words = _words("segment", SEGMENTS)
    for w in words.values():  # each group's finding starts with its name, capitalised
        assert any(f.startswith(w[:1].upper() + w[1:] + ":") for f in b.findings), w
        assert f"Rahatsızlık eşiği: {w}" in [t["label"] for t in b.tiles]
    thresholds = next(t for t in b.tables if t.key == "thresholds")
    assert thresholds.headers[0] == MESSAGES["col_group"]["tr"]
    recorded = [r["group"] for r in res["tables"]["thresholds"]]
    expected = [MESSAGES["all_customers"]["tr"] if g == "all" else words[g] for g in recorded]
    assert [r[0] for r in thresholds.rows[:len(recorded)]] == expected


def test_profit_brief_in_turkish_names_customer_types_in_turkish():
    res, b, text = _turkish_brief("05_customer_360_profitability")
    words = _words("customer_type", TYPES)
    for key in ("segment_profit", "segment_actions"):
        t = next(t for t in b.tables if t.key == key)
        assert [r[0] for r in t.rows] == [words[r["customer_type"]]
                                          for r in res["tables"][key]]
    assert "indirim avcısı" in text and "ticari" in text and "düzenli" in text


def test_english_briefs_keep_their_words():
    res = _results("04_care_vs_nuisance")
    b = brief.build_brief(res, notebook="04_care_vs_nuisance", language="en")
    assert any(f.startswith("Affluent:") for f in b.findings)
    t = next(t for t in tables.manager_tables(res, language="en") if t.key == "caps")
    assert [r[0] for r in t.rows] == [r["group"] if r["group"] != "all" else "all customers"
                                      for r in res["tables"]["caps"]]


def _fixture_run(root: Path) -> Path:
    """A run folder of the fixtures' results (no dataset: nothing to open or learn)."""
    run = root / "review" / "r1"
    run.mkdir(parents=True)
    jobs = []
    for name in ("01_touchpoint_satisfaction", "01_touchpoint_satisfaction_affluent",
                 "04_care_vs_nuisance", "05_customer_360_profitability"):
        res = _results(name)
        res["parameters"].pop("dataset", None)
        (run / f"{name}.results.json").write_text(json.dumps(res), encoding="utf-8")
        jobs.append({"job_id": name, "notebook": f"notebooks/{res['notebook']}.ipynb",
                     "status": "ok", "outputs": {"results": f"{name}.results.json"}})
    (run / "manifest.json").write_text(json.dumps(
        {"batch": "review", "run_id": "r1", "started": "2026-12-01T14:35:14+00:00",
         "jobs": jobs}), encoding="utf-8")
    return run


def test_turkish_index_names_segments_in_turkish(tmp_path):
    index = dashboard.build_index(_fixture_run(tmp_path), language="tr", exports=False)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text(" ", strip=True)
    assert not RAW.findall(text), sorted(set(RAW.findall(text)))
    words = _words("segment", SEGMENTS)
    assert f"Segment: {words['affluent']}" in text  # the filtered job's row
    assert f"Rahatsızlık eşiği: {words['business']}" in text  # a tile's label
    assert "Hedeflenecek segmentler: ticari" in text
    moved = {r["segment"] for r in _results("01_touchpoint_satisfaction")["moves"]}
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in soup.select("table#digest tbody tr")]
    # a card's cell is headed for phones: "Segment kitle"
    shown = {row[1].removeprefix("Segment").strip() for row in rows}
    assert rows and {words[s] for s in moved} == shown


@pytest.mark.parametrize("lang", ["tr"])
def test_pages_of_the_real_run_have_no_raw_segment_values(rendered_run, lang):
    run = rendered_run(lang)
    pages = [*run.glob("04_care_vs_nuisance--*.manager.html"),
             *run.glob("05_customer_360_profitability--*.manager.html"), run / "index.html"]
    assert len(pages) == 3
    for page in pages:
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        assert not RAW.findall(text), (page.name, sorted(set(RAW.findall(text))))
    joined = " ".join(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text()
                      for p in pages)
    for w in (*_words("segment", SEGMENTS).values(), *_words("customer_type", TYPES).values()):
        assert w in joined, w


def test_fixture_results_are_the_notebooks_own():
    """The fixtures are results files as notebooks 04 and 05 write them (guards a stale copy)."""
    for name, nb in (("04_care_vs_nuisance", "04_care_vs_nuisance"),
                     ("05_customer_360_profitability", "05_customer_360_profitability")):
        res = _results(name)
        assert res["notebook"] == nb and res["parameters"]["language"] == "tr"
