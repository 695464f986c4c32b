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


RAW_NAMES = {"relationship_years", "specialist_changes", "within_specialist", "cross_section",
             "pulse", "pulse_prev", "inbound_per_month", "retained", "all", "controlled",
             "uncontrolled", "subscribed", "churned", "model", "term"}
#: English words the review found in a Turkish report
ENGLISH = {"controlled", "uncontrolled", "subscribed", "contacts in the campaign", "churned",
           "retained", "today", "threshold", "mass", "affluent", "business"}


def _effects() -> pd.DataFrame:
    rows = [(m, t) for m in ("controlled", "uncontrolled")
            for t in ("relationship_years", "specialist_changes")]
    rows += [(m, t) for m in ("within_specialist", "cross_section")
             for t in ("pulse", "pulse_prev")]
    return pd.DataFrame({"model": [r[0] for r in rows], "term": [r[1] for r in rows],
                         "estimate": 0.1, "ci_low": 0.05, "ci_high": 0.15})


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_every_text_is_from_the_catalog_in_the_language(fitted, language):
    from tests.plots.texts import DECIMAL_POINT, figure_texts

    dr, m = fitted
    groups = list(dr.grids)
    assert "all" in groups
    figs = [cplot.dose_panels(dr.curves, groups=groups, outcome="retained",
                              thresholds=dr.thresholds, money=m.optimum, by="segment",
                              language=language),
            cplot.money_panels(m.curves, groups=groups, by="segment", language=language)]
    eff = _effects()
    for part in (eff.iloc[:4], eff.iloc[4:]):
        figs.append(cplot.effects_plot(part, language=language).figure)
    table = pd.DataFrame({"dose_level": ["1", "2", "3+"], "rate": [0.14, 0.11, 0.05],
                          "ci_low": [0.13, 0.10, 0.04], "ci_high": [0.15, 0.12, 0.06]})
    bank = cplot.dose_table_plot(table, dose="contacts", outcome="subscribed", source="bank",
                                 language=language)
    tel = cplot.dose_table_plot(table, dose="service_calls", outcome="churned",
                                source="telecom", language=language)
    figs += [bank.figure, tel.figure]
    texts = [t for f in figs for t in figure_texts(f)]
    if language == "en":  # English words are right in English, raw names never
        assert "retained" not in texts and "all" not in texts
        assert not [t for t in texts if "_" in t], [t for t in texts if "_" in t]
        assert "years with the same specialist (controlled)" in texts
        assert "specialist's mood last quarter (across customers)" in texts
    else:
        assert not RAW_NAMES & set(texts), RAW_NAMES & set(texts)
        joined = "\n".join(texts)
        assert not [w for w in ENGLISH if w in joined], [w for w in ENGLISH if w in joined]
        assert not [t for t in texts if "_" in t], [t for t in texts if "_" in t]
    assert bank.get_title() == {"en": "Bank telemarketing campaign (UCI)",
                                "tr": "Banka telefonla pazarlama kampanyası (UCI)",
                                "az": "Bankın telefon marketinqi kampaniyası (UCI)"}[language]
    assert tel.get_title() == {"en": "Telecom customers", "tr": "Telekom müşterileri",
                               "az": "Telekom müştəriləri"}[language]
    if language != "en":
        assert not [t for t in texts if DECIMAL_POINT.search(t)]
    plt.close("all")


def test_panels_are_readable_with_one_shared_legend(fitted):
    dr, m = fitted
    groups = list(dr.grids)
    fig = cplot.dose_panels(dr.curves, groups=groups, outcome="retained",
                            thresholds=dr.thresholds, money=m.optimum, by="segment",
                            language="tr")
    shown = [a for a in fig.axes if a.get_visible()]
    assert len(shown) == len(groups)
    assert all(a.get_legend() is None for a in shown)  # no legend inside a panel
    assert len(fig.legends) == 1
    assert min(t.get_fontsize() for t in fig.legends[0].get_texts()) >= 10
    width = fig.get_size_inches()[0] / max(a.get_subplotspec().get_geometry()[1] for a in shown)
    assert width >= 5  # inches per panel column: two columns, not four squeezed ones
    titles = {a.get_title() for a in shown}
    assert "tüm müşteriler" in titles and "kitle" in titles
    plt.close("all")
