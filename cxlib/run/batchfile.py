"""Batch files: their declared schema, parsing, the parameter grid and job ids.

A batch file names notebooks and a parameter grid (``cx run BATCH.yml``; the
execution is :mod:`cxlib.run.batch`)::

    name: regions                 # reports/regions/<run-id>/ (a plain name)
    workers: auto                 # parallel workers (auto = number of cores), or 1..512
    timeout: 600                  # seconds per job (whole notebook), > 0
    retries: 1                    # further attempts for failures in retry_on, 0..10
    retry_on: [kernel_died, worker_died]
    language: en                  # index and views (a job's own language wins): en | tr | az
    render: true                  # write the brief and the analysts' view of each job
    pdf: true                     # also print each brief to PDF (headless Chromium)
    parameters: {dataset: sample} # for every job
    jobs:
      - notebook: notebooks/00_touchpoint_map.ipynb
      - notebook: notebooks/01_touchpoint_satisfaction.ipynb
        grid:                     # the product of the lists
          filter_value: {values_of: responses.segment}   # every value in the data
          period: [quarter, half]
      - notebook: notebooks/01_touchpoint_satisfaction.ipynb
        rows:                     # explicit rows (combined with grid when both given)
          - {filter_column: region, filter_value: Baku}

The whole file is checked against :data:`SETTINGS` before anything runs
(:func:`load_batch`): every problem (a setting of the wrong type or out of
range, an unknown key, a name that is not a plain name, a notebook that is not
a Jupyter notebook, a ``values_of`` that names no column of the data) comes
back in one :class:`~cxlib.errors.ParameterError`. The file is read by
:func:`cxlib.io.read_yaml`, which refuses YAML aliases (a few hundred bytes of
nested aliases expand to gigabytes) and files that are not small regular files.

Each job gets a stable id (notebook stem + the values that tell it from its
siblings + a short hash of all its parameters), so ``--resume`` reruns only
what failed; personal values in an id (a report filtered to one customer) are
shown by their pseudonym (:func:`cxlib.share.mask.mask_value`), since the id
names files, the index and page titles.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlib import config
from cxlib.errors import CxError, DataError, ParameterError
from cxlib.i18n import LANGUAGES

__all__ = ["KINDS", "MAX_JOBS", "SETTINGS", "Batch", "Job", "job_id", "load_batch", "peek",
           "validate"]

#: Failure kinds recorded in the manifest.
KINDS = ("error", "timeout", "kernel_died", "worker_died", "render_error", "runner_error")
#: At most this many jobs in one batch (a grid is checked before it is expanded).
MAX_JOBS = 5000
#: A batch name is a plain name: it becomes a folder under reports/.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_MAX_NOTEBOOK_BYTES = 50 << 20


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _check_name(v: Any) -> str | None:
    if isinstance(v, str) and len(v) <= 64 and NAME.fullmatch(v):
        return None
    return ("must be a plain name (letters, digits, _ - and inner dots, at most 64), e.g. "
            f"'regions'; it names the folder reports/<name>/, got {v!r:.80}")


#: The declared schema of a batch file: setting -> (rule in words, check returning ok).
SETTINGS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "name": ("a plain name (letters, digits, _ - and inner dots, at most 64 characters; "
             "it names the folder reports/<name>/)", lambda v: _check_name(v) is None),
    "workers": ("'auto' or a whole number from 1 to 512",
                lambda v: v in (None, "auto") or (_is_int(v) and 1 <= v <= 512)),
    "timeout": ("seconds per job, a number above 0 and at most 604800 (a week)",
                lambda v: _is_number(v) and 0 < v <= 604800),
    "retries": ("a whole number from 0 to 10", lambda v: _is_int(v) and 0 <= v <= 10),
    "retry_on": (f"a list of failure kinds from {', '.join(KINDS)}",
                 lambda v: isinstance(v, list) and all(k in KINDS for k in v)),
    "language": (f"one of {' | '.join(LANGUAGES)}", lambda v: v in LANGUAGES),
    "parameters": ("a mapping of parameter names to values",
                   lambda v: v is None or isinstance(v, dict)),
    "jobs": ("a non-empty list of jobs ({notebook: ..., grid: ..., rows: ...})",
             lambda v: isinstance(v, list) and len(v) > 0),
    "render": ("true or false", lambda v: isinstance(v, bool)),
    "pdf": ("true or false", lambda v: isinstance(v, bool)),
    "kernels": ("'warm' (forked, pre-imported) or 'cold'", lambda v: v in ("warm", "cold")),
    "preload": ("a list of module names, e.g. [pandas, statsmodels.api]",
                lambda v: v is None or (isinstance(v, list) and all(
                    isinstance(m, str) and _MODULE.fullmatch(m) for m in v))),
}
_JOB_KEYS = ("notebook", "parameters", "grid", "rows")


# ----------------------------------------------------------------- jobs and ids
@dataclass
class Job:
    """One notebook run: a notebook and its parameters."""

    notebook: Path
    parameters: dict[str, Any]
    job_id: str = ""
    #: parameters that tell this job from its siblings (shown in its id)
    varying: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.job_id:
            self.job_id = job_id(self.notebook, self.parameters, shown=self.varying)


@dataclass
class Batch:
    """A parsed and schema-checked batch file (see the module docstring)."""

    name: str
    jobs: list[Job]
    path: Path | None = None
    workers: int = 0
    timeout: float = 600.0
    retries: int = 1
    retry_on: tuple[str, ...] = ("kernel_died", "worker_died")
    language: str = "en"
    render: bool = True
    pdf: bool = True
    kernels: str = "warm"
    preload: list[str] = field(default_factory=list)


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return text[:24] or "_"


def job_id(notebook: str | os.PathLike[str], parameters: dict[str, Any],
           shown: tuple[str, ...] | None = None, *,
           mask: Callable[[str, Any], Any] | None = None) -> str:
    """Stable, file-safe id: ``<stem>--<shown values>--<hash of all parameters>``.

    The hash covers every parameter, so two jobs never share an id and a
    changed parameter is a new job for ``--resume``; ``shown`` (default: all)
    picks the values written out for a reader; ``mask(name, value)`` replaces a
    personal value by its pseudonym before it is written out.
    """
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(notebook).stem).strip("-.")[:60] or "notebook"
    show = mask or (lambda _n, v: v)
    # the hash covers the *masked* values: a job id is a file name and shows in the
    # index, so an unkeyed hash of a raw customer id could be reversed by hashing
    # candidate ids; a pseudonym is as unique as the id it stands for
    canon = json.dumps({k: show(k, v) for k, v in parameters.items()}, sort_keys=True,
                       default=str)
    digest = hashlib.sha1(f"{stem}\n{canon}".encode()).hexdigest()[:6]
    keys = sorted(parameters if shown is None else [k for k in shown if k in parameters])
    values = "_".join(_slug(show(k, parameters[k])) for k in keys)
    return f"{stem}--{values[:60]}--{digest}" if values else f"{stem}--{digest}"


# ----------------------------------------------------------------- reading
def _find(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists() and not p.is_absolute():
        for base in (config.BATCHES_DIR, config.ROOT):
            if (base / p).exists():
                return base / p
    return p


def _read(path: str | os.PathLike[str]) -> tuple[Path, Any]:
    from cxlib.io import read_yaml

    p = _find(path)
    if not p.exists():
        raise ParameterError([f"batch file {path} not found (looked in ., "
                              f"{config.BATCHES_DIR})"], source=str(path))
    try:
        return p, read_yaml(p, what="batch file", max_bytes=1 << 20)
    except DataError as exc:  # batch files are parameters (cxlib.errors): ParameterError
        raise ParameterError([str(exc)], source=str(p)) from None


def peek(path: str | os.PathLike[str]) -> tuple[str, list[Path], list[str]] | None:
    """A first, cheap look at a batch file: its ``kernels`` setting, the notebooks its
    jobs name (resolved as :func:`load_batch` does) and its ``preload`` list.

    Only what starting the kernels early needs (:func:`cxlib.run.batch.run_batch`
    starts the zygote while the batch is still being loaded and checked); nothing
    is validated here, and any problem gives None (:func:`load_batch` reports it).
    """
    try:
        p, spec = _read(path)
        if not isinstance(spec, dict) or not isinstance(spec.get("jobs"), list):
            return None
        notebooks = []
        for entry in spec["jobs"]:
            value = entry.get("notebook") if isinstance(entry, dict) else entry
            nb, problem = _notebook(value, p, "peek")
            if nb is not None and problem is None:
                notebooks.append(nb)
        preload = spec.get("preload") or []
        if not isinstance(preload, list) or not all(isinstance(m, str) for m in preload):
            preload = []
        return str(spec.get("kernels", "warm")), notebooks, list(preload)
    except Exception:  # a bad batch file is load_batch's to report, with its rules
        return None


def check_settings(spec: Any, where: str) -> list[str]:
    """Problems with a batch file's top-level settings (empty when it fits :data:`SETTINGS`)."""
    if not isinstance(spec, dict):
        return [f"{where}: a batch file is a mapping of settings (name:, jobs:, ...), "
                f"not {type(spec).__name__}"]
    problems = []
    unknown = sorted(str(k) for k in spec if k not in SETTINGS)
    if unknown:
        problems.append(f"{where}: unknown keys {unknown}; a batch has {sorted(SETTINGS)}")
    if "jobs" not in spec:
        problems.append(f"{where}: no jobs; add a 'jobs:' list of "
                        "{notebook: ..., grid: ..., rows: ...}")
    for key, (rule, ok) in SETTINGS.items():
        if key in spec and not ok(spec[key]):
            problems.append(f"{where}: {key} must be {rule}, got {spec[key]!r:.80}")
    params = spec.get("parameters")
    if isinstance(params, dict):
        problems += _check_names(params, f"{where} parameters")
    return problems


def _check_names(mapping: dict[Any, Any], where: str) -> list[str]:
    bad = [k for k in mapping if not (isinstance(k, str) and _IDENT.fullmatch(k))]
    return [f"{where}: {k!r:.60} is not a parameter name (letters, digits, _)" for k in bad]


def _notebook(value: Any, batch_path: Path, where: str) -> tuple[Path | None, str | None]:
    """The notebook a job names, checked to be a Jupyter notebook (never quoting its bytes)."""
    if not isinstance(value, str) or not value.strip():
        return None, f"{where}: notebook must be the path of a .ipynb file, got {value!r:.80}"
    nb = Path(value)
    if not nb.is_absolute():
        nb = config.ROOT / nb if (config.ROOT / nb).exists() else batch_path.parent / nb
    if nb.suffix.lower() != ".ipynb":
        return None, (f"{where}: notebook {value!r:.120} is not a Jupyter notebook: name a "
                      ".ipynb file, e.g. notebooks/01_touchpoint_satisfaction.ipynb")
    try:
        st = nb.stat()
    except OSError:
        return None, f"{where}: notebook {value!r:.120} not found (paths are relative to " \
                     f"the project folder {config.ROOT} or to the batch file)"
    if not nb.is_file() or st.st_size > _MAX_NOTEBOOK_BYTES:
        return None, (f"{where}: notebook {value!r:.120} is not a regular file of at most "
                      f"{_MAX_NOTEBOOK_BYTES >> 20} MB")
    try:
        import nbformat

        nbformat.reads(nb.read_bytes().decode("utf-8"), as_version=4)
    except Exception:  # a third-party parser on untrusted bytes: any failure is "not a notebook"
        return None, (f"{where}: {value!r:.120} is not a Jupyter notebook (nbformat JSON); "
                      "open and save it in JupyterLab")
    return nb, None


# ----------------------------------------------------------------- the grid
def _grid_lists(grid: dict[str, Any], fixed: dict[str, Any], where: str,
                facts: Any) -> tuple[list[list[Any]], list[str]]:
    lists, problems = [], []
    for name, spec in grid.items():
        here = f"{where} grid.{name}"
        if isinstance(spec, list):
            if not spec:
                problems.append(f"{here}: an empty list gives no jobs; give at least one value")
            lists.append(spec)
        elif isinstance(spec, dict):
            if set(spec) != {"values_of"}:
                problems.append(f"{here}: a mapping in a grid must be {{values_of: "
                                f"TABLE.COLUMN}}, got keys {sorted(map(str, spec))}")
                lists.append([])
                continue
            values, problem = _values_of(spec["values_of"], fixed, here, facts)
            if problem:
                problems.append(problem)
            lists.append(values)
        else:
            lists.append([spec])
    return lists, problems


def _values_of(spec: Any, fixed: dict[str, Any], where: str,
               facts: Any) -> tuple[list[Any], str | None]:
    """Every value present in ``TABLE.COLUMN`` of the job's dataset (column checked first)."""
    from cxlib.data.datasets import TABLES

    table, _, column = str(spec).partition(".") if isinstance(spec, str) else ("", "", "")
    if table not in TABLES or not column:
        return [], (f"{where}: values_of must be TABLE.COLUMN with TABLE one of "
                    f"{', '.join(TABLES)}, e.g. responses.segment; got {spec!r:.80}")
    dataset = fixed.get("dataset", "sample")
    if not isinstance(dataset, str):
        return [], f"{where}: the dataset parameter must be a name or folder, got {dataset!r:.80}"
    try:
        columns = facts.columns(dataset, table)
        if column not in columns:
            shown = ", ".join(sorted(map(str, columns))[:30]) or "none"
            return [], (f"{where}: values_of {table}.{column!s:.80}: dataset {dataset!r} has "
                        f"no such column in {table}; its columns: {shown}")
        values = sorted(facts.values(dataset, table, column), key=str)
    except CxError as exc:
        return [], f"{where}: cannot read values_of {table}.{column!s:.80}: {exc}"
    if not values:
        return [], f"{where}: no values of {table}.{column} in dataset {dataset!r}"
    return [v.item() if hasattr(v, "item") else v for v in values], None


def _expand(entry: dict[str, Any], defaults: dict[str, Any], where: str, facts: Any,
            budget: int) -> tuple[list[tuple[dict[str, Any], tuple[str, ...]]], list[str]]:
    own = entry.get("parameters") or {}
    grid = entry.get("grid") or {}
    rows = entry.get("rows") if entry.get("rows") is not None else [{}]
    problems = []
    for key, rule in (("parameters", dict), ("grid", dict)):
        if not isinstance(entry.get(key) or {}, rule):
            problems.append(f"{where}: {key} must map parameter names to "
                            + ("values" if key == "parameters" else "lists of values"))
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(f"{where}: rows must be a non-empty list of mappings (one per job)")
    if problems:
        return [], problems
    for name, mapping in (("parameters", own), ("grid", grid), *(
            (f"rows[{i}]", r) for i, r in enumerate(rows))):
        problems += _check_names(mapping, f"{where} {name}")
    if problems:
        return [], problems
    fixed = {**defaults, **own}
    lists, problems = _grid_lists(grid, fixed, where, facts)
    if problems:
        return [], problems
    n = math.prod(len(x) for x in lists) * len(rows)
    if n > budget:
        return [], [f"{where}: the grid makes {n:,} jobs; a batch has at most {MAX_JOBS:,}: "
                    "split it or narrow the lists"]
    names = list(grid)
    out = []
    for combo in itertools.product(*lists):
        for row in rows:
            params = {**fixed, **dict(zip(names, combo, strict=True)), **row}
            shown = tuple(dict.fromkeys([*own, *names, *row]))
            out.append((params, shown))
    return out, []


def _masker(datasets_: set[str]) -> Callable[[str, Any], Any]:
    """``mask(name, value)`` for job ids: personal values of the datasets, e-mail and
    phone patterns, and any value of a personal parameter (``filter_value`` when
    ``filter_column`` is personal, ``customer_id``...) become pseudonyms."""
    from cxlib.share.mask import PersonalValues, is_personal_column, learn_dataset, mask_text
    from cxlib.share.mask import mask_value as pseudonym

    learned: list[PersonalValues] = []

    def known() -> PersonalValues:  # read on first use: most ids show no text value
        if not learned:
            out = PersonalValues()
            for ds in sorted(datasets_):
                try:
                    out = out | learn_dataset(ds)
                except (CxError, OSError, ValueError):
                    continue  # reported by validate(); the patterns still apply
            learned.append(out)
        return learned[0]

    def mask(name: str, value: Any, personal: bool = False) -> Any:
        if personal or is_personal_column(name, ambiguous=False):
            return pseudonym(value)
        return mask_text(value, known()) if isinstance(value, str) and value else value

    return mask


def load_batch(path: str | os.PathLike[str]) -> Batch:
    """Read a batch file, check it against :data:`SETTINGS` and expand its jobs.

    Raises
    ------
    ParameterError
        Listing every problem of the file at once (exit code 2 in ``cx run``);
        job parameters are checked against the notebooks by :func:`validate`.
    """
    from cxlib.run.params import DataFacts

    p, spec = _read(path)
    where = p.name
    problems = check_settings(spec, where)
    if not isinstance(spec, dict):
        raise ParameterError(problems, source=str(p))
    name = spec.get("name", p.stem)
    if "name" not in spec and _check_name(name):
        problems.append(f"{where}: the file's name {p.stem!r} is not a plain name; add "
                        "'name: <plain name>' to the batch file")
    jobs_spec = spec.get("jobs") if isinstance(spec.get("jobs"), list) else []
    defaults = dict(spec["parameters"]) if isinstance(spec.get("parameters"), dict) else {}
    facts = DataFacts()
    expanded: list[tuple[Path, dict[str, Any], tuple[str, ...]]] = []
    for i, entry in enumerate(jobs_spec):
        here = f"{where} jobs[{i}]"
        if isinstance(entry, str):
            entry = {"notebook": entry}
        if not isinstance(entry, dict):
            problems.append(f"{here}: a job is a notebook path or a mapping with "
                            f"{', '.join(_JOB_KEYS)}; got {type(entry).__name__}")
            continue
        extra = sorted(str(k) for k in entry if k not in _JOB_KEYS)
        if extra:
            problems.append(f"{here}: unknown keys {extra}; use {', '.join(_JOB_KEYS)}")
        if "notebook" not in entry:
            problems.append(f"{here}: every job needs a 'notebook'")
            continue
        nb, problem = _notebook(entry["notebook"], p, here)
        if problem:
            problems.append(problem)
            continue
        rows, more = _expand(entry, defaults, here, facts, MAX_JOBS - len(expanded))
        problems += more
        expanded += [(nb, params, shown) for params, shown in rows]  # type: ignore[misc]
    if problems:
        raise ParameterError(problems, source=str(p))
    datasets_ = {str(params.get("dataset", "sample")) for _, params, _ in expanded
                 if isinstance(params.get("dataset", "sample"), str)}
    base = _masker(datasets_)
    jobs: list[Job] = []
    for nb, params, shown in expanded:
        personal = _personal_filter(params)

        def mask(n: str, v: Any, _personal: bool = personal) -> Any:
            return base(n, v, _personal and n == "filter_value")

        jobs.append(Job(nb, params, job_id=job_id(nb, params, shown, mask=mask), varying=shown))
    seen: set[str] = set()
    for job in jobs:
        if job.job_id in seen:
            problems.append(f"{where}: job {job.job_id} appears twice (same notebook and "
                            "parameters)")
        seen.add(job.job_id)
    if problems:
        raise ParameterError(problems, source=str(p))
    workers = spec.get("workers", "auto")
    return Batch(
        name=str(name), jobs=jobs, path=p,
        workers=0 if workers in (None, "auto") else int(workers),
        timeout=float(spec.get("timeout", 600)), retries=int(spec.get("retries", 1)),
        retry_on=tuple(spec.get("retry_on", Batch.retry_on)),
        language=str(spec.get("language", "en")), render=bool(spec.get("render", True)),
        pdf=bool(spec.get("pdf", True)),
        kernels=str(spec.get("kernels", "warm")), preload=list(spec.get("preload") or []),
    )


def _personal_filter(params: dict[str, Any]) -> bool:
    from cxlib.share.mask import is_personal_column

    col = params.get("filter_column")
    return isinstance(col, str) and is_personal_column(col)


def validate(batch: Batch) -> None:
    """Check every job's parameters against its notebook; one error lists all problems."""
    from cxlib.run.params import check_jobs

    check_jobs([(j.job_id, j.notebook, j.parameters) for j in batch.jobs],
               source=str(batch.path or batch.name))
