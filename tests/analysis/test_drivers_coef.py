"""Multiple-regression coefficients beside the importances: HC1 errors and flags.

Reference: the HC1 sandwich written out by hand (White 1980; MacKinnon &
White 1985): V = n/(n−k) (X'WX)⁻¹ X'W diag(e²) W X (X'WX)⁻¹, two-sided
normal p-values (statsmodels' default for ``cov_type="HC1"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib.analysis import drivers as drv

DRIVERS = ["tp0", "tp1", "tp2", "tp3"]


def frame(n=1500, seed=0, betas=(1.0, 0.5, 0.0, -0.4), weights=False, binary=False):
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, 4))
    # heteroskedastic errors: classical and robust errors differ
    y = x @ np.asarray(betas) + rng.normal(size=n) * (0.5 + np.abs(x[:, 0]))
    if binary:
        y = (y > 0).astype(float)
    mat = pd.DataFrame(x, columns=DRIVERS)
    mat["outcome"] = y
    if weights:
        mat["w"] = rng.choice([0.5, 1.0, 6.0], size=n)
    mat.attrs["drivers"] = list(DRIVERS)
    return mat


def hand_hc1(mat, weight=None):
    w = mat[weight].to_numpy() if weight else np.ones(len(mat))
    x = mat[[*DRIVERS, "outcome"]].to_numpy()
    mu = w @ x / w.sum()
    sd = np.sqrt(w @ (x - mu) ** 2 / w.sum())
    z = (x - mu) / sd
    X = np.column_stack([np.ones(len(z)), z[:, :-1]])
    y = z[:, -1]
    bread = np.linalg.inv(X.T @ (X * w[:, None]))
    b = bread @ X.T @ (w * y)
    e = y - X @ b
    meat = X.T @ (X * (w**2 * e**2)[:, None])
    n, k = X.shape
    v = n / (n - k) * bread @ meat @ bread
    se = np.sqrt(np.diag(v))
    p = 2 * stats.norm.sf(np.abs(b / se))
    return b[1:], se[1:], p[1:]


@pytest.mark.parametrize("weight", [None, "w"])
def test_coefficients_hc1_by_hand(weight):
    mat = frame(weights=True, seed=1)
    t = drv.driver_analysis(mat, weight=weight).tidy().set_index("driver").loc[DRIVERS]
    b, se, p = hand_hc1(mat, weight)
    np.testing.assert_allclose(t["coef"], b, rtol=1e-9)
    np.testing.assert_allclose(t["coef_se"], se, rtol=1e-9)
    np.testing.assert_allclose(t["coef_p"], p, rtol=1e-6, atol=1e-300)
    assert (t["coef_n"] == len(mat)).all()


def test_weighted_standardised_coefficients_are_solve_of_weighted_correlations():
    mat = frame(weights=True, seed=2)
    corr, _ = drv.correlation_matrix(mat, drivers=DRIVERS, weight="w")
    r = corr.to_numpy()
    beta = np.linalg.solve(r[:4, :4], r[:4, 4])
    t = drv.driver_analysis(mat, weight="w").tidy().set_index("driver").loc[DRIVERS]
    np.testing.assert_allclose(t["coef"], beta, rtol=1e-9)


def test_flags_negative_and_insignificant_where_planted():
    # planted: tp2 has no effect (β = 0), tp3 a negative one
    mat = frame(n=3000, seed=3)
    flags = drv.driver_analysis(mat).tidy().set_index("driver")["coef_flag"]
    assert flags["tp0"] == "" and flags["tp1"] == ""
    assert "insignificant" in flags["tp2"]
    assert flags["tp3"] == "negative"


def test_linear_probability_model_uses_robust_errors():
    # a 0/1 outcome (airline "satisfied") is heteroskedastic by construction
    mat = frame(n=2000, seed=4, binary=True)
    t = drv.driver_analysis(mat).tidy().set_index("driver").loc[DRIVERS]
    _, se, _ = hand_hc1(mat)
    np.testing.assert_allclose(t["coef_se"], se, rtol=1e-9)


def test_lower_is_better_driver_flags_positive_sign():
    # CES drivers: lower is better (schemas.HIGHER_IS_BETTER), so the expected
    # coefficient on satisfaction is negative and a positive one is flagged
    mat = frame(n=2000, seed=5, betas=(-1.0, -0.5, 0.0, 0.4))
    mat.attrs["metric"] = "ces"
    flags = drv.driver_analysis(mat).tidy().set_index("driver")["coef_flag"]
    assert flags["tp0"] == "" and flags["tp3"] == "positive"
