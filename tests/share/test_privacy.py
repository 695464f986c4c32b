"""Masking personal data (cxlib.share.mask) and sanitising HTML (cxlib.share.sanitize)."""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cxlib import i18n
from cxlib.share import mask as privacy
from cxlib.share import sanitize
from cxlib.share.mask import mask_html, mask_text, mask_value
from cxlib.share.sanitize import sanitize_css, sanitize_html

IDS = ["C90000001", "C90000002", "C90000003"]
FRAME = pd.DataFrame({"customer_id": IDS, "region": ["Baku", "Baku", "Istanbul"],
                      "segment": ["mass", "premium", "mass"], "score": [4, 5, 3]})


def texts(html: str, selector: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [c.get_text(" ", strip=True) for c in soup.select(selector)]


# --------------------------------------------------------------------------- columns

@pytest.mark.parametrize("name", ["customer_id", "Customer ID", "customerId", "CustomerID",
                                  "customer_name", "Customer name", "E-mail", "email_address",
                                  "phone_number", "Telefon", "mobile", "full_name", "work_email",
                                  "contact_phone", "customer_full_name", "person_no",
                                  ("customer", "id"), ("contact", "mail")])
def test_personal_column_variants(name):
    assert privacy.is_personal_column(name)


@pytest.mark.parametrize("name", ["email_format", "n_email", "touchpoint_id", "stage_name",
                                  "segment", "score", "response_id", "specialist_id", ""])
def test_not_personal_columns(name):
    assert not privacy.is_personal_column(name)


def test_bare_name_is_personal_only_while_values_are_unknown():
    assert privacy.is_personal_column("name")
    assert not privacy.is_personal_column("name", ambiguous=False)


# --------------------------------------------------------------------------- tables

def test_cells_under_personal_headers_and_index_names():
    for html in (FRAME.to_html(), FRAME.style.to_html(),
                 FRAME.set_index("customer_id").to_html(),
                 FRAME.groupby("customer_id")[["segment", "region", "score"]].first().to_html(),
                 FRAME.set_index("customer_id").style.to_html()):
        out = mask_html(html)
        for cid in IDS:
            assert cid not in out
            assert mask_value(cid) in out
        cells = texts(out, "td")
        assert "premium" in cells and "Istanbul" in cells and "5" in cells


def test_multiindex_rows_keep_their_columns():
    html = FRAME.set_index(["region", "customer_id"])[["segment", "score"]].to_html()
    assert 'rowspan="2"' in html  # the case that used to shift columns
    out = mask_html(html)
    rows = [r for r in BeautifulSoup(out, "html.parser").select("tbody tr")]
    cells = [[c.get_text(strip=True) for c in r.find_all(["th", "td"])] for r in rows]
    assert cells == [["Baku", mask_value(IDS[0]), "mass", "4"],
                     [mask_value(IDS[1]), "premium", "5"],
                     ["Istanbul", mask_value(IDS[2]), "mass", "3"]]


def test_transposed_tables():
    by_id = mask_html(FRAME.set_index("customer_id").T.to_html())  # ids are column labels
    by_row = mask_html(FRAME.T.to_html())  # "customer_id" labels a row
    for out in (by_id, by_row):
        assert not [cid for cid in IDS if cid in out]
        assert "premium" in out and "Istanbul" in out
    assert texts(by_row, "tbody tr th")[0] == "customer_id"


def test_multiindex_columns_and_markdown_tables():
    wide = pd.DataFrame([["C90000001", "a@b.az", 4]], columns=pd.MultiIndex.from_tuples(
        [("customer", "id"), ("customer", "mail"), ("answers", "score")]))
    out = mask_html(wide.to_html())
    assert "C90000001" not in out and "a@b.az" not in out and ">4<" in out
    md = "<table><thead><tr><th>Customer ID</th><th>score</th></tr></thead>" \
         "<tbody><tr><td>ZX-77-QQ</td><td>4</td></tr></tbody></table>"
    assert texts(mask_html(md), "td") == [mask_value("ZX-77-QQ"), "4"]


def test_touchpoint_tables_are_not_masked():
    html = pd.DataFrame({"score": [4.1]}, index=pd.Index(["email_format"],
                                                         name="touchpoint_id")).to_html()
    assert mask_html(html) == str(BeautifulSoup(html, "html.parser"))


# --------------------------------------------------------------------------- known values

@pytest.fixture(scope="module")
def values():
    v = privacy.PersonalValues.from_values(
        [*IDS, "Murad Rzayev", "İlkin Əliyev", "murad.rzayev@example.az", "12345"])
    v.add(["+994 55 651 72 81"], phone=True)
    return v


def test_known_values_in_any_text(values):
    printed = pd.DataFrame({"customer_id": IDS[:1], "name": ["Murad Rzayev"],
                            "phone": ["+994 55 651 72 81"]}).to_string()
    for text in (printed, str(FRAME["customer_id"]), str(FRAME.head(1).to_dict()),
                 "Write to MURAD.RZAYEV@EXAMPLE.AZ.", "murad rzayev called",
                 i18n.upper("İlkin Əliyev", "az"), "İLKIN ƏLIYEV",  # Turkish and naive casing
                 "call 0556517281 or +994556517281 or (055) 651-72-81"):
        out = values.mask(text)
        for secret in ("C90000001", "Murad", "murad", "MURAD", "İlkin", "İLKİN", "İLKIN",
                       "651", "6517281"):
            assert secret not in out, (text, out)
    assert values.mask("Murad Rzayev") == mask_value("Murad Rzayev")  # one pseudonym
    assert values.mask("MURAD  RZAYEV") == mask_value("Murad Rzayev")


def test_known_values_leave_the_rest_alone(values):
    text = "Murad and Rzayev apart; C900000010; 12345 respondents; 2025-03-14; 1 2 3 4 5 6 7 8"
    assert values.mask(text) == text  # parts of a name, longer ids, short numbers stay
    assert values.skipped == 1  # "12345": too ambiguous to mask as free text


def test_learn_dataset_reads_the_personal_columns(tmp_path):
    pd.DataFrame({"customer_id": ["C1000001"], "name": ["Aysel Quliyeva"],
                  "email": ["aysel@example.az"], "phone": ["+994 70 111 22 33"],
                  "segment": ["mass"]}).to_parquet(tmp_path / "customers.parquet")
    pd.DataFrame({"employee_id": ["E1"], "name": ["Günay Babayev"]}).to_parquet(
        tmp_path / "employees.parquet")
    v = privacy.learn_dataset(tmp_path)
    assert v.columns == {"customers.customer_id", "customers.name", "customers.email",
                         "customers.phone", "employees.name"}
    out = v.mask("Aysel Quliyeva (C1000001, aysel@example.az, 070 111 22 33) and "
                 "Günay Babayev; segment mass; employee E1")
    assert out == (f"{mask_value('Aysel Quliyeva')} ({mask_value('C1000001')}, "
                   f"{mask_value('aysel@example.az')}, {mask_value('+994 70 111 22 33')}) and "
                   f"{mask_value('Günay Babayev')}; segment mass; employee E1")


# --------------------------------------------------------------------------- patterns

@pytest.mark.parametrize("text", [
    "leyla.aliyeva@example.az", "+994 50 123 45 67", "+90 (532) 123 45 67", "+994501234567",
    "0532 123 45 67", "(0532) 123-45-67", "050 123 45 67", "05321234567"])
def test_email_and_phone_patterns(text):
    assert mask_text(f"see {text}.") == f"see {mask_value(text)}."


@pytest.mark.parametrize("text", [
    "2025-03-14", "2025-03-14T10:00:00+00:00", "seed 20250314", "1 2 3 4 5 6 7 8 9 10",
    "p = 0.0312 0.0456", "+2.5", "12,345,678", "2019-2024", "n = 1 234 567", "0.123 456 78",
    "14.03.2025", "id 123456789012", "+1 2 3", "+12 34 56"])
def test_patterns_leave_numbers_alone(text):
    assert mask_text(text) == text


def test_pseudonyms_are_stable_and_keyed(monkeypatch):
    a = mask_value("C90000001")
    assert a == mask_value("C90000001") and a != mask_value("C90000002")
    assert re.fullmatch(r"•••[a-z]{8}", a)  # no digits: no later pattern sees a number
    monkeypatch.setenv("CX_MASK_KEY", "secret")
    assert mask_value("C90000001") != a


def test_mask_frame_columns_and_index():
    m = privacy.mask_frame(FRAME.rename(columns={"customer_id": "Customer ID"}))
    assert m["Customer ID"].nunique() == 3 and not set(IDS) & set(m["Customer ID"])
    m = privacy.mask_frame(FRAME.set_index("customer_id"))
    assert not set(IDS) & set(m.index) and list(m["segment"]) == list(FRAME["segment"])


# --------------------------------------------------------------------------- sanitiser

@pytest.mark.parametrize("href", [
    "java&#x09;script:alert(1)", "java&#x0A;script:alert(1)", "&#x20;javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "javascript&colon;alert(1)", "jav&#x00;ascript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
    "//evil.example/x", "/etc/passwd", "\\\\evil\\x", "file:///etc/passwd"])
def test_links_that_are_not_report_links_lose_their_link(href):
    out = sanitize_html(f'<p><a href="{href}">click</a></p>')
    soup = BeautifulSoup(out, "html.parser")
    assert not soup.find("a", href=True), out
    assert "click" in soup.get_text()


@pytest.mark.parametrize(("url", "kind"), [
    ("java\tscript:alert(1)", "bad"), ("\x00javascript:x", "bad"), (" https://x.org", "web"),
    ("ht\ntps://x.org", "web"), ("job1.manager.html", "relative"), ("#a", "fragment"),
    ("#What-moved:-segments,-periods", "fragment"),
    ("data:image/png;base64,AA", "data_image"), ("data:text/html,x", "bad")])
def test_urls_are_read_as_a_browser_reads_them(url, kind):
    assert sanitize._url_kind(url) == kind


def test_report_links_and_fragments_stay_web_links_become_text():
    out = sanitize_html('<a href="job1.manager.html">m</a> <a href="#methods-appendix">a</a> '
                        '<a href="https://pandas.pydata.org/docs">docs</a>')
    soup = BeautifulSoup(out, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["job1.manager.html", "#methods-appendix"]
    assert "docs (https://pandas.pydata.org/docs)" in soup.get_text()


def test_unsafe_markup_in_content_is_shown_as_text():
    payloads = ['<script>alert("x")</script>', '<img src=x onerror="alert(1)">',
                '<img src="http://127.0.0.1:9/x.png">', '<iframe src="about:blank"></iframe>',
                '<details open ontoggle="alert(1)">d</details>',
                '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
                '<form action="http://x"><input value="v"></form>', '<base href="http://x/">',
                '<div style="background:url(http://127.0.0.1:9/b.png)">b</div>',
                '<a href="https://x.example"><img src=x onerror="alert(2)"></a>']
    for p in payloads:
        out = sanitize_html(f"<div>{p}</div>")
        soup = BeautifulSoup(out, "html.parser")
        assert not soup.find_all(["script", "iframe", "meta", "form", "input", "base",
                                  "details"]), (p, out)
        assert not [t for t in soup.find_all(True) for a in t.attrs
                    if a.startswith("on") or a in ("src", "style")], (p, out)
        shown = [t for t in re.findall(r"<(\w+)", p) if f"<{t}" in soup.get_text()]
        assert shown, (p, out)  # the verbatim is readable


def test_style_sheets_only_where_sheets_belong():
    out = sanitize_html('<style>.a { color: red }</style><table><tr><td>nice shop'
                        "<style>body { display: none }</style></td></tr></table>")
    soup = BeautifulSoup(out, "html.parser")
    assert "body { display: none }" in soup.td.get_text()  # a comment's CSS is text
    page = sanitize_html("<!DOCTYPE html><html><head><style>p { margin: 0 }</style></head><body>"
                         '<div class="jp-OutputArea-output"><style>#T_1 td { color: red }</style>'
                         "<table id='T_1'><tr><td><style>body { display: none }</style></td>"
                         "</tr></table></div></body></html>")
    sheets = " ".join(st.get_text() for st in BeautifulSoup(page, "html.parser").find_all("style"))
    assert "p { margin: 0 }" in sheets and "#T_1 td { color: red }" in sheets
    assert "display: none" not in sheets


def test_data_images_stay_other_data_does_not():
    png = "data:image/png;base64,iVBORw0KGgo="
    out = sanitize_html(f'<img src="{png}" alt="fig"><img src="data:text/html;base64,PHM+">')
    soup = BeautifulSoup(out, "html.parser")
    assert [i["src"] for i in soup.find_all("img")] == [png]


def test_styler_comments_are_shown_not_run():
    comment = '<script>alert(1)</script><img src="x">'
    html = pd.DataFrame({"comment": [comment]}).style.to_html()
    assert "<script>" in html  # pandas Styler does not escape
    out = sanitize_html(html)
    soup = BeautifulSoup(out, "html.parser")
    assert not soup.find_all(["script", "img"])
    assert '<script>alert(1)</script><img src="x"/>' in soup.get_text()


def test_inline_svg_becomes_a_clean_image_with_masked_text():
    svg = ('<svg viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script>'
           '<a xlink:href="javascript:alert(3)"><text>C90000001</text></a>'
           '<image href="http://127.0.0.1:9/i.png"/><clipPath id="c"/></svg>')
    out = sanitize_html(f"<div>{svg}</div>", mask=True,
                        values=privacy.PersonalValues.from_values(["C90000001"]))
    soup = BeautifulSoup(out, "html.parser")
    [img] = soup.find_all("img")
    inner = base64.b64decode(img["src"].split(",", 1)[1]).decode()
    for bad in ("script", "onload", "javascript", "127.0.0.1", "C90000001"):
        assert bad not in inner, inner
    assert mask_value("C90000001") in inner and 'viewBox="0 0 10 10"' in inner
    assert "<clipPath" in inner  # SVG's case-sensitive names restored


def test_css_fetches_nothing():
    css = ('@import url("http://x/a.css"); @import "b.css"; .a { background: url(http://x/b.png) }'
           " .b { background: url('data:image/png;base64,AA') }")
    out = sanitize_css(css)
    assert "@import" not in out and "http://x" not in out and "data:image/png" in out
    for sneaky in ("@\\69mport url(http://x/c.css);", ".a { background: u\\72l(http://x/d) }",
                   ".a { width: expression(alert(1)) }",
                   '.a { background-image: image-set("http://x/e.png" 1x) }'):
        assert "http://x" not in sanitize_css(sneaky) and "expression" not in sanitize_css(
            sneaky), sneaky


def test_a_full_page_gets_a_fresh_head():
    page = ('<!DOCTYPE html><html lang="en"><head><title>t</title>'
            '<script src="https://cdn.example/require.js"></script>'
            '<link rel="stylesheet" href="https://cdn.example/x.css">'
            "<style>p { color: red }</style></head><body class=\"jp-Notebook\"><p>x</p>"
            "</body></html>")
    out = sanitize_html(page, language="tr", title="Başlık <b>")
    soup = BeautifulSoup(out, "html.parser")
    assert soup.html["lang"] == "tr" and soup.title.get_text() == "Başlık <b>"
    assert not soup.find_all(["script", "link"]) and "cdn.example" not in out
    assert "p { color: red }" in soup.style.get_text()
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "default-src 'none'" in csp and "img-src data:" in csp
    assert soup.body["class"] == ["jp-Notebook"]


# --------------------------------------------------------------------------- figures

def test_no_cxlib_plot_labels_points_with_a_personal_column():
    """PNG pixels cannot be masked: plots must never read a personal column.

    Every string constant of cxlib/plots is checked (``name`` there is the
    touchpoint name of coverage tables, hence ``ambiguous=False``).
    """
    plots = Path(privacy.__file__).parents[1] / "plots"
    modules = sorted(plots.glob("*.py"))
    assert len(modules) >= 4, f"no plot modules found in {plots}"
    found = []
    for py in modules:
        tree = ast.parse(py.read_text(encoding="utf-8"))
        prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in prose \
                    and privacy.is_personal_column(node.value, ambiguous=False):
                found.append((py.name, node.lineno, node.value))
    assert not found


def test_only_allow_listed_tags_and_attributes_survive():
    out = sanitize_html('<p contenteditable="true" draggable="true" data-x="1" class="c" '
                        'id="i" tabindex="3">t</p><blink>b</blink><font color="red">f</font>'
                        "<!-- a comment -->")
    soup = BeautifulSoup(out, "html.parser")
    assert soup.p.attrs == {"class": ["c"], "id": "i", "data-x": "1"}
    assert not soup.find("blink") and "b" in soup.get_text() and "comment" not in out


# --------------------------------------------------------------------------- issue 12

VICTIM = ["C00000012", "R00000042", "Murad Rzayev", "murad.rzayev@example.az",
          "+994 55 651 72 81"]


@pytest.mark.parametrize(("text", "hidden", "kept"), [
    ("C00000012-2024-03-01", "C00000012", "-2024-03-01"),
    ("C00000012_R00000042", "R00000042", "_"),
    ("statement_C00000012.pdf", "C00000012", "statement_"),
    ("see reports/01--C00000012--ab12cd.manager.html", "C00000012", ".manager.html"),
    ("owner Murad_Rzayev.", "Rzayev", "owner "),
])
def test_personal_values_glued_to_other_text_are_masked(text, hidden, kept):
    values = privacy.PersonalValues.from_values(VICTIM)
    out = mask_text(text, values)
    assert hidden not in out and kept in out and "•••" in out
    assert mask_value("C00000012") in mask_text("C00000012-2024-03-01", values)


def test_glued_masking_leaves_other_tokens_alone():
    values = privacy.PersonalValues.from_values(VICTIM)
    text = "2025-03-14 0.0312 e-mail C00000013-x run_2024-01 seg_mass"
    assert mask_text(text, values) == text


def _page(outputs: list[dict]) -> str:
    """A notebook page as the renderer exports it (nbconvert, lab template, embedded images)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={**o, "text/plain": "x"})
                    for o in outputs]
    nb.cells = [nbformat.v4.new_markdown_cell("# Report\nA figure follows."), cell]
    body, _ = HTMLExporter(template_name="lab", embed_images=True).from_notebook_node(nb)
    return body


def _svg_texts(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [base64.b64decode(i["src"].split(",", 1)[1]).decode()
            for i in soup.find_all("img", src=re.compile(r"^data:image/svg\+xml;base64,"))]


def test_customer_text_in_styler_and_html_outputs_is_text():
    """The issue's attack: a comment with a giant heading and an inline SVG image that
    carries a customer's name, phone and e-mail, through a Styler table, display(HTML)
    and display(Markdown). In the shared page it is text; the only images are figures."""
    leak = ('<svg xmlns="http://www.w3.org/2000/svg"><text>Murad Rzayev +994 55 651 72 81 '
            "murad.rzayev@example.az</text></svg>")
    img = f'<img src="data:image/svg+xml;base64,{base64.b64encode(leak.encode()).decode()}">'
    comment = ('<h1 style="font-size:90px;color:red">DECISION: ROLL BACK THE KIOSK '
               f"(approved by CFO)</h1>{img}")
    styler = pd.DataFrame({"comment": [comment], "score": [1]}).style.to_html()
    figure = ('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="20">'
              "<text>Murad Rzayev</text></svg>")
    page = _page([{"text/html": styler}, {"text/html": f"<p>Comment: {comment}</p>"},
                  {"text/markdown": "# DECISION: SCALE IT\n\nCustomer **says**: " + img},
                  {"image/svg+xml": figure}, {"image/png": "iVBORw0KGgo="}])
    values = privacy.PersonalValues.from_values(VICTIM)
    for mask in (True, False):
        out = sanitize_html(page, values=values, mask=mask)
        soup = BeautifulSoup(out, "html.parser")
        assert not [h for h in soup.find_all(re.compile(r"^h[1-6]$"))
                    if "DECISION" in h.get_text()]  # no heading from a comment
        assert "DECISION: ROLL BACK THE KIOSK" in soup.get_text()  # shown, as text
        assert "DECISION: SCALE IT" in soup.get_text()
        assert not [t for t in soup.find_all(style=True) if "90px" in t["style"]]
        srcs = [i["src"][:22] for i in soup.find_all("img")]
        assert sorted(srcs) == ["data:image/png;base64,", "data:image/svg+xml;bas"]  # figures
        svgs = _svg_texts(out)
        assert len(svgs) == 1  # the figure, still an image
        assert mask or "Murad Rzayev" in svgs[0]  # masked in the managers' view only
        assert not any(x in s for s in svgs for x in ("+994", "example.az"))
        if mask:
            assert not any("Murad" in s for s in svgs)  # the figure's own text is masked
            assert "Murad" not in soup.get_text() and "example.az" not in out


def test_pandas_table_sheets_stay_sheets_and_style_only_pandas_tables():
    df = pd.DataFrame({"a": [1]})
    page = _page([{"text/html": df._repr_html_()},
                  {"text/html": "<style>body{display:none} .dataframe td{color:red}</style>x"}])
    out = sanitize_html(page)
    soup = BeautifulSoup(out, "html.parser")
    assert ".dataframe" not in soup.body.get_text()  # pandas' sheet is not shown as text
    sheets = " ".join(s.get_text() for s in soup.find_all("style"))
    assert "only-of-type" in sheets and ".dataframetd{color:red}" in sheets.replace(" ", "")
    assert "body{display:none}" not in sheets.replace(" ", "")  # from content: pandas rules only


_GLUE_CHARS = "_-.@+"
_AROUND = st.text(alphabet="abcxyz0123456789 " + _GLUE_CHARS, max_size=12)


@settings(max_examples=150, deadline=None)
@given(before=_AROUND, glue1=st.sampled_from([*_GLUE_CHARS, " "]),
       glue2=st.sampled_from([*_GLUE_CHARS, " ", ""]), after=_AROUND,
       secret=st.sampled_from(["C00000012", "R00000042"]))
def test_a_known_id_glued_anywhere_never_survives(before, glue1, glue2, after, secret):
    """Property: however a known id is glued into text with ``_ - . @ +``, it is masked,
    and masking never raises."""
    values = privacy.PersonalValues.from_values(VICTIM)
    text = f"{before}{glue1}{secret}{glue2}{after}" if glue2 or not after[:1].isalnum() \
        else f"{before}{glue1}{secret}"
    assert secret not in mask_text(text, values)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_sanitising_and_masking_any_text_never_raise(text):
    values = privacy.PersonalValues.from_values(VICTIM)
    assert isinstance(mask_text(text, values), str)
    out = sanitize_html(f"<p>{text}</p>", values=values, mask=True)
    assert "<script" not in out.lower()


def test_an_id_with_dashes_glued_to_a_file_name_is_masked():
    values = privacy.PersonalValues.from_values(["AB-123-XYZ"])
    out = mask_text("see ref_AB-123-XYZ.pdf and AB-123 alone", values)
    assert out == f"see ref_{mask_value('AB-123-XYZ')}.pdf and AB-123 alone"


_TAGS = ["p", "div", "span", "a", "img", "svg", "script", "style", "iframe", "table", "td",
         "tr", "h1", "details", "math", "template", "object", "form", "input", "textarea",
         "noscript", "image", "foreignObject", "use", "base", "link", "meta", "video"]
_ATTRS = st.sampled_from([
    ("onerror", "alert(1)"), ("onload", "x()"), ("ontoggle", "x()"), ("href", "javascript:x()"),
    ("href", "java\tscript:x()"), ("href", " JaVaScRiPt:x()"), ("href", "http://evil.example/"),
    ("href", "data:text/html,<script>x()</script>"), ("href", "#ok"), ("href", "views/x.html"),
    ("src", "http://evil.example/x.png"), ("src", "data:image/png;base64,AAAA"),
    ("src", "x"), ("xlink:href", "http://evil.example/"), ("style", "background:url(http://e/x)"),
    ("style", "color:red"), ("style", "b\\61 ckground:u\\72l(http://e/)"), ("srcdoc", "<script>"),
    ("formaction", "http://e/"), ("class", "jp-OutputArea-output"),
    ("data-mime-type", "image/svg+xml"), ("open", ""), ("id", "T_x")])


@st.composite
def _html(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 2)) if depth < 3 else 0
        if kind == 0:
            parts.append(draw(st.sampled_from(["text", "<", "&lt;", "C00000012", "x]]>",
                                               "<!--c-->", "<![CDATA[x]]>", "\x00"])))
        else:
            tag = draw(st.sampled_from(_TAGS))
            attrs = draw(st.lists(_ATTRS, max_size=3))
            a = "".join(f' {k}="{v}"' for k, v in attrs)
            parts.append(f"<{tag}{a}>{draw(_html(depth + 1))}</{tag}>")
    return " ".join(parts)


@settings(max_examples=300, deadline=None)
@given(body=_html(), page=st.booleans(), mask=st.booleans())
@example(body="<style>C00000012</style>", page=True, mask=True)  # found: a sheet's text
def test_any_markup_comes_out_inert(body, page, mask):
    """Property: whatever markup comes in (a fragment, or a page with a notebook output),
    nothing that runs or fetches comes out, and images are data images only."""
    html = (f'<html><body><div class="jp-OutputArea-output" data-mime-type="text/html">'
            f"{body}</div>{body}</body></html>") if page else body
    values = privacy.PersonalValues.from_values(VICTIM)
    out = sanitize_html(html, values=values, mask=mask)
    soup = BeautifulSoup(out, "html.parser")
    assert not soup.find_all(["script", "iframe", "object", "embed", "link", "svg", "form",
                              "base", "frame", "math", "template", "input",
                              "textarea", "video", "image", "use", "foreignobject"])
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")
                    or a.lower() in ("srcdoc", "formaction", "xlink:href")], tag
        href = re.sub(r"[\x00-\x20]", "", str(tag.get("href", "")))
        assert not href or href.startswith("#") or re.fullmatch(r"[\w\-./]+(#[\w\-.]*)?",
                                                                href), href
        if tag.get("src") is not None:
            assert str(tag["src"]).startswith("data:image/"), tag
        assert "url(http" not in str(tag.get("style", "")).replace(" ", ""), tag
    if mask:
        assert "C00000012" not in out
