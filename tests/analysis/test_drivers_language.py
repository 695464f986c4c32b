"""The printed driver summary of notebook 02 uses the language's number marks (issue 15).

Reference: Babel's ``format_decimal`` and ``format_percent`` in tr_TR (CLDR marks).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from babel.numbers import format_decimal

from cxlib.analysis import drivers as drv


def test_summary_in_turkish_has_turkish_marks():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2018, 3))
    mat = pd.DataFrame(x, columns=["tp0", "tp1", "tp2"])
    mat["outcome"] = x @ [1.0, 0.5, 0.2] + rng.normal(size=2018)
    res = drv.driver_analysis(mat, drivers=["tp0", "tp1", "tp2"], n_boot=200, seed=1)
    tr, en = res.summary(language="tr"), res.summary()
    assert "n = 2.018 (" in tr and "n = 2,018 (" in en
    r2 = format_decimal(round(res.r2, 3), format="#,##0.000", locale="tr_TR")
    assert f"R² = {r2} [" in tr and "," in r2
    share = res.tidy()["share_of_r2"].iloc[0]
    assert "%" + format_decimal(round(100 * share, 1), format="#,##0.0", locale="tr_TR") in tr
    assert not re.search(r"\d\.\d{4}\b", tr)  # no English decimal point in the table
    assert not re.search(r"\d,\d{3}\b(?!,)", tr.split("\n", 1)[0].split("R²")[0])
