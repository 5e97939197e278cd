"""Starting schedules of the outer loop, and the table that compares the loops run from them.

The endogenous program is nonconvex, so the loop finds a local optimum that may depend on where
it starts. ``allocopt.solve(scenario, starts=N)`` runs it from the first ``N`` of, in order:

1. ``full_speed``: every resource to capabilities, no safety work (the reference point,
   :func:`allocopt.model.linearization.full_speed`); the one start of a plain solve;
2. ``essay_rule``: the essay's split of safety work at each regime's velocity-hit cap
   (:func:`allocopt.numeric.rules.follow_rule` with :func:`~allocopt.numeric.rules.essay_split`);
3. ``never_slow``: the same split, never slowing more than the pre-acceleration cap, also after
   the switch (as the policy comparison's ``never_slow``);
4. ``random_1``, ``random_2``, ...: a split drawn uniformly on the simplex before and after the
   switch (:func:`~allocopt.numeric.rules.random_split`) at a velocity hit drawn uniformly between
   0 and each regime's cap, run forward by the same rule (so within the frictions); the draws come
   from ``numpy.random.default_rng(START_SEED)``, so the starts are the same on every run. A draw
   the exact simulator finds violating a constraint is drawn again (at most ``DRAWS`` times).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allocopt.model import evaluate
from allocopt.model.linearization import full_speed
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.rules import essay_split, follow_rule, random_split
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.outer import Outcome
from allocopt.results.result import STARTS_COLUMNS
from allocopt.results.status import Status

START_SEED = 15  # seed of the random starts (issue 15, where multi-start was asked for)
DRAWS = 100  # draws per random start before giving up on a feasible one

FULL_SPEED = "full_speed"  # the reference start: full speed, no safety work


def starting_schedules(inp: Inputs, n: int) -> list[tuple[str, Schedule]]:
    """The first ``n`` (>= 1) starts of the module docstring's list, as (name, schedule).
    Raises ValueError when ``n < 1`` or no feasible random draw is found in :data:`DRAWS`."""
    if n < 1:
        raise ValueError(f"starts must be at least 1, got {n}")
    pre = inp.hit_cap_by_regime[0]
    named = [
        (FULL_SPEED, lambda: full_speed(inp)),
        ("essay_rule", lambda: follow_rule(inp, essay_split)),
        ("never_slow", lambda: follow_rule(inp, essay_split, (pre, pre))),
    ]
    starts = [(name, make()) for name, make in named[:n]]
    rng = np.random.default_rng(START_SEED)
    while len(starts) < n:
        starts.append((f"random_{len(starts) - len(named) + 1}", _random_start(inp, rng)))
    return starts


def _random_start(inp: Inputs, rng: np.random.Generator) -> Schedule:
    """A random rule's schedule that violates nothing (next draws of ``rng``)."""
    for _ in range(DRAWS):
        split = random_split(rng, len(inp.ids))
        hits = (rng.uniform() * inp.hit_cap_by_regime[0], rng.uniform() * inp.hit_cap_by_regime[1])
        schedule = follow_rule(inp, split, hits)
        if not evaluate(inp, schedule).violations:
            return schedule
    raise ValueError(f"no random start violating nothing in {DRAWS} draws")


def best_start(outcomes: Sequence[Outcome], inp: Inputs) -> int:
    """The index of the best outcome: a converged one before any other, then the highest exact
    risk reduction with no violation, the earliest start on a tie."""

    def key(k: int) -> tuple[bool, bool, float, int]:
        o = outcomes[k]
        converged = o.status is Status.LOCALLY_OPTIMAL
        return converged, not o.evaluation.violations, o.evaluation.risk_reduction(inp), -k

    return max(range(len(outcomes)), key=key)


def starts_table(
    names: Sequence[str], outcomes: Sequence[Outcome], inp: Inputs, chosen: int
) -> pd.DataFrame:
    """One row per start, in order: its name, the exact and program risk reduction of the
    schedule its loop settled on, the loop's iterations and status, and whether it is the
    ``chosen`` one (:func:`best_start`)."""
    rows = [
        (
            name,
            o.evaluation.risk_reduction(inp),
            o.objective_model,
            len(o.iterations),
            str(o.status),
            k == chosen,
        )
        for k, (name, o) in enumerate(zip(names, outcomes, strict=True))
    ]
    return pd.DataFrame(rows, columns=STARTS_COLUMNS)
