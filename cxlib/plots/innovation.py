"""Figures of the innovation analysis (cxlib.analysis.innovation and cxlib.analysis.did).

Labels come from ``cxlib.i18n`` (``innovation.*`` in ``cxlib/locales/messages.yml``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["event_study_plot"]


def event_study_plot(
    data: pd.DataFrame,
    *,
    x: str = "event_time",
    y: str = "estimate",
    ax: Axes | None = None,
    outcome: str = "margin",
    language: str = "en",
    ylabel: str | None = None,
) -> Axes:
    """Event-study coefficients with interval bars by period relative to adoption.

    Parameters
    ----------
    data
        Tidy rows with ``x``, ``y``, ``ci_low``, ``ci_high`` and optionally
        ``reference`` (True on the normalised period): ``event_study(...).tidy()``,
        the ``dynamic`` rows of ``callaway_santanna`` / ``sun_abraham``, or
        ``pretrend(...)["event"]``. Rows without ``x`` (the aggregated ATT) are
        ignored. The legend names the intervals' level from the ``level`` column
        (``DidResult.tidy()`` carries it; 95% when absent).
    ax
        Axes to draw on (a new figure when None).
    outcome, language
        Name the y axis ("effect on margin per unit-period") in en, tr or az.
    ylabel
        Overrides the y-axis label.

    Returns
    -------
    Axes
        With one error bar per estimated period, the reference period as a hollow
        marker at 0 (labelled), a dashed line at −0.5 between pre and post periods,
        and a zero line. Leads left of the dashed line should hug zero if trends were
        parallel before the roll-out.
    """
    import matplotlib.pyplot as plt

    from cxlib import i18n
    from cxlib.plots.labels import number_ticks

    def label(key: str, **fmt: str) -> str:
        text = i18n.t(f"innovation.{key}", language)
        return text.format(**fmt) if fmt else text

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    t = data.dropna(subset=[x]).sort_values(x)
    ref = t["reference"].fillna(False).astype(bool) if "reference" in t else \
        pd.Series(False, index=t.index)
    est = t[~ref]
    levels = t["level"].dropna() if "level" in t else pd.Series(dtype=float)
    level = f"{100 * (float(levels.iloc[0]) if len(levels) else 0.95):.4g}"
    err = np.vstack([est[y] - est["ci_low"], est["ci_high"] - est[y]])
    ax.errorbar(est[x], est[y], yerr=err, fmt="o", color="#4c72b0", ecolor="#4c72b0",
                capsize=3, lw=1.2, label=label("ci", level=level))
    if ref.any():
        r = t[ref]
        ax.plot(r[x], r[y], "o", mfc="white", mec="black", ms=7,
                label=label("reference"))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
    ax.set_xlabel(label("event_time_axis"))
    what = i18n.t(f"innovation.{outcome}", language) if i18n.has(f"innovation.{outcome}") \
        else outcome
    ax.set_ylabel(ylabel or label("effect_on", outcome=what))
    number_ticks(ax.yaxis, language)  # tr 3.000 and -0,5, as the other figures read
    number_ticks(ax.xaxis, language)
    ax.legend(loc="best", frameon=False)
    return ax
