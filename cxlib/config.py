"""Every path the project uses, anchored at the repository root.

Notebooks, the CLI and the tests take their paths from here; no path is typed
in a cell.  Environment variables override the defaults so that a scheduled
run can point the same notebooks at other data without editing them:

``CX_DATA_DIR``        data root (default ``<root>/data``): raw exports, the sample
                       world, processed caches
``CX_REPORTS_DIR``     reports root (default ``<root>/reports``)
``CX_SHARED_DATA``     real public datasets (default ``<root>/../shared/data/real``)
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BATCHES_DIR", "CATALOG_DIR", "DATA_DIR", "MAPPINGS_DIR", "MIN_BASE", "NOTEBOOKS_DIR",
           "PROCESSED_DIR", "RAW_DIR", "REPORTS_DIR", "ROOT", "SAMPLE_DIR", "SHARED_DATA_DIR",
           "catalog_path", "mapping_path", "shared_file"]

#: Repository root: the folder that holds ``cxlib/``.
ROOT: Path = Path(__file__).resolve().parent.parent

DATA_DIR: Path = Path(os.environ.get("CX_DATA_DIR", ROOT / "data"))
#: Immutable raw exports (survey tools, CRM, finance). Never written by cxlib.
RAW_DIR: Path = DATA_DIR / "raw"
#: The synthetic sample world that ``make report`` and the notebook tests use.
SAMPLE_DIR: Path = DATA_DIR / "sample"
#: Parquet caches of validated, normalised data (safe to delete).
PROCESSED_DIR: Path = DATA_DIR / "processed"
#: Touchpoint catalogs (YAML). Committed with the code, so anchored at the
#: repository (``<root>/data/touchpoints``), not under the ``CX_DATA_DIR`` override:
#: pointing the notebooks at other data must not lose the catalogs.
CATALOG_DIR: Path = ROOT / "data" / "touchpoints"
#: Mappings from wide survey exports to long responses (YAML); committed, like
#: the catalogs, at ``<root>/data/mappings``.
MAPPINGS_DIR: Path = ROOT / "data" / "mappings"

NOTEBOOKS_DIR: Path = ROOT / "notebooks"
REPORTS_DIR: Path = Path(os.environ.get("CX_REPORTS_DIR", ROOT / "reports"))
BATCHES_DIR: Path = ROOT / "batches"

#: Real public datasets shared with the project (read-only, not in the repo).
SHARED_DATA_DIR: Path = Path(
    os.environ.get("CX_SHARED_DATA", ROOT.parent / "shared" / "data" / "real")
)

#: Default minimum base: estimates on fewer respondents are flagged.
MIN_BASE: int = 30


def shared_file(name: str) -> Path:
    """Path of a file among the shared real datasets (it may not exist)."""
    return SHARED_DATA_DIR / name


def catalog_path(name: str) -> Path:
    """Path of a touchpoint catalog by short name (``"retail"``, ``"airline"``)."""
    return CATALOG_DIR / f"{name}.yml"


def mapping_path(name: str) -> Path:
    """Path of a wide-to-long mapping by short name (``"airline"``)."""
    return MAPPINGS_DIR / f"{name}.yml"
