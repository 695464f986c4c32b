"""Figures of the innovation analysis (cxlib.innovation)."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

__all__ = ["event_study_plot"]


def event_study_plot(tidy: pd.DataFrame, *, ax: Axes | None = None,
                     ylabel: str = "effect on margin per unit-period") -> Axes:
    """Event-study coefficients with 95% intervals by period relative to adoption.

    ``tidy`` is ``event_study(...).tidy()`` (or the ``dynamic`` rows of
    ``callaway_santanna(...).tidy()``); leads left of the dashed line should
    hug zero if trends were parallel before the roll-out.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    t = tidy.dropna(subset=["event_time"]).sort_values("event_time")
    sns.lineplot(data=t, x="event_time", y="estimate", marker="o", ax=ax, color="#4c72b0")
    ax.fill_between(t["event_time"], t["ci_low"], t["ci_high"], alpha=0.2, color="#4c72b0")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("periods relative to adoption (−1 = reference)")
    ax.set_ylabel(ylabel)
    return ax
