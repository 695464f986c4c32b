"""Importance–performance matrix (split rule, intervals) and the driver figures.

References: Martilla & James (1977) quadrants split at the means, as the
docstring says; scipy's t interval of a mean; the weighted-mean linearised SE
equals statsmodels' WLS intercept with HC1 errors.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from scipy import stats

from cxlib.analysis import drivers as drv
from cxlib.plots.drivers import importance_bars, ipa_scatter

DRIVERS = ["a", "b", "c", "d"]


def result_and_matrix(importance, performance, n=200, seed=0, metric="csat"):
    """A DriverResult with the given importances and a matrix with the given means."""
    rng = np.random.default_rng(seed)
    mat = pd.DataFrame({d: m + rng.normal(size=n) for d, m in zip(DRIVERS, performance,
                                                                   strict=True)})
    mat.iloc[:20, 1] = np.nan  # unequal bases
    mat["outcome"] = rng.normal(size=n)
    mat["w"] = rng.uniform(0.2, 4.0, n)
    imp = np.asarray(importance, float)
    table = pd.DataFrame({"driver": DRIVERS, "importance": imp, "ci_low": imp * 0.8,
                          "ci_high": imp * 1.3, "rank": stats.rankdata(-imp).astype(int),
                          "coef_flag": ["", "insignificant", "", "negative"]})
    res = drv.DriverResult(table=table, method="shapley", policy="listwise", r2=imp.sum(),
                           n=n, n_dropped=0, n_boot=200, meta={"metric": metric})
    return res, mat


def test_quadrants_split_at_the_means_not_the_medians():
    # importances: mean 0.1875, median 0.09 -> b (0.10) is LOW importance;
    # performance: mean 2.55, median 2.1 -> c (2.2) is LOW performance.
    res, mat = result_and_matrix([0.5, 0.10, 0.08, 0.07], [1.0, 2.0, 2.2, 5.0])
    ipa = drv.importance_performance(res, mat).set_index("driver")
    assert ipa["importance_split"].iloc[0] == pytest.approx(0.1875)
    assert ipa["performance_split"].iloc[0] == pytest.approx(ipa["performance"].mean())
    assert ipa.loc["a", "quadrant"] == "fix first"
    assert ipa.loc["b", "quadrant"] == "low priority"  # a median split would say fix first
    assert ipa.loc["c", "quadrant"] == "low priority"
    assert ipa.loc["d", "quadrant"] == "possible overkill"


def test_lower_is_better_metric_turns_performance_around():
    res, mat = result_and_matrix([0.5, 0.10, 0.08, 0.07], [1.0, 2.0, 2.2, 5.0], metric="ces")
    ipa = drv.importance_performance(res, mat).set_index("driver")
    assert ipa.loc["a", "quadrant"] == "keep up"  # low CES = little effort = good
    assert ipa.loc["d", "quadrant"] == "low priority"
    assert not ipa["higher_is_better"].iloc[0]


def test_performance_interval_is_the_t_interval():
    res, mat = result_and_matrix([0.4, 0.3, 0.2, 0.1], [3.0, 3.5, 4.0, 2.0])
    ipa = drv.importance_performance(res, mat).set_index("driver")
    for d in DRIVERS:
        s = mat[d].dropna()
        lo, hi = stats.t.interval(0.95, len(s) - 1, loc=s.mean(), scale=stats.sem(s))
        assert ipa.loc[d, "perf_low"] == pytest.approx(lo, abs=1e-12)
        assert ipa.loc[d, "perf_high"] == pytest.approx(hi, abs=1e-12)
        assert ipa.loc[d, "n_performance"] == len(s)
    assert (ipa["imp_low"] < ipa["importance"]).all()


def test_weighted_performance_interval():
    res, mat = result_and_matrix([0.4, 0.3, 0.2, 0.1], [3.0, 3.5, 4.0, 2.0])
    ipa = drv.importance_performance(res, mat, weight="w").set_index("driver")
    for d in DRIVERS:
        ok = mat[d].notna()
        fit = sm.WLS(mat.loc[ok, d], np.ones(ok.sum()), weights=mat.loc[ok, "w"]).fit(
            cov_type="HC1")
        q = stats.t.ppf(0.975, ok.sum() - 1)
        assert ipa.loc[d, "performance"] == pytest.approx(fit.params.iloc[0], abs=1e-12)
        assert ipa.loc[d, "perf_high"] - ipa.loc[d, "performance"] == pytest.approx(
            q * fit.bse.iloc[0], rel=1e-9)
    # equal weights give the unweighted t interval
    mat["w"] = 2.0
    eq = drv.importance_performance(res, mat, weight="w")
    plain = drv.importance_performance(res, mat, weight=None)
    np.testing.assert_allclose(eq[["perf_low", "perf_high"]], plain[["perf_low", "perf_high"]],
                               rtol=1e-12)


def _segments(container: ErrorbarContainer) -> list[np.ndarray]:
    _, _, lines = container.lines
    return [np.asarray(seg) for coll in lines for seg in coll.get_segments()]


def test_importance_bars_axes_labels_and_error_bars():
    res, _ = result_and_matrix([0.4, 0.3, 0.2, 0.1], [3.0, 3.5, 4.0, 2.0])
    tidy = res.tidy()
    ax = importance_bars(tidy, label=str.upper)
    assert isinstance(ax, Axes)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    segs = _segments(bars[0])
    t = tidy.sort_values("importance", ascending=False)
    np.testing.assert_allclose([s[:, 0].min() for s in segs], t["ci_low"])
    np.testing.assert_allclose([s[:, 0].max() for s in segs], t["ci_high"])
    assert {x.get_text().strip() for x in ax.texts} == {"insignificant", "negative"}
    matplotlib.pyplot.close("all")


def test_ipa_scatter_axes_labelled_points_and_both_intervals():
    res, mat = result_and_matrix([0.4, 0.3, 0.2, 0.1], [3.0, 3.5, 4.0, 2.0])
    ipa = drv.importance_performance(res, mat)
    ax = ipa_scatter(ipa, label=str.upper)
    assert isinstance(ax, Axes)
    labels = {t.get_text(): t.xy for t in ax.texts}
    assert set(labels) == {"A", "B", "C", "D"}
    for r in ipa.itertuples():
        assert labels[r.driver.upper()] == pytest.approx((r.performance, r.importance))
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segs = _segments(bars[0])
    horizontal = [s for s in segs if s[0, 1] == s[1, 1]]
    vertical = [s for s in segs if s[0, 0] == s[1, 0]]
    np.testing.assert_allclose(sorted(s[:, 0].max() - s[:, 0].min() for s in horizontal),
                               sorted(ipa["perf_high"] - ipa["perf_low"]))
    np.testing.assert_allclose(sorted(s[:, 1].max() - s[:, 1].min() for s in vertical),
                               sorted(ipa["imp_high"] - ipa["imp_low"]))
    assert all(np.ptp(s[:, 0]) > 0 for s in horizontal)  # non-zero performance intervals
    # quadrant lines where the quadrants were split
    xs = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert pytest.approx(ipa["performance_split"].iloc[0]) in xs
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("language", ["en", "tr", "az"])
def test_importance_axis_reads_as_percent_like_the_text(language):
    import re

    from tests.plots.texts import DECIMAL_POINT, figure_texts

    # shares of R² of 0.139 etc.: the report says "13.9%" ("%13,9"), the axis must not read 0.14
    res, mat = result_and_matrix([0.139, 0.05, 0.03, 0.02], [3.0, 3.5, 4.0, 2.0])
    ax = importance_bars(res.tidy(), label=str.upper, language=language)
    figure_texts(ax.figure)
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    # a tick at 2.5% keeps its decimal (was "2%", reading like the tick at 2%)
    num = r"\d+(\.\d)?" if language == "en" else r"\d+(,\d)?"
    pattern = rf"^%{num}$" if language == "tr" else rf"^{num}%$"
    assert ticks and all(re.match(pattern, t) for t in ticks), ticks
    assert len(set(ticks)) == len(ticks), ticks
    ipa = drv.importance_performance(res, mat)
    ax = ipa_scatter(ipa, label=str.upper, language=language)
    texts = figure_texts(ax.figure)
    assert all(re.match(pattern, t.get_text()) for t in ax.get_yticklabels() if t.get_text())
    if language != "en":
        assert not [t for t in texts if DECIMAL_POINT.search(t)], texts
    matplotlib.pyplot.close("all")
