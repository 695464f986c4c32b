"""A real run of notebooks 00-03 for the brief, index, export and browser tests.

One session-scoped batch through the real runner (``cxlib.run.batch``) on the
sample world: every notebook once, the satisfaction notebook also for one
segment, with the batch's ``language: tr`` (which must reach the notebooks as
their ``language`` parameter). Its briefs are then rendered again in each
language into folders of their own (``rendered_run(lang)``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

NOTEBOOKS = ["00_touchpoint_map", "01_touchpoint_satisfaction", "02_touchpoint_drivers",
             "03_service_innovation_margin"]


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, sample_dir) -> Path:
    """The run folder of a batch of notebooks 00-03 on the sample (language tr)."""
    from cxlib.run import batch

    root = tmp_path_factory.mktemp("real-run")
    spec = {"name": "briefs", "workers": 2, "timeout": 600, "language": "tr",
            "parameters": {"dataset": str(sample_dir)},
            "jobs": [{"notebook": f"notebooks/{nb}.ipynb"} for nb in NOTEBOOKS]
            + [{"notebook": "notebooks/01_touchpoint_satisfaction.ipynb",
                "rows": [{"filter_value": "mass"}]}]}
    path = root / "briefs.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    run_dir, manifest = batch.run_batch(path, out_root=root / "reports", progress=False)
    bad = [j for j in manifest["jobs"] if j["status"] != "ok"]
    assert not bad, bad
    return run_dir


_RENDERED: dict[str, Path] = {}


@pytest.fixture(scope="session")
def rendered_run(real_run, tmp_path_factory):
    """``rendered_run(lang)``: a copy of the real run with briefs and index in ``lang``."""
    from cxlib.share import render

    def make(lang: str) -> Path:
        if lang not in _RENDERED:
            d = tmp_path_factory.mktemp(f"run-{lang}") / real_run.name
            shutil.copytree(real_run, d, ignore=shutil.ignore_patterns(
                "*.html", "*.pdf", "*.xlsx", "*.zip"))
            for nb in sorted(d.glob("*.ipynb")):
                render.render_notebook(nb, language=lang)
            render.build_index(d, language=lang, exports=False)
            _RENDERED[lang] = d
        return _RENDERED[lang]

    return make
