"""Every notebook in notebooks/ runs top to bottom without error, and is stored without outputs.

Each notebook ends with assertions on what it showed, so a silently broken analysis fails here.
New notebooks are picked up automatically. Run only these with ``pytest tests/test_notebooks.py``;
skip them with ``pytest -m "not notebook"``. With ``ALLOCOPT_EXECUTED_NOTEBOOKS=<folder>`` set, the
executed notebooks (with their outputs) are written there, to read or keep as CI artifacts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# per cell: the slowest (notebook 04's sweeps) take about 2 minutes on 2 cores under load
TIMEOUT_SECONDS = 600
# A run whose cell times out is run once more in a fresh kernel: on 2026-12-01 one run of
# 01_quickstart (12 s alone) waited with kernel and client both idle (the client for a message the
# kernel had not sent) until the timeout, the same hang ipykernel 7 showed more often (pinned <7)
ATTEMPTS = 2


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    required = {
        "01_quickstart.ipynb",
        "02_explore_constraints.ipynb",
        "03_heuristics.ipynb",
        "04_sensitivity_and_uncertainty.ipynb",
    }
    assert required <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {n} has stored outputs (clear them)"
            assert cell.execution_count is None, f"{path.name}: cell {n} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ends_with_checks(path: Path):
    """The last code cell asserts what the notebook showed, so a broken analysis fails CI."""
    nb = nbformat.read(path, as_version=4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last.source.count("assert ") >= 3, f"{path.name}: the last code cell has no checks"


def _kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel inherits this process's environment: headless figures, and this interpreter's
    environment first on the path (so the kernel imports the allocopt under test)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch):
    _kernel_env(monkeypatch)
    for attempt in range(1, ATTEMPTS + 1):
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            kernel_name="python3",
            timeout=TIMEOUT_SECONDS,
            resources={"metadata": {"path": str(path.parent)}},  # run in the notebooks folder
        )
        try:
            client.execute()
            break
        except nbclient.exceptions.CellTimeoutError:
            if attempt == ATTEMPTS:
                raise
        except nbclient.exceptions.CellExecutionError as exc:
            pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
        finally:
            if out := os.environ.get("ALLOCOPT_EXECUTED_NOTEBOOKS"):
                Path(out).mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, Path(out) / path.name)
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    # every code cell ran, the last one (its checks) included
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
