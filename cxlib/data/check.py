"""``cx check NAME`` and ``cx datasets``: what a dataset holds, before any notebook runs.

:func:`check_dataset` loads a dataset exactly as the notebooks do and reports:
respondents and answers, answers per touchpoint (with base sizes), every value
that produced no row by column and reason (blank, not applicable, a missing
code, unparsed text, with examples), binned segment values outside their bins,
an accounting line per column (``rows = kept + dropped``), and what each
notebook will see (touchpoints heard and blind spots for 00, metrics and
comparison columns for 01, outcomes for 02, orders and innovations for 03).

:func:`available` lists the datasets a notebook's ``dataset`` parameter
accepts: the synthetic sample, every mapping in ``data/mappings/`` and world
folders under ``data/``; :func:`suggest` gives the "did you mean" of a
mistyped name.
"""

from __future__ import annotations

import argparse
import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config

__all__ = ["CheckReport", "available", "check_dataset", "datasets_main", "main", "preflight",
           "resolve_dataset", "suggest"]

#: Outcome parameter of notebook 02 -> (touchpoint_id, metric, what it needs).
_OUTCOMES = {"overall": ("journey", "overall"), "satisfied": ("journey", "overall"),
             "nps": ("journey", "nps"), "promoter": ("journey", "nps")}


def available() -> pd.DataFrame:
    """Datasets the notebooks' ``dataset`` parameter accepts, one row each.

    Returns
    -------
    DataFrame
        ``dataset`` (what to pass), ``kind`` (``sample``, ``mapping`` or
        ``world``), ``source`` (the mapping's export file or the world folder),
        ``catalog``, ``ready`` (the data file or folder exists) and ``note``.
    """
    from cxlib.data.datasets import mapped_datasets

    rows: list[dict[str, Any]] = []
    sample = Path(config.SAMPLE_DIR)
    rows.append({"dataset": "sample", "kind": "sample", "source": str(sample),
                 "catalog": _world_catalog(sample), "ready": _is_world(sample),
                 "note": "" if _is_world(sample) else "run `make sample`"})
    for name, (mapping, catalog) in mapped_datasets().items():
        from cxlib.data.wide import export_path, read_mapping
        from cxlib.errors import CxError

        try:
            src, ready, note = str(export_path(read_mapping(mapping))), True, ""
        except CxError as exc:
            src, ready, note = "", False, str(exc).splitlines()[0]
        rows.append({"dataset": name, "kind": "mapping", "source": src, "catalog": catalog,
                     "ready": ready, "note": note})
    data_dir = Path(config.DATA_DIR)
    skip = {sample.resolve(), Path(config.PROCESSED_DIR).resolve(), Path(config.RAW_DIR).resolve()}
    for d in sorted(p for p in data_dir.iterdir() if p.is_dir()) if data_dir.is_dir() else []:
        if d.resolve() in skip or not _is_world(d):
            continue
        rows.append({"dataset": str(d), "kind": "world", "source": str(d),
                     "catalog": _world_catalog(d), "ready": True, "note": ""})
    return pd.DataFrame(rows, columns=["dataset", "kind", "source", "catalog", "ready", "note"])


def _is_world(folder: Path) -> bool:
    return (folder / "responses.parquet").exists() or (folder / "responses").is_dir()


def _world_catalog(folder: Path) -> str:
    import json

    truth = folder / "truth.json"
    if truth.exists():
        try:
            return str(json.loads(truth.read_text(encoding="utf-8")).get("catalog", "retail"))
        except ValueError:
            pass
    return "retail"


def suggest(name: str) -> str:
    """A "did you mean" sentence for a dataset name that is not found ("" if none)."""
    names = [str(n) for n in available()["dataset"]]
    close = (difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
             or difflib.get_close_matches(Path(str(name)).name, names, n=3, cutoff=0.6))
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def resolve_dataset(dataset: str, *, cwd: str | Path | None = None) -> str:
    """The dataset as the kernel will open it: names as given, relative folders under ``cwd``.

    ``cx run`` starts each kernel in the notebook's folder (papermill ``--cwd``),
    so a relative world folder in a batch file is relative to that folder; the
    check before the run must resolve it the same way.
    """
    from cxlib.data.datasets import MAPPED

    name = str(dataset)
    if name == "sample" or name in MAPPED or cwd is None or Path(name).is_absolute():
        return name
    target = (Path(cwd) / name).resolve()
    if not any(sep in name for sep in ("/", "\\", ".")) and not target.exists():
        return name  # a bare name that is no folder there: a mistyped dataset name
    return str(target)


def preflight(dataset: str, *, catalog: str = "", cwd: str | Path | None = None) -> list[str]:
    """What a notebook run on ``dataset`` will need, checked without loading the data.

    Parameters
    ----------
    dataset
        The ``dataset`` parameter of the job.
    catalog
        The job's ``catalog`` parameter (``""``: the dataset's own catalog).
    cwd
        The folder the kernel runs in (the notebook's folder under ``cx run``).

    Returns
    -------
    list of str
        Problems, each saying how to fix it; empty when the data files exist
        and the catalog covers every touchpoint id of the data (for a mapping:
        its touchpoint ids; for a world: the distinct ids of its responses).
    """
    from cxlib.data import datasets
    from cxlib.data.catalog import load_catalog
    from cxlib.errors import CxError

    name = resolve_dataset(dataset, cwd=cwd)
    try:
        world = datasets.load(name)
        if world.mapping is not None:
            from cxlib.data.wide import export_path, read_mapping

            mapping = read_mapping(world.mapping)
            export_path(mapping)
            ids = {str(s["id"]) for s in mapping["touchpoints"].values()}
        else:
            src = world.path("responses")
            if src is None:
                return [f"dataset {dataset!r} ({name}) has no responses table "
                        "(responses.parquet or a responses/ folder)"]
            ids = _distinct(src, "touchpoint_id")
        cat = load_catalog(catalog) if catalog else world.catalog
    except CxError as exc:
        return [str(exc)]
    missing = sorted(ids - set(cat.ids) - {"journey"})
    if missing:
        return [f"catalog {cat.catalog_id!r} lacks {len(missing)} touchpoint id(s) of dataset "
                f"{dataset!r}: {missing[:8]}; use the dataset's own catalog "
                f"({world.catalog_name!r}, catalog=\"\") or add the ids to {cat.path}"]
    return []


def _distinct(src: Path, column: str) -> set[str]:
    from cxlib.data import duck

    # the column is checked against the file's columns and selected as an expression;
    # the path is a bound file list (cxlib.data.duck): no SQL text is made from either
    rows = duck.read_parquet(src, columns=[column]).distinct().fetchall()
    return {str(r[0]) for r in rows if r[0] is not None}


@dataclass
class CheckReport:
    """What ``cx check`` found; ``str(report)`` is the text it prints."""

    dataset: str
    catalog: str
    n_respondents: int
    n_answers: int
    per_touchpoint: pd.DataFrame
    drops: pd.DataFrame
    accounting: pd.DataFrame
    segment_issues: list[dict[str, Any]]
    notebooks: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    n_rows: int | None = None

    def __str__(self) -> str:
        out = [f"dataset {self.dataset!r} (catalog {self.catalog!r})"]
        if self.n_rows is not None:
            out.append(f"export rows: {self.n_rows:,}")
        out.append(f"respondents with at least one answer: {self.n_respondents:,}; "
                   f"answers: {self.n_answers:,}")
        out.append("\nanswers per touchpoint and metric:")
        out.append(self.per_touchpoint.to_string(index=False))
        if len(self.drops):
            out.append("\nvalues that produced no answer, by column and reason:")
            show = self.drops.assign(examples=self.drops["examples"].map(_examples))
            out.append(show.to_string(index=False))
        else:
            out.append("\nno value was dropped")
        if len(self.accounting):
            ok = bool(self.accounting["balanced"].all())
            out.append(f"\naccounting (export rows = kept + dropped, per column): "
                       f"{'every column balances' if ok else 'SOME COLUMNS DO NOT BALANCE'}")
            if not ok:
                out.append(self.accounting[~self.accounting["balanced"]].to_string(index=False))
        for i in self.segment_issues:
            out.append(f"segment {i['segment']!r} from {i['column']!r}: {i['n_outside']} value(s) "
                       f"outside the bins {i['bins']}, {i['n_missing']} missing -> 'unknown' "
                       f"(e.g. {i['examples']})")
        for w in self.warnings:
            out.append(f"warning: {w}")
        out.append("\nwhat each notebook will see:")
        for nb, lines in self.notebooks.items():
            out.append(f"  {nb}:")
            out += [f"    - {line}" for line in lines]
        return "\n".join(out)


def _examples(d: Any) -> str:
    if not isinstance(d, dict):
        return ""
    return ", ".join(f"{k!r} x{v}" for k, v in list(d.items())[:3])


def check_dataset(dataset: str, *, min_base: int = config.MIN_BASE) -> CheckReport:
    """Load a dataset as the notebooks will and report counts, drops and what each sees.

    Parameters
    ----------
    dataset
        A dataset name (``"sample"``, a mapping name) or a world folder.
    min_base
        Respondents below which a touchpoint is a low base (notebook 00's default).

    Returns
    -------
    CheckReport
        ``per_touchpoint`` has ``touchpoint_id``, ``metric``, ``n_respondents``,
        ``mean``, ``scale``; ``drops`` has ``column``, ``touchpoint_id``,
        ``metric``, ``reason``, ``n``, ``examples``; ``accounting`` has
        ``column``, ``rows``, ``kept``, ``dropped``, ``balanced``.

    Raises
    ------
    DataError, CatalogError
        What loading the dataset raises (the same error a notebook would hit).
    """
    from cxlib.data import datasets

    world = datasets.load(dataset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if world.mapping is not None:
            from cxlib.data.wide import load_mapped

            resp = load_mapped(world.mapping, use_cache=False)
        else:
            resp = world.responses
        cat = world.catalog
    if resp is None:
        resp = pd.DataFrame(columns=["response_id", "touchpoint_id", "metric", "score"])
    per = (resp.groupby(["touchpoint_id", "metric"], sort=False)
           .agg(n_respondents=("response_id", "nunique"), mean=("score", "mean"),
                lo=("scale_min", "min"), hi=("scale_max", "max")).reset_index())
    order = {t: i for i, t in enumerate(["journey", *cat.ids])}
    per = per.sort_values(["touchpoint_id"], key=lambda s: s.map(order)).reset_index(drop=True)
    per["mean"] = per["mean"].round(3)
    per["scale"] = per["lo"].astype(int).astype(str) + "-" + per["hi"].astype(int).astype(str)
    per = per.drop(columns=["lo", "hi"])
    drops = pd.DataFrame(resp.attrs.get("drops") or [],
                         columns=["column", "touchpoint_id", "metric", "reason", "n", "examples"])
    acc = _accounting(resp, drops)
    notebooks = _notebook_view(resp, cat, world, min_base)
    return CheckReport(
        dataset=str(dataset), catalog=cat.catalog_id,
        n_respondents=int(resp["response_id"].nunique()), n_answers=len(resp),
        per_touchpoint=per, drops=drops, accounting=acc,
        segment_issues=list(resp.attrs.get("segment_issues") or []), notebooks=notebooks,
        warnings=[str(w.message) for w in caught], n_rows=resp.attrs.get("n_rows"))


def _accounting(resp: pd.DataFrame, drops: pd.DataFrame) -> pd.DataFrame:
    """Per mapped column: export rows = answers kept + values dropped (every reason)."""
    n_rows, kept = resp.attrs.get("n_rows"), resp.attrs.get("kept")
    if n_rows is None or not kept:
        return pd.DataFrame(columns=["column", "rows", "kept", "dropped", "balanced"])
    by_col = drops.groupby("column")["n"].sum() if len(drops) else pd.Series(dtype=int)
    rows = [{"column": c, "rows": int(n_rows), "kept": int(k),
             "dropped": int(by_col.get(c, 0))} for c, k in kept.items()]
    acc = pd.DataFrame(rows, columns=["column", "rows", "kept", "dropped"])
    acc["balanced"] = acc["kept"] + acc["dropped"] == acc["rows"]
    return acc


def _notebook_view(resp: pd.DataFrame, cat: Any, world: Any, min_base: int) -> dict[str, list]:
    tp = resp[resp["touchpoint_id"] != "journey"]
    n_by = tp.groupby("touchpoint_id")["response_id"].nunique()
    heard, low, blind = [], [], []
    for t in cat.ids:
        ids = [t, *cat.descendants(t)]
        n = int(tp.loc[tp["touchpoint_id"].isin(ids), "response_id"].nunique()) if len(
            set(ids) & set(n_by.index)) else 0
        (blind if n == 0 else low if n < min_base else heard).append(t)
    segs = [c for c in resp.columns if c not in {
        "response_id", "customer_id", "date", "touchpoint_id", "metric", "score", "scale_min",
        "scale_max", "weight", "comment"}]
    metrics = sorted(set(resp["metric"]))
    journey = resp[resp["touchpoint_id"] == "journey"]
    outs = []
    for name, (_tp, m) in _OUTCOMES.items():
        sel = journey[journey["metric"] == m]
        if sel.empty:
            continue
        binary = bool((sel["scale_max"] == 1).all())
        if (name == "satisfied") != binary:
            continue
        outs.append(f"{name} (n={sel['response_id'].nunique():,})")
    has = {t: world.table(t) is not None for t in ("customers", "orders", "innovations")}
    if has["customers"] and not journey.empty:
        outs.append("retained (customers table)")
    return {
        "00_touchpoint_map": [
            f"{len(cat)} touchpoints in catalog {cat.catalog_id!r}: {len(heard)} heard, "
            f"{len(low)} low base (< {min_base}), {len(blind)} blind spots",
            *( [f"blind spots: {', '.join(blind[:10])}" + (" ..." if len(blind) > 10 else "")]
               if blind else []),
            f"compare_by columns: {', '.join(segs) or 'none'}",
        ],
        "01_touchpoint_satisfaction": [
            f"metrics: {', '.join(metrics)}",
            f"dates: {pd.Timestamp(resp['date'].min()).date()} to "
            f"{pd.Timestamp(resp['date'].max()).date()}" + (
                " (one date: trends and period moves are empty)"
                if resp["date"].nunique() <= 1 else ""),
            f"compare_by / filter_column: {', '.join(segs) or 'none'}",
        ],
        "02_touchpoint_drivers": [
            f"outcome: {', '.join(outs) if outs else 'NONE: add an outcome to the mapping'}",
            f"drivers: {len(n_by)} touchpoints with answers (drivers=all, level=leaf "
            "for a flat catalog)",
        ],
        "03_service_innovation_margin": [
            "runs" if has["orders"] and has["innovations"] else
            "not available: needs orders and innovations (synthetic worlds only)",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """``cx check NAME``: load a dataset and report what the notebooks will see."""
    ap = argparse.ArgumentParser(prog="cx check", description="Load a dataset as the notebooks "
                                 "do and report counts, dropped values and what each sees.")
    ap.add_argument("dataset", help="dataset name (sample, a mapping name) or a world folder")
    ap.add_argument("--min-base", type=int, default=config.MIN_BASE)
    args = ap.parse_args(argv)
    report = check_dataset(args.dataset, min_base=args.min_base)
    print(report)
    return 0 if report.accounting.empty or bool(report.accounting["balanced"].all()) else 1


def datasets_main(argv: list[str] | None = None) -> int:
    """``cx datasets``: list the datasets the notebooks accept."""
    argparse.ArgumentParser(prog="cx datasets", description=available.__doc__).parse_args(argv)
    table = available()
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(table.to_string(index=False))
    print("\nA new survey: `cx map EXPORT --name NAME`, review, then `cx check NAME` "
          "(README: Bring your own survey).")
    return 0
