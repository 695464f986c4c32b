"""Key drivers: which touchpoints move satisfaction, loyalty and money.

Relative importance of touchpoint scores for an outcome (overall satisfaction,
likelihood to recommend, promoter yes/no, retention), two ways:

* **Shapley / LMG** decomposition of R²: each driver's average increase in R²
  over all orders of entry, computed exactly over all 2^p subsets from the
  correlation matrix (R²(S) = r_S' R_SS⁻¹ r_S), not by refitting models.
  No maintained Python library offers the exact LMG decomposition (R's
  ``relaimpo::calc.relimp(type="lmg")`` is the reference), hence this code.
* **Johnson's relative weights**: regress the outcome on the orthogonal
  counterpart of the drivers and apportion R² back through the symmetric
  square root of the correlation matrix.

Both come with percentile bootstrap intervals (seeded) and rank stability,
the signs and p-values of the multiple-regression coefficients beside them,
an importance–performance matrix and the margin value of one point of
satisfaction at each touchpoint.

Missing answers (not applicable is not a row in long responses) follow one
of three documented policies, reported in every result:

``"listwise"``   respondents who answered the outcome and every driver;
``"pairwise"``   each correlation from the respondents who answered both;
``"available"``  every respondent with the outcome; a missing driver score is
                 replaced by that driver's mean (it then adds nothing to the
                 correlations but keeps the respondent for the others).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from cxlib.errors import EstimationError
from cxlib.results import note_method

__all__ = [
    "OUTCOMES",
    "POLICIES",
    "DriverResult",
    "attach_margin",
    "build_matrix",
    "driver_analysis",
    "driver_matrix",
    "importance_performance",
    "lmg",
    "margin_per_point",
    "relative_weights",
    "select_drivers",
    "subset_r2",
]

POLICIES = ("listwise", "pairwise", "available")
MAX_EXACT_DRIVERS = 22


# --------------------------------------------------------------------------- data
def driver_matrix(
    responses: pd.DataFrame,
    *,
    drivers: Sequence[str] | None = None,
    outcome: tuple[str, str] = ("journey", "overall"),
    metric: str = "csat",
    respondent: str = "response_id",
    weight: str | None = None,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Pivot long responses to one row per respondent: drivers + outcome.

    Parameters
    ----------
    responses
        Long responses (the ``responses`` contract).
    drivers
        Touchpoint ids to use as drivers (default: every touchpoint with ``metric``).
    outcome
        ``(touchpoint_id, metric)`` of the outcome question.
    metric
        Metric of the driver scores.
    respondent
        Column identifying a respondent.
    weight
        Optional survey-weight column (one value per respondent).
    keep
        Further per-respondent columns to carry (``customer_id``, segments).

    Returns
    -------
    DataFrame
        Index = respondent; one column per driver (NaN = not answered), the
        column ``outcome``, and ``weight`` / ``keep`` columns when asked.
    """
    tp, om = outcome
    dr = responses[responses["metric"] == metric]
    if drivers is not None:
        missing = sorted(set(drivers) - set(dr["touchpoint_id"]))
        if missing:
            raise EstimationError(
                f"no {metric!r} answers for drivers {missing}; check the ids against the catalog"
            )
        dr = dr[dr["touchpoint_id"].isin(list(drivers))]
    wide = dr.pivot_table(index=respondent, columns="touchpoint_id", values="score",
                          aggfunc="mean")
    if drivers is not None:
        wide = wide[list(drivers)]
    out = responses[(responses["touchpoint_id"] == tp) & (responses["metric"] == om)]
    if out.empty:
        raise EstimationError(
            f"no outcome answers ({tp!r}, {om!r}); pick an outcome present in the data"
        )
    per = out.groupby(respondent).agg(
        outcome=("score", "mean"),
        **{c: (c, "first") for c in [*keep, *([weight] if weight else [])]},
    )
    mat = wide.join(per, how="inner")
    mat.columns.name = None
    return mat


#: Outcomes by name: (touchpoint_id, metric, transform). "promoter" = NPS 9-10;
#: "retained" comes from the customers table (column ``retained``).
OUTCOMES: dict[str, tuple[str, str, str | None]] = {
    "overall": ("journey", "overall", None),
    "nps": ("journey", "nps", None),
    "promoter": ("journey", "nps", "promoter"),
    "retained": ("journey", "overall", "retained"),
}


def select_drivers(catalog: Any, spec: str, *, level: str = "leaf",
                   available: Sequence[str] | None = None) -> list[str]:
    """Driver ids from a notebook parameter.

    ``spec`` is ``"all"``, or comma-separated stage ids and/or touchpoint ids.
    ``level="leaf"`` gives the leaf touchpoints (as answered); ``"top"`` the
    top-level touchpoints (sub-touchpoint answers are averaged per respondent
    by :func:`driver_matrix`). ``available`` restricts to ids with answers.
    """
    if level not in ("leaf", "top"):
        raise EstimationError(f"level must be 'leaf' or 'top', not {level!r}")
    frame = catalog.frame
    pool = frame[frame["is_leaf"]] if level == "leaf" else frame[frame["depth"] == 0]
    out: list[str] = []
    for item in [x.strip() for x in spec.split(",") if x.strip()]:
        if item == "all":
            out += pool["touchpoint_id"].tolist()
        elif item in catalog.stages:
            out += pool.loc[pool["stage"] == item, "touchpoint_id"].tolist()
        elif item in catalog:
            out.append(item)
        else:
            raise EstimationError(
                f"{item!r} is neither 'all', a stage {list(catalog.stages)} nor a touchpoint "
                f"of catalog {catalog.catalog_id!r}"
            )
    if available is not None:
        top = dict(zip(frame["touchpoint_id"], frame["top_level_id"], strict=True))
        have = set(available) | {top.get(a) for a in available}
        out = [d for d in out if d in have]
    return list(dict.fromkeys(out))


def build_matrix(
    responses: pd.DataFrame,
    *,
    catalog: Any,
    drivers: Sequence[str],
    level: str = "leaf",
    outcome: str = "overall",
    customers: pd.DataFrame | None = None,
    keep: Sequence[str] = ("customer_id",),
) -> pd.DataFrame:
    """:func:`driver_matrix` for a named outcome (see :data:`OUTCOMES`), with
    sub-touchpoint answers rolled up to their top-level touchpoint when
    ``level="top"`` (respondent-level mean of the answers under it)."""
    if outcome not in OUTCOMES:
        raise EstimationError(f"unknown outcome {outcome!r}; one of {sorted(OUTCOMES)}")
    tp, metric, transform = OUTCOMES[outcome]
    data = responses
    if level == "top":
        frame = catalog.frame
        top = dict(zip(frame["touchpoint_id"], frame["top_level_id"], strict=True))
        data = responses.assign(touchpoint_id=responses["touchpoint_id"].map(top).fillna(
            responses["touchpoint_id"]))
    if (metric not in set(data["metric"])) and transform != "retained":
        raise EstimationError(f"outcome {outcome!r} needs {metric!r} answers, absent here")
    if transform == "retained" and (customers is None or "retained" not in customers):
        raise EstimationError("outcome 'retained' needs a customers table with `retained`")
    keep = [k for k in keep if k in data.columns]
    if transform == "retained" and "customer_id" not in keep:
        keep = [*keep, "customer_id"]
    mat = driver_matrix(data, drivers=drivers, outcome=(tp, metric), keep=keep)
    if transform == "promoter":
        mat["outcome"] = (mat["outcome"] >= 9).astype(float)
    elif transform == "retained":
        ret = customers.set_index("customer_id")["retained"].astype(float)
        mat["outcome"] = mat["customer_id"].map(ret)
    return mat


def attach_margin(mat: pd.DataFrame, orders: pd.DataFrame, customers: pd.DataFrame | None = None,
                  *, group: str | None = "branch_id") -> pd.DataFrame:
    """Add each respondent's total order margin (0 when no orders) and, from
    ``customers``, the ``group`` column (for within-group money estimates)."""
    out = mat.copy()
    total = orders.groupby("customer_id")["margin"].sum()
    out["margin"] = out["customer_id"].map(total).fillna(0.0)
    if group and customers is not None and group in customers and group not in out:
        out[group] = out["customer_id"].map(customers.set_index("customer_id")[group])
    return out


# --------------------------------------------------------------------------- maths
def _weighted_corr(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Pearson correlation matrix of the columns of ``x`` (optionally weighted)."""
    if w is None:
        xc = x - x.mean(axis=0)
        cov = xc.T @ xc
    else:
        w = w / w.sum()
        xc = x - w @ x
        cov = (xc * w[:, None]).T @ xc
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def _corr_from_counts(xa: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Correlation matrix of a bootstrap resample given as row counts.

    ``xa`` is the data with a trailing column of ones; one weighted cross
    product gives every sum needed, with no copy of the resampled rows.
    """
    s = xa.T @ (xa * counts[:, None])
    tot = s[-1, -1]
    mu = s[:-1, -1] / tot
    cov = s[:-1, :-1] / tot - np.outer(mu, mu)
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def _pairwise_corr(x: np.ndarray) -> np.ndarray:
    return pd.DataFrame(x).corr(min_periods=3).to_numpy()


def subset_r2(corr: np.ndarray) -> np.ndarray:
    """R² of the outcome on every subset of drivers, from a correlation matrix.

    ``corr`` is (p+1)×(p+1) with the outcome LAST. Returns an array ``v`` of
    length 2^p where ``v[mask]`` is the R² of the drivers whose bits are set in
    ``mask`` (``v[0] = 0``): R²(S) = r_S' R_SS⁻¹ r_S.
    """
    p = corr.shape[0] - 1
    rxx, rxy = corr[:p, :p], corr[:p, p]
    v = np.zeros(1 << p)
    for subsets, masks in _subsets(p):
        a = rxx[subsets[:, :, None], subsets[:, None, :]]
        b = rxy[subsets]
        try:
            sol = np.linalg.solve(a, b[..., None])[..., 0]
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "drivers are perfectly collinear; drop a duplicated touchpoint"
            ) from exc
        v[masks] = np.einsum("ij,ij->i", b, sol)
    return v


@lru_cache(maxsize=8)
def _subsets(p: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """All subsets of range(p) grouped by size: (index array, bit masks)."""
    out = []
    for k in range(1, p + 1):
        subsets = np.array(list(combinations(range(p), k)))
        out.append((subsets, (1 << subsets).sum(axis=1)))
    return out


@lru_cache(maxsize=8)
def _shapley_plan(p: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per driver j: masks S without j and the Shapley weights |S|!(p-|S|-1)!/p!."""
    masks = np.arange(1 << p)
    sizes = np.array([m.bit_count() for m in range(1 << p)])
    wts = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)])
    plan = []
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        plan.append((without, wts[sizes[without]]))
    return plan


def _shapley_from_v(v: np.ndarray, p: int) -> np.ndarray:
    out = np.empty(p)
    for j, (without, wts) in enumerate(_shapley_plan(p)):
        out[j] = np.sum(wts * (v[without | (1 << j)] - v[without]))
    return out


def lmg(corr: np.ndarray) -> np.ndarray:
    """Exact Shapley (LMG) shares of R² from a correlation matrix (outcome last).

    Notes
    -----
    .. math:: \\phi_j = \\sum_{S \\subseteq P \\setminus \\{j\\}}
              \\frac{|S|!\\,(p-|S|-1)!}{p!} [R^2(S \\cup j) - R^2(S)]

    The shares sum to the full-model R².

    References
    ----------
    Lindeman, Merenda & Gold (1980), Introduction to Bivariate and Multivariate
    Analysis; Grömping (2006), "Relative importance for linear regression in R:
    the package relaimpo", Journal of Statistical Software 17(1).
    """
    p = corr.shape[0] - 1
    if p > MAX_EXACT_DRIVERS:
        raise EstimationError(
            f"exact Shapley needs 2^p subsets: {p} drivers is too many (max "
            f"{MAX_EXACT_DRIVERS}); choose the drivers of one stage or a list"
        )
    return _shapley_from_v(subset_r2(corr), p)


def relative_weights(corr: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights from a correlation matrix (outcome last).

    Notes
    -----
    With R_xx = V Λ V', let Λ^{1/2} = V diag(√λ) V' (symmetric square root).
    β = (Λ^{1/2})⁻¹ r_xy are the coefficients of the outcome on the orthogonal
    counterparts Z of the drivers; the raw weight of driver j is
    ε_j = Σ_k (Λ^{1/2})_{jk}² β_k². The weights sum to R².

    References
    ----------
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight
    of predictor variables in multiple regression. Multivariate Behavioral
    Research, 35(1), 1–19.
    """
    p = corr.shape[0] - 1
    rxx, rxy = corr[:p, :p], corr[:p, p]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-12:
        raise EstimationError("drivers are perfectly collinear; drop a duplicated touchpoint")
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T
    beta = np.linalg.solve(lam, rxy)
    return (lam**2) @ (beta**2)


_METHODS = {"shapley": lmg, "relative_weights": relative_weights}


# --------------------------------------------------------------------------- result
@dataclass
class DriverResult:
    """Relative importance of drivers for one outcome (see :func:`driver_analysis`).

    Accessors derive from :meth:`tidy`; ``summary()`` is for display.
    """

    table: pd.DataFrame
    method: str
    policy: str
    r2: float
    n: int
    n_dropped: int
    n_boot: int
    meta: dict[str, Any] = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """One row per driver, most important first.

        Columns: driver, importance (share of R² in R² units), share_of_r2
        (importance / R²), ci_low, ci_high (percentile bootstrap), rank,
        rank_stability (share of resamples with the same rank), modal_rank,
        coef (standardised multiple-regression coefficient), coef_se, coef_p,
        coef_flag ("negative", "insignificant" or ""), n.
        """
        return self.table.copy()

    @property
    def importance(self) -> pd.Series:
        return self.tidy().set_index("driver")["importance"]

    def summary(self) -> str:
        t = self.tidy()
        lines = [
            f"Key drivers ({self.method}, {self.policy} missing-data policy): R² = {self.r2:.3f}, "
            f"n = {self.n:,} ({self.n_dropped:,} dropped), {self.n_boot} bootstrap resamples",
        ]
        for r in t.itertuples():
            flag = f"  [{r.coef_flag}]" if r.coef_flag else ""
            lines.append(
                f"{r.rank:>3}. {r.driver:<32} {r.importance:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
                f"  {r.share_of_r2:6.1%}  stable {r.rank_stability:4.0%}  β={r.coef:+.3f}{flag}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _prepare(mat: pd.DataFrame, drivers: list[str], policy: str, weight: str | None):
    if policy not in POLICIES:
        raise EstimationError(f"unknown missing-data policy {policy!r}; one of {POLICIES}")
    cols = [*drivers, "outcome"]
    data = mat[cols].astype(float)
    n_all = int(data["outcome"].notna().sum())
    data = data[data["outcome"].notna()]
    if policy == "listwise":
        data = data.dropna()
    elif policy == "available":
        data = data.fillna(data.mean())
    w = None
    if weight:
        w = mat.loc[data.index, weight].to_numpy(float)
    if len(data) < len(drivers) + 3:
        raise EstimationError(
            f"only {len(data)} usable respondents for {len(drivers)} drivers under the "
            f"{policy!r} policy; use policy='pairwise' or fewer drivers"
        )
    return data.to_numpy(), w, n_all - len(data) if policy != "pairwise" else 0


def _corr(x: np.ndarray, w: np.ndarray | None, policy: str) -> np.ndarray:
    if policy == "pairwise":
        if w is not None:
            raise EstimationError("survey weights need policy 'listwise' or 'available'")
        return _pairwise_corr(x)
    return _weighted_corr(x, w)


def driver_analysis(
    mat: pd.DataFrame,
    *,
    drivers: Sequence[str] | None = None,
    method: str = "shapley",
    policy: str = "listwise",
    weight: str | None = None,
    n_boot: int = 200,
    seed: int = 1,
    alpha: float = 0.05,
) -> DriverResult:
    """Relative importance of drivers with bootstrap intervals and coefficient signs.

    Parameters
    ----------
    mat
        Output of :func:`driver_matrix` (one row per respondent).
    drivers
        Driver columns (default: every column except outcome/weight/kept ones
        that holds numbers).
    method
        ``"shapley"`` (exact LMG) or ``"relative_weights"`` (Johnson 2000).
    policy
        Missing-data policy: ``"listwise"``, ``"pairwise"`` or ``"available"``.
    weight
        Survey-weight column: weighted correlations and a weighted bootstrap
        (resampling with probabilities proportional to the weights).
    n_boot
        Bootstrap resamples (percentile intervals; at least 200 recommended).
    seed
        Seed of the numpy Generator used for resampling.
    alpha
        1 − confidence level of the intervals.

    Returns
    -------
    DriverResult
        ``tidy()`` lists every driver; see :meth:`DriverResult.tidy`.

    Notes
    -----
    Coefficients: OLS (WLS with weights) of the standardised outcome on the
    standardised drivers; a driver is flagged ``"negative"`` when its
    coefficient is below zero and ``"insignificant"`` when p > alpha.
    """
    import statsmodels.api as sm

    if method not in _METHODS:
        raise EstimationError(f"unknown method {method!r}; one of {sorted(_METHODS)}")
    if drivers is None:
        drivers = [c for c in mat.columns if c not in {"outcome", weight}
                   and pd.api.types.is_numeric_dtype(mat[c])]
    drivers = list(drivers)
    x, w, n_dropped = _prepare(mat, drivers, policy, weight)
    fn = _METHODS[method]
    point = fn(_corr(x, w, policy))
    r2 = float(point.sum())
    rng = np.random.default_rng(seed)
    n = len(x)
    boots = np.empty((n_boot, len(drivers)))
    prob = None if w is None else w / w.sum()
    xa = np.column_stack([x, np.ones(n)]) if policy != "pairwise" else None
    for b in range(n_boot):
        idx = rng.choice(n, size=n, replace=True, p=prob)
        if xa is None:
            boots[b] = fn(_corr(x[idx], None, policy))
        else:
            boots[b] = fn(_corr_from_counts(xa, np.bincount(idx, minlength=n).astype(float)))
    lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2], axis=0)
    order = np.argsort(-point)
    rank = np.empty(len(drivers), int)
    rank[order] = np.arange(1, len(drivers) + 1)
    brank = np.argsort(np.argsort(-boots, axis=1), axis=1) + 1
    stability = (brank == rank).mean(axis=0)
    modal = [int(np.bincount(brank[:, j]).argmax()) for j in range(len(drivers))]
    # coefficient signs (listwise/available data; pairwise uses complete cases)
    xc = x[~np.isnan(x).any(axis=1)]
    wc = None if w is None else w[~np.isnan(x).any(axis=1)]
    z = (xc - xc.mean(axis=0)) / xc.std(axis=0)
    model = (sm.WLS(z[:, -1], sm.add_constant(z[:, :-1]), weights=wc) if wc is not None
             else sm.OLS(z[:, -1], sm.add_constant(z[:, :-1]))).fit()
    coef, se, pv = model.params[1:], model.bse[1:], model.pvalues[1:]
    flags = np.where(coef < 0, "negative", np.where(pv > alpha, "insignificant", ""))
    table = pd.DataFrame({
        "driver": drivers, "importance": point, "share_of_r2": point / r2 if r2 else np.nan,
        "ci_low": lo, "ci_high": hi, "rank": rank, "rank_stability": stability,
        "modal_rank": modal, "coef": coef, "coef_se": se, "coef_p": pv, "coef_flag": flags,
        "n": n,
    }).sort_values("rank").reset_index(drop=True)
    label = "exact Shapley/LMG decomposition of R²" if method == "shapley" else \
        "Johnson's relative weights"
    note_method(
        "Key-driver importance", label,
        reference=("Grömping (2006) JSS 17(1)" if method == "shapley"
                   else "Johnson (2000) MBR 35(1)"),
        interval=f"percentile bootstrap, {n_boot} resamples, seed {seed}",
        missing=policy, n=n, weights=weight or "none",
    )
    return DriverResult(table=table, method=method, policy=policy, r2=r2, n=n,
                        n_dropped=int(n_dropped), n_boot=n_boot,
                        meta={"drivers": drivers, "alpha": alpha})


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
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Importance–performance matrix: importance vs mean score per driver.

    Returns
    -------
    DataFrame
        driver, importance, imp_low, imp_high, performance (mean score of those
        who answered), perf_low, perf_high (t interval), n_performance,
        quadrant ("fix first", "keep up", "low priority", "possible overkill").

    Notes
    -----
    The quadrants split at the mean importance and the mean performance of the
    drivers shown (Martilla & James 1977, "Importance-performance analysis",
    Journal of Marketing 41(1)).
    """
    from scipy import stats

    t = result.tidy()
    rows = []
    for r in t.itertuples():
        s = mat[r.driver].dropna()
        m, se = s.mean(), s.std(ddof=1) / np.sqrt(len(s))
        q = stats.t.ppf(1 - alpha / 2, len(s) - 1)
        rows.append({"driver": r.driver, "importance": r.importance, "imp_low": r.ci_low,
                     "imp_high": r.ci_high, "performance": m, "perf_low": m - q * se,
                     "perf_high": m + q * se, "n_performance": len(s)})
    ipa = pd.DataFrame(rows)
    hi_imp = ipa["importance"] >= ipa["importance"].mean()
    hi_perf = ipa["performance"] >= ipa["performance"].mean()
    ipa["quadrant"] = [QUADRANTS[(a, b)] for a, b in zip(hi_imp, hi_perf, strict=True)]
    note_method("Importance-performance matrix", "quadrants split at the means",
                reference="Martilla & James (1977)")
    return ipa


# ------------------------------------------------------------------------ money
def margin_per_point(
    mat: pd.DataFrame,
    *,
    drivers: Sequence[str],
    margin: str = "margin",
    group: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Margin value of one point of satisfaction at each touchpoint, with an interval.

    A chain of two regressions on respondents joined to their margin:

    1. margin on overall satisfaction (within ``group``, e.g. branch, by
       demeaning): a = margin per point of overall satisfaction;
    2. overall satisfaction on the driver scores (listwise): b_j = overall
       points per point at touchpoint j.

    Value per point at j = a × b_j; its standard error by the delta method
    treating a and b_j as independent: se² = a² se(b_j)² + b_j² se(a)².
    Both fits use heteroskedasticity-robust (HC1) standard errors.

    Returns
    -------
    DataFrame
        driver, overall_per_point (b_j), margin_per_overall_point (a) and its
        margin_per_overall_point_se, margin_per_point, se, ci_low, ci_high, n,
        priority (1 = largest value).

    References
    ----------
    Rust, Zahorik & Keiningham (1995), "Return on Quality (ROQ)", Journal of
    Marketing 59(2): satisfaction → retention → margin chains.
    """
    import statsmodels.api as sm
    from scipy import stats

    drivers = list(drivers)
    d = mat[[*drivers, "outcome", margin, *([group] if group else [])]].dropna()
    y, xo = d[margin].astype(float), d["outcome"].astype(float)
    if group:
        y = y - y.groupby(d[group]).transform("mean")
        xo = xo - xo.groupby(d[group]).transform("mean")
    m1 = sm.OLS(y.to_numpy(), sm.add_constant(xo.to_numpy())).fit(cov_type="HC1")
    a, se_a = float(m1.params[1]), float(m1.bse[1])
    m2 = sm.OLS(d["outcome"].to_numpy(float), sm.add_constant(d[drivers].to_numpy(float))).fit(
        cov_type="HC1")
    b, se_b = m2.params[1:], m2.bse[1:]
    val = a * b
    se = np.sqrt(a**2 * se_b**2 + b**2 * se_a**2)
    z = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({"driver": drivers, "overall_per_point": b, "margin_per_overall_point": a,
                        "margin_per_overall_point_se": se_a, "margin_per_point": val,
                        "se": se, "ci_low": val - z * se, "ci_high": val + z * se, "n": len(d)})
    out = out.sort_values("margin_per_point", ascending=False).reset_index(drop=True)
    out["priority"] = np.arange(1, len(out) + 1)
    note_method("Margin value of a satisfaction point",
                "margin~overall (within group) × overall~drivers, delta method, HC1",
                reference="Rust, Zahorik & Keiningham (1995)", n=len(d))
    return out
