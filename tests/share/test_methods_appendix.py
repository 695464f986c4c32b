"""The methods appendix: generated from what real cxlib calls recorded.

Weights, base sizes, interval methods and diagnostics noted by
``satisfaction.summarize``, ``compare.compare_segments`` and the key-driver analysis
must reach the rendered page; repeated steps are grouped with what tells them
apart; re-running a notebook cell replaces what it recorded.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import nbformat
import pytest
from bs4 import BeautifulSoup

from cxlib import methods
from cxlib.analysis import compare, satisfaction
from cxlib.analysis import drivers as drv
from cxlib.data import datasets
from cxlib.methods import clear_methods, note_method, recorded_methods
from cxlib.share import render
from cxlib.share.results import Results


def _appendix_rows(page) -> dict[str, str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("#cx-methods-appendix tbody tr")
    return {r.find_all("td")[0].get_text(" ", strip=True):
            " | ".join(td.get_text(" ", strip=True) for td in r.find_all("td")[1:])
            for r in rows}


def _replay(methods: list[dict]) -> Results:
    """A results file carrying exactly these recorded methods."""
    clear_methods()
    for m in methods:
        note_method(m["step"], m["method"], **{k: v for k, v in m.items()
                                               if k not in ("step", "method")})
    return Results("x", parameters={})


def _render(tmp_path, res: Results, language: str = "en"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Report")]
    ipynb = tmp_path / "job.ipynb"
    nbformat.write(nb, ipynb)
    res.save(tmp_path / "job.results.json")
    clear_methods()
    return render.render_notebook(ipynb, language=language)


@pytest.fixture(scope="module")
def recorded(sample_dir):
    """Methods recorded by real calls on the sample world (weighted where they can be)."""
    world = datasets.load(sample_dir)
    r = world.responses.copy()
    r["w_region"] = r["region"].map({"Baku": 1.0}).fillna(2.0)
    clear_methods()
    satisfaction.summarize(r, metric="csat", weight="w_region", statistics=["mean", "top2"])
    compare.compare_segments(r, segment_column="segment")
    cat = world.catalog
    ids = drv.select_drivers(cat, "sale", level="top", available=r["touchpoint_id"].unique())
    mat = drv.build_matrix(r, catalog=cat, drivers=ids, level="top", outcome="overall")
    fit = drv.driver_analysis(mat, drivers=ids, n_boot=drv.MIN_BOOT)
    methods = recorded_methods()
    clear_methods()
    return methods, fit


def test_real_calls_reach_the_rendered_appendix(tmp_path, recorded):
    methods, fit = recorded
    assert methods, "the cxlib calls recorded nothing"
    views = _render(tmp_path, _replay(methods))
    for view in ("manager", "analyst"):
        rows = _appendix_rows(views[view])
        assert set(rows) == {m["step"] for m in methods}  # one row per step, none invented
        text = " ".join(rows.values())
        weighted = [m for m in methods if m.get("weights") == "w_region"]
        assert weighted and "weights: w_region" in text  # the weight variable is named
        assert "Wilson" in text and "Kish" in text  # interval methods, weighted base
        assert "Welch t" in text and "Benjamini-Hochberg" in text
        drivers_row = rows["Key-driver importance"]
        assert f"n: {fit.n:,}" in drivers_row  # base size, with grouping
        assert "percentile bootstrap" in drivers_row
        assert f"R²: {round(fit.r2, 3):g}" in drivers_row  # diagnostics, nested, in words
        for m in methods:  # every noted reference reaches the page
            if m.get("reference"):
                assert m["reference"] in text


def test_appendix_in_turkish_translates_steps_and_numbers(tmp_path, recorded):
    methods, fit = recorded
    rows = _appendix_rows(_render(tmp_path, _replay(methods), "tr")["manager"])
    assert "Etken önemi" in rows and "Çoklu karşılaştırmalar" in rows
    assert f"n: {fit.n:,}".replace(",", ".") in rows["Etken önemi"]  # 2.041, not 2,041
    assert re.search(r"ağırlıklar: w_region", " ".join(rows.values()))


def test_repeated_steps_are_grouped_with_what_tells_them_apart(tmp_path):
    clear_methods()
    note_method("Innovation effect", "TWFE DiD", reference="pyfixest", outcome="margin", n=120)
    note_method("Innovation effect", "TWFE DiD", reference="pyfixest", outcome="csat", n=118)
    note_method("Innovation effect", "TWFE DiD", reference="pyfixest", outcome="csat", n=118)
    note_method("Event study", "leads and lags", n=120)
    rows = _appendix_rows(_render(tmp_path, Results("x"))["manager"])
    clear_methods()
    assert list(rows) == ["Innovation effect", "Event study"]
    assert rows["Innovation effect"] == ("TWFE DiD | reference: pyfixest "
                                         "outcome: margin; n: 120 outcome: csat; n: 118")


def test_rerunning_a_cell_replaces_what_it_recorded():
    clear_methods()
    start = methods._cell_started
    start(SimpleNamespace(cell_id="cell-a", raw_cell="summarize(...)"))
    note_method("mean score", "t interval", n=100)
    start(SimpleNamespace(cell_id="cell-b", raw_cell="compare(...)"))
    note_method("Multiple comparisons", "BH", cells=4)
    start(SimpleNamespace(cell_id="cell-a", raw_cell="summarize(...)"))  # run again
    note_method("mean score", "t interval", n=80)
    assert recorded_methods() == [{"step": "Multiple comparisons", "method": "BH", "cells": 4},
                                  {"step": "mean score", "method": "t interval", "n": 80}]
    start(SimpleNamespace(cell_id=None, raw_cell="x = 1"))  # no id: known by its source
    note_method("A", "a")
    start(SimpleNamespace(cell_id=None, raw_cell="x = 1"))
    note_method("A", "a")
    assert [m["step"] for m in recorded_methods()].count("A") == 1
    clear_methods()
    methods._CELL[0] = None
