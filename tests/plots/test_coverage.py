"""Coverage figures: the legend never covers a bar, every axis text in the language."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cxlib.plots.coverage import coverage_bars, coverage_heatmap
from tests.plots.texts import figure_texts

NAMES = ["Product knowledge", "Product in use", "Branch visit", "Call centre", "App"]


def _coverage(by: str | None = None) -> pd.DataFrame:
    rows = []
    for seg in ([None] if by is None else ["B01", "B02"]):
        for i, name in enumerate(NAMES):
            rows.append({"touchpoint_id": f"tp{i}", "name": name, "depth": 0,
                         "stage": "use" if i < 2 else "service",
                         "status": ["covered", "covered", "low_base", "covered", "blind_spot"][i],
                         # long bars at the bottom: where a "lower right" legend sat
                         "n_respondents_all": [40, 30, 5, 900, 0][i] + (0 if seg != "B02" else 7),
                         **({by: seg} if by else {})})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_bar_legend_covers_no_bar_and_texts_are_translated(language):
    ax = coverage_bars(_coverage(), min_base=10, language=language)
    texts = figure_texts(ax.figure)
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert not [b for b in bars if b.width > 0 and b.overlaps(legend)]
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # outside the axes
    assert ax.get_xlabel() == {"en": "Respondents", "tr": "Yanıtlayanlar",
                               "az": "Cavab verənlər"}[language]
    assert not [t for t in texts if "_" in t], texts
    plt.close("all")


@pytest.mark.parametrize("language", ["en", "tr"])
def test_heatmap_axis_is_named_in_the_language(language):
    ax = coverage_heatmap(_coverage("branch_id"), by="branch_id", language=language)
    texts = figure_texts(ax.figure)
    assert ax.get_xlabel() == {"en": "Branch", "tr": "Şube"}[language]
    assert not [t for t in texts if "_" in t], texts
    plt.close("all")
