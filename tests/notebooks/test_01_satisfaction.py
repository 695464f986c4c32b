"""Notebook 01 runs unchanged on the real airline survey (papermill) and on CES.

On airline only ``dataset`` and ``results_path`` are passed: the default segment
column ("segment") is absent there, so the notebook falls back to travel_class,
and the after-flight stage has a single touchpoint (baggage handling): "n/a".
The weakest links are checked against plain pandas on the raw CSV.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlib import config
from tests.conftest import shared_file_or_skip

pytestmark = pytest.mark.slow


def _run(tmp_path, name, **parameters):
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    res_path = tmp_path / f"{name}.results.json"
    pm.execute_notebook(
        str(config.NOTEBOOKS_DIR / "01_touchpoint_satisfaction.ipynb"), str(out),
        parameters={**parameters, "results_path": str(res_path)},
        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3",
    )
    return json.loads(res_path.read_text()), out.read_text()


def test_notebook_01_on_airline_with_default_parameters(tmp_path):
    csv = shared_file_or_skip("airline_satisfaction_train.csv")
    data, text = _run(tmp_path, "01_airline", dataset="airline")
    assert "using 'travel_class' instead" in text
    assert data["parameters"]["compare_by"] == "travel_class"
    heads = {h["key"]: h for h in data["headlines"]}
    # independent reference: the lowest mean rating per stage from the raw CSV (0 = n/a)
    raw = pd.read_csv(csv, index_col=0)
    cols = {"pre_flight": ["Departure/Arrival time convenient", "Ease of Online booking",
                           "Checkin service", "Online boarding", "Gate location"],
            "in_flight": ["Seat comfort", "Leg room service", "Cleanliness", "Food and drink",
                          "Inflight wifi service", "Inflight entertainment",
                          "On-board service", "Inflight service"]}
    ids = {"Ease of Online booking": "online_booking", "Inflight wifi service": "inflight_wifi"}
    for stage, names in cols.items():
        means = {c: raw[c][raw[c] > 0].mean() for c in names}
        worst = min(means, key=means.get)
        h = heads[f"weakest_{stage}"]
        assert h["value"] == ids[worst] and h["status"] == "significant"
        assert h["estimate"] == pytest.approx(means[worst], abs=1e-9)
        assert h["ci_low"] < h["estimate"] < h["ci_high"]
        assert h["n"] == int((raw[worst] > 0).sum())
    post = heads["weakest_post_flight"]
    assert post["value"] == "n/a" and post["status"] == "n/a"
    assert post["candidate"] == "baggage_handling" and post["ci_low"] < post["ci_high"]
    assert "nps" not in heads  # the airline survey has no recommend question
    assert heads["significant_moves"]["value"] == len(data["moves"]) > 0
    assert {m["segment_column"] for m in data["moves"]} == {"travel_class"}
    assert all(m["direction"] in ("up", "down") and m["q_value"] < 0.05 for m in data["moves"])
    methods = {m["step"]: m for m in data["methods"]}
    wl = methods["Weakest link per stage"]
    assert "paired" in wl["method"] and wl["stages_tested"] == 2
    assert methods["top-2-box share (best two points) (touchpoint level)"]["method"] == "Wilson"
    assert methods["mean score (journey level)"]["n_min"] == 103_904
    assert methods["Segment vs rest: mean (csat)"]["method"] == "Welch t"
    bh = [m for m in data["methods"] if m["step"] == "Multiple comparisons"]
    assert bh and all(m["cells"] > 0 for m in bh)


def test_notebook_01_on_ces_and_overall_sample(tmp_path, sample_dir):
    # CES is asked at one touchpoint per stage: every stage is "n/a", nothing crashes
    data, _ = _run(tmp_path, "01_ces", dataset=str(sample_dir), metric="ces")
    heads = {h["key"]: h for h in data["headlines"]}
    assert {heads[f"weakest_{s}"]["value"] for s in ("pre_sale", "sale", "post_sale")} == {
        "n/a"}
    assert -100 <= heads["nps"]["ci_low"] < heads["nps"]["value"] < heads["nps"]["ci_high"]
    assert all(m["metric"] == "ces" for m in data["moves"])
    # overall is a whole-journey question: no stage has it, an empty chain
    data, _ = _run(tmp_path, "01_overall", dataset=str(sample_dir), metric="overall")
    assert not [h for h in data["headlines"] if h["key"].startswith("weakest_")]
    assert data["tables"]["weakest_links"] == []
