"""The notebooks' row filter (``filter_column`` / ``filter_value``), one meaning for every area.

Every notebook that filters takes the same two parameters: the column to filter
on and the value to keep (compared as text, so ``"2"`` keeps the integer 2);
an empty column keeps everything. A filter that names no column of the table,
or a value absent from it, is a parameter error listing what is there.
"""

from __future__ import annotations

import pandas as pd

from cxlib.errors import ParameterError

__all__ = ["filter_rows"]


def filter_rows(frame: pd.DataFrame, column: str, value: str, *,
                table: str = "responses") -> pd.DataFrame:
    """Rows where ``column == value`` (compared as text); ``column=""`` returns ``frame``.

    Parameters
    ----------
    frame
        The table to filter (responses, orders, ...).
    column, value
        The notebook's ``filter_column`` and ``filter_value``.
    table
        The table's name, for messages.

    Raises
    ------
    ParameterError
        The column is not in the table, or the value is not present in it (the
        columns or values present are listed).

    Examples
    --------
    >>> orders = pd.DataFrame({"channel": ["web", "store", "web"], "margin": [1, 2, 3]})
    >>> filter_rows(orders, "channel", "web", table="orders")["margin"].tolist()
    [1, 3]
    """
    if not column:
        return frame
    if column not in frame.columns:
        raise ParameterError([f"filter_column={column!r}: {column!r} is not a column of the "
                              f"{table}; columns: {list(map(str, frame.columns))}"],
                             source=f"{table} filter")
    text = frame[column].astype("string")
    keep = text == str(value)
    if not keep.any():
        values = sorted(text.dropna().unique().tolist())
        shown = values[:20] + (["..."] if len(values) > 20 else [])
        raise ParameterError([f"filter_value={value!r}: {value!r} is not present in column "
                              f"{column!r} of the {table}; values present: {shown}"],
                             source=f"{table} filter")
    return frame[keep.fillna(False).to_numpy(bool)]
