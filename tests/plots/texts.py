"""Every text a drawn figure shows (titles, labels, ticks, legends, annotations)."""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = ["DECIMAL_POINT", "figure_texts"]

#: A number written with a decimal point ("4.14"): wrong in a tr/az figure.
DECIMAL_POINT = re.compile(r"\d\.\d")


def figure_texts(fig: Figure) -> list[str]:
    """The non-empty strings of every Text artist of ``fig``, after drawing it (tick
    labels are formatted at draw time)."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
