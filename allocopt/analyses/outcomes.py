"""Outcome choice after acceleration (essay Appendix A): automated scaling, a coordinated pause or
self-destruction, chosen by exact enumeration, and the outcome map over pause plausibility × lag
with its decomposition of the choice.

Each outcome is the program with outcome-specific inputs from the regime switch on
(docs/model.md, "Outcomes after acceleration"), solved by :mod:`allocopt.analyses.outcome_values`
(the pause: a two-branch stochastic program sharing the decisions before the switch). Three
optima and their maximum equal the optimum of the MILP with one binary per outcome and a copy of
the decisions per outcome, at the cost of three solves, with no big-M rows, and with every
outcome's value for the map. Over endogenous capability every outcome is solved by the outer loop
(docs/model.md, "Outcomes over endogenous capability").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from allocopt.analyses.outcome_inputs import (
    OUTCOMES,
    REST,
    SCALE,
    SELF_DESTRUCT,
    TERMS,
    scale,
    self_destruct,
    switch_period,
)
from allocopt.analyses.outcome_values import OutcomeValue, pause, sure
from allocopt.analyses.runner import run_many
from allocopt.errors import ScenarioError
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.results.files import atomic_write
from allocopt.results.names import HAZARD_UNIT
from allocopt.results.result import FLOAT_FORMAT
from allocopt.results.status import Status
from allocopt.scenario.config import Outcomes, Solver
from allocopt.scenario.schema import Scenario

SUCCESS, FAILURE = "success", "failure"


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
        risk reduction (cut in cumulative hazard against full speed with no safety work), status
        (``optimal``; ``locally_optimal`` over endogenous capability), chosen."""
        rows = []
        for v in self.values:
            rows.append(
                (v.outcome, "", 1.0, v.risk_reduction_model, v.risk_reduction_exact, v.status)
            )
            if len(v.branches) > 1:
                rows += zip(
                    [v.outcome] * len(v.branches),
                    v.branches,
                    v.probability,
                    v.model,
                    v.exact,
                    [v.status] * len(v.branches),
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
                "status",
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


def _outcomes_of(scenario: Scenario) -> Outcomes:
    if scenario.outcomes is None:
        raise ScenarioError(
            f"scenario '{scenario.name}': no outcomes: block (see models/magma_outcomes.yaml)"
        )
    return scenario.outcomes


def choose_outcome(scenario: Scenario) -> OutcomeChoice:
    """Solve the program under each outcome from the switch on (over endogenous capability by
    the outer loop, the pause's branches together) and compare their risk reduction against one
    baseline (Magma scaling at full speed, no safety work)."""
    o = _outcomes_of(scenario)
    inp, solver = prepare(scenario), scenario.solver
    scaling = sure(SCALE, scale(inp, o), solver)
    values = (
        scaling,
        pause(inp, o, solver, scaling.schedules[0]).value(o.pause_plausibility, solver),
        sure(SELF_DESTRUCT, self_destruct(inp, o), solver),
    )
    return OutcomeChoice(scenario.name, inp.periods.labels[switch_period(inp)], values)


MAP_COLUMNS = ["pause_plausibility", "lag_years", *OUTCOMES, "chosen", "margin", "status"]


def _worst(statuses: Iterable[str]) -> str:
    """The first status that is no optimum, proven or local; else ``locally_optimal`` when an
    outer loop took part, else ``optimal``."""
    kinds = [Status(s) for s in statuses]
    failed = [s for s in kinds if not s.is_local_optimum]
    if failed:
        return str(failed[0])
    return str(Status.LOCALLY_OPTIMAL if Status.LOCALLY_OPTIMAL in kinds else Status.OPTIMAL)


DECOMPOSITION_COLUMNS = [
    "pause_plausibility",
    "lag_years",
    "chosen",
    "rival",
    "difference",
    *TERMS,
    REST,
    "deciding",
]


# the unit of each numeric column of the two tables of `allocopt outcomes` (written as units.csv,
# as a result's: allocopt.results.views.units_table): each outcome's value is its exact risk
# reduction, the decomposition's parts are program risk reduction, both cuts in cumulative hazard
CELL_UNITS = {"pause_plausibility": "probability", "lag_years": "years"}
TABLE_UNITS: dict[str, dict[str, str]] = {
    "outcome_map": {
        **CELL_UNITS,
        **dict.fromkeys(OUTCOMES, HAZARD_UNIT),
        "margin": "share of the chosen outcome's program value",
    },
    "outcome_decomposition": {
        **CELL_UNITS,
        **dict.fromkeys(["difference", *TERMS, REST], HAZARD_UNIT),
    },
}


def without_terms(
    inp: Inputs, o: Outcomes, solver: Solver, start: Schedule | None = None
) -> dict[str, float]:
    """Program value of self-destruction with each term of :data:`TERMS` switched off in turn
    (one solve each, warm from ``start`` over endogenous capability; they do not depend on the
    pause's plausibility)."""
    return {
        term: sure(
            SELF_DESTRUCT, self_destruct(inp, o, (term,)), solver, start
        ).risk_reduction_model
        for term in TERMS
    }


def terms_of(
    self_destruct_value: float, rival_value: float, without: dict[str, float]
) -> dict[str, float | str]:
    """One cell's decomposition of the choice for or against self-destruction (program values):
    ``difference`` = self_destruct_value − rival_value (the best of scaling and the pause); each
    term's contribution = self_destruct_value − its value without that term (``without``, from
    :func:`without_terms`); ``rest`` = difference − the contributions (own hazard held at the
    switch, the hit cap, and the terms' interactions); ``deciding`` = the
    part pushing hardest toward the difference's sign (toward self-destruction when it wins,
    against it otherwise)."""
    parts: dict[str, float] = {t: self_destruct_value - without[t] for t in TERMS}
    difference = self_destruct_value - rival_value
    parts[REST] = difference - sum(parts.values())
    sign = 1.0 if difference >= 0 else -1.0
    return {
        "difference": difference,
        **parts,
        "deciding": max(parts, key=lambda k: sign * parts[k]),
    }


def decomposition(table: pd.DataFrame) -> pd.DataFrame:
    """The decomposition of each cell of an :func:`outcome_map` table (``DECOMPOSITION_COLUMNS``:
    the cell, the chosen outcome, the best other than self-destruction (``rival``), the program
    value difference self-destruction less rival, the contribution of each term and the rest, and
    the deciding part; program risk reduction, cut in cumulative hazard)."""
    return table[DECOMPOSITION_COLUMNS].reset_index(drop=True)


def map_lag(task: tuple[dict, float, Sequence[float]]) -> list[dict[str, float | str]]:
    """The outcome map's points at one lag (scenario as plain data, lag, plausibilities): each
    outcome's exact risk reduction, the chosen outcome and its margin over the runner-up (share
    of the chosen program value), and the cell's decomposition (:func:`terms_of`). Scaling,
    self-destruction (with each term off) and the pause's branches alone do not depend on the
    plausibility and are solved once (over endogenous capability each plausibility strictly
    between 0 and 1 runs the pause's own loop over both branches). Runs in a worker."""
    data, lag, plausibilities = task
    scenario = Scenario.model_validate(data).with_updates({"outcomes.lag_years": lag})
    inp, o, solver = prepare(scenario), _outcomes_of(scenario), scenario.solver
    scaling = sure(SCALE, scale(inp, o), solver)
    dropping = sure(SELF_DESTRUCT, self_destruct(inp, o), solver)
    without = without_terms(inp, o, solver, dropping.schedules[0])
    pausing = pause(inp, o, solver, scaling.schedules[0])
    rows = []
    for p in plausibilities:
        values = (scaling, pausing.value(p, solver), dropping)
        choice = OutcomeChoice(scenario.name, "", values)
        model = sorted((v.risk_reduction_model for v in values), reverse=True)
        rival = max(values[:2], key=lambda v: v.risk_reduction_model)
        rows.append(
            {
                "pause_plausibility": p,
                "lag_years": lag,
                **{v.outcome: v.risk_reduction_exact for v in values},
                "chosen": choice.chosen,
                "margin": (model[0] - model[1]) / model[0],
                "status": _worst(v.status for v in values),
                "rival": rival.outcome,
                **terms_of(dropping.risk_reduction_model, rival.risk_reduction_model, without),
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
    outcomes), the chosen outcome and its margin (``MAP_COLUMNS``), and the decomposition of the
    choice (the rest of ``DECOMPOSITION_COLUMNS``, :func:`decomposition`). One job per lag,
    through ``executor``."""
    _outcomes_of(scenario)
    base = scenario.with_updates({"solver.threads": 1})
    for p in plausibilities:  # fail fast on a bad value, before anything is solved
        for lag in lags:
            base.with_updates({"outcomes.pause_plausibility": p, "outcomes.lag_years": lag})
    data = base.model_dump()
    ps = [float(p) for p in plausibilities]
    tasks = [(data, float(lag), ps) for lag in lags]
    per_lag = run_many(tasks, map_lag, executor, progress)
    rows = sorted(
        (r for c in per_lag for r in c), key=lambda r: (r["pause_plausibility"], r["lag_years"])
    )
    return pd.DataFrame(rows, columns=list(dict.fromkeys(MAP_COLUMNS + DECOMPOSITION_COLUMNS)))
