"""Figures of the key-driver analysis (cxlib.analysis.drivers)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from matplotlib.axes import Axes

from cxlib import i18n
from cxlib.plots.labels import number_ticks, percent_ticks

__all__ = ["importance_bars", "ipa_scatter"]

#: Okabe–Ito colours (cxlib.plots.palette): never red against green.
QUADRANT_COLORS = {"fix first": "#D55E00", "keep up": "#0072B2", "low priority": "#999999",
                   "possible overkill": "#56B4E9"}


def importance_bars(
    tidy: pd.DataFrame,
    *,
    label: Callable[[str], str] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of importance with bootstrap intervals, most important on top.

    ``tidy`` is ``DriverResult.tidy()``; ``label`` maps a driver id to a display
    name (e.g. ``lambda t: catalog.name(t, language)``); ``language`` (en, tr, az)
    sets the axis label (message catalog).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(tidy) + 1.2))
    t = tidy.sort_values("importance", ascending=False).copy()
    t["label"] = [label(d) if label else d for d in t["driver"]]
    sns.barplot(data=t, x="importance", y="label", color="#0072B2", ax=ax)
    ax.errorbar(t["importance"], range(len(t)),
                xerr=[t["importance"] - t["ci_low"], t["ci_high"] - t["importance"]],
                fmt="none", ecolor="black", capsize=2, lw=1)
    for i, flag in enumerate(t["coef_flag"]):
        if flag:
            ax.text(t["ci_high"].iloc[i], i, f"  {flag}", va="center", fontsize=8, color="#D55E00")
    ax.set_xlabel(i18n.t("fig_share_r2", language))
    percent_ticks(ax.xaxis, language)  # a share of R², as the report text writes it
    ax.set_ylabel("")
    return ax


def ipa_scatter(
    ipa: pd.DataFrame,
    *,
    label: Callable[[str], str] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Importance–performance scatter: labelled points, intervals on both axes,
    quadrant lines where ``drivers.importance_performance`` split them (the means).

    ``ipa`` is that function's output; ``label`` maps a driver id to a display
    name; ``language`` (en, tr, az) sets axis labels and the quadrant legend. The
    x axis is reversed for a lower-is-better metric (CES), so that "keep up"
    stays top right.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 6))
    words = {q: i18n.t("w_" + q.replace(" ", "_"), language) for q in QUADRANT_COLORS}
    shown = ipa.assign(quadrant=ipa["quadrant"].map(lambda q: words.get(q, q)))
    sns.scatterplot(data=shown, x="performance", y="importance", hue="quadrant",
                    palette={words[q]: c for q, c in QUADRANT_COLORS.items()}, s=60, ax=ax,
                    zorder=3)
    if ax.get_legend() is not None:
        ax.get_legend().set_title(i18n.t("col_quadrant", language))
    ax.errorbar(ipa["performance"], ipa["importance"],
                xerr=[ipa["performance"] - ipa["perf_low"], ipa["perf_high"] - ipa["performance"]],
                yerr=[ipa["importance"] - ipa["imp_low"], ipa["imp_high"] - ipa["importance"]],
                fmt="none", ecolor="#999999", lw=0.8, zorder=2)
    for r in ipa.itertuples():
        ax.annotate(label(r.driver) if label else r.driver, (r.performance, r.importance),
                    xytext=(4, 4), textcoords="offset points", fontsize=8)
    # the split the quadrants were computed with (means, see importance_performance)
    xsplit = (ipa["performance_split"].iloc[0] if "performance_split" in ipa
              else ipa["performance"].mean())
    ysplit = (ipa["importance_split"].iloc[0] if "importance_split" in ipa
              else ipa["importance"].mean())
    ax.axvline(xsplit, color="black", ls="--", lw=0.8)
    ax.axhline(ysplit, color="black", ls="--", lw=0.8)
    if "higher_is_better" in ipa and not bool(ipa["higher_is_better"].iloc[0]):
        ax.invert_xaxis()  # lower is better (CES): good performance stays on the right
    ax.set_xlabel(i18n.t("fig_performance", language))
    ax.set_ylabel(i18n.t("fig_importance", language))
    number_ticks(ax.xaxis, language)
    percent_ticks(ax.yaxis, language)
    return ax
