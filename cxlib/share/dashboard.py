"""The run index as a dashboard: one row per report, the same KPIs as the briefs.

:func:`build_index` writes ``index.html`` for a run folder (it reads
``manifest.json`` and the results files):

* **At a glance**: one section per notebook (its question), one row per job
  named in words (segment and period, not the job id), the headline KPIs side
  by side (:func:`cxlib.share.brief.kpis`: the very numbers and formats of the
  briefs), status, and links to the brief, its PDF and the analysts' view; on a
  phone each row becomes a card;
* **Significant changes**: the moves of every job once (a move found both in
  the all-customers report, as a segment's period move, and in that segment's
  own report is listed once), touchpoints by catalog name;
* **Since the previous run** (the most recent earlier ``started`` of the same
  batch): moves that are new or gone and headline figures that changed, or
  "no significant change since the previous run"; jobs newly failing or
  working again.

The page is masked like a managers' view (:func:`cxlib.share.privacy.sanitize_html`).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.io import write_text_atomic
from cxlib.share import formats, privacy
from cxlib.share.appendix import env
from cxlib.share.brief import context_labels, dataset_facts, kpis, question_title, word
from cxlib.share.results import SUFFIX
from cxlib.share.tables import move_change, move_period, move_segment

__all__ = ["build_index", "catalog_for", "facts_for", "job_context", "load_run",
           "personal_values_for", "previous_run"]


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any] | None]]:
    """A run's manifest and each job's results (None when missing or unreadable)."""
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    res: dict[str, dict[str, Any] | None] = {}
    for job in manifest.get("jobs", []):
        name = (job.get("outputs") or {}).get("results", f"{job['job_id']}{SUFFIX}")
        p = run_dir / Path(str(name)).name
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


def previous_run(run_dir: Path, manifest: dict[str, Any]) -> Path | None:
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


def facts_for(params: dict[str, Any], cache: dict[Any, Any]) -> dict[str, Any]:
    """:func:`cxlib.share.brief.dataset_facts` of a job, opened once per dataset and catalog."""
    key = (params.get("dataset"), params.get("catalog"), params.get("currency"))
    if key not in cache:
        cache[key] = dataset_facts(str(params["dataset"]) if params.get("dataset") else None,
                                   params)
    return cache[key]


def catalog_for(params: dict[str, Any], cache: dict[Any, Any]) -> Any:
    """The job's catalog (its ``catalog``, else its dataset's), or None."""
    return facts_for(params, cache)["catalog"]


def job_context(job: dict[str, Any], results: dict[str, Any] | None, lang: str,
                cache: dict[Any, Any] | None = None) -> dict[str, str]:
    """A job's notebook question, segment and period in words (as its brief says them)."""
    params = {**(job.get("parameters") or {}), **((results or {}).get("parameters") or {})}
    nb = (results or {}).get("notebook") or Path(str(job.get("notebook", ""))).stem
    truth = facts_for(params, cache if cache is not None else {})["truth"]
    return {"title": question_title(str(nb), lang), "notebook": str(nb),
            **context_labels(params, lang=lang, truth=truth,
                             moves=(results or {}).get("moves"))}


def _move_rows(job: dict[str, Any], res: dict[str, Any] | None, cat: Any, lang: str
               ) -> list[dict[str, Any]]:
    """A job's moves; the job's own filter counts as the move's segment."""
    params = {**(job.get("parameters") or {}), **((res or {}).get("parameters") or {})}
    out = []
    for m in (res or {}).get("moves", []):
        col, seg, seg_text = move_segment(m, params, lang)
        key = (m.get("touchpoint_id"), col, seg, m.get("metric"), m.get("statistic"),
               m.get("direction"))
        prev, per = m.get("previous_period"), m.get("period")
        try:
            name = str(cat.name(str(m.get("touchpoint_id")), lang)) if cat is not None \
                else str(m.get("touchpoint_id"))
        except Exception:
            name = str(m.get("touchpoint_id"))
        direction = str(m.get("direction") or "")
        out.append({
            "key": key, "full_key": (*key, per, prev), "job": job["job_id"],
            "touchpoint": name,
            "segment": seg_text,
            "period": move_period(m, seg, lang),
            "measure": " · ".join(word(x, lang) for x in (
                m.get("metric"), m.get("statistic")) if x) or "—",
            "direction": direction, "arrow": {"up": "▲", "down": "▼"}.get(direction, ""),
            "delta": move_change(m, lang),
            "q": m.get("q_value"), "new": False})
    return out


def _dedupe(moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for m in moves:
        if m["full_key"] in seen:
            continue
        seen.add(m["full_key"])
        out.append(m)
    return out


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


def _date(manifest: dict[str, Any], lang: str) -> str:
    when = _started(manifest)
    return i18n.format_date(when.date(), lang) if when else ""


def build_index(run_dir: str | os.PathLike[str], *, previous_run_dir: str | os.PathLike[str]
                | None = None, language: str = "en", exports: bool = True,
                pdf: bool = True) -> Path:
    """Write ``index.html`` for a run folder (see the module docstring); returns its path.

    With ``exports`` (the default) also the run's exports
    (:func:`cxlib.share.export.export_run`: a PDF of each brief when Chromium is
    installed and ``pdf``, ``tables.xlsx``) and, after the index, ``<run>.zip``.
    """
    lang = language
    run = Path(run_dir).resolve()
    if exports:
        from cxlib.share import export

        export.export_run(run, language=lang, pdf=pdf)
    manifest, results = load_run(run)
    jobs_list = manifest.get("jobs", [])
    params_of = {j["job_id"]: {**(j.get("parameters") or {}),
                               **((results.get(j["job_id"]) or {}).get("parameters") or {})}
                 for j in jobs_list}
    cache: dict[Any, Any] = {}
    cats = {jid: catalog_for(p, cache) for jid, p in params_of.items()}
    groups: dict[str, dict[str, Any]] = {}
    moves: list[dict[str, Any]] = []
    for job in jobs_list:
        jid = job["job_id"]
        res = results.get(jid)
        ctx = job_context(job, res, lang, cache)
        # money in the job's currency, as its brief shows it (one formatter)
        tiles = kpis(res, catalog=cats[jid], language=lang,
                     currency=facts_for(params_of[jid], cache)["currency"]) \
            if job.get("status") == "ok" else []
        g = groups.setdefault(ctx["notebook"], {"title": ctx["title"], "columns": [],
                                                "rows": []})
        for k in tiles:
            if (k["key"], k["label"]) not in g["columns"]:
                g["columns"].append((k["key"], k["label"]))
        outs = job.get("outputs") or {}
        pdf = outs.get("manager_pdf") or (
            Path(str(outs["manager_html"])).with_suffix(".pdf").name
            if outs.get("manager_html") and (run / Path(str(outs["manager_html"])).with_suffix(
                ".pdf").name).exists() else None)
        g["rows"].append({"job_id": jid, "segment": ctx["segment"], "period": ctx["period"],
                          **_status(job, lang), "tiles": {k["key"]: k for k in tiles},
                          "manager": outs.get("manager_html"), "pdf": pdf,
                          "analyst": outs.get("analyst_html")})
        moves += _move_rows(job, res, cats[jid], lang)
    moves = sorted(_dedupe(moves), key=lambda m: (m["touchpoint"], m["segment"],
                                                  m["measure"], m["period"]))
    prev_dir = Path(previous_run_dir) if previous_run_dir else previous_run(run, manifest)
    previous = None
    if prev_dir is not None and (prev_dir / "manifest.json").exists():
        previous = _compare(prev_dir, manifest, results, moves, cats, cache, lang)
    downloads = [(i18n.t(key, lang), name) for key, name in (
        ("excel_workbook", "tables.xlsx"), ("run_zip", f"{run.name}.zip"))
        if (run / name).exists() or (exports and name.endswith(".zip"))]
    values, _ = personal_values_for([p.get("dataset") for p in params_of.values()])
    html = env(lang).get_template("index.html.j2").render(
        manifest=manifest, groups=list(groups.values()), moves=moves, previous=previous,
        started=_date(manifest, lang), downloads=downloads)
    title = f"{i18n.t('run_index', lang)}: {manifest.get('batch', '')} " \
            f"{manifest.get('run_id', '')}"
    index = write_text_atomic(run / "index.html", privacy.sanitize_html(
        html, values=values, mask=True, language=lang, title=title))
    if exports:
        export.run_zip(run)
    return index


def _compare(prev_dir: Path, manifest: dict[str, Any], results: dict[str, Any],
             moves: list[dict[str, Any]], cats: dict[str, Any], cache: dict[str, Any],
             lang: str) -> dict[str, Any]:
    pman, pres = load_run(prev_dir)
    old_moves = []
    for job in pman.get("jobs", []):
        jid = job["job_id"]
        cat = cats.get(jid) or catalog_for((pres.get(jid) or {}).get("parameters") or {},
                                            cache)
        old_moves += _move_rows(job, pres.get(jid), cat, lang)
    old_moves = _dedupe(old_moves)
    old_keys = {m["key"] for m in old_moves}
    new_keys = {m["key"] for m in moves}
    for m in moves:
        m["new"] = m["key"] not in old_keys
    rows = []
    for job in manifest.get("jobs", []):
        jid = job["job_id"]
        ctx = job_context(job, results.get(jid), lang, cache)
        params = {**(job.get("parameters") or {}),
                  **((results.get(jid) or {}).get("parameters") or {})}
        money = facts_for(params, cache)["currency"]  # one currency for both runs
        cur = kpis(results.get(jid), catalog=cats.get(jid), language=lang, currency=money)
        old = {k["key"]: k for k in kpis(pres.get(jid), catalog=cats.get(jid), language=lang,
                                         currency=money)}
        for k in cur:
            o = old.get(k["key"])
            if o is None or (o["value"], o["score"]) == (k["value"], k["score"]):
                continue
            change = formats.signed(o["raw"], k["raw"], k["kind"], lang) or "≠"
            rows.append({"job": f"{ctx['title']} · {ctx['segment']}", "label": k["label"],
                         "previous": o["value"], "current": k["value"], "change": change})
    was = {j["job_id"]: j.get("status") for j in pman.get("jobs", [])}
    new_moves = [m for m in moves if m["new"]]
    gone = [m for m in old_moves if m["key"] not in new_keys]
    return {
        "run_id": pman.get("run_id") or prev_dir.name, "started": _date(pman, lang),
        "rows": rows, "new_moves": new_moves, "gone_moves": gone,
        "nothing": not new_moves and not gone and not rows,
        "newly_failing": [j["job_id"] for j in manifest.get("jobs", [])
                          if j.get("status") != "ok" and was.get(j["job_id"]) == "ok"],
        "newly_ok": [j["job_id"] for j in manifest.get("jobs", [])
                     if j.get("status") == "ok" and j["job_id"] in was
                     and was[j["job_id"]] != "ok"]}


def personal_values_for(datasets_: list[str | None]) -> tuple[privacy.PersonalValues | None,
                                                              str | None]:
    """Personal values of the named datasets, and why some could not be read."""
    import warnings

    values, problems = None, []
    for ds in dict.fromkeys(d for d in datasets_ if d):
        try:
            v = privacy.learn_dataset(ds)
        except Exception as exc:
            problems.append(f"{Path(str(ds)).name}: {type(exc).__name__}")
            warnings.warn(f"personal values of dataset {ds!r} not learned ({exc}); the "
                          "managers' view masks by column names and patterns only",
                          stacklevel=2)
            continue
        values = v if values is None else values | v
    if not datasets_ or not any(datasets_):
        problems.append("no dataset parameter")
    return values, "; ".join(problems) or None
