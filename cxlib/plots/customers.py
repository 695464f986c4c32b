"""Figures of the customer area: profitability, self-service and the cut-off rule.

Computing and drawing apart: every function takes a tidy table from
:mod:`cxlib.analysis.profitability` or :mod:`cxlib.analysis.service` and draws
it. No figure labels a point with a personal column (customer ids, names):
figures are pixels and cannot be masked in a shared report.

Every text of a figure (axis labels, legend titles, tick and category labels)
comes from the message catalog (``cxlib/locales/messages.yml``) in the
figure's ``language``: a column ``c`` is named by ``col_c``, a category value
``v`` of it by ``v_c_v`` (``v_customer_type_trade``), ``True``/``False`` by
``yes``/``no``; a value the catalog lacks is shown as it is in the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cxlib import i18n
from cxlib.plots.labels import column_label, number_ticks, percent_ticks, value_label
from cxlib.plots.palette import NEUTRAL, OKABE_ITO

__all__ = ["cutoff_plot", "hourly_plot", "segment_profit_plot", "whale_plot"]


def _ax(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def whale_plot(data: pd.DataFrame, *, x: str = "share_customers", y: str = "cumulative_share",
               hue: str | None = None, language: str = "en", ax: Axes | None = None,
               **kwargs: Any) -> Axes:
    """The whale curve: cumulative share of profit against the share of customers.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.profitability.whale_curve` output (``hue`` = its ``by``).
    language
        ``en``, ``tr`` or ``az``: axis labels, percent ticks, legend (message catalog).

    Returns
    -------
    Axes
        One line per group, a dashed line at 100% of the total profit.
    """
    ax = _ax(ax)
    groups = [(None, data)] if hue is None else list(data.groupby(hue, sort=True))
    for key, g in groups:
        label = None if key is None or hue is None else value_label(hue, key, language)
        ax.plot(np.r_[0, g[x]], np.r_[0, g[y]], label=label, **kwargs)
    ax.axhline(1.0, ls="--", color="grey", lw=1)
    ax.set_xlabel(i18n.t("fig_whale_x", language))
    ax.set_ylabel(i18n.t("fig_whale_y", language))
    percent_ticks(ax.xaxis, language)  # both axes are shares: en 80%, tr %80, az 80%
    percent_ticks(ax.yaxis, language)
    if hue is not None:
        ax.legend(title=column_label(hue, language))
    return ax


def segment_profit_plot(data: pd.DataFrame, *, column: str = "segment", language: str = "en",
                        ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mean profit per customer by segment with its interval (a zero line).

    Parameters
    ----------
    data
        :func:`cxlib.analysis.profitability.segment_profit` output.
    language
        ``en``, ``tr`` or ``az``: axis labels and segment names (message catalog).
    """
    ax = _ax(ax)
    d = data.sort_values("mean_profit")
    # blue for a sure profit, orange for a sure loss (Okabe-Ito: never red against green)
    colors = np.where(d["ci_high"] < 0, OKABE_ITO["orange"],
                      np.where(d["ci_low"] > 0, OKABE_ITO["blue"], NEUTRAL))
    ypos = np.arange(len(d))
    ax.barh(ypos, d["mean_profit"], color=colors, **kwargs)
    ax.errorbar(d["mean_profit"], ypos, xerr=[d["mean_profit"] - d["ci_low"],
                                              d["ci_high"] - d["mean_profit"]],
                fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(ypos, [value_label(column, v, language) for v in d[column]])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(i18n.t("fig_profit_per_customer", language))
    number_ticks(ax.xaxis, language)
    ax.set_ylabel(column_label(column, language))
    return ax


def hourly_plot(data: pd.DataFrame, *, hue: str = "channel_type", cutoff: float | None = None,
                language: str = "en", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Orders around the clock: share by hour of day, one line per ``hue``; the cut-off marked.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.service.hourly_profile` output.
    language
        ``en``, ``tr`` or ``az``: axis labels, channel names, legend (message catalog).
    """
    ax = _ax(ax)
    for key, g in data.groupby(hue, sort=True):
        ax.plot(g["hour"], g["share"], marker="o", ms=3,
                label=value_label(hue, key, language), **kwargs)
    if cutoff is not None:
        ax.axvline(cutoff, color="black", ls="--", lw=1,
                   label=i18n.t("fig_cutoff_at", language).format(hour=f"{cutoff:g}"))
    ax.set_xticks(range(0, 24, 3))
    ax.set_xlabel(i18n.t("fig_hour_of_day", language))
    ax.set_ylabel(i18n.t("fig_share_of_orders", language))
    percent_ticks(ax.yaxis, language)
    ax.legend(title=column_label(hue, language))
    return ax


def cutoff_plot(data: pd.DataFrame, *, column: str = "urgent", language: str = "en",
                ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Customer-days a year lost to the cut-off rule, by group, with intervals.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.service.cutoff_cost` output.
    language
        ``en``, ``tr`` or ``az``: axis label and group names ("Urgent: yes", "all
        orders"; message catalog).
    """
    ax = _ax(ax, (6, 3))
    d = data.reset_index(drop=True)
    ypos = np.arange(len(d))
    v = d["customer_days_per_year"]
    ax.barh(ypos, v, color=OKABE_ITO["blue"], **kwargs)
    ax.errorbar(v, ypos, xerr=[v - d["days_ci_low"], d["days_ci_high"] - v], fmt="none",
                ecolor="black", capsize=3)
    everyone = i18n.t("fig_all_orders", language)
    if column in d.columns:
        name = column_label(column, language)
        labels = [everyone if str(x) == "all" else f"{name}: {value_label(column, x, language)}"
                  for x in d[column]]
    else:
        labels = [everyone] * len(d)
    ax.set_yticks(ypos, labels)
    ax.set_xlabel(i18n.t("fig_customer_days_lost", language))
    number_ticks(ax.xaxis, language)
    return ax
