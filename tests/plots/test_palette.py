"""Colour-blind safety of the figures' colours, by simulation.

Reference: Machado, Oliveira & Fernandes (2009), "A physiologically-based model
for simulation of color vision deficiency", IEEE TVCG 15(6): the severity-1.0
matrices for protanopia and deuteranopia, applied in linear RGB; distances are
CIE76 ΔE in CIELAB (D65). Red (#d62728) against green (#2ca02c), the pair the
figures used before, collapses to ΔE ≈ 7 for a deuteranope, the old coverage
colours to ≈ 21; every legend's colours must stay at least 24 apart under both
deficiencies, the ends of the diverging map at least 30.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cxlib.plots import coverage, drivers, palette

MACHADO = {  # severity 1.0, Machado et al. (2009), Table (linear RGB)
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
MIN_DELTA_E = 24.0


def _linear(hex_: str) -> np.ndarray:
    c = np.array([int(hex_.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def worst_delta(colours: list[str]) -> float:
    """Smallest ΔE between two colours of the list, for either deficiency."""
    out = np.inf
    for m in MACHADO.values():
        labs = [_lab(m @ _linear(c)) for c in colours]
        for a, b in itertools.combinations(labs, 2):
            out = min(out, float(np.linalg.norm(a - b)))
    return out


def test_the_check_can_fail_on_red_against_green():
    assert worst_delta(["#d62728", "#2ca02c"]) < 12  # the old weakest-link / keep-up pair
    assert worst_delta(["#4daf7c", "#f0b44c", "#d9534f"]) < MIN_DELTA_E  # old coverage


@pytest.mark.parametrize("colours", [
    list(coverage.STATUS_COLORS.values()),
    [c for k, c in drivers.QUADRANT_COLORS.items()],
    [palette.GOOD, palette.BAD, palette.NEUTRAL],
], ids=["coverage status", "importance-performance quadrants", "good/bad/neutral"])
def test_legend_colours_stay_apart_for_colour_blind_readers(colours):
    assert worst_delta(colours) >= MIN_DELTA_E, colours


def test_diverging_map_ends_stay_apart():
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    cmap = mpl.colormaps[palette.diverging(True)]
    ends = [to_hex(cmap(0.0)), to_hex(cmap(1.0))]
    assert worst_delta(ends) >= 30
    assert palette.diverging(False).endswith("_r")


def _hue_family(hex_: str) -> str | None:
    """'red', 'green' or None: the hue of a saturated colour (HSV; greys are None)."""
    import colorsys

    r, g, b = (int(hex_.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    if s < 0.35 or v < 0.25:
        return None
    deg = h * 360
    if deg <= 20 or deg >= 335:
        return "red"
    if 75 <= deg <= 170:
        return "green"
    return None


def _module_colours(source: str) -> list[str]:
    """Hex literals and named red/green colours written in a module's source."""
    import re

    from matplotlib.colors import to_hex

    hexes = re.findall(r"#[0-9a-fA-F]{6}\b", source)
    names = "red|green|darkred|darkgreen|crimson|lime|forestgreen"
    named = re.findall(rf"""["']((?:tab:)?(?:{names}))["']""", source)
    return [h.upper() for h in hexes] + [to_hex(n).upper() for n in named]


def _red_green_pairs(colours: list[str]) -> list[tuple[str, str]]:
    reds = sorted({c for c in colours if _hue_family(c) == "red"})
    greens = sorted({c for c in colours if _hue_family(c) == "green"})
    return [(r, g) for r in reds for g in greens if worst_delta([r, g]) < MIN_DELTA_E]


def test_the_red_green_scan_finds_the_old_profit_bars():
    # the profit-per-customer bars before: red #c44e52 (loss) against green #55a868 (profit)
    old = 'np.where(d["ci_high"] < 0, "#c44e52", np.where(d["ci_low"] > 0, "#55a868", "x"))'
    assert _red_green_pairs(_module_colours(old)) == [("#C44E52", "#55A868")]
    assert _red_green_pairs(_module_colours('color="red" ... color="green"'))
    assert _hue_family("#0072B2") is None and _hue_family("#E69F00") is None  # blue, orange


def test_no_plots_module_uses_a_red_green_pair():
    from pathlib import Path

    import cxlib.plots

    folder = Path(cxlib.plots.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 7
    bad = {p.name: pairs for p in modules
           if (pairs := _red_green_pairs(_module_colours(p.read_text(encoding="utf-8"))))}
    assert not bad, bad


def test_profit_bars_are_blue_and_orange():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.colors import to_hex

    from cxlib.plots import customers

    d = pd.DataFrame({"segment": ["a", "b", "c"], "mean_profit": [-5.0, 1.0, 8.0],
                      "ci_low": [-8.0, -2.0, 4.0], "ci_high": [-1.0, 3.0, 12.0]})
    ax = customers.segment_profit_plot(d, language="tr")
    colours = [to_hex(p.get_facecolor()).upper() for p in ax.patches]
    assert colours == [palette.OKABE_ITO["orange"], palette.NEUTRAL.upper(),
                       palette.OKABE_ITO["blue"]]
    assert worst_delta(colours) >= MIN_DELTA_E
    plt.close("all")
