"""Policies: schedules written as rules, evaluated in the exact simulator and compared with the
optimum — how much risk reduction a rule of thumb leaves behind (the rules themselves are in
:mod:`allocopt.numeric.rules`, where the outer loop's starts find them too).

A rule is a feedback policy: period by period it reads Magma's delay so far (hence its budgets and
regime), picks a velocity hit and a split of safety work, and respects the staff frictions by
moving toward its target only as fast as re-assignment allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.rules import essay_split, follow_rule
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.optimize.session import Model
from allocopt.results.build import probabilities
from allocopt.results.names import unit
from allocopt.results.result import Result
from allocopt.results.views import KNOB_UNITS
from allocopt.scenario.schema import Scenario

# the unit of each numeric column of :func:`compare`'s table (written beside `allocopt compare
# --out` as its units file, as a result's: allocopt.results.views.units_table)
COMPARE_UNITS: dict[str, str] = {
    "risk_reduction": unit("risk_reduction_exact"),
    "probability_with_plan_and_postponed": unit("probability_with_plan_and_postponed"),
    "velocity_lost_years": "years",
    "mean_velocity_hit": KNOB_UNITS["velocity_hit"],
    "violations": "count",
    "share_of_optimum": "share of the optimum's risk reduction",
}


def capabilities_only(inp: Inputs) -> Schedule:
    """Everything to capabilities: no safety work, no velocity hit."""
    return Schedule(
        effort=np.zeros((len(inp.periods), len(inp.ids))), capabilities=inp.budget.copy()
    )


@dataclass(frozen=True)
class PolicyScore:
    """One line of a comparison."""

    policy: str
    risk_reduction: float
    probability_with_plan_and_postponed: float  # allocopt.results.names.HEADLINE
    velocity_lost_years: float
    mean_velocity_hit: float
    violations: int


def _row(name: str, inp: Inputs, ev: Evaluation) -> PolicyScore:
    return PolicyScore(
        name,
        ev.risk_reduction(inp),
        probabilities(inp, ev)["probability_with_plan_and_postponed"],
        ev.delay_end,
        float(ev.velocity_hit.mean()),
        len(ev.violations),
    )


def _solved(name: str, result: Result) -> PolicyScore:
    s = result.summary
    return PolicyScore(
        name,
        float(s["risk_reduction_exact"]),
        float(s["probability_with_plan_and_postponed"]),
        float(s["delay_at_horizon_years"]),
        float(result.knobs.velocity_hit.mean()),
        len(result.violations),
    )


def meanings(scenario: Scenario) -> dict[str, str]:
    """What schedule each row of :func:`compare` is, in one line each, with ``scenario``'s caps."""
    pre = scenario.velocity.hit_cap_pre_acceleration
    post = scenario.velocity.hit_cap_post_acceleration
    return {
        "optimum": "the solver's velocity hit, preparation share and portfolio, within the caps "
        f"({pre:.0%} before the switch, {post:.0%} after)",
        "essay_rule": f"a fixed rule: hit at each cap ({pre:.0%}, then {post:.0%}); safety work "
        "on P0-P2, preparation only, before the switch, then half preparation, half mitigation, evenly",
        "never_slow": f"the optimum with the cap after the switch held at {pre:.0%} (the one "
        "before): slows little, safety work still chosen by the solver",
        "capabilities_only": "everything to capabilities: no safety work, no velocity hit",
    }


def compare(scenario: Scenario, optimum: Result | None = None) -> pd.DataFrame:
    """Risk reduction (exact) and velocity lost of the optimum (``optimum``, a result of
    ``scenario``, or solved here) and of each policy. "Never slow" (the post-acceleration cap
    held at the pre-acceleration one) is solved on the same :class:`Model`, updated in place:
    with endogenous capability its outer loop restarts from the optimum's schedule."""
    inp = prepare(scenario)
    model = Model(scenario)
    best = optimum or model.solve()
    model.start = best.schedule
    cap = scenario.velocity.hit_cap_pre_acceleration
    model.update({"velocity.hit_cap_post_acceleration": cap})
    never_slow = model.solve()
    rows = [
        _solved("optimum", best),
        _row("essay_rule", inp, evaluate(inp, follow_rule(inp, essay_split))),
        _solved("never_slow", never_slow),
        _row("capabilities_only", inp, evaluate(inp, capabilities_only(inp))),
    ]
    table = pd.DataFrame([r.__dict__ for r in rows])
    table["share_of_optimum"] = table.risk_reduction / table.risk_reduction.iloc[0]
    return table
