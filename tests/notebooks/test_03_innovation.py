"""Notebook 03: the order filter (filter_column / filter_value) and what it records.

The filter has the meaning it has in notebooks 01 and 02 (a column and the value
to keep), declared so that ``cx run --check`` verifies it against the orders before
any kernel starts; the run keeps only those orders and records the filter, the
pre-trend status and the decision.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlib import config
from cxlib.run import params

NB = config.NOTEBOOKS_DIR / "03_service_innovation_margin.ipynb"


def test_filter_parameters_are_declared_and_checked_against_the_orders(sample_dir):
    declared = params.notebook_parameters(NB)
    assert declared["filter_column"].rule == ("column_of", "orders")
    assert declared["filter_value"].rule == ("value_of", "orders", "{filter_column}")
    ds = str(sample_dir)
    assert params.check_job(NB, {"dataset": ds, "filter_column": "channel",
                                 "filter_value": "store"}) == []
    bad = params.check_job(NB, {"dataset": ds, "filter_column": "channel",
                                "filter_value": "nowhere"})
    assert len(bad) == 1 and "not a value of orders.channel" in bad[0]
    bad = params.check_job(NB, {"dataset": ds, "filter_column": "chanel"})
    assert "not a column of orders" in bad[0]


@pytest.mark.slow
def test_notebook_03_filters_orders_and_records_the_decision(tmp_path, sample_dir):
    import papermill as pm

    res_path = tmp_path / "03.results.json"
    pm.execute_notebook(
        str(NB), str(tmp_path / "03.ipynb"),
        parameters={"dataset": str(sample_dir), "filter_column": "channel",
                    "filter_value": "store", "estimator": "twfe",
                    "results_path": str(res_path)},
        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3",
    )
    data = json.loads(res_path.read_text())
    assert data["parameters"]["filter_column"] == "channel"
    assert data["parameters"]["filter_value"] == "store"
    heads = {h["key"]: h for h in data["headlines"]}
    assert heads["decision"]["value"] in ("scale", "keep watching", "roll back", "no decision")
    assert heads["decision"]["pretrend"] in ("passed", "failed", "not tested")
    assert heads["pretrend_p"]["tested"] is True
    # the tables and headlines say which interval they carry
    money = pd.DataFrame(data["tables"]["money"]).set_index("quantity")
    assert money.loc["incremental_margin", "level"] == pytest.approx(0.95)
    assert heads["att"]["level"] == pytest.approx(0.95)
