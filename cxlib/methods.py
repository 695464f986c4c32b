"""What a cxlib call records for the methods appendix of a report.

Core layer: imports only the standard library and :mod:`cxlib.io`.

cxlib functions that compute a statistic call :func:`note_method`, so that the
methods appendix of a report is generated from what was actually run.
Recording is per kernel (a notebook run by papermill has its own) and per
cell: when a Jupyter cell runs again, what it recorded before is forgotten
(the cell is known by the id JupyterLab sends, else by its source), so
re-running cells interactively does not pile up stale entries; identical
entries are listed once. :func:`clear_methods` forgets everything.
"""

from __future__ import annotations

import contextlib
from typing import Any

from cxlib.io import jsonable as _jsonable

__all__ = ["clear_methods", "note_method", "recorded_methods"]

#: (cell key, entry) in the order recorded; the key is None outside Jupyter.
_METHODS: list[tuple[Any, dict[str, Any]]] = []
_CELL: list[Any] = [None]


def _cell_started(info: Any) -> None:
    """IPython ``pre_run_cell`` hook: a cell (re)runs, forget what it recorded."""
    import hashlib

    key = getattr(info, "cell_id", None) or hashlib.sha1(
        (getattr(info, "raw_cell", None) or "").encode()).hexdigest()
    _CELL[0] = key
    _METHODS[:] = [(k, e) for k, e in _METHODS if k != key]


def _watch_cells() -> None:
    """Register :func:`_cell_started` once in a running IPython kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    ip = get_ipython()
    if ip is None:
        return
    old = getattr(ip, "_cx_methods_hook", None)
    if old is _cell_started:
        return
    if old is not None:  # cxlib.methods was reloaded
        with contextlib.suppress(ValueError):
            ip.events.unregister("pre_run_cell", old)
    ip.events.register("pre_run_cell", _cell_started)
    ip._cx_methods_hook = _cell_started


def note_method(step: str, method: str, **detail: Any) -> None:
    """Record that ``method`` was used for ``step`` (for the methods appendix).

    Parameters
    ----------
    step
        What was estimated, in words an analyst reads ("NPS interval").
    method
        The method ("adjusted Wald", "Benjamini-Hochberg", "TWFE, clustered by unit").
    **detail
        Anything else worth reporting: ``reference=``, ``n=``, ``weights=``,
        ``diagnostics=``... Values must be JSON-serialisable.
    """
    _watch_cells()
    entry = {"step": step, "method": method, **{k: _jsonable(v) for k, v in detail.items()}}
    if (_CELL[0], entry) not in _METHODS:
        _METHODS.append((_CELL[0], entry))


def recorded_methods() -> list[dict[str, Any]]:
    """Methods noted so far in this kernel, each once, in the order first noted (a copy).

    Entries of a cell that ran again are those of its last run only.
    """
    out: list[dict[str, Any]] = []
    for _, entry in _METHODS:
        if entry not in out:
            out.append(dict(entry))
    return out


def clear_methods() -> None:
    """Forget the recorded methods (tests; a new notebook run starts empty)."""
    _METHODS.clear()


_watch_cells()
