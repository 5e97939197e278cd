"""Shared fixtures: the repository's baseline scenario and a scratch copy of the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from allocopt import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "models" / "magma_baseline.yaml"


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The bundled baseline scenario (20 quarters)."""
    return load_scenario(BASELINE)


def copy_project(folder: Path) -> Path:
    """Copy ``models/`` and ``data/`` into ``folder``; return the copied baseline scenario."""
    for part in ("models", "data"):
        shutil.copytree(REPO / part, folder / part)
    return folder / "models" / "magma_baseline.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project; returns its baseline scenario path."""
    return copy_project(tmp_path)
