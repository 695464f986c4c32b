"""Figures of the care-or-nuisance analysis draw what the tables say."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from cxlib.analysis import contact_money as cm
from cxlib.analysis import contacts as ct
from cxlib.data.synth.care import simulate_care
from cxlib.plots import contacts as cplot


@pytest.fixture(scope="module")
def fitted():
    t = simulate_care(1500, seed=2, tables=("contacts", "customers", "responses"))[0]
    r = ct.customer_rates(t["contacts"], t["customers"], responses=t["responses"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dr = ct.dose_response(r, outcomes={"overall": "gaussian", "retained": "binomial"},
                              n_boot=10, min_customers=100)
    m = cm.money(dr, costs="phone:1.2, email:0.1, sms:0.05, visit:12, messenger:0.6, "
                 "branch:4", value_retained=500.0, inbound=None)
    return dr, m


def test_dose_curve_plot_marks_threshold_today_and_money(fitted):
    dr, m = fitted
    ax = cplot.dose_curve_plot(dr.curves, group="all", outcome="retained",
                               thresholds=dr.thresholds, money=m.optimum)
    assert isinstance(ax, Axes)
    th = dr.thresholds.set_index(["group", "outcome"]).loc[("all", "retained")]
    xs = sorted(float(line.get_xdata()[0]) for line in ax.lines[1:])
    expected = sorted([th["threshold"], th["today_rate"],
                       float(m.optimum.set_index("group").loc["all", "money_optimal_rate"])])
    np.testing.assert_allclose(xs, expected)
    curve = dr.curves[(dr.curves["group"] == "all") & (dr.curves["outcome"] == "retained")]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curve["estimate"])
    assert "threshold" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    plt.close("all")


def test_other_figures(fitted):
    _, m = fitted
    ax = cplot.money_curve_plot(m.curves, group="mass", language="tr")
    assert ax.get_xlabel().startswith("müşteri")
    t = ct.dose_table(pd.DataFrame({"k": [0, 1, 1, 2, 5] * 10, "y": [0, 1, 0, 1, 1] * 10}),
                      dose="k", outcome="y", cap=3)
    ax = cplot.dose_table_plot(t, language="az")
    assert [x.get_text() for x in ax.get_xticklabels()] == ["0", "1", "2", "3+"]
    eff = pd.DataFrame({"model": ["within", "cross"], "term": ["pulse", "pulse"],
                        "estimate": [0.1, 0.2], "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.3]})
    ax = cplot.effects_plot(eff)
    assert len(ax.get_yticks()) == 2
    plt.close("all")
