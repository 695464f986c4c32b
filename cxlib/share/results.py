"""The machine-readable results file every notebook writes beside its output.

One format for every notebook, read by batch runs (``cx run``), the report
index (headline figures, digest of significant moves) and the tests.

A notebook does::

    from cxlib.share import results
    res = results.Results("01_touchpoint_satisfaction", parameters=dict(...))
    res.headline("nps", 23.4, label="NPS", ci=(19.0, 27.8), n=1200, unit="points")
    res.moves(moves_df)            # significant moves (compare module)
    res.table("weakest_links", df) # any small tidy table
    res.save(results_path)         # "" -> default path under reports/

The ``methods`` of a results file are what cxlib functions recorded with
:func:`cxlib.methods.note_method` (per kernel and per cell; see that module).

File format (JSON, ``schema = "cx-results/1"``)::

    {
      "schema": "cx-results/1",
      "notebook": "01_touchpoint_satisfaction",
      "created": "2026-11-24T03:00:00+00:00",
      "parameters": {...},
      "headlines": [{"key", "label", "value", "ci_low", "ci_high", "n", "unit", "flag"}],
      "moves": [{"touchpoint_id", "segment", "metric", "direction", "estimate",
                 "delta", "p_value", "q_value", ...}],
      "methods": [{"step", "method", "detail", "reference", ...}],
      "tables": {"name": [records]}
    }
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlib.errors import CxError
from cxlib.io import jsonable as _jsonable
from cxlib.io import write_json_atomic
from cxlib.methods import recorded_methods

__all__ = ["SCHEMA", "SUFFIX", "Results", "load", "results_path_for"]

SCHEMA = "cx-results/1"
SUFFIX = ".results.json"

@dataclass
class Results:
    """Headline figures of one notebook run; see the module docstring."""

    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    headlines: list[dict[str, Any]] = field(default_factory=list)
    move_rows: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def headline(
        self,
        key: str,
        value: float | int | str | None,
        *,
        label: str | None = None,
        ci: tuple[float, float] | None = None,
        n: int | None = None,
        unit: str | None = None,
        flag: str | None = None,
        **extra: Any,
    ) -> None:
        """Add (or replace) one headline figure."""
        row = {
            "key": key,
            "label": label or key,
            "value": _jsonable(value),
            "ci_low": _jsonable(ci[0]) if ci else None,
            "ci_high": _jsonable(ci[1]) if ci else None,
            "n": _jsonable(n),
            "unit": unit,
            "flag": flag,
            **{k: _jsonable(v) for k, v in extra.items()},
        }
        self.headlines = [h for h in self.headlines if h["key"] != key] + [row]

    def moves(self, frame: Any) -> None:
        """Record significant moves: a DataFrame (or records) with at least
        ``touchpoint_id``, ``segment``, ``metric``, ``direction`` ("up"/"down")."""
        self.move_rows = _records(frame)

    def table(self, name: str, frame: Any) -> None:
        """Record a small tidy table under ``name``."""
        self.tables[name] = _records(frame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "notebook": self.notebook,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "parameters": {k: _jsonable(v) for k, v in self.parameters.items()},
            "headlines": self.headlines,
            "moves": self.move_rows,
            "methods": recorded_methods(),
            "tables": self.tables,
        }

    def default_name(self) -> str:
        """The file name :meth:`save` uses without a path (per dataset and parameters)."""
        import hashlib
        import re

        params = json.dumps(_jsonable(self.parameters), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(params.encode("utf-8")).hexdigest()[:8]
        dataset = Path(str(self.parameters.get("dataset") or "data")).name or "data"
        dataset = re.sub(r"[^A-Za-z0-9_-]+", "_", dataset).strip("_") or "data"
        return f"{self.notebook}.{dataset}.{digest}{SUFFIX}"

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the results file atomically and return its path.

        ``path`` empty or None writes
        ``reports/interactive/<notebook>.<dataset>.<digest>.results.json``, where
        ``<digest>`` is 8 hex digits of the parameters: runs on another dataset or
        with other parameters do not overwrite each other, and the same run
        again replaces its own file.
        """
        if not path:
            from cxlib import config

            path = config.REPORTS_DIR / "interactive" / self.default_name()
        target = Path(path)
        write_json_atomic(target, self.to_dict())
        return target


def results_path_for(notebook_output: str | os.PathLike[str]) -> Path:
    """The results file that belongs beside an executed notebook ``x.ipynb``."""
    p = Path(notebook_output)
    return p.with_name(p.name.removesuffix(".ipynb") + SUFFIX)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file, checking its schema tag."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CxError(f"cannot read results file {p}: {exc}") from exc
    if data.get("schema") != SCHEMA:
        raise CxError(
            f"{p} is not a cx results file (schema {data.get('schema')!r}, expected {SCHEMA!r})"
        )
    return data


def _records(frame: Any) -> list[dict[str, Any]]:
    if frame is None:
        return []
    if hasattr(frame, "to_dict"):
        frame = frame.to_dict("records")
    return [{str(k): _jsonable(v) for k, v in dict(r).items()} for r in frame]
