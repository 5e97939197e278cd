"""The core program's tables, unchanged: the bundled core scenario (``models/magma_core.yaml``)
must give the tables stored in ``tests/golden/magma_core/``, which were written by allocopt
before the package was re-organized into pipeline stages (its LP optimum is unique to HiGHS's
tolerances and HiGHS runs single-threaded). On one machine the bytes are reproducible; across
CPUs HiGHS's floating point differs in the last digits (measured 2026-12-01: allocations,
stocks and shares within 8e-10 relative, the last printed digit; duals near zero within 1.7e-7),
so the columns, labels and row order must be identical and the numbers equal to 1e-6 (relative
and absolute, in each table's units), far below any change of behaviour. A change that moves a
number beyond that changes behaviour: regenerate the files only on purpose, and say why."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
def test_core_tables_are_unchanged(written, table: str) -> None:
    got = pd.read_csv(written / f"{table}.csv")
    want = pd.read_csv(GOLDEN / f"{table}.csv")
    assert list(got.columns) == list(want.columns)
    assert got.shape == want.shape
    numeric = [c for c in want.columns if pd.api.types.is_numeric_dtype(want[c])]
    labels = [c for c in want.columns if c not in numeric]
    pd.testing.assert_frame_equal(got[labels], want[labels])
    for column in numeric:
        np.testing.assert_allclose(
            got[column].to_numpy(float),
            want[column].to_numpy(float),
            rtol=1e-6,
            atol=1e-6,
            err_msg=f"{table}.csv: {column}",
        )
