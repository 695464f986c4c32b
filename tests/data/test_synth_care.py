"""The care sub-generator (cxlib.data.synth.care): truth, contracts, consistency, planted
effects checked by brute force against the exact (or numerically integrated) truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib.data import datasets
from cxlib.data.synth import care
from cxlib.data.synth.care import simulate_care
from cxlib.errors import ParameterError


@pytest.fixture(scope="module")
def care_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("care")
    care.write_care_world(out, n_customers=1500, seed=4)
    return out


def _plain(v):
    return json.loads(json.dumps(v))


def test_every_planted_constant_is_in_the_truth(care_world: Path) -> None:
    truth = json.loads((care_world / "truth.json").read_text(encoding="utf-8"))
    names = {n for n in vars(care) if n.isupper() and not n.startswith("_")}
    assert {"NOT_PLANTED", "CARE_REGIONS", "TRUTH_DRAWS"} == care.NOT_PLANTED
    assert set(truth["constants"]) == names - care.NOT_PLANTED
    for n in names - care.NOT_PLANTED:
        assert truth["constants"][n] == _plain(getattr(care, n)), n
    assert truth["thresholds"]["by_segment"]["mass"]["threshold_satisfaction"] == \
        care.OPTIMUM["mass"]
    assert truth["mood"]["csat_per_pulse_point_same_quarter"] == pytest.approx(4 * care.MOOD)
    assert truth["continuity"]["csat_per_specialist_change"] == pytest.approx(
        4 * care.CONT_PER_CHANGE)


def test_the_care_world_meets_every_contract(care_world: Path) -> None:
    w = datasets.load(str(care_world))
    for t in ("customers", "contacts", "responses", "employees", "relationships", "pulse"):
        assert w.table(t) is not None and len(w.table(t)) > 0, t
    rel = w.relationships
    # one open relationship per customer, and it is the customer's current specialist
    cur = rel[rel["end_date"].isna()].set_index("customer_id")["specialist_id"]
    assert cur.index.is_unique and len(cur) == len(w.customers)
    assert (cur.loc[w.customers["customer_id"]].to_numpy()
            == w.customers["specialist_id"].to_numpy()).all()
    # relationships chain without gaps: each one ends where the next starts
    nxt = rel.groupby("customer_id")["start_date"].shift(-1)
    closed = rel["end_date"].notna()
    assert (rel.loc[closed, "end_date"] == nxt[closed]).all()
    assert set(w.contacts["direction"]) == {"proactive", "inbound"}
    assert not w.contacts.loc[w.contacts["direction"] == "proactive", "complaint"].any()


def test_same_seed_same_world_and_parameters_checked() -> None:
    a = simulate_care(300, seed=9, tables=("rates", "relationships"))[0]
    b = simulate_care(300, seed=9, tables=("rates", "relationships"))[0]
    pd.testing.assert_frame_equal(a["rates"], b["rates"])
    pd.testing.assert_frame_equal(a["relationships"], b["relationships"])
    with pytest.raises(ParameterError) as e:
        simulate_care(10, seed=1, n_months=7)
    assert len(e.value.problems) == 2


def test_planted_curves_by_brute_force() -> None:
    """Satisfaction peaks at OPTIMUM (mean overall by dose bin, a large world), inbound
    contacts rise as satisfaction falls, and almost nothing was clipped to [0, 1]."""
    tabs, truth = simulate_care(60_000, seed=3, tables=("rates",))
    r = tabs["rates"]
    assert truth["clipped_share"] < 0.005  # the linear-mean argument holds but for these
    r["x"] = r["proactive"] / r["months"]
    m = r[r["segment"] == "mass"].dropna(subset=["overall"])
    bins = m.groupby(pd.cut(m["x"], [0, 0.5, 1.0, 1.4, 2.0, 3.0]), observed=True)["overall"]
    means = bins.mean()
    assert means.idxmax().left == 1.0  # the bin holding OPTIMUM["mass"] = 1.2
    low = r["overall"] <= r["overall"].quantile(0.2)
    assert (r.loc[low, "inbound"].mean() > 1.3 * r.loc[~low & r["overall"].notna(),
                                                       "inbound"].mean())
    # retention truth: the segment curve peaks at the optimum, the money optimum below it
    for seg, t in truth["money"]["by_segment"].items():
        assert t["money_optimal_rate"] < care.OPTIMUM[seg]


def test_the_world_generator_writes_the_care_world(sample_dir: Path) -> None:
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))
    assert "care" in truth, "the world generator must write the care world (make sample)"
    assert truth["care"]["folder"] == "care"
    sub = json.loads((sample_dir / "care" / "truth.json").read_text(encoding="utf-8"))
    assert sub["thresholds"] == truth["care"]["thresholds"]
    assert np.isclose(sub["money"]["overall_money_optimal_rate"],
                      truth["care"]["money"]["overall_money_optimal_rate"])
