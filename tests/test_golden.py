"""The core program's tables, byte for byte: the bundled core scenario (``models/magma_core.yaml``)
must give exactly the tables stored in ``tests/golden/magma_core/``, which were written by
allocopt before the package was re-organized into pipeline stages (its LP optimum is unique to
HiGHS's tolerances and HiGHS runs single-threaded, so the bytes are reproducible). A change that
moves a number here changes behaviour: regenerate the files only on purpose, and say why."""

from __future__ import annotations

import pytest

from allocopt import load_scenario, solve
from tests.conftest import CORE, ROOT

GOLDEN = ROOT / "tests" / "golden" / "magma_core"
TABLES = ("allocation", "knobs", "stocks", "portfolio", "shares", "risk", "duals", "iterations")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("core")
    solve(load_scenario(CORE)).to_csv(folder)
    return folder


@pytest.mark.parametrize("table", TABLES)
def test_core_tables_are_unchanged_byte_for_byte(written, table: str) -> None:
    assert (written / f"{table}.csv").read_bytes() == (GOLDEN / f"{table}.csv").read_bytes()
