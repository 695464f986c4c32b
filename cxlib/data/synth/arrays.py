"""Arrow column helpers shared by the table generators (ids, dates, regions).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlib.data.synth.constants import REGION_BRANCHES, START

__all__ = ["REGION_NAMES", "date_array", "id_array"]

def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def date_array(days: np.ndarray) -> pa.Array:
    return pa.array((START + days.astype("timedelta64[D]")).astype("datetime64[ns]"))



#: The region names in ``REGION_BRANCHES`` order (regions are coded by position).
REGION_NAMES = pa.array(list(REGION_BRANCHES))
