"""Every notebook parameter is visible to papermill (``--help-notebook``), with no warning.

papermill's parser drops a parameter whose comment holds ``=`` ("Unable to parse
line"), after which ``-p NAME`` is an unknown parameter (issue 16). The reference
is cxlib's own reading of the parameters cell (cxlib.run.params).
"""

from __future__ import annotations

import logging
from pathlib import Path

import papermill
import pytest

from cxlib import config
from cxlib.run.params import notebook_parameters

NOTEBOOKS = sorted(Path(config.NOTEBOOKS_DIR).glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_sees_every_parameter(nb, caplog):
    with caplog.at_level(logging.WARNING):
        seen = papermill.inspect_notebook(str(nb))
    assert "Unable to parse" not in caplog.text
    assert list(seen) == list(notebook_parameters(nb))


def test_notebook_00_defaults_to_the_datasets_own_catalog():
    # `-p dataset airline` alone must not pair the airline data with the retail catalog
    assert notebook_parameters(config.NOTEBOOKS_DIR / "00_touchpoint_map.ipynb")[
        "catalog"].default == ""
