"""The synthetic innovations are named in en/tr/az without touching any draw (issue 15).

Reference: the same world generated with the tr/az names taken out of the
generator's constants. Every other file must be byte-identical, innovations.parquet
identical in its other columns and truth.json identical but for the names: the
names are plain constants, outside the random stream.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from cxlib.data import synth
from cxlib.data.synth import constants as const

NAMES = ("name_tr", "name_az")


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_names(obj):
    if isinstance(obj, dict):
        return {k: _without_names(v) for k, v in obj.items() if k not in NAMES}
    if isinstance(obj, list):
        return [_without_names(v) for v in obj]
    return obj


def test_names_change_nothing_else(tmp_path: Path, monkeypatch) -> None:
    named = synth.generate(tmp_path / "named", size=3000, seed=3)
    original = const.INNOVATIONS
    plain = tuple({k: v for k, v in i.items() if k not in NAMES} for i in original)
    users = [m for n, m in list(sys.modules.items()) if n.startswith("cxlib.data.synth")
             and getattr(m, "INNOVATIONS", None) is original]
    assert {m.__name__.rsplit(".", 1)[-1] for m in users} >= {"constants", "world", "truth"}
    for mod in users:
        monkeypatch.setattr(mod, "INNOVATIONS", plain)
    unnamed = synth.generate(tmp_path / "unnamed", size=3000, seed=3)
    ha, hb = _hashes(named), _hashes(unnamed)
    assert set(ha) == set(hb)
    changed = {f for f in ha if ha[f] != hb[f]}
    assert changed == {"innovations.parquet", "truth.json"}, changed
    a, b = (pd.read_parquet(x / "innovations.parquet") for x in (named, unnamed))
    assert list(a.columns)[-2:] == list(NAMES)  # the names come last
    pd.testing.assert_frame_equal(a.drop(columns=list(NAMES)), b.drop(columns=list(NAMES)))
    assert (b["name_tr"] == b["name"]).all()  # no translation: the plain name
    ta, tb = (json.loads((x / "truth.json").read_text(encoding="utf-8"))
              for x in (named, unnamed))
    assert _without_names(ta) == _without_names(tb)  # everything but the names


def test_every_innovation_is_named_in_each_language(tmp_path: Path) -> None:
    world = synth.generate(tmp_path / "w", size=3000, seed=3)
    inn = pd.read_parquet(world / "innovations.parquet").drop_duplicates("innovation_id")
    truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))["innovations"]
    for row in inn.itertuples():
        assert row.name_tr and row.name_az and len({row.name, row.name_tr, row.name_az}) == 3
        assert (truth[row.innovation_id]["name_tr"], truth[row.innovation_id]["name_az"]) == (
            row.name_tr, row.name_az)
