"""Numbers for people: one formatter for briefs, KPI tiles, the index and Excel.

Every figure a manager reads goes through :func:`value`, with a *kind* that
says what the number is, so that the same figure looks the same in the brief,
its KPI tile, the run index and the Excel workbook (a test compares them):

==========  ============================================  ===================
kind        rule                                          en / tr
==========  ============================================  ===================
score       2 decimals                                    2.89 / 2,89
points      1 decimal (NPS, percentage points)            -5.0 / -5,0
share       a share of a whole as percent, 1 decimal      13.9% / %13,9
            (its change, :func:`signed`: percentage points  +11.1 pts / +11,1 yüzde puan)
percent     a ratio as percent, no decimals (ROI)         102% / %102
probability percent; "> 99.9%" and "< 0.1%" at the ends   > 99.9% / > %99,9
pvalue      3 decimals, "< 0.001" below                   < 0.001 / < 0,001
money       no decimals, the dataset's currency if known  138,484 AZN
count       integer with grouping                         2,107 / 2.107
periods     1 decimal                                     8.9 / 8,9
number      sensible decimals by magnitude                0.0312
==========  ============================================  ===================

Missing values (None, NaN) are an em dash. Negative numbers and changes carry
the locale's own minus sign (:func:`cxlib.i18n.minus_sign`), one character on
every page. Period codes (``2025H1``, ``2025Q2``, ``2025-03``) are said in
words by :func:`period`. Numbers are formatted by Babel in
the language's locale (:mod:`cxlib.i18n`), so a Turkish reader sees 2.018 for
two thousand and eighteen, never the English 2,018.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cxlib import i18n

__all__ = ["KINDS", "MISSING", "category", "column_kind", "interval", "is_number", "period",
           "signed", "value"]

MISSING = "—"
KINDS = ("score", "points", "share", "percent", "probability", "pvalue", "money", "count",
         "periods", "number")

#: Kind of a table column by its name (tidy cxlib tables use these names).
_COLUMN_KINDS: dict[str, str] = {
    "p_value": "pvalue", "q_value": "pvalue", "p_holm": "pvalue", "p_selection": "pvalue",
    "coef_p": "pvalue", "pretrend_p": "pvalue",
    "importance": "share", "share_of_r2": "share", "imp_low": "share", "imp_high": "share",
    "availability": "share", "rank_stability": "share", "priority_stability": "share",
    "share_respondents": "share", "p_net_positive": "probability",
    "margin_per_point": "money", "margin_per_overall_point": "money",
    "margin_per_overall_point_low": "money", "margin_per_overall_point_high": "money",
    "n": "count", "n_ref": "count", "n_stage": "count", "n_paired": "count",
    "n_touchpoints": "count", "n_covered": "count", "n_low_base": "count",
    "n_blind_spot": "count", "n_respondents": "count", "n_respondents_all": "count",
    "n_responses": "count", "n_answered": "count", "n_performance": "count",
    "n_margin": "count", "n_driver": "count", "n_units": "count", "n_obs": "count",
    "coef_n": "count", "rank": "count", "modal_rank": "count", "priority": "count",
    "estimate": "number", "nps": "points",
}


def is_number(v: Any) -> bool:
    """A real number (not a bool), finite or not."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _digits(v: float) -> int:
    a = abs(v)
    if a == 0 or (a >= 1 and float(v).is_integer()):
        return 0
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 0.01:
        return 2
    return min(6, 1 - math.floor(math.log10(a)))


def _pct(x: float, lang: str, digits: int) -> str:
    """A percent in the locale's own pattern (en 13.9%, tr %13,9), ``digits`` decimals."""
    return i18n.format_percent(x, lang, digits)


def value(v: Any, kind: str = "number", lang: str = "en", *, currency: str | None = None
          ) -> str:
    """A value as a manager reads it (see the module docstring for the kinds).

    Parameters
    ----------
    v
        A number, string, bool or None; strings come back as they are.
    kind
        One of :data:`KINDS`.
    lang
        ``en``, ``tr`` or ``az``.
    currency
        ISO code appended to money (``AZN``, ``TRY``); None for no currency.

    Examples
    --------
    >>> value(0.00012, "pvalue", "tr")
    '< 0,001'
    >>> value(1.0183, "percent", "en")
    '102%'
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    if isinstance(v, bool):
        return i18n.t("yes" if v else "no", lang)
    if not is_number(v):
        return str(v)
    x = float(v)
    if math.isinf(x):
        return "∞" if x > 0 else i18n.minus_sign(lang) + "∞"
    if kind == "pvalue":
        if x < 0.001:
            return "< " + i18n.format_number(0.001, lang, digits=3)
        return i18n.format_number(x, lang, digits=3)
    if kind == "share":
        return _pct(x, lang, 1)
    if kind == "percent":
        return _pct(x, lang, 0)
    if kind == "probability":
        if x > 0.999:
            return "> " + _pct(0.999, lang, 1)
        if x < 0.001:
            return "< " + _pct(0.001, lang, 1)
        return _pct(x, lang, 0 if 0.01 <= x <= 0.99 else 1)
    if kind == "count":
        return i18n.format_number(round(x), lang, digits=0)
    if kind == "money":
        text = i18n.format_number(x, lang, digits=0)
        return f"{text} {currency}" if currency else text
    digits = {"score": 2, "points": 1, "periods": 1}.get(kind)
    if digits is None:
        digits = _digits(x)
    return i18n.format_number(x, lang, digits=digits)


def interval(low: Any, high: Any, kind: str = "number", lang: str = "en", *,
             currency: str | None = None) -> str:
    """``[low; high]`` in the value's format, or "" when a bound is missing."""
    if low is None or high is None or not is_number(low) or not is_number(high) \
            or any(math.isnan(float(b)) for b in (low, high)):
        return ""
    lo = value(low, kind, lang, currency=None)
    hi = value(high, kind, lang, currency=currency)
    return f"[{lo}; {hi}]"


def signed(a: Any, b: Any, kind: str = "number", lang: str = "en") -> str:
    """The change from ``a`` to ``b`` with its sign, or "" when one is missing.

    The sign is ``+`` or the locale's minus (:func:`cxlib.i18n.minus_sign`); a
    change that rounds to zero is ``=`` (never ``-0``). A change of a *share*
    is a difference in percentage points, so it is said in points (``+11.1
    pts``, tr ``+11,1 yüzde puan``), not as a percent.

    Examples
    --------
    >>> signed(0.45, 0.561, "share", "en"), signed(3.0, 2.6, "score", "en")
    ('+11.1 pts', '-0.40')
    """
    if not (is_number(a) and is_number(b)) or not all(
            math.isfinite(float(x)) for x in (a, b)):
        return ""
    d = float(b) - float(a)
    if kind == "share":
        d, kind, unit = d * 100, "points", " " + i18n.t("unit_pct_points", lang)
    else:
        unit = ""
    if value(abs(d), kind, lang) == value(0.0, kind, lang):
        return "="
    text = value(abs(d), kind, lang).removeprefix("< ").removeprefix("> ")
    return ("+" if d > 0 else i18n.minus_sign(lang)) + text + unit


_PERIOD = re.compile(r"(\d{4})(?:([HQ])([1-4])|-(0[1-9]|1[0-2]))")


def period(v: Any, lang: str = "en") -> str:
    """A period code in words: ``2025H1``, ``2025Q2``, ``2025-03``; anything else as it is.

    Half-years and quarters are the language's own words (en ``H1 2025``, tr
    ``2025 1. yarıyıl``, az ``2025, 1-ci yarımil``); a month is its name and
    year by Babel (tr ``Mart 2025``). None and NaN are :data:`MISSING`.

    Examples
    --------
    >>> period("2025H1", "tr"), period("2025Q2", "az"), period("2025-03", "en")
    ('2025 1. yarıyıl', '2025, 2-ci rüb', 'March 2025')
    >>> period("week 12", "tr")
    'week 12'
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    s = str(v)
    found = _PERIOD.fullmatch(s.strip())
    if not found:
        return s
    year, letter, n, month = found.groups()
    if month:
        import datetime as dt

        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", dt.date(int(year), int(month), 1),
                               locale=i18n.LOCALES[lang])
    if letter == "H" and n not in ("1", "2"):
        return s
    return i18n.t(f"period_{letter.lower()}{n}", lang).format(year=year)


def category(v: Any, lang: str = "en", column: str | None = None, *,
             params: dict[str, Any] | None = None) -> str:
    """A recorded category value (a segment, a group, a customer type) in words.

    The words are the figures' (:func:`cxlib.plots.labels.value_label`): the
    message key ``v_<column>_<value>``. When the column is not recorded (None),
    or is a generic ``segment`` / ``group`` column (notebook 04's groups, notebook
    05's segments), the job's ``compare_by`` / ``segment_column`` parameter and
    ``segment`` are tried too. A value without a key stays as it is (a branch
    id, a region name); None and NaN are :data:`MISSING`.

    Parameters
    ----------
    v
        The recorded value (``affluent``, ``trade``).
    lang
        ``en``, ``tr`` or ``az``.
    column
        The column the value belongs to, when recorded (``segment_column``, ``group``).
    params
        The job's parameters (its ``compare_by``).

    Examples
    --------
    >>> category("affluent", "tr", "segment"), category("trade", "tr", params={"compare_by":
    ...     "customer_type"}), category("B07", "tr", "branch_id")
    ('varlıklı', 'ticari', 'B07')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    s = str(v)
    columns = [column] if column else []
    if not column or column in ("segment", "group"):
        p = params or {}
        columns += [p.get("compare_by"), p.get("segment_column"), "segment"]
    for col in dict.fromkeys(str(c) for c in columns if c):
        if i18n.has(f"v_{col}_{s}"):
            from cxlib.plots.labels import value_label  # the figures' words, same keys

            return value_label(col, s, lang)
    return s


def column_kind(name: str) -> str:
    """The kind of a table column by its name (``p_value`` -> pvalue, ``n_*`` -> count)."""
    if name in _COLUMN_KINDS:
        return _COLUMN_KINDS[name]
    if name.startswith("n_"):
        return "count"
    if name.startswith(("p_", "q_")) or name.endswith("_p"):
        return "pvalue"
    return "number"
