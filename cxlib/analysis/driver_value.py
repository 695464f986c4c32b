"""Where to act and what a point is worth: importance–performance and margin per point.

The money side of the key-driver analysis (:mod:`cxlib.analysis.drivers`):

* :func:`importance_performance` — importance against mean score per driver,
  quadrants split at the means ("fix first", "keep up", ...);
* :func:`margin_per_point` — the margin value of one point of satisfaction at each
  touchpoint, a joint percentile bootstrap of the chain margin ~ overall
  (within group cells) × overall ~ drivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlib.analysis.importance import (
    MIN_BOOT,
    Moments,
    check_corr,
    check_weight,
)
from cxlib.analysis.stats import bootstrap_counts, check_n_boot
from cxlib.errors import DataError, EstimationError
from cxlib.methods import note_method

if TYPE_CHECKING:
    from cxlib.analysis.drivers import DriverResult

__all__ = ["QUADRANTS", "importance_performance", "margin_per_point"]


# ------------------------------------------------------------------ performance
QUADRANTS = {
    (True, False): "fix first",
    (True, True): "keep up",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


def importance_performance(
    result: DriverResult,
    mat: pd.DataFrame,
    *,
    weight: str | None = "result",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Importance–performance matrix: importance vs mean score per driver.

    Parameters
    ----------
    result
        From :func:`driver_analysis`.
    mat
        The driver matrix it was computed from.
    weight
        Survey-weight column for the performance means; ``"result"`` (default)
        takes the one the importances used, None for unweighted.
    alpha
        1 − confidence level of the performance interval.

    Returns
    -------
    DataFrame
        driver, importance, imp_low, imp_high (bootstrap interval), performance
        (mean score of those who answered, weighted when asked), perf_low,
        perf_high (t interval), n_performance, higher_is_better,
        importance_split, performance_split (where the quadrants split) and
        quadrant ("fix first", "keep up", "low priority", "possible overkill").

    Notes
    -----
    Quadrants split at the **mean** importance (R²/p) and the **mean**
    performance of the drivers shown (Martilla & James 1977); a driver on a
    split counts as high. "High performance" means a good score, i.e. a low
    one for a lower-is-better metric (CES). Performance interval: mean ± t_{n−1}
    s/√n; with weights, the weighted mean with the linearised standard error
    se² = n/(n−1) Σ w_i² (x_i − x̄_w)² / (Σ w_i)² (Cochran 1977, ratio
    estimator), which equals s²/n for equal weights.

    References
    ----------
    Martilla & James (1977), "Importance-performance analysis", Journal of
    Marketing 41(1); Cochran (1977), Sampling Techniques, 3rd ed., §6.
    """
    from scipy import stats

    from cxlib.data.schemas import HIGHER_IS_BETTER

    if weight == "result":
        weight = result.meta.get("weight")
    higher = HIGHER_IS_BETTER.get(result.meta.get("metric", "csat"), True)
    t = result.tidy()
    rows = []
    for r in t.itertuples():
        s = mat[r.driver]
        ok = s.notna()
        x = s[ok].to_numpy(float)
        nn = len(x)
        if weight:
            w = mat.loc[ok, weight].to_numpy(float)
            m = float(w @ x / w.sum())
            se = float(np.sqrt(nn / (nn - 1) * np.sum(w**2 * (x - m) ** 2)) / w.sum())
        else:
            m, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(nn))
        q = stats.t.ppf(1 - alpha / 2, nn - 1)
        rows.append({"driver": r.driver, "importance": r.importance, "imp_low": r.ci_low,
                     "imp_high": r.ci_high, "performance": m, "perf_low": m - q * se,
                     "perf_high": m + q * se, "n_performance": nn})
    ipa = pd.DataFrame(rows)
    imp_split, perf_split = float(ipa["importance"].mean()), float(ipa["performance"].mean())
    hi_imp = ipa["importance"] >= imp_split
    hi_perf = ipa["performance"] >= perf_split if higher else ipa["performance"] <= perf_split
    ipa["higher_is_better"] = higher
    ipa["importance_split"] = imp_split
    ipa["performance_split"] = perf_split
    ipa["quadrant"] = [QUADRANTS[(a, b)] for a, b in zip(hi_imp, hi_perf, strict=True)]
    note_method("Importance-performance matrix", "quadrants split at the means",
                reference="Martilla & James (1977)", weights=weight or "none",
                interval="t interval of the mean score" + (" (linearised, weighted)"
                                                           if weight else ""))
    return ipa


# ------------------------------------------------------------------------ money
def _cells(mat: pd.DataFrame, group: list[str]) -> np.ndarray:
    if not group:
        return np.zeros(len(mat), np.int64)
    return mat.groupby(group, sort=True, dropna=True).ngroup().to_numpy()


def _within_slope(y: np.ndarray, x: np.ndarray, cell: np.ndarray, v: np.ndarray) -> float:
    """Weighted slope of y on x after removing cell means (fixed-effects / FWL)."""
    k = int(cell.max()) + 1
    sv = np.bincount(cell, weights=v, minlength=k)
    sx = np.bincount(cell, weights=v * x, minlength=k)
    sy = np.bincount(cell, weights=v * y, minlength=k)
    ok = sv > 0
    sxy = v @ (x * y) - np.sum(sx[ok] * sy[ok] / sv[ok])
    sxx = v @ (x * x) - np.sum(sx[ok] ** 2 / sv[ok])
    return float(sxy / sxx) if sxx > 0 else np.nan


def margin_per_point(
    mat: pd.DataFrame,
    *,
    drivers: Sequence[str],
    margin: str = "margin",
    group: str | Sequence[str] | None = None,
    policy: str = "pairwise",
    weight: str | None = None,
    n_boot: int = MIN_BOOT,
    seed: int = 1,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Margin value of one point of satisfaction at each touchpoint, with an interval.

    A chain of two regressions on respondents joined to their margin:

    1. margin on overall satisfaction within ``group`` cells (e.g. branch ×
       segment, by demeaning): a = margin per point of overall satisfaction,
       from **every** respondent with the outcome and a margin;
    2. overall satisfaction on the driver scores: b_j = overall points per
       point at touchpoint j, from the covariance matrix of the respondents
       with the outcome under ``policy`` (``"pairwise"``: b = S_xx⁻¹ s_xy
       with pair-complete covariances, consistent when answers are missing
       completely at random; ``"listwise"``: complete cases, = OLS).

    Value per point at j = a × b_j. a and b_j come from the same respondents,
    so the interval is a **joint** percentile bootstrap: each resample draws
    respondents uniformly (seeded), recomputes a (with its own cell means) and
    every b_j, and takes the product.

    Parameters
    ----------
    mat
        Driver matrix with the ``margin`` column (:func:`attach_margin`) and
        the ``group`` columns.
    drivers
        Driver columns.
    margin
        Margin column (per respondent, e.g. 24-month margin).
    group
        Column(s) within whose cells a is estimated (fixed effects), e.g.
        ``["branch_id", "segment"]``: what differs between branches or
        segments in both margin and satisfaction is not counted.
    policy
        ``"pairwise"`` or ``"listwise"`` for b (mean imputation would bias
        the slopes toward zero, so ``"available"`` is refused).
    weight
        Optional survey-weight column.
    n_boot, seed, alpha
        Bootstrap resamples (at least 200), seed, 1 − confidence level.

    Returns
    -------
    DataFrame
        One row per driver, highest value first: driver, overall_per_point
        (b_j), overall_per_point_low, overall_per_point_high,
        margin_per_overall_point (a), margin_per_overall_point_low,
        margin_per_overall_point_high, margin_per_point (a·b_j), se (bootstrap
        SD of a·b_j), ci_low, ci_high (percentile), priority (1 = largest
        expected margin gain per point), priority_stability (share of resamples
        giving the driver the same priority), n_margin (respondents behind a),
        n_driver (respondents with the outcome who answered the driver), n
        (respondents with the outcome, resampled).

    Notes
    -----
    a = Σ v (m − m̄_c)(o − ō_c) / Σ v (o − ō_c)² (c = cell, v = weight), the
    within estimator (Frisch–Waugh–Lovell: = OLS of margin on overall and
    cell dummies). b = S_xx⁻¹ s_xy with the weighted covariances of
    :func:`correlation_matrix`'s conventions.

    References
    ----------
    Rust, Zahorik & Keiningham (1995), "Return on Quality (ROQ)", Journal of
    Marketing 59(2): satisfaction → retention → margin chains; Efron &
    Tibshirani (1993), ch. 13.
    """
    if policy not in ("pairwise", "listwise"):
        raise EstimationError(f"margin_per_point needs policy 'pairwise' or 'listwise', not "
                              f"{policy!r}: mean imputation biases the slopes toward zero")
    drivers = list(drivers)
    groups = [group] if isinstance(group, str) else list(group or [])
    absent = [c for c in [margin, *groups] if c not in mat.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the matrix (attach_margin adds "
                        f"margin and group columns); columns: {list(mat.columns)}",
                        column=absent[0], rule="required column")
    check_n_boot(n_boot, minimum=MIN_BOOT, what="the key-driver analysis")
    check_weight(mat, weight)
    absent = [c for c in [*drivers, "outcome"] if c not in mat.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the driver matrix (build_matrix makes "
                        "one column per driver and 'outcome')", column=absent[0],
                        rule="required column")
    sub = mat[mat["outcome"].notna()]
    x = sub[[*drivers, "outcome"]].to_numpy(float)
    w = sub[weight].to_numpy(float) if weight else np.ones(len(sub))
    complete = ~np.isnan(x).any(axis=1)
    if policy == "listwise":
        # incomplete rows stay in the resampling frame (they carry a) with zero weight in b
        mom = Moments(np.where(np.isnan(x), 0.0, x), w, "listwise")
        bmask = complete.astype(float)
    else:
        mom = Moments(x, w, "pairwise")
        bmask = np.ones(len(sub))
    cell = _cells(sub, groups)
    has_a = sub[margin].notna().to_numpy() & (cell >= 0)
    ya = sub[margin].to_numpy(float)[has_a]
    xa = sub["outcome"].to_numpy(float)[has_a]
    ca = cell[has_a]
    names = [*drivers, "outcome"]
    p = len(drivers)
    n_b = int(complete.sum()) if policy == "listwise" else len(sub)
    if has_a.sum() < 3 or n_b < p + 3:
        raise EstimationError(f"too few respondents for the margin chain: {int(has_a.sum())} "
                              f"with a margin, {n_b} for {p} drivers under {policy!r}")

    def chain(v: np.ndarray, where: str = "") -> tuple[float, np.ndarray]:
        a = _within_slope(ya, xa, ca, v[has_a])
        vb = v * bmask
        cov = mom.cov(vb)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
        check_corr(corr, names, policy, partial(mom.drawn_pairs, vb), where)
        b = np.linalg.solve(cov[:p, :p], cov[:p, p])
        return a, b

    pairs = mom.drawn_pairs(mom.w * bmask)
    a0, b0 = chain(mom.w)
    if not np.isfinite(a0):
        raise EstimationError("overall satisfaction does not vary within the group cells; "
                              "use a coarser group")
    rng = np.random.default_rng(seed)
    n = len(sub)
    da, db = np.empty(n_boot), np.empty((n_boot, p))
    for i in range(n_boot):
        da[i], db[i] = chain(bootstrap_counts(rng, n) * mom.w,
                             where=f" in bootstrap resample {i + 1}")
    prod = da[:, None] * db
    q = [alpha / 2, 1 - alpha / 2]
    val = a0 * b0
    order = np.argsort(-val, kind="stable")
    prio = np.empty(p, int)
    prio[order] = np.arange(1, p + 1)
    bprio = np.argsort(np.argsort(-prod, axis=1, kind="stable"), axis=1) + 1
    out = pd.DataFrame({
        "driver": drivers, "overall_per_point": b0,
        "overall_per_point_low": np.quantile(db, q[0], axis=0),
        "overall_per_point_high": np.quantile(db, q[1], axis=0),
        "margin_per_overall_point": a0,
        "margin_per_overall_point_low": float(np.quantile(da, q[0])),
        "margin_per_overall_point_high": float(np.quantile(da, q[1])),
        "margin_per_point": val, "se": prod.std(axis=0, ddof=1),
        "ci_low": np.quantile(prod, q[0], axis=0), "ci_high": np.quantile(prod, q[1], axis=0),
        "priority": prio, "priority_stability": (bprio == prio).mean(axis=0),
        "n_margin": int(has_a.sum()), "n_driver": pairs[:p, p].astype(int), "n": n,
    }).sort_values("priority").reset_index(drop=True)
    note_method("Margin value of a satisfaction point",
                "margin~overall within group cells × overall~drivers, joint percentile "
                "bootstrap of the product",
                reference="Rust, Zahorik & Keiningham (1995)", n=n,
                n_margin=int(has_a.sum()), missing=policy, weights=weight or "none",
                group=groups, interval=f"{n_boot} uniform resamples, seed {seed}")
    return out
