"""Innovation panels (window, exclusions, gaps) and the event-study figure."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from cxlib.analysis import innovation as inv
from cxlib.data import datasets, synth
from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.plots.innovation import event_study_plot

ADOPT = {"A": "2024-03-01", "B": "2024-01-01", "C": "2024-08-01", "F": "2024-02-01"}


def toy() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units A..F, one order a month Jan..Sep 2024 (margin = 100 * unit number + month),
    plus a second order of A in May; kiosk adopted by A, B, C, F; E got another innovation."""
    rows = []
    for u, unit in enumerate("ABCDEF"):
        for m in range(1, 10):
            rows.append({"date": pd.Timestamp(2024, m, 15), "branch_id": unit,
                         "margin": 100.0 * (u + 1) + m})
    rows.append({"date": pd.Timestamp(2024, 5, 2), "branch_id": "A", "margin": 7.0})
    inn = [{"innovation_id": "kiosk", "unit_id": u, "start_date": pd.Timestamp(d)}
           for u, d in ADOPT.items()]
    inn.append({"innovation_id": "calls", "unit_id": "E", "start_date": pd.Timestamp("2024-04-01")})
    return pd.DataFrame(rows), pd.DataFrame(inn)


def test_build_panel_window_drops_units_treated_before_it():
    orders, innovations = toy()
    p = inv.build_panel(orders, innovations, innovation_id="kiosk", start="2024-02",
                        end="2024-06")
    # B adopted before the window, F in its first period: no untreated period -> dropped
    # (not silently turned into never-treated controls); E got another innovation
    assert sorted(p["unit_id"].unique()) == ["A", "C", "D"]
    assert p.attrs["dropped_already_treated"] == ["B", "F"]
    assert p.attrs["dropped_other_treated"] == ["E"]
    assert p.attrs["adopted_after_window"] == ["C"]
    assert p["t"].nunique() == 5 and len(p) == 15  # Feb..Jun, balanced
    first = p.groupby("unit_id")["first_treated"].first()
    assert first["A"] == 1  # March is period 1 of a window starting in February
    assert np.isnan(first["C"]) and np.isnan(first["D"])  # C adopts after the window
    a = p[p["unit_id"] == "A"].set_index("t")
    assert a["treated"].tolist() == [0, 1, 1, 1, 1]
    assert a["rel"].tolist() == [-1, 0, 1, 2, 3]
    assert a.loc[3, "margin"] == pytest.approx(105 + 7)  # May: two orders summed
    assert a.loc[3, "n_orders"] == 2
    # without a window B (treated from the first observed month) has no pre-period either
    full = inv.build_panel(orders, innovations, innovation_id="kiosk")
    assert "B" not in set(full["unit_id"]) and "F" in set(full["unit_id"])
    assert full.attrs["dropped_already_treated"] == ["B"]
    keep_e = inv.build_panel(orders, innovations, innovation_id="kiosk",
                             exclude_other_treated=False)
    assert "E" in set(keep_e["unit_id"])


def test_build_panel_rejects_bad_input():
    orders, innovations = toy()
    with pytest.raises(EstimationError, match="not found"):
        inv.build_panel(orders, innovations, innovation_id="drones")
    with pytest.raises(ParameterError, match="range"):
        inv.build_panel(orders, innovations, innovation_id="kiosk", start="2024-06",
                        end="2024-03")
    with pytest.raises(ParameterError):
        inv.build_panel(orders, innovations, innovation_id="kiosk", start="last spring")
    with pytest.raises(DataError, match="margin"):
        inv.build_panel(orders.drop(columns="margin"), innovations, innovation_id="kiosk")


def test_twfe_numpy_requires_a_balanced_panel():
    p, _ = synth.simulate_rollout(seed=1, innovation="self_service_kiosk", n_units=20)
    cols = ("margin", "treated", "unit_id", "t")
    gap = p.drop(index=5)
    with pytest.raises(EstimationError, match="balanced") as e:
        inv.twfe_numpy(*(gap[c].to_numpy() for c in cols))
    assert "1 unit-periods missing" in str(e.value) and p.loc[5, "unit_id"] in str(e.value)
    dup = pd.concat([p, p.iloc[[3]]])
    with pytest.raises(EstimationError, match="duplicated"):
        inv.twfe_numpy(*(dup[c].to_numpy() for c in cols))
    nan = p.assign(margin=p["margin"].where(p.index != 7))
    with pytest.raises(EstimationError, match="NaN"):
        inv.twfe_numpy(*(nan[c].to_numpy() for c in cols))


def test_callaway_santanna_handles_csat_gaps_in_the_sample(sample_dir):
    # CSAT is missing in branch-months without a survey answer: most units have a gap,
    # so dropping them would leave < 2 never-treated controls; "auto" then uses every
    # observed cell and says so. Explicit choices behave as documented.
    w = datasets.load(sample_dir)
    p = inv.build_panel(w.orders, w.innovations, innovation_id="proactive_calls",
                        responses=w.responses)
    assert p["csat"].isna().any()
    r = inv.estimate(p, estimator="callaway_santanna", outcome="csat")
    assert r.diagnostics["unbalanced"] == "available" and np.isfinite(r.att)
    assert "missing" in r.diagnostics["notes"][0] and "every observed cell" in \
        r.diagnostics["notes"][0]
    assert r.n_obs == int(p["csat"].notna().sum())
    with pytest.raises(EstimationError, match="never-treated unit"):
        inv.estimate(p, estimator="callaway_santanna", outcome="csat", unbalanced="drop_units")
    with pytest.raises(EstimationError, match="missing"):
        inv.estimate(p, estimator="callaway_santanna", outcome="csat", unbalanced="error")
    # a few gaps: the units with gaps are dropped (balanced estimator)
    q, _ = synth.simulate_rollout(seed=2, innovation="self_service_kiosk")
    q.loc[q.index[[30, 31]], "margin"] = np.nan  # unit 2 of 20
    r2 = inv.estimate(q, estimator="callaway_santanna")
    assert r2.diagnostics["unbalanced"] == "drop_units"
    assert r2.diagnostics["dropped_units"] == 1 and r2.n_units == q["unit_id"].nunique() - 1


def test_event_study_plot_draws_intervals_and_reference_period():
    p, _ = synth.simulate_rollout(seed=3, innovation="self_service_kiosk")
    es = inv.event_study(p)
    tidy = es.tidy()
    ax = event_study_plot(tidy, language="tr")
    assert isinstance(ax, matplotlib.axes.Axes)
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    est = tidy.dropna(subset=["event_time"]).query("not reference").sort_values("event_time")
    x, y = bars[0].lines[0].get_data()
    assert list(x) == est["event_time"].tolist()
    assert np.allclose(y, est["estimate"])
    segs = bars[0].lines[2][0].get_segments()  # one vertical bar per period: ci_low..ci_high
    assert np.allclose([s[0][1] for s in segs], est["ci_low"])
    assert np.allclose([s[1][1] for s in segs], est["ci_high"])
    ref = [ln for ln in ax.lines if list(ln.get_xdata()) == [-1] and list(ln.get_ydata()) == [0]]
    assert len(ref) == 1 and ref[0].get_markerfacecolor() == "white"
    assert any(list(ln.get_xdata()) == [-0.5, -0.5] for ln in ax.lines)  # pre | post divider
    assert ax.get_xlabel() == "benimsemeye göre dönem (−1 = referans)"
    assert ax.get_ylabel() == "birim-dönem başına marj etkisi"
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "referans dönem", "tahmin, %95 GA"]
    matplotlib.pyplot.close("all")
    # the robust estimators' dynamic rows plot the same way (reference row at -1)
    ax2 = event_study_plot(inv.pretrend(p)["event"], outcome="contacts")
    assert ax2.get_ylabel() == "effect on contacts per unit-period"
    assert any(list(ln.get_xdata()) == [-1] for ln in ax2.lines)
    matplotlib.pyplot.close("all")
