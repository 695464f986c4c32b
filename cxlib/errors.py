"""One exception family for the whole library, and the rule for which one to raise.

Core layer: imports only the standard library.

Every message says what is wrong *and* how to fix it; data errors name the
file, the column, the rule and up to five offending rows.

Which exception each kind of failure raises
-------------------------------------------
=====================  =====================================================================
``DataError``          Input data breaks a contract or cannot be read: a file, a table, a
                       column (missing columns included, whatever module notices), a value,
                       an encoding, a mapping file's content about the data.
``ParameterError``     What a person asked for is invalid: notebook parameters, function
                       arguments out of their declared choices, batch files (their schema,
                       names, paths, grids), CLI options. All problems listed at once.
``CatalogError``       The touchpoint catalog itself is invalid (unknown parent, cycle,
                       missing names), or ids are not in it.
``EstimationError``    The data are valid but a statistic cannot be computed from them
                       (too few cases, a singular design, no variation): say why and what to
                       change.
``ExecutionError``     Running a notebook or a batch failed (a kernel died, a job timed out,
                       rendering failed); third-party exceptions (papermill, nbclient, jupyter)
                       are caught by type and re-raised as this, with the cause chained.
=====================  =====================================================================

Raise the most specific one; never a bare ``CxError`` and never a third-party
exception through a public function.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "CatalogError", "CxError", "DataError", "EstimationError", "ExecutionError", "ParameterError",
]


class CxError(Exception):
    """Base class of every error raised by cxlib."""


class CatalogError(CxError):
    """The touchpoint catalog is invalid (unknown parent, cycle, ...)."""


class DataError(CxError):
    """Input data breaks a data contract.

    Parameters
    ----------
    message
        What rule was broken and how to fix it.
    path
        The file the data came from, if any.
    column
        The offending column, if any.
    rule
        Short name of the rule (``"not null"``, ``"in range [1, 5]"``, ...).
    rows
        A few offending rows (records or a DataFrame); at most five are shown.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        column: str | None = None,
        rule: str | None = None,
        rows: Any = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.column = column
        self.rule = rule
        self.rows = _first_rows(rows)
        parts = [message]
        if self.path:
            parts.append(f"file: {self.path}")
        if column:
            parts.append(f"column: {column}")
        if rule:
            parts.append(f"rule: {rule}")
        if self.rows:
            parts.append("offending rows (up to 5):")
            parts.extend(f"  {r}" for r in self.rows)
        super().__init__("\n".join(parts))


class ParameterError(CxError):
    """Notebook or batch parameters are invalid (all problems listed at once)."""

    def __init__(self, problems: Iterable[str] | str, *, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = f"{len(self.problems)} parameter problem(s)"
        if source:
            head += f" in {source}"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in self.problems))


class EstimationError(CxError):
    """A statistic cannot be computed from the data given (say why, and what to change)."""


class ExecutionError(CxError):
    """Running a notebook, a kernel or a batch job failed (the cause is chained)."""


def _first_rows(rows: Any, limit: int = 5) -> list[str]:
    if rows is None:
        return []
    try:
        import pandas as pd

        if isinstance(rows, pd.DataFrame):
            return [str(r) for r in rows.head(limit).to_dict("records")]
        if isinstance(rows, pd.Series):
            return [f"row {i}: {v!r}" for i, v in rows.head(limit).items()]
    except ImportError:  # pragma: no cover
        pass
    return [str(r) for r in list(rows)[:limit]]
