"""Figures of the care-or-nuisance analysis (cxlib.analysis.contacts, .specialists).

Computing and drawing apart: every function takes the tidy frames the analysis
returns and draws on an Axes (a new figure when ``ax`` is None). Colours come
from seaborn's colour-blind-safe palette.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["dose_curve_plot", "dose_table_plot", "effects_plot", "money_curve_plot"]

_LABELS = {
    "en": {"dose": "proactive contacts per customer per month", "today": "today",
           "threshold": "nuisance threshold", "money": "money-optimal rate",
           "value": "margin minus contact cost per customer-year", "ci": "95% interval",
           "effect": "effect (95% interval)", "observed": "observed", "n": "n"},
    "tr": {"dose": "müşteri başına aylık proaktif temas", "today": "bugün",
           "threshold": "rahatsızlık eşiği", "money": "parasal optimum",
           "value": "müşteri-yıl başına marj eksi temas maliyeti", "ci": "%95 aralık",
           "effect": "etki (%95 aralık)", "observed": "gözlenen", "n": "n"},
    "az": {"dose": "müştəri başına aylıq proaktiv təmas", "today": "bu gün",
           "threshold": "zəhlətökənlik həddi", "money": "pul baxımından optimum",
           "value": "müştəri-il başına marja minus təmas xərci", "ci": "95% interval",
           "effect": "təsir (95% interval)", "observed": "müşahidə", "n": "n"},
}


def _lab(key: str, language: str) -> str:
    return _LABELS.get(language, _LABELS["en"]).get(key, _LABELS["en"][key])


def _palette() -> list:
    import seaborn as sns

    return sns.color_palette("colorblind")


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 4)) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def dose_curve_plot(data: pd.DataFrame, *, group: str = "all", outcome: str = "retained",
                    thresholds: pd.DataFrame | None = None,
                    money: pd.DataFrame | None = None, ax: Axes | None = None,
                    language: str = "en", xlabel: str | None = None,
                    ylabel: str | None = None, **kwargs: object) -> Axes:
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
    **kwargs
        Passed to the curve's ``ax.plot``.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    pal = _palette()
    c = data[(data["group"] == group) & (data["outcome"] == outcome)].sort_values("dose_value")
    ax.fill_between(c["dose_value"], c["ci_low"], c["ci_high"], color=pal[0], alpha=0.25,
                    lw=0, label=_lab("ci", language))
    ax.plot(c["dose_value"], c["estimate"], color=pal[0], lw=2, label=outcome, **kwargs)
    if thresholds is not None:
        t = thresholds[(thresholds["group"] == group) & (thresholds["outcome"] == outcome)]
        if len(t) and np.isfinite(t["threshold"].iloc[0]):
            r = t.iloc[0]
            ax.axvspan(r["ci_low"], r["ci_high"], color=pal[3], alpha=0.12, lw=0)
            ax.axvline(r["threshold"], color=pal[3], lw=1.5,
                       label=f"{_lab('threshold', language)} {r['threshold']:.2f}")
            ax.axvline(r["today_rate"], color="black", ls=":", lw=1.2,
                       label=f"{_lab('today', language)} {r['today_rate']:.2f}")
    if money is not None:
        m = money[money["group"] == group]
        if len(m):
            ax.axvline(m["money_optimal_rate"].iloc[0], color=pal[2], ls="--", lw=1.5,
                       label=f"{_lab('money', language)} {m['money_optimal_rate'].iloc[0]:.2f}")
    ax.set_xlabel(xlabel or _lab("dose", language))
    ax.set_ylabel(ylabel or outcome)
    ax.set_title(f"{group}")
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def money_curve_plot(data: pd.DataFrame, *, group: str = "all", ax: Axes | None = None,
                     language: str = "en", **kwargs: object) -> Axes:
    """Margin minus contact cost per customer-year against the proactive rate.

    Parameters
    ----------
    data
        ``MoneyResult.curves`` (group, dose_value, value, ci_low, ci_high).

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    pal = _palette()
    c = data[data["group"] == group].sort_values("dose_value")
    ax.fill_between(c["dose_value"], c["ci_low"], c["ci_high"], color=pal[2], alpha=0.25, lw=0)
    ax.plot(c["dose_value"], c["value"], color=pal[2], lw=2, **kwargs)
    i = int(np.argmax(c["value"].to_numpy()))
    ax.axvline(c["dose_value"].iloc[i], color=pal[2], ls="--", lw=1.2)
    ax.set_xlabel(_lab("dose", language))
    ax.set_ylabel(_lab("value", language))
    ax.set_title(group)
    return ax


def dose_table_plot(data: pd.DataFrame, *, ax: Axes | None = None, language: str = "en",
                    xlabel: str = "", ylabel: str = "", **kwargs: object) -> Axes:
    """Observed outcome by dose level with interval bars (:func:`dose_table`).

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    pal = _palette()
    x = np.arange(len(data))
    err = np.clip(np.vstack([data["rate"] - data["ci_low"], data["ci_high"] - data["rate"]]),
                  0.0, None)
    ax.errorbar(x, data["rate"], yerr=err, fmt="o-", color=pal[0], capsize=3, **kwargs)
    ax.set_xticks(x, data["dose_level"].astype(str))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or _lab("observed", language))
    return ax


def effects_plot(data: pd.DataFrame, *, label: str = "term", hue: str | None = "model",
                 ax: Axes | None = None, language: str = "en", **kwargs: object) -> Axes:
    """Estimates with interval bars, one row per term (and model): continuity, mood.

    Parameters
    ----------
    data
        Rows with ``label``, estimate, ci_low, ci_high and optionally ``hue``.

    Returns
    -------
    Axes
    """
    ax = _axes(ax, (6, 0.6 * len(data) + 1.2))
    pal = _palette()
    models = list(dict.fromkeys(data[hue])) if hue and hue in data else [None]
    y = 0
    ticks, names = [], []
    for t in dict.fromkeys(data[label]):
        for k, m in enumerate(models):
            r = data[(data[label] == t) & ((data[hue] == m) if m is not None else True)]
            if r.empty:
                continue
            r = r.iloc[0]
            ax.errorbar(r["estimate"], y, xerr=[[r["estimate"] - r["ci_low"]],
                                                [r["ci_high"] - r["estimate"]]],
                        fmt="o", color=pal[k % len(pal)], capsize=3,
                        label=m if t == next(iter(dict.fromkeys(data[label]))) else None,
                        **kwargs)
            ticks.append(y)
            names.append(f"{t}" + (f" ({m})" if m is not None else ""))
            y += 1
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ticks, names)
    ax.invert_yaxis()
    ax.set_xlabel(_lab("effect", language))
    if models != [None]:
        ax.legend(loc="best", frameon=False, fontsize=8)
    return ax
