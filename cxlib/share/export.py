"""Exports of a run: a PDF of each brief, one Excel workbook of its tables, one zip.

* :func:`html_to_pdf` prints a brief with headless Chromium: one browser kept
  alive per process and driven over the DevTools protocol, with the one-shot
  ``--print-to-pdf`` command as fallback (:mod:`cxlib.share.pdf`, re-exported
  here with :func:`chromium`).
* :func:`run_workbook` writes ``tables.xlsx`` (openpyxl): a contents sheet,
  then one sheet per table of every job (the manager tables of
  :mod:`cxlib.share.tables`, headers in the report's language), numbers kept
  as numbers with Excel number formats (percent, ``0.00``, thousands), header
  row bold and frozen, columns sized to their text.
* :func:`run_zip` packs the run folder (briefs, PDFs, workbook, index; not the
  executed notebooks unless asked) into ``<run>.zip`` for e-mail.

Everything is written atomically through :mod:`cxlib.io`.
"""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.errors import CxError
from cxlib.io import write_bytes_atomic
from cxlib.share.pdf import chromium, html_to_pdf
from cxlib.share.tables import Table, manager_tables

__all__ = ["chromium", "export_run", "html_to_pdf", "run_workbook", "run_zip"]

#: Excel number format of each formats kind.
_EXCEL_FORMATS = {"score": "0.00", "points": "0.0", "share": "0.0%", "percent": "0%",
                  "probability": "0.0%", "pvalue": "0.000", "money": "#,##0",
                  "count": "#,##0", "periods": "0.0", "number": "General"}


def _sheet_name(title: str, used: set[str]) -> str:
    bad = set('[]:*?/\\')
    base = "".join("-" if c in bad else c for c in title).strip()[:31] or "table"
    name, i = base, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(name.lower())
    return name


def _write_table(ws: Any, table: Table, heading: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(table.headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F6F8FA")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for raw, shown in zip(table.values, table.rows, strict=True):
        row = []
        for v, text, kind in zip(raw, shown, table.kinds, strict=True):
            numeric = kind not in ("text", "") and isinstance(v, int | float) \
                and not isinstance(v, bool) and v == v and abs(v) != float("inf")
            row.append(v if numeric else text)
        ws.append(row)
    for j, kind in enumerate(table.kinds, start=1):
        fmt = _EXCEL_FORMATS.get(kind)
        width = max([len(str(table.headers[j - 1]))] + [len(r[j - 1]) for r in table.rows])
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width + 2))
        if fmt:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                if isinstance(cell.value, int | float):
                    cell.number_format = fmt
    ws.freeze_panes = "A3"


def run_workbook(run_dir: str | os.PathLike[str], *, language: str = "en",
                 name: str = "tables.xlsx") -> Path | None:
    """One workbook of every job's tables (see the module docstring); None if no table."""
    from openpyxl import Workbook

    from cxlib.share.dashboard import catalog_for, job_context, load_run

    run = Path(run_dir).resolve()
    manifest, results = load_run(run)
    wb = Workbook()
    contents = wb.active
    contents.title = _sheet_name(i18n.t("tables", language), set())
    contents.append([i18n.t("job", language), i18n.t("segment", language),
                     i18n.t("tables", language)])
    used = {contents.title.lower()}
    n = 0
    cache: dict[Any, Any] = {}
    for job in manifest.get("jobs", []):
        res = results.get(job["job_id"])
        if not res or job.get("status") != "ok":
            continue
        ctx = job_context(job, res, language, cache)
        cat = catalog_for(res.get("parameters") or {}, cache)
        for table in manager_tables(res, catalog=cat, language=language):
            sheet = _sheet_name(f"{n + 1:02d} {table.title}", used)
            ws = wb.create_sheet(sheet)
            _write_table(ws, table, f"{ctx['title']} · {ctx['segment']} · {table.title}")
            contents.append([ctx["title"], ctx["segment"], sheet])
            n += 1
    if n == 0:
        return None
    for col, width in zip("ABC", (50, 24, 40), strict=True):
        contents.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes_atomic(run / name, buf.getvalue())


def run_zip(run_dir: str | os.PathLike[str], *, include_notebooks: bool = False) -> Path:
    """``<run>.zip`` beside nothing else: the run's shareable files, for e-mail."""
    run = Path(run_dir).resolve()
    keep = (".manager.html", ".manager.pdf", ".xlsx", "index.html")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in sorted(run.iterdir()):
            if not p.is_file() or p.suffix == ".zip":
                continue
            if p.name.endswith(keep) or (include_notebooks and p.suffix == ".ipynb"):
                z.write(p, arcname=f"{run.name}/{p.name}")
    return write_bytes_atomic(run / f"{run.name}.zip", buf.getvalue())


def export_run(run_dir: str | os.PathLike[str], *, language: str = "en", pdf: bool = True
               ) -> dict[str, Any]:
    """PDFs of the run's briefs (when Chromium is there) and its workbook.

    Returns ``{"pdf": [paths], "xlsx": path or None, "problems": [text]}``;
    a failed PDF is a problem listed, not an exception (the HTML brief stands).
    """
    run = Path(run_dir).resolve()
    out: dict[str, Any] = {"pdf": [], "xlsx": None, "problems": []}
    if pdf and chromium() is not None:
        for page in sorted(run.glob("*.manager.html")):
            if page.with_suffix(".pdf").is_file():
                continue  # printed during the run (cx run: by the runner, or a Dask worker)
            try:
                out["pdf"].append(html_to_pdf(page, page.with_suffix(".pdf")))
            except (CxError, subprocess.TimeoutExpired) as exc:
                out["problems"].append(f"{page.name}: {exc}")
    out["xlsx"] = run_workbook(run, language=language)
    return out
