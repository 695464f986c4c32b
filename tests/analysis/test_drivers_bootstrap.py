"""Bootstrap of the key-driver analysis, checked against an independent rebuild.

The rebuild materialises every resample (respondents drawn uniformly with
``numpy.random.default_rng(seed).integers(0, n, n)``, as documented), imputes
and correlates it with numpy / pandas (``numpy.cov(aweights=)``,
``DataFrame.corr``), and decomposes with :func:`cxlib.analysis.drivers.lmg` (itself
checked against brute-force statsmodels refits in test_drivers.py). The
weighted interval is checked against a Monte-Carlo SD from a known population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import drivers as drv
from cxlib.errors import EstimationError

DRIVERS = ["tp0", "tp1", "tp2"]


def frame(n=300, seed=0, betas=(0.6, 0.5, 0.1), missing=0.0, weights=False):
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, len(betas)))
    y = x @ np.asarray(betas) + rng.normal(size=n)
    mat = pd.DataFrame(x, columns=DRIVERS[: len(betas)])
    mat["outcome"] = y
    if missing:
        for c in mat.columns[:-1]:
            mat.loc[rng.random(n) < missing, c] = np.nan
    if weights:
        mat["w"] = rng.choice([0.3, 1.0, 4.0], size=n)
    mat.attrs["drivers"] = list(mat.columns[: len(betas)])
    return mat


def _wcorr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    cov = np.cov(x, rowvar=False, aweights=w)
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def _wpairwise(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    q = x.shape[1]
    out = np.eye(q)
    for j in range(q):
        for k in range(j + 1, q):
            ok = ~np.isnan(x[:, j]) & ~np.isnan(x[:, k])
            out[j, k] = out[k, j] = _wcorr(x[ok][:, [j, k]], w[ok])[0, 1]
    return out


def hand_draws(mat, policy, weight, n_boot, seed, drivers=None):
    """Independent rebuild of the bootstrap importances (see module docstring)."""
    drivers = drivers or mat.attrs["drivers"]
    rows = mat[mat["outcome"].notna()]
    if policy == "listwise":
        rows = rows.dropna(subset=drivers)
    elif policy == "pairwise":
        rows = rows[rows[drivers].notna().any(axis=1)]
    x = rows[[*drivers, "outcome"]].to_numpy(float)
    w = rows[weight].to_numpy(float) if weight else np.ones(len(rows))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        xb, wb = x[idx].copy(), w[idx]
        if policy == "pairwise":
            c = (pd.DataFrame(xb).corr().to_numpy() if weight is None
                 else _wpairwise(xb, wb))
        else:
            if policy == "available":  # weighted mean imputation inside the resample
                for j in range(len(drivers)):
                    ok = ~np.isnan(xb[:, j])
                    xb[~ok, j] = np.average(xb[ok, j], weights=wb[ok])
            c = _wcorr(xb, wb)
        out.append(drv.lmg(c))
    return np.array(out)


@pytest.mark.parametrize("policy", drv.POLICIES)
@pytest.mark.parametrize("weight", [None, "w"])
def test_draws_intervals_and_rank_stability_rebuilt_by_hand(policy, weight):
    mat = frame(n=250, seed=3, missing=0.15 if policy != "listwise" else 0.1,
                weights=True, betas=(0.5, 0.45, 0.15))
    res = drv.driver_analysis(mat, policy=policy, weight=weight, n_boot=200, seed=7)
    ref = hand_draws(mat, policy, weight, 200, 7)
    np.testing.assert_allclose(res.draws, ref, rtol=1e-9, atol=1e-12)
    # 95% percentile intervals of the draws (not 50%, not of other draws)
    t = res.tidy().set_index("driver").loc[mat.attrs["drivers"]]
    np.testing.assert_allclose(t["ci_low"], np.quantile(ref, 0.025, axis=0), atol=1e-12)
    np.testing.assert_allclose(t["ci_high"], np.quantile(ref, 0.975, axis=0), atol=1e-12)
    np.testing.assert_allclose(res.r2_ci, np.quantile(ref.sum(1), [0.025, 0.975]), atol=1e-12)
    # rank stability by hand: share of resamples where the driver keeps its rank
    point_rank = t["rank"].to_numpy()
    ranks = np.array([[1 + int((row > row[j]).sum()) for j in range(3)] for row in ref])
    np.testing.assert_allclose(t["rank_stability"], (ranks == point_rank).mean(axis=0))
    assert t["modal_rank"].tolist() == [int(np.bincount(ranks[:, j]).argmax()) for j in range(3)]
    assert (t["rank_stability"] < 1).any()  # close drivers: the check above has teeth


def test_same_seed_same_draws_other_seed_other_draws():
    mat = frame(n=200, seed=1)
    a = drv.driver_analysis(mat, n_boot=200, seed=11)
    b = drv.driver_analysis(mat, n_boot=200, seed=11)
    c = drv.driver_analysis(mat, n_boot=200, seed=12)
    np.testing.assert_array_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    assert not np.allclose(a.draws, c.draws)
    # seed 12 means seed 12 (not 13): its draws are the documented generator's
    np.testing.assert_allclose(c.draws, hand_draws(mat, "listwise", None, 200, 12), rtol=1e-9)
    assert a.diagnostics["seed"] == 11


def test_weighted_bootstrap_se_matches_monte_carlo_sd():
    # Known population: two groups with different driver effects. Group 1 is
    # 20% of the population but 80% of the sample (i.i.d. draws), so survey
    # weights are 0.8/0.2 = 4 and 0.2/0.8 = 0.25 (Kish design effect 3.25).
    # The bootstrap SE of the weighted importances (resampling respondents
    # uniformly, weights carried along) must be within 25% of the SD of the
    # weighted estimate over many independent samples (Monte Carlo truth).
    n, reps = 500, 400
    pop, samp = np.array([0.8, 0.2]), np.array([0.2, 0.8])
    wt = pop / samp
    betas = np.array([[1.0, 0.3], [0.2, 1.0]])

    def sample(rng):
        g = (rng.random(n) < samp[1]).astype(int)
        x = 0.4 * rng.normal(size=(n, 1)) + rng.normal(size=(n, 2))
        y = (x * betas[g]).sum(1) + rng.normal(size=n)
        mat = pd.DataFrame({"tp0": x[:, 0], "tp1": x[:, 1], "outcome": y, "w": wt[g]})
        mat.attrs["drivers"] = ["tp0", "tp1"]
        return mat

    rng = np.random.default_rng(2024)
    est = []
    for _ in range(reps):
        m = sample(rng)
        est.append(drv.lmg(_wcorr(m[["tp0", "tp1", "outcome"]].to_numpy(), m["w"].to_numpy())))
    mc_sd = np.std(est, axis=0, ddof=1)
    boot_se = np.mean([drv.driver_analysis(sample(rng), weight="w", n_boot=200, seed=s)
                       .draws.std(axis=0, ddof=1) for s in range(8)], axis=0)
    ratio = boot_se / mc_sd
    assert np.all((ratio > 0.75) & (ratio < 1.25)), (boot_se, mc_sd, ratio)


def test_n_boot_guard():
    mat = frame(n=100)
    with pytest.raises(EstimationError, match="at least 200"):
        drv.driver_analysis(mat, n_boot=0)
    with pytest.warns(UserWarning, match="at least 200"):
        res = drv.driver_analysis(mat, n_boot=50)
    assert res.n_boot == 50 and res.draws.shape == (50, 3)


def test_r2_interval_and_methods_note():
    from cxlib import methods

    methods.clear_methods()
    mat = frame(n=400, seed=5, missing=0.2)
    res = drv.driver_analysis(mat, policy="pairwise")
    assert res.r2_ci[0] < res.r2 < res.r2_ci[1]
    note = [m for m in methods.recorded_methods() if m["step"] == "Key-driver importance"][-1]
    assert note["missing"] == "pairwise" and note["weights"] == "none" and note["n"] == res.n
    assert note["diagnostics"]["n_pairwise_min"] == res.diagnostics["n_pairwise_min"]
    assert note["diagnostics"]["r2"] == pytest.approx(res.r2, abs=1e-4)
    assert "200 uniform resamples" in note["interval"]
