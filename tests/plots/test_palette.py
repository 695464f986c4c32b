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
