"""Relative importance of drivers from a correlation matrix: Shapley/LMG and relative weights.

The maths behind :mod:`cxlib.analysis.drivers`, for any area that apportions R²:

* :class:`Moments` — weighted (co)variances under a missing-data policy
  (listwise, pairwise, available), re-weighted per bootstrap resample without
  copying rows; :func:`correlation_matrix` and :func:`check_corr` (finite,
  positive semi-definite, not collinear);
* :func:`subset_r2` — R² of every subset of drivers from the correlation matrix
  (R²(S) = r_S' R_SS⁻¹ r_S), :func:`lmg` — the exact Shapley/LMG decomposition of
  R² over all 2^p subsets (R ``relaimpo::calc.relimp(type="lmg")`` is the
  reference; no maintained Python library offers it, hence this code), and
  :func:`relative_weights` — Johnson's (2000) relative weights.

See :mod:`cxlib.analysis.drivers` for the policies, timings and survey weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

from cxlib.errors import DataError, EstimationError

__all__ = [
    "MAX_EXACT_DRIVERS",
    "METHODS",
    "MIN_BOOT",
    "MIN_PAIR_N",
    "POLICIES",
    "AnalysisRows",
    "Moments",
    "analysis_rows",
    "check_corr",
    "check_weight",
    "correlation_matrix",
    "lmg",
    "relative_weights",
    "subset_r2",
    "weighted_corr",
]

POLICIES = ("listwise", "pairwise", "available")
#: Largest number of drivers for the exact Shapley decomposition (see module notes).
MAX_EXACT_DRIVERS = 20
#: Bootstrap resamples the key-driver issue requires for reported intervals.
MIN_BOOT = 200
#: Smallest number of respondents behind one pairwise correlation.
MIN_PAIR_N = 3


# --------------------------------------------------------------------------- maths
def weighted_corr(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Pearson correlation matrix of the columns of complete ``x`` (optionally weighted)."""
    mom = Moments(x, w, "listwise")
    return mom.corr(mom.w)


class Moments:
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
    data = analysis_rows(mat, list(drivers), policy, weight)
    mom = Moments(data.x, data.w, policy)
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


METHODS = {"shapley": lmg, "relative_weights": relative_weights}



@dataclass
class AnalysisRows:
    x: np.ndarray
    w: np.ndarray | None
    index: pd.Index
    n_total: int
    n_missing_outcome: int
    n_answered: np.ndarray
    n_outcome: int


def check_weight(mat: pd.DataFrame, weight: str | None) -> None:
    if not weight:
        return
    if weight not in mat.columns:
        raise DataError(f"weight column {weight!r} is not in the driver matrix; columns: "
                        f"{list(mat.columns)}. Name a column of survey weights, or none",
                        column=weight, rule="required column")
    w = pd.to_numeric(mat[weight], errors="coerce")
    bad = mat.loc[~(np.isfinite(w) & (w > 0)), [weight]]
    if len(bad):
        raise DataError(f"weight column {weight!r} must be positive and finite; "
                        f"{len(bad)} rows are not; fix or drop them", column=weight,
                        rule="weight > 0 and finite", rows=bad)


def analysis_rows(mat: pd.DataFrame, drivers: list[str], policy: str,
                  weight: str | None) -> AnalysisRows:
    if policy not in POLICIES:
        raise EstimationError(f"unknown missing-data policy {policy!r}; one of {POLICIES}")
    absent = [c for c in [*drivers, "outcome"] if c not in mat.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the driver matrix; columns: "
                        f"{list(mat.columns)}", column=absent[0], rule="required column")
    check_weight(mat, weight)
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
    return AnalysisRows(x=data.to_numpy(), w=w, index=data.index, n_total=len(mat),
                 n_missing_outcome=int((~has_y).sum()), n_answered=n_answered,
                 n_outcome=int(has_y.sum()))


def check_corr(corr: np.ndarray, names: list[str], policy: str,
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


