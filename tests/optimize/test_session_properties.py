"""Properties of warm re-solves: more budget or a looser cap never hurts, and undoing a change
restores the optimum."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt import Model, load_scenario

CORE = Path(__file__).resolve().parents[2] / "models" / "magma_core.yaml"
TOL = 1e-7  # relative: HiGHS's optimality tolerance


@cache
def model() -> Model:
    """One persistent model shared by the examples: each example leaves it at the baseline."""
    m = Model(load_scenario(CORE))
    m.solve()
    return m


def _objective(changes: dict) -> float:
    m = model()
    assert m.update(changes) == "in_place"
    return m.solve().objective_model


def _reset() -> float:
    m = model()
    base = load_scenario(CORE)
    m.set_scenario(base)
    return m.solve().objective_model


@settings(max_examples=8, deadline=None)
@given(st.floats(0.6, 1.4), st.floats(0.01, 0.3))
def test_more_compute_never_lowers_the_optimum(multiplier, extra):
    low = _objective({"budget_multiplier.compute": multiplier})
    high = _objective({"budget_multiplier.compute": multiplier + extra})
    _reset()
    assert high >= low * (1 - TOL)


@settings(max_examples=8, deadline=None)
@given(st.floats(0.05, 0.4), st.floats(0.01, 0.2))
def test_looser_velocity_cap_never_lowers_the_optimum(cap, extra):
    tight = _objective({"velocity.hit_cap_post_acceleration": cap})
    loose = _objective({"velocity.hit_cap_post_acceleration": min(1.0, cap + extra)})
    _reset()
    assert loose >= tight * (1 - TOL)


@settings(max_examples=8, deadline=None)
@given(st.floats(0.2, 5.0))
def test_undoing_a_change_restores_the_optimum(multiplier):
    before = _reset()
    _objective({"risk.hazard_multiplier_post_acceleration": multiplier})
    assert _reset() == pytest.approx(before, rel=TOL)
