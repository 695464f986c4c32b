"""The CDNOW purchase histories (real data) as rows of the orders contract.

``../shared/data/real/CDNOW_master.txt`` (23,570 customers who first bought in
Q1 1997, purchases to June 1998; header line) and ``CDNOW_sample.txt`` (the
1/10 sample of 2,357 customers used in the customer-base-analysis literature;
no header: master id, sample id, date, CDs, dollars). Both are
whitespace-separated with dates as ``YYYYMMDD``. Revenue only: there is no
cost column, so profitability needs a margin rate while the purchase and spend
models, the whale curve on revenue and the profile lookup run as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cxlib import config
from cxlib.errors import DataError, ParameterError

__all__ = ["CALIBRATION_END", "FILES", "load_orders"]

FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
#: End of the usual 39-week calibration period (Fader, Hardie & Lee 2005).
CALIBRATION_END = pd.Timestamp("1997-09-30")


def load_orders(which: str = "sample", *, path: str | os.PathLike[str] | None = None
                ) -> pd.DataFrame:
    """CDNOW purchases validated against the orders contract.

    Parameters
    ----------
    which
        ``"sample"`` or ``"master"``.
    path
        Override the file (default: the shared datasets folder, ``CX_SHARED_DATA``).

    Returns
    -------
    DataFrame
        ``order_id, customer_id, date, revenue, quantity`` (one row per line of
        the file; several orders of a customer on one day are kept apart).
    """
    from cxlib.data.validate import validate

    if which not in FILES:
        raise ParameterError([f"which={which!r}: one of {sorted(FILES)}"], source="cdnow")
    p = Path(path) if path is not None else config.shared_file(FILES[which])
    if not p.exists():
        raise DataError("CDNOW file not found; put the shared datasets beside the clone or "
                        "set CX_SHARED_DATA", path=p)
    names = (["customer_id", "sample_id", "date", "quantity", "revenue"] if which == "sample"
             else ["customer_id", "date", "quantity", "revenue"])
    raw = pd.read_csv(p, sep=r"\s+", header=None, names=names, dtype=str,
                      skiprows=1 if which == "master" else 0, engine="python")
    dates = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    if dates.isna().any():
        bad = raw[dates.isna()]
        raise DataError("dates must be YYYYMMDD", path=p, column="date", rule="YYYYMMDD",
                        rows=bad.head(5))
    out = pd.DataFrame({
        "order_id": [f"O{i:07d}" for i in range(1, len(raw) + 1)],
        "customer_id": raw["customer_id"].astype(str),
        "date": dates,
        "revenue": pd.to_numeric(raw["revenue"], errors="coerce"),
        "quantity": pd.to_numeric(raw["quantity"], errors="coerce"),
    })
    out.attrs.update({"source": str(p), "line_offset": 1 + (which == "master")})
    return validate(out, "orders", path=p)
