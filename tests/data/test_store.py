"""The partitioned store: a slice reads only its partition; a stale store is never served."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxlib import config
from cxlib.data import store
from cxlib.errors import DataError


@pytest.fixture()
def world(tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the sample world, with the store under tmp_path."""
    w = tmp_path / "world"
    shutil.copytree(sample_dir, w)
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    return w


def test_slice_equals_the_filtered_responses(world: Path) -> None:
    full = pd.read_parquet(world / "responses.parquet")
    for seg in sorted(full["segment"].unique()):
        got = store.responses(world, value=seg).df()
        want = full[full["segment"] == seg]
        assert len(got) == len(want)
        assert set(got["response_id"]) == set(want["response_id"])
        assert got["score"].sum() == pytest.approx(want["score"].sum())
    assert len(store.responses(world).df()) == len(full)


def test_a_slice_reads_only_its_partition(world: Path) -> None:
    folder = store.ensure_store(world)
    parts = sorted((folder / "responses").iterdir())
    assert [p.name for p in parts] == sorted(
        f"segment={s}" for s in pd.read_parquet(world / "responses.parquet")["segment"].unique())
    # wreck every other partition: reading one slice must not touch them
    keep = parts[0]
    for p in parts[1:]:
        for f in p.glob("*.parquet"):
            f.write_bytes(b"not parquet at all")
    seg = keep.name.split("=", 1)[1]
    n = store.responses(world, value=seg).aggregate("count(*)").fetchall()[0][0]
    assert n > 0
    import duckdb

    with pytest.raises(duckdb.Error):  # the full scan does hit the wrecked files
        store.responses(world).aggregate("count(*)").fetchall()


def test_a_changed_source_rebuilds_and_a_touched_one_does_not(world: Path) -> None:
    folder = store.ensure_store(world)
    first = sorted((folder / "responses").rglob("*.parquet"))[0]
    inode = first.stat().st_ino
    src = world / "responses.parquet"
    os.utime(src, ns=(1, 1))  # touched, same bytes: re-hashed, not rebuilt
    assert store.ensure_store(world) == folder
    assert first.stat().st_ino == inode
    full = pd.read_parquet(src)
    full.loc[full["segment"] == "mass", "segment"] = "vip"  # new content
    full.to_parquet(src)
    assert store.responses(world).aggregate("count(*)").fetchall()[0][0] == len(full)
    names = {p.name for p in (store.ensure_store(world) / "responses").iterdir()}
    assert "segment=vip" in names and "segment=mass" not in names  # never stale


def test_unknown_partition_column_is_a_clear_error(world: Path) -> None:
    with pytest.raises(DataError, match="cannot partition the responses by 'tier'"):
        store.ensure_store(world, by="tier")


def test_the_store_validates_its_source_once(world: Path) -> None:
    full = pd.read_parquet(world / "responses.parquet")
    full.loc[full.index[:3], "score"] = 99.0  # off every scale
    full.to_parquet(world / "responses.parquet")
    with pytest.raises(DataError) as info:
        store.ensure_store(world)
    assert info.value.column == "score" and len(info.value.rows) == 3
    assert not store.store_path(world).exists()  # nothing half-built is left behind


def test_world_relation_slices_through_the_store(world: Path) -> None:
    from cxlib.data import datasets

    w = datasets.load(world)
    full = pd.read_parquet(world / "responses.parquet")
    rel = w.responses_relation(segment="mass", region=full["region"].iloc[0])
    want = full[(full["segment"] == "mass") & (full["region"] == full["region"].iloc[0])]
    assert rel.aggregate("count(*)").fetchall()[0][0] == len(want)
    assert w.responses_relation().aggregate("count(*)").fetchall()[0][0] == len(full)
    assert w.responses_relation(segment="").aggregate("count(*)").fetchall()[0][0] == len(full)
