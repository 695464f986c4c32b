"""A missing column is a DataError in every analysis function (the rule in cxlib/errors.py).

Each call names a column the data lack; the error must be a DataError naming it,
never a KeyError, an EstimationError or a ParameterError.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import compare, coverage, drivers, innovation, satisfaction, weighting
from cxlib.data import synth
from cxlib.data.catalog import load_catalog
from cxlib.errors import DataError

CAT = load_catalog("retail")


def responses() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    tps = CAT.frame["touchpoint_id"].tolist()[:3]
    rows = [{"response_id": f"R{i}", "customer_id": f"C{i}",
             "date": pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(i)),
             "touchpoint_id": tp, "metric": "csat", "score": float(rng.integers(1, 6)),
             "scale_min": 1, "scale_max": 5, "segment": "a" if i % 2 else "b"}
            for i in range(60) for tp in tps]
    return pd.DataFrame(rows)


def rollout() -> pd.DataFrame:
    return synth.simulate_rollout(seed=1, innovation="self_service_kiosk", n_units=12)[0]


CASES = {
    "summarize by": (lambda r: satisfaction.summarize(r, by="region"), "region"),
    "summarize weight": (lambda r: satisfaction.summarize(r, weight="wt"), "wt"),
    "compare_segments": (lambda r: compare.compare_segments(r, segment_column="region"),
                         "region"),
    "compare_periods": (lambda r: compare.compare_periods(r.drop(columns="date"),
                                                          period="half"), "date"),
    "weakest_links": (lambda r: compare.weakest_links(r, CAT, respondent="rid"), "rid"),
    "coverage by": (lambda r: coverage.coverage(r, CAT, by="region"), "region"),
    "driver_matrix": (lambda r: drivers.driver_matrix(r.drop(columns="score")), "score"),
    "attach_margin": (lambda r: drivers.attach_margin(
        pd.DataFrame({"customer_id": ["C1"]}), pd.DataFrame({"customer_id": ["C1"]})),
        "margin"),
    "driver weight": (lambda r: drivers.driver_analysis(
        pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "outcome": [1.0, 3, 2, 5, 4, 6]}),
        drivers=["a"], weight="wt", n_boot=1), "wt"),
    "rake": (lambda r: weighting.rake(r, {"region": {"x": 1.0}}), "region"),
    "twfe outcome": (lambda r: innovation.twfe(rollout(), outcome="churn"), "churn"),
    "did_2x2": (lambda r: innovation.did_2x2(rollout(), outcome="margin", treated="nj",
                                             post="t"), "nj"),
    "build_panel": (lambda r: innovation.build_panel(
        pd.DataFrame({"date": pd.to_datetime(["2025-01-01"]), "margin": [1.0]}),
        pd.DataFrame({"innovation_id": ["x"], "unit_id": ["B1"],
                      "start_date": pd.to_datetime(["2025-01-01"])}),
        innovation_id="x"), "branch_id"),
}


@pytest.mark.filterwarnings("ignore:n_boot=1 < 200")
@pytest.mark.parametrize("case", sorted(CASES))
def test_missing_column_is_a_data_error_naming_it(case):
    call, column = CASES[case]
    with pytest.raises(DataError) as e:
        call(responses())
    assert column in str(e.value)
