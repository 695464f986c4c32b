"""Printing a brief to PDF through one headless Chromium per process.

:func:`html_to_pdf` prints a local page with headless Chromium (installed by
``scripts/install_test_deps.sh``; ``CX_CHROMIUM`` names another binary). The
pages fetch nothing and run nothing, so printing them offline is exact.
Chromium rather than an HTML-to-PDF library: the browser tests open the same
pages in the same engine, so what is printed is what was tested.

Starting a browser costs about half a second, more than printing a page, so
each process keeps one Chromium alive and prints over the DevTools protocol:

* The browser is started lazily on the first page with
  ``--remote-debugging-pipe``: it reads JSON commands, each ended by a NUL
  byte, on its fd 3 and writes replies and events on its fd 4. Two
  ``os.pipe()`` ends are moved onto fds 3 and 4 in the child before ``exec``.
  That is all the client needs (about 150 lines here): no websocket, no
  event loop, no dependency. Playwright or pyppeteer would bring a 40+ MB
  driver and an asyncio loop into every worker for the one command we send.
* Once per browser: ``Target.createTarget`` (about:blank),
  ``Target.attachToTarget`` (flat session), ``Page.enable``. Per page: a
  page that can fetch nothing (one that opens as the page sanitiser writes
  it, its Content-Security-Policy ``default-src 'none'`` first: every brief)
  replaces the tab's document in place, ``Page.setDocumentContent``, and its
  ``load`` event is awaited; a navigation cost Chromium twice the CPU (~78 ms
  against ~37 ms a brief, issue 17). Any other page: ``Page.navigate`` to its
  ``file://`` URL, wait for that navigation's ``load`` lifecycle event. Then
  ``Page.printToPDF`` with ``printBackground`` and ``preferCSSPageSize`` and
  no header or footer (what ``--print-to-pdf --no-pdf-header-footer`` gives),
  written with :func:`cxlib.io.write_bytes_atomic`. Every page replaces the tab's document
  (the pages run no scripts, so nothing of one reaches the next); a tab per
  page cost ~40% more CPU (a renderer process each). A failed page closes the
  tab; the next opens a new one.
* Every read and write waits with ``poll`` against a deadline: a hung browser
  raises :class:`~cxlib.errors.CxError` within ``timeout``, it never hangs the
  worker. A browser that died, closed its pipe or timed out is killed and a new
  one started; a page that fails twice on the persistent browser is printed by
  the old one-shot ``chromium --print-to-pdf`` command instead (the error says
  so when that fails too). Each persistent attempt may use half of the time
  left, so the one-shot fallback always keeps a quarter of ``timeout``.
  ``CX_PDF_ONESHOT=1`` always uses the one-shot path (so does any system that
  is not POSIX). Browsers run in a session of their own: one ``killpg`` ends
  a browser with its renderers.
* Nothing leaks: the browser has a profile of its own in a temporary folder,
  removed when it closes (or, if its owner was killed, when the next browser
  starts); :mod:`atexit` closes it, and so does a multiprocessing finalizer
  (a pool's worker ends without atexit); it exits by itself when its pipe
  closes (its owner died); and on Linux, started from the main thread, it gets
  ``PR_SET_PDEATHSIG`` (SIGKILL), so it dies with its owner even when a forked
  child still holds the pipe (the signal follows the starting thread, hence
  the main thread only). A forked child (the kernels of :mod:`cxlib.run.zygote`)
  never uses its parent's browser: the owner's pid is recorded and a child
  starts its own.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxlib.errors import CxError
from cxlib.io import write_bytes_atomic

__all__ = ["browser_pid", "chromium", "close_browser", "html_to_pdf", "start_browser"]

#: Flags of every headless Chromium started here (the one-shot path adds its own).
#: Headless Chromium still keeps the omnibox popup's WebUI pages in a renderer of
#: their own, which redrew on every printed page: a quarter of the CPU a brief's
#: PDF cost (38 -> 29 ms a page, the same PDF; issue 17). An unknown feature name
#: is ignored, so a Chromium that renames these only loses the saving.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-features=WebUIOmniboxPopup,OmniboxAimPopup")
#: ``Page.printToPDF`` parameters: the same PDF as ``--print-to-pdf --no-pdf-header-footer``.
PRINT = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}
_PR_SET_PDEATHSIG = 1


class _BrowserError(Exception):
    """The persistent browser failed this page (dead, silent, or an error reply)."""


def chromium() -> str | None:
    """The headless browser used for PDFs (``CX_CHROMIUM``, else chromium on PATH)."""
    env = os.environ.get("CX_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _pdeathsig() -> Callable[..., int] | None:
    """libc's ``prctl``, resolved in the parent (None where there is none)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def _child_setup(read_fd: int, write_fd: int, parent: int,
                 prctl: Callable[..., int] | None) -> None:  # pragma: no cover - in the child
    """In the forked child before exec: the pipe ends on fds 3 and 4, nothing else inherited."""
    os.dup2(read_fd, 3)
    os.dup2(write_fd, 4)  # read_fd, write_fd >= 10: dup2 never overwrites the other end
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        fd = int(name)
        if fd > 4:
            with contextlib.suppress(OSError):
                if os.get_inheritable(fd):
                    os.close(fd)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a browser started in a session of its own, with all its processes; reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _sweep_profiles() -> None:
    """Remove the profiles of browsers whose owner died without closing them (kill -9)."""
    for old in Path(tempfile.gettempdir()).glob("cx-chromium-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and old.is_dir() and old.stat().st_uid == os.getuid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass


class _Browser:
    """One headless Chromium on a DevTools pipe, owned by the process that started it."""

    def __init__(self, exe: str, prctl: Callable[..., int] | None) -> None:
        import fcntl  # POSIX only, as this whole path (html_to_pdf checks)

        self.owner = os.getpid()
        _sweep_profiles()
        self.tmp = tempfile.mkdtemp(prefix=f"cx-chromium-{self.owner}-")
        self.next_id = 0
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.target: str | None = None  # the one tab, opened by the first page
        self.session: str | None = None
        self.frame: str | None = None  # the tab's main frame
        to_child, self.to_browser = os.pipe()  # the browser reads fd 3
        self.from_browser, from_child = os.pipe()  # and writes fd 4
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)
        os.set_blocking(self.to_browser, False)
        cmd = [exe, *FLAGS, f"--user-data-dir={self.tmp}/profile",
               "--remote-debugging-pipe", "about:blank"]
        try:
            with open(Path(self.tmp) / "stderr.txt", "wb") as err:
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                    start_new_session=True,  # one kill ends its renderers too
                    close_fds=False,  # _child_setup sets fds 3, 4 and closes the rest
                    preexec_fn=lambda: _child_setup(ends[0], ends[1], self.owner, prctl))
        except (OSError, subprocess.SubprocessError) as exc:
            self.close(graceful=False)
            raise _BrowserError(f"could not start {exe}: {exc}") from exc
        finally:
            for fd in ends:
                os.close(fd)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        try:
            text = (Path(self.tmp) / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text.strip()[-300:]

    # ------------------------------------------------------------ the pipe
    def _wait(self, fd: int, event: int, deadline: float, what: str) -> None:
        poller = select.poll()
        poller.register(fd, event)
        while not poller.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            if time.monotonic() >= deadline:
                raise _BrowserError(f"no answer from Chromium ({what})")

    def send(self, method: str, params: dict[str, Any] | None, session: str | None,
             deadline: float) -> int:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            self._wait(self.to_browser, select.POLLOUT, deadline, method)
            try:
                data = data[os.write(self.to_browser, data):]
            except BlockingIOError:
                continue
            except OSError as exc:
                raise _BrowserError(f"Chromium closed its pipe ({method}): {exc}") from exc
        return self.next_id

    def receive(self, deadline: float, what: str) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            self._wait(self.from_browser, select.POLLIN, deadline, what)
            try:
                chunk = os.read(self.from_browser, 1 << 20)
            except OSError as exc:
                raise _BrowserError(f"Chromium's pipe failed ({what}): {exc}") from exc
            if not chunk:
                raise _BrowserError(f"Chromium exited ({what}): {self.stderr()}")
            self.buffer += chunk
        msg, self.buffer = self.buffer.split(b"\0", 1)
        try:
            out = json.loads(msg)
        except ValueError as exc:
            raise _BrowserError(f"Chromium said something that is not JSON ({what})") from exc
        if not isinstance(out, dict):
            raise _BrowserError(f"Chromium said something unexpected ({what})")
        return out

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             *, deadline: float) -> dict[str, Any]:
        """Send one command and return its result; events on the way are kept."""
        mid = self.send(method, params, session, deadline)
        while True:
            msg = self.receive(deadline, method)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise _BrowserError(f"{method}: {msg['error'].get('message', msg['error'])}")
                return msg.get("result", {})  # type: ignore[no-any-return]
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, match: Callable[[dict[str, Any]], bool], session: str, *,
                   deadline: float, what: str) -> None:
        """Wait for an event of the session for which ``match`` is true."""
        while True:
            for msg in self.events:
                if msg.get("sessionId") == session or msg.get("params", {}).get(
                        "sessionId") == session:
                    if match(msg):
                        return
                    if msg["method"] in ("Inspector.targetCrashed", "Target.detachedFromTarget"):
                        raise _BrowserError(f"the page's renderer went away ({msg['method']})")
            self.events.clear()
            msg = self.receive(deadline, what)
            if "method" in msg:
                self.events.append(msg)

    # ------------------------------------------------------------ a page
    def _tab(self, deadline: float) -> str:
        """The session of this browser's one tab, opened on first use."""
        if self.session is None:
            target = self.call("Target.createTarget", {"url": "about:blank"},
                               deadline=deadline)["targetId"]
            session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                deadline=deadline)["sessionId"]
            self.call("Page.enable", None, session, deadline=deadline)
            self.call("Page.setLifecycleEventsEnabled", {"enabled": True}, session,
                      deadline=deadline)
            tree = self.call("Page.getFrameTree", None, session, deadline=deadline)
            self.target, self.session = target, session
            self.frame = str(tree["frameTree"]["frame"]["id"])
        return self.session

    def _close_tab(self, deadline: float) -> None:
        target, self.target, self.session, self.frame = self.target, None, None, None
        if target is not None:
            with contextlib.suppress(_BrowserError, CxError):
                self.call("Target.closeTarget", {"targetId": target}, deadline=deadline)

    def print_page(self, url: str, deadline: float, html: str | None = None) -> bytes:
        """Print one page in the browser's tab.

        One tab serves every page: each page replaces the document, the pages
        run no scripts and fetch nothing, so nothing of one page reaches the
        next, and the PDF is what a fresh tab prints (tested). A tab opened per
        page cost a renderer process per page (~40% more CPU). With ``html``
        (a page that can fetch nothing, see :func:`html_to_pdf`) the document is
        replaced in place (``Page.setDocumentContent``) instead of navigating to
        ``url``: half of Chromium's CPU per page (~37 ms against ~78 ms for a
        brief), the same PDF. After any failure the tab is closed and the next
        page opens a new one.
        """
        self.events.clear()
        ok = False
        try:
            session = self._tab(deadline)
            if html is not None:
                self.call("Page.setDocumentContent", {"frameId": self.frame, "html": html},
                          session, deadline=deadline)
                self.wait_event(lambda m: m["method"] == "Page.loadEventFired", session,
                                deadline=deadline, what=f"loading {url}")
            else:
                nav = self.call("Page.navigate", {"url": url}, session, deadline=deadline)
                if nav.get("errorText"):
                    raise CxError(f"Chromium could not open {url}: {nav['errorText']}")
                self.wait_event(lambda m: m["method"] == "Page.lifecycleEvent"
                                and m["params"].get("name") == "load"
                                and m["params"].get("loaderId") == nav.get("loaderId"),
                                session, deadline=deadline, what=f"loading {url}")
            data = self.call("Page.printToPDF", PRINT, session, deadline=deadline)["data"]
            ok = True
        finally:
            self.events.clear()
            if not ok:
                self._close_tab(deadline)
        pdf = base64.b64decode(data)
        if not pdf.startswith(b"%PDF"):
            raise _BrowserError("Page.printToPDF returned something that is not a PDF")
        return pdf

    def close(self, graceful: bool = True) -> None:
        """End the browser (the owner only; a forked child just lets go) and its profile."""
        mine = os.getpid() == self.owner
        proc = getattr(self, "proc", None)
        if mine and proc is not None and proc.poll() is None:
            if graceful:
                with contextlib.suppress(_BrowserError):
                    self.send("Browser.close", None, None, time.monotonic() + 1)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(3)
            _kill_group(proc)
        for fd in (getattr(self, "to_browser", -1), getattr(self, "from_browser", -1)):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.to_browser = self.from_browser = -1
        if mine:
            shutil.rmtree(self.tmp, ignore_errors=True)


_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"browser": None, "atexit": None, "prctl": None}


def _after_fork() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # a lock held by another thread at fork would never be released


os.register_at_fork(after_in_child=_after_fork)


def _browser(exe: str) -> _Browser:
    """This process's browser: started on first use, again after a fork or a failure."""
    current: _Browser | None = _STATE["browser"]
    if current is not None and (current.owner != os.getpid() or current.proc.poll() is not None):
        current.close(graceful=False)  # a forked child lets go of its parent's browser
        current = None
    if current is None:
        if _STATE["atexit"] != os.getpid():  # once per process (a fork's registry may differ)
            from multiprocessing import util

            _STATE["prctl"] = _pdeathsig()
            atexit.register(close_browser)
            util.Finalize(None, close_browser, exitpriority=0)  # its children skip atexit
            _STATE["atexit"] = os.getpid()
        main = threading.current_thread() is threading.main_thread()
        current = _STATE["browser"] = _Browser(exe, _STATE["prctl"] if main else None)
    return current


def start_browser() -> int | None:
    """Start this process's browser now, without waiting for it to be ready; its pid.

    A worker calls this before its first report, so Chromium starts up (about a
    second of CPU) while the worker waits for its first kernel, not in the
    report's time. None when the one-shot path is in force or Chromium is missing.
    """
    exe = chromium()
    if exe is None or os.environ.get("CX_PDF_ONESHOT") == "1" or os.name != "posix":
        return None
    with _LOCK:
        try:
            return _browser(exe).pid
        except _BrowserError:
            return None  # html_to_pdf tries again, and says what failed


def close_browser() -> None:
    """Close this process's PDF browser, if it has one (run at exit)."""
    current: _Browser | None = _STATE["browser"]
    _STATE["browser"] = None
    if current is not None:
        current.close()


def browser_pid() -> int | None:
    """The pid of this process's PDF browser while it runs, else None."""
    current: _Browser | None = _STATE["browser"]
    if current is None or current.owner != os.getpid() or current.proc.poll() is not None:
        return None
    return current.pid


def _print_oneshot(exe: str, src: Path, timeout: float) -> bytes:
    """The old path: one ``chromium --print-to-pdf`` process for this page."""
    if timeout <= 0:
        raise CxError("no time left")
    with tempfile.TemporaryDirectory(prefix="cx-pdf-") as tmp:
        out = Path(tmp) / "out.pdf"
        cmd = [exe, *FLAGS, f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
               f"--print-to-pdf={out}", src.as_uri()]
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, errors="replace", start_new_session=True) as proc:
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                _kill_group(proc)  # its renderers too, or they hold stderr open
                raise CxError(f"timed out after {timeout:.1f}s") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise CxError(err.strip()[-300:] or f"exit status {proc.returncode}")
        return out.read_bytes()


def _self_contained(src: Path) -> str | None:
    """The page's text if it can fetch nothing, else None.

    That is a UTF-8 page that opens exactly as :func:`cxlib.share.sanitize.sanitize_html`
    writes a page: doctype, ``<html lang>``, ``<head>``, the charset, then its
    Content-Security-Policy (``default-src 'none'``) before anything else, so no
    element of the page can fetch. Such a page prints the same from memory as from
    its file URL (its address cannot matter), so it is printed without a navigation.
    """
    try:
        text = src.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if _sanitised_start().match(text) else None


@functools.cache
def _sanitised_start() -> re.Pattern[str]:
    from cxlib.share.sanitize import CSP  # here: the sanitiser's imports are not the PDF's

    return re.compile('<!DOCTYPE html>\n<html lang="[A-Za-z0-9-]{2,20}">\n<head>\n'
                      '<meta charset="utf-8">\n'
                      f'<meta http-equiv="Content-Security-Policy" content="{re.escape(CSP)}">\n')


def html_to_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
                timeout: float = 120) -> Path:
    """Print a local HTML page to PDF with headless Chromium; returns the PDF's path.

    The page is printed by this process's persistent browser (see the module
    docstring), or by a one-shot Chromium when that fails twice or
    ``CX_PDF_ONESHOT=1``.

    Parameters
    ----------
    html_path
        The page to print (a local file).
    pdf_path
        Where to write the PDF (atomically).
    timeout
        Seconds for the whole page, retries and fallback included.

    Raises
    ------
    cxlib.errors.CxError
        Chromium is missing, the page is missing, or printing failed or timed out.
    """
    exe = chromium()
    if exe is None:
        raise CxError("PDF export needs headless Chromium: install it "
                      "(scripts/install_test_deps.sh) or set CX_CHROMIUM")
    src, target = Path(html_path).resolve(), Path(pdf_path)
    if not src.is_file():
        raise CxError(f"printing {src.name} to PDF failed: no such page {src}")
    deadline = time.monotonic() + timeout
    html = _self_contained(src)
    problems: list[str] = []
    lock = _LOCK  # one page at a time per browser (threads of a Dask worker wait their turn)
    if (os.environ.get("CX_PDF_ONESHOT") != "1" and os.name == "posix"
            and lock.acquire(timeout=max(0.0, timeout / 2))):
        try:
            for _attempt in range(2):  # this process's browser, then a fresh one
                budget = min(deadline, time.monotonic() + (deadline - time.monotonic()) / 2)
                try:
                    printed = _browser(exe).print_page(src.as_uri(), budget, html)
                except (_BrowserError, KeyError, TypeError, ValueError) as exc:
                    problems.append(str(exc) if isinstance(exc, _BrowserError)
                                    else f"unexpected reply ({type(exc).__name__}: {exc})")
                    _kill_browser()
                else:
                    return write_bytes_atomic(target, printed)
        finally:
            lock.release()
    try:
        pdf = _print_oneshot(exe, src, deadline - time.monotonic())
    except CxError as exc:
        tried = f" (persistent browser: {'; '.join(problems)}; one-shot: {exc})" if problems \
            else f": {exc}"
        raise CxError(f"printing {src.name} to PDF failed{tried}") from exc
    return write_bytes_atomic(target, pdf)


def _kill_browser() -> None:
    """Kill this process's browser at once (after a failure), without a goodbye."""
    current: _Browser | None = _STATE["browser"]
    _STATE["browser"] = None
    if current is not None:
        current.close(graceful=False)
