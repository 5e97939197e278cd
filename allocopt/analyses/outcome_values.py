"""Each outcome's optimum after acceleration (essay Appendix A): an outcome with one branch
(scaling, self-destruction, a pause that fails) and the coordinated pause, a two-branch stochastic
program (success with probability ``pause_plausibility``, failure otherwise) whose decisions before
the switch are shared (docs/model.md, "Outcomes after acceleration").

On the core program each is an LP (the pause: both branches tied in one
:class:`~allocopt.optimize.extensive.ExtensiveForm`); over endogenous capability each is solved by
the outer loop (:func:`allocopt.optimize.outer.successive_lp`), the pause's two branches together
over their extensive form (:class:`~allocopt.optimize.extensive_slp.TreeProgram`, each branch
linearized around its own trajectory: docs/model.md, "Outcomes over endogenous capability").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocopt.analyses.outcome_inputs import PAUSE, pause_failure, pause_success, switch_period
from allocopt.analyses.tree import ROOT
from allocopt.model import evaluate
from allocopt.model.linearization import reference
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.extensive import BranchLp, ExtensiveForm, branch_lps
from allocopt.optimize.extensive_rows import TreeSettings
from allocopt.optimize.extensive_slp import Plan, TreeExact, TreeProgram
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.outer import successive_lp
from allocopt.optimize.pipeline import solve_at
from allocopt.optimize.slp_program import SlpProgram
from allocopt.results.status import Status
from allocopt.scenario.config import Outcomes, Solver

SUCCESS, FAILURE = "success", "failure"


@dataclass(frozen=True)
class OutcomeValue:
    """One outcome's optimum: per branch (one, or the pause's success and failure) its
    probability, model and exact risk reduction and schedule; the outcome's value is their
    expectation."""

    outcome: str
    branches: tuple[str, ...]
    probability: tuple[float, ...]
    model: tuple[float, ...]  # the program's risk reduction per branch
    exact: tuple[float, ...]  # the simulator's, against the common baseline
    schedules: tuple[Schedule, ...]
    status: str = Status.OPTIMAL  # locally_optimal (or not_converged) over endogenous capability

    @property
    def risk_reduction_model(self) -> float:
        """Expected program value over the branches."""
        return float(np.dot(self.probability, self.model))

    @property
    def risk_reduction_exact(self) -> float:
        """Expected exact risk reduction over the branches."""
        return float(np.dot(self.probability, self.exact))


def _value(
    outcome: str,
    lps: Sequence[BranchLp],
    inputs: Sequence[Inputs],
    probability: Sequence[float],
    node: Sequence[Sequence[str]],
    solver: Solver,
) -> OutcomeValue:
    """An outcome's value from its core-program branches solved alone (``lps``), tied wherever
    ``node[b][t]`` is the same in one extensive form; a branch of probability 0 is left out."""
    kept = [b for b, q in enumerate(probability) if q > 0]
    inputs, probability = [inputs[b] for b in kept], [probability[b] for b in kept]
    form = ExtensiveForm(
        [lps[b] for b in kept], TreeSettings.of(probability, [node[b] for b in kept], None, solver)
    )
    ex = form.solve()
    exact = [
        evaluate(inp, s).risk_reduction(inp) for inp, s in zip(inputs, ex.schedules, strict=True)
    ]
    names = tuple(inp.scenario_name.rsplit(".", 1)[-1] for inp in inputs)
    return OutcomeValue(
        outcome, names, tuple(probability), tuple(ex.values), tuple(exact), tuple(ex.schedules)
    )


def named(inp: Inputs, name: str) -> Inputs:
    """``inp`` with ``name`` appended to its scenario name (a branch's name in reports)."""
    return dataclasses.replace(inp, scenario_name=f"{inp.scenario_name}.{name}")


def sure(outcome: str, inp: Inputs, solver: Solver, start: Schedule | None = None) -> OutcomeValue:
    """The value of an outcome with one branch (scale, self_destruct, a failing pause): one LP on
    the core program; over endogenous capability the outer loop on one program moved in place
    (:func:`allocopt.optimize.outer.successive_lp`), warm from ``start`` when given (else from
    full speed), ``locally_optimal`` when it converged."""
    inputs = [named(inp, outcome)]
    if not inp.capability.endogenous:
        lps = branch_lps(inputs, solver.time_limit_seconds, solver.threads)
        return _value(outcome, lps, inputs, [1.0], [[ROOT] * len(inp.periods)], solver)
    program = SlpProgram(
        inputs[0], HighsRunner(solver.time_limit_seconds, solver.threads), reference(inputs[0])
    )
    end = successive_lp(inputs[0], solve_at(program, {}), start)
    exact = end.evaluation.risk_reduction(inputs[0])
    return OutcomeValue(
        outcome, (outcome,), (1.0,), (end.objective_model,), (exact,), (end.schedule,), end.status
    )


def _nodes(inp: Inputs) -> tuple[list[str], list[str]]:
    """The pause's nodes: both branches at the root before the switch, their own from it on."""
    s = switch_period(inp)
    return tuple([ROOT] * s + [b] * (len(inp.periods) - s) for b in (SUCCESS, FAILURE))


@dataclass(frozen=True)
class Pause:
    """The pause over the core program: its two branches (success, failure) solved alone, and
    their nodes (they share the decisions before the switch). Neither depends on the pause's
    plausibility."""

    inputs: tuple[Inputs, Inputs]
    lps: tuple[BranchLp, ...]
    node: tuple[list[str], list[str]]

    @classmethod
    def of(cls, inp: Inputs, o: Outcomes, solver: Solver) -> Pause:
        """Build and solve both branches of ``inp``'s pause."""
        inputs = (named(pause_success(inp, o), SUCCESS), named(pause_failure(inp, o), FAILURE))
        lps = tuple(branch_lps(inputs, solver.time_limit_seconds, solver.threads))
        return cls(inputs, lps, _nodes(inp))

    def value(self, plausibility: float, solver: Solver) -> OutcomeValue:
        """The pause's value: success with probability ``plausibility``, else failure."""
        p = plausibility
        return _value(PAUSE, self.lps, self.inputs, [p, 1 - p], self.node, solver)


@dataclass(frozen=True)
class EndogenousPause:
    """The pause over endogenous capability. Its failing branch alone (plausibility 0) is solved
    once, warm from the ``start`` given to :meth:`of`; a pause that may succeed and may fail is
    the outer loop over the two branches' extensive form (:class:`TreeProgram`,
    :class:`TreeExact`: each branch linearized around its own trajectory, the decisions before
    the switch shared), started from the failing pause's schedule in both branches (a plan that
    shares them: the loop never loses exact merit from it); plausibility 1 is the success
    branch's own loop, from full speed (from the failing pause's schedule it stops at a local
    optimum 0.4% lower on the baseline to 2027Q4)."""

    inputs: tuple[Inputs, Inputs]  # success, failure
    node: tuple[list[str], list[str]]
    failure: OutcomeValue  # the failing pause's branch alone

    @classmethod
    def of(
        cls, inp: Inputs, o: Outcomes, solver: Solver, start: Schedule | None
    ) -> EndogenousPause:
        """Both branches of ``inp``'s pause, the failure branch solved alone warm from ``start``."""
        success, failure = pause_success(inp, o), pause_failure(inp, o)
        return cls((success, failure), _nodes(inp), sure(FAILURE, failure, solver, start))

    def value(self, plausibility: float, solver: Solver) -> OutcomeValue:
        """The pause's value: success with probability ``plausibility``, else failure (status
        ``locally_optimal`` when the loop converged)."""
        p = plausibility
        start = self.failure.schedules[0]
        if p == 0:
            return dataclasses.replace(self.failure, outcome=PAUSE)
        if p == 1:
            return dataclasses.replace(sure(SUCCESS, self.inputs[0], solver), outcome=PAUSE)
        inputs = [named(i, b) for i, b in zip(self.inputs, (SUCCESS, FAILURE), strict=True)]
        probability = np.array([p, 1 - p])
        settings = TreeSettings.of(probability, self.node, None, solver)
        program = TreeProgram(inputs, settings)
        exact = TreeExact(inputs, settings, (SUCCESS, FAILURE))
        plan = Plan((start, start), np.full(2, math.nan))
        end = successive_lp(inputs[1], program.solve, plan, exact=exact)
        values = exact.values(end.evaluation)
        # the start's plan carries no program values: there the program value is the exact one
        model = np.where(np.isnan(end.schedule.values), values, end.schedule.values)
        return OutcomeValue(
            PAUSE,
            (SUCCESS, FAILURE),
            (p, 1 - p),
            tuple(model.tolist()),
            tuple(values.tolist()),
            end.schedule.schedules,
            end.status,
        )


def pause(
    inp: Inputs, o: Outcomes, solver: Solver, start: Schedule | None
) -> Pause | EndogenousPause:
    """The pause of ``inp``: over the core program or over endogenous capability (warm from
    ``start``, scaling's schedule at the same lag)."""
    if inp.capability.endogenous:
        return EndogenousPause.of(inp, o, solver, start)
    return Pause.of(inp, o, solver)
