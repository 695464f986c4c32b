"""Figures of the customer area: profitability, self-service and the cut-off rule.

Computing and drawing apart: every function takes a tidy table from
:mod:`cxlib.analysis.profitability` or :mod:`cxlib.analysis.service` and draws
it. No figure labels a point with a personal column (customer ids, names):
figures are pixels and cannot be masked in a shared report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["cutoff_plot", "hourly_plot", "segment_profit_plot", "whale_plot"]


def _ax(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def whale_plot(data: pd.DataFrame, *, x: str = "share_customers", y: str = "cumulative_share",
               hue: str | None = None, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The whale curve: cumulative share of profit against the share of customers.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.profitability.whale_curve` output (``hue`` = its ``by``).

    Returns
    -------
    Axes
        One line per group, a dashed line at 100% of the total profit.
    """
    ax = _ax(ax)
    groups = [(None, data)] if hue is None else list(data.groupby(hue, sort=True))
    for key, g in groups:
        ax.plot(np.r_[0, g[x]], np.r_[0, g[y]] * 100, label=None if key is None else str(key),
                **kwargs)
    ax.axhline(100, ls="--", color="grey", lw=1)
    ax.set_xlabel("share of customers, most profitable first")
    ax.set_ylabel("cumulative profit, % of total")
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    if hue is not None:
        ax.legend(title=hue)
    return ax


def segment_profit_plot(data: pd.DataFrame, *, column: str = "segment", ax: Axes | None = None,
                        **kwargs: Any) -> Axes:
    """Mean profit per customer by segment with its interval (a zero line).

    Parameters
    ----------
    data
        :func:`cxlib.analysis.profitability.segment_profit` output.
    """
    ax = _ax(ax)
    d = data.sort_values("mean_profit")
    colors = np.where(d["ci_high"] < 0, "#c44e52", np.where(d["ci_low"] > 0, "#55a868",
                                                             "#8c8c8c"))
    ypos = np.arange(len(d))
    ax.barh(ypos, d["mean_profit"], color=colors, **kwargs)
    ax.errorbar(d["mean_profit"], ypos, xerr=[d["mean_profit"] - d["ci_low"],
                                              d["ci_high"] - d["mean_profit"]],
                fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(ypos, d[column].astype(str))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("profit per customer (95% interval)")
    return ax


def hourly_plot(data: pd.DataFrame, *, hue: str = "channel_type", cutoff: float | None = None,
                ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Orders around the clock: share by hour of day, one line per ``hue``; the cut-off marked.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.service.hourly_profile` output.
    """
    ax = _ax(ax)
    for key, g in data.groupby(hue, sort=True):
        ax.plot(g["hour"], g["share"] * 100, marker="o", ms=3, label=str(key), **kwargs)
    if cutoff is not None:
        ax.axvline(cutoff, color="#c44e52", ls="--", lw=1, label=f"cut-off {cutoff:g}:00")
    ax.set_xticks(range(0, 24, 3))
    ax.set_xlabel("hour of day")
    ax.set_ylabel("% of orders")
    ax.legend()
    return ax


def cutoff_plot(data: pd.DataFrame, *, column: str = "urgent", ax: Axes | None = None,
                **kwargs: Any) -> Axes:
    """Customer-days a year lost to the cut-off rule, by group, with intervals.

    Parameters
    ----------
    data
        :func:`cxlib.analysis.service.cutoff_cost` output.
    """
    ax = _ax(ax, (6, 3))
    d = data.reset_index(drop=True)
    ypos = np.arange(len(d))
    v = d["customer_days_per_year"]
    ax.barh(ypos, v, color="#4c72b0", **kwargs)
    ax.errorbar(v, ypos, xerr=[v - d["days_ci_low"], d["days_ci_high"] - v], fmt="none",
                ecolor="black", capsize=3)
    labels = d[column].astype(str) if column in d.columns else ["all"] * len(d)
    ax.set_yticks(ypos, [f"{column}: {x}" for x in labels])
    ax.set_xlabel("customer-days lost a year (95% interval)")
    return ax
