"""Interactive results files are named per dataset and parameters (issue 16)."""

from __future__ import annotations

from cxlib import config
from cxlib.share.results import SUFFIX, Results


def test_default_results_file_differs_by_dataset_and_parameters(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    a = Results("01_x", parameters={"dataset": "airline", "metric": "csat"}).save("")
    b = Results("01_x", parameters={"dataset": "sample", "metric": "csat"}).save("")
    c = Results("01_x", parameters={"dataset": "sample", "metric": "nps"}).save(None)
    again = Results("01_x", parameters={"metric": "csat", "dataset": "airline"}).save("")
    assert len({a, b, c}) == 3 and again == a  # same run again replaces its own file
    assert a.parent == tmp_path / "interactive" and a.name.startswith("01_x.airline.")
    assert a.name.endswith(SUFFIX)
    w = Results("00_y", parameters={"dataset": "/some/where/world 1"}).default_name()
    assert w.startswith("00_y.world_1.")
