"""Figures of satisfaction per touchpoint (cxlib.analysis.satisfaction, cxlib.analysis.compare).

Every figure greys cells and points whose base is below the minimum
(``low_base`` of :func:`cxlib.analysis.satisfaction.summarize`) and says so in its legend:
small bases are shown, flagged, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cxlib import i18n
from cxlib.plots.labels import number_ticks, percent_label, percent_ticks, value_label

__all__ = ["LOW_BASE_GREY", "LOW_BASE_LABEL", "journey_chart", "segment_heatmap",
           "trend_lines"]

LOW_BASE_GREY = "#bdbdbd"
LOW_BASE_LABEL = "low base (n < minimum)"
UP, DOWN = "▲", "▼"


#: Line colours (Okabe–Ito order, colour-blind safe; cxlib.plots.palette).
LINE_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
               "#000000"]


def _kind_label(kind: str, language: str) -> str:
    key = {"touchpoint": "fig_touchpoint", "weakest link": "fig_weakest_link"}.get(
        kind, "fig_low_base")
    return i18n.t(key, language)


def _interval_label(statistic: str, language: str) -> str:
    name = i18n.t(f"w_{statistic}", language) if i18n.has(f"w_{statistic}") else statistic
    return i18n.t("fig_interval", language).format(statistic=name)


#: Statistics that are shares (0..1): their axes and cell texts read as percent.
_SHARES = ("top2", "bottom")


def _value_ticks(axis: Any, statistic: str, language: str) -> None:
    """A statistic's value axis: percent for a box share, else numbers (language marks)."""
    if statistic in _SHARES:
        percent_ticks(axis, language)
    else:
        number_ticks(axis, language)


def _cmap(summary: pd.DataFrame, statistic: str) -> str:
    """Red = bad, blue = good (colour-blind safe), whatever the metric's polarity."""
    from cxlib.plots.palette import diverging

    hib = bool(summary["higher_is_better"].iloc[0]) if "higher_is_better" in summary else True
    good_high = hib if statistic == "mean" else statistic != "bottom"
    return diverging(good_high)


def segment_heatmap(
    summary: pd.DataFrame,
    *,
    by: str,
    statistic: str = "mean",
    moves: pd.DataFrame | None = None,
    label: Callable[[str], str] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Touchpoint × segment heatmap of one statistic.

    Parameters
    ----------
    summary
        :func:`cxlib.analysis.satisfaction.summarize` output with ``by=[by]``.
    by
        The segment column.
    statistic
        Which statistic to draw.
    moves
        Comparison table (:func:`cxlib.analysis.compare.compare_segments`, adjusted):
        its significant rows are marked ▲ (segment better than the rest) or ▼
        (worse); non-significant rows are not marked.
    label
        Touchpoint id -> display name.
    language
        ``en``, ``tr`` or ``az``: legend and axis labels (message catalog).
    ax
        Axes to draw on (new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        Low-base cells are grey (legend entry), colours run red (worse) to
        green (better) respecting the metric's polarity.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Patch

    s = summary[summary["statistic"] == statistic]
    grid = s.pivot_table(index="unit", columns=by, values="estimate", sort=False)
    low = s.pivot_table(index="unit", columns=by, values="low_base", sort=False,
                        aggfunc="max").reindex_like(grid).fillna(True).astype(bool)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * grid.shape[1] + 4, 0.3 * grid.shape[0] + 1.5))
    ax.set_facecolor(LOW_BASE_GREY)
    shown = grid.mask(low)  # cell texts with the language's decimal mark (tr/az: 4,14)
    annot = shown.apply(lambda col: col.map(
        lambda v: "" if pd.isna(v) else percent_label(round(float(v), 3), language)
        if statistic in _SHARES else i18n.format_number(float(v), language, 2)))
    sns.heatmap(shown, annot=annot.to_numpy(), fmt="", cmap=_cmap(s, statistic), cbar=True,
                ax=ax, annot_kws={"fontsize": 7}, linewidths=0.5, linecolor="white")
    if ax.collections and ax.collections[0].colorbar is not None:
        _value_ticks(ax.collections[0].colorbar.ax.yaxis, statistic, language)
    handles = []
    if low.to_numpy().any():
        handles.append(Patch(facecolor=LOW_BASE_GREY, edgecolor="white",
                             label=i18n.t("fig_low_base", language)))
    if moves is not None and len(moves):
        mv = moves[(moves["statistic"] == statistic) & (moves["segment_column"] == by)]
        if "significant" in mv:
            mv = mv[mv["significant"].astype(bool)]
        mv = mv[mv["direction"].isin(["up", "down"])] if "direction" in mv else mv.iloc[:0]
        rows, cols = list(grid.index), list(grid.columns)
        for r in mv.itertuples():
            if r.touchpoint_id in rows and r.segment in cols:
                ax.text(cols.index(r.segment) + 0.95, rows.index(r.touchpoint_id) + 0.35,
                        UP if r.direction == "up" else DOWN, ha="right", fontsize=8,
                        color="black")
        if len(mv):
            handles.append(Patch(facecolor="none", edgecolor="none",
                                 label=i18n.t("fig_better_worse", language).format(
                                     up=UP, down=DOWN)))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.08), frameon=False,
                  fontsize=8)
    if label:
        ax.set_yticks(np.arange(len(grid)) + 0.5, [label(t) for t in grid.index], fontsize=7)
    # segments in the figure's language (v_<by>_<value>: kitle, varlıklı), as the brief says
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5,
                  [value_label(by, c, language) for c in grid.columns])
    ax.set_ylabel("")
    ax.set_xlabel(i18n.t(f"col_{by}", language) if i18n.has(f"col_{by}") else by)
    return ax


def journey_chart(
    summary: pd.DataFrame,
    catalog: Any,
    *,
    statistic: str = "mean",
    weakest: pd.DataFrame | None = None,
    label: Callable[[str], str] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Stages left to right, each touchpoint's estimate with its interval.

    Parameters
    ----------
    summary
        :func:`cxlib.analysis.satisfaction.summarize` output at the touchpoint level (no ``by``).
    catalog
        The touchpoint catalog (journey order and stages).
    statistic
        Which statistic to draw.
    weakest
        :func:`cxlib.analysis.compare.weakest_links` output: significant weakest links in red.
    label
        Id -> display name (touchpoints and stages).
    language
        ``en``, ``tr`` or ``az``: legend and axis labels (message catalog).
    ax
        Axes to draw on (new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        Low-base points (and their intervals) are grey, with a legend entry.
    """
    import matplotlib.pyplot as plt

    s = summary[(summary["statistic"] == statistic) & (summary["level"] == "touchpoint")].copy()
    order = {tp: i for i, tp in enumerate(catalog.frame["touchpoint_id"])}
    s["stage"] = s["unit"].map(catalog.frame.set_index("touchpoint_id")["stage"])
    s = s.dropna(subset=["stage"])
    s["x"] = s["unit"].map(order)
    s = s.sort_values("x").reset_index(drop=True)
    s["x"] = np.arange(len(s))
    weak = set(weakest["weakest"].dropna()) if weakest is not None and len(weakest) else set()
    s["kind"] = np.where(s["low_base"], LOW_BASE_LABEL,
                         np.where(s["unit"].isin(weak), "weakest link", "touchpoint"))
    colors = {"touchpoint": "#0072B2", "weakest link": "#D55E00", LOW_BASE_LABEL: LOW_BASE_GREY}
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8, 0.25 * len(s)), 4.5))
    for kind, g in s.groupby("kind", sort=False):
        ax.errorbar(g["x"], g["estimate"], yerr=[g["estimate"] - g["ci_low"],
                                                  g["ci_high"] - g["estimate"]],
                    fmt="o", color=colors[kind], ecolor=colors[kind], elinewidth=0.9,
                    markersize=5, label=_kind_label(kind, language), zorder=3)
    for stage in catalog.stages:
        xs = s.loc[s["stage"] == stage, "x"]
        if len(xs):
            ax.axvline(xs.min() - 0.5, color="black", lw=0.5)
            ax.text(xs.mean(), 1.01, label(stage) if label else stage, ha="center",
                    transform=ax.get_xaxis_transform(), fontsize=9)
    ax.set_xticks(s["x"])
    ax.set_xticklabels([label(t) if label else t for t in s["unit"]], rotation=90, fontsize=7)
    ax.set_xlabel("")
    ax.set_ylabel(_interval_label(statistic, language))
    _value_ticks(ax.yaxis, statistic, language)
    if len(s):
        ax.legend(frameon=False, fontsize=8)
    return ax


def trend_lines(
    summary: pd.DataFrame,
    *,
    statistic: str = "mean",
    hue: str = "unit",
    label: Callable[[str], str] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Estimate per period with interval bands, one line per ``hue`` value.

    Parameters
    ----------
    summary
        :func:`cxlib.analysis.satisfaction.summarize` output with ``period=...``.
    statistic
        Which statistic to draw.
    hue
        Column giving one line per value (default ``unit``).
    label
        Value of ``hue`` -> display name.
    language
        ``en``, ``tr`` or ``az``: legend and axis labels (message catalog).
    ax
        Axes to draw on (new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        Lines with shaded interval bands; low-base points drawn grey (legend entry).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary[summary["statistic"] == statistic]
    periods = sorted(s["period"].unique())
    pos = {p: i for i, p in enumerate(periods)}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    groups = list(s.groupby(hue, sort=False))
    palette = sns.color_palette(LINE_COLORS, n_colors=max(len(groups), 1))
    for (key, g), color in zip(groups, palette, strict=False):
        g = g.sort_values("period")
        x = g["period"].map(pos).to_numpy()
        ax.fill_between(x, g["ci_low"], g["ci_high"], color=color, alpha=0.15, linewidth=0)
        ax.plot(x, g["estimate"], marker="o", color=color,
                label=label(key) if label else str(key))
        low = g["low_base"].to_numpy(bool)
        if low.any():
            ax.scatter(x[low], g["estimate"].to_numpy()[low], color=LOW_BASE_GREY, zorder=4,
                       edgecolor="#777777", s=40)
    if s["low_base"].any():
        ax.scatter([], [], color=LOW_BASE_GREY, edgecolor="#777777", s=40,
                   label=i18n.t("fig_low_base", language))
    ax.set_xticks(range(len(periods)), periods, rotation=45)
    ax.set_ylabel(_interval_label(statistic, language))
    _value_ticks(ax.yaxis, statistic, language)
    if groups:
        ax.legend(frameon=False, fontsize=8)
    return ax
