"""A scratch copy of the project, for tests that break its files."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT


def copy_project(folder: Path) -> Path:
    """Copy ``models/`` and ``data/`` into ``folder``; return the copied baseline scenario."""
    for part in ("models", "data"):
        shutil.copytree(ROOT / part, folder / part)
    return folder / "models" / "magma_baseline.yaml"
