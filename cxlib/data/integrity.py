"""Rules across tables: every order, contact and payment belongs to something that exists.

:func:`check_references` raises one :class:`cxlib.errors.DataError` naming the
file, the column, the rule and up to five offending rows for the first broken
rule: orders, contacts or payments of customers not in the customers table, and
payments of orders not in the orders table.
"""

from __future__ import annotations

import os

import pandas as pd

from cxlib.errors import DataError

__all__ = ["REFERENCES", "check_references"]

#: (table, column, referenced table, referenced column)
REFERENCES = (
    ("orders", "customer_id", "customers", "customer_id"),
    ("contacts", "customer_id", "customers", "customer_id"),
    ("payments", "customer_id", "customers", "customer_id"),
    ("payments", "order_id", "orders", "order_id"),
)


def check_references(tables: dict[str, pd.DataFrame | None], *,
                     paths: dict[str, str | os.PathLike[str]] | None = None) -> None:
    """Check every reference of :data:`REFERENCES` among the tables given.

    Parameters
    ----------
    tables
        Table name -> DataFrame (missing or None tables are skipped).
    paths
        Table name -> file, for the error message.
    """
    paths = paths or {}
    for table, col, ref, ref_col in REFERENCES:
        df, target = tables.get(table), tables.get(ref)
        if df is None or target is None or col not in df.columns:
            continue
        bad = df[~df[col].isin(target[ref_col])]
        if len(bad):
            what = "customer" if ref == "customers" else "order"
            raise DataError(
                f"{len(bad)} row(s) of {table} refer to a{'n' if what == 'order' else ''} "
                f"{what} not in {ref}: load the matching {ref} export or drop those rows",
                path=paths.get(table), column=col, rule=f"{col} exists in {ref}.{ref_col}",
                rows=bad.head(5))
