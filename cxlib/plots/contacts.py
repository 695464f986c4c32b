"""Figures of the care-or-nuisance analysis (cxlib.analysis.contacts, .specialists).

Computing and drawing apart: every function takes the tidy frames the analysis
returns and draws on an Axes (a new figure when ``ax`` is None);
:func:`dose_panels` and :func:`money_panels` draw one panel per group, two
columns wide, with one legend for the figure. Colours come from
:mod:`cxlib.plots.palette` (Okabe–Ito, colour-blind safe). Every text comes
from the message catalog in the figure's ``language`` (:mod:`cxlib.plots.labels`):
outcomes by ``col_<outcome>``, groups by ``v_<by>_<group>`` (the group ``all``
by ``fig_all_customers``), models and terms by ``v_model_*`` and ``v_term_*``;
numbers with the language's decimal mark, shares (retention, :data:`SHARE_OUTCOMES`)
as percent in the language's pattern (en 80%, tr %80, az 80%).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cxlib import i18n
from cxlib.plots.labels import column_label, number_ticks, percent_ticks, value_label
from cxlib.plots.palette import BAD, GOOD, OKABE_ITO

__all__ = ["SHARE_OUTCOMES", "dose_curve_plot", "dose_panels", "dose_table_plot",
           "effects_plot", "money_curve_plot", "money_panels"]

#: Outcomes that are shares of customers (0/1 per customer, a curve of 0..1): their
#: value axis reads as percent in the figure's language (en 80%, tr %80), not 0,8.
SHARE_OUTCOMES = ("retained", "churned", "subscribed")

_CURVE, _THRESHOLD, _MONEY = GOOD, BAD, OKABE_ITO["bluish_green"]
_MODELS = [OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["sky_blue"],
           OKABE_ITO["reddish_purple"]]


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 4)) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _group_title(group: str, by: str | None, language: str) -> str:
    if str(group) == "all":
        return i18n.t("fig_all_customers", language)
    return value_label(by, group, language) if by else str(group)


def _num(x: float, language: str) -> str:
    return i18n.format_number(float(x), language, 2)


def dose_curve_plot(data: pd.DataFrame, *, group: str = "all", outcome: str = "retained",
                    thresholds: pd.DataFrame | None = None,
                    money: pd.DataFrame | None = None, ax: Axes | None = None,
                    language: str = "en", by: str | None = None, legend: bool = True,
                    xlabel: str | None = None, ylabel: str | None = None,
                    share: bool | None = None, **kwargs: object) -> Axes:
    """One dose-response curve with its interval band, today's rate, the threshold and
    the money-optimal rate.

    Parameters
    ----------
    data
        ``DoseResponse.curves`` (group, outcome, dose_value, estimate, ci_low, ci_high).
    group, outcome
        Which curve.
    thresholds
        ``DoseResponse.thresholds``: draws the threshold (line and interval band) and
        today's rate (a dotted line).
    money
        ``MoneyResult.optimum``: draws the money-optimal rate.
    language
        ``en``, ``tr`` or ``az``: every text (message catalog).
    by
        The column the groups come from (``compare_by``): names the group in the title.
    legend
        Draw a legend with the rates' values (False: the caller draws one legend for
        a figure of panels, :func:`dose_panels`).
    share
        Whether the outcome is a share (0..1): its axis in percent. None: the
        outcomes of :data:`SHARE_OUTCOMES` (retention), not scores or contact rates.
    **kwargs
        Passed to the curve's ``ax.plot``.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    c = data[(data["group"] == group) & (data["outcome"] == outcome)].sort_values("dose_value")
    name = column_label(outcome, language)
    ax.fill_between(c["dose_value"], c["ci_low"], c["ci_high"], color=_CURVE, alpha=0.25,
                    lw=0, label=i18n.t("fig_ci95", language))
    ax.plot(c["dose_value"], c["estimate"], color=_CURVE, lw=2, label=name, **kwargs)
    values = {}
    if thresholds is not None:
        t = thresholds[(thresholds["group"] == group) & (thresholds["outcome"] == outcome)]
        if len(t) and np.isfinite(t["threshold"].iloc[0]):
            r = t.iloc[0]
            ax.axvspan(r["ci_low"], r["ci_high"], color=_THRESHOLD, alpha=0.12, lw=0)
            ax.axvline(r["threshold"], color=_THRESHOLD, lw=1.5,
                       label=i18n.t("fig_threshold", language))
            ax.axvline(r["today_rate"], color="black", ls=":", lw=1.2,
                       label=i18n.t("fig_today", language))
            values.update({i18n.t("fig_threshold", language): r["threshold"],
                           i18n.t("fig_today", language): r["today_rate"]})
    if money is not None:
        m = money[money["group"] == group]
        if len(m):
            rate = m["money_optimal_rate"].iloc[0]
            ax.axvline(rate, color=_MONEY, ls="--", lw=1.5,
                       label=i18n.t("fig_money_optimal", language))
            values[i18n.t("fig_money_optimal", language)] = rate
    ax.set_xlabel(xlabel or i18n.t("fig_dose", language))
    ax.set_ylabel(ylabel or name)
    ax.set_title(_group_title(group, by, language))
    number_ticks(ax.xaxis, language)
    if (outcome in SHARE_OUTCOMES) if share is None else share:
        percent_ticks(ax.yaxis, language)
    else:
        number_ticks(ax.yaxis, language)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        labels = [f"{k} {_num(values[k], language)}" if k in values else k for k in labels]
        ax.legend(handles, labels, loc="best", frameon=False, fontsize=9)
    return ax


def money_curve_plot(data: pd.DataFrame, *, group: str = "all", ax: Axes | None = None,
                     language: str = "en", by: str | None = None,
                     **kwargs: object) -> Axes:
    """Margin minus contact cost per customer-year against the proactive rate.

    Parameters
    ----------
    data
        ``MoneyResult.curves`` (group, dose_value, value, ci_low, ci_high).
    language, by
        As in :func:`dose_curve_plot`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    c = data[data["group"] == group].sort_values("dose_value")
    ax.fill_between(c["dose_value"], c["ci_low"], c["ci_high"], color=_MONEY, alpha=0.25, lw=0)
    ax.plot(c["dose_value"], c["value"], color=_MONEY, lw=2, **kwargs)
    i = int(np.argmax(c["value"].to_numpy()))
    ax.axvline(c["dose_value"].iloc[i], color=_MONEY, ls="--", lw=1.2,
               label=i18n.t("fig_money_optimal", language))
    ax.set_xlabel(i18n.t("fig_dose", language))
    ax.set_ylabel(i18n.t("fig_margin_value", language))
    ax.set_title(_group_title(group, by, language))
    number_ticks(ax.xaxis, language)
    number_ticks(ax.yaxis, language, 0)
    return ax


def _panel_grid(n: int, ncols: int, height: float) -> tuple[Figure, np.ndarray]:
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, height * nrows),
                             squeeze=False)
    for a in axes.flat[n:]:
        a.set_visible(False)
    return fig, axes.flat[:n]


def _shared_legend(fig: Figure, axes: Sequence[Axes]) -> None:
    seen: dict[str, object] = {}
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(len(seen), 5),
                   frameon=False, fontsize=11)


def dose_panels(data: pd.DataFrame, *, groups: Sequence[str], outcome: str = "retained",
                thresholds: pd.DataFrame | None = None, money: pd.DataFrame | None = None,
                by: str | None = None, language: str = "en", ncols: int = 2,
                share: bool | None = None) -> Figure:
    """Dose-response curves, one panel per group (``ncols`` wide), one legend below.

    Parameters
    ----------
    data, outcome, thresholds, money, by, language, share
        As in :func:`dose_curve_plot`.
    groups
        The groups to draw, in order (``list(DoseResponse.grids)``).

    Returns
    -------
    Figure
    """
    fig, axes = _panel_grid(len(groups), ncols, 3.8)
    for a, g in zip(axes, groups, strict=True):
        dose_curve_plot(data, group=g, outcome=outcome, thresholds=thresholds, money=money,
                        ax=a, language=language, by=by, legend=False, share=share)
    _shared_legend(fig, axes)
    return fig


def money_panels(data: pd.DataFrame, *, groups: Sequence[str], by: str | None = None,
                 language: str = "en", ncols: int = 2) -> Figure:
    """Money curves (:func:`money_curve_plot`), one panel per group, one legend below.

    Returns
    -------
    Figure
    """
    fig, axes = _panel_grid(len(groups), ncols, 3.8)
    for a, g in zip(axes, groups, strict=True):
        money_curve_plot(data, group=g, ax=a, language=language, by=by)
    _shared_legend(fig, axes)
    return fig


def dose_table_plot(data: pd.DataFrame, *, ax: Axes | None = None, language: str = "en",
                    dose: str = "", outcome: str = "", source: str = "",
                    xlabel: str = "", ylabel: str = "", **kwargs: object) -> Axes:
    """Observed outcome by dose level with interval bars (:func:`dose_table`).

    Parameters
    ----------
    dose, outcome
        The table's dose and outcome columns: axis labels ``col_<dose>``,
        ``col_<outcome>`` in ``language`` (``xlabel``/``ylabel`` override them).
    source
        The data set, titled by ``fig_<source>_title`` (``bank``, ``telecom``).

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    x = np.arange(len(data))
    err = np.clip(np.vstack([data["rate"] - data["ci_low"], data["ci_high"] - data["rate"]]),
                  0.0, None)
    ax.errorbar(x, data["rate"], yerr=err, fmt="o-", color=_CURVE, capsize=3, **kwargs)
    ax.set_xticks(x, data["dose_level"].astype(str))
    ax.set_xlabel(xlabel or (column_label(dose, language) if dose else ""))
    ax.set_ylabel(ylabel or (column_label(outcome, language) if outcome
                             else i18n.t("fig_observed", language)))
    if source:
        ax.set_title(i18n.t(f"fig_{source}_title", language))
    percent_ticks(ax.yaxis, language)
    return ax


def effects_plot(data: pd.DataFrame, *, label: str = "term", hue: str | None = "model",
                 ax: Axes | None = None, language: str = "en", **kwargs: object) -> Axes:
    """Estimates with interval bars, one row per term (and model): continuity, mood.

    Parameters
    ----------
    data
        Rows with ``label``, estimate, ci_low, ci_high and optionally ``hue``; terms
        are named by ``v_<label>_<term>``, models by ``v_<hue>_<model>``.

    Returns
    -------
    Axes
    """
    ax = _axes(ax, (7, 0.6 * len(data) + 1.4))
    models = list(dict.fromkeys(data[hue])) if hue and hue in data else [None]
    first = next(iter(dict.fromkeys(data[label])))
    y = 0
    ticks, names = [], []
    for t in dict.fromkeys(data[label]):
        for k, m in enumerate(models):
            r = data[(data[label] == t) & ((data[hue] == m) if m is not None else True)]
            if r.empty:
                continue
            r = r.iloc[0]
            shown = value_label(hue, m, language) if m is not None and hue else None
            ax.errorbar(r["estimate"], y, xerr=[[r["estimate"] - r["ci_low"]],
                                                [r["ci_high"] - r["estimate"]]],
                        fmt="o", color=_MODELS[k % len(_MODELS)], capsize=3,
                        label=shown if t == first else None, **kwargs)
            ticks.append(y)
            names.append(value_label(label, t, language) + (f" ({shown})" if shown else ""))
            y += 1
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ticks, names)
    ax.invert_yaxis()
    ax.set_xlabel(i18n.t("fig_effect", language))
    number_ticks(ax.xaxis, language)
    if models != [None]:
        ax.legend(loc="best", frameon=False, fontsize=9, title=column_label(hue, language))
    return ax
