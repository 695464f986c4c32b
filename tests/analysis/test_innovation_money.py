"""Innovation money and decisions: identities worked by hand, intervals, languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib.analysis import innovation as inv
from cxlib.errors import EstimationError, ParameterError


def table(att: float = 1000.0, se: float = 100.0, **kw) -> pd.DataFrame:
    args = {"treated_unit_periods": 120, "n_units": 10, "cost_per_period": 600.0,
            "one_off_cost": 2400.0, "horizon": 24, **kw}
    return inv.money(att, se, **args).set_index("quantity")


def test_money_worked_by_hand():
    m = table()
    # by hand: 10 units x 12 treated periods = 120 unit-periods, horizon 24.
    # margin 1000 * 120 = 120,000; running cost 600 * 120 = 72,000; one-off amortised
    # 2400 / 24 per treated unit-period * 120 = 12,000; cost 84,000; net 36,000;
    # ROI 36,000 / 84,000 = 0.428571; payback 2400 / (1000 - 600) = 6 periods.
    assert m.loc["incremental_margin", "estimate"] == 120_000
    assert m.loc["running_cost", "estimate"] == 72_000
    assert m.loc["one_off_cost_amortised", "estimate"] == 12_000
    assert m.loc["incremental_cost", "estimate"] == 84_000
    assert m.loc["net", "estimate"] == 36_000
    assert m.loc["net_per_unit_period", "estimate"] == 300
    assert m.loc["roi", "estimate"] == pytest.approx(36_000 / 84_000, rel=1e-12)
    assert m.loc["payback_periods", "estimate"] == 6
    # intervals: ATT 1000 +- 1.959964 * 100 = [804.0036, 1195.9964]
    z = stats.norm.ppf(0.975)
    lo, hi = 1000 - z * 100, 1000 + z * 100
    assert m.loc["net", "ci_low"] == pytest.approx(lo * 120 - 84_000, rel=1e-12)
    assert m.loc["net", "ci_high"] == pytest.approx(hi * 120 - 84_000, rel=1e-12)
    assert m.loc["roi", "ci_low"] == pytest.approx((lo * 120 - 84_000) / 84_000, rel=1e-12)
    assert m.loc["payback_periods", "ci_low"] == pytest.approx(2400 / (hi - 600), rel=1e-12)
    assert m.loc["payback_periods", "ci_high"] == pytest.approx(2400 / (lo - 600), rel=1e-12)
    assert m.loc["payback_periods", "note"] == ""  # 4.0 .. 11.8 periods: within 24
    # P(net > 0) = P(ATT > cost per treated unit-period = 700) = Phi(3)
    assert m.loc["net", "p_net_positive"] == pytest.approx(stats.norm.cdf(3.0), abs=1e-12)


def test_money_identities_hold_on_every_bound():
    for att, se in [(1000.0, 100.0), (650.0, 300.0), (200.0, 50.0)]:
        m = table(att, se)
        for col in ("estimate", "ci_low", "ci_high"):
            net = m.loc["incremental_margin", col] - m.loc["incremental_cost", col]
            assert m.loc["net", col] == pytest.approx(net, rel=1e-12, abs=1e-9)
            assert m.loc["roi", col] == pytest.approx(net / m.loc["incremental_cost", col],
                                                      rel=1e-12, abs=1e-12)
            assert m.loc["incremental_cost", col] == pytest.approx(
                m.loc["running_cost", col] + m.loc["one_off_cost_amortised", col])
            assert m.loc["net_per_unit_period", col] * 120 == pytest.approx(
                m.loc["net", col], abs=1e-9)


def test_one_off_amortisation_is_capped_at_the_whole_one_off():
    # 10 units treated 12 periods each, horizon 6: each unit's one-off is used up after 6
    # periods, so the window carries the whole one-off: 2400 * 10 = 24,000
    m = table(horizon=6)
    assert m.loc["one_off_cost_amortised", "estimate"] == 24_000
    # uneven exposure via exposure(): units treated 2 and 30 periods, horizon 24 ->
    # amortised unit-periods min(2, 24) + min(30, 24) = 26
    panel = pd.DataFrame({"unit_id": ["a"] * 32 + ["b"] * 32,
                          "treated": [0] * 30 + [1] * 2 + [0] * 2 + [1] * 30})
    ex = inv.exposure(panel, horizon=24)
    assert ex == {"treated_unit_periods": 32, "n_units": 2, "amortised_unit_periods": 26}
    m2 = inv.money(1000.0, 100.0, **ex, cost_per_period=0.0, one_off_cost=2400.0,
                   horizon=24).set_index("quantity")
    assert m2.loc["one_off_cost_amortised", "estimate"] == pytest.approx(2400 * 26 / 24)


def test_payback_not_within_horizon():
    m = table(att=500.0, se=200.0)  # gain over running cost is negative: never pays back
    assert np.isinf(m.loc["payback_periods", "estimate"])
    assert np.isinf(m.loc["payback_periods", "ci_high"])
    assert m.loc["payback_periods", "note"] == "not within horizon"
    # upper ATT bound 500 + 1.96 * 200 = 892: 2400 / (892 - 600) = 8.2 periods
    assert inv.payback_text(m.reset_index(), horizon=24) == (
        "not within horizon [8.2, not within horizon]")
    m = table(att=1000.0, se=100.0)
    assert inv.payback_text(m.reset_index(), horizon=24) == "6.0 [4.0, 11.8]"
    assert inv.payback_text(m.reset_index(), horizon=24, language="tr") == "6,0 [4,0, 11,8]"
    slow = table(att=650.0, se=20.0)  # 2400 / 50 = 48 periods > 24
    assert slow.loc["payback_periods", "note"] == "not within horizon"


def test_money_rejects_bad_input():
    with pytest.raises(EstimationError):
        table(treated_unit_periods=0)
    with pytest.raises(ParameterError):
        table(horizon=0)


def test_decisions_and_reasons_in_three_languages():
    # a passed pre-trend test (p = 0.5): without one the decision never scales
    # (test_innovation_failsafe.py)
    assert inv.decide(table().reset_index(), pretrend_p=0.5)["decision"] == "scale"
    straddle = table(att=700.0, se=100.0).reset_index()  # net per unit-period 0 +- 196
    assert inv.decide(straddle)["decision"] == "keep watching"
    back = table(att=300.0, se=100.0).reset_index()
    assert inv.decide(back)["decision"] == "roll back"
    # a failed pre-trend test overrides everything
    v = inv.decide(table().reset_index(), pretrend_p=0.001)
    assert v["decision"] == "no decision" and "pre-trend" in v["reason"]
    assert v["label"] == "no decision"
    assert inv.decide(table().reset_index(), pretrend_p=0.2)["decision"] == "scale"
    # words follow the language; numbers use the locale's separators
    tr = inv.decide(table().reset_index(), pretrend_p=0.5, language="tr")
    assert tr["label"] == "yaygınlaştır" and "36.000" in tr["reason"]
    az = inv.decide(back, language="az")
    assert az["label"] == "geri qaytar" and "sıfırdan aşağıdır" in az["reason"]
    en = inv.decide(table().reset_index())
    assert "36,000" in en["reason"] and "120 treated unit-periods" in en["reason"]
    with pytest.raises(ParameterError):
        inv.decide(table().reset_index(), language="de")


def test_labels_cover_every_decision_and_language():
    # decision words come from cxlib.i18n (shared with the report renderer), the rest
    # from innovation.* in cxlib/locales/messages.yml; every key must exist in all three
    # languages
    for key in (*inv.DECISIONS, "event_time_axis", "not_within_horizon",
                *(f"reason.{d}" for d in inv.DECISIONS)):
        texts = {lang: inv.label(key, lang) for lang in ("en", "tr", "az")}
        assert all(texts.values()) and key not in (texts["tr"], texts["az"]), texts
        assert len(set(texts.values())) == 3, texts
    assert inv.label("effect_on", "tr", outcome=inv.label("margin", "tr")) == (
        "birim-dönem başına marj etkisi")
