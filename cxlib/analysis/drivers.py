"""Key drivers: which touchpoints move satisfaction, loyalty and money.

This module holds the driver matrix (answers → one row per respondent) and
:func:`driver_analysis` (importance with bootstrap intervals and rank stability);
the decompositions and correlation moments are in :mod:`cxlib.analysis.importance`,
the importance–performance matrix and the margin per point in
:mod:`cxlib.analysis.driver_value` (all re-exported here).

Relative importance of touchpoint scores for an outcome (overall satisfaction,
likelihood to recommend, promoter yes/no, retention), two ways:

* **Shapley / LMG** decomposition of R²: each driver's average increase in R²
  over all orders of entry, computed exactly over all 2^p subsets from the
  correlation matrix (R²(S) = r_S' R_SS⁻¹ r_S), not by refitting models.
  No maintained Python library offers the exact LMG decomposition (R's
  ``relaimpo::calc.relimp(type="lmg")`` is the reference), hence this code.
  Cost grows as 2^p: on the project's 2-core machine one matrix takes about
  0.01 s at p = 14, 0.3 s at p = 18 and 1.5–3 s at p = 20, and the bootstrap
  repeats it for every resample (p = 20 with 200 resamples: 5–10 minutes;
  ``python -m benchmarks drivers`` measures it).
  Above :data:`MAX_EXACT_DRIVERS` (20) drivers, or when that is too slow, use
  ``method="relative_weights"`` (milliseconds at any p; it agrees closely
  with LMG in practice, Johnson 2000, Table 3).
* **Johnson's relative weights**: regress the outcome on the orthogonal
  counterpart of the drivers and apportion R² back through the symmetric
  square root of the correlation matrix.

Both come with percentile bootstrap intervals (seeded; respondents resampled
uniformly, survey weights carried with them) and rank stability, the signs
and HC1 p-values of the multiple-regression coefficients beside them, an
importance–performance matrix and the margin value of one point of
satisfaction at each touchpoint (a joint bootstrap of the chain).

Missing answers (not applicable is not a row in long responses) follow one
of three documented policies, reported in every result (``n``, ``n_dropped``,
per-driver ``n_answered`` and ``availability``, pairwise base sizes). Every
policy works on the respondents who answered the outcome; those who did not
are counted in ``n_dropped``.

``"listwise"``   respondents who answered the outcome and every driver.
``"pairwise"``   each correlation from the respondents who answered both
                 (pair-complete means and variances, as ``DataFrame.corr``).
                 Consistent when answers are missing completely at random,
                 but the matrix need not be positive semi-definite: it is
                 checked, and a clear :class:`~cxlib.errors.EstimationError`
                 is raised when it is not (no silent repair).
``"available"``  every respondent with the outcome; a missing driver score is
                 replaced by that driver's (weighted) mean, recomputed inside
                 every bootstrap resample. Mean imputation *shrinks*: a driver
                 answered by a share a_j of respondents keeps its covariances
                 times a_j and its variance times a_j, so its correlations
                 with everything fall by about √a_j, and its importance with
                 them. Compare drivers of unequal availability with
                 ``"pairwise"``.

Survey weights: weighted correlations (weights as in ``numpy.cov(aweights=)``);
the bootstrap resamples respondents uniformly with replacement, each keeping
its weight, and recomputes the weighted correlations with weights
``count × w`` — as fast as the unweighted case, and right for a sample of
independent respondents with unequal weights (checked against a Monte-Carlo
SD in the tests). Stratified or clustered designs would need resampling
within strata or of whole clusters (Rao & Wu 1988), which is not done here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cxlib import i18n
from cxlib.analysis.driver_value import QUADRANTS, importance_performance, margin_per_point
from cxlib.analysis.filters import filter_rows
from cxlib.analysis.importance import (
    MAX_EXACT_DRIVERS,
    METHODS,
    MIN_BOOT,
    POLICIES,
    Moments,
    analysis_rows,
    check_corr,
    correlation_matrix,
    lmg,
    relative_weights,
    subset_r2,
)
from cxlib.analysis.stats import bootstrap_counts, check_n_boot
from cxlib.data.duck import check_columns
from cxlib.errors import DataError, EstimationError
from cxlib.methods import note_method

__all__ = [
    "MAX_EXACT_DRIVERS",
    "MIN_BOOT",
    "OUTCOMES",
    "POLICIES",
    "QUADRANTS",
    "DriverResult",
    "Moments",
    "attach_margin",
    "build_matrix",
    "correlation_matrix",
    "driver_analysis",
    "driver_matrix",
    "filter_segment",
    "importance_performance",
    "lmg",
    "margin_per_point",
    "record_results",
    "relative_weights",
    "resolve_drivers",
    "select_drivers",
    "subset_r2",
]


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
        ``attrs["drivers"]`` lists the driver columns (the default drivers of
        :func:`driver_analysis`, so that kept numeric columns such as a margin
        are never taken for drivers) and ``attrs["metric"]`` their metric.
    """
    tp, om = outcome
    check_columns(responses, ["touchpoint_id", "metric", "score", respondent, *keep,
                              *([weight] if weight else [])], what="driver matrix: column")
    dr = responses[responses["metric"] == metric]
    if drivers is not None:
        missing = sorted(set(drivers) - set(dr["touchpoint_id"]))
        if missing:
            raise EstimationError(
                f"no {metric!r} answers for drivers {missing}; check the ids against the catalog"
            )
        dr = dr[dr["touchpoint_id"].isin(list(drivers))]
    wide = dr.groupby([respondent, "touchpoint_id"], sort=True)["score"].mean().unstack()
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
    mat.attrs["drivers"] = [str(c) for c in wide.columns]
    mat.attrs["metric"] = metric
    return mat


#: Outcomes by name: (touchpoint_id, metric, transform). "promoter" = NPS 9-10;
#: "retained" comes from the customers table (column ``retained``); "satisfied"
#: is a 0/1 overall answer (the airline survey's satisfied / not).
OUTCOMES: dict[str, tuple[str, str, str | None]] = {
    "overall": ("journey", "overall", None),
    "satisfied": ("journey", "overall", "binary"),
    "nps": ("journey", "nps", None),
    "promoter": ("journey", "nps", "promoter"),
    "retained": ("journey", "overall", "retained"),
}


def select_drivers(catalog: Any, spec: str, *, level: str = "leaf",
                   available: Sequence[str] | None = None) -> list[str]:
    """Driver ids from a notebook parameter (strict: an unknown id raises).

    ``spec`` is ``"all"``, or comma-separated stage ids and/or touchpoint ids.
    ``level="leaf"`` gives the leaf touchpoints (as answered); ``"top"`` the
    top-level touchpoints (sub-touchpoint answers are averaged per respondent
    by :func:`build_matrix`). ``available`` restricts to ids with answers.
    See :func:`resolve_drivers` for the lenient form notebooks use.
    """
    ids, _ = _resolve(catalog, spec, level=level, available=available, lenient=False)
    return ids


def resolve_drivers(catalog: Any, spec: str, *, level: str = "leaf",
                    available: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Like :func:`select_drivers`, but ids the catalog lacks are skipped with a note.

    So that one default (``"sale,post_sale"``) runs on every dataset: stage
    or touchpoint ids that are not in ``catalog`` are skipped, and when
    nothing is left every touchpoint of the catalog (``"all"``) is used.

    Returns
    -------
    ids : list of str
        Driver ids.
    notes : list of str
        One sentence per skipped id or fallback, for the notebook to print.
    """
    return _resolve(catalog, spec, level=level, available=available, lenient=True)


def _resolve(catalog: Any, spec: str, *, level: str, available: Sequence[str] | None,
             lenient: bool) -> tuple[list[str], list[str]]:
    if level not in ("leaf", "top"):
        raise EstimationError(f"level must be 'leaf' or 'top', not {level!r}")
    frame = catalog.frame
    pool = frame[frame["is_leaf"]] if level == "leaf" else frame[frame["depth"] == 0]
    out: list[str] = []
    notes: list[str] = []
    skipped: list[str] = []
    for item in [x.strip() for x in spec.split(",") if x.strip()]:
        if item == "all":
            out += pool["touchpoint_id"].tolist()
        elif item in catalog.stages:
            out += pool.loc[pool["stage"] == item, "touchpoint_id"].tolist()
        elif item in catalog:
            out.append(item)
        elif lenient:
            skipped.append(item)
        else:
            raise EstimationError(
                f"{item!r} is neither 'all', a stage {list(catalog.stages)} nor a touchpoint "
                f"of catalog {catalog.catalog_id!r}"
            )
    if skipped:
        notes.append(f"catalog {catalog.catalog_id!r} has no stage or touchpoint {skipped}; "
                     f"skipped (its stages: {list(catalog.stages)})")
    if not out and lenient:
        out = pool["touchpoint_id"].tolist()
        notes.append(f"no driver left from {spec!r}: using every {level}-level touchpoint "
                     f"of catalog {catalog.catalog_id!r} ({len(out)})")
    if available is not None:
        top = dict(zip(frame["touchpoint_id"], frame["top_level_id"], strict=True))
        have = set(available) | {top.get(a) for a in available}
        gone = [d for d in out if d not in have]
        out = [d for d in out if d in have]
        if gone and lenient:
            notes.append(f"no answers for {gone}: left out")
    return list(dict.fromkeys(out)), notes


def filter_segment(responses: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """Rows of one segment (``column == value``, compared as text); ``column=""`` = all.

    The notebooks' ``filter_column`` / ``filter_value``
    (:func:`cxlib.analysis.filters.filter_rows` on the responses).

    Raises
    ------
    ParameterError
        The column is not in the data, or the value is not present in it (the
        values present are listed).
    """
    return filter_rows(responses, column, value, table="responses")


def build_matrix(
    responses: pd.DataFrame,
    *,
    catalog: Any,
    drivers: Sequence[str],
    level: str = "leaf",
    outcome: str = "overall",
    customers: pd.DataFrame | None = None,
    keep: Sequence[str] = ("customer_id",),
    weight: str | None = None,
) -> pd.DataFrame:
    """:func:`driver_matrix` for a named outcome (see :data:`OUTCOMES`), with
    sub-touchpoint answers rolled up to their top-level touchpoint when
    ``level="top"`` (respondent-level mean of the answers under it).
    ``weight`` names a survey-weight column of the responses (one value per
    respondent)."""
    if outcome not in OUTCOMES:
        raise EstimationError(f"unknown outcome {outcome!r}; one of {sorted(OUTCOMES)}")
    tp, metric, transform = OUTCOMES[outcome]
    data = responses
    if weight and weight not in responses.columns:
        raise DataError(f"weight column {weight!r} is not in the responses; columns: "
                        f"{list(responses.columns)}", column=weight, rule="required column")
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
    mat = driver_matrix(data, drivers=drivers, outcome=(tp, metric), keep=keep,
                        weight=weight or None)
    if transform == "binary":
        bad = mat.loc[~mat["outcome"].isin([0.0, 1.0]), ["outcome"]]
        if len(bad):
            raise EstimationError(
                f"outcome 'satisfied' needs a 0/1 overall answer, but {len(bad)} respondents "
                f"have other values (e.g. {bad['outcome'].head(5).tolist()}); use "
                f"outcome='overall'")
    elif transform == "promoter":
        mat["outcome"] = (mat["outcome"] >= 9).astype(float)
    elif transform == "retained":
        ret = customers.set_index("customer_id")["retained"].astype(float)
        mat["outcome"] = mat["customer_id"].map(ret)
    return mat


def attach_margin(mat: pd.DataFrame, orders: pd.DataFrame, customers: pd.DataFrame | None = None,
                  *, group: str | Sequence[str] | None = "branch_id") -> pd.DataFrame:
    """Add each respondent's total order margin (0 when no orders) and, from
    ``customers``, the ``group`` column(s) (for within-group money estimates)."""
    check_columns(orders, ["customer_id", "margin"], what="attach_margin: orders column")
    check_columns(mat, ["customer_id"], what="attach_margin: driver matrix column (build it "
                  "with keep=['customer_id'])")
    out = mat.copy()
    total = orders.groupby("customer_id")["margin"].sum()
    out["margin"] = out["customer_id"].map(total).fillna(0.0)
    groups = [group] if isinstance(group, str) else list(group or [])
    for g in groups:
        if customers is not None and g in customers and g not in out:
            out[g] = out["customer_id"].map(customers.set_index("customer_id")[g])
    out.attrs = dict(mat.attrs)
    return out


# --------------------------------------------------------------------------- result
@dataclass
class DriverResult:
    """Relative importance of drivers for one outcome (see :func:`driver_analysis`).

    Accessors derive from :meth:`tidy`; ``summary()`` is for display.
    ``draws`` holds the bootstrap importances (n_boot × p, drivers in the
    order of ``meta["drivers"]``), ``diagnostics`` the base sizes and checks.
    """

    table: pd.DataFrame
    method: str
    policy: str
    r2: float
    n: int
    n_dropped: int
    n_boot: int
    r2_ci: tuple[float, float] = (np.nan, np.nan)
    draws: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """One row per driver, most important first.

        Columns: driver, importance (share of R² in R² units), share_of_r2
        (importance / R²), ci_low, ci_high (percentile bootstrap), rank,
        rank_stability (share of resamples giving the driver its point-estimate
        rank), modal_rank (its most frequent rank across resamples), coef
        (standardised multiple-regression coefficient), coef_se, coef_p (HC1),
        coef_flag ("negative", "insignificant", both, or ""), coef_n (complete
        cases behind the coefficients), n_answered (respondents with the
        outcome who answered the driver), availability (n_answered / n with
        the outcome), n (respondents analysed).
        """
        return self.table.copy()

    @property
    def importance(self) -> pd.Series:
        return self.tidy().set_index("driver")["importance"]

    def summary(self, language: str = "en") -> str:
        """A few lines for the analyst: fit, base sizes, each driver's importance.

        The words are English; the numbers have ``language``'s marks (en, tr, az),
        so a Turkish notebook prints n = 2.018 and R² = 0,412, never 2,018 or 0.412.
        """
        t = self.tidy()
        d = self.diagnostics

        def num(x: Any, digits: int) -> str:
            x = float(x)
            return "—" if not np.isfinite(x) else i18n.format_number(x + 0.0, language,
                                                                    digits=digits)

        def pct(x: Any, digits: int = 0) -> str:  # the locale's pattern: en 13.9%, tr %13,9
            x = float(x)
            return "—" if not np.isfinite(x) else i18n.format_percent(x, language, digits)

        def signed(x: Any) -> str:
            x = float(x)
            return "—" if not np.isfinite(x) else ("-" if x < 0 else "+") + num(abs(x), 3)

        lines = [
            f"Key drivers ({self.method}, {self.policy} missing-data policy): "
            f"R² = {num(self.r2, 3)} [{num(self.r2_ci[0], 3)}, {num(self.r2_ci[1], 3)}], "
            f"n = {num(self.n, 0)} ({num(self.n_dropped, 0)} dropped, "
            f"{num(d.get('n_missing_outcome', 0), 0)} of them without the outcome), "
            f"{num(self.n_boot, 0)} bootstrap resamples, "
            f"weights: {self.meta.get('weight') or 'none'}",
        ]
        if self.policy == "pairwise":
            lines.append(f"pairwise base sizes: min {num(d['n_pairwise_min'], 0)}, "
                         f"median {num(d['n_pairwise_median'], 0)}")
        for r in t.itertuples():
            flag = f"  [{r.coef_flag}]" if r.coef_flag else ""
            lines.append(
                f"{r.rank:>3}. {r.driver:<32} {num(r.importance, 4)} "
                f"[{num(r.ci_low, 4)}, {num(r.ci_high, 4)}]  {pct(r.share_of_r2, 1):>6}"
                f"  stable {pct(r.rank_stability):>4}  β={signed(r.coef)}"
                f"  answered {pct(r.availability):>4}{flag}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _coefficients(mat: pd.DataFrame, drivers: list[str], weight: str | None, alpha: float,
                  expected: float) -> pd.DataFrame:
    """Standardised coefficients of OLS/WLS on the complete cases, HC1 errors."""
    import statsmodels.api as sm

    cc = mat[[*drivers, "outcome", *([weight] if weight else [])]].dropna()
    p = len(drivers)
    nan = pd.DataFrame({"coef": np.nan, "coef_se": np.nan, "coef_p": np.nan,
                        "coef_flag": "not estimated (too few complete cases)",
                        "coef_n": len(cc)}, index=drivers)
    if len(cc) < p + 3:
        return nan
    w = cc[weight].to_numpy(float) if weight else np.ones(len(cc))
    x = cc[[*drivers, "outcome"]].to_numpy(float)
    mu = w @ x / w.sum()
    sd = np.sqrt(w @ (x - mu) ** 2 / w.sum())
    if (sd == 0).any():
        return nan
    z = (x - mu) / sd
    model = sm.WLS(z[:, -1], sm.add_constant(z[:, :-1]), weights=w).fit(cov_type="HC1")
    coef, se, pv = model.params[1:], model.bse[1:], model.pvalues[1:]
    flags = []
    for c, pval in zip(coef, pv, strict=True):
        parts = []
        if c * expected < 0:
            parts.append("negative" if expected > 0 else "positive")
        if pval > alpha:
            parts.append("insignificant")
        flags.append(", ".join(parts))
    return pd.DataFrame({"coef": coef, "coef_se": se, "coef_p": pv, "coef_flag": flags,
                         "coef_n": len(cc)}, index=drivers)


def _default_drivers(mat: pd.DataFrame) -> list[str]:
    found = mat.attrs.get("drivers")
    if not found:
        raise EstimationError("name the driver columns (drivers=[...]): this matrix does not "
                              "come from driver_matrix/build_matrix, and numeric columns such "
                              f"as a margin must not be taken for drivers; columns: "
                              f"{list(mat.columns)}")
    return [d for d in found if d in mat.columns]


def driver_analysis(
    mat: pd.DataFrame,
    *,
    drivers: Sequence[str] | None = None,
    method: str = "shapley",
    policy: str = "listwise",
    weight: str | None = None,
    n_boot: int = MIN_BOOT,
    seed: int = 1,
    alpha: float = 0.05,
) -> DriverResult:
    """Relative importance of drivers with bootstrap intervals and coefficient signs.

    Parameters
    ----------
    mat
        Output of :func:`driver_matrix` / :func:`build_matrix` (one row per respondent).
    drivers
        Driver columns (default: ``mat.attrs["drivers"]``, set by
        :func:`driver_matrix`; other numeric columns are never used).
    method
        ``"shapley"`` (exact LMG, up to :data:`MAX_EXACT_DRIVERS` drivers) or
        ``"relative_weights"`` (Johnson 2000; any number).
    policy
        Missing-data policy: ``"listwise"``, ``"pairwise"`` or ``"available"``
        (see the module notes).
    weight
        Survey-weight column: weighted correlations and coefficients; the
        bootstrap resamples respondents uniformly with their weights.
    n_boot
        Bootstrap resamples (percentile intervals). At least :data:`MIN_BOOT`
        (200) are required for reported figures; fewer warn, fewer than 1 raise.
    seed
        Seed of the ``numpy.random.default_rng`` used for resampling.
    alpha
        1 − confidence level of the intervals and the significance level of
        the coefficient flags.

    Returns
    -------
    DriverResult
        ``tidy()`` lists every driver (see :meth:`DriverResult.tidy`);
        ``r2_ci`` the percentile interval of R²; ``diagnostics`` holds n_total,
        n_missing_outcome, n_pairwise_min, n_pairwise_median and
        min_eigenvalue; ``draws`` the bootstrap importances.

    Notes
    -----
    Bootstrap resample b draws n respondents uniformly with replacement
    (``rng.integers(0, n, n)``) and recomputes the policy's correlation matrix
    with weights c_i·w_i (c_i = times respondent i is drawn), including the
    mean imputation of ``"available"``; intervals are the α/2 and 1−α/2
    quantiles of the draws; rank stability = share of resamples in which a
    driver has its point-estimate rank.

    Coefficients: WLS (OLS without weights) of the standardised outcome on
    the standardised drivers on the complete cases, with heteroskedasticity-
    robust HC1 standard errors — survey weights are not precision weights,
    and a binary outcome makes a linear probability model heteroskedastic. A
    driver is flagged ``"negative"`` when its coefficient has the sign
    against the metric's good direction (``"positive"`` for a lower-is-better
    metric such as CES, see ``schemas.HIGHER_IS_BETTER``) and
    ``"insignificant"`` when p > alpha.

    References
    ----------
    Grömping (2006), JSS 17(1); Johnson (2000), MBR 35(1); Efron & Tibshirani
    (1993), An Introduction to the Bootstrap, ch. 13 (percentile intervals);
    Rao & Wu (1988), JASA 83(401) (bootstrap of survey estimates).
    """
    from cxlib.data.schemas import HIGHER_IS_BETTER

    if method not in METHODS:
        raise EstimationError(f"unknown method {method!r}; one of {sorted(METHODS)}")
    drivers = _default_drivers(mat) if drivers is None else list(drivers)
    if not drivers:
        raise EstimationError("no drivers to analyse")
    if method == "shapley" and len(drivers) > MAX_EXACT_DRIVERS:
        lmg(np.eye(len(drivers) + 1))  # raises with the explanation
    check_n_boot(n_boot, minimum=MIN_BOOT, what="the key-driver analysis")
    rows = analysis_rows(mat, drivers, policy, weight)
    names = [*drivers, "outcome"]
    mom = Moments(rows.x, rows.w, policy)
    pairs = mom.pair_counts()
    corr0 = mom.corr(mom.w)
    eig = check_corr(corr0, names, policy, lambda: pairs)
    fn = METHODS[method]
    point = fn(corr0)
    r2 = float(point.sum())
    rng = np.random.default_rng(seed)
    n, p = rows.x.shape[0], len(drivers)
    draws = np.empty((n_boot, p))
    for b in range(n_boot):
        v = bootstrap_counts(rng, n) * mom.w
        c = mom.corr(v)
        check_corr(c, names, policy, partial(mom.drawn_pairs, v),
                    where=f" in bootstrap resample {b + 1}")
        draws[b] = fn(c)
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    r2_lo, r2_hi = np.quantile(draws.sum(axis=1), [alpha / 2, 1 - alpha / 2])
    order = np.argsort(-point, kind="stable")
    rank = np.empty(p, int)
    rank[order] = np.arange(1, p + 1)
    brank = np.argsort(np.argsort(-draws, axis=1, kind="stable"), axis=1) + 1
    stability = (brank == rank).mean(axis=0)
    modal = [int(np.bincount(brank[:, j]).argmax()) for j in range(p)]
    expected = 1.0 if HIGHER_IS_BETTER.get(mat.attrs.get("metric", "csat"), True) else -1.0
    coefs = _coefficients(mat.loc[rows.index], drivers, weight, alpha, expected)
    off = pairs[~np.eye(p + 1, dtype=bool)]
    table = pd.DataFrame({
        "driver": drivers, "importance": point, "share_of_r2": point / r2 if r2 else np.nan,
        "ci_low": lo, "ci_high": hi, "rank": rank, "rank_stability": stability,
        "modal_rank": modal, **{c: coefs[c].to_numpy() for c in coefs.columns},
        "n_answered": rows.n_answered, "availability": rows.n_answered / rows.n_outcome,
        "n": n,
    }).sort_values("rank").reset_index(drop=True)
    diagnostics = {
        "n_total": rows.n_total, "n_missing_outcome": rows.n_missing_outcome,
        "n_pairwise_min": int(off.min()), "n_pairwise_median": float(np.median(off)),
        "min_eigenvalue": eig, "seed": seed,
    }
    label = "exact Shapley/LMG decomposition of R²" if method == "shapley" else \
        "Johnson's relative weights"
    note_method(
        "Key-driver importance", label,
        reference=("Grömping (2006) JSS 17(1)" if method == "shapley"
                   else "Johnson (2000) MBR 35(1)"),
        interval=f"percentile bootstrap, {n_boot} uniform resamples of respondents, seed {seed}",
        missing=policy, n=n, n_dropped=rows.n_total - n, weights=weight or "none",
        coefficients="standardised OLS/WLS on complete cases, HC1 standard errors",
        diagnostics={"r2": round(r2, 4), "r2_ci": [round(r2_lo, 4), round(r2_hi, 4)],
                     "n_pairwise_min": diagnostics["n_pairwise_min"],
                     "n_pairwise_median": diagnostics["n_pairwise_median"],
                     "n_missing_outcome": rows.n_missing_outcome,
                     "min_eigenvalue": round(eig, 6)},
    )
    return DriverResult(table=table, method=method, policy=policy, r2=r2, n=n,
                        n_dropped=rows.n_total - n, n_boot=n_boot,
                        r2_ci=(float(r2_lo), float(r2_hi)), draws=draws,
                        diagnostics=diagnostics,
                        meta={"drivers": drivers, "alpha": alpha, "weight": weight,
                              "seed": seed, "metric": mat.attrs.get("metric", "csat")})


def record_results(out: Any, res: Any, *, ipa: pd.DataFrame, money: pd.DataFrame | None,
                   n_drivers: int, name: Any) -> None:
    """Write notebook 02's headline figures and tables into a results file.

    ``out`` is a :class:`cxlib.share.results.Results`; ``res`` the result of
    :func:`driver_analysis`. Headlines: ``r2`` (with interval, base, dropped
    respondents, missing-data policy), ``driver_1..3`` (importance as a share of R²
    with its interval), ``fix_first`` (names of the IPA "fix first" quadrant) and,
    with ``money`` (:func:`margin_per_point`), ``margin_per_point`` of its first row.
    Tables: importance, importance_performance, margin_per_point.
    ``name(id)`` gives a touchpoint's name for the labels.
    """
    out.headline("r2", res.r2, label="R² explained by the touchpoints", ci=res.r2_ci, n=res.n,
                 n_dropped=res.n_dropped, policy=res.policy, n_drivers=n_drivers,
                 n_pairwise_min=res.diagnostics["n_pairwise_min"])
    for r in res.tidy().head(3).itertuples():
        out.headline(f"driver_{r.rank}", r.importance, label=f"Driver {r.rank}: {name(r.driver)}",
                     ci=(r.ci_low, r.ci_high), n=r.n, unit="share of R²", touchpoint_id=r.driver)
    fix_first = ipa.loc[ipa["quadrant"] == "fix first", "driver"].tolist()
    out.headline("fix_first", ", ".join(name(d) for d in fix_first) or "none", label="Fix first")
    out.table("importance", res.tidy())
    out.table("importance_performance", ipa)
    if money is not None:
        m = money.iloc[0]
        out.headline("margin_per_point", m.margin_per_point, ci=(m.ci_low, m.ci_high), n=m.n,
                     label=f"Margin per point at {name(m.driver)}", unit="per customer",
                     touchpoint_id=m.driver)
        out.table("margin_per_point", money)
