"""Missing-data policies, base sizes and input checks of the key-driver analysis.

References: pandas ``DataFrame.corr`` (pairwise-complete Pearson), numpy
``cov(aweights=)`` on hand-built pair-complete or mean-imputed matrices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import drivers as drv
from cxlib.errors import DataError, EstimationError, ParameterError

DRIVERS = ["tp0", "tp1", "tp2"]


def frame(n=400, seed=0, missing=(0.1, 0.4, 0.25), weights=True):
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, 3))
    y = x @ np.array([0.7, 0.4, 0.2]) + rng.normal(size=n)
    mat = pd.DataFrame(x, columns=DRIVERS)
    mat["outcome"] = y
    for c, share in zip(DRIVERS, missing, strict=True):
        mat.loc[rng.random(n) < share, c] = np.nan
    if weights:
        mat["w"] = rng.uniform(0.2, 3.0, n)
    mat.attrs["drivers"] = list(DRIVERS)
    return mat


def _wcorr(x, w):
    cov = np.cov(x, rowvar=False, aweights=w)
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


@pytest.mark.parametrize("sparse_max", [0.0, 1.0])  # dense sums, or sums minus holes
def test_pairwise_matches_pandas_and_counts_pairs(sparse_max, monkeypatch):
    monkeypatch.setattr(drv.Moments, "SPARSE_MISSING_MAX", sparse_max)
    mat = frame()
    corr, pairs = drv.correlation_matrix(mat, drivers=DRIVERS, policy="pairwise")
    cols = [*DRIVERS, "outcome"]
    np.testing.assert_allclose(corr.to_numpy(), mat[cols].corr().to_numpy(), atol=1e-12)
    # respondents who answered no driver add nothing and are not counted
    used = mat[mat[DRIVERS].notna().any(axis=1)]
    answered = used[cols].notna().astype(int)
    np.testing.assert_array_equal(pairs.to_numpy(), (answered.T @ answered).to_numpy())
    # not the listwise matrix
    listwise = mat[cols].dropna().corr().to_numpy()
    assert np.abs(corr.to_numpy() - listwise).max() > 1e-3


@pytest.mark.parametrize("sparse_max", [0.0, 1.0])
def test_weighted_pairwise_matches_hand_built_pairs(sparse_max, monkeypatch):
    monkeypatch.setattr(drv.Moments, "SPARSE_MISSING_MAX", sparse_max)
    mat = frame(seed=1)
    corr, _ = drv.correlation_matrix(mat, drivers=DRIVERS, policy="pairwise", weight="w")
    cols = [*DRIVERS, "outcome"]
    expected = np.eye(4)
    for j in range(4):
        for k in range(j + 1, 4):
            both = mat[[cols[j], cols[k], "w"]].dropna()
            expected[j, k] = expected[k, j] = _wcorr(both[[cols[j], cols[k]]].to_numpy(),
                                                     both["w"].to_numpy())[0, 1]
    np.testing.assert_allclose(corr.to_numpy(), expected, atol=1e-12)


def test_available_is_weighted_mean_imputation():
    mat = frame(seed=2)
    corr, pairs = drv.correlation_matrix(mat, drivers=DRIVERS, policy="available", weight="w")
    filled = mat.copy()
    for c in DRIVERS:
        ok = filled[c].notna()
        filled.loc[~ok, c] = np.average(filled.loc[ok, c], weights=filled.loc[ok, "w"])
    expected = _wcorr(filled[[*DRIVERS, "outcome"]].to_numpy(), filled["w"].to_numpy())
    np.testing.assert_allclose(corr.to_numpy(), expected, atol=1e-12)
    assert (pairs.to_numpy() == len(mat)).all()
    # unweighted mean would differ: the weights matter
    plain, _ = drv.correlation_matrix(mat, drivers=DRIVERS, policy="available")
    assert np.abs(plain.to_numpy() - corr.to_numpy()).max() > 1e-3


def test_available_shrinks_correlations_by_root_availability():
    # The documented shrinkage: with answers missing completely at random, mean
    # imputation multiplies a driver's correlations by about sqrt(availability).
    mat = frame(n=40_000, seed=3, missing=(0.0, 0.64, 0.0), weights=False)
    pw, _ = drv.correlation_matrix(mat, drivers=DRIVERS, policy="pairwise")
    av, _ = drv.correlation_matrix(mat, drivers=DRIVERS, policy="available")
    ratio = av.loc["tp1", "outcome"] / pw.loc["tp1", "outcome"]
    assert ratio == pytest.approx(np.sqrt(0.36), abs=0.02)
    assert av.loc["tp0", "outcome"] == pytest.approx(pw.loc["tp0", "outcome"], abs=1e-12)


def test_listwise_is_complete_cases():
    mat = frame(seed=4)
    corr, pairs = drv.correlation_matrix(mat, drivers=DRIVERS, policy="listwise", weight="w")
    cc = mat.dropna()
    np.testing.assert_allclose(corr.to_numpy(), _wcorr(cc[[*DRIVERS, "outcome"]].to_numpy(),
                                                       cc["w"].to_numpy()), atol=1e-12)
    assert (pairs.to_numpy() == len(cc)).all()


def _non_psd_frame():
    # Each pair of drivers is seen by different respondents, and the three
    # pairwise correlations (+.9, +.9, -.9) cannot come from one population.
    rng = np.random.default_rng(0)
    blocks = []
    for a, b, sign in (("tp0", "tp1", 1), ("tp1", "tp2", 1), ("tp0", "tp2", -1)):
        z = rng.normal(size=200)
        blk = pd.DataFrame({"tp0": np.nan, "tp1": np.nan, "tp2": np.nan}, index=range(200))
        blk[a] = z
        blk[b] = sign * z + 0.3 * rng.normal(size=200)
        blk["outcome"] = z + rng.normal(size=200)
        blocks.append(blk)
    mat = pd.concat(blocks, ignore_index=True)
    mat.attrs["drivers"] = list(DRIVERS)
    return mat


def test_non_psd_pairwise_matrix_is_refused():
    mat = _non_psd_frame()
    corr, _ = drv.correlation_matrix(mat, drivers=DRIVERS, policy="pairwise")
    assert np.linalg.eigvalsh(corr.to_numpy()).min() < -0.1  # really not PSD
    with pytest.raises(EstimationError, match="not positive semi-definite"):
        drv.driver_analysis(mat, policy="pairwise")
    mat["margin"] = 1.0
    with pytest.raises(EstimationError, match="not positive semi-definite"):
        drv.margin_per_point(mat, drivers=DRIVERS, policy="pairwise")


def test_pairwise_base_sizes_reported():
    mat = frame(seed=5)
    res = drv.driver_analysis(mat, policy="pairwise")
    used = mat[mat[DRIVERS].notna().any(axis=1)]
    answered = used[[*DRIVERS, "outcome"]].notna().astype(int)
    pairs = (answered.T @ answered).to_numpy()
    off = pairs[~np.eye(4, dtype=bool)]
    assert res.diagnostics["n_pairwise_min"] == off.min()
    assert res.diagnostics["n_pairwise_median"] == np.median(off)
    assert f"min {off.min():,}" in res.summary()
    t = res.tidy().set_index("driver")
    assert (t["n_answered"] == mat[DRIVERS].notna().sum()).all()


def test_too_few_pairs_named():
    mat = frame(n=60, seed=6, missing=(0.0, 0.0, 0.0))
    mat.loc[mat.index[2:], "tp2"] = np.nan
    mat.loc[mat.index[:2], "tp1"] = np.nan
    with pytest.raises(EstimationError, match="'tp0' and 'tp2' were answered together by 2; "
                                              "'tp1' and 'tp2' were answered together by 0"):
        drv.driver_analysis(mat, policy="pairwise")


def test_default_drivers_never_take_other_numeric_columns():
    mat = frame(seed=7)
    mat["margin"] = np.random.default_rng(0).normal(size=len(mat))
    res = drv.driver_analysis(mat, policy="available")
    assert sorted(res.tidy()["driver"]) == DRIVERS
    bare = pd.DataFrame(mat)  # no attrs: must name the drivers
    bare.attrs = {}
    with pytest.raises(EstimationError, match="name the driver columns"):
        drv.driver_analysis(bare)


def test_driver_matrix_records_its_drivers(sample_dir):
    from cxlib.data import datasets

    world = datasets.load(sample_dir)
    mat = drv.build_matrix(world.responses, catalog=world.catalog,
                           drivers=["sales_staff", "store"], level="top")
    with_margin = drv.attach_margin(mat, world.orders, world.customers, group="branch_id")
    assert with_margin.attrs["drivers"] == ["sales_staff", "store"]
    res = drv.driver_analysis(with_margin, policy="pairwise")
    assert set(res.tidy()["driver"]) == {"sales_staff", "store"}


def test_segment_filter_errors_name_the_values(sample_dir):
    from cxlib.data import datasets

    resp = datasets.load(sample_dir).responses
    with pytest.raises(ParameterError, match=r"'nobody' is not present in column 'segment'.*"
                                             r"values present: \['affluent', 'business', 'mass'"):
        drv.filter_segment(resp, "segment", "nobody")
    with pytest.raises(ParameterError, match="'segmnt' is not a column"):
        drv.filter_segment(resp, "segmnt", "mass")
    kept = drv.filter_segment(resp, "segment", "mass")
    assert len(kept) == int((resp["segment"] == "mass").sum()) > 0
    assert drv.filter_segment(resp, "", "") is resp


def test_resolve_drivers_skips_stages_the_catalog_lacks():
    from cxlib.data.catalog import load_catalog

    airline = load_catalog("airline")
    ids, notes = drv.resolve_drivers(airline, "sale,post_sale", level="top")
    assert len(ids) == 14 and any("skipped" in n for n in notes)
    assert any("every top-level touchpoint" in n for n in notes)
    retail = load_catalog("retail")
    ids, notes = drv.resolve_drivers(retail, "sale,post_sale", level="top")
    assert notes == [] and "sales_staff" in ids and "website" not in ids
    with pytest.raises(EstimationError, match="neither 'all', a stage"):
        drv.select_drivers(airline, "sale")


def test_satisfied_outcome_needs_binary(sample_dir):
    from cxlib.data import datasets

    world = datasets.load(sample_dir)
    with pytest.raises(EstimationError, match="needs a 0/1 overall answer"):
        drv.build_matrix(world.responses, catalog=world.catalog, drivers=["sales_staff"],
                         outcome="satisfied")


def test_bad_weights_are_named():
    mat = frame(seed=8)
    mat.loc[mat.index[:3], "w"] = [0.0, -1.0, np.nan]
    # bad or missing data columns are DataErrors (the rule in cxlib/errors.py)
    with pytest.raises(DataError, match="must be positive and finite; 3 rows"):
        drv.driver_analysis(mat, weight="w")
    with pytest.raises(DataError, match="'wt' is not in the driver matrix"):
        drv.driver_analysis(mat, weight="wt")
