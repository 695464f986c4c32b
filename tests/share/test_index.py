"""The run index: statuses, headline figures, digest of moves, previous run, masking.

Runs are built from manifests and results files alone (no kernel), and the
page is read back with an HTML parser: cell texts, not class names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cxlib.methods import clear_methods
from cxlib.share import privacy, render
from cxlib.share.results import Results

MOVE = {"touchpoint_id": "store_checkout", "segment_column": "region", "segment": "Baku",
        "period": "2025H1", "previous_period": "2024H2", "metric": "csat",
        "statistic": "mean", "direction": "down", "delta": -0.4, "q_value": 0.01}


def make_run(root: Path, name: str, *, started: str, batch: str = "batch", nps: float = 12.5,
             moves: list[dict] | None = None, status: str = "ok", render_error: str | None = None,
             extra_headline: tuple[str, object] | None = None, dataset: str | None = None
             ) -> Path:
    run = root / batch / name
    run.mkdir(parents=True)
    clear_methods()
    res = Results("01_touchpoint_satisfaction",
                  parameters={"catalog": "retail", "language": "en",
                              **({"dataset": dataset} if dataset else {})})
    res.headline("nps", nps, label="NPS", ci=(nps - 8, nps + 8), n=400, unit="points",
                 flag="low_base")
    res.headline("weakest_sale", "store_checkout", label="Weakest link: During the sale",
                 touchpoint_id="store_checkout")
    if extra_headline:
        res.headline(extra_headline[0], extra_headline[1], label="Note")
    res.moves(moves if moves is not None else [MOVE, dict(MOVE)])  # a duplicate row
    res.save(run / "job1.results.json")
    job = {"job_id": "job1", "status": status,
           "error": {"kind": "error", "type": "ValueError", "message": "boom\nmore"}
           if status != "ok" else None,
           "outputs": {"results": "job1.results.json", "manager_html": "job1.manager.html",
                       "analyst_html": "job1.analyst.html"}}
    if render_error:
        job["render_error"] = render_error
    (run / "manifest.json").write_text(json.dumps(
        {"batch": batch, "run_id": name, "started": started, "jobs": [job]}))
    return run


def cells(index: Path, table: str) -> list[list[str]]:
    """Text of each data row's cells (the dashboard's group heading rows left out)."""
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in soup.select(f"table#{table} tbody tr") if "group" not in (
                tr.get("class") or [])]


def section_text(index: Path, css: str) -> list[str]:
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    return [li.get_text(" ", strip=True) for li in soup.select(css)]


def test_jobs_headlines_links_and_failures(tmp_path):
    run = make_run(tmp_path, "r1", started="2025-03-14T10:00:00+00:00")
    index = render.build_index(run, exports=False)
    [row] = cells(index, "jobs")
    # named in words: segment and period (the latest period of its moves); period codes in words
    assert row[0] == "Segment: all customers all dates in the data · latest H1 2025 vs H2 2024"
    assert "ok" in row[1]
    assert "NPS: 12.5 [4.5; 20.5] (n = 400) low base" in row[2]  # value, CI, n, flag
    assert "Weakest link: During the sale: Checkout" in row[2]  # id -> catalog name
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    assert [a["href"] for a in soup.select("table#jobs a")] == ["job1.manager.html",
                                                                 "job1.analyst.html"]
    question = soup.select_one("table#jobs h3").get_text()
    assert question == "How satisfied are customers at each touchpoint?"


def test_a_failed_job_shows_its_error_and_no_numbers(tmp_path):
    run = make_run(tmp_path, "r1", started="2025-03-14T10:00:00+00:00", status="failed",
                   render_error="RuntimeError: nbconvert broke")
    [row] = cells(render.build_index(run, exports=False), "jobs")
    assert "failed" in row[1] and "ValueError: boom" in row[1]
    assert "rendering failed: RuntimeError: nbconvert broke" in row[1]
    assert row[2] == ""  # numbers it did not finish are not shown


def test_digest_names_touchpoints_and_is_deduplicated(tmp_path):
    run = make_run(tmp_path, "r1", started="2025-03-14T10:00:00+00:00",
                   moves=[MOVE, dict(MOVE), {**MOVE, "touchpoint_id": "store_cleanliness",
                                             "segment_column": None, "segment": None,
                                             "direction": "up", "delta": 0.25}])
    rows = cells(render.build_index(run, exports=False), "digest")
    # period codes in words; the minus is the locale's (CLDR) one, as Babel's -5.0 (issue 15)
    assert rows == [
        ["Checkout", "Segment Region: Baku", "Period H2 2024 → H1 2025",
         "Measure satisfaction (CSAT) · mean", "Change ▼ -0.40"],
        ["Cleanliness", "Segment all customers", "Period H2 2024 → H1 2025",
         "Measure satisfaction (CSAT) · mean", "Change ▲ +0.25"],
    ]


def test_previous_run_is_the_latest_earlier_start_of_the_same_batch(tmp_path):
    # names sort the other way round from the start times
    make_run(tmp_path, "b-older", started="2025-03-01T10:00:00+00:00", nps=30.0)
    make_run(tmp_path, "a-newer", started="2025-03-10T10:00:00.250+00:00", nps=10.0,
             moves=[MOVE, {**MOVE, "touchpoint_id": "store_air", "direction": "up",
                           "delta": 0.3}])
    make_run(tmp_path, "c-later", started="2025-04-01T10:00:00+00:00", nps=99.0)
    current = make_run(tmp_path, "0-current", started="2025-03-14T10:00:00+00:00", nps=12.5,
                       moves=[MOVE, {**MOVE, "touchpoint_id": "store_space"}])
    other = tmp_path / "batch" / "x-other-batch"  # another batch's manifest in the folder
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps(
        {"batch": "other", "run_id": "x", "started": "2025-03-13T10:00:00+00:00", "jobs": []}))
    index = render.build_index(current, exports=False)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    compared = soup.find("p", id="previous-run").get_text()
    assert "a-newer" in compared and "March 10, 2025" in compared
    rows = {r[1]: r for r in cells(index, "previous")}
    assert rows["NPS"][2:] == ["Previous 10.0", "Current 12.5", "Change +2.5"]
    assert "Weakest link: During the sale" not in rows  # unchanged figures are not listed
    assert section_text(index, "ul.moves-new li") == [
        "Space, Region: Baku, satisfaction (CSAT) · mean, ▼ down"]
    assert section_text(index, "ul.moves-gone li") == [
        "Air, Region: Baku, satisfaction (CSAT) · mean, ▲ up"]
    digest = cells(index, "digest")
    assert [r[0] for r in digest] == ["Checkout", "Space new"]
    assert soup.find(id="no-change") is None


def test_a_rerun_with_nothing_changed_says_so(tmp_path):
    make_run(tmp_path, "r1", started="2025-03-01T10:00:00+00:00")
    cur = make_run(tmp_path, "r2", started="2025-03-02T10:00:00+00:00")
    soup = BeautifulSoup(render.build_index(cur, exports=False).read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.find(id="no-change").get_text() == (
        "No significant change since the previous run.")
    assert soup.find("table", id="previous") is None  # no rows of 0 and =


@pytest.mark.parametrize(("a", "b", "lang", "change"), [
    # the minus is the locale's own (CLDR via Babel: "-"), the one value() prints (issue 15)
    (10.0, 12.5, "en", "+2.5"), (12.5, 10.0, "en", "-2.5"), (0.25, 0.125, "en", "-0.1"),
    (1000.0, 2234.5, "tr", "+1.234,5"), (2234.5, 1000.0, "az", "-1.234,5"),
])
def test_changes_have_a_sign_and_no_negative_zero(tmp_path, a, b, lang, change):
    make_run(tmp_path, "r1", started="2025-03-01T10:00:00+00:00", nps=a)
    cur = make_run(tmp_path, "r2", started="2025-03-02T10:00:00+00:00", nps=b)
    rows = cells(render.build_index(cur, language=lang, exports=False), "previous")
    change_cell = rows[0][-1].split(" ", 1)[1]  # after the phone label
    assert change_cell == change
    assert not re.fullmatch(r"[-−]0([.,]0*)?", change_cell)  # never a negative zero


@pytest.mark.parametrize(("a", "b", "lang"), [(12.5, 12.5001, "tr"), (12.5, 12.4999, "az")])
def test_a_change_that_rounds_away_is_no_change(tmp_path, a, b, lang):
    make_run(tmp_path, "r1", started="2025-03-01T10:00:00+00:00", nps=a)
    cur = make_run(tmp_path, "r2", started="2025-03-02T10:00:00+00:00", nps=b)
    assert cells(render.build_index(cur, language=lang, exports=False), "previous") == []


def test_newly_failing_and_working_again(tmp_path):
    make_run(tmp_path, "r1", started="2025-03-01T10:00:00+00:00")
    r2 = make_run(tmp_path, "r2", started="2025-03-02T10:00:00+00:00", status="failed")
    assert "newly failing: job1" in render.build_index(r2, exports=False).read_text(
        encoding="utf-8")
    r3 = make_run(tmp_path, "r3", started="2025-03-03T10:00:00+00:00")
    assert "newly working: job1" in render.build_index(r3, exports=False).read_text(
        encoding="utf-8")


def test_index_is_masked_with_the_datasets_values(tmp_path):
    world = tmp_path / "world"
    world.mkdir()
    pd.DataFrame({"customer_id": ["C77000001"], "name": ["Aysel Quliyeva"],
                  "email": ["aysel@example.az"], "phone": ["+994 70 111 22 33"]}).to_parquet(
        world / "customers.parquet")
    run = make_run(tmp_path, "r1", started="2025-03-14T10:00:00+00:00", dataset=str(world),
                   extra_headline=("note", "call Aysel Quliyeva (C77000001) on 070 111 22 33"))
    html = render.build_index(run, exports=False).read_text(encoding="utf-8")
    for secret in ("Aysel Quliyeva", "C77000001", "070 111 22 33"):
        assert secret not in html
    assert privacy.mask_value("Aysel Quliyeva") in html


@pytest.mark.parametrize(("lang", "label", "value", "number", "date", "heading"), [
    ("en", "Weakest link: During the sale", "Checkout", "12.5", "March 14, 2025", "REPORT RUN"),
    ("tr", "En zayıf halka: Satış sırasında", "Kasa hizmeti", "12,5", "14 Mart 2025",
     "RAPOR ÇALIŞTIRMASI"),
    ("az", "Ən zəif halqa: Satış zamanı", "Kassa xidməti", "12,5", "14 mart 2025",
     "HESABAT İCRASI"),
])
def test_index_in_each_language(tmp_path, lang, label, value, number, date, heading):
    run = make_run(tmp_path, "r1", started="2025-03-14T10:00:00+00:00")
    index = render.build_index(run, language=lang, exports=False)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    assert soup.h1.get_text().startswith(heading)  # dotted and dotless capitals
    [row] = cells(index, "jobs")
    assert f"{label}: {value}" in row[2]
    assert f"NPS: {number}" in row[2]
    assert date in soup.get_text()
    assert cells(index, "digest")[0][0] == value  # touchpoint name from the catalog
