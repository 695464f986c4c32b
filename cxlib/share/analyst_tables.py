"""The tables a notebook displays, in the notebook's language (the analysts' view).

A notebook shows its working tables (``rollups``, ``moves.significant``,
``dr.caps()``) to the analyst; in a Turkish or Azerbaijani run they must read
like the figures beside them: headers from the message catalog (``col_<name>``),
category values in words (``v_<column>_<value>``, else ``w_<value>``), touchpoint
and stage ids as the catalog's names, and numbers with the language's marks, so
that 2018.5 reads 2.018,5 in Turkish and never as two thousand and eighteen.

:func:`analyst_table` returns a pandas ``Styler``: only what is shown changes,
the numbers underneath stay numbers (``styler.data``) and the caller's frame is
never modified. Formats come from :mod:`cxlib.share.formats` (p-values
``< 0,001``, shares as percent, counts with grouping, missing as an em dash);
a plain number column gets one number of decimals for the whole column, chosen
by its size, so that the column lines up. A column named as a share or rate
(``rate``, ``retained``, ``*_share``) whose values all lie in 0..1 is shown as
percent, its interval bounds too; a money column (``mean_profit``,
``worth_per_year``, ``unit_cost``) carries the caller's ``currency`` and no
decimals when its typical amount is 1,000 or more.

A value the catalog lacks is shown as it is in the data (a branch id, a period
such as ``2025H2``, a free-text note); a header the catalog lacks stays the
column's id, which the notebook tests catch in Turkish.
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxlib import i18n
from cxlib.errors import CxError
from cxlib.plots.labels import column_label, value_label
from cxlib.share import formats
from cxlib.share.tables import flag_text

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["CATALOG_COLUMNS", "analyst_table"]

#: Columns that hold touchpoint or stage ids (shown as catalog names when a
#: catalog is given); a column whose every value is such an id is named too.
CATALOG_COLUMNS = frozenset({"touchpoint_id", "touchpoint", "stage", "parent", "driver",
                             "candidate", "weakest", "verdict", "unit", "top_level_id"})
#: Whole-number columns shown without grouping marks (a year, an hour, a period number).
_PLAIN_INTEGERS = frozenset({"year", "hour", "time", "period", "event_time", "group", "cohort",
                             "first_treated", "g", "t", "depth"})
#: Kinds whose format :mod:`formats` fixes (the others get a column's own decimals).
_FIXED_KINDS = frozenset({"pvalue", "share", "percent", "probability", "count",
                          "score", "points", "periods"})
#: Money from this size on is shown without decimals (174.091 AZN, not 174.091,33).
_WHOLE_MONEY = 1000.0


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float | np.floating) and math.isnan(v))
    except TypeError:
        return False


def _is_name_column(column: Any) -> bool:
    col = str(column)
    return col == "name" or (col.startswith("name_") and col[5:] in i18n.LANGUAGES)


def _header(column: Any, language: str, named: frozenset[str]) -> str:
    """A column's header: ``col_<column>``; ``name_en``/``name_tr``/``name_az`` is "Name",
    a column of ids shown as names (``named``) is headed ``col_<id without _id>``."""
    col = str(column)
    if _is_name_column(col):
        col = "name"
    elif col in named and col.endswith("_id") and i18n.has(f"col_{col[:-3]}"):
        col = col[:-3]
    return column_label(col, language)


def _word(column: str, value: str, language: str) -> str | None:
    """A category value in words, or None when the catalog has no word for it."""
    if i18n.has(f"v_{column}_{value}"):
        return value_label(column, value, language)
    if value in ("True", "False"):
        return value_label(column, value, language)
    if column.endswith("_column") and i18n.has(f"col_{value}"):  # a column named as a value
        return column_label(value, language)
    key = "w_" + value.replace(" ", "_").replace("-", "_").lower()
    if i18n.has(key):
        return i18n.t(key, language)
    if value in ("none", "n/a"):
        return i18n.t(value, language)
    return None


def _catalog_names(catalog: Any, values: Any, language: str) -> dict[str, str]:
    """Catalog names of those ``values`` that are touchpoint or stage ids (or the journey)."""
    if catalog is None:
        return {}
    stages = getattr(catalog, "stage_names", {}) or {}
    out = {}
    for v in values:
        s = str(v)
        if s in out or not (s in catalog or s in stages or s == "journey"):
            continue
        try:
            out[s] = str(catalog.name(s, language))
        except Exception:  # an id the catalog cannot name stays an id
            continue
    return out


def _by_catalog(column: str, series: pd.Series, catalog: Any, language: str,
                has_names: bool) -> dict[str, str]:
    """The catalog names a column's ids are shown as ({} when it is shown as it is).

    A column of :data:`CATALOG_COLUMNS`, or one holding only ids, is named; the
    ``touchpoint_id`` of a table that has a name column stays an id (the ids an
    analyst passes as parameters, beside their names).
    """
    if catalog is None or (column == "touchpoint_id" and has_names):
        return {}
    present = [v for v in series.dropna().unique() if isinstance(v, str)]
    names = _catalog_names(catalog, present, language)
    if column in CATALOG_COLUMNS or (present and all(v in names for v in present)):
        return names
    return {}


def _text_formatter(column: str, names: dict[str, str], language: str
                    ) -> Callable[[Any], str]:
    """Words for a column of categories, ids (``names``: catalog names) or free text."""
    flags = column == "flag"

    def fmt(v: Any) -> str:
        if _missing(v):
            return formats.MISSING
        if isinstance(v, bool | np.bool_):
            return value_label(column, bool(v), language)
        if formats.is_number(v) or isinstance(v, np.integer | np.floating):
            return formats.value(float(v) if isinstance(v, np.floating) else v, "number",
                                 language)
        if isinstance(v, pd.Timestamp):
            return _date(v)
        s = str(v)
        if s in names:
            return names[s]
        if flags:
            return flag_text(s, language) or formats.MISSING
        if column == "test":  # a method's name ("two-proportion z"), as the appendix says it
            return _word(column, s, language) or i18n.phrase(s, language)
        return _word(column, s, language) or s

    return fmt


def _date(v: pd.Timestamp) -> str:
    return v.strftime("%Y-%m-%d") if v == v.normalize() else v.strftime("%Y-%m-%d %H:%M")


#: Columns of 0/1 outcomes whose mean is a share (a retention rate).
_SHARE_NAMES = frozenset({"share", "rate", "retained", "churned", "subscribed"})
#: ``*_rate`` columns that are contacts per month, not shares of a whole.
_DOSE_RATES = frozenset({"today_rate", "money_optimal_rate"})
#: Words of a column's name that make it an amount of money (``mean_profit``,
#: ``worth_per_year``, ``cost_per_inbound``, ``revenue_azn``).
_MONEY_WORDS = frozenset({"margin", "revenue", "profit", "value", "cost", "costs", "saving",
                          "savings", "money", "azn", "worth", "spend", "price"})


def _is_share_name(column: str) -> bool:
    if column in _DOSE_RATES or "_per_" in column:
        return False
    return (column in _SHARE_NAMES or column.startswith("share_")
            or column.endswith(("_share", "_rate")))


def _is_money_name(column: str) -> bool:
    words = column.lower().split("_")
    return (column not in ("value", "values") and "dose" not in words and "rate" not in words
            and bool(_MONEY_WORDS.intersection(words)))


def _kind(column: str, values: pd.Series, integer: bool = False) -> str:
    """The :mod:`formats` kind of a numeric column, by its name (and range for shares).

    A share (``rate``, ``retained``, ``*_share``) is one only when every value
    is within 0..1 and the column is not of whole numbers (a 0/1 column per
    customer stays 0 and 1); a money column is named by its words (``profit``,
    ``cost``, ``worth_per_year``), a lone ``value`` (a series' default name) is not.
    """
    kind = formats.column_kind(column)
    if kind != "number":
        return kind
    if _is_share_name(column):
        finite = values[np.isfinite(values)]
        if not integer and len(finite) and finite.min() >= 0 and finite.max() <= 1:
            return "share"
        return kind
    if _is_money_name(column):
        return "money"
    return kind


def _typical(finite: pd.Series) -> float:
    """The median size of a column's finite non-zero values (0 when it has none)."""
    nonzero = np.abs(finite[finite != 0])
    return float(np.median(nonzero)) if len(nonzero) else 0.0


def _column_digits(finite: pd.Series, typical: float) -> int:
    """Decimals for a whole column of plain numbers (its finite values), by the size
    of its typical value."""
    if finite.empty or bool(np.all(finite == np.round(finite))):
        return 0
    if typical >= 100:
        return 1
    if typical >= 1:
        return 2
    if typical >= 0.01 or typical == 0:
        return 3
    return min(6, 2 - math.floor(math.log10(typical)))


_BOUNDS = ("ci_low", "ci_high", "low", "high", "lower", "upper")
_SPREAD = frozenset({"se", "std_error", "sd", "std"})


def _is_bound(column: str) -> bool:
    return column in _BOUNDS or column.endswith(("_low", "_high"))


def _number_specs(frame: pd.DataFrame, digits: int | None) -> dict[int, tuple[str, int]]:
    """(kind, decimals) of each plain-number column by position.

    An interval bound (``ci_low``, ``ci_high``) is shown like the estimate it
    bounds (the nearest number column before it that is not a bound or a
    standard error): a share's bounds as percent, a profit's with its decimals.
    ``digits`` (when given) is the decimals of every column with fractions.
    """
    specs: dict[int, tuple[str, int]] = {}
    base: tuple[str, int] | None = None
    for i, column in enumerate(map(str, frame.columns)):
        dtype = frame.iloc[:, i].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue
        values = pd.to_numeric(frame.iloc[:, i], errors="coerce").astype(float)
        integer = pd.api.types.is_integer_dtype(dtype)
        kind = _kind(column, values, integer)
        finite = values[np.isfinite(values)]
        typical = _typical(finite)
        own = _column_digits(finite, typical)
        whole = integer or own == 0
        d = 0 if whole else (digits if digits is not None else own)
        if kind == "money" and (typical >= _WHOLE_MONEY
                                or formats.column_kind(column) == "money"):
            d = 0  # (a money column formats names keeps its format: no decimals)
        if _is_bound(column) and kind == "number" and base is not None and not whole:
            specs[i] = base
            continue
        if column in _PLAIN_INTEGERS and whole:
            kind = "plain"
        specs[i] = (kind, d)
        if not _is_bound(column) and column not in _SPREAD:
            base = specs[i]
    return specs


def _number_formatter(spec: tuple[str, int], language: str, currency: str | None
                      ) -> Callable[[Any], str]:
    kind, d = spec
    if kind in _FIXED_KINDS:
        return lambda v: formats.value(None if _missing(v) else float(v), kind, language)
    if kind == "plain":  # a year, an hour: no grouping marks
        return lambda v: formats.MISSING if _missing(v) else str(round(float(v)))
    # a number, or money: the column's decimals (money: none from 1,000 on), then the
    # currency when the column is money
    suffix = f" {currency}" if kind == "money" and currency else ""

    def number(v: Any) -> str:
        if _missing(v):
            return formats.MISSING
        x = float(v)
        if math.isinf(x):
            return formats.value(x, kind, language)
        return i18n.format_number(round(x, d) + 0.0, language, digits=d) + suffix  # never -0

    return number


def _formatter(column: Any, series: pd.Series, *, language: str, names: dict[str, str],
               spec: tuple[str, int] | None, currency: str | None) -> Callable[[Any], str]:
    col = str(column)
    dtype = series.dtype
    if spec is not None:
        base = _number_formatter(spec, language, currency)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        def base(v: Any) -> str:
            return formats.MISSING if _missing(v) else _date(pd.Timestamp(v))
    elif _is_name_column(col):  # names (of touchpoints, of a form's fields) as they are
        def base(v: Any) -> str:
            return formats.MISSING if _missing(v) else str(v)
    else:  # booleans (yes/no), categories, ids, free text
        base = _text_formatter(col, names, language)

    def shown(v: Any) -> str:
        return html.escape(base(v))  # a Styler does not escape: text stays text

    return shown


def _plain_index(index: pd.Index) -> bool:
    """Whether an index says nothing (0, 1, 2 ... or row numbers left by a filter)."""
    return index.nlevels == 1 and index.name is None and (
        isinstance(index, pd.RangeIndex) or pd.api.types.is_integer_dtype(index.dtype))


def analyst_table(data: pd.DataFrame | pd.Series, *, language: str = "en",
                  catalog: Any = None, digits: int | None = None,
                  hide_index: bool | None = None, currency: str | None = None,
                  max_rows: int = 60) -> Styler:
    """A table for the analysts' view in the notebook's language, as a pandas Styler.

    Parameters
    ----------
    data
        The frame (or series) to show; it is not modified.
    language
        ``en``, ``tr`` or ``az``: headers, words and number marks.
    catalog
        A touchpoint catalog (:class:`cxlib.data.catalog.Catalog`): touchpoint and
        stage ids (columns in :data:`CATALOG_COLUMNS`, or a column holding only
        ids) are shown by their names. None keeps ids.
    digits
        Decimals of plain number columns (default: by the column's size, one
        count for the whole column). P-values, shares, counts and money keep the
        format of :mod:`cxlib.share.formats`.
    hide_index
        Hide the row labels; default: hidden when they are only row numbers. A
        named index (a ``groupby`` result) becomes columns, named like the others.
    currency
        ISO code appended to money columns (``AZN``): columns whose name has a
        money word (``profit``, ``margin``, ``revenue``, ``cost``, ``value``,
        ``worth``, ``saving``, ``money``, ``azn``), not a lone ``value``.
    max_rows
        At most this many rows are shown (the first ones), with a caption saying so.

    Returns
    -------
    pandas.io.formats.style.Styler
        Displays as the table; ``.data`` holds the (unformatted) values shown. Cell
        texts are HTML-escaped (a customer's ``<b>`` shows as text), also in
        ``Styler.to_string``.

    Raises
    ------
    CxError
        An unknown ``language`` or ``data`` that is not a frame or series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"segment": ["mass", "affluent"], "estimate": [2018.5, 3.25],
    ...                    "p_value": [0.0312, 0.2]})
    >>> print(analyst_table(df, language="tr").to_string(delimiter=" | "), end="")
    Segment | Tahmin | p
    kitle | 2.018,5 | 0,031
    varlıklı | 3,2 | 0,200
    >>> print(analyst_table(df, language="en").to_string(delimiter=" | "), end="")
    Segment | Estimate | p
    mass | 2,018.5 | 0.031
    affluent | 3.2 | 0.200
    >>> df["estimate"].tolist()  # the frame itself is unchanged
    [2018.5, 3.25]
    """
    i18n.check_language(language, source="analyst_table")
    if isinstance(data, pd.Series):
        frame = data.to_frame(name=data.name if data.name is not None else "value")
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise CxError(f"analyst_table shows a pandas DataFrame or Series, not "
                      f"{type(data).__name__}")
    if any(n is not None for n in frame.index.names):
        with contextlib.suppress(ValueError):  # a level named like a column stays the index
            frame = frame.reset_index()  # a groupby's keys are columns like any other
    frame = frame.copy(deep=False) if frame is data else frame
    total = len(frame)
    if total > max_rows:
        frame = frame.head(max_rows)
    styler = frame.style
    has_names = any(_is_name_column(c) for c in frame.columns)
    named = set()
    specs = _number_specs(frame, digits)
    for i, column in enumerate(frame.columns):
        names = _by_catalog(str(column), frame.iloc[:, i], catalog, language, has_names)
        if names:
            named.add(str(column))
        styler = styler.format(
            _formatter(column, frame.iloc[:, i], language=language, names=names,
                       spec=specs.get(i), currency=currency), subset=frame.columns[[i]])
    styler = styler.format_index(
        lambda c: html.escape(_header(c, language, frozenset(named))), axis="columns")
    numeric = [frame.columns[i] for i in specs]
    if numeric and frame.columns.is_unique:
        styler = styler.set_table_styles(
            {c: [{"selector": "td", "props": "text-align: right"}] for c in numeric},
            overwrite=False)
    hide = _plain_index(frame.index) if hide_index is None else hide_index
    if hide:
        styler = styler.hide(axis="index")
    else:
        labels = pd.Series(frame.index)
        fmt = _text_formatter("", _by_catalog("", labels, catalog, language, False), language)
        styler = styler.format_index(lambda v: html.escape(fmt(v)), axis="index")
    if total > max_rows:
        styler = styler.set_caption(html.escape(i18n.t("tbl_first_rows", language).format(
            n=i18n.format_number(max_rows, language, digits=0),
            total=i18n.format_number(total, language, digits=0))))
    return styler
