"""PDFs of briefs through one persistent headless Chromium per process (cxlib.share.pdf).

The independent references: the old one-shot ``chromium --print-to-pdf
--no-pdf-header-footer`` command (``CX_PDF_ONESHOT=1``), whose page count the
persistent path must match; poppler's ``pdftotext`` for the printed text;
``psutil`` and ``/proc`` for which browser processes exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from cxlib.errors import CxError
from cxlib.share import export, pdf
from cxlib.share.sanitize import CSP

from .test_render import _chromium

pytestmark = pytest.mark.browser

TEXT = "Müşteri memnuniyeti özeti"


@pytest.fixture(autouse=True)
def _own_browser(monkeypatch):
    """Every test starts without a browser and leaves none behind."""
    monkeypatch.delenv("CX_PDF_ONESHOT", raising=False)
    pdf.close_browser()
    yield
    pdf.close_browser()


CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def _page(folder: Path, name: str = "brief", paragraphs: int = 60, extra: str = "",
          head: str = "", sanitised: bool = False) -> Path:
    """A self-contained page like a brief: text, a style, an inline image, several pages
    (``sanitised``: written by the page sanitiser, so it can fetch nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    dot = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
           "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    body = "".join(f"<p>Paragraf {i}: touchpoint satisfaction 4,{i:02d}</p>"
                   for i in range(paragraphs))
    page = folder / f"{name}.manager.html"
    html = (f"<!doctype html><html lang='tr'><head><meta charset='utf-8'>{head}"
            f"<title>{name} title</title><style>body{{font-family:sans-serif}}"
            f"h1{{background:#eef}}</style></head><body><h1>{TEXT}</h1>"
            f"<img src='{dot}' width='40' height='40'>{extra}{body}</body></html>")
    if sanitised:
        from cxlib.share.sanitize import sanitize_html

        html = sanitize_html(html)
    page.write_text(html, encoding="utf-8")
    return page


def _pages(data: bytes) -> int:
    """The page count of the page tree's root (the largest ``/Count``)."""
    return max(int(n) for n in re.findall(rb"/Count\s+(\d+)", data))


def _text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: cannot read the PDF's text")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _fake_browser(tmp_path: Path, body: str) -> Path:
    """An executable standing in for Chromium (``CX_CHROMIUM``)."""
    exe = tmp_path / "fake-chromium"
    exe.write_text(f"#!{sys.executable}\nimport os, sys, time\n"
                   f"with open({str(tmp_path / 'pids')!r}, 'a') as f:\n"
                   f"    f.write(f'{{os.getpid()}}\\n')\n" + textwrap.dedent(body),
                   encoding="utf-8")
    exe.chmod(0o755)
    return exe


def test_prints_the_page_without_header_or_footer_like_the_one_shot_path(tmp_path, monkeypatch):
    _chromium()
    page = _page(tmp_path)
    out = export.html_to_pdf(page, tmp_path / "persistent.pdf")
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and pdf.browser_pid() is not None
    text = _text(out)
    assert TEXT in text and "Paragraf 59" in text
    assert page.as_uri() not in text and "title" not in text  # no footer URL, no header title
    monkeypatch.setenv("CX_PDF_ONESHOT", "1")
    reference = export.html_to_pdf(page, tmp_path / "oneshot.pdf").read_bytes()
    assert _pages(data) == _pages(reference) > 1
    # control: with the header and footer on, the same checks see them
    monkeypatch.delenv("CX_PDF_ONESHOT")
    monkeypatch.setattr(pdf, "PRINT", {**pdf.PRINT, "displayHeaderFooter": True})
    framed = _text(export.html_to_pdf(page, tmp_path / "framed.pdf"))
    assert page.as_uri()[:30] in framed.replace("\n", "") and "brief title" in framed


def test_ten_pages_reuse_one_browser_and_beat_the_one_shot_path(tmp_path, monkeypatch):
    _chromium()
    pages = [_page(tmp_path / "in", f"p{i}", paragraphs=10) for i in range(10)]
    t0 = time.perf_counter()
    pids = set()
    for p in pages:
        export.html_to_pdf(p, tmp_path / f"{p.stem}.pdf")
        pids.add(pdf.browser_pid())
    persistent = time.perf_counter() - t0
    assert len(pids) == 1 and None not in pids
    assert all((tmp_path / f"{p.stem}.pdf").read_bytes()[:5] == b"%PDF-" for p in pages)
    monkeypatch.setenv("CX_PDF_ONESHOT", "1")
    t0 = time.perf_counter()
    for p in pages[:4]:  # the old path on 4 of the pages, scaled to 10 (a generous ratio guard)
        export.html_to_pdf(p, tmp_path / f"{p.stem}.oneshot.pdf")
    oneshot = (time.perf_counter() - t0) * 10 / 4
    assert persistent < oneshot, (persistent, oneshot)


def test_a_killed_browser_is_replaced_and_a_frozen_one_times_out_and_is_replaced(tmp_path):
    _chromium()
    page = _page(tmp_path, paragraphs=5)
    export.html_to_pdf(page, tmp_path / "a.pdf")
    first = pdf.browser_pid()
    kids = [c.pid for c in psutil.Process(first).children(recursive=True)]
    os.kill(first, signal.SIGKILL)
    out = export.html_to_pdf(page, tmp_path / "b.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"
    second = pdf.browser_pid()
    assert second not in (None, first)
    time.sleep(1)
    assert _alive([first, *kids]) == []  # the dead browser's renderers went with it
    os.kill(second, signal.SIGSTOP)  # alive but silent: the first attempt times out
    t0 = time.perf_counter()
    out = export.html_to_pdf(page, tmp_path / "c.pdf", timeout=12)
    assert out.read_bytes()[:5] == b"%PDF-"
    assert 6 <= time.perf_counter() - t0 < 12  # half of the budget waited, then a new browser
    assert pdf.browser_pid() not in (None, second) and _alive([second]) == []


def test_a_browser_that_never_answers_raises_within_the_timeout(tmp_path, monkeypatch):
    exe = _fake_browser(tmp_path, """
        try:
            while os.read(3, 65536):  # reads every command, answers none
                pass
        except OSError:  # the one-shot path has no pipe
            pass
        time.sleep(3600)
        """)
    monkeypatch.setenv("CX_CHROMIUM", str(exe))
    page = _page(tmp_path, paragraphs=1)
    t0 = time.perf_counter()
    with pytest.raises(CxError, match=r"persistent browser: no answer.*one-shot: timed out"):
        export.html_to_pdf(page, tmp_path / "x.pdf", timeout=3)
    assert time.perf_counter() - t0 < 3 + 2
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 3  # two persistent browsers, then the one-shot command
    time.sleep(0.5)
    assert _alive(pids) == []
    assert not (tmp_path / "x.pdf").exists()


def test_a_page_that_never_finishes_loading_raises_within_the_timeout(tmp_path):
    _chromium()
    with socket.socket() as server:  # accepts connections (backlog), never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        page = _page(tmp_path, paragraphs=1,
                     extra=f"<img src='http://127.0.0.1:{port}/never.png'>")
        t0 = time.perf_counter()
        with pytest.raises(CxError, match=r"no answer from Chromium \(loading"):
            export.html_to_pdf(page, tmp_path / "x.pdf", timeout=6)
        assert time.perf_counter() - t0 < 6 + 3


def test_when_the_persistent_path_fails_twice_the_one_shot_path_prints(tmp_path, monkeypatch):
    chrome = _chromium()
    exe = _fake_browser(tmp_path, f"""
        if "--remote-debugging-pipe" in sys.argv:
            sys.exit(3)  # dies at once: EOF on the pipe
        os.execv({chrome!r}, [{chrome!r}, *sys.argv[1:]])
        """)
    monkeypatch.setenv("CX_CHROMIUM", str(exe))
    page = _page(tmp_path, paragraphs=3)
    out = export.html_to_pdf(page, tmp_path / "x.pdf")
    assert out.read_bytes()[:5] == b"%PDF-" and TEXT in _text(out)
    assert len((tmp_path / "pids").read_text().split()) == 3


def test_cx_pdf_oneshot_forces_the_old_path(tmp_path, monkeypatch):
    _chromium()
    monkeypatch.setenv("CX_PDF_ONESHOT", "1")
    out = export.html_to_pdf(_page(tmp_path, paragraphs=3), tmp_path / "x.pdf")
    assert out.read_bytes()[:5] == b"%PDF-" and pdf.browser_pid() is None


def test_a_forked_child_starts_its_own_browser(tmp_path):
    _chromium()
    page = _page(tmp_path, paragraphs=3)
    export.html_to_pdf(page, tmp_path / "parent.pdf")
    parent_browser = pdf.browser_pid()
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            before = pdf.browser_pid()
            export.html_to_pdf(page, tmp_path / "child.pdf", timeout=60)
            report = {"before": before, "mine": pdf.browser_pid(),
                      "parent_alive": psutil.pid_exists(parent_browser)}
            pdf.close_browser()
            os.write(w, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        report = json.loads(f.read() or b"{}")
    os.waitpid(child, 0)
    assert report["before"] is None  # the parent's browser is not the child's
    assert report["mine"] not in (None, parent_browser) and report["parent_alive"]
    assert (tmp_path / "child.pdf").read_bytes()[:5] == b"%PDF-"
    assert _alive([report["mine"]]) == []
    export.html_to_pdf(page, tmp_path / "parent2.pdf")  # the parent's browser still serves it
    assert pdf.browser_pid() == parent_browser


@pytest.mark.parametrize("ending", ["exit", "os._exit", "kill -9", "kill -9, a fork lives on"])
def test_no_chromium_is_left_when_its_process_ends(tmp_path, ending):
    """Normal exit: atexit closes the browser. Killed: the pipe's EOF ends it, and when a
    forked child still holds the pipe open (a kernel), PR_SET_PDEATHSIG does."""
    _chromium()
    if ending.endswith("lives on") and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    page = _page(tmp_path, paragraphs=3)
    code = textwrap.dedent(f"""
        import json, os, sys, time, psutil
        from cxlib.share.export import html_to_pdf
        from cxlib.share.pdf import browser_pid
        html_to_pdf({str(page)!r}, {str(tmp_path / 'x.pdf')!r})
        pid = browser_pid()
        kids = [c.pid for c in psutil.Process(pid).children(recursive=True)]
        if {ending!r}.endswith("lives on") and os.fork() == 0:  # holds the pipe's ends
            time.sleep(30)
            os._exit(0)
        print(json.dumps([pid, *kids]), flush=True)
        if {ending!r} == "os._exit":
            os._exit(0)
        if {ending!r}.startswith("kill -9"):
            time.sleep(60)
        """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pids = json.loads(proc.stdout.readline())
    assert len(pids) > 1 and _alive(pids)
    sleeper = [c.pid for c in psutil.Process(proc.pid).children() if c.pid not in pids]
    if ending.startswith("kill -9"):
        proc.kill()
    proc.wait(30)
    proc.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(pids)
    for pid in sleeper:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert alive == []
    assert (tmp_path / "x.pdf").read_bytes()[:5] == b"%PDF-"
    # a profile left by an owner that could not clean up goes when the next browser starts
    export.html_to_pdf(page, tmp_path / "y.pdf")
    assert not list(Path(tempfile.gettempdir()).glob(f"cx-chromium-{proc.pid}-*"))


def test_one_tab_serves_every_page_and_each_pdf_is_what_a_fresh_tab_prints(
        tmp_path: Path) -> None:
    """Pages share the browser's one tab; printing B before A changes nothing of A's PDF
    (reference: A printed alone by a freshly started browser)."""
    _chromium()
    a = _page(tmp_path / "a", "a", paragraphs=30)
    b = _page(tmp_path / "b", "b", paragraphs=90,
              extra="<style>p{color:#a00;font-size:30px}</style><h2>only in B</h2>")
    alone = pdf.html_to_pdf(a, tmp_path / "alone.pdf").read_bytes()
    pdf.close_browser()
    pdf.html_to_pdf(b, tmp_path / "b.pdf")
    after_b = pdf.html_to_pdf(a, tmp_path / "after_b.pdf").read_bytes()
    undated = re.compile(rb"/(Creation|Mod)Date \(D:[^)]*\)")  # the second it was printed
    assert undated.sub(b"", after_b) == undated.sub(b"", alone)
    assert "only in B" not in _text(tmp_path / "after_b.pdf")


_UNDATED = re.compile(rb"/(Creation|Mod)Date \(D:[^)]*\)")  # the second it was printed


def _comparable(data: bytes) -> bytes:
    """A PDF without its dates, its tagged structure's node ids renumbered in order of
    appearance (Chromium numbers DOM nodes per renderer; same width, so offsets stay)."""
    seen: dict[bytes, bytes] = {}
    return re.sub(rb"node\d{8}", lambda m: seen.setdefault(m.group(), b"node%08d" % len(seen)),
                  _UNDATED.sub(b"", data))


def _spy(monkeypatch) -> list[str]:
    """The DevTools methods the browser is sent."""
    sent: list[str] = []
    real = pdf._Browser.send

    def send(self, method, params, session, deadline):
        sent.append(method)
        return real(self, method, params, session, deadline)

    monkeypatch.setattr(pdf._Browser, "send", send)
    return sent


def test_a_page_that_can_fetch_nothing_prints_from_memory_the_same_pdf(tmp_path, monkeypatch):
    """Reference: the same page printed by navigating to its file (the path every page
    took before); a table gives the PDF a tagged structure with node ids."""
    _chromium()
    table = ("<table><tr><th>Temas</th><th>Puan</th></tr>"
             "<tr><td>Mağaza</td><td>4,2</td></tr></table>")
    pages = [_page(tmp_path / "in", f"p{i}", paragraphs=20 * i + 5, sanitised=True,
                   extra=table * i) for i in range(3)]
    sent = _spy(monkeypatch)
    memory = [pdf.html_to_pdf(p, tmp_path / f"{p.stem}.mem.pdf").read_bytes() for p in pages]
    assert sent.count("Page.setDocumentContent") == 3 and "Page.navigate" not in sent
    monkeypatch.setattr(pdf, "_self_contained", lambda _src: None)  # force the navigation
    sent.clear()
    navigated = [pdf.html_to_pdf(p, tmp_path / f"{p.stem}.nav.pdf").read_bytes() for p in pages]
    assert sent.count("Page.navigate") == 3 and "Page.setDocumentContent" not in sent
    assert [_comparable(m) for m in memory] == [_comparable(n) for n in navigated]
    assert _pages(memory[2]) > 1 and TEXT in _text(tmp_path / "p2.manager.mem.pdf")


def test_a_page_that_may_fetch_is_printed_from_its_file(tmp_path, monkeypatch):
    _chromium()
    sent = _spy(monkeypatch)
    plain = _page(tmp_path / "plain", "plain", paragraphs=3)  # no policy: its address matters
    pdf.html_to_pdf(plain, tmp_path / "plain.pdf")
    # the policy counts only where the sanitiser writes it, before anything can fetch:
    # not after other head elements, not in the body, not in a comment
    late = _page(tmp_path / "late", "late", paragraphs=3, head="<title>x</title>" + CSP_META,
                 extra=CSP_META.replace("<", "&lt;") + CSP_META + f"<!-- {CSP_META} -->")
    pdf.html_to_pdf(late, tmp_path / "late.pdf")
    assert sent.count("Page.navigate") == 2 and "Page.setDocumentContent" not in sent
    # a page from memory right after navigated ones: the same tab, the same PDF
    clean = _page(tmp_path / "clean", "clean", paragraphs=40, sanitised=True)
    after = pdf.html_to_pdf(clean, tmp_path / "after.pdf").read_bytes()
    assert sent.count("Page.setDocumentContent") == 1
    pdf.close_browser()
    alone = pdf.html_to_pdf(clean, tmp_path / "alone.pdf").read_bytes()
    assert _comparable(after) == _comparable(alone)


def test_from_memory_nothing_of_one_page_reaches_the_next(tmp_path):
    """B (its own style, a heading, more pages) printed before A changes nothing of A
    (reference: A printed alone by a freshly started browser)."""
    _chromium()
    table = "<table><tr><th>a</th></tr><tr><td>1</td></tr></table>"
    a = _page(tmp_path / "a", "a", paragraphs=30, sanitised=True, extra=table)
    b = _page(tmp_path / "b", "b", paragraphs=90, sanitised=True,
              extra="<style>p{color:#a00;font-size:30px}</style><h2>only in B</h2>" + table)
    alone = pdf.html_to_pdf(a, tmp_path / "alone.pdf").read_bytes()
    pdf.close_browser()
    pdf.html_to_pdf(b, tmp_path / "b.pdf")
    after_b = pdf.html_to_pdf(a, tmp_path / "after_b.pdf").read_bytes()
    assert _comparable(after_b) == _comparable(alone)
    assert "only in B" not in _text(tmp_path / "after_b.pdf")
