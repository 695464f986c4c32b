"""Notebook 03's printed panel summary and side-effect notes in its language (issue 15).

References: number marks are Babel's ``format_decimal`` in tr_TR/az_AZ/en (CLDR);
words are the message catalog's entries read from the YAML file itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from babel.numbers import format_decimal

from cxlib.analysis import innovation as inv
from cxlib.data import datasets

MESSAGES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                           / "messages.yml").read_text(encoding="utf-8"))
LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}


def big_panel() -> pd.DataFrame:
    """2018 units over 2 months: 1500 adopt in the second month, 518 never do."""
    units = [f"U{i:04d}" for i in range(2018)]
    first = [pd.Timestamp("2024-02-01") if i < 1500 else pd.NaT for i in range(2018)]
    rows = [{"unit_id": u, "period": p, "first_treated": f,
             "treated": bool(pd.notna(f) and p >= f)}
            for u, f in zip(units, first, strict=True)
            for p in (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"))]
    panel = pd.DataFrame(rows)
    panel.attrs["dropped_other_treated"] = [f"X{i}" for i in range(1200)]
    return panel


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_panel_summary_numbers_and_words(lang):
    text = inv.panel_summary(big_panel(), name="Kiosklar", language=lang)
    loc = LOCALES[lang]
    assert text.startswith("Kiosklar: " + format_decimal(2018, locale=loc) + " ")
    for n in (1500, 518, 1200):
        assert format_decimal(n, locale=loc) in text, n
    assert "(2024-01..2024-02)" in text
    _, second = text.split("\n")
    assert second.startswith(format_decimal(1200, locale=loc) + " ")
    assert "X0, X1" in second and second.endswith(", ...)")
    if lang != "en":
        assert not re.search(r"\d,\d{3}", text) and "units" not in text
        assert MESSAGES["inv_panel_dropped_other_treated"][lang].split(":")[0][4:] in second


def test_side_effects_note_in_turkish(sample_dir):
    # the sample's CSAT has gaps (branch-months without an answer): the note says so
    w = datasets.load(sample_dir)
    p = inv.build_panel(w.orders, w.innovations, innovation_id="proactive_calls",
                        responses=w.responses)
    tr = inv.side_effects(p, estimator="callaway_santanna", outcomes=("csat",), language="tr")
    note = tr["note"].iloc[0]
    n_missing = int(p["csat"].isna().sum())
    assert note.startswith(f"'csat' {format_decimal(n_missing, locale='tr_TR')} ")
    assert note.endswith(MESSAGES["did_gaps_available"]["tr"])
    en = inv.side_effects(p, estimator="callaway_santanna", outcomes=("csat",))
    assert en["note"].iloc[0].startswith(f"'csat' is missing in {n_missing:,} unit-periods")
    np.testing.assert_allclose(tr["estimate"], en["estimate"])  # only the words differ
