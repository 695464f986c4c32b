"""Figure texts in the figure's language: column and value names, number and percent ticks.

Every text of a figure comes from the message catalog
(``cxlib/locales/messages.yml``): a column ``c`` is named by ``col_c``, a
category value ``v`` of it by ``v_c_v``, ``True``/``False`` by ``yes``/``no``;
a value the catalog lacks is shown as it is in the data (a branch id, a region
name). Tick labels use the language's decimal and grouping marks (tr/az: 2,5
and 12.500), and a share axis (0..1) reads as percent in the language's own
pattern (en 80%, tr %80, az 80%), so a figure reads like the report text around it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cxlib import i18n

__all__ = ["column_label", "number_ticks", "percent_label", "percent_ticks", "value_label"]


def column_label(column: str, language: str) -> str:
    """A column's name in ``language`` (``col_<column>``), else the column as it is."""
    key = f"col_{column}"
    return i18n.t(key, language) if i18n.has(key) else str(column)


def value_label(column: str, value: Any, language: str) -> str:
    """A category value in ``language``: ``v_<column>_<value>``, booleans as yes/no,
    else the value as it is."""
    if isinstance(value, (bool, np.bool_)) or str(value) in ("True", "False"):
        return i18n.t("yes" if str(value) == "True" else "no", language)
    key = f"v_{column}_{value}"
    return i18n.t(key, language) if i18n.has(key) else str(value)


def number_ticks(axis: Any, language: str, digits: int = 2) -> None:
    """Tick labels of a value axis (``ax.xaxis``/``ax.yaxis``) with the language's marks."""
    axis.set_major_formatter(  # + 0.0: never a "-0"
        lambda v, _: i18n.format_number(round(v, digits) + 0.0, language, digits, trim=True))


def percent_label(value: float, language: str) -> str:
    """A share (0.8, 0.025) as a percent in the language's own pattern, with the
    decimals it needs and no more: en 80% / 2.5%, tr %80 / %2,5, az 80% / 2,5%.

    The pattern is :func:`cxlib.i18n.format_percent`'s (Babel's locale pattern);
    unlike it, a tick at 2.5% is not rounded to a whole percent (two ticks would
    read alike).

    Examples
    --------
    >>> percent_label(0.8, "tr"), percent_label(0.025, "az"), percent_label(0.8, "en")
    ('%80', '2,5%', '80%')
    """
    return i18n.format_percent(round(float(value), 4) + 0.0, language, trim=True)


def percent_ticks(axis: Any, language: str) -> None:
    """Tick labels of a share axis (values 0..1: 0.8, 0.139) as percent in the language
    (:func:`percent_label`: en 80%, tr %80, az 80%)."""
    axis.set_major_formatter(lambda v, _: percent_label(v, language))
