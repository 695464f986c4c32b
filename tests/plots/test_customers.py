"""Figures of the customer area draw what the tables say."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from cxlib.analysis import profitability as pf
from cxlib.plots import customers as pc


def test_whale_plot_draws_the_hand_worked_curve() -> None:
    w = pf.whale_curve(pd.DataFrame({"profit": [5.0, -2.0, 3.0, -1.0]}))
    ax = pc.whale_plot(w)
    line = ax.get_lines()[0]
    assert np.allclose(line.get_ydata(), [0, 100, 160, 140, 100])
    assert np.allclose(line.get_xdata(), [0, 0.25, 0.5, 0.75, 1.0])


def test_segment_profit_plot_colours_loss_makers_red() -> None:
    seg = pd.DataFrame({"segment": ["a", "b"], "mean_profit": [10.0, -5.0],
                        "ci_low": [8.0, -7.0], "ci_high": [12.0, -3.0]})
    ax = pc.segment_profit_plot(seg)
    bars = ax.patches
    assert [round(b.get_width(), 6) for b in bars] == [-5.0, 10.0]  # sorted by profit
    assert bars[0].get_facecolor()[:3] != bars[1].get_facecolor()[:3]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]


def test_hourly_and_cutoff_plots() -> None:
    h = pd.DataFrame({"channel_type": ["x"] * 3, "hour": [9, 12, 15], "share": [0.2, 0.3, 0.5]})
    ax = pc.hourly_plot(h, cutoff=12)
    assert np.allclose(ax.get_lines()[0].get_ydata(), [20, 30, 50])
    c = pd.DataFrame({"urgent": ["all"], "customer_days_per_year": [10.0], "days_ci_low": [8.0],
                      "days_ci_high": [12.0]})
    ax = pc.cutoff_plot(c)
    assert ax.patches[0].get_width() == 10.0
