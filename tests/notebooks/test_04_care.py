"""Notebook 04 (care or nuisance) on the synthetic care world: headlines recover the truth.

Runs the notebook with papermill on a freshly generated small world (its ``care``
sub-world), so the check does not depend on the state of ``data/sample``.
"""

from __future__ import annotations

import json

import pytest

from cxlib import config
from cxlib.data.synth import care

pytestmark = pytest.mark.slow


def test_notebook_04_headlines_cover_the_planted_truth(tmp_path):
    import papermill as pm

    world = tmp_path / "w"
    truth = care.write_care_world(world / "care", n_customers=6000, seed=3)
    (world / "truth.json").write_text(json.dumps({"catalog": "retail"}), encoding="utf-8")
    out = tmp_path / "04.ipynb"
    res_path = tmp_path / "04.results.json"
    pm.execute_notebook(
        str(config.NOTEBOOKS_DIR / "04_care_vs_nuisance.ipynb"), str(out),
        parameters={"dataset": str(world), "results_path": str(res_path), "n_boot": 200},
        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    data = json.loads(res_path.read_text())
    heads = {h["key"]: h for h in data["headlines"]}
    for seg in ("mass", "affluent", "business"):
        h = heads[f"threshold_{seg}"]
        t = truth["thresholds"]["by_segment"][seg]["threshold_retention"]
        assert h["ci_low"] - 0.15 <= t <= h["ci_high"] + 0.15, (seg, h, t)
        assert f"money_optimal_{seg}" in heads and f"worth_per_year_{seg}" in heads
    within = heads["mood_pulse"]
    assert within["ci_low"] < truth["mood"]["csat_per_pulse_point_same_quarter"] < \
        within["ci_high"]
    cont = heads["continuity_specialist_changes"]
    assert cont["ci_low"] < truth["continuity"]["csat_per_specialist_change"] < cont["ci_high"]
    assert {"thresholds", "caps", "money_optimum", "continuity", "mood"} <= set(data["tables"])
    text = out.read_text()
    assert "symptom, not a dose" in text
