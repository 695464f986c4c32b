"""Key drivers: which touchpoints move satisfaction, loyalty and money.

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

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import combinations
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from cxlib.errors import EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = [
    "MAX_EXACT_DRIVERS",
    "MIN_BOOT",
    "OUTCOMES",
    "POLICIES",
    "DriverResult",
    "attach_margin",
    "build_matrix",
    "correlation_matrix",
    "driver_analysis",
    "driver_matrix",
    "filter_segment",
    "importance_performance",
    "lmg",
    "margin_per_point",
    "relative_weights",
    "resolve_drivers",
    "select_drivers",
    "subset_r2",
]

POLICIES = ("listwise", "pairwise", "available")
#: Largest number of drivers for the exact Shapley decomposition (see module notes).
MAX_EXACT_DRIVERS = 20
#: Bootstrap resamples the key-driver issue requires for reported intervals.
MIN_BOOT = 200
#: Smallest number of respondents behind one pairwise correlation.
MIN_PAIR_N = 3


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

    Raises
    ------
    ParameterError
        The column is not in the data, or the value is not present in it (the
        values present are listed).
    """
    if not column:
        return responses
    if column not in responses.columns:
        raise ParameterError([f"segment_column {column!r} is not a column of the responses; "
                              f"columns: {list(responses.columns)}"], source="segment filter")
    text = responses[column].astype("string")
    keep = text == str(value)
    if not keep.any():
        values = sorted(text.dropna().unique().tolist())
        shown = values[:20] + (["..."] if len(values) > 20 else [])
        raise ParameterError([f"segment_value {value!r} is not present in column {column!r}; "
                              f"values present: {shown}"], source="segment filter")
    return responses[keep.fillna(False).to_numpy(bool)]


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
        raise ParameterError([f"weight column {weight!r} is not in the responses; columns: "
                              f"{list(responses.columns)}"], source="driver matrix")
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
    out = mat.copy()
    total = orders.groupby("customer_id")["margin"].sum()
    out["margin"] = out["customer_id"].map(total).fillna(0.0)
    groups = [group] if isinstance(group, str) else list(group or [])
    for g in groups:
        if customers is not None and g in customers and g not in out:
            out[g] = out["customer_id"].map(customers.set_index("customer_id")[g])
    out.attrs = dict(mat.attrs)
    return out


# --------------------------------------------------------------------------- maths
def _weighted_corr(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Pearson correlation matrix of the columns of complete ``x`` (optionally weighted)."""
    mom = _Moments(x, w, "listwise")
    return mom.corr(mom.w)


class _Moments:
    """Weighted (co)variances of one analysis sample under a missing-data policy.

    ``x`` is n×q with the outcome last (no NaN in the outcome); ``cov(v)`` and
    ``corr(v)`` take per-row weights ``v`` (survey weight × bootstrap count),
    so a bootstrap resample never copies rows. Every moment is a weighted
    mean (divisor Σv), the convention of ``numpy.cov(aweights=, ddof=0)``.
    """

    #: Below this share of missing cells, pairwise sums are computed as complete
    #: sums minus sparse corrections over the missing cells (same numbers, faster).
    SPARSE_MISSING_MAX = 0.3

    def __init__(self, x: np.ndarray, w: np.ndarray | None, policy: str,
                 sparse: bool | None = None) -> None:
        self.policy = policy
        self.n, self.q = x.shape
        self.w = np.ones(self.n) if w is None else np.asarray(w, float)
        nan = np.isnan(x)
        self.x0 = np.where(nan, 0.0, x)
        # transposed copies are kept contiguous: X'(X*v) is then twice as fast
        if policy == "pairwise":
            self.m = (~nan).astype(float)
            self.x0_t = np.ascontiguousarray(self.x0.T)
            self.sparse = (nan.mean() <= self.SPARSE_MISSING_MAX) if sparse is None else sparse
            if self.sparse:  # the rows with a missing cell, and their indicator
                self.holes = np.flatnonzero(nan.any(axis=1))
                self.nan_f = nan[self.holes].astype(float)
                self.nan_ft = np.ascontiguousarray(self.nan_f.T)
            else:
                self.stack_t = np.ascontiguousarray(
                    np.hstack([self.m, self.x0, self.x0**2]).T)
        elif policy == "available":
            self.m = (~nan).astype(float)
            self.nan = nan
        else:
            if nan.any():
                raise EstimationError("internal: listwise data with missing values")
            self.xa = np.column_stack([x, np.ones(self.n)])
            self.xa_t = np.ascontiguousarray(self.xa.T)

    def pair_counts(self) -> np.ndarray:
        """Respondents behind each entry of the matrix (unweighted)."""
        if self.policy == "pairwise":
            return self.m.T @ self.m
        return np.full((self.q, self.q), float(self.n))

    def drawn_pairs(self, v: np.ndarray) -> np.ndarray:
        """Respondents with weight v > 0 behind each entry (a resample's base sizes)."""
        d = (v > 0).astype(float)[:, None]
        if self.policy == "pairwise":
            return self.m.T @ (self.m * d)
        return np.full((self.q, self.q), float(d.sum()))

    def cov(self, v: np.ndarray) -> np.ndarray:
        if self.policy == "pairwise":
            # wsum[j,k] = Σ v m_j m_k, s1[j,k] = Σ v m_j m_k x_j, s2[j,k] = Σ v m_j m_k x_j²
            xv = self.x0 * v[:, None]
            prod = self.x0_t @ xv
            if self.sparse:  # Σ over pairs = Σ over all − Σ over rows missing k (+ both)
                h, vh = self.holes, v[self.holes]
                xvh = xv[h]
                miss_v = self.nan_ft @ vh
                both_missing = self.nan_ft @ (self.nan_f * vh[:, None])
                wsum = v.sum() - miss_v[:, None] - miss_v[None, :] + both_missing
                s1 = xv.sum(0)[:, None] - (self.nan_ft @ xvh).T
                s2 = (self.x0 * xv).sum(0)[:, None] - (self.nan_ft @ (self.x0[h] * xvh)).T
            else:
                a = self.stack_t @ (self.m * v[:, None])
                q = self.q
                wsum, s1, s2 = a[:q], a[q:2 * q], a[2 * q:]
            with np.errstate(invalid="ignore", divide="ignore"):
                mj, mk = s1 / wsum, s1.T / wsum
                cov = prod / wsum - mj * mk
                self._var_pairs = (s2 / wsum - mj**2, s2.T / wsum - mk**2)
            return cov
        if self.policy == "available":
            with np.errstate(invalid="ignore", divide="ignore"):
                mu = ((self.x0 * v[:, None]).sum(0) / (self.m * v[:, None]).sum(0))
            xa = np.column_stack([np.where(self.nan, mu, self.x0), np.ones(self.n)])
            s = xa.T @ (xa * v[:, None])
        else:
            s = self.xa_t @ (self.xa * v[:, None])
        tot = s[-1, -1]
        mu = s[:-1, -1] / tot
        return s[:-1, :-1] / tot - np.outer(mu, mu)

    def corr(self, v: np.ndarray) -> np.ndarray:
        cov = self.cov(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.policy == "pairwise":
                vj, vk = self._var_pairs
                out = cov / np.sqrt(vj * vk)
            else:
                d = np.sqrt(np.diag(cov))
                out = cov / np.outer(d, d)
        np.fill_diagonal(out, 1.0)
        return out


def correlation_matrix(
    mat: pd.DataFrame,
    *,
    drivers: Sequence[str],
    policy: str = "listwise",
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Correlation matrix of drivers and outcome under a missing-data policy.

    Returns
    -------
    corr : DataFrame
        (p+1)×(p+1), drivers then ``outcome``.
    n_pairs : DataFrame
        Respondents behind each correlation (all equal except under ``"pairwise"``).

    Notes
    -----
    Weighted Pearson correlation r_jk = Σ w (x_j − x̄_j)(x_k − x̄_k) /
    √(Σ w (x_j − x̄_j)² Σ w (x_k − x̄_k)²) with weighted means; under
    ``"pairwise"`` every sum, mean and variance runs over the respondents who
    answered both j and k; under ``"available"`` missing scores are first
    replaced by the driver's weighted mean.
    """
    data = _analysis_rows(mat, list(drivers), policy, weight)
    mom = _Moments(data.x, data.w, policy)
    names = [*drivers, "outcome"]
    return (pd.DataFrame(mom.corr(mom.w), index=names, columns=names),
            pd.DataFrame(mom.pair_counts(), index=names, columns=names))


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


@lru_cache(maxsize=4)
def _subsets(p: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """All subsets of range(p) grouped by size: (index array, bit masks)."""
    out = []
    for k in range(1, p + 1):
        subsets = np.array(list(combinations(range(p), k)))
        out.append((subsets, (1 << subsets).sum(axis=1)))
    return out


@lru_cache(maxsize=4)
def _sizes(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit counts of every mask of p bits, and the Shapley weight of each size."""
    masks = np.arange(1 << p)
    sizes = np.zeros(1 << p, np.int64)
    for j in range(p):
        sizes += (masks >> j) & 1
    wts = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)])
    return sizes, wts


def _shapley_from_v(v: np.ndarray, p: int) -> np.ndarray:
    sizes, wts = _sizes(p)
    masks = np.arange(1 << p)
    out = np.empty(p)
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        out[j] = np.sum(wts[sizes[without]] * (v[without | (1 << j)] - v[without]))
    return out


def lmg(corr: np.ndarray) -> np.ndarray:
    """Exact Shapley (LMG) shares of R² from a correlation matrix (outcome last).

    Notes
    -----
    .. math:: \\phi_j = \\sum_{S \\subseteq P \\setminus \\{j\\}}
              \\frac{|S|!\\,(p-|S|-1)!}{p!} [R^2(S \\cup j) - R^2(S)]

    The shares sum to the full-model R². Cost: 2^p subset regressions
    (see the module notes for timings); at most :data:`MAX_EXACT_DRIVERS`.

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
            f"{MAX_EXACT_DRIVERS}); choose the drivers of one stage or a list, or use "
            f"method='relative_weights'"
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

    def summary(self) -> str:
        t = self.tidy()
        d = self.diagnostics
        lines = [
            f"Key drivers ({self.method}, {self.policy} missing-data policy): "
            f"R² = {self.r2:.3f} [{self.r2_ci[0]:.3f}, {self.r2_ci[1]:.3f}], "
            f"n = {self.n:,} ({self.n_dropped:,} dropped, {d.get('n_missing_outcome', 0):,} "
            f"of them without the outcome), {self.n_boot} bootstrap resamples, "
            f"weights: {self.meta.get('weight') or 'none'}",
        ]
        if self.policy == "pairwise":
            lines.append(f"pairwise base sizes: min {d['n_pairwise_min']:,}, "
                         f"median {d['n_pairwise_median']:,.0f}")
        for r in t.itertuples():
            flag = f"  [{r.coef_flag}]" if r.coef_flag else ""
            lines.append(
                f"{r.rank:>3}. {r.driver:<32} {r.importance:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
                f"  {r.share_of_r2:6.1%}  stable {r.rank_stability:4.0%}  β={r.coef:+.3f}"
                f"  answered {r.availability:4.0%}{flag}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@dataclass
class _Rows:
    x: np.ndarray
    w: np.ndarray | None
    index: pd.Index
    n_total: int
    n_missing_outcome: int
    n_answered: np.ndarray
    n_outcome: int


def _check_weight(mat: pd.DataFrame, weight: str | None) -> None:
    if not weight:
        return
    if weight not in mat.columns:
        raise ParameterError([f"weight column {weight!r} is not in the driver matrix; columns: "
                              f"{list(mat.columns)}"], source="key drivers")
    w = pd.to_numeric(mat[weight], errors="coerce")
    bad = mat.loc[~(np.isfinite(w) & (w > 0)), [weight]]
    if len(bad):
        raise ParameterError([f"weight column {weight!r} must be positive and finite; "
                              f"{len(bad)} rows are not, e.g. {bad.head(5).to_dict('index')}"],
                             source="key drivers")


def _analysis_rows(mat: pd.DataFrame, drivers: list[str], policy: str,
                   weight: str | None) -> _Rows:
    if policy not in POLICIES:
        raise EstimationError(f"unknown missing-data policy {policy!r}; one of {POLICIES}")
    absent = [c for c in [*drivers, "outcome"] if c not in mat.columns]
    if absent:
        raise EstimationError(f"columns {absent} are not in the driver matrix; columns: "
                              f"{list(mat.columns)}")
    _check_weight(mat, weight)
    data = mat[[*drivers, "outcome"]].astype(float)
    has_y = data["outcome"].notna().to_numpy()
    data = data[has_y]
    n_answered = data[drivers].notna().sum().to_numpy()
    if policy == "listwise":
        data = data.dropna()
    elif policy == "pairwise":
        data = data[data[drivers].notna().any(axis=1)]
    w = mat.loc[data.index, weight].to_numpy(float) if weight else None
    if len(data) < len(drivers) + 3:
        raise EstimationError(
            f"only {len(data)} usable respondents for {len(drivers)} drivers under the "
            f"{policy!r} policy; use policy='pairwise' or 'available', or fewer drivers"
        )
    return _Rows(x=data.to_numpy(), w=w, index=data.index, n_total=len(mat),
                 n_missing_outcome=int((~has_y).sum()), n_answered=n_answered,
                 n_outcome=int(has_y.sum()))


def _check_corr(corr: np.ndarray, names: list[str], policy: str,
                pairs: Callable[[], np.ndarray] | None, where: str = "") -> float:
    """Finite, positive semi-definite, not collinear; returns the smallest eigenvalue.

    ``pairs`` computes the pair counts, only when a correlation is undefined.
    """
    if not np.isfinite(corr).all():
        if pairs is not None:
            pairs = pairs()
            low = [(j, k) for j, k in np.argwhere(pairs < MIN_PAIR_N) if j < k]
            if low:
                shown = "; ".join(f"{names[j]!r} and {names[k]!r} were answered together by "
                                  f"{int(pairs[j, k])}" for j, k in low[:5])
                raise EstimationError(
                    f"{shown} respondents{where}; a pairwise correlation needs "
                    f"{MIN_PAIR_N}: drop one of each pair or use policy='available'")
        raise EstimationError(f"a correlation is undefined{where} (a driver or the outcome does "
                              "not vary); drop constant drivers")
    eig = float(np.linalg.eigvalsh(corr).min())
    if eig < -1e-10:
        raise EstimationError(
            f"the {policy} correlation matrix{where} is not positive semi-definite (smallest "
            f"eigenvalue {eig:.4g}): its correlations come from different respondents and do "
            f"not fit together, so Shapley values and relative weights would be meaningless. "
            f"Use policy='listwise' or 'available', or drop drivers answered by few "
            f"respondents")
    p = corr.shape[0] - 1
    if float(np.linalg.eigvalsh(corr[:p, :p]).min()) <= 1e-10:
        raise EstimationError(f"drivers are perfectly collinear{where}; drop a duplicated "
                              "touchpoint")
    return eig


def _bootstrap_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Times each respondent is drawn in one uniform resample of size n."""
    return np.bincount(rng.integers(0, n, n), minlength=n).astype(float)


def _check_boot(n_boot: int) -> None:
    if int(n_boot) < 1:
        raise EstimationError(f"n_boot={n_boot}: need at least 1 bootstrap resample (the "
                              f"key-driver analysis requires at least {MIN_BOOT} for reported "
                              "intervals and rank stability)")
    if int(n_boot) < MIN_BOOT:
        warnings.warn(f"n_boot={n_boot} < {MIN_BOOT}: the key-driver analysis requires at least "
                      f"{MIN_BOOT} bootstrap resamples for reported intervals and rank "
                      "stability; use these only for a quick look", UserWarning, stacklevel=3)


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

    if method not in _METHODS:
        raise EstimationError(f"unknown method {method!r}; one of {sorted(_METHODS)}")
    drivers = _default_drivers(mat) if drivers is None else list(drivers)
    if not drivers:
        raise EstimationError("no drivers to analyse")
    if method == "shapley" and len(drivers) > MAX_EXACT_DRIVERS:
        lmg(np.eye(len(drivers) + 1))  # raises with the explanation
    _check_boot(n_boot)
    rows = _analysis_rows(mat, drivers, policy, weight)
    names = [*drivers, "outcome"]
    mom = _Moments(rows.x, rows.w, policy)
    pairs = mom.pair_counts()
    corr0 = mom.corr(mom.w)
    eig = _check_corr(corr0, names, policy, lambda: pairs)
    fn = _METHODS[method]
    point = fn(corr0)
    r2 = float(point.sum())
    rng = np.random.default_rng(seed)
    n, p = rows.x.shape[0], len(drivers)
    draws = np.empty((n_boot, p))
    for b in range(n_boot):
        v = _bootstrap_counts(rng, n) * mom.w
        c = mom.corr(v)
        _check_corr(c, names, policy, partial(mom.drawn_pairs, v),
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
        raise EstimationError(f"columns {absent} are not in the matrix (attach_margin adds "
                              f"margin and group columns); columns: {list(mat.columns)}")
    _check_boot(n_boot)
    _check_weight(mat, weight)
    absent = [c for c in [*drivers, "outcome"] if c not in mat.columns]
    if absent:
        raise EstimationError(f"columns {absent} are not in the driver matrix")
    sub = mat[mat["outcome"].notna()]
    x = sub[[*drivers, "outcome"]].to_numpy(float)
    w = sub[weight].to_numpy(float) if weight else np.ones(len(sub))
    complete = ~np.isnan(x).any(axis=1)
    if policy == "listwise":
        # incomplete rows stay in the resampling frame (they carry a) with zero weight in b
        mom = _Moments(np.where(np.isnan(x), 0.0, x), w, "listwise")
        bmask = complete.astype(float)
    else:
        mom = _Moments(x, w, "pairwise")
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
        _check_corr(corr, names, policy, partial(mom.drawn_pairs, vb), where)
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
        da[i], db[i] = chain(_bootstrap_counts(rng, n) * mom.w,
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
