"""Figures of satisfaction per touchpoint (cxlib.metrics, cxlib.compare)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["journey_chart", "segment_heatmap", "trend_lines"]

LOW_BASE_GREY = "#d9d9d9"


def segment_heatmap(
    summary: pd.DataFrame,
    *,
    by: str,
    statistic: str = "mean",
    moves: pd.DataFrame | None = None,
    label: Callable[[str], str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Touchpoint × segment heatmap of one statistic; low-base cells greyed,
    significant moves (from :mod:`cxlib.compare`) marked ▲ / ▼."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary[summary["statistic"] == statistic]
    grid = s.pivot_table(index="unit", columns=by, values="estimate", sort=False)
    low = s.pivot_table(index="unit", columns=by, values="low_base", sort=False,
                        aggfunc="max").reindex_like(grid).fillna(True).astype(bool)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * grid.shape[1] + 4, 0.3 * grid.shape[0] + 1.5))
    ax.set_facecolor(LOW_BASE_GREY)
    sns.heatmap(grid.mask(low), annot=True, fmt=".2f", cmap="RdYlGn", cbar=True, ax=ax,
                annot_kws={"fontsize": 7}, linewidths=0.5, linecolor="white")
    if moves is not None and len(moves):
        mv = moves[(moves["statistic"] == statistic) & (moves["segment_column"] == by)]
        rows, cols = list(grid.index), list(grid.columns)
        for r in mv.itertuples():
            if r.touchpoint_id in rows and r.segment in cols:
                ax.text(cols.index(r.segment) + 0.92, rows.index(r.touchpoint_id) + 0.35,
                        "▲" if r.direction == "up" else "▼", ha="right", fontsize=8,
                        color="black")
    if label:
        ax.set_yticklabels([label(t) for t in grid.index], fontsize=7)
    ax.set_ylabel("")
    ax.set_xlabel(by)
    return ax


def journey_chart(
    summary: pd.DataFrame,
    catalog,
    *,
    statistic: str = "mean",
    weakest: pd.DataFrame | None = None,
    label: Callable[[str], str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Stages left to right, each touchpoint's estimate with its interval;
    low-base points greyed, weakest links in red."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary[(summary["statistic"] == statistic) & (summary["level"] == "touchpoint")].copy()
    order = {tp: i for i, tp in enumerate(catalog.frame["touchpoint_id"])}
    s["stage"] = s["unit"].map(catalog.frame.set_index("touchpoint_id")["stage"])
    s = s.dropna(subset=["stage"])
    s["x"] = s["unit"].map(order)
    s = s.sort_values("x").reset_index(drop=True)
    s["x"] = np.arange(len(s))
    weak = set(weakest["weakest"].dropna()) if weakest is not None and len(weakest) else set()
    s["kind"] = np.where(s["low_base"], "low base",
                         np.where(s["unit"].isin(weak), "weakest link", "touchpoint"))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8, 0.25 * len(s)), 4.5))
    ax.errorbar(s["x"], s["estimate"], yerr=[s["estimate"] - s["ci_low"],
                                              s["ci_high"] - s["estimate"]],
                fmt="none", ecolor="#888888", lw=0.8)
    sns.scatterplot(data=s, x="x", y="estimate", hue="kind", ax=ax, zorder=3,
                    palette={"touchpoint": "#4c72b0", "weakest link": "#d62728",
                             "low base": LOW_BASE_GREY})
    for stage in catalog.stages:
        xs = s.loc[s["stage"] == stage, "x"]
        if len(xs):
            ax.axvline(xs.min() - 0.5, color="black", lw=0.5)
            ax.text(xs.mean(), 1.01, label(stage) if label else stage, ha="center",
                    transform=ax.get_xaxis_transform(), fontsize=9)
    ax.set_xticks(s["x"])
    ax.set_xticklabels([label(t) if label else t for t in s["unit"]], rotation=90, fontsize=7)
    ax.set_xlabel("")
    ax.set_ylabel(f"{statistic} (95% interval)")
    return ax


def trend_lines(
    summary: pd.DataFrame,
    *,
    statistic: str = "mean",
    hue: str = "unit",
    ax: Axes | None = None,
) -> Axes:
    """Estimate per period with interval bands, one line per ``hue`` value."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary[summary["statistic"] == statistic].sort_values("period")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.lineplot(data=s, x="period", y="estimate", hue=hue, marker="o", ax=ax)
    for _, g in s.groupby(hue):
        ax.fill_between(g["period"], g["ci_low"], g["ci_high"], alpha=0.15)
    ax.set_ylabel(f"{statistic} (95% interval)")
    ax.tick_params(axis="x", rotation=45)
    return ax
