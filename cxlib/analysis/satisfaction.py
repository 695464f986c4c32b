"""Satisfaction per touchpoint: honest metrics with base sizes, intervals and flags.

:func:`summarize` turns long responses into one tidy row per cell (touchpoint
or roll-up level × segments × period) × statistic:

``mean``    mean score, t interval (Kish effective n with weights);
``top2``    top-2-box share: the two *best* scale points, Wilson interval;
``bottom``  bottom-box share: the single *worst* scale point, Wilson interval;
``nps``     promoters − detractors (×100, metric ``nps`` only), adjusted-Wald interval.

Every row carries ``n`` (respondents), ``n_eff`` (Kish), the estimate, its
interval and ``low_base`` (n below the minimum base): small cells are flagged,
never dropped.

Direction and scales (per answer row, never from the first row)
    "Best" and "worst" follow :data:`cxlib.data.schemas.HIGHER_IS_BETTER`. For a
    metric where a higher score is better (csat, nps, overall) ``top2`` is the
    share answering ``scale_max`` or ``scale_max − 1`` and ``bottom`` the share
    answering ``scale_min``. For CES (effort: 1 = very easy, 7 = very
    difficult, lower is better) ``top2`` is the share answering ``scale_min``
    or ``scale_min + 1`` (very easy / easy: the best experience) and
    ``bottom`` the share answering ``scale_max`` (very difficult: the worst).
    The ``mean`` is always the raw mean score (for CES a higher mean is a
    worse experience). Thresholds come from each row's own ``scale_min`` /
    ``scale_max``, so mixed scales in one metric are handled row by row.
    Scales with fewer than four points (a binary 0–1 label, a 3-point scale)
    have no meaningful "top two": there ``top2`` is the single best point
    (for the airline's 0/1 ``overall`` label: the share satisfied).

Inputs: a pandas DataFrame or a DuckDB relation
    Every function here (and in :mod:`cxlib.analysis.compare`) accepts the long
    responses as a pandas DataFrame *or* a ``duckdb.DuckDBPyRelation`` (for
    example ``read_parquet(..., hive_partitioning=true)`` filtered to one
    segment). There is one code path: a DataFrame is registered in DuckDB and
    the same SQL runs. DuckDB reduces the answers to small tables of
    *sufficient statistics* per cell (n, Σw, Σw², Σwx, Σwx², weighted box,
    promoter and detractor counts); the formulas then run in numpy on those
    tables, so the work in Python does not grow with the number of answers.

Roll-ups (``level="parent"|"stage"|"journey"``) map each answer to the
touchpoint's ancestors (catalog ``ancestry()``), then average **within each
respondent** first: a respondent who rated three parts of the store counts
once, with the mean of their answers (and their share of top-box answers), so
``n`` is the number of respondents and intervals come from respondents, not
from averaging averages. At roll-up levels box shares use a t interval on the
respondent-level shares (a respondent's share is not a Bernoulli variable),
unless every respondent of every cell gave one answer.

At the touchpoint level the responses contract holds one row per respondent ×
touchpoint × metric (``cxlib.data.schemas.RESPONSES``), so each answer is one
respondent there and no per-respondent step is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxlib import config
from cxlib.analysis.stats import (
    kish_n_eff,
    mean_ci,
    nps_ci,
    nps_interval,
    t_interval,
    wilson_ci,
    wilson_interval,
)
from cxlib.data.duck import check_columns, connection, quote_ident, quote_literal
from cxlib.data.schemas import HIGHER_IS_BETTER
from cxlib.errors import EstimationError
from cxlib.methods import note_method

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LEVELS",
    "STATISTICS",
    "add_period",
    "blind_spots",
    "box_thresholds",
    "cell_statistics",
    "distinct_values",
    "higher_is_better",
    "kish_n_eff",
    "mean_ci",
    "no_metric_error",
    "nps_ci",
    "nps_interval",
    "query",
    "relation",
    "require_columns",
    "resolve_column",
    "summarize",
    "t_interval",
    "values_table",
    "wilson_ci",
    "wilson_interval",
]

LEVELS = ("touchpoint", "parent", "stage", "journey")
STATISTICS = ("mean", "top2", "bottom", "nps")
PERIODS = {"month": "M", "quarter": "Q", "half": "half", "year": "Y"}
#: Sufficient statistics of a cell (see :func:`cell_statistics`).
SUMS = ("sw", "sw2", "swx", "swx2", "swt", "swt2", "swb", "swb2", "swp", "swq")


# ---------------------------------------------------------------- direction
def higher_is_better(metric: str) -> bool:
    """Polarity of a metric (:data:`cxlib.data.schemas.HIGHER_IS_BETTER`; unknown metrics: True)."""
    return HIGHER_IS_BETTER.get(metric, True)


def box_thresholds(scale_min: Any, scale_max: Any, metric: str
                   ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-row thresholds of the best (``top2``) and worst (``bottom``) boxes.

    Returns ``(best, worst, higher_is_better)``: with a higher-is-better metric
    a score is in the top box when ``score >= best`` and in the bottom box when
    ``score <= worst``; with a lower-is-better metric (CES) when
    ``score <= best`` and ``score >= worst``. Scales of fewer than four points
    use the single best point as "top 2". The SQL of :func:`cell_statistics`
    implements the same rule.
    """
    lo, hi = np.asarray(scale_min, float), np.asarray(scale_max, float)
    wide = hi - lo >= 3
    if higher_is_better(metric):
        return np.where(wide, hi - 1, hi), lo, True
    return np.where(wide, lo + 1, lo), hi, False


def _box_sql(metric: str) -> tuple[str, str]:
    wide = "(scale_max - scale_min >= 3)"
    if higher_is_better(metric):
        return (f"score >= CASE WHEN {wide} THEN scale_max - 1 ELSE scale_max END",
                "score <= scale_min")
    return (f"score <= CASE WHEN {wide} THEN scale_min + 1 ELSE scale_min END",
            "score >= scale_max")


# ---------------------------------------------------------------- DuckDB plumbing
def values_table(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> str:
    """An inline VALUES table (small mapping tables such as the catalog), quoted by
    :mod:`cxlib.data.duck` (names and values never pasted unquoted)."""
    body = ", ".join("(" + ", ".join(quote_literal(v) for v in r) + ")" for r in rows)
    names = ", ".join(map(quote_ident, columns))
    if not body:  # an empty table of the right shape
        body = "(" + ", ".join("NULL" for _ in columns) + ")"
        return f"(SELECT * FROM (VALUES {body}) AS v({names}) WHERE FALSE) AS t"
    return f"(VALUES {body}) AS t({names})"


def relation(source: pd.DataFrame | duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The responses as a DuckDB relation (a DataFrame is registered, not copied).

    A DataFrame is registered (zero-copy) on one in-memory connection per
    process that uses every core of the machine; a relation is used as it is
    (its connection keeps its own threads and memory settings).
    """
    import duckdb

    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    if isinstance(source, pd.DataFrame):
        return connection().from_df(source)
    raise EstimationError(f"responses must be a pandas DataFrame or a DuckDB relation, "
                          f"not {type(source).__name__}")


def query(rel: duckdb.DuckDBPyRelation, sql: str) -> pd.DataFrame:
    """Run ``sql`` over ``rel`` (named ``src`` in the SQL) into a DataFrame."""
    return rel.query("src", sql).df()


def require_columns(rel: duckdb.DuckDBPyRelation, columns: Iterable[str], what: str) -> None:
    """A :class:`~cxlib.errors.DataError` (with "did you mean") unless the responses
    have every one of ``columns`` (empty names are skipped)."""
    check_columns(rel, [c for c in columns if c], what=f"{what}: column")


def no_metric_error(rel: duckdb.DuckDBPyRelation, metric: str) -> EstimationError:
    """The error for a metric without answers, listing the metrics present."""
    present = query(rel, "SELECT DISTINCT metric FROM src ORDER BY 1")["metric"].tolist()
    return EstimationError(f"no answers with metric {metric!r}; metrics present: {present}")


# ---------------------------------------------------------------- periods
def _period_code_sql(period: str, date: str = "date") -> str:
    """An integer code of the period of ``date`` (labelled by :func:`_period_labels`)."""
    if period == "month":
        return f"(year({date}) * 12 + month({date}) - 1)"
    if period == "quarter":
        return f"(year({date}) * 4 + quarter({date}) - 1)"
    if period == "half":
        return f"(year({date}) * 2 + CAST(month({date}) > 6 AS INTEGER))"
    return f"year({date})"


def _period_labels(code: pd.Series, period: str) -> pd.Series:
    c = code.astype("int64")
    if period == "month":
        y, m = np.divmod(c, 12)
        return y.astype(str) + "-" + (m + 1).astype(str).str.zfill(2)
    if period == "quarter":
        y, q = np.divmod(c, 4)
        return y.astype(str) + "Q" + (q + 1).astype(str)
    if period == "half":
        y, h = np.divmod(c, 2)
        return y.astype(str) + "H" + (h + 1).astype(str)
    return c.astype(str)


def _check_period(period: str | None) -> None:
    if period and period not in PERIODS:
        raise EstimationError(f"period must be one of {list(PERIODS)}, not {period!r}")


def add_period(df: pd.DataFrame, period: str | None, *, column: str = "period") -> pd.DataFrame:
    """Add a period label column (``"2025Q3"``, ``"2025-07"``, ``"2025H2"``, ``"2025"``)."""
    if not period:
        return df
    _check_period(period)
    d = df["date"]
    if period == "half":
        lab = d.dt.year.astype(str) + "H" + np.where(d.dt.month <= 6, "1", "2")
    else:
        lab = d.dt.to_period(PERIODS[period]).astype(str)
    return df.assign(**{column: lab})


# ---------------------------------------------------------------- cells
def _unit_join(level: str, catalog: Any) -> tuple[str, str, list[str] | None]:
    """(unit expression, join clause, unit names by integer code) of a level.

    Roll-up units are joined as small integer codes (cheaper to group by than
    strings) and named again after the query.
    """
    if level == "touchpoint":
        return "src.touchpoint_id", "", None
    if catalog is None:
        raise EstimationError(f"level={level!r} needs the catalog (catalog=...)")
    if level == "journey":
        return "0", "", ["journey"]
    frame = catalog.frame
    if level == "stage":
        names = list(catalog.stages)
        pairs = [(t, names.index(s)) for t, s in zip(frame["touchpoint_id"], frame["stage"],
                                                      strict=True)]
    else:  # parent: every ancestor that has children (a parent's own answers included)
        anc = catalog.ancestry()
        parents = set(frame.loc[~frame["is_leaf"], "touchpoint_id"])
        anc = anc[anc["ancestor_id"].isin(parents)]
        names = sorted(parents, key=list(frame["touchpoint_id"]).index)
        pairs = [(t, names.index(a)) for t, a in zip(anc["touchpoint_id"], anc["ancestor_id"],
                                                      strict=True)]
    m = values_table(pairs, ["touchpoint_id", "unit"])
    return "t.unit", f"JOIN {m} ON src.touchpoint_id = t.touchpoint_id", names


def _needs(statistics: Sequence[str] | None, metric: str) -> set[str]:
    stats_ = set(statistics or [s for s in STATISTICS if s != "nps" or metric == "nps"])
    need = set()
    if "mean" in stats_:
        need |= {"x"}
    if "top2" in stats_:
        need |= {"t"}
    if "bottom" in stats_:
        need |= {"b"}
    if "nps" in stats_:
        need |= {"p", "q"}
    return need


def cell_statistics(
    source: pd.DataFrame | duckdb.DuckDBPyRelation,
    *,
    metric: str = "csat",
    level: str = "touchpoint",
    catalog: Any = None,
    by: Sequence[str] | str | None = None,
    period: str | None = None,
    weight: str | None = None,
    respondent: str = "response_id",
    statistics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sufficient statistics per cell, computed in DuckDB.

    Parameters
    ----------
    source
        Long responses: a pandas DataFrame or a DuckDB relation.
    metric, level, catalog, by, period, weight, respondent
        As in :func:`summarize`.
    statistics
        The statistics the sums are for (default: all that apply); sums no
        statistic needs are not computed and come back NaN.

    Returns
    -------
    DataFrame
        One row per cell: ``unit``, the ``by`` columns, ``period`` (when
        asked), ``n`` (respondents), ``k_max`` (most answers of one respondent
        in the cell), and the weighted sums over respondents ``sw`` (Σw),
        ``sw2`` (Σw²), ``swx`` (Σwx), ``swx2`` (Σwx²), ``swt``/``swt2``
        (Σw·t, Σw·t² of the top-2-box indicator or respondent share t),
        ``swb``/``swb2`` (the same for the bottom box), ``swp`` and ``swq``
        (Σw of the promoter and detractor indicators, 9–10 and 0–6).
        Without weights w = 1 (Σw = Σw² = n).

    Notes
    -----
    At the touchpoint level each answer is one respondent (responses
    contract) and the sums run over answers. At roll-up levels each respondent's
    answers in a cell are first averaged (score, box indicators,
    promoter/detractor indicators and weight), and the sums run over
    respondents. Rows with a missing ``by`` value are left out (as pandas'
    ``groupby`` does).
    """
    if level not in LEVELS:
        raise EstimationError(f"level must be one of {LEVELS}, not {level!r}")
    _check_period(period)
    by = [by] if isinstance(by, str) else list(by or [])
    rel = relation(source)
    require_columns(rel, ["touchpoint_id", "metric", "score", "scale_min", "scale_max", *by,
                   *([weight] if weight else []), *([respondent] if level != "touchpoint"
                                                    else []), *(["date"] if period else [])],
             "summary")
    unit, join, names = _unit_join(level, catalog)
    need = _needs(statistics, metric)
    top, bot = _box_sql(metric)
    ind = {"t": top, "b": bot, "p": "score >= 9", "q": "score <= 6"}
    keys = [quote_ident(k) for k in by]
    where = f"WHERE src.metric = {quote_literal(metric)}" + "".join(
        f" AND src.{k} IS NOT NULL" for k in keys)
    w = f"CAST(src.{quote_ident(weight)} AS DOUBLE)" if weight else None
    if level == "touchpoint":
        # one answer = one respondent: sum the answers
        pcode = f", {_period_code_sql(period, 'src.date')} AS _pc" if period else ""
        if w:
            aggs = [f"sum({w}) AS sw", f"sum({w} * {w}) AS sw2"]
            aggs += [f"sum({w} * score) AS swx", f"sum({w} * score * score) AS swx2"] \
                if "x" in need else []
            aggs += [f"sum(CASE WHEN {ind[c]} THEN {w} ELSE 0 END) AS sw{c}"
                     for c in "tbpq" if c in need]
        else:
            aggs = (["sum(score) AS swx", "sum(score * score) AS swx2"] if "x" in need
                    else [])
            aggs += [f"count_if({ind[c]}) AS sw{c}" for c in "tbpq" if c in need]
        sql = (f"SELECT {unit} AS unit{''.join(f', src.{k} AS {k}' for k in keys)}{pcode}, "
               f"count(*) AS n{''.join(', ' + a for a in aggs)} FROM src {join} {where} "
               "GROUP BY ALL")
    else:
        pcode = f", {_period_code_sql(period, 'src.date')} AS _pc" if period else ""
        rid = f"src.{quote_ident(respondent)}"
        ind_cols = "".join(f", CAST({ind[c]} AS DOUBLE) AS {c}" for c in "tbpq" if c in need)
        rows = (f"SELECT {unit} AS unit{''.join(f', src.{k} AS {k}' for k in keys)}{pcode}, "
                f"{rid} AS _rid, CAST(score AS DOUBLE) AS x{ind_cols}"
                f"{f', {w} AS w' if w else ''} FROM src {join} {where}")
        group = ", ".join(["unit", *keys, *(["_pc"] if period else [])])
        per = ", ".join([f"avg({c}) AS {c}" for c in ["x", *[c for c in "tbpq" if c in need]]]
                        + (["avg(w) AS w"] if w else []))
        wx = (lambda e: f"w * {e}") if w else (lambda e: e)
        aggs = (["sum(w) AS sw", "sum(w * w) AS sw2"] if w else [])
        aggs += [f"sum({wx('x')}) AS swx", f"sum({wx('x * x')}) AS swx2"] if "x" in need else []
        aggs += [f"sum({wx(c)}) AS sw{c}" for c in "pq" if c in need]
        aggs += [s for c in "tb" if c in need
                 for s in (f"sum({wx(c)}) AS sw{c}", f"sum({wx(f'{c} * {c}')}) AS sw{c}2")]
        sql = (f"WITH a AS ({rows}), r AS (SELECT {group}, _rid, {per}, count(*) AS k FROM a "
               f"GROUP BY {group}, _rid) SELECT {group}, count(*) AS n, max(k) AS k_max"
               f"{''.join(', ' + a for a in aggs)} FROM r GROUP BY {group}")
    cells = query(rel, sql)
    if cells.empty and query(rel, f"SELECT count(*) AS c FROM src WHERE metric = "
                                   f"{quote_literal(metric)}")["c"].iloc[0] == 0:
        raise no_metric_error(rel, metric)
    if names is not None:
        cells["unit"] = np.asarray(names, dtype=object)[cells["unit"].to_numpy(int)]
    if period:
        cells.insert(1 + len(by), "period", _period_labels(cells.pop("_pc"), period))
    n = cells["n"].to_numpy(float)
    if "k_max" not in cells:
        cells["k_max"] = 1
    if "sw" not in cells:  # unweighted: w = 1
        cells["sw"], cells["sw2"] = n, n
    if level == "touchpoint":  # 0/1 indicators: t² = t
        for c in "tb":
            if f"sw{c}" in cells:
                cells[f"sw{c}2"] = cells[f"sw{c}"]
    for c in SUMS:
        if c not in cells:
            cells[c] = np.nan
    cells["n"] = cells["n"].astype("int64")
    cells["k_max"] = cells["k_max"].astype("int64")
    keep = ["unit", *by, *(["period"] if period else []), "n", "k_max", *SUMS]
    return _order_units(cells[keep].astype({c: float for c in SUMS}), catalog,
                        [*by, *(["period"] if period else [])])


def _order_units(cells: pd.DataFrame, catalog: Any, keys: list[str]) -> pd.DataFrame:
    """Sort cells: units in journey order (catalog) else alphabetically, then keys."""
    order: dict[str, int] = {}
    if catalog is not None:
        order = {s: i for i, s in enumerate(catalog.stages)}
        order.update({t: len(order) + i for i, t in enumerate(catalog.ids)})
    rank = cells["unit"].map(lambda u: order.get(u, len(order)))
    return (cells.assign(_rank=rank).sort_values(["_rank", "unit", *keys], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


# ---------------------------------------------------------------- summarize
def summarize(
    responses: pd.DataFrame | duckdb.DuckDBPyRelation,
    *,
    metric: str = "csat",
    level: str = "touchpoint",
    catalog: Any = None,
    by: Sequence[str] | str | None = None,
    period: str | None = None,
    weight: str | None = None,
    statistics: Sequence[str] | None = None,
    min_base: int | None = None,
    alpha: float = 0.05,
    respondent: str = "response_id",
) -> pd.DataFrame:
    """Metrics per cell with n, interval and flags.

    Parameters
    ----------
    responses
        Long responses (``responses`` contract): a pandas DataFrame or a DuckDB
        relation (e.g. a Parquet store filtered to one segment).
    metric
        ``csat``, ``nps``, ``ces`` or ``overall`` (rows of other metrics are ignored).
    level
        ``touchpoint`` (as answered), ``parent``, ``stage`` or ``journey``.
    catalog
        The touchpoint catalog (needed for roll-ups; orders the rows when given).
    by
        Segment column(s); rows where one is missing are left out.
    period
        ``month``, ``quarter``, ``half`` or ``year`` (adds a ``period`` column).
    weight
        Survey-weight column (estimates weighted, intervals on Kish n_eff).
    statistics
        Subset of ``mean``, ``top2``, ``bottom``, ``nps`` (default: all that apply).
    min_base
        Cells with fewer respondents are flagged ``low_base`` (default config.MIN_BASE).
    alpha
        1 − confidence level.
    respondent
        Column identifying a respondent (for roll-ups).

    Returns
    -------
    DataFrame
        One row per cell × statistic:

        - ``unit``: touchpoint, parent or stage id, or ``"journey"``.
        - ``level``: the level asked.
        - the ``by`` columns, and ``period`` when asked.
        - ``metric``, ``statistic``.
        - ``estimate``: mean score; top-2-box / bottom-box share (0–1); NPS (−100..100).
        - ``ci_low``, ``ci_high``: the 1 − alpha interval (NaN when n_eff ≤ 1 for t).
        - ``n``: respondents; ``n_eff``: Kish effective n (= n unweighted).
        - ``low_base``: n < min_base.
        - ``interval``: the method used for this row's interval.
        - ``higher_is_better``: polarity of the metric (CES: False).

    Notes
    -----
    With per-cell sums over respondents (weights w, values x):
    x̄ = Σwx/Σw, v = Σwx²/Σw − x̄², n_eff = (Σw)²/Σw², t interval
    x̄ ± t_{n_eff−1} √(v/(n_eff−1)). Box shares p = Σw·t/Σw with the Wilson
    interval on n_eff (Bernoulli answers) or the t interval on respondent
    shares (roll-ups where a respondent gave several answers). NPS: shares of
    promoters p_P and detractors p_D, adjusted-Wald interval on n_eff
    (:func:`nps_ci`). See the module docstring for the box definitions.

    References
    ----------
    Kish, L. (1965). Survey Sampling. Wiley (effective n). Wilson (1927);
    Rocks (2016).
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    by = [by] if isinstance(by, str) else list(by or [])
    stats_ = list(statistics or [s for s in STATISTICS if s != "nps" or metric == "nps"])
    unknown = [s for s in stats_ if s not in STATISTICS]
    if unknown:
        raise EstimationError(f"unknown statistic(s) {unknown}; use {list(STATISTICS)}")
    cells = cell_statistics(responses, metric=metric, level=level, catalog=catalog, by=by,
                            period=period, weight=weight, respondent=respondent,
                            statistics=stats_)
    keys = ["unit", *by, *(["period"] if period else [])]
    bernoulli = level == "touchpoint" or bool((cells["k_max"] == 1).all())
    frames = []
    for st in stats_:
        est, lo, hi, n_eff, method = _estimates(cells, st, bernoulli=bernoulli,
                                                weighted=bool(weight), alpha=alpha)
        f = cells[keys].copy()
        f.insert(1, "level", level)
        f["metric"] = metric
        f["statistic"] = st
        f["estimate"], f["ci_low"], f["ci_high"] = est, lo, hi
        f["n"] = cells["n"].to_numpy()
        f["n_eff"] = n_eff
        f["low_base"] = cells["n"].to_numpy() < min_base
        f["interval"] = method
        f["_cell"] = np.arange(len(cells))
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["higher_is_better"] = higher_is_better(metric)
    out = out.sort_values(["_cell"], kind="stable").drop(columns="_cell").reset_index(drop=True)
    _note(out, stats_, weight, min_base, level, by=[*by, *(["period"] if period else [])])
    return out


def _estimates(cells: pd.DataFrame, statistic: str, *, bernoulli: bool, weighted: bool,
               alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Estimate, interval, n_eff and method name of one statistic from cell sums."""
    sw, sw2 = cells["sw"].to_numpy(float), cells["sw2"].to_numpy(float)
    n_eff = sw**2 / sw2
    kish = " (Kish n_eff)" if weighted else ""
    if statistic == "mean":
        m = cells["swx"].to_numpy(float) / sw
        v = cells["swx2"].to_numpy(float) / sw - m**2
        lo, hi = t_interval(m, v, n_eff, alpha)
        return m, lo, hi, n_eff, "t" + kish
    if statistic in ("top2", "bottom"):
        s, s2 = ("swt", "swt2") if statistic == "top2" else ("swb", "swb2")
        p = cells[s].to_numpy(float) / sw
        if bernoulli:
            lo, hi = wilson_interval(p, n_eff, alpha)
            return p, lo, hi, n_eff, "Wilson" + kish
        v = cells[s2].to_numpy(float) / sw - p**2
        lo, hi = t_interval(p, v, n_eff, alpha)
        return p, lo, hi, n_eff, "t on respondent shares" + kish
    # nps
    pp = cells["swp"].to_numpy(float) / sw
    pdt = cells["swq"].to_numpy(float) / sw
    est, lo, hi = nps_interval(pp * n_eff, pdt * n_eff, n_eff, alpha)
    return est, lo, hi, n_eff, "adjusted Wald (Rocks 2016)" + kish


_STEP = {"mean": "mean score", "top2": "top-2-box share (best two points)",
         "bottom": "bottom-box share (worst point)", "nps": "NPS"}
_REF = {"t": "Student t interval", "Wilson": "Wilson (1927) score interval",
        "t on respondent shares": "t interval on each respondent's share of box answers",
        "adjusted Wald (Rocks 2016)": "Rocks (2016), The American Statistician 70(4)"}


def _note(out: pd.DataFrame, stats_: Sequence[str], weight: str | None, min_base: int,
          level: str, by: Sequence[str] = ()) -> None:
    for s in stats_:
        rows = out[out["statistic"] == s]
        if rows.empty:  # e.g. a stage roll-up of a metric asked only about the journey
            continue
        for method in sorted(rows["interval"].unique()):
            r = rows[rows["interval"] == method]
            base = method.removesuffix(" (Kish n_eff)")
            note_method(f"{_STEP[s]} ({level} level)", method, reference=_REF.get(base),
                        weights=weight or "none", by=list(by), min_base=min_base,
                        cells=len(r),
                        n_min=int(r["n"].min()), n_median=float(r["n"].median()),
                        low_base_cells=int(r["low_base"].sum()))


# ---------------------------------------------------------------- blind spots
def blind_spots(
    summary: pd.DataFrame,
    catalog: Any,
    *,
    min_base: int | None = None,
    language: str = "en",
    include_low_base: bool = True,
) -> pd.DataFrame:
    """Catalog touchpoints with no (or too little) feedback, from summaries already computed.

    Parameters
    ----------
    summary
        :func:`summarize` output at the ``touchpoint`` level and (for
        sub-touchpoints' parents) the ``parent`` level, without ``by`` or
        ``period`` (concatenate both). No data is read again: a 10-million-row
        store costs nothing extra here.
    catalog
        The touchpoint catalog: every touchpoint gets a status.
    min_base
        Minimum base (default config.MIN_BASE).
    language
        Language of the ``name`` column.
    include_low_base
        Keep low-base touchpoints too (not only those never answered).

    Returns
    -------
    DataFrame
        ``touchpoint_id``, ``name``, ``stage``, ``depth``, ``n`` (respondents
        answering the touchpoint or, for a parent, any of its parts), ``status``
        (``"blind_spot"`` when n = 0, ``"low_base"`` when n < min_base): blind
        spots first, then in journey order.

    Notes
    -----
    Same rule as :func:`cxlib.analysis.coverage.coverage` restricted to one metric
    (coverage counts every metric and reads the answers itself).
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    s = summary.drop_duplicates("unit")
    n = s.set_index("unit")["n"]
    f = catalog.frame
    out = pd.DataFrame({"touchpoint_id": f["touchpoint_id"],
                        "name": [catalog.name(t, language) for t in f["touchpoint_id"]],
                        "stage": f["stage"], "depth": f["depth"]})
    out["n"] = out["touchpoint_id"].map(n).fillna(0).astype("int64")
    out["status"] = np.where(out["n"] == 0, "blind_spot",
                             np.where(out["n"] < min_base, "low_base", "covered"))
    keep = ["blind_spot", "low_base"] if include_low_base else ["blind_spot"]
    out = out[out["status"].isin(keep)]
    return (out.assign(_o=out["status"].ne("blind_spot")).sort_values("_o", kind="stable")
            .drop(columns="_o").reset_index(drop=True))


# ---------------------------------------------------------------- notebook helpers
def distinct_values(source: pd.DataFrame | duckdb.DuckDBPyRelation, column: str) -> list[Any]:
    """Sorted distinct non-missing values of a column (empty when the column is absent)."""
    rel = relation(source)
    if column not in rel.columns:
        return []
    c = quote_ident(column)
    return query(rel, f"SELECT DISTINCT {c} AS v FROM src WHERE {c} IS NOT NULL "
                       "ORDER BY 1")["v"].tolist()


def resolve_column(source: pd.DataFrame | duckdb.DuckDBPyRelation, wanted: str,
                   fallbacks: Sequence[str] = ("travel_class", "region", "channel")
                   ) -> str | None:
    """``wanted`` when the responses have it, else the first fallback they have.

    Prints which column is used (for notebooks run on data without the default
    segment column, such as the airline survey); None when there is none.
    """
    cols = list(relation(source).columns)
    if wanted in cols:
        return wanted
    for c in fallbacks:
        if c in cols:
            print(f"segment column {wanted!r} is not in this dataset; using {c!r} instead")
            return c
    print(f"segment column {wanted!r} is not in this dataset and no fallback "
          f"({list(fallbacks)}) is: no segment comparison")
    return None
