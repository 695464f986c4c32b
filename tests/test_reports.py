"""Shareable reports: two views, index with digest and previous run, privacy, languages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import nbformat
import pytest
from nbclient import NotebookClient

from cxlib import i18n, privacy, render
from cxlib.results import Results, clear_methods, note_method, results_path_for

PAYLOAD = '<script>document.title="PWNED"</script><img src=x onerror="document.title=\'PWNED\'">'
EMAIL, PHONE = "leyla.aliyeva@example.az", "+994 50 123 45 67"


def make_run(tmp_path, *, language="en", nps=12.5, moves=True, fail=False, name="run2"):
    """A run folder with one executed notebook (table with personal data, a figure,
    a planted payload in a comment, an error in the analysts' data), its results
    file and manifest."""
    run = tmp_path / "batch" / name
    run.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Satisfaction report\nExplained in words."),
        nbformat.v4.new_code_cell(
            "import pandas as pd\nimport matplotlib.pyplot as plt\n"
            f"df = pd.DataFrame({{'customer_id': ['C00017'], 'email': [{EMAIL!r}],\n"
            f"                   'comment': [{PAYLOAD!r}], 'score': [4]}})\ndf"),
        nbformat.v4.new_code_cell(f"print('call {PHONE}')\nplt.plot([1, 2]); plt.show()"),
        nbformat.v4.new_code_cell("import sys; print('debug noise', file=sys.stderr)"),
    ]
    if fail:
        nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom')"))
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    ipynb = run / "job1.ipynb"
    nbformat.write(nb, ipynb)
    clear_methods()
    note_method("NPS interval", "adjusted Wald", reference="Rocks (2016)", n=400)
    res = Results("01_touchpoint_satisfaction", parameters={"language": language})
    res.headline("nps", nps, label="NPS", ci=(nps - 8, nps + 8), n=400)
    if moves:
        res.moves([{"touchpoint_id": "store_checkout", "segment_column": "region",
                    "segment": "Baku", "metric": "csat", "direction": "down", "delta": -0.4}])
    res.save(results_path_for(ipynb))
    views = render.render_notebook(ipynb, language=language)
    manifest = {"batch": "batch", "run_id": name, "started": "2025-03-14T10:00:00+00:00",
                "jobs": [{"job_id": "job1", "status": "failed" if fail else "ok",
                          "error": {"type": "ValueError"} if fail else None,
                          "outputs": {"ipynb": "job1.ipynb", "results": results_path_for(
                              ipynb).name, "manager_html": views["manager"].name,
                              "analyst_html": views["analyst"].name}}]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run, views


def test_two_views(tmp_path):
    _, views = make_run(tmp_path, fail=True)
    from bs4 import BeautifulSoup

    manager = views["manager"].read_text()
    analyst = views["analyst"].read_text()
    code = "import pandas as pd"
    assert code not in BeautifulSoup(manager, "html.parser").get_text()  # code for analysts only
    assert code in BeautifulSoup(analyst, "html.parser").get_text()
    assert "boom" not in manager and "Traceback" not in manager and "debug noise" not in manager
    assert "boom" in analyst
    assert "data:image/png;base64," in manager and "data:image/png;base64," in analyst
    assert "Explained in words." in manager
    for page in (manager, analyst):  # nothing fetched, nothing executable
        soup = BeautifulSoup(page, "html.parser")
        assert not soup.find_all(["script", "iframe", "object", "embed"])
        assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")]
        assert not soup.find_all(src=lambda v: v and v.startswith("http"))
        assert "&lt;script&gt;" in page  # the verbatim comment is shown, escaped
    # methods appendix generated from what was recorded
    assert "Methods appendix" in manager and "adjusted Wald" in manager
    assert "Rocks (2016)" in manager


def test_personal_data_masked_in_managers_view_only(tmp_path):
    _, views = make_run(tmp_path)
    manager, analyst = views["manager"].read_text(), views["analyst"].read_text()
    for secret in ("C00017", EMAIL, PHONE):
        assert secret not in manager, secret
    assert privacy.mask_value("C00017") in manager
    assert "C00017" in analyst


def test_mask_frame_and_html_table():
    import pandas as pd

    df = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "score": [1, 2, 3]})
    m = privacy.mask_frame(df)
    assert m["customer_id"].nunique() == 2 and "C1" not in set(m["customer_id"])
    html = privacy.mask_html(df.to_html())
    assert "C1" not in html and "<td>3</td>" in html


def test_comments_are_escaped():
    import pandas as pd

    html = pd.DataFrame({"comment": [PAYLOAD]}).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    clean = privacy.sanitize_html('<p>ok</p><script>x()</script><a href="javascript:x()">a</a>'
                                  '<img src=x onerror="x()">')
    assert "script" not in clean and "javascript" not in clean and "onerror" not in clean


def test_index_statuses_headlines_digest_and_previous_run(tmp_path):
    make_run(tmp_path, nps=10.0, name="run1")
    run, _ = make_run(tmp_path, nps=12.5, name="run2", fail=True)
    index = render.build_index(run).read_text()
    assert "job1" in index and "failed" in index and "NPS" in index and "12.5" in index
    assert "store_checkout" in index and "Baku" in index and "down" in index  # digest
    assert "run1" in index and "10.0" in index and "2.500" in index  # previous run, change
    assert "newly failing" in index
    assert 'href="job1.manager.html"' in index and 'href="job1.analyst.html"' in index


@pytest.mark.parametrize(("lang", "heading", "number"), [
    ("en", "Methods appendix", "<b>12.5</b>"),
    ("tr", "Yöntem eki", "<b>12,5</b>"),
    ("az", "Metodlar əlavəsi", "<b>12,5</b>"),
])
def test_report_in_each_language(tmp_path, lang, heading, number):
    run, views = make_run(tmp_path, language=lang)
    assert heading in views["manager"].read_text()
    assert f'lang="{lang}"' in views["manager"].read_text()
    index = render.build_index(run, language=lang).read_text()
    assert number in index
    assert i18n.upper(i18n.t("run_index", lang), lang) in index
    assert i18n.format_date("2025-03-14", lang) in index  # "14 Mart 2025" in Turkish


def test_turkish_and_azerbaijani_casing_and_formats():
    assert i18n.upper("istanbul ılık", "tr") == "İSTANBUL ILIK"
    assert "istanbul".upper() == "ISTANBUL"  # why the helper exists
    assert i18n.lower("IŞIK İZMİR", "tr") == "ışık izmir"
    assert i18n.upper("əli işıq", "az") == "ƏLİ İŞIQ"
    assert i18n.title("iyi ışık", "tr") == "İyi Işık"
    assert i18n.upper("istanbul", "en") == "ISTANBUL"
    assert i18n.format_number(12345.678, "tr") == "12.345,68"
    assert i18n.format_percent(0.256, "tr") == "%26"
    assert i18n.format_date("2025-03-14", "tr") == "14 Mart 2025"
    assert i18n.format_date("2025-03-14", "az") == "14 mart 2025"
    from cxlib.catalog import load_catalog

    assert load_catalog("retail").name("store_checkout", "az") != \
        load_catalog("retail").name("store_checkout", "en")


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
        "/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium missing in CI: scripts/install_test_deps.sh should install it")
        pytest.skip("headless Chromium not installed (scripts/install_test_deps.sh)")
    return path


@pytest.mark.browser
def test_browser_payload_does_not_run_and_no_masked_value_shows(tmp_path):
    chrome = _chromium()
    _, views = make_run(tmp_path)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom"]
    # control: the same payload in a bare page DOES run, so the check can fail
    bare = tmp_path / "bare.html"
    bare.write_text(f"<html><head><title>clean</title></head><body>{PAYLOAD}</body></html>")
    dom = subprocess.run([chrome, *flags, bare.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "PWNED" in dom
    dom = subprocess.run([chrome, *flags, views["manager"].as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert dom and "PWNED" not in dom.split("</title>")[0]
    assert "&lt;script&gt;" in dom  # the comment is shown as text
    from bs4 import BeautifulSoup

    text = BeautifulSoup(dom, "html.parser").get_text()
    for secret in ("C00017", EMAIL, PHONE):
        assert secret not in text
