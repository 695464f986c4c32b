"""Shareable reports end to end: a real executed notebook rendered to both views.

The notebook reads a small world (customers with ids, names, e-mails, phones)
and shows its personal data in every way a notebook can (HTML table, print,
Series, ``to_dict``, ``set_index``, MultiIndex, transposed, Markdown cell,
Markdown/HTML/SVG display outputs), plus customer comments carrying script
payloads in a Styler table, ``display(HTML)``, a Markdown cell and output,
links with a tab inside ``javascript:``, SVG and ``<img onerror>``, and
resources on a local HTTP server that must never be fetched.

The browser test opens the pages in headless Chromium: a control page with
the same payloads proves the harness sees a payload run (the title changes)
and a fetch happen (the server counts it); then the managers' and analysts'
views, also with their Content-Security-Policy removed, so that the sanitiser
alone is shown to hold.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from cxlib.methods import clear_methods, note_method
from cxlib.share import privacy, render
from cxlib.share.results import Results, results_path_for

CUSTOMERS = pd.DataFrame({
    "customer_id": ["C90000001", "C90000002", "C90000003"],
    "segment": ["mass", "premium", "mass"], "region": ["Baku", "Istanbul", "Baku"],
    "branch_id": ["B01", "B02", "B01"], "specialist_id": ["E001", None, "E001"],
    "signup_date": pd.to_datetime(["2020-01-02", "2021-05-06", "2022-07-08"]),
    "name": ["Murad Rzayev", "Şule Koç", "İlkin Əliyev"],
    "email": ["murad.rzayev@example.az", "sule.koc@example.com.tr", "ilkin.aliyev@example.az"],
    "phone": ["+994 55 651 72 81", "+90 553 157 98 42", "+994 50 123 45 67"],
})
EMPLOYEES = pd.DataFrame({"employee_id": ["E001"], "branch_id": ["B01"],
                          "role": ["service_specialist"], "satisfaction": [3.0],
                          "tenure_years": [2.0], "accounts_served": [10],
                          "name": ["Günay Babayev"]})
SECRETS = [*CUSTOMERS["customer_id"], *CUSTOMERS["name"], *CUSTOMERS["email"],
           *CUSTOMERS["phone"], "Günay Babayev", "0556517281", "+994556517281",
           "ZX-77-QQ", "Nobody Known", "nobody@example.org"]
#: Auto-running payloads, each appending its own marker to the page title.
STYLER = ("<script>document.title+='-styler_script'</script>"
          "<img src=x onerror=\"document.title+='-styler_onerror'\">")
HTML_OUT = ("<svg onload=\"document.title+='-html_svgonload'\"><text>İlkin Əliyev</text></svg>"
            "<details open ontoggle=\"document.title+='-html_ontoggle'\">d</details>"
            "<a href=\"java&#x09;script:document.title+='-html_link'\">tab link</a>")
MD_OUT = "<img src=x onerror=\"document.title+='-mdout_onerror'\">"
MD_CELL = ("<details open ontoggle=\"document.title+='-md_ontoggle'\">d</details> "
           "<img src=x onerror=\"document.title+='-md_onerror'\"> "
           "<a href=\"java&#x09;script:document.title+='-md_link'\">tabbed link</a> "
           "[md link](javascript:document.title+='-md_mdlink')")
MARKERS = ["styler_script", "styler_onerror", "html_svgonload", "html_ontoggle",
           "mdout_onerror", "md_ontoggle", "md_onerror"]


def fetches(port: int) -> str:
    u = f"http://127.0.0.1:{port}"
    return (f'<img src="{u}/img.png"><link rel="stylesheet" href="{u}/link.css">'
            f'<style>@import url("{u}/import.css"); .cxbg {{ background: url({u}/bg.png) }}'
            f'</style><div class="cxbg" style="background-image: url({u}/inline.png)">bg</div>')


def svg(port: int) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'width="200" height="40" viewBox="0 0 200 40">'
            "<script>document.title+='-svg_script'</script>"
            f'<image href="http://127.0.0.1:{port}/svg.png" width="5" height="5"/>'
            '<a xlink:href="javascript:document.title+=1"><text x="5" y="20">İlkin Əliyev'
            "</text></a></svg>")


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    """A loopback HTTP server counting requests (nothing may reach it)."""
    handler = type("Recorder", (_Recorder,), {"hits": []})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("world")
    CUSTOMERS.to_parquet(d / "customers.parquet")
    EMPLOYEES.to_parquet(d / "employees.parquet")
    pd.DataFrame({"response_id": ["R1"], "customer_id": ["C90000001"]}).to_parquet(
        d / "responses.parquet")
    (d / "truth.json").write_text(json.dumps({"catalog": "retail"}))
    return d


@pytest.fixture(scope="module")
def executed(tmp_path_factory, world, server):
    """The executed notebook (with its results file) in a folder of its own."""
    port = server.server_address[1]
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    params = code(f"WORLD = {str(world)!r}\nPORT = {port}\ndataset = WORLD")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_markdown_cell(
            "# Satisfaction report\nExplained in words. Our customer Murad Rzayev "
            "(murad.rzayev@example.az) called from +994 55 651 72 81.\n\n" + MD_CELL),
        code("import sys\nimport matplotlib.pyplot as plt\nimport pandas as pd\n"
             "from IPython.display import HTML, SVG, Markdown, display\n"
             "customers = pd.read_parquet(f'{WORLD}/customers.parquet')\n"
             "customers[['customer_id', 'name', 'email', 'phone', 'segment']]"),
        code("print(customers[['customer_id', 'name', 'email', 'phone']])"),
        code("customers['customer_id']"),
        code("print(customers.head(2)[['customer_id', 'name']].to_dict())"),
        code("display(customers.set_index('customer_id')[['segment']])\n"
             "display(customers.set_index(['region', 'customer_id'])[['segment']])\n"
             "display(customers.set_index('customer_id')[['segment', 'region']].T)\n"
             "display(customers.groupby('name')[['segment']].count())"),
        code("pd.DataFrame({'Customer ID': ['ZX-77-QQ'], 'customer_name': ['Nobody Known'],"
             " 'E-mail': ['nobody@example.org'], 'score': [4]})"),
        code(f"comments = pd.DataFrame({{'comment': [{STYLER!r}], 'score': [1]}})\n"
             "display(comments)\ndisplay(comments.style)\n"
             f"display(HTML('<p>Comment: ' + {HTML_OUT!r} + '</p>'))\n"
             f"display(Markdown('Customer **Şule Koç** wrote: ' + {MD_OUT!r}))\n"
             "display(Markdown('_Günay Babayev_ answered.'))"),
        code(f"display(SVG({svg(port)!r}))\ndisplay(HTML({fetches(port)!r}))"),
        code("print('date 2025-03-14 seed 20250314 runs 1 2 3 4 5 6 7 8 9 10 p 0.0312')\n"
             "plt.plot([1, 2]); plt.show()"),
        code("print('debug noise C90000002', file=sys.stderr)"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    base = tmp_path_factory.mktemp("executed")
    ipynb = base / "job1.ipynb"
    nbformat.write(nb, ipynb)
    clear_methods()
    note_method("Multiple comparisons", "Benjamini-Hochberg false discovery rate",
                reference="Benjamini & Hochberg (1995)", cells=1234, alpha=0.05)
    note_method("mean score (leaf level)", "t interval", weights="w_rake", n_median=1234.5)
    note_method("Innovation effect", "two-way fixed effects DiD", outcome="margin", n=1200)
    note_method("Innovation effect", "two-way fixed effects DiD", outcome="csat", n=1100)
    res = Results("01_touchpoint_satisfaction",
                  parameters={"dataset": str(world), "catalog": "retail"})
    res.headline("nps", 12.5, label="NPS", ci=(4.5, 20.5), n=400, unit="points",
                 flag="low_base")
    res.headline("weakest_sale", "store_checkout", label="Weakest link: During the sale",
                 touchpoint_id="store_checkout")
    res.headline("top_complaint", "Şule Koç (C90000002)", label="Top complaint")
    res.save(results_path_for(ipynb))
    clear_methods()
    return ipynb


_VIEWS: dict[str, dict[str, Path]] = {}


def views(executed: Path, lang: str = "en") -> dict[str, Path]:
    """Both views rendered in ``lang`` (once per language), with a run index."""
    if lang not in _VIEWS:
        run = executed.parent.parent / f"batch-{executed.parent.name}" / f"run-{lang}"
        run.mkdir(parents=True)
        for p in (executed, results_path_for(executed)):
            shutil.copy(p, run / p.name)
        v = render.render_notebook(run / executed.name, language=lang)
        manifest = {"batch": "batch", "run_id": f"run-{lang}",
                    "started": "2025-03-14T10:00:00+00:00",
                    "jobs": [{"job_id": "job1", "status": "ok", "error": None,
                              "outputs": {"results": results_path_for(executed).name,
                                          "manager_html": v["manager"].name,
                                          "analyst_html": v["analyst"].name}}]}
        (run / "manifest.json").write_text(json.dumps(manifest))
        _VIEWS[lang] = {**v, "index": render.build_index(run, language=lang)}
    return _VIEWS[lang]


def text_of(path: Path) -> str:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def svg_texts(path: Path) -> list[str]:
    """Decoded SVG images of a page (their text is not page text, but is shared)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return [base64.b64decode(i["src"].split(",", 1)[1]).decode("utf-8")
            for i in soup.find_all("img", src=re.compile(r"^data:image/svg\+xml;base64,"))]


def test_two_views(executed):
    v = views(executed)
    manager, analyst = text_of(v["manager"]), text_of(v["analyst"])
    code = "read_parquet"
    assert code not in manager and code in analyst  # code for analysts only
    assert "Traceback" not in manager and "debug noise" not in manager
    assert "debug noise" in analyst
    # the brief is built from the results file, not from the notebook's prose
    assert "Explained in words." in analyst and "Explained in words." not in manager
    assert "Net Promoter Score: 12.5 [4.5; 20.5], 400 respondents." in manager
    for page in (v["manager"], v["analyst"]):
        html = page.read_text(encoding="utf-8")
        assert "data:image/png;base64," in html  # figure embedded: one mailable file
        assert "Methods appendix" in text_of(page)


def test_a_failed_notebook_gets_a_banner_and_no_numbers(executed, tmp_path):
    nb = nbformat.read(executed, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom for Murad Rzayev')"))
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    failed = tmp_path / "failed.ipynb"
    nbformat.write(nb, failed)
    shutil.copy(results_path_for(executed), results_path_for(failed))
    v = render.render_notebook(failed)
    soup = BeautifulSoup(v["manager"].read_text(encoding="utf-8"), "html.parser")
    banner = soup.find(id="cx-banner").get_text()
    assert "did not finish" in banner and "ValueError" in banner and "boom" not in banner
    assert soup.find(id="cx-findings") is None and soup.find(id="cx-tiles") is None
    assert "12.5" not in soup.get_text() and "data:image" not in str(soup)
    assert "boom for Murad Rzayev" in text_of(v["analyst"])  # the analyst sees the error


def test_personal_data_masked_in_managers_view_only(executed):
    v = views(executed)
    manager_html, analyst = v["manager"].read_text(encoding="utf-8"), text_of(v["analyst"])
    manager = text_of(v["manager"])
    for secret in SECRETS:
        assert secret not in manager, secret
        assert secret not in manager_html, secret
        assert not any(secret in s for s in svg_texts(v["manager"])), secret
    # a recorded headline naming a customer: stable pseudonyms stand in
    assert privacy.mask_value("Şule Koç") in manager
    assert privacy.mask_value("C90000002") in manager
    for secret in ("C90000001", "Murad Rzayev", "Şule Koç", "nobody@example.org"):
        assert secret in analyst
    assert any("İlkin Əliyev" in s for s in svg_texts(v["analyst"]))


def test_index_page_is_masked_too(executed):
    index = text_of(views(executed)["index"])
    assert "Top complaint" in index
    assert "Şule Koç" not in index and "C90000002" not in index
    assert privacy.mask_value("Şule Koç") in index


def _dom_is_inert(path: Path) -> None:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    assert not soup.find_all(["script", "iframe", "object", "embed", "link", "svg", "form",
                              "base", "frame", "details"])
    assert [m.get("http-equiv") for m in soup.find_all("meta") if m.get("http-equiv")] == [
        "Content-Security-Policy"]
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        if tag.name == "a" and tag.get("href"):
            href = re.sub(r"[\x00-\x20]", "", tag["href"])
            assert href.startswith("#") or re.fullmatch(r"[\w\-./]+(#[\w\-.]*)?", href), href
        if tag.get("src"):
            assert tag["src"].startswith(("data:image/png", "data:image/svg+xml")), tag
    for style in soup.find_all("style"):
        css = style.get_text()
        assert "@import" not in css and "127.0.0.1" not in css
    # no outside reference survives as markup (shown as text, it is harmless)
    assert not [t for t in soup.find_all(True)
                if "127.0.0.1" in " ".join(map(str, t.attrs.values()))]


def test_payloads_are_shown_as_text_and_nothing_can_run(executed):
    v = views(executed)
    _dom_is_inert(v["manager"])  # the brief shows no notebook output at all
    assert "document.title" not in v["manager"].read_text(encoding="utf-8")
    for page in (v["analyst"],):
        _dom_is_inert(page)
        text = text_of(page)
        # the verbatims stay readable, as text, from every source
        # Styler does not escape: its cell is shown as the markup it holds
        assert "<script>document.title+='-styler_script'</script>" in text
        assert "onerror=\"document.title+='-styler_onerror'\"" in text
        assert "-html_ontoggle" in text and "-md_ontoggle" in text and "-mdout_onerror" in text
        assert "-html_link" in text and "-md_link" in text


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["Methods appendix", "Multiple comparisons", "cells: 1,234", "median n: 1,234.5",
            "REPORT RUN", "March 14, 2025", "12.5", "Weakest link: During the sale",
            "Checkout", "low base"]),
    ("tr", ["Yöntem eki", "Çoklu karşılaştırmalar", "hücre sayısı: 1.234",
            "medyan n: 1.234,5", "RAPOR ÇALIŞTIRMASI", "14 Mart 2025", "12,5",
            "En zayıf halka: Satış sırasında", "Kasa hizmeti", "düşük taban"]),
    ("az", ["Metodlar əlavəsi", "Çoxsaylı müqayisələr", "xana sayı: 1.234",
            "median n: 1.234,5", "HESABAT İCRASI", "14 mart 2025", "12,5",
            "Ən zəif halqa: Satış zamanı", "Kassa xidməti", "aşağı baza"]),
])
def test_report_in_each_language(executed, lang, expected):
    v = views(executed, lang)
    page = text_of(v["manager"]) + "\n" + text_of(v["index"])
    for s in expected:
        assert s in page, (lang, s)
    assert f'lang="{lang}"' in v["manager"].read_text(encoding="utf-8")
    others = {"en": "Methods appendix", "tr": "Yöntem eki", "az": "Metodlar əlavəsi"}
    for other, heading in others.items():
        if other != lang:
            assert heading not in page
    if lang != "en":
        assert "1,234.5" not in page and "12.5" not in page


def test_methods_appendix_groups_repeated_steps(executed):
    soup = BeautifulSoup(views(executed)["manager"].read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("#cx-methods-appendix tbody tr")
    steps = [r.find("td").get_text(strip=True) for r in rows]
    assert steps.count("Innovation effect") == 1
    row = rows[steps.index("Innovation effect")]
    uses = [li.get_text(" ", strip=True) for li in row.select("li")]
    assert uses == ["outcome: margin; n: 1,200", "outcome: csat; n: 1,100"]


# --------------------------------------------------------------------------- browser

def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
        "/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium missing in CI: scripts/install_test_deps.sh should install it")
        pytest.skip("headless Chromium not installed (scripts/install_test_deps.sh)")
    return path


def _load(chrome: str, page: Path, profile: Path) -> str:
    """The DOM after load (scripts that could run have run)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-quic", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
             "--dump-dom"]
    out = subprocess.run([chrome, *flags, page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip(), out.stderr[-2000:]
    return out.stdout


@pytest.mark.browser
def test_browser_payloads_do_not_run_nothing_is_fetched_nothing_masked_shows(
        executed, server, tmp_path):
    chrome = _chromium()
    port = server.server_address[1]
    hits = server.RequestHandlerClass.hits
    # control: the same payloads and references in a bare page run and fetch,
    # so the harness can see both
    bare = tmp_path / "bare.html"
    bare.write_text("<html><head><title>clean</title></head><body>" + STYLER + HTML_OUT
                    + MD_OUT + MD_CELL + fetches(port) + "</body></html>", encoding="utf-8")
    dom = BeautifulSoup(_load(chrome, bare, tmp_path / "p0"), "html.parser")
    assert all(f"-{m}" in dom.title.get_text() for m in MARKERS), dom.title
    assert hits, "the control page fetched nothing: the fetch check could not fail"
    v = views(executed)
    pages = {"manager": v["manager"], "analyst": v["analyst"], "index": v["index"]}
    for name in ("manager", "analyst"):  # the sanitiser alone, without the CSP
        bare_csp = tmp_path / f"{name}.nocsp.html"
        html = v[name].read_text(encoding="utf-8")
        stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert stripped != html
        bare_csp.write_text(stripped, encoding="utf-8")
        pages[f"{name} without CSP"] = bare_csp
    for i, (name, page) in enumerate(pages.items(), start=1):
        hits.clear()
        title_before = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").title
        dom = BeautifulSoup(_load(chrome, page, tmp_path / f"p{i}"), "html.parser")
        assert dom.title.get_text() == title_before.get_text(), (name, dom.title)
        assert not hits, (name, hits)
        if name.startswith("manager"):
            text = dom.get_text(" ")
            for secret in SECRETS:
                assert secret not in text, (name, secret)
        if name.startswith("analyst"):
            assert "document.title+='-styler_script'" in dom.get_text(" ")  # shown, not run


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_the_analysts_page_is_nbconverts_without_its_extra_pass(executed, lang):
    """Reference: nbconvert's own lab HTMLExporter, whose closing BeautifulSoup pass
    render skips (it adds tabindex, which the sanitiser drops, and an English alt to
    every image, even inside a displayed HTML output, which is data shown as text).
    After the sanitiser both pages are the same but for alt texts; ours are on the
    figures only, in the reader's language."""
    from nbconvert import HTMLExporter

    nb = render._prepare(nbformat.read(executed, as_version=4))
    stock, _ = HTMLExporter(template_name="lab", embed_images=True,
                            filters={"clean_html": render._as_is}).from_notebook_node(nb)
    ours = render._analyst_page(nb, "", lang)
    english = "No description has been provided for this image"
    assert english in stock
    alt = {"en": "A figure of the analysis (no description given)",
           "tr": "Analizden bir grafik (açıklaması verilmemiş)"}[lang]
    got = privacy.sanitize_html(ours, language=lang)
    expected = privacy.sanitize_html(stock, language=lang)
    no_alt = re.compile(r'\s?alt(?:="[^"]*"|=&quot;[^&]*&quot;)')
    assert no_alt.sub("", got) == no_alt.sub("", expected)
    soup = BeautifulSoup(got, "html.parser")
    alts = [i.get("alt") for i in soup.find_all("img")]
    # PNG figures: ours; SVG figures: the one the sanitiser gives a cleaned SVG
    assert alt in alts and set(alts) <= {alt, "figure"}
    assert english not in got and alt not in soup.get_text()  # outputs' text left as it came
