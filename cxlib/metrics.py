"""Satisfaction per touchpoint: honest metrics with base sizes, intervals and flags.

:func:`summarize` turns long responses into one tidy row per cell (touchpoint
or roll-up level × segments × period) × statistic:

``mean``    mean score, t interval (Kish effective n with weights);
``top2``    top-2-box share (the two highest scale points), Wilson interval;
``bottom``  bottom-box share (the lowest scale point), Wilson interval;
``nps``     promoters − detractors (×100, metric ``nps`` only), adjusted-Wald interval.

Every row carries ``n`` (respondents), ``n_eff`` (Kish), the estimate, its
interval and ``low_base`` (n below the minimum base): small cells are flagged,
never dropped.

Roll-ups (``level="parent"|"stage"|"journey"``) duplicate each answer to the
touchpoint's ancestors (catalog ``ancestry()``), then average **within each
respondent** first: a respondent who rated three parts of the store counts
once, with the mean of their answers (and their share of top-box answers), so
``n`` is the number of respondents and intervals come from respondents, not
from averaging averages. At roll-up levels box shares use a t interval on the
respondent-level shares (a respondent's share is not a Bernoulli variable).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import config
from cxlib.errors import EstimationError
from cxlib.results import note_method

__all__ = [
    "LEVELS",
    "STATISTICS",
    "add_period",
    "kish_n_eff",
    "mean_ci",
    "nps_ci",
    "summarize",
    "summary_duckdb",
    "wilson_ci",
]

LEVELS = ("touchpoint", "parent", "stage", "journey")
STATISTICS = ("mean", "top2", "bottom", "nps")
PERIODS = {"month": "M", "quarter": "Q", "half": "half", "year": "Y"}


# ---------------------------------------------------------------- formulas
def kish_n_eff(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² (= n without weights)."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / (w**2).sum())


def wilson_ci(p: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` on ``n`` (effective) observations.

    Notes
    -----
    (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n)

    References
    ----------
    Wilson, E. B. (1927), JASA 22(158); Agresti & Coull (1998), Am. Stat. 52(2).
    """
    if n <= 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(1 - alpha / 2)
    den = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return (float(centre - half), float(centre + half))


def mean_ci(x: np.ndarray, w: np.ndarray | None = None,
            alpha: float = 0.05) -> tuple[float, float, float, float]:
    """Mean, t interval and n_eff; with weights the SE uses Kish's effective n.

    Notes
    -----
    x̄_w = Σwx/Σw; v = Σw(x − x̄_w)²/Σw; SE = √(v / (n_eff − 1)); df = n_eff − 1.
    Without weights this is the usual s/√n t interval. It equals statsmodels'
    ``DescrStatsW(x, weights=w * n_eff / Σw).tconfint_mean()``.
    """
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    n_eff = kish_n_eff(w)
    m = float(np.sum(w * x) / w.sum())
    if n_eff <= 1:
        return m, np.nan, np.nan, n_eff
    v = float(np.sum(w * (x - m) ** 2) / w.sum())
    se = np.sqrt(v / (n_eff - 1))
    q = stats.t.ppf(1 - alpha / 2, n_eff - 1)
    return m, m - q * se, m + q * se, n_eff


def nps_ci(n_promoters: float, n_detractors: float, n: float,
           alpha: float = 0.05) -> tuple[float, float, float]:
    """NPS (×100) with the adjusted-Wald interval.

    Notes
    -----
    Add 3/4 of a promoter and 3/4 of a detractor (3 respondents in all, the
    rest passives): p̃_P = (n_P + ¾)/(n + 3), p̃_D = (n_D + ¾)/(n + 3);
    per-respondent variance p̃_P + p̃_D − (p̃_P − p̃_D)²; interval
    (p̃_P − p̃_D) ± z √(var/(n + 3)), ×100. The estimate returned is the plain
    NPS (n_P − n_D)/n × 100.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score".
    The American Statistician 70(4), 365–372.
    """
    if n <= 0:
        return (np.nan, np.nan, np.nan)
    z = stats.norm.ppf(1 - alpha / 2)
    na = n + 3
    pp, pd_ = (n_promoters + 0.75) / na, (n_detractors + 0.75) / na
    var = pp + pd_ - (pp - pd_) ** 2
    centre, half = pp - pd_, z * np.sqrt(var / na)
    return (100 * (n_promoters - n_detractors) / n, 100 * (centre - half), 100 * (centre + half))


# ---------------------------------------------------------------- helpers
def add_period(df: pd.DataFrame, period: str | None, *, column: str = "period") -> pd.DataFrame:
    """Add a period label column (``"2025Q3"``, ``"2025-07"``, ``"2025H2"``, ``"2025"``)."""
    if not period:
        return df
    if period not in PERIODS:
        raise EstimationError(f"period must be one of {list(PERIODS)}, not {period!r}")
    d = df["date"]
    if period == "half":
        lab = d.dt.year.astype(str) + "H" + np.where(d.dt.month <= 6, "1", "2")
    else:
        lab = d.dt.to_period(PERIODS[period]).astype(str)
    return df.assign(**{column: lab})


def _respondent_rows(responses: pd.DataFrame, *, level: str, catalog: Any) -> pd.DataFrame:
    """Map answers to the cell ``unit`` of the level (touchpoint/parent/stage/journey)."""
    if level == "touchpoint":
        return responses.assign(unit=responses["touchpoint_id"])
    if catalog is None:
        raise EstimationError(f"level={level!r} needs the catalog (catalog=...)")
    if level == "journey":
        return responses.assign(unit="journey")
    anc = catalog.ancestry()
    frame = catalog.frame.set_index("touchpoint_id")
    if level == "stage":
        stage = responses["touchpoint_id"].map(frame["stage"])
        return responses.assign(unit=stage).dropna(subset=["unit"])
    # parent: every ancestor at level >= 1 (and the touchpoint itself if it is a parent)
    parents = set(frame.index[~frame["is_leaf"]])
    m = responses.merge(anc, on="touchpoint_id")
    m = m[m["ancestor_id"].isin(parents)]
    return m.assign(unit=m["ancestor_id"]).drop(columns=["ancestor_id", "level"])


def summarize(
    responses: pd.DataFrame,
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
        Long responses (``responses`` contract).
    metric
        ``csat``, ``nps``, ``ces`` or ``overall`` (rows of other metrics are ignored).
    level
        ``touchpoint`` (as answered), ``parent``, ``stage`` or ``journey``.
    catalog
        The touchpoint catalog (needed for roll-ups).
    by
        Segment column(s).
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

    Returns
    -------
    DataFrame
        unit (touchpoint, parent, stage id or "journey"), level, the ``by``
        columns, period (when asked), metric, statistic, estimate, ci_low,
        ci_high, n (respondents), n_eff, low_base, interval (method name).
    """
    if level not in LEVELS:
        raise EstimationError(f"level must be one of {LEVELS}, not {level!r}")
    min_base = config.MIN_BASE if min_base is None else min_base
    by = [by] if isinstance(by, str) else list(by or [])
    data = responses[responses["metric"] == metric]
    if data.empty:
        raise EstimationError(f"no answers with metric {metric!r}; metrics present: "
                              f"{sorted(responses['metric'].unique())}")
    missing = [c for c in [*by, *([weight] if weight else [])] if c not in data]
    if missing:
        raise EstimationError(f"columns {missing} not in the responses")
    data = add_period(data, period)
    keys = [*by, *(["period"] if period else [])]
    smax, smin = data["scale_max"].iloc[0], data["scale_min"].iloc[0]
    data = data.assign(_top=(data["score"] >= smax - 1).astype(float),
                       _bot=(data["score"] <= smin).astype(float),
                       _pro=(data["score"] >= 9).astype(float),
                       _det=(data["score"] <= 6).astype(float),
                       _w=data[weight].astype(float) if weight else 1.0)
    data = _respondent_rows(data, level=level, catalog=catalog)
    cols = ["score", "_top", "_bot", "_pro", "_det", "_w"]
    per = data.groupby(["unit", *keys, respondent], observed=True, sort=False)[cols].mean()
    per["_k"] = data.groupby(["unit", *keys, respondent], observed=True, sort=False).size()
    stats_ = list(statistics or [s for s in STATISTICS if s != "nps" or metric == "nps"])
    bernoulli = level == "touchpoint" or bool((per["_k"] == 1).all())
    rows = []
    for key, g in per.groupby(level=["unit", *keys], observed=True, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        w = g["_w"].to_numpy()
        n = len(g)
        base = dict(zip(["unit", *keys], key, strict=True))
        for st in stats_:
            if st == "mean":
                est, lo, hi, n_eff = mean_ci(g["score"].to_numpy(), w, alpha)
                method = "t (Kish n_eff)" if weight else "t"
            elif st in ("top2", "bottom"):
                x = g["_top" if st == "top2" else "_bot"].to_numpy()
                if bernoulli:
                    n_eff = kish_n_eff(w)
                    est = float(np.sum(w * x) / w.sum())
                    lo, hi = wilson_ci(est, n_eff, alpha)
                    method = "Wilson" + (" (Kish n_eff)" if weight else "")
                else:
                    est, lo, hi, n_eff = mean_ci(x, w, alpha)
                    method = "t on respondent shares"
            elif st == "nps":
                n_eff = kish_n_eff(w)
                pp = float(np.sum(w * g["_pro"]) / w.sum())
                pdt = float(np.sum(w * g["_det"]) / w.sum())
                est, lo, hi = nps_ci(pp * n_eff, pdt * n_eff, n_eff, alpha)
                method = "adjusted Wald (Rocks 2016)"
            else:
                raise EstimationError(f"unknown statistic {st!r}; one of {STATISTICS}")
            rows.append({**base, "level": level, "metric": metric, "statistic": st,
                         "estimate": est, "ci_low": lo, "ci_high": hi, "n": n,
                         "n_eff": n_eff, "low_base": n < min_base, "interval": method})
    out = pd.DataFrame(rows)
    if period:
        out = out.sort_values(["unit", *keys], kind="stable").reset_index(drop=True)
    _note(stats_, weight, min_base, level)
    return out


def _note(stats_: Sequence[str], weight: str | None, min_base: int, level: str) -> None:
    refs = {"mean": ("mean score", "t interval" + (", Kish effective n" if weight else "")),
            "top2": ("top-2-box share", "Wilson score interval (Wilson 1927)"),
            "bottom": ("bottom-box share", "Wilson score interval (Wilson 1927)"),
            "nps": ("NPS", "adjusted-Wald interval (Rocks 2016)")}
    for s in stats_:
        step, method = refs[s]
        note_method(step, method, weights=weight or "none", min_base=min_base, level=level)


def summary_duckdb(
    source: str | Any,
    *,
    by: Sequence[str] = ("touchpoint_id",),
    metric: str = "csat",
    min_base: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Touchpoint × segment summary (n, mean, top-2-box, NPS) computed in DuckDB.

    For large stores (Parquet files or a glob such as ``".../responses/*.parquet"``):
    the aggregation runs in DuckDB and only per-cell sums come back, so memory
    stays flat. Touchpoint level, unweighted; the numbers equal those of
    :func:`summarize` (tested).

    Returns
    -------
    DataFrame
        by columns, n, mean, mean_low, mean_high, top2, top2_low, top2_high,
        nps, nps_low, nps_high (NaN unless metric == "nps"), low_base.
    """
    import duckdb

    min_base = config.MIN_BASE if min_base is None else min_base
    cols = ", ".join(by)
    src = f"read_parquet({str(source)!r})" if isinstance(source, str) else "src"
    con = duckdb.connect()
    if not isinstance(source, str):
        con.register("src", source)
    # sums only (no per-row CASE): the cheapest aggregate DuckDB can stream
    q = f"""
        SELECT {cols}, count(*) AS n, sum(score) AS s1, sum(score * score) AS s2,
               count_if(score >= scale_max - 1) AS n_top2,
               count_if(score >= 9) AS n_pro, count_if(score <= 6) AS n_det
        FROM {src} WHERE metric = '{metric}' GROUP BY ALL ORDER BY {cols}
    """
    df = con.execute(q).df()
    con.close()
    df["mean"] = df["s1"] / df["n"]
    df["var"] = (df["s2"] - df["n"] * df["mean"] ** 2) / np.maximum(df["n"] - 1, 1)
    df["top2"] = df["n_top2"] / df["n"]
    q_t = stats.t.ppf(1 - alpha / 2, np.maximum(df["n"] - 1, 1))
    se = np.sqrt(df["var"] / df["n"])
    df["mean_low"], df["mean_high"] = df["mean"] - q_t * se, df["mean"] + q_t * se
    lo_hi = [wilson_ci(p, n, alpha) for p, n in zip(df["top2"], df["n"], strict=True)]
    df["top2_low"] = [x[0] for x in lo_hi]
    df["top2_high"] = [x[1] for x in lo_hi]
    if metric == "nps":
        nps = [nps_ci(a, b, n, alpha) for a, b, n in zip(df["n_pro"], df["n_det"], df["n"],
                                                        strict=True)]
        df["nps"], df["nps_low"], df["nps_high"] = (list(x) for x in zip(*nps, strict=True))
    else:
        df["nps"] = df["nps_low"] = df["nps_high"] = np.nan
    df["low_base"] = df["n"] < min_base
    return df.drop(columns=["var", "s1", "s2", "n_top2", "n_pro", "n_det"])
