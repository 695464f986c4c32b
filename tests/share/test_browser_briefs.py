"""The briefs and the index of a real run, as a manager's browser shows them.

Each page is opened in headless Chromium at 1280 and 390 px (a phone): a copy
of the page with a measuring script (the page itself runs none) records the
visible text (``innerText``), the page's scroll width against the window's and
where the findings are; a screenshot of each is kept in the test's tmp folder.
Checked: no visible text that is CSS, HTML source, a Python repr or a file
path; no horizontal overflow; no word or number of a table, tile or the header
split over two lines; the findings on the first screen; every brief names its
segment and period; a failed job shows its banner; Azerbaijani pages show no
English message of the catalog.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from cxlib import i18n
from cxlib.share import render
from cxlib.share.results import results_path_for

from .test_i18n_briefs import _english_fragments
from .test_render import _chromium

pytestmark = pytest.mark.browser

MEASURE = r"""<script>
const d = document.documentElement, f = document.getElementById('cx-findings');
const r = f ? f.getBoundingClientRect() : null;
// words and numbers split over two lines (issue 15: "Seg/men/t", "2.842./977/AZN"):
// a word of a table cell, tile or header item whose boxes lie on more than one line
const split = [];
for (const c of document.querySelectorAll(
    'table.cx-table td, table.cx-table th, .cx-appendix td, .cx-tile .sub, .cx-context li')) {
  const w = document.createTreeWalker(c, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    for (const m of n.data.matchAll(/[^\s\-\u2010-\u2014]+/g)) {  // a hyphen may break
      const g = document.createRange();
      g.setStart(n, m.index); g.setEnd(n, m.index + m[0].length);
      const tops = new Set([...g.getClientRects()].filter(x => x.width > 0)
                           .map(x => Math.round(x.bottom)));
      if (tops.size > 1) split.push(m[0]);
    }
  }
  if (c.matches('td.num') && c.getClientRects().length && c.scrollHeight > 0) {
    const g = document.createRange(); g.selectNodeContents(c);
    const tops = new Set([...g.getClientRects()].filter(x => x.width > 0)
                         .map(x => Math.round(x.bottom)));
    if (tops.size > 1) split.push(c.innerText);  // a number over two lines
  }
}
document.body.setAttribute('data-cx-measure', JSON.stringify({
  scroll: d.scrollWidth, client: d.clientWidth, height: window.innerHeight,
  findings_top: r && r.top, findings_bottom: r && r.bottom, split: split,
  text: document.body.innerText}));
if (window.parent !== window) {  // measured in a phone-wide frame: report to the top page
  parent.document.body.setAttribute('data-cx-measure',
                                    document.body.getAttribute('data-cx-measure'));
}
</script>"""
#: Headless Chromium keeps a window at least 500 px wide: a phone is a frame in it.
MIN_WINDOW = 500
FRAME = """<!DOCTYPE html><html><body style="margin:0"><iframe src="{src}"
 style="width:{w}px;height:{h}px;border:0"></iframe></body></html>"""
#: Visible text that must never reach a manager.
LEAKS = {
    "css": re.compile(r"[\w\-.#]+\s*\{[^}]*:[^}]*;"),
    "html": re.compile(r"</?[a-zA-Z][\w-]*(\s[^>]*)?>"),
    "repr": re.compile(r"\b(?:NaN|None|True|False|nan)\b|\b[A-Z]\w+\((?:'|\w+=)"
                       r"|\d(?:\.\d+)?e[-+]\d"),
    "path": re.compile(r"(?:/work/|/tmp/|/home/|\\\\|\.ipynb\b|\.json\b|\.py\b|cxjob-)"),
}


def _measure(chrome: str, page: Path, width: int, height: int, tmp: Path) -> dict:
    probe = tmp / f"{page.stem}.{width}.probe.html"
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--disable-background-networking", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}", f"--window-size={width},{height}"]
    target = probe
    if width < MIN_WINDOW:  # else the "phone" is measured 500 px wide and overflow hides
        target = tmp / f"{page.stem}.{width}.frame.html"
        target.write_text(FRAME.format(src=probe.name, w=width, h=height), encoding="utf-8")
        flags[-1] = f"--window-size={MIN_WINDOW},{height}"
    dom = subprocess.run([chrome, *flags, "--allow-file-access-from-files",
                          "--virtual-time-budget=2000", "--dump-dom", target.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    subprocess.run([chrome, *flags, f"--screenshot={tmp / f'{page.stem}.{width}.png'}",
                    page.resolve().as_uri()], capture_output=True, timeout=120)
    m = re.search(r'data-cx-measure="([^"]*)"', dom)
    assert m, dom[-500:]
    from html import unescape

    return json.loads(unescape(m.group(1)))


def _check_page(chrome: str, page: Path, tmp: Path, *, lang: str, brief: bool) -> str:
    text = ""
    for width, height in ((1280, 800), (390, 844)):
        m = _measure(chrome, page, width, height, tmp)
        assert m["client"] <= width  # measured at the width asked for
        assert m["scroll"] <= m["client"], (page.name, width, m["scroll"], m["client"])
        assert not m["split"], (page.name, width, m["split"][:10])  # words and numbers whole
        text = m["text"]
        for kind, pattern in LEAKS.items():
            found = pattern.search(text)
            assert found is None, (page.name, kind, text[max(0, found.start() - 60):
                                                       found.end() + 60])
        if brief:
            assert m["findings_top"] is not None and m["findings_top"] < m["height"]
            if width == 1280:  # the whole answer on the first screen
                assert m["findings_bottom"] <= m["height"], (page.name, m["findings_bottom"])
    assert (tmp / f"{page.stem}.1280.png").stat().st_size > 1000  # the screenshot is kept
    if lang != "en":
        english = [e for e in _english_fragments(lang) if e in re.sub(r"\s+", " ", text)]
        assert not english, (page.name, english[:5])
    return text


def _pages(run: Path) -> dict[str, Path]:
    pages = {p.name.split("--")[0] + ("--" + p.name.split("--")[1]
                                      if p.name.count("--") == 2 else ""): p
             for p in run.glob("*.manager.html")}
    return dict(sorted(pages.items()))


@pytest.mark.parametrize(("lang", "which"), [
    ("en", "00_touchpoint_map"), ("en", "01_touchpoint_satisfaction--mass"),
    ("en", "02_touchpoint_drivers"), ("en", "03_service_innovation_margin"),
    ("az", "01_touchpoint_satisfaction"), ("tr", "03_service_innovation_margin"),
    ("en", "04_care_vs_nuisance"), ("az", "04_care_vs_nuisance"),
    ("tr", "05_customer_360_profitability"), ("az", "05_customer_360_profitability"),
    # overflowed at 390 px in review (methods table, variants list, profit tables)
    ("en", "05_customer_360_profitability"), ("tr", "02_touchpoint_drivers"),
])
def test_brief_in_the_browser(rendered_run, tmp_path, lang, which):
    chrome = _chromium()
    pages = _pages(rendered_run(lang))
    # a job on another dataset (notebooks 04, 05) carries the dataset in its name
    page = pages.get(which) or next(p for k, p in pages.items() if k.split("--")[0] == which)
    text = _check_page(chrome, page, tmp_path, lang=lang, brief=True)
    segment, period = i18n.t("segment", lang), i18n.t("period", lang)
    head = text.split(i18n.t("findings", lang))[0]
    expected = "mass" if which.endswith("--mass") else i18n.t("all_customers", lang)
    assert f"{segment}: {expected}" in head, head
    assert re.search(rf"{period}: \S", head), head


@pytest.mark.parametrize("lang", ["en", "az"])
def test_index_in_the_browser(rendered_run, tmp_path, lang):
    chrome = _chromium()
    text = _check_page(chrome, rendered_run(lang) / "index.html", tmp_path, lang=lang,
                       brief=False)
    assert i18n.t("dashboard", lang) in text


def test_a_failed_job_shows_the_banner_in_the_browser(real_run, tmp_path):
    chrome = _chromium()
    src = next(real_run.glob("01_touchpoint_satisfaction--mass--*.ipynb"))
    nb = nbformat.read(src, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "weakest_links(" in c.source)
    cell.outputs = [nbformat.v4.new_output("error", ename="MemoryError", evalue="",
                                           traceback=["MemoryError"])]
    failed = tmp_path / src.name
    nbformat.write(nb, failed)
    shutil.copy(results_path_for(src), results_path_for(failed))
    page = render.render_notebook(failed, language="en")["manager"]
    text = _check_page(chrome, page, tmp_path, lang="en", brief=False)
    assert "This report did not finish" in text and "MemoryError" in text
    assert i18n.t("findings", "en") not in text and "2.8" not in text
