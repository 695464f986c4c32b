"""Run the report notebooks on the sample data and write them to ``reports/``.

This is the simple, sequential runner behind ``make report`` (``cx report``):
every notebook in ``notebooks/`` is executed with papermill into
``reports/sample/<run-id>/`` (an earlier run is never overwritten), its results
file is written beside it, and it is rendered to standalone HTML (code hidden,
figures embedded). A manifest records every job; one failing notebook does not
stop the others, and the exit code is non-zero when any failed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.render import build_index, render_notebook
from cxlib.results import results_path_for, write_json_atomic

__all__ = ["main", "run_notebooks"]


def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def run_notebooks(
    notebooks: list[Path] | None = None,
    *,
    batch: str = "sample",
    parameters: dict[str, Any] | None = None,
    out_root: Path | None = None,
    timeout: int = 900,
) -> tuple[Path, dict[str, Any]]:
    """Execute notebooks one after another into a fresh run folder.

    Returns the run folder and the manifest (also written as ``manifest.json``).
    """
    import papermill as pm

    notebooks = notebooks or sorted(Path(config.NOTEBOOKS_DIR).glob("[0-9][0-9]_*.ipynb"))
    root = Path(out_root or config.REPORTS_DIR) / batch
    tmp = root / f".{_run_id()}.partial"
    tmp.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "batch": batch,
        "run_id": tmp.name.removeprefix(".").removesuffix(".partial"),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": [],
    }
    for nb in notebooks:
        job_id = nb.stem
        out = tmp / f"{job_id}.ipynb"
        params = {**(parameters or {}), "results_path": str(results_path_for(out))}
        rec: dict[str, Any] = {"job_id": job_id, "notebook": str(nb.relative_to(config.ROOT))
                               if nb.is_relative_to(config.ROOT) else str(nb),
                               "parameters": params, "attempts": 1}
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb), str(out), parameters=params, kernel_name="python3",
                cwd=str(nb.parent), progress_bar=False, execution_timeout=timeout,
            )
            rec["status"] = "ok"
            rec["error"] = None
        except Exception as exc:  # one failing notebook never stops the batch
            rec["status"] = "failed"
            rec["error"] = {"type": type(exc).__name__, "message": str(exc)[-2000:],
                            "cell": getattr(exc, "exec_count", None)}
        rec["duration"] = round(time.perf_counter() - t0, 2)
        outputs = {"ipynb": out.name}
        if results_path_for(out).exists():
            outputs["results"] = results_path_for(out).name
        if out.exists():
            try:  # a rendering failure marks the render, not the job
                views = render_notebook(out, language=params.get("language", "en"))
                outputs["manager_html"] = views["manager"].name
                outputs["analyst_html"] = views["analyst"].name
            except Exception as exc:
                traceback.print_exc()
                rec["render_error"] = f"{type(exc).__name__}: {exc}"
        rec["outputs"] = outputs
        manifest["jobs"].append(rec)
        print(f"{rec['status']:>6}  {job_id}  ({rec['duration']} s)", flush=True)
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    failed = [j for j in manifest["jobs"] if j["status"] != "ok"]
    manifest["status"] = "failed" if failed else "ok"
    write_json_atomic(tmp / "manifest.json", manifest)
    final = root / manifest["run_id"]
    os.replace(tmp, final)
    try:
        build_index(final, language=(parameters or {}).get("language", "en"))
    except Exception:
        traceback.print_exc()
    return final, manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cx report", description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    ap.add_argument("--dataset", default="sample", help="dataset parameter for every notebook")
    ap.add_argument("--language", default="en", choices=["en", "tr", "az"])
    args = ap.parse_args(argv)
    run_dir, manifest = run_notebooks(
        args.notebooks or None, batch=args.dataset,
        parameters={"dataset": args.dataset, "language": args.language},
    )
    n_bad = sum(j["status"] != "ok" for j in manifest["jobs"])
    print(f"{len(manifest['jobs']) - n_bad} ok, {n_bad} failed -> {run_dir}")
    return 1 if n_bad else 0
