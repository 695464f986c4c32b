"""Executed notebooks -> standalone HTML for managers and analysts, and a run index.

:func:`render_notebook` writes two views beside ``x.ipynb``:

``x.manager.html``  no code, no tracebacks or stderr, figures and tables with
                    the Markdown explanations; personal data masked
                    (:mod:`cxlib.privacy`);
``x.analyst.html``  with code and errors, unmasked.

Both embed figures as data URIs, fetch nothing, run no script (every page is
sanitised), and end with a methods appendix generated from the ``methods``
that cxlib recorded in the notebook's results file. :func:`build_index` writes
``index.html`` for a run folder: every job with status, headline figures and
links, a digest of significant moves, and a comparison with the previous run.
Labels, numbers and dates follow the ``language`` (en, tr, az).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.privacy import mask_html, sanitize_html
from cxlib.results import SUFFIX, results_path_for

__all__ = ["build_index", "render_notebook"]

TEMPLATES = Path(__file__).parent / "templates"


def _env(lang: str) -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals.update(t=lambda k: i18n.t(k, lang), upper=lambda s: i18n.upper(s, lang))
    return env


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _manager_notebook(nb: Any) -> Any:
    """Copy without errors, stderr and scripts; personal data masked in outputs."""
    from cxlib.privacy import _mask_text

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _mask_text(cell.source)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error" or (kind == "stream" and out.get("name") == "stderr"):
                continue
            if kind == "stream":
                out["text"] = _mask_text(out.get("text", ""))
            data = out.get("data", {})
            for key in ("application/javascript", "text/javascript"):
                data.pop(key, None)
            if "text/html" in data:
                html = data["text/html"]
                data["text/html"] = mask_html("".join(html) if isinstance(html, list) else html)
            if "text/plain" in data:
                txt = data["text/plain"]
                data["text/plain"] = _mask_text("".join(txt) if isinstance(txt, list) else txt)
            kept.append(out)
        cell.outputs = kept
    return nb


def _appendix(results: dict[str, Any] | None, lang: str) -> str:
    methods = []
    for m in (results or {}).get("methods", []):
        details = [(k, v) for k, v in m.items() if k not in ("step", "method") and v is not None]
        methods.append({"step": m.get("step"), "method": m.get("method"), "details": details})
    return _env(lang).get_template("appendix.html.j2").render(methods=methods)


def _export(nb: Any, *, exclude_input: bool, title: str, appendix: str, lang: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=exclude_input,
                            exclude_input_prompt=exclude_input,
                            exclude_output_prompt=exclude_input, embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = body.replace("</body>", appendix + "\n</body>", 1)
    body = body.replace('<html lang="en"', f'<html lang="{lang}"', 1)
    return sanitize_html(body)


def render_notebook(ipynb_path: str | os.PathLike[str], *, language: str = "en") -> dict[str, Path]:
    """Write the managers' and analysts' views of an executed notebook beside it.

    Returns ``{"manager": path, "analyst": path}``.
    """
    import nbformat

    src = Path(ipynb_path)
    nb = nbformat.read(src, as_version=4)
    res_path = results_path_for(src)
    results = json.loads(res_path.read_text(encoding="utf-8")) if res_path.exists() else None
    appendix = _appendix(results, language)
    stem = src.name.removesuffix(".ipynb")
    title = f"{stem} · {i18n.t('report_title', language)}"
    manager = _export(_manager_notebook(nb), exclude_input=True,
                      title=f"{title} · {i18n.t('managers_view', language)}",
                      appendix=mask_html(appendix), lang=language)
    analyst = _export(nb, exclude_input=False,
                      title=f"{title} · {i18n.t('analysts_view', language)}",
                      appendix=appendix, lang=language)
    return {"manager": _write(src.with_name(f"{stem}.manager.html"), manager),
            "analyst": _write(src.with_name(f"{stem}.analyst.html"), analyst)}


def _fmt(v: Any, lang: str) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, int):
        return i18n.format_number(v, lang, digits=0)
    if isinstance(v, float):
        return i18n.format_number(v, lang, digits=3 if abs(v) < 10 else 1)
    return str(v)


def _headlines(results: dict[str, Any] | None, lang: str) -> list[dict[str, str]]:
    out = []
    for h in (results or {}).get("headlines", []):
        ci = ""
        if h.get("ci_low") is not None and h.get("ci_high") is not None:
            ci = f"{_fmt(h['ci_low'], lang)}; {_fmt(h['ci_high'], lang)}"
        out.append({"key": h["key"], "label": h.get("label") or h["key"],
                    "value": _fmt(h.get("value"), lang), "raw": h.get("value"), "ci": ci,
                    "n": _fmt(h.get("n"), lang) if h.get("n") is not None else ""})
    return out


def _load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any] | None]]:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    res = {}
    for job in manifest.get("jobs", []):
        p = run_dir / job.get("outputs", {}).get("results", f"{job['job_id']}{SUFFIX}")
        res[job["job_id"]] = json.loads(p.read_text(encoding="utf-8")) if p.exists() else None
    return manifest, res


def _previous_run(run_dir: Path) -> Path | None:
    earlier = sorted(p for p in run_dir.parent.iterdir()
                     if p.is_dir() and p.name < run_dir.name and (p / "manifest.json").exists()
                     and not p.name.startswith("."))
    return earlier[-1] if earlier else None


def build_index(run_dir: str | os.PathLike[str], *, previous_run_dir: str | os.PathLike[str]
                | None = None, language: str = "en") -> Path:
    """Write ``index.html`` for a run folder (reads manifest.json and results files)."""
    run = Path(run_dir)
    manifest, results = _load_run(run)
    jobs, moves = [], []
    for job in manifest.get("jobs", []):
        outs = job.get("outputs", {})
        err = job.get("error") or {}
        jobs.append({"job_id": job["job_id"], "status": job.get("status", "failed"),
                     "error": err.get("type", "") if err else "",
                     "headlines": _headlines(results.get(job["job_id"]), language),
                     "manager": outs.get("manager_html"), "analyst": outs.get("analyst_html")})
        for m in (results.get(job["job_id"]) or {}).get("moves", []):
            moves.append({"job": job["job_id"], "touchpoint": m.get("touchpoint_id"),
                          "segment": f"{m.get('segment_column') or ''} {m.get('segment') or ''}"
                          .strip() or "—", "direction": m.get("direction", ""),
                          "delta": _fmt(m.get("delta"), language)})
    prev_dir = Path(previous_run_dir) if previous_run_dir else _previous_run(run)
    previous = None
    if prev_dir is not None and (prev_dir / "manifest.json").exists():
        pman, pres = _load_run(prev_dir)
        rows = []
        for job in manifest.get("jobs", []):
            cur = {h["key"]: h for h in _headlines(results.get(job["job_id"]), language)}
            old = {h["key"]: h for h in _headlines(pres.get(job["job_id"]), language)}
            for key, h in cur.items():
                if key in old:
                    a, b = old[key]["raw"], h["raw"]
                    change = (_fmt(b - a, language) if isinstance(a, int | float)
                              and isinstance(b, int | float) and not isinstance(a, bool)
                              else ("=" if a == b else "≠"))
                    rows.append({"job": job["job_id"], "label": h["label"],
                                 "previous": old[key]["value"], "current": h["value"],
                                 "change": change})
        was_ok = {j["job_id"] for j in pman.get("jobs", []) if j.get("status") == "ok"}
        newly = [j["job_id"] for j in manifest.get("jobs", [])
                 if j.get("status") != "ok" and j["job_id"] in was_ok]
        previous = {"run_id": pman.get("run_id"), "rows": rows, "newly_failing": newly}
    started = manifest.get("started", "")
    html = _env(language).get_template("index.html.j2").render(
        manifest=manifest, jobs=jobs, moves=moves, previous=previous, lang=language,
        started=i18n.format_date(started, language) if started else "")
    return _write(run / "index.html", sanitize_html(html))
