"""Colour-blind-safe colours for every cxlib figure (one place, tested).

Categorical colours come from the Okabe–Ito palette (Okabe & Ito 2008, "Color
Universal Design"), which stays distinguishable with the common colour-vision
deficiencies (deuteranopia, protanopia, tritanopia); diverging colour maps are
ColorBrewer's ``RdBu`` (Brewer 2003, marked colour-blind safe), with blue for
good and red for bad, never red against green. ``tests/plots/test_palette.py``
simulates the deficiencies (Machado, Oliveira & Fernandes 2009) and checks that
the colours of each legend stay apart.
"""

from __future__ import annotations

__all__ = ["BAD", "DIVERGING", "GOOD", "NEUTRAL", "OKABE_ITO", "diverging"]

#: The Okabe–Ito palette by name.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
    "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
    "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
GOOD = OKABE_ITO["blue"]  # a good result, a touchpoint as usual
BAD = OKABE_ITO["vermillion"]  # a weakest link, a blind spot, "fix first"
NEUTRAL = "#999999"  # low priority, no value
#: Diverging colour map, red (bad) to blue (good).
DIVERGING = "RdBu"


def diverging(good_high: bool = True) -> str:
    """The diverging colour map name with good values blue (``good_high``: high is good)."""
    return DIVERGING if good_high else f"{DIVERGING}_r"
