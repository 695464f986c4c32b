"""Figures of the customer area draw what the tables say."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.text
import numpy as np
import pandas as pd
import pytest

from cxlib import i18n
from cxlib.analysis import profitability as pf
from cxlib.plots import customers as pc


def test_whale_plot_draws_the_hand_worked_curve() -> None:
    w = pf.whale_curve(pd.DataFrame({"profit": [5.0, -2.0, 3.0, -1.0]}))
    ax = pc.whale_plot(w)
    line = ax.get_lines()[0]
    assert np.allclose(line.get_ydata(), [0, 1.0, 1.6, 1.4, 1.0])  # shares, percent ticks
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
    assert np.allclose(ax.get_lines()[0].get_ydata(), [0.2, 0.3, 0.5])
    c = pd.DataFrame({"urgent": ["all"], "customer_days_per_year": [10.0], "days_ci_low": [8.0],
                      "days_ci_high": [12.0]})
    ax = pc.cutoff_plot(c)
    assert ax.patches[0].get_width() == 10.0


# --- every text of the figures in the report's language (issue 15) --------------------

#: Catalog keys whose English text these figures used to hard-code; the reference for
#: "no English left" is the catalog itself (its ``en`` column), not strings copied here.
FIGURE_KEYS = ["fig_whale_x", "fig_whale_y", "fig_profit_per_customer", "fig_hour_of_day",
               "fig_share_of_orders", "fig_cutoff_at", "fig_customer_days_lost",
               "fig_all_orders", "col_urgent", "col_customer_type", "col_channel_type",
               "v_customer_type_regular", "v_customer_type_trade", "v_customer_type_bargain",
               "v_segment_mass", "v_segment_affluent", "v_segment_business",
               "v_channel_type_self_service", "v_channel_type_assisted", "yes", "no"]
#: Raw data values and column names that must not reach a translated figure.
RAW = ["True", "False", "customer_type", "channel_type", "self_service", "urgent", "regular",
       "trade", "bargain", "mass", "affluent", "business", "assisted", "all"]


def _figures(language: str) -> list:
    """Each figure of the module drawn on data with the category values of a synthetic
    world (customer types, segments, channel types, urgent True/False + the ``all`` row)."""
    import matplotlib.pyplot as plt

    profit = pd.DataFrame({"profit": [5.0, -2.0, 3.0, -1.0, 4.0, 2.0],
                           "customer_type": ["regular", "trade", "bargain"] * 2})
    seg = pd.DataFrame({"segment": ["mass", "affluent", "business"],
                        "mean_profit": [10.0, -5.0, 2.0], "ci_low": [8.0, -7.0, -1.0],
                        "ci_high": [12.0, -3.0, 5.0]})
    types = seg.rename(columns={"segment": "customer_type"}).assign(
        customer_type=["regular", "trade", "bargain"])
    hours = pd.DataFrame({"channel_type": ["assisted"] * 3 + ["self_service"] * 3,
                          "hour": [9, 12, 15] * 2, "share": [0.2, 0.3, 0.5, 0.5, 0.3, 0.2]})
    cut = pd.DataFrame({"urgent": [False, True, "all"], "customer_days_per_year": [8.0, 2.0, 10.0],
                        "days_ci_low": [6.0, 1.0, 8.0], "days_ci_high": [10.0, 3.0, 12.0]})
    axes = [pc.whale_plot(pf.whale_curve(profit, by="customer_type"), hue="customer_type",
                          language=language),
            pc.segment_profit_plot(seg, language=language),
            pc.segment_profit_plot(types, column="customer_type", language=language),
            pc.hourly_plot(hours, cutoff=12, language=language),
            pc.cutoff_plot(cut, language=language)]
    figs = [ax.figure for ax in axes]
    for f in figs:
        f.canvas.draw()  # tick formatters write their labels at draw time
    texts = [[t.get_text() for t in f.findobj(matplotlib.text.Text) if t.get_text()]
             for f in figs]
    for f in figs:
        plt.close(f)
    return texts


@pytest.mark.parametrize("language", ["tr", "az"])
def test_figures_carry_no_english_in_tr_and_az(language: str) -> None:
    i18n.reset_untranslated()
    texts = _figures(language)
    assert not i18n.untranslated(), i18n.untranslated()
    english = {i18n.t(k, "en").split("{")[0].strip() for k in FIGURE_KEYS
               if i18n.t(k, "en") != i18n.t(k, language)}
    assert len(english) > 15  # the check has something to find
    for fig_texts in texts:
        assert len(fig_texts) >= 4  # axis labels, ticks, legend: the collection works
        for text in fig_texts:
            assert not [e for e in english if e.casefold() in text.casefold()
                        and (len(e) > 4 or e.casefold() == text.casefold())], text
            words = set(text.replace(":", " ").split())
            assert not words & set(RAW), text


def test_figure_texts_in_turkish_and_azerbaijani() -> None:
    # hand-checked against the catalog: dotted capital İ / dotless ı, ə, ş, ğ survive,
    # the percent sign goes before the number in Turkish (Babel tr_TR: %20)
    tr = [t for f in _figures("tr") for t in f]
    az = [t for f in _figures("az") for t in f]
    assert "yılda kaybedilen müşteri-günü (%95 aralık)" in tr
    assert "Acil: evet" in tr and "Acil: hayır" in tr and "tüm siparişler" in tr
    assert "Müşteri tipi" in tr and "indirim avcısı" in tr and "kesim saati 12:00" in tr
    assert "%20" in tr
    assert "Təcili: bəli" in az and "Təcili: xeyr" in az and "bütün sifarişlər" in az
    assert "ildə itirilən müştəri-günü (95% interval)" in az and "endirim ovçusu" in az
    en = [t for f in _figures("en") for t in f]
    assert "Urgent: yes" in en and "all orders" in en and "Customer type" in en
    assert "20%" in en


def test_unknown_category_values_fall_back_to_the_data() -> None:
    seg = pd.DataFrame({"region": ["Bakı", "Gəncə"], "mean_profit": [1.0, 2.0],
                        "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5]})
    ax = pc.segment_profit_plot(seg, column="region", language="az")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Bakı", "Gəncə"]
    assert ax.get_ylabel() == "Region"  # col_region in az


def test_value_ticks_use_the_locale_number_marks() -> None:
    # Babel's tr_TR/az_AZ grouping is "." (12.500), en "," (12,500); a zero tick is "0"
    c = pd.DataFrame({"urgent": ["all"], "customer_days_per_year": [12500.0],
                      "days_ci_low": [12000.0], "days_ci_high": [13000.0]})
    for language, mark in (("en", "10,000"), ("tr", "10.000"), ("az", "10.000")):
        ax = pc.cutoff_plot(c, language=language)
        ax.figure.canvas.draw()
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert mark in ticks and "0" in ticks and "-0" not in ticks, ticks
