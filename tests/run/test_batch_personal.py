"""A report filtered to one customer shares no trace of the customer's id (issue 12).

Notebook 01 runs on the sample world for one ``customer_id``; every shared file
(the managers' view, the index, the Excel tables, the zip of the run) and every
file name must show the pseudonym, never the id. The analysts' view, the
executed notebook, its results file and the manifest stay unmasked by design.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib import cli, config
from cxlib.share.mask import mask_value

pytestmark = pytest.mark.slow


def test_one_customer_report_masks_the_id_everywhere_shared(
        tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    ids = pd.read_parquet(sample_dir / "responses.parquet", columns=["customer_id"])
    cid = str(ids["customer_id"].value_counts().index[0])  # the most answers: a full report
    p = tmp_path / "one.yml"
    p.write_text(yaml.safe_dump({
        "name": "one-customer", "workers": 1, "parameters": {"dataset": str(sample_dir)},
        "jobs": [{"notebook": str(config.NOTEBOOKS_DIR / "01_touchpoint_satisfaction.ipynb"),
                  "rows": [{"filter_column": "customer_id", "filter_value": cid}]}]}))
    assert cli.main(["run", str(p), "--no-progress"]) == 0
    printed = capsys.readouterr()
    assert cid not in printed.out + printed.err  # progress lines and the printed path
    run = next((tmp_path / "reports" / "one-customer").iterdir())
    names = [f.name for f in run.iterdir()]
    assert not [n for n in names if cid in n]
    assert any(mask_value(cid).strip("•") in n for n in names)
    shared = [f for f in run.iterdir() if f.name.endswith((".manager.html", "index.html"))]
    assert len(shared) == 2
    for f in shared:
        assert cid not in f.read_text(encoding="utf-8"), f.name
    for z in [f for f in run.iterdir() if f.suffix in (".xlsx", ".zip")]:
        with zipfile.ZipFile(z) as bundle:
            for member in bundle.namelist():
                assert cid not in member
                data = bundle.read(member)
                assert cid.encode() not in data, (z.name, member)
                if member.endswith(".xlsx"):
                    import io

                    with zipfile.ZipFile(io.BytesIO(data)) as inner:
                        for m in inner.namelist():
                            assert cid.encode() not in inner.read(m), (z.name, member, m)
