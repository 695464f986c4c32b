"""An innovation is named in the report's language, with the plain name as fallback.

Reference: the names come from the innovations table's own columns (``name``,
``name_<lang>``), written here by hand; nothing is translated by cxlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib.analysis import innovation as inv
from cxlib.data.synth import simulate_innovation_panel
from cxlib.data.synth.constants import INNOVATIONS


def test_names_by_language_from_the_table() -> None:
    t = pd.DataFrame({"innovation_id": ["k", "k", "m"], "unit_id": ["a", "b", "a"],
                      "name": ["Kiosks", "Kiosks", "Messenger"],
                      "name_tr": ["Kiosklar", "Kiosklar", np.nan],
                      "name_az": ["Kiosklar (az)", "Kiosklar (az)", ""]})
    assert inv.innovation_names(t, "k") == {"en": "Kiosks", "tr": "Kiosklar",
                                            "az": "Kiosklar (az)"}
    # an empty or missing translation falls back to the plain name
    assert inv.innovation_names(t, "m") == {"en": "Messenger", "tr": "Messenger",
                                            "az": "Messenger"}


def test_user_data_with_one_name_keep_it_everywhere() -> None:
    t = pd.DataFrame({"innovation_id": ["x"], "unit_id": ["a"], "name": ["Yeni kanal"]})
    assert set(inv.innovation_names(t, "x").values()) == {"Yeni kanal"}
    assert inv.innovation_names(t, "unknown") == dict.fromkeys(("en", "tr", "az"), "unknown")
    assert inv.innovation_names({"name": "Plain", "name_en": "English"}) == {
        "en": "English", "tr": "Plain", "az": "Plain"}


def test_the_synthetic_innovations_carry_tr_and_az_names() -> None:
    # reference: the generator's constants (cxlib.data.synth.constants.INNOVATIONS)
    _, inn, _ = simulate_innovation_panel(seed=3, n_units=20, n_periods=12)
    spec = {i["id"]: i for i in INNOVATIONS}
    assert set(inn["innovation_id"]) <= set(spec)
    for iid in inn["innovation_id"].unique():
        names = inv.innovation_names(inn, iid)
        assert names == {"en": spec[iid]["name"], "tr": spec[iid]["name_tr"],
                         "az": spec[iid]["name_az"]}
        assert names["tr"] != names["en"] and names["az"] != names["en"], names


class Recorder:
    """Stands in for cxlib.share.results.Results: keeps the headlines."""

    def __init__(self) -> None:
        self.headlines: dict[str, dict] = {}

    def headline(self, key, value, **kw):
        self.headlines[key] = {"value": value, **kw}

    def table(self, key, frame):
        pass


def test_record_results_keeps_the_names_with_the_effect() -> None:
    rng = np.random.default_rng(1)
    units, periods = 12, 8
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    first = np.where(u < 6, 4.0, np.nan)
    treated = (t >= np.nan_to_num(first, nan=99)).astype(int)
    panel = pd.DataFrame({"unit_id": u, "t": t, "first_treated": first, "treated": treated,
                          "rel": t - first, "margin": 100 + 5 * treated
                          + rng.normal(0, 1, len(u))})
    res = inv.estimate(panel, estimator="twfe")
    m = inv.money(res.att, res.se, **inv.exposure(panel), cost_per_period=0.0,
                  one_off_cost=0.0, horizon=24)
    pre = inv.pretrend(panel)
    v = inv.decide(m, pretrend_p=pre["p_value"])
    names = {"en": "Kiosks", "tr": "Kiosklar", "az": "Kiosklar (az)"}
    out = Recorder()
    inv.record_results(out, res, pretrend=pre, money_table=m, verdict=v, side=None,
                       name="Kiosks", outcome="margin", horizon=24, names=names)
    assert out.headlines["att"]["names"] == names
    assert out.headlines["att"]["label"] == "Effect of Kiosks on margin per unit-period"
    out = Recorder()  # without names: nothing invented
    inv.record_results(out, res, pretrend=pre, money_table=m, verdict=v, side=None,
                       name="Kiosks", outcome="margin", horizon=24)
    assert "names" not in out.headlines["att"]
