"""Executed notebooks -> the managers' brief and the analysts' view; ``cx render``.

:func:`render_notebook` writes beside ``x.ipynb``:

``x.manager.html``  the manager brief (:mod:`cxlib.share.brief`): built from the
                    results file the notebook wrote and the figures it drew, the
                    answer first, no code; a banner instead of numbers when the
                    notebook failed or did not finish; personal data masked
                    (:mod:`cxlib.share.privacy`);
``x.manager.pdf``   the brief printed by headless Chromium (``pdf=True``,
                    :mod:`cxlib.share.export`);
``x.analyst.html``  the executed notebook with code and errors, unmasked, with
                    the methods appendix.

Both HTML pages are one mailable file (figures as data URIs), fetch nothing and
run nothing (:func:`cxlib.share.privacy.sanitize_html`). The dataset is opened
once per render (its catalog, currency, period and personal values), and the
notebook's parameters are read with the core parser :mod:`cxlib.nbparams`.

:func:`build_index` (:mod:`cxlib.share.dashboard`) writes the run's
``index.html``. :func:`main` is ``cx render NOTEBOOK.ipynb`` for analysts who
run papermill by hand.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from html import escape
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.errors import ParameterError
from cxlib.io import write_text_atomic
from cxlib.nbparams import executed_parameters
from cxlib.share import privacy
from cxlib.share.appendix import appendix_html, words
from cxlib.share.brief import (
    brief_html,
    build_brief,
    context_labels,
    dataset_facts,
    notebook_status,
    question_title,
)
from cxlib.share.dashboard import build_index, personal_values_for
from cxlib.share.results import results_path_for

__all__ = ["build_index", "main", "personal_kinds", "personal_values_for", "render_notebook",
           "warm_up"]

#: Output types kept in the analysts' view (others need JavaScript or are not for people).
_KEEP_MIMES = ("text/html", "text/markdown", "text/latex", "image/png", "image/jpeg",
               "image/gif", "image/svg+xml", "text/plain")
#: The style sheet pandas writes above every DataFrame's HTML (``<style scoped>``):
#: dropped, it only aligns headers; left in, the sanitiser would show it as text.
_PANDAS_STYLE = re.compile(r"<style scoped>.*?</style>", re.S)


def _write(path: Path, text: str) -> Path:
    return write_text_atomic(path, text)  # guarded: data/raw is read-only


def _prepare(nb: Any) -> Any:
    """A copy with only displayable outputs (SVG figures are cleaned by the sanitiser)
    and pandas' scoped style sheets removed."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result"):
                data = out.get("data", {})
                new = {k: v for k, v in data.items() if k in _KEEP_MIMES}
                html = new.get("text/html")
                if html:
                    html = "".join(html) if isinstance(html, list) else html
                    if 'class="dataframe"' in html:
                        new["text/html"] = _PANDAS_STYLE.sub("", html)
                if not new:
                    continue
                out["data"] = new
            kept.append(out)
        cell.outputs = kept
    return nb


def _privacy_note(values: privacy.PersonalValues | None, dataset: str | None,
                  problem: str | None, lang: str) -> str:
    """The privacy footer; the dataset named as the brief's header names it (issue 15:
    "örnek veri (sentetik)", not the folder name "sample"; a folder's name, not its path)."""
    if values is None:
        return i18n.t("privacy_note_patterns", lang).format(reason=problem or "—")
    name = context_labels({"dataset": str(dataset)}, lang=lang)["dataset"] if dataset else "—"
    return i18n.t("privacy_note_kinds", lang).format(
        n=i18n.format_number(len(values), lang, digits=0), dataset=name,
        kinds=personal_kinds(values.columns, lang))


#: What a personal column holds, by its name (``customers.email`` -> e-mails), in order.
_PERSONAL_KINDS = (("pk_customer_ids", re.compile(r"customer_?id")),
                   ("pk_emails", re.compile(r"e_?mail")),
                   ("pk_phones", re.compile(r"phone|msisdn|mobile|gsm")),
                   ("pk_addresses", re.compile(r"address|street")),
                   ("pk_ids", re.compile(r"(^|_)(id|fin|tckn|passport|national_id)$")),
                   ("pk_names", re.compile(r"name")))


def personal_kinds(columns: Any, lang: str) -> str:
    """The masked columns (``table.column`` ids) in words: "customer ids, names and e-mails"."""
    found = []
    for col in columns:
        name = str(col).rsplit(".", 1)[-1].lower()
        key = next((k for k, rx in _PERSONAL_KINDS if rx.search(name)), "pk_other")
        found.append(key)
    order = ("pk_customer_ids", "pk_ids", "pk_names", "pk_emails", "pk_phones", "pk_addresses",
             "pk_other")
    return words([i18n.t(k, lang) for k in order if k in found], lang)


def _as_is(html: Any) -> str:
    return html.decode() if isinstance(html, bytes) else str(html)


@functools.cache
def _exporter() -> Any:
    """One nbconvert exporter per process: a new one compiles its Jinja templates
    again (about 0.15 s, most of an analysts' page; issue 17).

    nbconvert's own ``clean_html`` (bleach over every highlighted code cell, half
    of the page's time) is left out: the whole page then goes through
    :func:`cxlib.share.sanitize.sanitize_html`, which is what makes it safe. So is
    the closing pass of ``HTMLExporter.from_notebook_node``, which parses the
    whole page with BeautifulSoup again (~9 ms of a ~40 ms render) to add
    ``tabindex`` (which the sanitiser drops) and an English ``alt`` to images
    (:func:`_analyst_page` gives them one in the reader's language)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class LabPage(HTMLExporter):  # type: ignore[misc]
        def from_notebook_node(self, nb: Any, resources: Any = None,
                               **kw: Any) -> tuple[str, Any]:
            # HTMLExporter.from_notebook_node (nbconvert 7.16) without its BeautifulSoup pass
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(  # type: ignore[no-any-return]
                self, nb, resources, **kw)

    return LabPage(template_name="lab", embed_images=True, filters={"clean_html": _as_is})


def warm_up(language: str = "en") -> None:
    """Build what every render needs once per process (the nbconvert exporter and the
    brief's templates, ~0.3 s), so a worker does it while it waits for its first
    kernel rather than in its first report's time."""
    from cxlib.share.appendix import env

    _exporter()
    for name in ("brief.html.j2", "appendix.html.j2"):
        env(language).get_template(name)


def _analyst_page(nb: Any, appendix: str, language: str = "en") -> str:
    body, _ = _exporter().from_notebook_node(nb)
    alt = escape(i18n.t("figure_no_alt", language), quote=True)
    # the figures only (nbconvert's image and SVG outputs): an <img> inside a displayed
    # HTML output is data, shown as text by the sanitiser, and left as it came
    body = _FIGURE_IMG.sub(lambda m: f'{m.group(1)}<img alt="{alt}"', body)
    return body.replace("</body>", appendix + "\n</body>", 1)


_FIGURE_IMG = re.compile(r'(<div class="jp-Rendered(?:Image|SVG) jp-OutputArea-output[^"]*"'
                         r'[^>]*>\s*)<img(?=\s)(?![^>]*\salt\s*=)')


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _find_results(src: Path, nb: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    """The results file of an executed notebook: beside it, else (a notebook run by
    hand, ``results_path=""``) the newest ``reports/interactive/<notebook>*`` one whose
    parameters are those the notebook ran with."""
    beside = results_path_for(src)
    if beside.exists():
        return _read_json(beside)
    from cxlib import config

    name = Path(str(nb.metadata.get("papermill", {}).get("input_path") or src)).stem
    folder = Path(config.REPORTS_DIR) / "interactive"
    best: tuple[float, dict[str, Any]] | None = None
    for cand in folder.glob(f"{name}*.results.json") if folder.is_dir() else []:
        data = _read_json(cand)
        if not data or data.get("notebook") != name:
            continue
        recorded = data.get("parameters") or {}
        if any(recorded[k] != v for k, v in params.items() if k in recorded):
            continue
        when = cand.stat().st_mtime
        if best is None or when > best[0]:
            best = (when, data)
    return best[1] if best else None


def render_notebook(ipynb_path: str | os.PathLike[str], *, language: str = "en",
                    dataset: str | None = None, status: str | None = None,
                    pdf: bool = False) -> dict[str, Path]:
    """Write the manager brief and the analysts' view of an executed notebook beside it.

    Parameters
    ----------
    ipynb_path
        The executed notebook; its results file (``x.results.json``) is read
        from beside it, else from ``reports/interactive/`` (a notebook run by
        hand with the default ``results_path``).
    language
        ``en``, ``tr`` or ``az``: everything the brief says, and the numbers.
    dataset
        Dataset whose personal values are masked in the brief; default: the
        notebook's ``dataset`` parameter (results file, else the parameters the
        notebook ran with).
    status
        The job's status when the caller knows it (``"failed"``, ``"timeout"``);
        otherwise read from the notebook (an error output, cells left pending).
    pdf
        Also print the brief to ``x.manager.pdf`` (headless Chromium).

    Returns ``{"manager": path, "analyst": path}`` (and ``"pdf"``).
    """
    import nbformat

    if language not in i18n.LANGUAGES:
        raise ParameterError(f"language must be one of {i18n.LANGUAGES}, not {language!r}")
    src = Path(ipynb_path)
    nb = nbformat.read(src, as_version=4)
    ran_with = executed_parameters(nb)
    results = _find_results(src, nb, ran_with)
    params = {**ran_with, **((results or {}).get("parameters") or {})}
    dataset = dataset or (str(params["dataset"]) if params.get("dataset") else None)
    facts = dataset_facts(dataset, params)
    values, problem = personal_values_for([dataset])
    stem = src.name.removesuffix(".ipynb")
    notebook = (results or {}).get("notebook") or re.sub(r"--.*$", "", stem)
    note = _privacy_note(values, dataset, problem, language)
    job_status = "ok" if not status or status == "ok" else (
        "incomplete" if status in ("timeout", "incomplete", "running") else "failed")
    problem = ""
    if job_status != "ok":
        problem = notebook_status(nb)[1] or (i18n.t(str(status), language)
                                             if i18n.has(str(status)) else "")
    brief = build_brief(results, notebook=notebook, nb=nb, catalog=facts["catalog"],
                        language=language, status=job_status, problem=problem,
                        currency=facts["currency"],
                        truth=facts["truth"],
                        appendix=appendix_html(results, language, note), params=params,
                        values=values)
    title = question_title(notebook, language)
    manager = privacy.sanitize_html(brief_html(brief), values=values, mask=True,
                                    language=language, title=title)
    analyst = privacy.sanitize_html(
        _analyst_page(_prepare(nb), appendix_html(results, language), language),
        language=language, title=f"{title} · {i18n.t('analysts_view', language)}")
    out = {"manager": _write(src.with_name(f"{stem}.manager.html"), manager),
           "analyst": _write(src.with_name(f"{stem}.analyst.html"), analyst)}
    if pdf:
        from cxlib.share.export import html_to_pdf

        out["pdf"] = html_to_pdf(out["manager"], src.with_name(f"{stem}.manager.pdf"))
    return out


def main(argv: list[str] | None = None) -> int:
    """``cx render NOTEBOOK.ipynb [--language tr] [--pdf]``: brief and views of one notebook."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="cx render", description="Render an executed notebook (papermill output) into "
        "its manager brief (x.manager.html, optionally PDF) and analysts' view.")
    ap.add_argument("notebooks", nargs="+", help="executed notebooks (.ipynb)")
    ap.add_argument("--language", default=None, choices=i18n.LANGUAGES,
                    help="language of the brief (default: the notebook's language parameter)")
    ap.add_argument("--dataset", default=None, help="dataset whose personal data to mask")
    ap.add_argument("--pdf", action="store_true", help="also print the brief to PDF")
    args = ap.parse_args(argv)
    for path in args.notebooks:
        p = Path(path)
        if p.suffix != ".ipynb" or not p.is_file():
            raise ParameterError(f"{path}: not an executed notebook (.ipynb); run it with "
                                 "papermill first")
        lang = args.language
        if lang is None:
            import nbformat

            lang = str(executed_parameters(nbformat.read(p, as_version=4)).get("language")
                       or "en")
            if lang not in i18n.LANGUAGES:
                lang = "en"
        out = render_notebook(p, language=lang, dataset=args.dataset, pdf=args.pdf)
        for kind, target in out.items():
            print(f"{kind}: {target}")
    return 0
