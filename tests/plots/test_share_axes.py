"""Every share axis (values 0..1) of cxlib.plots reads as percent in the figure's language.

Issue 15: notebook 04's retention axis read "0,8" where the report text says "%80".
The independent reference for each language is Babel's own percent pattern of the
locale (CLDR: en "#,##0%", tr "%#,##0", az "#,##0%"), read here from Babel and not
from cxlib, so a tick that drops the sign or puts it on the wrong side fails.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from babel import Locale

from cxlib.analysis import contacts as ct
from cxlib.analysis import profitability as pf
from cxlib.data.synth.care import simulate_care
from cxlib.plots import contacts as cplot
from cxlib.plots import customers as pc
from cxlib.plots.labels import percent_label
from cxlib.plots.satisfaction import journey_chart, segment_heatmap, trend_lines

LOCALE = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}


def pct(whole: int, language: str) -> str:
    """``whole`` percent written by the locale's CLDR pattern (the reference)."""
    pattern = Locale.parse(LOCALE[language]).percent_formats[None].pattern
    sign_first = pattern.index("%") < pattern.index("#")
    return f"%{whole}" if sign_first else f"{whole}%"


def ticks(axis) -> list[str]:
    """The drawn tick labels of an axis (formatted at draw time)."""
    axis.axes.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def assert_percent_axis(axis, language: str) -> None:
    labels = ticks(axis)
    assert labels, "no tick labels drawn"
    for lab in labels:
        assert "%" in lab, f"{language}: tick {lab!r} is not a percent"
        unsigned = lab.lstrip("-−")  # below-zero ticks of an interval's margin: -%20
        assert unsigned.startswith("%") == pct(1, language).startswith("%"), (language, lab)
        assert not unsigned.strip("%").startswith(("0,", "0.")), lab  # "0,8": the defect


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted() -> ct.DoseResponse:
    t = simulate_care(1500, seed=2, tables=("contacts", "customers", "responses"))[0]
    r = ct.customer_rates(t["contacts"], t["customers"], responses=t["responses"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return ct.dose_response(r, outcomes={"overall": "gaussian", "retained": "binomial"},
                                n_boot=10, min_customers=100)


def test_reference_patterns() -> None:
    assert [pct(80, lang) for lang in ("en", "tr", "az")] == ["80%", "%80", "80%"]


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_percent_label_follows_the_locale_and_keeps_needed_decimals(language: str) -> None:
    assert percent_label(0.8, language) == pct(80, language)
    assert percent_label(0.30000000000000004, language) == pct(30, language)
    # 2.5 %: a tick between 2 % and 3 % must not read as either of them
    mark = "." if language == "en" else ","
    assert percent_label(0.025, language) == pct(2, language).replace("2", f"2{mark}5")


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_retention_curve_axis_is_percent(fitted, language: str) -> None:
    ax = cplot.dose_curve_plot(fitted.curves, group="all", outcome="retained",
                               thresholds=fitted.thresholds, language=language)
    assert_percent_axis(ax.yaxis, language)
    assert not any("%" in lab for lab in ticks(ax.xaxis))  # contacts a month: a rate, not a share


def test_score_curve_axis_stays_numbers(fitted) -> None:
    ax = cplot.dose_curve_plot(fitted.curves, group="all", outcome="overall", language="tr")
    labels = ticks(ax.yaxis)
    assert labels and not any("%" in lab for lab in labels)  # a 1-10 score is not a share


def test_dose_panels_percent_on_every_panel(fitted) -> None:
    fig = cplot.dose_panels(fitted.curves, groups=list(fitted.grids), outcome="retained",
                            thresholds=fitted.thresholds, by="segment", language="tr")
    for ax in fig.axes:
        if ax.get_visible():
            assert_percent_axis(ax.yaxis, "tr")


@pytest.mark.parametrize("language", ["tr", "az"])
def test_dose_table_axis_is_percent(language: str) -> None:
    t = ct.dose_table(pd.DataFrame({"k": [0, 1, 1, 2, 5] * 10, "y": [0, 1, 0, 1, 1] * 10}),
                      dose="k", outcome="y", cap=3)
    assert_percent_axis(cplot.dose_table_plot(t, language=language).yaxis, language)


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_whale_and_hourly_share_axes(language: str) -> None:
    w = pf.whale_curve(pd.DataFrame({"profit": [5.0, -2.0, 3.0, -1.0]}))
    ax = pc.whale_plot(w, language=language)
    assert_percent_axis(ax.xaxis, language)
    assert_percent_axis(ax.yaxis, language)
    assert pct(100, language) in ticks(ax.yaxis)
    h = pd.DataFrame({"channel_type": ["x"] * 3, "hour": [9, 12, 15], "share": [0.2, 0.3, 0.5]})
    assert_percent_axis(pc.hourly_plot(h, language=language).yaxis, language)


def _box_summary(statistic: str) -> pd.DataFrame:
    rows = []
    for i, (u, seg, per) in enumerate([(u, s, p) for u in ("website", "store_checkout")
                                       for s in ("a", "b") for p in ("2024Q1", "2024Q2")]):
        est = 0.55 + 0.05 * i
        rows.append({"unit": u, "level": "touchpoint", "seg": seg, "period": per,
                     "metric": "csat", "statistic": statistic, "estimate": est,
                     "ci_low": est - 0.05, "ci_high": est + 0.05, "n": 100, "low_base": False,
                     "higher_is_better": True})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("language", ["tr", "az"])
def test_box_share_statistics_read_as_percent(language: str) -> None:
    s = _box_summary("top2")
    ax = trend_lines(s[s["seg"] == "a"], statistic="top2", language=language)
    assert_percent_axis(ax.yaxis, language)
    ax = segment_heatmap(s[s["period"] == "2024Q1"], by="seg", statistic="top2",
                         language=language)
    assert_percent_axis(ax.collections[0].colorbar.ax.yaxis, language)
    cells = [t.get_text() for t in ax.texts if any(c.isdigit() for c in t.get_text())]
    assert cells and all("%" in c for c in cells), cells
    from cxlib.data.catalog import load_catalog

    cat = load_catalog("retail")
    summ = s[(s["seg"] == "a") & (s["period"] == "2024Q1")]
    ax = journey_chart(summ, cat, statistic="top2", language=language)
    assert_percent_axis(ax.yaxis, language)
    # a mean score is not a share: numbers, no percent sign
    ax = trend_lines(_box_summary("mean").query("seg == 'a'"), statistic="mean",
                     language=language)
    assert not any("%" in lab for lab in ticks(ax.yaxis))
