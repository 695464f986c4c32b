"""Satisfaction figures: return the Axes, grey low bases (with a legend entry), mark moves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
from matplotlib.colors import to_hex

from cxlib.data.catalog import load_catalog
from cxlib.plots.satisfaction import (
    LOW_BASE_GREY,
    LOW_BASE_LABEL,
    journey_chart,
    segment_heatmap,
    trend_lines,
)

GREY = to_hex(LOW_BASE_GREY)


def summary_rows(units, segs=None, periods=None, low=()):
    rows = []
    for u in units:
        for seg in segs or [None]:
            for per in periods or [None]:
                est = 3 + 0.1 * len(rows)
                rows.append({"unit": u, "level": "touchpoint", "seg": seg, "period": per,
                             "metric": "csat", "statistic": "mean", "estimate": est,
                             "ci_low": est - 0.2, "ci_high": est + 0.2,
                             "n": 10 if (u, seg) in low or u in low else 100,
                             "low_base": (u, seg) in low or u in low,
                             "higher_is_better": True})
    return pd.DataFrame(rows)


def legend_texts(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_heatmap_greys_low_base_with_legend_and_marks_only_significant_moves():
    s = summary_rows(["website", "store_checkout", "sales_staff"], segs=["a", "b"],
                     low={("sales_staff", "b")})
    moves = pd.DataFrame({
        "touchpoint_id": ["website", "store_checkout", "sales_staff"],
        "segment_column": "seg", "segment": ["a", "b", "a"], "statistic": "mean",
        "significant": [True, True, False], "direction": ["up", "down", ""]})
    ax = segment_heatmap(s, by="seg", moves=moves)
    assert isinstance(ax, plt.Axes)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    data = np.ma.masked_invalid(mesh.get_array()).reshape(3, 2)
    assert data.mask[2, 1] and data.mask.sum() == 1   # the low-base cell is not coloured
    assert to_hex(ax.get_facecolor()) == GREY          # ... so the grey background shows
    assert LOW_BASE_LABEL in legend_texts(ax)
    marks = [t.get_text() for t in ax.texts if t.get_text() in ("▲", "▼")]
    assert sorted(marks) == ["▲", "▼"]                 # the non-significant row: no mark


def test_heatmap_colours_follow_polarity():
    s = summary_rows(["store_checkout", "website"], segs=["a", "b"])
    ax = segment_heatmap(s.assign(metric="ces", higher_is_better=False), by="seg")
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    assert mesh.get_cmap().name == "RdBu_r"  # high effort = red (colour-blind safe map)
    ax2 = segment_heatmap(s, by="seg")
    assert next(c for c in ax2.collections if isinstance(c, QuadMesh)).get_cmap().name == \
        "RdBu"


def test_trend_lines_draw_bands_and_grey_low_base():
    s = summary_rows(["pre_sale", "sale"], periods=["2025H1", "2025H2", "2026H1"])
    s.loc[5, ["low_base", "n"]] = [True, 5]
    ax = trend_lines(s)
    assert isinstance(ax, plt.Axes)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2                               # one interval band per line
    greys = [c for c in ax.collections if isinstance(c, PathCollection)
             and len(c.get_offsets()) and to_hex(c.get_facecolor()[0]) == GREY]
    assert len(greys) == 1 and len(greys[0].get_offsets()) == 1
    assert LOW_BASE_LABEL in legend_texts(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025H1", "2025H2", "2026H1"]


def test_journey_chart_greys_low_base_and_reds_weakest():
    cat = load_catalog("retail")
    s = summary_rows(["website", "advertising", "store_checkout", "sales_staff"],
                     low={"advertising"})
    weakest = pd.DataFrame({"stage": ["sale"], "weakest": ["store_checkout"]})
    ax = journey_chart(s, cat, weakest=weakest)
    assert isinstance(ax, plt.Axes)
    texts = legend_texts(ax)
    assert LOW_BASE_LABEL in texts and "weakest link" in texts
    colors = {to_hex(line.get_color()): line.get_xydata()[:, 0].tolist()
              for line in ax.get_lines() if line.get_linestyle() == "None"}
    # x follows the catalog's journey order: advertising 0, website 1, store_checkout 2,
    # sales_staff 3; error-bar markers are grey for the low base, red for the weakest link
    assert colors[GREY] == [0.0] and colors["#d55e00"] == [2.0]


@pytest.mark.parametrize("language", ["tr", "az"])
def test_numbers_use_the_languages_decimal_comma(language):
    from tests.plots.texts import DECIMAL_POINT, figure_texts

    s = summary_rows(["website", "store_checkout"], segs=["a", "b"])
    ax = segment_heatmap(s, by="seg", language=language)
    texts = figure_texts(ax.figure)
    assert "3,00" in texts and "3,10" in texts  # the cell annotations (3 + 0.1 k)
    assert not [t for t in texts if DECIMAL_POINT.search(t)], texts
    s = summary_rows(["pre_sale", "sale"], periods=["2025H1", "2025H2"])
    for ax in (trend_lines(s, language=language),
               journey_chart(summary_rows(["website", "store_checkout"]),
                             load_catalog("retail"), language=language)):
        texts = figure_texts(ax.figure)
        assert any("," in t for t in texts)
        assert not [t for t in texts if DECIMAL_POINT.search(t)], texts


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_heatmap_names_segments_in_the_language(language):
    """Columns read as the brief says the segments (issue 15); the reference is the
    message catalog's YAML file, read here without cxlib."""
    from pathlib import Path

    import yaml

    messages = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                               / "messages.yml").read_text(encoding="utf-8"))
    s = summary_rows(["website", "store_checkout"], segs=["mass", "affluent", "B07"])
    ax = segment_heatmap(s.rename(columns={"seg": "segment"}), by="segment",
                         language=language)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    # a value the catalog has no word for (a branch id) stays as recorded
    assert ticks == [messages["v_segment_mass"][language],
                     messages["v_segment_affluent"][language], "B07"]
