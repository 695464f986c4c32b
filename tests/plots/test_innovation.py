"""The event-study figure's axes read numbers with the language's marks (issue 15).

Reference: Babel's ``format_decimal`` in tr_TR / az_AZ / en (CLDR's grouping and
decimal marks), not cxlib.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from babel.numbers import format_decimal

from cxlib.plots.innovation import event_study_plot

LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}


def _tick_texts(axis) -> dict[float, str]:
    axis.axes.figure.canvas.draw()
    return {float(v): t.get_text() for v, t in zip(axis.get_majorticklocs(),
                                                   axis.get_majorticklabels(), strict=True)}


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_event_study_axes_use_the_languages_marks(lang):
    data = pd.DataFrame({"event_time": [-2, -1, 0, 1, 2],
                         "estimate": [100.0, 0.0, 2500.0, 3000.0, 3600.0],
                         "ci_low": [-500.0, 0.0, 2000.0, 2400.0, 3000.0],
                         "ci_high": [700.0, 0.0, 3000.0, 3600.0, 4200.0],
                         "reference": [False, True, False, False, False]})
    ax = event_study_plot(data, language=lang)
    ys = _tick_texts(ax.yaxis)
    assert 3000.0 in ys
    assert ys[3000.0] == format_decimal(3000, locale=LOCALES[lang])
    assert ys[3000.0] == {"en": "3,000", "tr": "3.000", "az": "3.000"}[lang]
    xs = _tick_texts(ax.xaxis)
    assert any(v < 0 for v in xs)  # the leads before adoption, in the language's marks
    for v, text in xs.items():
        assert text == format_decimal(round(v, 2) + 0.0, format="#,##0.##",
                                      locale=LOCALES[lang])
    plt.close(ax.figure)
