"""Survey weights: raking respondents to known population margins.

:func:`rake` adjusts weights by iterative proportional fitting (IPF) so that
the weighted shares of every margin (segment, region, ...) match the
population's, then trims extreme weights and re-rakes. The intervals in
:mod:`cxlib.analysis.satisfaction` then use Kish's effective n of these weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxlib.errors import DataError, EstimationError
from cxlib.methods import note_method

__all__ = ["rake"]


def rake(
    data: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    *,
    weight: str | None = None,
    max_iter: int = 200,
    tol: float = 1e-8,
    trim: tuple[float, float] | None = None,
    total: float | None = None,
) -> pd.Series:
    """Raking (IPF) weights matching population margins.

    Parameters
    ----------
    data
        One row per respondent with the margin columns.
    margins
        ``{column: {category: share or count}}``. Within a column, values are
        shares (summing to 1) or population counts; every column must describe
        the same total.
    weight
        Starting (design) weights column; default 1.
    max_iter, tol
        Stop when every weighted margin share is within ``tol`` of its target
        share: the absolute difference ``|Σ_c w / Σ w − target_c / total|``
        on the 0–1 share scale, for every category c of every margin; raise
        when ``max_iter`` cycles do not get there.
    trim
        ``(low, high)`` bounds as multiples of the mean weight: weights are
        clipped to them and raked again (alternating until both hold or
        ``max_iter``). When the bounds make the margins unattainable the
        function raises instead of returning weights that miss them.
    total
        Sum of the returned weights (default: the number of respondents).

    Returns
    -------
    Series
        The raking weights (index of ``data``), with ``attrs``: iterations,
        converged, max_abs_error, n_eff.

    Raises
    ------
    EstimationError
        Inconsistent margins (different totals), a category in the data missing
        from the margins or a target category absent from the data, or no
        convergence.

    Notes
    -----
    Each cycle multiplies the weights of category c of column k by
    target_kc / current_kc, for every column in turn (Deming & Stephan 1940).
    The fixed point is the unique biproportional (log-linear) adjustment of the
    starting weights that meets every margin. A margin column may itself be a
    cross-classification (e.g. ``"age×sex"``): raking a table of ones to
    observed two-way margins is the iterative proportional fitting of a
    log-linear model, tested against Agresti (2007), Table 7.4.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a
    sampled frequency table when the expected marginal totals are known.
    Annals of Mathematical Statistics 11(4), 427–444. Battaglia, Hoaglin &
    Frankel (2009), Practical considerations in raking survey data, Survey
    Practice 2(5). Agresti, A. (2007). An Introduction to Categorical Data
    Analysis, 2nd ed., Wiley, Section 7.1 (IPF fitted values, Table 7.4).
    """
    if not margins:
        raise EstimationError("no margins given to rake to")
    targets: dict[str, pd.Series] = {}
    sums = {}
    for col, m in margins.items():
        if col not in data:
            raise DataError(f"margin column {col!r} is not in the data; columns: "
                            f"{list(map(str, data.columns))}", column=col, rule="required column")
        s = pd.Series(dict(m), dtype=float)
        if (s < 0).any():
            raise EstimationError(f"margin {col!r} has negative targets")
        sums[col] = s.sum()
        present = set(data[col].astype(str).unique())
        extra = present - set(s.index.astype(str))
        if extra:
            raise EstimationError(f"categories {sorted(extra)} of {col!r} are in the data but "
                                  "not in the margins: add them (or merge categories)")
        empty = [c for c in s.index[s > 0] if str(c) not in present]
        if empty:
            raise EstimationError(f"target categories {empty} of {col!r} have no respondents: "
                                  "raking cannot give them weight; merge categories")
        targets[col] = s / s.sum()
    shares_given = all(abs(v - 1) < 1e-6 for v in sums.values())
    if not shares_given and max(sums.values()) - min(sums.values()) > 1e-6 * max(sums.values()):
        raise EstimationError(f"margins are inconsistent: totals differ {sums}; every margin "
                              "must describe the same population")
    n = len(data)
    w = np.ones(n) if weight is None else data[weight].to_numpy(float).copy()
    codes = {c: data[c].astype(str).to_numpy() for c in targets}
    tgt = {c: targets[c].rename(index=str) for c in targets}
    it, err, converged = 0, np.inf, False
    for it in range(1, max_iter + 1):  # noqa: B007
        for c in targets:
            cur = pd.Series(w).groupby(codes[c]).sum() / w.sum()
            factor = (tgt[c] / cur).reindex(codes[c]).to_numpy()
            w *= factor
        if trim is not None:
            mean = w.mean()
            w = np.clip(w, trim[0] * mean, trim[1] * mean)
        err = max(float(((pd.Series(w).groupby(codes[c]).sum() / w.sum()) - tgt[c]).abs().max())
                  for c in targets)
        if err < tol:
            converged = True
            break
    if not converged:
        if trim is not None:
            raise EstimationError(
                f"raking with trimming bounds {tuple(trim)} (× mean weight) did not converge "
                f"in {max_iter} cycles (max margin share error {err:.2e} > tol {tol:g}): the "
                "bounds make the margins unattainable; loosen the trimming bounds or merge "
                "sparse categories")
        raise EstimationError(
            f"raking did not converge in {max_iter} cycles (max margin share error {err:.2e} "
            f"> tol {tol:g}); raise max_iter, or merge sparse categories (IPF is slow when a "
            "margin is nearly unattainable, e.g. a category with very few respondents)")
    w *= (total or n) / w.sum()
    out = pd.Series(w, index=data.index, name="weight")
    out.attrs.update(iterations=it, converged=converged, max_abs_error=err,
                     n_eff=float(w.sum() ** 2 / (w**2).sum()))
    note_method("Survey weights", "raking (iterative proportional fitting)",
                margins=list(targets), trim=list(trim) if trim else None, iterations=it,
                n_eff=out.attrs["n_eff"], reference="Deming & Stephan (1940)")
    return out
