"""Executed notebooks -> standalone HTML for managers and analysts, and a run index.

:func:`render_notebook` writes two views beside ``x.ipynb``:

``x.manager.html``  no code, no tracebacks or stderr, figures and tables with
                    the Markdown explanations; personal data masked
                    (:mod:`cxlib.share.privacy`: the dataset's personal values, table
                    columns and rows, e-mail and phone patterns);
``x.analyst.html``  with code and errors, unmasked.

Both are one mailable file (figures as data URIs), fetch nothing and run
nothing (:func:`cxlib.share.privacy.sanitize_html`: an allow-list, with unsafe
markup in outputs shown as text, so a customer's comment stays readable), and
end with a methods appendix generated from the ``methods`` cxlib recorded in
the notebook's results file: grouped by step and method, with what the
entries have in common said once and what tells them apart (outcome, level,
n...) listed per use.

:func:`build_index` writes ``index.html`` for a run folder: every job with its
status (and a failed render), headline figures with interval, base, unit and
flag, links to both views, a digest of the significant moves (touchpoint,
segment, period, measure, direction, change), and a comparison with the
previous run of the same batch (the most recent earlier ``started`` in its
manifest): changes of the headline figures, moves that are new or gone, jobs
newly failing or working again. The index is masked like a managers' view.

Languages (``en``, ``tr``, ``az``): headings and labels (``messages.yml``),
touchpoint and stage names (the job's catalog), headline labels known by key
(``weakest_<stage>``, ``driver_<k>``, ``nps``, ``decision``...; otherwise
the notebook's own label), decisions, units, flags, method steps and names
(``phrases.yml``; unknown phrases stay in English), numbers and dates
(Babel). Tables and text the notebook itself printed stay as it printed them.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import os
import re
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.io import write_text_atomic
from cxlib.share import privacy
from cxlib.share.results import SUFFIX, results_path_for

__all__ = ["build_index", "personal_values_for", "render_notebook"]

TEMPLATES = Path(__file__).parent / "templates"
#: Output types kept in both views (others need JavaScript or are not for people).
_KEEP_MIMES = ("text/html", "text/markdown", "text/latex", "image/png", "image/jpeg",
               "image/gif", "text/plain")


def _env(lang: str) -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals.update(t=lambda k: i18n.t(k, lang), upper=lambda s: i18n.upper(s, lang))
    return env


def _write(path: Path, text: str) -> Path:
    return write_text_atomic(path, text)  # guarded: data/raw is read-only


# --------------------------------------------------------------------------- numbers

def _digits(v: float) -> int:
    a = abs(v)
    if a == 0 or (a >= 1 and float(v).is_integer()):
        return 0
    if a >= 10:
        return 1
    if a >= 0.001:
        return 3
    return min(8, 1 - math.floor(math.log10(a)))


def _fmt(v: Any, lang: str, *, trim: bool = False) -> str:
    """A value for people: numbers by Babel, booleans and known words translated.

    ``trim`` drops trailing zeros of decimals (0,05 rather than 0,050).
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return i18n.t("yes" if v else "no", lang)
    if isinstance(v, int):
        return i18n.format_number(v, lang, digits=0)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        return i18n.format_number(v, lang, digits=_digits(v), trim=trim)
    if isinstance(v, list | tuple):
        return "[" + "; ".join(_fmt(x, lang, trim=trim) for x in v) + "]"
    if isinstance(v, dict):
        return "; ".join(f"{i18n.phrase(str(k), lang)}: {_fmt(x, lang, trim=trim)}"
                         for k, x in v.items())
    s = str(v)
    return i18n.t(s, lang) if i18n.has(s) else i18n.phrase(s, lang)


def _signed(a: Any, b: Any, lang: str) -> str:
    """Change from ``a`` to ``b``: signed number, or = / ≠ for other values."""
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) \
            and not isinstance(b, bool) and math.isfinite(a) and math.isfinite(b):
        return i18n.format_signed(b - a, lang, digits=max(_digits(a), _digits(b)), trim=True)
    return "=" if a == b else "≠"


# --------------------------------------------------------------------------- context

def _catalog_for(params: dict[str, Any]) -> Any:
    """The touchpoint catalog a job used (its ``catalog``, else its dataset's), or None."""
    from cxlib.data.catalog import load_catalog

    name = params.get("catalog") or None
    try:
        if not name and params.get("dataset"):
            from cxlib.data import datasets

            name = datasets.load(params["dataset"]).catalog_name
        return load_catalog(name) if name else None
    except Exception:  # a report is still rendered, with ids instead of names
        return None


def _name(cat: Any, tp_id: Any, lang: str) -> str:
    if tp_id is None:
        return "—"
    if cat is not None:
        try:
            return str(cat.name(str(tp_id), lang))
        except Exception:
            pass
    return str(tp_id)


def _dataset_of(nb: Any, results: dict[str, Any] | None) -> str | None:
    """The ``dataset`` parameter of an executed notebook (results, papermill, defaults)."""
    params = (results or {}).get("parameters") or {}
    if params.get("dataset"):
        return str(params["dataset"])
    injected = nb.metadata.get("papermill", {}).get("parameters", {}) or {}
    if injected.get("dataset"):
        return str(injected["dataset"])
    for tag in ("injected-parameters", "parameters"):
        for cell in nb.cells:
            if cell.cell_type == "code" and tag in cell.metadata.get("tags", []):
                value = _literal(cell.source, "dataset")
                if value:
                    return value
    return None


def _literal(source: str, name: str) -> str | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) \
                and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def personal_values_for(datasets_: list[str | None]) -> tuple[privacy.PersonalValues | None,
                                                              str | None]:
    """Personal values of the named datasets, and why some could not be read."""
    values, problems = None, []
    for ds in dict.fromkeys(d for d in datasets_ if d):
        try:
            v = privacy.learn_dataset(ds)
        except Exception as exc:
            problems.append(f"{ds}: {type(exc).__name__}")
            warnings.warn(f"personal values of dataset {ds!r} not learned ({exc}); the "
                          "managers' view masks by column names and patterns only",
                          stacklevel=2)
            continue
        values = v if values is None else values | v
    if not datasets_ or not any(datasets_):
        problems.append("no dataset parameter")
    return values, "; ".join(problems) or None


# --------------------------------------------------------------------------- notebook

def _prepare(nb: Any, *, manager: bool, values: privacy.PersonalValues | None) -> Any:
    """A copy with only displayable outputs; SVG as checked images; for managers
    also without code, errors and stderr."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and manager:
            continue
        if cell.cell_type == "code":
            kept = []
            for out in cell.get("outputs", []):
                kind = out.get("output_type")
                if manager and (kind == "error" or (kind == "stream"
                                                    and out.get("name") == "stderr")):
                    continue
                if kind in ("display_data", "execute_result"):
                    data = out.get("data", {})
                    new = {k: v for k, v in data.items() if k in _KEEP_MIMES}
                    svg = data.get("image/svg+xml")
                    if svg:
                        svg = "".join(svg) if isinstance(svg, list) else svg
                        new["text/html"] = privacy.svg_to_img(svg, values, mask=manager)
                    if not new:
                        continue
                    out["data"] = new
                kept.append(out)
            cell.outputs = kept
            if manager:
                cell.source = ""
        cells.append(cell)
    nb.cells = cells
    return nb


def _appendix_groups(methods: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Methods grouped by step and method: shared details once, the rest per use."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in methods:
        key = (str(m.get("step", "")), str(m.get("method", "")))
        details = {k: v for k, v in m.items() if k not in ("step", "method") and v is not None}
        if details not in groups.setdefault(key, []):
            groups[key].append(details)
    out = []
    for (step, method), uses in groups.items():
        keys = list(dict.fromkeys(k for u in uses for k in u))
        common = [k for k in keys if all(k in u and u[k] == uses[0][k] for u in uses)]
        varying = [k for k in keys if k not in common]
        out.append({
            "step": i18n.phrase(step, lang), "method": i18n.phrase(method, lang),
            "common": [(i18n.phrase(k, lang), _fmt(uses[0][k], lang, trim=True))
                       for k in common],
            "variants": [[(i18n.phrase(k, lang), _fmt(u[k], lang, trim=True))
                          for k in varying if k in u]
                         for u in uses] if len(uses) > 1 else [],
        })
    return out


def _appendix(results: dict[str, Any] | None, lang: str, note: str | None = None) -> str:
    groups = _appendix_groups((results or {}).get("methods", []), lang)
    return _env(lang).get_template("appendix.html.j2").render(groups=groups, privacy_note=note)


def _privacy_note(values: privacy.PersonalValues | None, dataset: str | None,
                  problem: str | None, lang: str) -> str:
    if values is None:
        return i18n.t("privacy_note_patterns", lang).format(reason=problem or "—")
    cols = ", ".join(sorted(values.columns))
    name = Path(str(dataset)).name if dataset else "—"  # a folder's name, not its path
    return i18n.t("privacy_note", lang).format(
        n=i18n.format_number(len(values), lang, digits=0), dataset=name, columns=cols)


def _export(nb: Any, *, manager: bool, appendix: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=manager,
                            exclude_input_prompt=manager, exclude_output_prompt=manager,
                            embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    return body.replace("</body>", appendix + "\n</body>", 1)


def render_notebook(ipynb_path: str | os.PathLike[str], *, language: str = "en",
                    dataset: str | None = None) -> dict[str, Path]:
    """Write the managers' and analysts' views of an executed notebook beside it.

    Parameters
    ----------
    ipynb_path
        The executed notebook; its results file (``x.results.json``) is read
        from beside it for the methods appendix.
    language
        ``en``, ``tr`` or ``az`` for headings, labels and numbers.
    dataset
        Dataset whose personal values are masked in the managers' view;
        default: the notebook's ``dataset`` parameter (results file, papermill
        parameters, or the parameters cell's default).

    Returns ``{"manager": path, "analyst": path}``.
    """
    import nbformat

    i18n.t("report_title", language)  # checks the language
    src = Path(ipynb_path)
    nb = nbformat.read(src, as_version=4)
    res_path = results_path_for(src)
    results = json.loads(res_path.read_text(encoding="utf-8")) if res_path.exists() else None
    dataset = dataset or _dataset_of(nb, results)
    values, problem = personal_values_for([dataset])
    stem = src.name.removesuffix(".ipynb")
    title = f"{stem} · {i18n.t('report_title', language)}"
    manager = _export(_prepare(nb, manager=True, values=values), manager=True,
                      appendix=_appendix(results, language,
                                         _privacy_note(values, dataset, problem, language)))
    manager = privacy.sanitize_html(manager, values=values, mask=True, lang=language,
                                    title=f"{title} · {i18n.t('managers_view', language)}")
    analyst = _export(_prepare(nb, manager=False, values=values), manager=False,
                      appendix=_appendix(results, language))
    analyst = privacy.sanitize_html(analyst, lang=language,
                                    title=f"{title} · {i18n.t('analysts_view', language)}")
    return {"manager": _write(src.with_name(f"{stem}.manager.html"), manager),
            "analyst": _write(src.with_name(f"{stem}.analyst.html"), analyst)}


# --------------------------------------------------------------------------- index

_SIMPLE_LABELS = {"nps", "significant_moves", "decision", "n_touchpoints", "n_blind_spots",
                  "n_respondents", "r2", "fix_first", "pretrend_p", "net", "p_net_positive",
                  "roi", "payback_periods"}


def _label(h: dict[str, Any], res: dict[str, Any], cat: Any, lang: str) -> str:
    """A headline's label in ``lang``, known by its key; else the notebook's label."""
    key, own = str(h.get("key", "")), str(h.get("label") or h.get("key", ""))
    if lang == "en":
        return own
    params = res.get("parameters") or {}
    m = re.fullmatch(r"weakest_(\w+)", key)
    if m:
        return i18n.t("hl_weakest", lang).format(stage=_name(cat, m.group(1), lang))
    m = re.fullmatch(r"driver_(\d+)", key)
    if m:
        return i18n.t("hl_driver", lang).format(
            rank=m.group(1), name=_name(cat, h.get("touchpoint_id"), lang))
    if key in _SIMPLE_LABELS:
        return i18n.t(f"hl_{key}", lang)
    if key == "n_low_base":
        base = params.get("min_base")
        if base is None:
            found = re.search(r"(\d+)", own)
            base = int(found.group(1)) if found else "?"
        return i18n.t("hl_n_low_base", lang).format(min_base=_fmt(base, lang))
    if key == "margin_per_point":
        rows = (res.get("tables") or {}).get("margin_per_point") or []
        driver = h.get("touchpoint_id") or (rows[0].get("driver") if rows else None)
        if driver is not None:
            return i18n.t("hl_margin_per_point", lang).format(name=_name(cat, driver, lang))
    if key == "att":
        found = re.fullmatch(r"Effect of (.+) on (\w+) per unit-period", own)
        innovation = found.group(1) if found else params.get("innovation_id", "")
        outcome = params.get("outcome") or (found.group(2) if found else "")
        return i18n.t("hl_att", lang).format(innovation=innovation,
                                             outcome=i18n.phrase(str(outcome), lang))
    return i18n.phrase(own, lang)


def _value(h: dict[str, Any], cat: Any, lang: str) -> str:
    v = h.get("value")
    if isinstance(v, str):
        if v == "none":
            return i18n.t("none", lang)
        if cat is not None and v in cat:
            return _name(cat, v, lang)
    return _fmt(v, lang, trim=True)


def _headlines(res: dict[str, Any] | None, cat: Any, lang: str) -> list[dict[str, Any]]:
    out = []
    for h in (res or {}).get("headlines", []):
        ci = ""
        if h.get("ci_low") is not None and h.get("ci_high") is not None:
            ci = f"{_fmt(h['ci_low'], lang, trim=True)}; {_fmt(h['ci_high'], lang, trim=True)}"
        flag = h.get("flag")
        out.append({"key": h["key"], "label": _label(h, res or {}, cat, lang),
                    "value": _value(h, cat, lang), "raw": h.get("value"), "ci": ci,
                    "n": _fmt(h.get("n"), lang) if h.get("n") is not None else "",
                    "unit": i18n.phrase(str(h["unit"]), lang) if h.get("unit") else "",
                    "flag": _fmt(flag, lang) if flag else ""})
    return out


def _move_key(job: str, m: dict[str, Any]) -> tuple[Any, ...]:
    return (job, m.get("touchpoint_id"), m.get("segment_column"), m.get("segment"),
            m.get("metric"), m.get("statistic"), m.get("direction"))


def _moves(job: str, res: dict[str, Any] | None, cat: Any, lang: str) -> list[dict[str, Any]]:
    rows, seen = [], set()
    for m in (res or {}).get("moves", []):
        key = (*_move_key(job, m), m.get("period"), m.get("previous_period"))
        if key in seen:
            continue
        seen.add(key)
        seg = m.get("segment")
        col = m.get("segment_column")
        period = m.get("period")
        prev = m.get("previous_period")
        measure = " ".join(i18n.phrase(str(x), lang) for x in (m.get("metric"),
                                                                m.get("statistic")) if x)
        direction = str(m.get("direction") or "")
        rows.append({
            "key": _move_key(job, m), "job": job,
            "touchpoint": _name(cat, m.get("touchpoint_id"), lang),
            "segment": f"{col}: {seg}" if seg not in (None, "") and col else (
                str(seg) if seg not in (None, "") else "—"),
            "period": (f"{prev} → {period}" if prev and period else str(period or "—")),
            "measure": measure or "—", "direction": direction,
            "arrow": {"up": "▲", "down": "▼"}.get(direction, ""),
            "delta": _signed(0, m["delta"], lang) if isinstance(m.get("delta"), int | float)
            else "", "new": False})
    return rows


def _load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any] | None]]:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    res: dict[str, dict[str, Any] | None] = {}
    for job in manifest.get("jobs", []):
        name = (job.get("outputs") or {}).get("results", f"{job['job_id']}{SUFFIX}")
        p = run_dir / name
        try:
            res[job["job_id"]] = json.loads(p.read_text(encoding="utf-8")) if p.exists() \
                else None
        except (OSError, ValueError):
            res[job["job_id"]] = None
    return manifest, res


def _started(manifest: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(manifest.get("started")))
    except (TypeError, ValueError):
        return None


def _previous_run(run_dir: Path, manifest: dict[str, Any]) -> Path | None:
    """The most recent earlier run of the same batch, by the manifests' ``started``."""
    now = _started(manifest)
    if now is None:
        return None
    best: tuple[datetime, Path] | None = None
    for d in run_dir.parent.iterdir():
        if d == run_dir or not d.is_dir() or d.name.startswith("."):
            continue
        try:
            other = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        when = _started(other)
        if when is None or other.get("batch") != manifest.get("batch"):
            continue
        try:
            earlier = when < now
        except TypeError:  # naive vs aware timestamps
            continue
        if earlier and (best is None or when > best[0]):
            best = (when, d)
    return best[1] if best else None


def _status(job: dict[str, Any], lang: str) -> dict[str, str]:
    err = job.get("error") or {}
    status = str(job.get("status", "failed"))
    detail = ""
    if err:
        kind = err.get("type") or err.get("kind") or ""
        msg = str(err.get("message") or "").strip().splitlines()
        detail = f"{kind}: {msg[0][:200]}" if msg else str(kind)
    render = str(job.get("render_error") or "")
    return {"status": status, "status_text": i18n.t(status, lang) if i18n.has(status)
            else status, "detail": detail,
            "render_error": render.splitlines()[0][:300] if render else ""}


def build_index(run_dir: str | os.PathLike[str], *, previous_run_dir: str | os.PathLike[str]
                | None = None, language: str = "en") -> Path:
    """Write ``index.html`` for a run folder (reads manifest.json and results files)."""
    run = Path(run_dir)
    manifest, results = _load_run(run)
    params_of = {j["job_id"]: {**(j.get("parameters") or {}),
                               **((results.get(j["job_id"]) or {}).get("parameters") or {})}
                 for j in manifest.get("jobs", [])}
    cats = {job: _catalog_for(p) for job, p in params_of.items()}
    jobs, moves = [], []
    for job in manifest.get("jobs", []):
        jid = job["job_id"]
        outs = job.get("outputs") or {}
        jobs.append({"job_id": jid, **_status(job, language),
                     "headlines": _headlines(results.get(jid), cats[jid], language),
                     "manager": outs.get("manager_html"), "analyst": outs.get("analyst_html")})
        moves += _moves(jid, results.get(jid), cats[jid], language)
    prev_dir = Path(previous_run_dir) if previous_run_dir else _previous_run(run, manifest)
    previous = None
    if prev_dir is not None and (prev_dir / "manifest.json").exists():
        pman, pres = _load_run(prev_dir)
        old_moves = []
        for job in pman.get("jobs", []):
            jid = job["job_id"]
            old_moves += _moves(jid, pres.get(jid), cats.get(jid) or _catalog_for(
                (pres.get(jid) or {}).get("parameters") or {}), language)
        old_keys = {m["key"] for m in old_moves}
        new_keys = {m["key"] for m in moves}
        for m in moves:
            m["new"] = m["key"] not in old_keys
        rows = []
        for job in manifest.get("jobs", []):
            jid = job["job_id"]
            cur = _headlines(results.get(jid), cats[jid], language)
            old = {h["key"]: h for h in _headlines(pres.get(jid), cats[jid], language)}
            for h in cur:
                if h["key"] in old:
                    rows.append({"job": jid, "label": h["label"], "unit": h["unit"],
                                 "previous": old[h["key"]]["value"], "current": h["value"],
                                 "change": _signed(old[h["key"]]["raw"], h["raw"], language)})
        was = {j["job_id"]: j.get("status") for j in pman.get("jobs", [])}
        previous = {
            "run_id": pman.get("run_id") or prev_dir.name,
            "started": _date(pman, language), "rows": rows,
            "new_moves": [m for m in moves if m["new"]],
            "gone_moves": [m for m in old_moves if m["key"] not in new_keys],
            "newly_failing": [j["job_id"] for j in manifest.get("jobs", [])
                              if j.get("status") != "ok" and was.get(j["job_id"]) == "ok"],
            "newly_ok": [j["job_id"] for j in manifest.get("jobs", [])
                         if j.get("status") == "ok" and j["job_id"] in was
                         and was[j["job_id"]] != "ok"]}
    values, _ = personal_values_for([p.get("dataset") for p in params_of.values()])
    html = _env(language).get_template("index.html.j2").render(
        manifest=manifest, jobs=jobs, moves=moves, previous=previous, lang=language,
        started=_date(manifest, language))
    title = f"{i18n.t('run_index', language)}: {manifest.get('batch', '')} " \
            f"{manifest.get('run_id', '')}"
    return _write(run / "index.html", privacy.sanitize_html(html, values=values, mask=True,
                                                            lang=language, title=title))


def _date(manifest: dict[str, Any], lang: str) -> str:
    when = _started(manifest)
    return i18n.format_date(when.date(), lang) if when else ""
