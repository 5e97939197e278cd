"""Outcome choice after acceleration (essay Appendix A): automated scaling, a coordinated pause or
self-destruction, chosen by exact enumeration, and the outcome map over pause plausibility × lag.

Each outcome is the core program with outcome-specific inputs from the regime switch on
(docs/model.md, "Outcomes after acceleration"); the pause is a two-branch stochastic program
(success, failure) sharing the decisions before the switch. Three optima and their maximum equal
the optimum of the MILP with one binary per outcome and a copy of the decisions per outcome, at
the cost of three LP solves, with no big-M rows, and with every outcome's value for the map.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from allocopt.analyses.runner import run_many
from allocopt.analyses.tree import ROOT
from allocopt.errors import ScenarioError
from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.series import read
from allocopt.numeric.simulate import Schedule
from allocopt.numeric.trajectory import OWN
from allocopt.optimize.extensive import BranchLp, ExtensiveForm, branch_lps
from allocopt.results.files import atomic_write
from allocopt.results.result import FLOAT_FORMAT
from allocopt.scenario.config import Outcomes, Solver
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import CHANNELS

SCALE, PAUSE, SELF_DESTRUCT = "scale", "pause", "self_destruct"
OUTCOMES = (SCALE, PAUSE, SELF_DESTRUCT)
SUCCESS, FAILURE = "success", "failure"
ADVOCACY = "governance_communication"  # the category whose exports a costly signal amplifies
OTHERS = CHANNELS.index("others")


def switch_period(inp: Inputs) -> int:
    """Index of the first period whose reference speed-up has reached the threshold."""
    post = np.flatnonzero(inp.post_acceleration)
    if not len(post):
        raise ScenarioError(
            f"scenario '{inp.scenario_name}': outcomes: the reference AI R&D speed-up never "
            f"reaches velocity.acceleration_threshold ({inp.acceleration_threshold:g}x) within "
            "the horizon, so there is no switch after which to choose an outcome"
        )
    return int(post[0])


def _since_switch(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Whether each period is at or after the switch, and years from the switch's start (0 before)."""
    s = switch_period(inp)
    after = np.arange(len(inp.periods)) >= s
    tau = np.where(after, inp.periods.start_year - inp.periods.start_year[s], 0.0)
    return after, tau


def _exports(inp: Inputs, lag: np.ndarray, halflife: float, signal: float = 0.0) -> np.ndarray:
    """export_weight after the switch: 2^(−lag[t]/halflife), times (1 + signal) for advocacy."""
    after, _ = _since_switch(inp)
    influence = np.where(after, 2.0 ** (-lag / halflife), 1.0)
    boost = np.array([1 + signal if i.category == ADVOCACY else 1.0 for i in inp.interventions])
    return influence[:, None] * np.where(after[:, None], boost[None, :], 1.0)


def _shifted(inp: Inputs, hazard: np.ndarray, years: np.ndarray | float) -> np.ndarray:
    """Each channel of ``hazard`` read ``years`` later (earlier when negative)."""
    mid = inp.periods.mid_year
    return np.column_stack([read(mid, h, mid + years)[0] for h in hazard.T])


def frontier_hazard(inp: Inputs, lag_years: float) -> np.ndarray:
    """Reference hazard when the frontier is ``lag_years`` ahead of Magma: Magma's own channels
    as in the data, other developers' read lag_years later."""
    hazard = inp.hazard.copy()
    hazard[:, OTHERS] = _shifted(inp, inp.hazard, lag_years)[:, OTHERS]
    return hazard


def scale(inp: Inputs, o: Outcomes, lag_years: float | None = None) -> Inputs:
    """Automated scaling ``lag_years`` (default: ``o.lag_years``) behind the frontier: reference
    own hazards and budgets, others' hazard that far ahead, exports count 2^(−lag/halflife);
    the baseline of risk reduction is scaling at ``o.lag_years`` with no safety work."""
    lag = o.lag_years if lag_years is None else lag_years
    return dataclasses.replace(
        inp,
        hazard=frontier_hazard(inp, lag),
        hazard_full=frontier_hazard(inp, o.lag_years),
        export_weight=_exports(inp, np.full(len(inp.periods), lag), o.influence_halflife_years),
    )


def self_destruct(inp: Inputs, o: Outcomes) -> Inputs:
    """Self-destruction: capabilities may stop (hit cap 1); own hazards held at the switch level;
    others' hazard relieved and raised by the share of Magma's forgone hazard others take over;
    budgets decline from the switch level; influence fades as Magma falls behind; advocacy gains
    the costly signal."""
    s = switch_period(inp)
    after, tau = _since_switch(inp)
    full = frontier_hazard(inp, o.lag_years)
    held = np.where(after[:, None], full[s][None, :], full)
    forgone = (full - held)[:, OWN].sum(axis=1)
    hazard = held.copy()
    relief = np.where(after, o.self_destruct_competition_relief, 0.0)
    hazard[:, OTHERS] = full[:, OTHERS] * (1 - relief) + o.self_destruct_replacement * forgone
    decline = (1 - o.self_destruct_budget_decline_per_year) ** tau
    budget = np.where(after[:, None], inp.budget[s][None, :] * decline[:, None], inp.budget)
    weight = _exports(inp, o.lag_years + tau, o.influence_halflife_years, o.signal_advocacy_gain)
    return dataclasses.replace(
        inp,
        hazard=hazard,
        hazard_full=full,
        budget=budget,
        hit_cap=np.where(after, 1.0, inp.hit_cap),
        export_weight=weight,
    )


def pause_success(inp: Inputs, o: Outcomes) -> Inputs:
    """A coordinated pause that holds: every channel's hazard stays at the switch level for
    pause_years, then follows its path when scaling, postponed by pause_years; Magma may stop its
    capabilities while the pause lasts (hit cap 1); influence as when scaling."""
    s = switch_period(inp)
    after, tau = _since_switch(inp)
    pausing = after & (tau < o.pause_years)
    resumed = after & ~pausing
    scaling = scale(inp, o)
    hazard = np.where(pausing[:, None], scaling.hazard[s][None, :], scaling.hazard)
    hazard = np.where(resumed[:, None], _shifted(inp, scaling.hazard, -o.pause_years), hazard)
    return dataclasses.replace(scaling, hazard=hazard, hit_cap=np.where(pausing, 1.0, inp.hit_cap))


def pause_failure(inp: Inputs, o: Outcomes) -> Inputs:
    """A pause attempt that fails: scaling, with Magma pause_attempt_years further behind."""
    return scale(inp, o, o.lag_years + o.pause_attempt_years)


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

    @property
    def risk_reduction_model(self) -> float:
        """Expected program value over the branches."""
        return float(np.dot(self.probability, self.model))

    @property
    def risk_reduction_exact(self) -> float:
        """Expected exact risk reduction over the branches."""
        return float(np.dot(self.probability, self.exact))


@dataclass(frozen=True)
class OutcomeChoice:
    """Every outcome's value and the chosen one (largest program value, as the MILP would)."""

    scenario_name: str
    switch_period: str
    values: tuple[OutcomeValue, ...]

    @property
    def chosen(self) -> str:
        """The outcome with the largest expected program value."""
        return max(self.values, key=lambda v: v.risk_reduction_model).outcome

    def value(self, outcome: str) -> OutcomeValue:
        """The :class:`OutcomeValue` of ``outcome``."""
        return next(v for v in self.values if v.outcome == outcome)

    def table(self) -> pd.DataFrame:
        """One row per outcome (branch empty) and per pause branch: probability, model and exact
        risk reduction (cut in cumulative hazard against full speed with no safety work), chosen."""
        rows = []
        for v in self.values:
            rows.append((v.outcome, "", 1.0, v.risk_reduction_model, v.risk_reduction_exact))
            if len(v.branches) > 1:
                rows += zip(
                    [v.outcome] * len(v.branches),
                    v.branches,
                    v.probability,
                    v.model,
                    v.exact,
                    strict=True,
                )
        table = pd.DataFrame(
            rows,
            columns=[
                "outcome",
                "branch",
                "probability",
                "risk_reduction_model",
                "risk_reduction_exact",
            ],
        )
        table["chosen"] = (table.outcome == self.chosen) & (table.branch == "")
        return table

    def lines(self) -> list[str]:
        """A short text report: the switch, each outcome's value, the chosen outcome."""
        out = [f"outcome after the switch ({self.switch_period}): {self.chosen}"]
        for v in self.values:
            mark = "  <- chosen" if v.outcome == self.chosen else ""
            out.append(
                f"  {v.outcome:<14} risk reduction {v.risk_reduction_exact:.4f} exact, "
                f"{v.risk_reduction_model:.4f} model{mark}"
            )
        return out

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` to ``path`` (whole or not at all)."""
        return atomic_write(
            path,
            lambda tmp: self.table().to_csv(
                tmp, index=False, float_format=FLOAT_FORMAT, lineterminator="\n"
            ),
        )


def _value(
    outcome: str,
    lps: Sequence[BranchLp],
    inputs: Sequence[Inputs],
    probability: Sequence[float],
    node: Sequence[Sequence[str]],
    solver: Solver,
) -> OutcomeValue:
    """An outcome's value from its branches solved alone (``lps``), tied wherever ``node[b][t]``
    is the same in one extensive form; a branch of probability 0 is left out."""
    kept = [b for b, q in enumerate(probability) if q > 0]
    inputs, probability = [inputs[b] for b in kept], [probability[b] for b in kept]
    form = ExtensiveForm(
        [lps[b] for b in kept],
        probability,
        [node[b] for b in kept],
        time_limit=solver.time_limit_seconds,
        threads=solver.threads,
    )
    ex = form.solve()
    exact = [
        evaluate(inp, s).risk_reduction(inp) for inp, s in zip(inputs, ex.schedules, strict=True)
    ]
    names = tuple(inp.scenario_name.rsplit(".", 1)[-1] for inp in inputs)
    return OutcomeValue(
        outcome, names, tuple(probability), tuple(ex.values), tuple(exact), tuple(ex.schedules)
    )


def _named(inp: Inputs, name: str) -> Inputs:
    return dataclasses.replace(inp, scenario_name=f"{inp.scenario_name}.{name}")


def _outcomes_of(scenario: Scenario) -> Outcomes:
    if scenario.outcomes is None:
        raise ScenarioError(
            f"scenario '{scenario.name}': no outcomes: block (see models/magma_outcomes.yaml)"
        )
    return scenario.outcomes


def _sure(outcome: str, inp: Inputs, solver: Solver) -> OutcomeValue:
    """The value of an outcome with one branch (scale, self_destruct)."""
    inputs = [_named(inp, outcome)]
    lps = branch_lps(inputs, solver.time_limit_seconds, solver.threads)
    return _value(outcome, lps, inputs, [1.0], [[ROOT] * len(inp.periods)], solver)


@dataclass(frozen=True)
class Pause:
    """The pause's two branches (success, failure) solved alone, and their nodes: they share
    the decisions before the switch. Neither depends on the pause's plausibility."""

    inputs: tuple[Inputs, Inputs]
    lps: tuple[BranchLp, ...]
    node: tuple[list[str], list[str]]

    @classmethod
    def of(cls, inp: Inputs, o: Outcomes, solver: Solver) -> Pause:
        """Build and solve both branches of ``inp``'s pause."""
        s = switch_period(inp)
        node = tuple([ROOT] * s + [b] * (len(inp.periods) - s) for b in (SUCCESS, FAILURE))
        inputs = (_named(pause_success(inp, o), SUCCESS), _named(pause_failure(inp, o), FAILURE))
        return cls(
            inputs, tuple(branch_lps(inputs, solver.time_limit_seconds, solver.threads)), node
        )

    def value(self, plausibility: float, solver: Solver) -> OutcomeValue:
        """The pause's value: success with probability ``plausibility``, else failure."""
        p = plausibility
        return _value(PAUSE, self.lps, self.inputs, [p, 1 - p], self.node, solver)


def choose_outcome(scenario: Scenario) -> OutcomeChoice:
    """Solve the core program under each outcome from the switch on and compare their risk
    reduction against one baseline (Magma scaling at full speed, no safety work)."""
    o = _outcomes_of(scenario)
    inp, solver = prepare(scenario), scenario.solver
    values = (
        _sure(SCALE, scale(inp, o), solver),
        Pause.of(inp, o, solver).value(o.pause_plausibility, solver),
        _sure(SELF_DESTRUCT, self_destruct(inp, o), solver),
    )
    return OutcomeChoice(scenario.name, inp.periods.labels[switch_period(inp)], values)


MAP_COLUMNS = ["pause_plausibility", "lag_years", *OUTCOMES, "chosen", "margin"]


def map_lag(task: tuple[dict, float, Sequence[float]]) -> list[dict[str, float | str]]:
    """The outcome map's points at one lag (scenario as plain data, lag, plausibilities): each
    outcome's exact risk reduction, the chosen outcome and its margin over the runner-up (share
    of the chosen program value). Scaling, self-destruction and the pause's branches do not
    depend on the plausibility and are solved once. Runs in a worker."""
    data, lag, plausibilities = task
    scenario = Scenario.model_validate(data).with_updates({"outcomes.lag_years": lag})
    inp, o, solver = prepare(scenario), _outcomes_of(scenario), scenario.solver
    sure = (
        _sure(SCALE, scale(inp, o), solver),
        _sure(SELF_DESTRUCT, self_destruct(inp, o), solver),
    )
    pause = Pause.of(inp, o, solver)
    rows = []
    for p in plausibilities:
        values = (sure[0], pause.value(p, solver), sure[1])
        choice = OutcomeChoice(scenario.name, "", values)
        model = sorted((v.risk_reduction_model for v in values), reverse=True)
        rows.append(
            {
                "pause_plausibility": p,
                "lag_years": lag,
                **{v.outcome: v.risk_reduction_exact for v in values},
                "chosen": choice.chosen,
                "margin": (model[0] - model[1]) / model[0],
            }
        )
    return rows


def outcome_map(
    scenario: Scenario,
    plausibilities: Sequence[float],
    lags: Sequence[float],
    executor: Executor | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The chosen outcome over a grid of pause plausibility × lag (years behind the frontier):
    one tidy row per point with each outcome's exact risk reduction (columns named after the
    outcomes), the chosen outcome and its margin. One job per lag, through ``executor``."""
    _outcomes_of(scenario)
    base = scenario.with_updates({"solver.threads": 1})
    for p in plausibilities:  # fail fast on a bad value, before anything is solved
        for lag in lags:
            base.with_updates({"outcomes.pause_plausibility": p, "outcomes.lag_years": lag})
    data = base.model_dump()
    ps = [float(p) for p in plausibilities]
    tasks = [(data, float(lag), ps) for lag in lags]
    columns = run_many(tasks, map_lag, executor, progress)
    rows = sorted(
        (r for c in columns for r in c), key=lambda r: (r["pause_plausibility"], r["lag_years"])
    )
    return pd.DataFrame(rows, columns=MAP_COLUMNS)
