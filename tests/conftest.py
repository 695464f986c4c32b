"""Shared fixtures: where the real datasets and the synthetic sample live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cxlib import config


def shared_file_or_skip(name: str) -> Path:
    """A file of ``../shared/data/real``; skip (with the reason) where absent.

    In CI the folder is present, so these tests run there.
    """
    path = config.shared_file(name)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing in CI; the shared datasets must be beside the clone")
        pytest.skip(f"real dataset {path} not found (set CX_SHARED_DATA to its folder)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _processed_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory):
    """What the tests cache in-process (validated tables of their temporary worlds,
    mapped datasets, stores) goes to a folder of the session, not data/processed."""
    patch = pytest.MonkeyPatch()
    patch.setattr(config, "PROCESSED_DIR", tmp_path_factory.mktemp("processed"))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic world: the shipped sample if generated, else a fresh one."""
    if (config.SAMPLE_DIR / "truth.json").exists():
        return config.SAMPLE_DIR
    from cxlib.data import synth

    out = tmp_path_factory.mktemp("sample")
    synth.generate(out, size="small", seed=1)
    return out
