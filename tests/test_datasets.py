"""Named datasets: the sample world and the mapped real airline survey."""

from __future__ import annotations

import pytest

from cxlib import datasets
from cxlib.errors import DataError
from cxlib.schemas import SCHEMAS


def test_sample_world_tables_meet_contracts(sample_dir):
    w = datasets.load(sample_dir)
    for name in datasets.TABLES:
        df = w.table(name)
        assert df is not None and len(df) > 0, name
        assert set(SCHEMAS[name].columns) - {"weight", "comment", "margin", "name", "email",
                                             "phone"} <= set(df.columns)
    assert w.truth["catalog"] == "retail"
    assert set(w.responses["touchpoint_id"]) - {"journey"} <= set(w.catalog.ids)


def test_missing_dataset_says_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="cx synth"):
        datasets.load(tmp_path / "nothing")
