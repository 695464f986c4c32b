"""Comparisons that analysts can trust: right test per statistic, FDR control.

* :func:`compare_periods` — each period against the one before, per cell;
* :func:`compare_segments` — each segment against the rest;
* :func:`adjust_fdr` — one Benjamini–Hochberg family across several comparison tables;
* :func:`significant_moves` — the tidy table of significant moves, better and worse;
* :func:`weakest_links` — per stage, the touchpoint significantly worst.

Tests: Welch's t for means; the two-proportion z test (pooled SE for the
test, unpooled for the interval) for box shares; for NPS the difference with
the combined variance var_a/n_a + var_b/n_b (per-respondent variance
p_P + p_D − (p_P − p_D)²). Comparisons are unweighted, one answer per
respondent and touchpoint (responses contract).

Like :mod:`cxlib.analysis.satisfaction`, every function accepts a pandas DataFrame or a
DuckDB relation: DuckDB reduces the answers to per-cell sufficient statistics
(n, Σx, Σx², box, promoter and detractor counts; per-respondent sums for the
weakest-link contrast) and the tests run in numpy on those small tables.
"Rest" in segment-vs-rest is the sum over the other segments, so respondents
with a missing segment are in neither group.

Direction
    ``delta`` is always the raw difference (group − reference) and
    ``change`` its sign in words (``"higher"``/``"lower"``). ``direction`` is
    about the customer's experience: ``"up"`` = significantly better,
    ``"down"`` = significantly worse, following
    :data:`cxlib.data.schemas.HIGHER_IS_BETTER` (a lower CES mean is better) and the
    statistic (a larger bottom-box share is worse; ``top2`` is already the
    best boxes, see :mod:`cxlib.analysis.satisfaction`). ``better_if_higher`` says which
    applies to the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import config
from cxlib.analysis.satisfaction import (
    box_thresholds,
    cell_statistics,
    higher_is_better,
    no_metric_error,
    query,
    relation,
    require_columns,
    values_table,
)
from cxlib.analysis.stats import benjamini_hochberg, holm, nps_variance, t_interval
from cxlib.data.duck import quote_ident, quote_literal
from cxlib.errors import EstimationError
from cxlib.methods import note_method

if TYPE_CHECKING:
    import duckdb

__all__ = ["WEAKEST_COLUMNS", "Moves", "adjust_fdr", "compare_periods", "compare_segments",
           "holm", "record_results", "report_moves", "significant_moves", "test_two_groups",
           "weakest_links"]

TESTS = {"mean": "Welch t", "top2": "two-proportion z", "bottom": "two-proportion z",
         "nps": "NPS difference z (combined variance)"}
_TEST_REFS = {"mean": "Welch (1947), Biometrika 34",
              "top2": "pooled two-proportion z test (Agresti 2007, §2.2)",
              "bottom": "pooled two-proportion z test (Agresti 2007, §2.2)",
              "nps": "Rocks (2016), The American Statistician 70(4): variance of the NPS"}
_SUMS = ["n", "sx", "sxx", "nt", "nb", "npro", "ndet"]


def _better_if_higher(metric: str, statistic: str) -> bool:
    if statistic == "bottom":
        return False
    if statistic == "mean":
        return higher_is_better(metric)
    return True  # top2 is the best boxes whatever the polarity; NPS: more is better


def _tests(a: dict[str, np.ndarray], b: dict[str, np.ndarray], statistic: str,
           alpha: float) -> dict[str, np.ndarray]:
    """Vectorised tests of group a against reference b from their sums."""
    na, nb = (np.asarray(d["n"], float) for d in (a, b))
    ok = (na >= 2) & (nb >= 2)
    na_, nb_ = np.where(ok, na, 2.0), np.where(ok, nb, 2.0)  # placeholders where too few
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "mean":
            ma, mb = a["sx"] / na_, b["sx"] / nb_
            va = np.maximum(a["sxx"] - na_ * ma**2, 0) / (na_ - 1) / na_
            vb = np.maximum(b["sxx"] - nb_ * mb**2, 0) / (nb_ - 1) / nb_
            se = np.sqrt(va + vb)
            pos = se > 0
            df = np.where(pos, (va + vb) ** 2 / (va**2 / (na_ - 1) + vb**2 / (nb_ - 1)), 1.0)
            p = np.where(pos, 2 * stats.t.sf(np.abs((ma - mb) / np.where(pos, se, 1)), df), 1.0)
            q = stats.t.ppf(1 - alpha / 2, df)
            est, ref, half = ma, mb, q * se
        elif statistic in ("top2", "bottom"):
            k = "nt" if statistic == "top2" else "nb"
            pa, pb = a[k] / na_, b[k] / nb_
            pool = (a[k] + b[k]) / (na_ + nb_)
            se0 = np.sqrt(pool * (1 - pool) * (1 / na_ + 1 / nb_))
            p = np.where(se0 > 0, 2 * stats.norm.sf(np.abs(pa - pb) / np.where(se0 > 0, se0, 1)),
                         1.0)
            se = np.sqrt(pa * (1 - pa) / na_ + pb * (1 - pb) / nb_)
            est, ref, half = pa, pb, z * se
        elif statistic == "nps":
            # per-respondent variances p_P + p_D - (p_P - p_D)^2 of each group (Rocks 2016)
            ea, va = nps_variance(a["npro"], a["ndet"], na_)
            eb, vb = nps_variance(b["npro"], b["ndet"], nb_)
            se = np.sqrt(va / na_ + vb / nb_)
            p = np.where(se > 0, 2 * stats.norm.sf(np.abs(ea - eb) / np.where(se > 0, se, 1)),
                         1.0)
            est, ref, half = 100 * ea, 100 * eb, 100 * z * se
        else:
            raise EstimationError(f"unknown statistic {statistic!r}; one of {list(TESTS)}")
    nan = np.full(len(na), np.nan)
    est, ref = np.where(ok, est, nan), np.where(ok, ref, nan)
    delta = est - ref
    return {"estimate": est, "reference": ref, "delta": delta,
            "ci_low": delta - np.where(ok, half, nan), "ci_high": delta + np.where(ok, half, nan),
            "p_value": np.where(ok, p, nan),
            "test": np.where(ok, TESTS[statistic], "too few").astype(object)}


def _sums_of(x: np.ndarray, metric: str, scale_min: Any, scale_max: Any) -> dict[str, Any]:
    best, worst, hib = box_thresholds(np.broadcast_to(scale_min, x.shape),
                                      np.broadcast_to(scale_max, x.shape), metric)
    top = x >= best if hib else x <= best
    bot = x <= worst if hib else x >= worst
    return {"n": np.array([len(x)], float), "sx": np.array([x.sum()]),
            "sxx": np.array([(x * x).sum()]), "nt": np.array([top.sum()], float),
            "nb": np.array([bot.sum()], float), "npro": np.array([(x >= 9).sum()], float),
            "ndet": np.array([(x <= 6).sum()], float)}


def test_two_groups(a: np.ndarray, b: np.ndarray, statistic: str, *,
                    metric: str = "csat", scale_max: Any = 5, scale_min: Any = 1,
                    alpha: float = 0.05) -> dict[str, Any]:
    """Compare group ``a`` with reference ``b`` (one score per respondent).

    Parameters
    ----------
    a, b
        Scores of the two groups.
    statistic
        ``mean`` (Welch t), ``top2`` / ``bottom`` (two-proportion z, pooled SE
        for the test, unpooled for the interval), ``nps`` (z on the difference
        with combined variance; ×100).
    metric, scale_max, scale_min
        Polarity and scale of the boxes (scalars or one value per score).
    alpha
        1 − confidence level of the interval of the difference.

    Returns
    -------
    dict
        estimate, reference, delta (a − b), ci_low, ci_high (of the delta),
        p_value (two-sided), test ("too few" with fewer than 2 in a group).

    Notes
    -----
    The same formulas as the comparison tables, which compute them from
    DuckDB sums: Welch SE √(s²_a/n_a + s²_b/n_b) with Welch–Satterthwaite df;
    pooled z (p_a − p_b)/√(p̄(1−p̄)(1/n_a + 1/n_b)); NPS z
    (NPS_a − NPS_b)/√(v_a/n_a + v_b/n_b), v = p_P + p_D − (p_P − p_D)².
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    sa = _sums_of(a, metric, scale_min if np.ndim(scale_min) == 0 else np.asarray(scale_min)[
        :len(a)], scale_max if np.ndim(scale_max) == 0 else np.asarray(scale_max)[:len(a)])
    sb = _sums_of(b, metric, scale_min if np.ndim(scale_min) == 0 else np.asarray(scale_min)[
        len(a):], scale_max if np.ndim(scale_max) == 0 else np.asarray(scale_max)[len(a):])
    r = _tests(sa, sb, statistic, alpha)
    return {k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in r.items()}


def _sums(cells: pd.DataFrame) -> pd.DataFrame:
    """metrics.cell_statistics (unweighted) -> the sums the tests need."""
    return cells.rename(columns={"swx": "sx", "swx2": "sxx", "swt": "nt", "swb": "nb",
                                 "swp": "npro", "swq": "ndet"})


def _rows(keys: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame, *, metric: str,
          statistics: Sequence[str], min_base: int, alpha: float) -> pd.DataFrame:
    frames = []
    for st in statistics:
        r = _tests({k: a[k].to_numpy(float) for k in _SUMS},
                   {k: b[k].to_numpy(float) for k in _SUMS}, st, alpha)
        f = keys.copy()
        f["metric"] = metric
        f["statistic"] = st
        for k, v in r.items():
            f[k] = v
        f["n"] = a["n"].to_numpy().astype("int64")
        f["n_ref"] = b["n"].to_numpy().astype("int64")
        f["low_base"] = np.minimum(f["n"], f["n_ref"]) < min_base
        f["better_if_higher"] = _better_if_higher(metric, st)
        f["_row"] = np.arange(len(f))
        frames.append(f)
    if not frames:
        return keys.assign(metric=metric)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values("_row", kind="stable").drop(columns="_row").reset_index(drop=True)
    out["change"] = np.where(out["delta"] > 0, "higher",
                             np.where(out["delta"] < 0, "lower", ""))
    return out


def _note_tests(what: str, metric: str, statistics: Sequence[str], table: pd.DataFrame,
                min_base: int) -> None:
    for st in statistics:
        rows = table[(table["statistic"] == st) & (table["test"] != "too few")]
        note_method(f"{what}: {st} ({metric})", TESTS[st], reference=_TEST_REFS[st],
                    cells=len(rows), n_min=int(rows["n"].min()) if len(rows) else None,
                    min_base=min_base)


def compare_segments(
    responses: pd.DataFrame | duckdb.DuckDBPyRelation,
    *,
    segment_column: str,
    metric: str = "csat",
    statistics: Sequence[str] = ("mean",),
    min_base: int | None = None,
    alpha: float = 0.05,
    adjust: bool = True,
) -> pd.DataFrame:
    """Each segment vs the rest, per touchpoint and statistic, BH-adjusted.

    Parameters
    ----------
    responses
        Long responses (DataFrame or DuckDB relation).
    segment_column
        Segment column; answers with a missing segment belong to no group.
    metric, statistics
        Metric and statistics (``mean``, ``top2``, ``bottom``, ``nps``).
    min_base
        Rows where either group has fewer respondents are flagged ``low_base``.
    alpha
        Level of the intervals and of the false discovery rate.
    adjust
        Apply Benjamini–Hochberg to this table alone (set False and call
        :func:`adjust_fdr` to adjust several tables as one family).

    Returns
    -------
    DataFrame
        touchpoint_id, segment_column, segment, period (None), metric,
        statistic, estimate (segment), reference (rest), delta (raw
        segment − rest), ci_low, ci_high (of delta), p_value, test, n, n_ref,
        low_base, better_if_higher, change ("higher"/"lower"), and with
        ``adjust``: q_value, significant, direction ("up" = better,
        "down" = worse, "" = not significant).
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    cells = _sums(cell_statistics(responses, metric=metric, by=[segment_column],
                                  statistics=statistics))
    total = cells.groupby("unit", sort=False)[_SUMS].transform("sum")
    rest = total - cells[_SUMS]
    keys = pd.DataFrame({"touchpoint_id": cells["unit"], "segment_column": segment_column,
                         "segment": cells[segment_column], "period": None})
    out = _rows(keys, cells, rest, metric=metric, statistics=statistics, min_base=min_base,
                alpha=alpha)
    _note_tests("Segment vs rest", metric, statistics, out, min_base)
    return adjust_fdr(out, alpha=alpha, family="segments vs rest")[0] if adjust else out


def compare_periods(
    responses: pd.DataFrame | duckdb.DuckDBPyRelation,
    *,
    period: str = "quarter",
    metric: str = "csat",
    by: str | None = None,
    statistics: Sequence[str] = ("mean",),
    min_base: int | None = None,
    alpha: float = 0.05,
    last_only: bool = True,
    adjust: bool = True,
) -> pd.DataFrame:
    """Each period vs the previous one, per touchpoint (and segment of ``by``).

    By default only the latest period against the one before. Columns as
    :func:`compare_segments` (``segment_column``/``segment`` from ``by``), plus
    ``previous_period``; ``estimate`` is the later period, ``reference`` the
    earlier, ``delta`` = later − earlier.
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    keys_by = [by] if by else []
    cells = _sums(cell_statistics(responses, metric=metric, by=keys_by, period=period,
                                  statistics=statistics))
    labels = sorted(cells["period"].unique())
    if len(labels) < 2:
        raise EstimationError(f"need two {period}s to compare; the data has {labels}")
    pairs = list(pairwise(labels))
    if last_only:
        pairs = pairs[-1:]
    groups = cells[["unit", *keys_by]].drop_duplicates().reset_index(drop=True)
    grid = pd.concat([groups.assign(period=cur, previous_period=prev) for prev, cur in pairs],
                     ignore_index=True)
    idx = ["unit", *keys_by, "period"]
    zero = dict.fromkeys(_SUMS, 0.0)
    a = grid.merge(cells[[*idx, *_SUMS]], on=idx, how="left").fillna(zero)
    b = grid.merge(cells[[*idx, *_SUMS]].rename(columns={"period": "previous_period"}),
                   on=["unit", *keys_by, "previous_period"], how="left").fillna(zero)
    keys = pd.DataFrame({"touchpoint_id": grid["unit"], "segment_column": by,
                         "segment": grid[by] if by else None, "period": grid["period"],
                         "previous_period": grid["previous_period"]})
    out = _rows(keys, a, b, metric=metric, statistics=statistics, min_base=min_base,
                alpha=alpha)
    _note_tests(f"{period} vs previous {period}", metric, statistics, out, min_base)
    return adjust_fdr(out, alpha=alpha, family=f"{period} vs previous")[0] if adjust else out


def adjust_fdr(*tables: pd.DataFrame, alpha: float = 0.05,
               family: str | None = None) -> list[pd.DataFrame]:
    """Benjamini–Hochberg across all rows of all ``tables`` (one family).

    Returns copies of the tables with ``q_value``, ``significant`` and
    ``direction`` ("up" = significantly better, "down" = significantly worse,
    "" otherwise; see the module docstring). Rows without a p-value (too few
    respondents) are not in the family.

    Notes
    -----
    The notebook puts the segment-vs-rest and the period-on-period tests of a
    report in one family: an analyst reads them as one list of "significant
    moves", so the false discovery rate is controlled over that list.
    """
    tables = [t.copy() for t in tables]
    p = np.concatenate([t["p_value"].to_numpy(float) if len(t) else np.array([])
                        for t in tables])
    q = benjamini_hochberg(p)
    ok = ~np.isnan(p)
    start = 0
    for t in tables:
        t["q_value"] = q[start:start + len(t)]
        start += len(t)
        t["significant"] = t["q_value"] < alpha
        if len(t):
            better = np.where(t["better_if_higher"].astype(bool), t["delta"] > 0,
                              t["delta"] < 0)
            t["direction"] = np.where(~t["significant"], "", np.where(better, "up", "down"))
        else:
            t["direction"] = pd.Series(dtype=object)
    note_method("Multiple comparisons", "Benjamini-Hochberg false discovery rate",
                reference="Benjamini & Hochberg (1995), JRSS B 57(1)", cells=int(ok.sum()),
                alpha=alpha, family=family or f"{len(tables)} table(s) adjusted together")
    return tables


def significant_moves(*tables: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The significant rows of comparison tables, biggest moves first.

    The tables are adjusted together as one Benjamini–Hochberg family
    (:func:`adjust_fdr`; idempotent when they already were). Columns as the
    comparison tables.
    """
    tables = tuple(t for t in tables if t is not None and len(t))
    if not tables:
        return pd.DataFrame()
    adjusted = adjust_fdr(*tables, alpha=alpha)
    frames = [t[t["significant"]] for t in adjusted]
    out = pd.concat(frames, ignore_index=True)
    return out.reindex(out["delta"].abs().sort_values(ascending=False).index).reset_index(
        drop=True)


@dataclass
class Moves:
    """The comparisons of one report, adjusted as one Benjamini–Hochberg family.

    Attributes
    ----------
    segments : DataFrame or None
        :func:`compare_segments` (None without a segment column).
    periods : DataFrame or None
        :func:`compare_periods`, latest period vs the one before (None when
        the data hold fewer than two periods).
    significant : DataFrame
        :func:`significant_moves` of both, biggest first (empty when none).
    """

    segments: pd.DataFrame | None
    periods: pd.DataFrame | None
    significant: pd.DataFrame


def report_moves(
    responses: pd.DataFrame | duckdb.DuckDBPyRelation,
    *,
    metric: str = "csat",
    period: str | None = "quarter",
    segment_column: str | None = None,
    statistics: Sequence[str] = ("mean", "top2"),
    min_base: int | None = None,
    alpha: float = 0.05,
) -> Moves:
    """Segments against the rest and the latest period against the one before, as
    one false-discovery-rate family: what a report lists as "significant moves".

    Segment tests run when ``segment_column`` is given; period tests (by
    segment when there is one) when ``period`` is given and the data hold at
    least two periods. Both tables are then adjusted together
    (:func:`adjust_fdr`), so the false discovery rate is controlled over the
    whole list a reader sees.
    """
    segments = periods = None
    if segment_column:
        segments = compare_segments(responses, segment_column=segment_column, metric=metric,
                                    statistics=statistics, min_base=min_base, alpha=alpha,
                                    adjust=False)
    if period:
        try:
            periods = compare_periods(responses, period=period, metric=metric,
                                      by=segment_column or None, statistics=("mean",),
                                      min_base=min_base, alpha=alpha, adjust=False)
        except EstimationError:  # fewer than two periods: nothing to compare
            periods = None
    tables = [t for t in (segments, periods) if t is not None]
    adjusted = iter(adjust_fdr(*tables, alpha=alpha, family="segments and periods of a report")
                    if tables else [])
    segments = next(adjusted) if segments is not None else None
    periods = next(adjusted) if periods is not None else None
    both = [t for t in (segments, periods) if t is not None]
    return Moves(segments, periods, significant_moves(*both, alpha=alpha))


#: Columns of :func:`weakest_links` (also of its empty result).
WEAKEST_COLUMNS = [
    "stage", "stage_mean", "stage_low", "stage_high", "n_stage", "n_touchpoints", "candidate",
    "candidate_mean", "candidate_low", "candidate_high", "n", "runner_up", "runner_up_mean",
    "others_mean", "delta", "delta_low", "delta_high", "n_paired", "p_value", "p_selection",
    "p_holm", "weakest", "status", "verdict", "higher_is_better",
]


def weakest_links(
    responses: pd.DataFrame | duckdb.DuckDBPyRelation,
    catalog: Any,
    *,
    metric: str = "csat",
    min_base: int | None = None,
    alpha: float = 0.05,
    respondent: str = "response_id",
) -> pd.DataFrame:
    """Per stage, the touchpoint significantly worst (the chain's weakest link).

    Parameters
    ----------
    responses
        Long responses (DataFrame or DuckDB relation).
    catalog
        The touchpoint catalog (stages and their touchpoints).
    metric
        The metric; "worst" follows its polarity (lowest CSAT, highest CES).
    min_base
        Touchpoints with fewer respondents are not candidates (default config.MIN_BASE).
    alpha
        Family-wise level across stages (Holm) and level of the intervals.
    respondent
        Column identifying a respondent.

    Returns
    -------
    DataFrame
        One row per stage with answers (journey order; empty with these
        columns when no stage has any):

        - ``stage``; ``stage_mean``, ``stage_low``, ``stage_high``, ``n_stage``:
          mean of each respondent's mean over the stage's touchpoints, t interval.
        - ``n_touchpoints``: touchpoints with at least ``min_base`` respondents.
        - ``candidate``: the worst of them; ``candidate_mean``,
          ``candidate_low``, ``candidate_high``, ``n``: its mean, t interval, base.
        - ``runner_up``, ``runner_up_mean``: the next worst.
        - ``others_mean``: the paired respondents' mean on the other touchpoints.
        - ``delta``, ``delta_low``, ``delta_high``, ``n_paired``: mean paired
          contrast (candidate − mean of the respondent's other touchpoints),
          its interval and the respondents who answered both.
        - ``p_value``: one-sided paired t p-value (candidate worse);
          ``p_selection``: × n_touchpoints (Bonferroni: the candidate was
          picked as the worst); ``p_holm``: Holm across stages.
        - ``weakest``: the candidate when significant, else None.
        - ``status``: ``"significant"``, ``"not significant"`` or ``"n/a"``
          (fewer than two touchpoints with enough respondents: no contest).
        - ``verdict``: what to print: the weakest link's id, ``"none"`` or ``"n/a"``.
        - ``higher_is_better``: polarity of the metric.

    Notes
    -----
    A respondent rates several touchpoints of a stage, so touchpoint means are
    not independent samples; comparing them with Welch's t ignores the pairing
    and is over-conservative. The contrast is therefore within respondent:
    for each respondent who rated the candidate and at least one other
    eligible touchpoint of the stage, d = score(candidate) − mean(score on
    the others); one-sample t test of mean(d) in the "worse" direction
    (df = n_paired − 1). Because the candidate is the worst of K sample means
    (selection), its p-value is multiplied by K (Bonferroni over the K
    touchpoints that could have been picked), which keeps the false-positive
    rate per stage at or below alpha under "all touchpoints equal"; Holm then
    controls the family-wise error across stages. Tested by simulation under
    the null (false-positive rate ~ alpha) and on the planted weak links.

    References
    ----------
    Holm, S. (1979). Scand. J. Statistics 6(2). Student's paired t test.
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    hib = higher_is_better(metric)
    rel = relation(responses)
    require_columns(rel, [respondent], "weakest links")
    tp = cell_statistics(rel, metric=metric, statistics=["mean"])
    frame = catalog.frame.set_index("touchpoint_id")
    tp = tp[tp["unit"].isin(frame.index)].copy()
    if tp.empty:
        return pd.DataFrame(columns=WEAKEST_COLUMNS)
    tp["stage"] = tp["unit"].map(frame["stage"])
    tp["mean"] = tp["swx"] / tp["n"]
    lo, hi = t_interval(tp["mean"], tp["swx2"] / tp["n"] - tp["mean"] ** 2, tp["n"], alpha)
    tp["low"], tp["high"] = lo, hi
    picks: dict[str, dict[str, Any]] = {}
    for stage in catalog.stages:
        g = tp[(tp["stage"] == stage) & (tp["n"] >= min_base)]
        g = g.sort_values(["mean", "unit"], ascending=[hib, True])
        picks[stage] = {"k": len(g), "cand": g["unit"].iloc[0] if len(g) else None,
                        "runner": g["unit"].iloc[1] if len(g) > 1 else None,
                        "eligible": set(g["unit"])}
    stages = list(catalog.stages)
    mapping = [(t, stages.index(st), int(t in picks[st]["eligible"]), int(t == picks[st]["cand"]))
               for t, st in frame["stage"].items()]
    m = values_table(mapping, ["touchpoint_id", "stage", "elig", "cand"])
    sql = f"""
        WITH a AS (SELECT t.stage, src.{quote_ident(respondent)} AS rid, CAST(score AS DOUBLE) AS x,
                          t.elig, t.cand
                   FROM src JOIN {m} ON src.touchpoint_id = t.touchpoint_id
                   WHERE src.metric = {quote_literal(metric)}),
             r AS (SELECT stage, rid, avg(x) AS xs, sum(x * elig) AS se, sum(elig) AS ce,
                          sum(x * cand) AS sc, sum(cand) AS cc
                   FROM a GROUP BY stage, rid),
             d AS (SELECT stage, xs,
                          CASE WHEN cc > 0 AND ce > cc THEN (se - sc) / (ce - cc) END AS o,
                          CASE WHEN cc > 0 AND ce > cc
                               THEN sc / cc - (se - sc) / (ce - cc) END AS d
                   FROM r)
        SELECT stage, count(*) AS n_stage, sum(xs) AS sx, sum(xs * xs) AS sxx,
               count(d) AS n_d, sum(d) AS sd, sum(d * d) AS sdd, sum(o) AS so
        FROM d GROUP BY stage"""
    st = query(rel, sql)
    if st.empty:
        raise no_metric_error(rel, metric)
    st["stage"] = [stages[int(i)] for i in st["stage"]]
    st = st.set_index("stage")
    by_unit = tp.set_index("unit")
    rows = []
    for stage in catalog.stages:
        if stage not in st.index:
            continue
        s, pk = st.loc[stage], picks[stage]
        n_stage = int(s["n_stage"])
        s_mean = s["sx"] / n_stage
        s_lo, s_hi = t_interval(s_mean, s["sxx"] / n_stage - s_mean**2, n_stage, alpha)
        row = {"stage": stage, "stage_mean": s_mean, "stage_low": float(s_lo),
               "stage_high": float(s_hi), "n_stage": n_stage, "n_touchpoints": pk["k"],
               "candidate": pk["cand"], "runner_up": pk["runner"], "higher_is_better": hib}
        if pk["cand"] is not None:
            c = by_unit.loc[pk["cand"]]
            row.update(candidate_mean=c["mean"], candidate_low=c["low"],
                       candidate_high=c["high"], n=int(c["n"]))
        if pk["runner"] is not None:
            row["runner_up_mean"] = by_unit.loc[pk["runner"], "mean"]
        nd = int(s["n_d"])
        row["n_paired"] = nd
        if pk["k"] >= 2 and nd >= 2:
            md = s["sd"] / nd
            vd = max(s["sdd"] / nd - md**2, 0.0)  # ddof-0 variance of d
            lo_d, hi_d = t_interval(md, vd, nd, alpha)
            se = np.sqrt(vd / (nd - 1))
            tstat = md / se if se > 0 else (-np.inf if md < 0 else np.inf if md > 0 else 0.0)
            p = stats.t.cdf(tstat, nd - 1) if hib else stats.t.sf(tstat, nd - 1)
            row.update(others_mean=s["so"] / nd, delta=md, delta_low=float(lo_d),
                       delta_high=float(hi_d), p_value=float(p),
                       p_selection=float(min(1.0, pk["k"] * p)))
        rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=WEAKEST_COLUMNS)
    if out.empty:
        return out
    tested = out["p_selection"].notna()
    if tested.any():
        out.loc[tested, "p_holm"] = holm(out.loc[tested, "p_selection"].to_numpy(float))
    sig = (tested & (out["p_holm"] < alpha)).to_numpy()
    out["weakest"] = pd.Series([c if s else None for c, s in zip(out["candidate"], sig,
                                                                  strict=True)], dtype=object)
    out["status"] = np.where(sig, "significant",
                             np.where(out["n_touchpoints"] >= 2, "not significant", "n/a"))
    out["verdict"] = np.where(sig, out["candidate"].astype(object),
                              np.where(out["n_touchpoints"] >= 2, "none", "n/a"))
    out = out.astype({"n_stage": "int64", "n_touchpoints": "int64", "n_paired": "int64"})
    note_method("Weakest link per stage",
                "paired within-respondent contrast (candidate minus the respondent's mean on "
                "the stage's other touchpoints), one-sided t; Bonferroni over the stage's "
                "candidates for selecting the worst; Holm across stages",
                reference="Holm (1979), Scand. J. Statistics 6(2)", metric=metric,
                min_base=min_base, stages_tested=int(tested.sum()),
                n_paired_min=int(out.loc[tested, "n_paired"].min()) if tested.any() else None,
                n_paired_median=float(out.loc[tested, "n_paired"].median())
                if tested.any() else None)
    return out


def record_results(out: Any, *, chain: pd.DataFrame, nps: Any, moves: Moves, metric: str,
                   name: Any) -> None:
    """Write notebook 01's headline figures and tables into a results file.

    ``out`` is a :class:`cxlib.share.results.Results`. Headlines: one
    ``weakest_<stage>`` per row of ``chain`` (:func:`weakest_links`: verdict,
    candidate, interval, base, Holm p), ``nps`` (a row of
    ``satisfaction.summarize(statistics=["nps"])``, or None), and
    ``significant_moves`` (their count; the moves themselves via ``out.moves``).
    Table: ``weakest_links``. ``name(id)`` gives a stage's name for the labels.
    """
    for r in chain.itertuples():
        out.headline(f"weakest_{r.stage}", r.verdict,
                     label=f"Weakest link: {name(r.stage)}", touchpoint_id=r.weakest,
                     candidate=r.candidate, status=r.status, estimate=r.candidate_mean,
                     ci=(r.candidate_low, r.candidate_high),
                     n=None if pd.isna(r.n) else int(r.n), p_holm=r.p_holm, metric=metric)
    if nps is not None:
        out.headline("nps", nps.estimate, label="NPS", ci=(nps.ci_low, nps.ci_high),
                     n=int(nps.n), unit="points", flag="low_base" if nps.low_base else None)
    if len(moves.significant):
        out.moves(moves.significant)
    out.headline("significant_moves", len(moves.significant), label="Significant moves")
    out.table("weakest_links", chain)
