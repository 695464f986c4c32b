"""Driver to money: margin per point at each touchpoint (joint bootstrap).

References: statsmodels OLS with group dummies (Frisch–Waugh–Lovell: the
within slope equals the dummy-regression slope); statsmodels OLS on complete
cases for listwise b; a hand-built pair-complete covariance for pairwise b; a
materialised, hand-rebuilt joint bootstrap; the planted truth of the synthetic
world (truth.json: 60 margin per overall point; b_j from a large independent
survey of the same world by ``synth.simulate_survey``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cxlib.analysis import drivers as drv
from cxlib.errors import DataError, EstimationError

DRIVERS = ["tp0", "tp1", "tp2"]


def frame(n=300, seed=0, missing=0.2):
    """Groups differ in margin AND satisfaction (confounding); within a group,
    margin rises 50 per overall point."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 6, n)
    seg = rng.integers(0, 2, n)
    x = 0.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, 3)) + 3
    overall = x @ np.array([0.8, 0.4, 0.1]) + 0.5 * g + rng.normal(size=n)
    margin = 50 * overall - 120 * g + 300 * seg + rng.normal(scale=40, size=n)
    mat = pd.DataFrame(x, columns=DRIVERS)
    for c in DRIVERS:
        mat.loc[rng.random(n) < missing, c] = np.nan
    mat["outcome"] = overall
    mat["margin"] = margin
    mat["branch_id"] = [f"B{i}" for i in g]
    mat["segment"] = np.where(seg == 1, "business", "mass")
    mat.attrs["drivers"] = list(DRIVERS)
    return mat


def test_margin_per_overall_point_is_the_within_group_slope():
    mat = frame()
    out = drv.margin_per_point(mat, drivers=DRIVERS, group=["branch_id", "segment"])
    fit = smf.ols("margin ~ outcome + C(branch_id) * C(segment)", data=mat).fit()
    assert out["margin_per_overall_point"].iloc[0] == pytest.approx(fit.params["outcome"],
                                                                    rel=1e-10)
    one = drv.margin_per_point(mat, drivers=DRIVERS, group="branch_id")
    fit1 = smf.ols("margin ~ outcome + C(branch_id)", data=mat).fit()
    assert one["margin_per_overall_point"].iloc[0] == pytest.approx(fit1.params["outcome"],
                                                                    rel=1e-10)
    pooled = smf.ols("margin ~ outcome", data=mat).fit().params["outcome"]
    assert abs(pooled - 50) > 10  # the confounding the demeaning removes


def test_a_uses_every_respondent_with_the_outcome():
    mat = frame(missing=0.4)
    out = drv.margin_per_point(mat, drivers=DRIVERS, policy="listwise", group="branch_id")
    assert (out["n_margin"] == len(mat)).all() and (out["n"] == len(mat)).all()
    assert (out["n_driver"] == len(mat[DRIVERS].dropna())).all()


def test_b_listwise_is_ols_on_complete_cases():
    mat = frame(seed=1)
    out = drv.margin_per_point(mat, drivers=DRIVERS, policy="listwise").set_index("driver")
    cc = mat.dropna(subset=DRIVERS)
    fit = sm.OLS(cc["outcome"], sm.add_constant(cc[DRIVERS])).fit()
    np.testing.assert_allclose(out.loc[DRIVERS, "overall_per_point"], fit.params[DRIVERS],
                               rtol=1e-9)


def _pairwise_b(d: pd.DataFrame | np.ndarray) -> np.ndarray:
    x = d[[*DRIVERS, "outcome"]].to_numpy() if isinstance(d, pd.DataFrame) else d
    cov = np.empty((4, 4))
    for j in range(4):
        for k in range(4):
            ok = ~np.isnan(x[:, j]) & ~np.isnan(x[:, k])
            a, b = x[ok, j], x[ok, k]
            cov[j, k] = ((a - a.mean()) * (b - b.mean())).mean()
    return np.linalg.solve(cov[:3, :3], cov[:3, 3])


def test_b_pairwise_is_the_pair_complete_covariance_regression():
    mat = frame(seed=2)
    out = drv.margin_per_point(mat, drivers=DRIVERS, policy="pairwise").set_index("driver")
    np.testing.assert_allclose(out.loc[DRIVERS, "overall_per_point"], _pairwise_b(mat),
                               rtol=1e-9)


def test_joint_bootstrap_rebuilt_by_hand():
    mat = frame(n=240, seed=3)
    out = drv.margin_per_point(mat, drivers=DRIVERS, group="branch_id", n_boot=200, seed=5)
    out = out.set_index("driver").loc[DRIVERS]
    # each resample materialised: a = OLS slope with branch dummies, b = pairwise
    dummies = pd.get_dummies(mat["branch_id"]).to_numpy(float)
    x = mat[[*DRIVERS, "outcome"]].to_numpy()
    rng = np.random.default_rng(5)
    a_draws, b_draws = [], []
    for _ in range(200):
        idx = rng.integers(0, len(mat), len(mat))
        design = np.column_stack([mat["outcome"].to_numpy()[idx], dummies[idx]])
        coef = np.linalg.lstsq(design, mat["margin"].to_numpy()[idx], rcond=None)[0]
        a_draws.append(coef[0])
        b_draws.append(_pairwise_b(x[idx]))
    a_draws, b_draws = np.array(a_draws), np.array(b_draws)
    prod = a_draws[:, None] * b_draws  # a and b from the SAME resample
    np.testing.assert_allclose(out["ci_low"], np.quantile(prod, 0.025, axis=0), rtol=1e-8)
    np.testing.assert_allclose(out["ci_high"], np.quantile(prod, 0.975, axis=0), rtol=1e-8)
    np.testing.assert_allclose(out["se"], prod.std(axis=0, ddof=1), rtol=1e-8)
    np.testing.assert_allclose(out["overall_per_point_low"], np.quantile(b_draws, 0.025, 0),
                               rtol=1e-8)
    assert out["margin_per_overall_point_high"].iloc[0] == pytest.approx(
        np.quantile(a_draws, 0.975), rel=1e-8)
    prio = out["priority"].to_numpy()
    ranks = np.array([[1 + int((row > row[j]).sum()) for j in range(3)] for row in prod])
    np.testing.assert_allclose(out["priority_stability"], (ranks == prio).mean(axis=0))
    # the interval carries a's uncertainty: wider than b's alone times the point a
    a0 = out["margin_per_overall_point"].iloc[0]
    assert (out["se"] > a0 * b_draws.std(axis=0, ddof=1)).all()


def test_policy_and_guard():
    mat = frame()
    with pytest.raises(EstimationError, match="mean imputation biases"):
        drv.margin_per_point(mat, drivers=DRIVERS, policy="available")
    with pytest.raises(EstimationError, match="at least 200"):
        drv.margin_per_point(mat, drivers=DRIVERS, n_boot=0)
    with pytest.raises(DataError, match=r"columns \['region'\] are not in the matrix"):
        drv.margin_per_point(mat, drivers=DRIVERS, group="region")


def test_planted_margin_chain_recovered(sample_dir):
    from scipy.stats import kendalltau

    from cxlib.data import datasets, synth

    world = datasets.load(sample_dir)
    truth = world.truth
    top = truth["driver_order"][:4]  # planted weights .22, .16, .13, .10
    mat = drv.build_matrix(world.responses, catalog=world.catalog, drivers=top)
    groups = ["branch_id", "segment"]
    with_margin = drv.attach_margin(mat, world.orders, world.customers, group=groups)
    out = drv.margin_per_point(with_margin, drivers=top, group=groups).set_index("driver")
    # a: planted 60 per overall point within branch (segment margins differ too)
    a = out["margin_per_overall_point"].iloc[0]
    lo, hi = out[["margin_per_overall_point_low", "margin_per_overall_point_high"]].iloc[0]
    assert lo < truth["margin_per_overall_point"] < hi, (a, lo, hi)
    # b_j: the population regression of overall on these four CSAT scores in the
    # planted world, from a large independent survey (statsmodels, complete cases)
    big, _ = synth.simulate_survey(30_000, seed=99, world_seed=truth["seed"])
    ref = drv.driver_matrix(big, drivers=top)[[*top, "outcome"]].dropna()
    fit = sm.OLS(ref["outcome"], sm.add_constant(ref[top])).fit(cov_type="HC1")
    est = out.loc[top, "overall_per_point"].to_numpy()
    se = (out.loc[top, "overall_per_point_high"] - out.loc[top, "overall_per_point_low"]
          ).to_numpy() / (2 * 1.96)
    z = (est - fit.params[top].to_numpy()) / np.sqrt(se**2 + fit.bse[top].to_numpy() ** 2)
    assert np.all(np.abs(z) < 3), dict(zip(top, z, strict=True))
    # priority order = planted order (the population b_j keep it too)
    assert list(fit.params[top].sort_values(ascending=False).index) == top
    prio = out.sort_values("priority").index.tolist()
    assert prio[0] == top[0]
    assert kendalltau([top.index(d) for d in prio], range(4))[0] >= 2 / 3, prio
