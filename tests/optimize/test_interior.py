"""PIQP's interior point on LPs given as arrays (allocopt.optimize.interior): an optimum worked
out by hand, whatever the column scale; equalities, one- and two-sided rows, a fixed column and
absent bounds; an attempt stopped short followed by the next; and an infeasible LP reported as
not solved (the caller hands it to HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest

from allocopt.optimize import interior
from allocopt.optimize.highs.arrays import INF, ArrayLp, LpArrays
from allocopt.optimize.interior import InteriorLp


def arrays(rows: list[tuple[float, float, list[float]]], cost, lower, upper) -> LpArrays:
    """A maximization LP with dense ``rows`` (lower, upper, coefficients)."""
    dense = np.array([r[2] for r in rows], dtype=float)
    n = dense.shape[1]
    start, index, value = [0], [], []
    for j in range(n):
        nz = np.flatnonzero(dense[:, j])
        index += nz.tolist()
        value += dense[nz, j].tolist()
        start.append(len(index))
    return LpArrays(
        num_col=n,
        num_row=len(rows),
        col_cost=np.array(cost, dtype=float),
        col_lower=np.array(lower, dtype=float),
        col_upper=np.array(upper, dtype=float),
        row_lower=np.array([r[0] for r in rows], dtype=float),
        row_upper=np.array([r[1] for r in rows], dtype=float),
        a_start=np.array(start),
        a_index=np.array(index),
        a_value=np.array(value),
        offset=0.0,
    )


# maximize 3x + 2y + z + w  s.t.  x + y <= 4,  x - y = 1,  1 <= x + w <= 5,  0 <= x <= 3,
# y >= 0, z fixed at 2, w <= 1 (no lower bound): x - y = 1 and x + y <= 4 give x = 2.5, y = 1.5
# (x <= 3 holds); w = min(1, 5 - x) = 1; objective 7.5 + 3 + 2 + 1 = 13.5
HAND = arrays(
    [(-INF, 4.0, [1, 1, 0, 0]), (1.0, 1.0, [1, -1, 0, 0]), (1.0, 5.0, [1, 0, 0, 1])],
    cost=[3, 2, 1, 1],
    lower=[0, 0, 2, -INF],
    upper=[3, INF, 2, 1],
)


@pytest.mark.parametrize("scale", [[1, 1, 1, 1], [10, 0.5, 3, 1e3]])
def test_the_optimum_worked_out_by_hand_whatever_the_scale(scale):
    run = InteriorLp().solve(HAND, np.array(scale, dtype=float))
    assert run.solved
    assert run.status == "PIQP_SOLVED"
    np.testing.assert_allclose(run.x, [2.5, 1.5, 2.0, 1.0], atol=1e-5)
    assert HAND.col_cost @ run.x == pytest.approx(13.5, abs=1e-5)
    assert run.iterations > 0
    assert run.attempts == 1
    highs = ArrayLp({})  # the same LP as HiGHS solves it
    highs.pass_lp(HAND)
    assert highs.run().is_optimal
    np.testing.assert_allclose(highs.solution(), run.x, atol=1e-5)


def test_an_infeasible_lp_is_not_reported_solved():
    # x + y <= 1 and x + y >= 2 cannot both hold
    lp = arrays([(-INF, 1.0, [1, 1]), (2.0, INF, [1, 1])], [1, 1], [0, 0], [INF, INF])
    run = InteriorLp().solve(lp, np.ones(2))
    assert not run.solved
    assert run.status.startswith("PIQP_")
    assert run.status != "PIQP_SOLVED"


def test_an_attempt_that_stops_short_is_followed_by_the_next(monkeypatch):
    monkeypatch.setattr(interior, "ATTEMPTS", ({"max_iter": 1}, {"max_iter": 100}))
    run = InteriorLp().solve(HAND, np.ones(4))
    assert run.solved
    assert run.attempts == 2
    assert run.iterations > 2  # both attempts counted
    np.testing.assert_allclose(run.x, [2.5, 1.5, 2.0, 1.0], atol=1e-5)
    monkeypatch.setattr(interior, "ATTEMPTS", ({"max_iter": 1},))
    run = InteriorLp().solve(HAND, np.ones(4))
    assert not run.solved
    assert run.status == "PIQP_MAX_ITER_REACHED"
    assert run.attempts == 1
