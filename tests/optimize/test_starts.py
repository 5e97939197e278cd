"""Multi-start: the outer loop's starting schedules and the best of the loops run from them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from allocopt import Scenario, solve
from allocopt.model import evaluate
from allocopt.numeric.inputs import prepare
from allocopt.numeric.rules import essay_split, follow_rule
from allocopt.optimize.starts import STARTS_COLUMNS, starting_schedules
from allocopt.results.status import Status


@pytest.fixture(scope="module")
def short(baseline: Scenario) -> Scenario:
    """The endogenous baseline over six quarters (the switch falls inside): a loop in seconds."""
    return baseline.with_updates({"horizon.end": "2026Q2"})


def test_the_starts_in_order(short: Scenario) -> None:
    inp = prepare(short)
    starts = starting_schedules(inp, 5)
    assert [name for name, _ in starts] == [
        "full_speed",
        "essay_rule",
        "never_slow",
        "random_1",
        "random_2",
    ]
    schedules = dict(starts)
    np.testing.assert_array_equal(schedules["full_speed"].capabilities, inp.budget)
    assert not schedules["full_speed"].effort.any()
    rule = follow_rule(inp, essay_split)
    np.testing.assert_array_equal(schedules["essay_rule"].effort, rule.effort)
    # never slowing more than the pre-acceleration cap, also after the switch, where the rule
    # slows more
    never = evaluate(inp, schedules["never_slow"])
    assert never.velocity_hit.max() <= inp.hit_cap_by_regime[0] + 1e-9
    assert evaluate(inp, rule).velocity_hit.max() > inp.hit_cap_by_regime[0] + 0.01
    for name in ("random_1", "random_2"):
        assert evaluate(inp, schedules[name]).violations == ()
    assert not np.allclose(schedules["random_1"].effort, schedules["random_2"].effort)
    again = dict(starting_schedules(inp, 5))  # seeded: the same random starts every time
    np.testing.assert_array_equal(again["random_2"].effort, schedules["random_2"].effort)
    assert [name for name, _ in starting_schedules(inp, 1)] == ["full_speed"]
    with pytest.raises(ValueError, match="at least 1"):
        starting_schedules(inp, 0)


def test_the_best_of_several_starts_is_kept_and_the_spread_reported(
    short: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[tuple[str, int]] = []
    with caplog.at_level(logging.INFO, logger="allocopt"):
        result = solve(short, starts=4, on_iteration=lambda s, it: told.append((s, it.iteration)))
    table = result.starts
    assert table.columns.tolist() == STARTS_COLUMNS
    assert table.start.tolist() == ["full_speed", "essay_rule", "never_slow", "random_1"]
    assert (table.status == Status.LOCALLY_OPTIMAL).all()
    # every iteration of every start was told, in order, and each start logged its end
    expected = [
        (s, n) for s, k in zip(table.start, table.iterations, strict=True) for n in range(k)
    ]
    assert told == expected
    ends = [r.getMessage() for r in caplog.records if r.getMessage().startswith("start ")]
    assert [e.split(":")[0] for e in ends] == [f"start {s}" for s in table.start]
    # the table holds each start's converged schedule's value; the result holds the best start's
    # schedule after the tie-break, whose exact value the summary gives: the converged one's when
    # the schedule is left as it is, else at most smooth_tolerance (relative) below it, or above
    chosen = table[table.chosen]
    assert len(chosen) == 1
    best = chosen.iloc[0]
    assert best.risk_reduction_exact == table.risk_reduction_exact.max()
    s = result.summary
    reported, converged = s["risk_reduction_exact"], best.risk_reduction_exact
    assert reported >= converged * (1 - short.solver.smooth_tolerance) - 1e-12
    if s["tie_break"].startswith("unsmoothed"):
        assert reported == pytest.approx(converged, rel=1e-12, abs=1e-12)
    assert len(result.iterations) == best.iterations
    assert (s["starts"], s["best_start"]) == (4, best.start)
    values = table.risk_reduction_exact
    spread = (values.max() - values.min()) / best.risk_reduction_exact
    assert s["starts_spread"] == pytest.approx(spread, rel=1e-6, abs=1e-12)
    first = values.iloc[0]
    assert s["best_start_gain"] == pytest.approx((best.risk_reduction_exact - first) / first)
    assert f"4 starts of the outer loop: best {best.start}" in result.text_summary()
    assert "starts" in result.tables()
    pd.testing.assert_frame_equal(result.tables()["starts"], table)
