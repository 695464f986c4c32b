"""Comparisons that analysts can trust: right test per statistic, FDR control.

* :func:`compare_periods` — each period against the one before, per cell;
* :func:`compare_segments` — each segment against the rest;
* :func:`significant_moves` — the tidy table of significant moves, up and down;
* :func:`weakest_links` — per stage, the touchpoint significantly lowest.

Tests: Welch's t for means; the two-proportion z test (pooled) for box
shares; for NPS the difference with the combined variance
var_a/n_a + var_b/n_b (per-respondent variance p_P + p_D − (p_P − p_D)²).
The p-values of all cells are adjusted together with Benjamini–Hochberg.
Comparisons are unweighted (respondent-level data).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import config
from cxlib.errors import EstimationError
from cxlib.metrics import add_period
from cxlib.results import note_method

__all__ = ["compare_periods", "compare_segments", "significant_moves", "test_two_groups",
           "weakest_links"]


def test_two_groups(a: np.ndarray, b: np.ndarray, statistic: str, *,
                    scale_max: float = 5, scale_min: float = 1,
                    alpha: float = 0.05) -> dict[str, float]:
    """Compare group ``a`` with reference ``b`` (scores of respondents).

    Returns estimate, reference, delta, ci_low, ci_high (of the delta), p_value,
    test. ``statistic`` is mean (Welch t), top2 / bottom (two-proportion z,
    pooled SE for the test, unpooled for the interval), nps (z on the
    difference with combined variance; ×100).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = len(a), len(b)
    z = stats.norm.ppf(1 - alpha / 2)
    if na < 2 or nb < 2:
        return {"estimate": np.nan, "reference": np.nan, "delta": np.nan, "ci_low": np.nan,
                "ci_high": np.nan, "p_value": np.nan, "test": "too few"}
    if statistic == "mean":
        ma, mb = a.mean(), b.mean()
        va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1)) if se > 0 else 1
        p = 2 * stats.t.sf(abs((ma - mb) / se), df) if se > 0 else 1.0
        q = stats.t.ppf(1 - alpha / 2, df)
        return {"estimate": ma, "reference": mb, "delta": ma - mb, "ci_low": ma - mb - q * se,
                "ci_high": ma - mb + q * se, "p_value": p, "test": "Welch t"}
    if statistic in ("top2", "bottom"):
        xa = a >= scale_max - 1 if statistic == "top2" else a <= scale_min
        xb = b >= scale_max - 1 if statistic == "top2" else b <= scale_min
        pa, pb = xa.mean(), xb.mean()
        pool = (xa.sum() + xb.sum()) / (na + nb)
        se0 = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        p = 2 * stats.norm.sf(abs(pa - pb) / se0) if se0 > 0 else 1.0
        se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        return {"estimate": pa, "reference": pb, "delta": pa - pb, "ci_low": pa - pb - z * se,
                "ci_high": pa - pb + z * se, "p_value": p, "test": "two-proportion z"}
    if statistic == "nps":
        def parts(x: np.ndarray) -> tuple[float, float]:
            pp, pdt = (x >= 9).mean(), (x <= 6).mean()
            return pp - pdt, pp + pdt - (pp - pdt) ** 2

        ea, va = parts(a)
        eb, vb = parts(b)
        se = np.sqrt(va / na + vb / nb)
        p = 2 * stats.norm.sf(abs(ea - eb) / se) if se > 0 else 1.0
        return {"estimate": 100 * ea, "reference": 100 * eb, "delta": 100 * (ea - eb),
                "ci_low": 100 * (ea - eb - z * se), "ci_high": 100 * (ea - eb + z * se),
                "p_value": p, "test": "NPS difference z (combined variance)"}
    raise EstimationError(f"unknown statistic {statistic!r}")


def _respondent_scores(responses: pd.DataFrame, metric: str, keys: list[str]) -> pd.DataFrame:
    d = responses[responses["metric"] == metric]
    if d.empty:
        raise EstimationError(f"no answers with metric {metric!r}")
    return d.groupby(["touchpoint_id", *keys, "response_id"], observed=True)["score"].mean() \
        .reset_index()


def _bh(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    ok = frame["p_value"].notna()
    frame["q_value"] = np.nan
    if ok.any():
        frame.loc[ok, "q_value"] = multipletests(frame.loc[ok, "p_value"], method="fdr_bh")[1]
    frame["significant"] = frame["q_value"] < alpha
    frame["direction"] = np.where(~frame["significant"], "",
                                  np.where(frame["delta"] > 0, "up", "down"))
    note_method("Multiple comparisons", "Benjamini-Hochberg false discovery rate",
                reference="Benjamini & Hochberg (1995), JRSS B 57(1)", cells=int(ok.sum()),
                alpha=alpha)
    return frame


def compare_segments(
    responses: pd.DataFrame,
    *,
    segment_column: str,
    metric: str = "csat",
    statistics: Sequence[str] = ("mean",),
    min_base: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each segment vs the rest, per touchpoint and statistic, BH-adjusted.

    Returns
    -------
    DataFrame
        touchpoint_id, segment_column, segment, period (None), metric, statistic,
        estimate, reference, delta, ci_low, ci_high, p_value, q_value,
        significant, direction, test, n, n_ref, low_base.
    """
    min_base = config.MIN_BASE if min_base is None else min_base
    per = _respondent_scores(responses, metric, [segment_column])
    smax = responses.loc[responses["metric"] == metric, "scale_max"].iloc[0]
    smin = responses.loc[responses["metric"] == metric, "scale_min"].iloc[0]
    rows = []
    for tp, g in per.groupby("touchpoint_id", sort=False):
        for seg in sorted(g[segment_column].dropna().unique()):
            a = g.loc[g[segment_column] == seg, "score"].to_numpy()
            b = g.loc[g[segment_column] != seg, "score"].to_numpy()
            for st in statistics:
                r = test_two_groups(a, b, st, scale_max=smax, scale_min=smin, alpha=alpha)
                rows.append({"touchpoint_id": tp, "segment_column": segment_column,
                             "segment": seg, "period": None, "metric": metric, "statistic": st,
                             **r, "n": len(a), "n_ref": len(b),
                             "low_base": min(len(a), len(b)) < min_base})
    return _bh(pd.DataFrame(rows), alpha)


def compare_periods(
    responses: pd.DataFrame,
    *,
    period: str = "quarter",
    metric: str = "csat",
    by: str | None = None,
    statistics: Sequence[str] = ("mean",),
    min_base: int | None = None,
    alpha: float = 0.05,
    last_only: bool = True,
) -> pd.DataFrame:
    """Each period vs the previous one (default: only the latest vs the one before),
    per touchpoint (and segment of ``by``), BH-adjusted. Columns as
    :func:`compare_segments` (``segment_column``/``segment`` from ``by``)."""
    min_base = config.MIN_BASE if min_base is None else min_base
    d = add_period(responses, period)
    keys = ["period", *([by] if by else [])]
    per = _respondent_scores(d, metric, keys)
    labels = sorted(per["period"].unique())
    if len(labels) < 2:
        raise EstimationError(f"need two {period}s to compare; the data has {labels}")
    pairs = list(pairwise(labels))
    if last_only:
        pairs = pairs[-1:]
    smax = responses.loc[responses["metric"] == metric, "scale_max"].iloc[0]
    smin = responses.loc[responses["metric"] == metric, "scale_min"].iloc[0]
    rows = []
    groups = per.groupby(["touchpoint_id", *([by] if by else [])], sort=False)
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for prev, cur in pairs:
            a = g.loc[g["period"] == cur, "score"].to_numpy()
            b = g.loc[g["period"] == prev, "score"].to_numpy()
            for st in statistics:
                r = test_two_groups(a, b, st, scale_max=smax, scale_min=smin, alpha=alpha)
                rows.append({"touchpoint_id": key[0], "segment_column": by,
                             "segment": key[1] if by else None, "period": cur,
                             "previous_period": prev, "metric": metric, "statistic": st, **r,
                             "n": len(a), "n_ref": len(b),
                             "low_base": min(len(a), len(b)) < min_base})
    return _bh(pd.DataFrame(rows), alpha)


def significant_moves(*tables: pd.DataFrame) -> pd.DataFrame:
    """The significant rows of comparison tables, biggest moves first."""
    frames = [t[t["significant"]] for t in tables if len(t)]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.reindex(out["delta"].abs().sort_values(ascending=False).index).reset_index(
        drop=True)


def weakest_links(
    responses: pd.DataFrame,
    catalog: Any,
    *,
    metric: str = "csat",
    min_base: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per stage, the touchpoint significantly lowest (the chain's weakest link).

    Among touchpoints with at least ``min_base`` respondents, the lowest mean
    is compared with the second lowest by Welch's t; the p-values of the stages
    are Holm-adjusted. A stage whose lowest is not significantly below the
    runner-up reports ``weakest = None`` with its candidate.

    Returns
    -------
    DataFrame
        stage, stage_mean, stage_low, stage_high, n_stage, candidate,
        candidate_mean, candidate_low, candidate_high, n, runner_up,
        runner_up_mean, delta, p_value, p_holm, weakest (id or None).
    """
    from statsmodels.stats.multitest import multipletests

    from cxlib.metrics import mean_ci

    min_base = config.MIN_BASE if min_base is None else min_base
    per = _respondent_scores(responses, metric, [])
    stage_of = catalog.frame.set_index("touchpoint_id")["stage"]
    per["stage"] = per["touchpoint_id"].map(stage_of)
    rows = []
    for stage in catalog.stages:
        g = per[per["stage"] == stage]
        if g.empty:
            continue
        sm = g.groupby("response_id")["score"].mean().to_numpy()
        s_mean, s_lo, s_hi, _ = mean_ci(sm)
        means = g.groupby("touchpoint_id")["score"].agg(["mean", "size"])
        means = means[means["size"] >= min_base].sort_values("mean")
        if len(means) < 2:
            continue
        low, second = means.index[0], means.index[1]
        a = g.loc[g["touchpoint_id"] == low, "score"].to_numpy()
        b = g.loc[g["touchpoint_id"] == second, "score"].to_numpy()
        r = test_two_groups(a, b, "mean", alpha=alpha)
        m, lo, hi, _ = mean_ci(a)
        rows.append({"stage": stage, "stage_mean": s_mean, "stage_low": s_lo, "stage_high": s_hi,
                     "n_stage": len(sm), "candidate": low, "candidate_mean": m,
                     "candidate_low": lo, "candidate_high": hi, "n": len(a),
                     "runner_up": second, "runner_up_mean": means.loc[second, "mean"],
                     "delta": r["delta"], "p_value": r["p_value"]})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = multipletests(out["p_value"], method="holm")[1]
    out["weakest"] = np.where(out["p_holm"] < alpha, out["candidate"], None)
    note_method("Weakest link per stage", "lowest vs runner-up, Welch t, Holm across stages",
                min_base=min_base)
    return out
