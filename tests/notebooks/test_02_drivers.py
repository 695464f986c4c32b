"""Notebook 02 runs unchanged on the real airline survey (papermill).

Only ``dataset`` and ``results_path`` are passed: every other parameter keeps
its default, so the defaults must work on a catalog without the retail stages.
The whole survey (103,904 passengers, 14 touchpoints) with 200 resamples.
"""

from __future__ import annotations

import json

import pytest

from cxlib import config
from tests.conftest import shared_file_or_skip

pytestmark = pytest.mark.slow


def test_notebook_02_on_airline_with_default_parameters(tmp_path):
    import papermill as pm

    shared_file_or_skip("airline_satisfaction_train.csv")
    out = tmp_path / "02_airline.ipynb"
    res_path = tmp_path / "02_airline.results.json"
    pm.execute_notebook(
        str(config.NOTEBOOKS_DIR / "02_touchpoint_drivers.ipynb"), str(out),
        parameters={"dataset": "airline", "results_path": str(res_path)},
        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3",
    )
    data = json.loads(res_path.read_text())
    assert data["parameters"]["drivers"] == "sale,post_sale"  # the default, skipped with a note
    heads = {h["key"]: h for h in data["headlines"]}
    r2 = heads["r2"]
    assert r2["n"] == 103_904 and r2["n_drivers"] == 14 and r2["n_dropped"] == 0
    assert r2["ci_low"] < r2["value"] < r2["ci_high"] and r2["policy"] == "pairwise"
    assert heads["driver_1"]["touchpoint_id"] == "online_boarding"
    assert len(data["tables"]["importance"]) == 14
    assert "margin_per_point" not in heads  # no orders in the airline survey
    notes = [m for m in data["methods"] if m["step"] == "Key-driver importance"]
    assert notes and notes[-1]["n"] == 103_904 and notes[-1]["missing"] == "pairwise"
    text = out.read_text()
    assert "skipped" in text and "every top-level touchpoint" in text
