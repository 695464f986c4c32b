"""A real run of notebooks 00-05 for the brief, index, export and browser tests.

One session-scoped batch through the real runner (``cxlib.run.batch``) on the
sample world: every notebook once, the satisfaction notebook also for one
segment, with the batch's ``language: tr`` (which must reach the notebooks as
their ``language`` parameter). Notebooks 04 and 05 need a world with a care
line, payments and customer types: the sample when it has them, else a fresh
small world (``synth.generate(size="small", seed=1)``). Its briefs are then
rendered again in each language into folders of their own
(``rendered_run(lang)``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

NOTEBOOKS = ["00_touchpoint_map", "01_touchpoint_satisfaction", "02_touchpoint_drivers",
             "03_service_innovation_margin", "04_care_vs_nuisance",
             "05_customer_360_profitability"]
#: Notebooks that need a world newer than an old shipped sample (care line, payments).
NEW_WORLD = ("04_care_vs_nuisance", "05_customer_360_profitability")


def _world_for_04_05(sample: Path, tmp_path_factory) -> Path:
    """The sample if it has what notebooks 04 and 05 read, else a fresh small world."""
    import pyarrow.parquet as pq

    if ((sample / "care" / "truth.json").is_file() and (sample / "payments.parquet").is_file()
            and "customer_type" in pq.read_schema(sample / "customers.parquet").names):
        return sample
    from cxlib.data import synth

    out = tmp_path_factory.mktemp("world-04-05")
    synth.generate(out, size="small", seed=1)
    return out


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, sample_dir) -> Path:
    """The run folder of a batch of notebooks 00-05 on the sample (language tr)."""
    from cxlib.run import batch

    root = tmp_path_factory.mktemp("real-run")
    world = _world_for_04_05(Path(sample_dir), tmp_path_factory)
    spec = {"name": "briefs", "workers": 2, "timeout": 600, "language": "tr",
            "parameters": {"dataset": str(sample_dir)},
            "jobs": [{"notebook": f"notebooks/{nb}.ipynb"} | (
                {"parameters": {"dataset": str(world)}} if nb in NEW_WORLD else {})
                for nb in NOTEBOOKS]
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
