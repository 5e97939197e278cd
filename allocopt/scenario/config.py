"""What a scenario YAML file may contain: one pydantic model per block, :class:`ScenarioConfig`
for the whole file (after ``extends:`` is merged) and :class:`Tables` for its validated table rows.

Each block checks only its own fields; checks that need the tables or several blocks at once live
in :mod:`allocopt.scenario.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, model_validator

from allocopt.errors import ScenarioError
from allocopt.scenario.distributions import Uncertainty
from allocopt.scenario.fields import (
    Name,
    PeriodLabel,
    Positive,
    Real,
    Share,
    Strict,
    Whole,
    format_errors,
    path_problem,
)
from allocopt.scenario.periods import Periods
from allocopt.scenario.tables import (
    CHANNELS,
    RESOURCES,
    AccelerationRow,
    BudgetRow,
    Channel,
    HazardRow,
    InterventionRow,
    Resource,
)


class Horizon(Strict):
    """Planning horizon: first and last period (inclusive) and period length."""

    start: PeriodLabel = "2025Q1"
    end: PeriodLabel = "2029Q4"
    frequency: Literal["quarter", "year", "month"] = "quarter"

    @model_validator(mode="after")
    def _parses(self) -> Horizon:
        try:
            Periods.from_horizon(self.start, self.end, self.frequency)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return self

    def periods(self) -> Periods:
        """The scenario's ordered periods."""
        return Periods.from_horizon(self.start, self.end, self.frequency)


class DataFiles(Strict):
    """Paths of the scenario's tables, relative to the YAML file that names them."""

    interventions: Path
    budgets: Path
    acceleration: Path
    hazards: Path


class Velocity(Strict):
    """Velocity knob: how capability progress is measured and how much of it may be given up."""

    weights: dict[Resource, Share] = Field(default_factory=lambda: {"compute": 0.6, "staff": 0.4})
    hit_cap_pre_acceleration: Share = 0.05
    hit_cap_post_acceleration: Share = 0.25
    acceleration_threshold: Annotated[Real, Field(gt=1, le=1e6)] = 3.0

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Velocity:
        if set(self.weights) != set(RESOURCES):
            raise ValueError(f"weights must name exactly {', '.join(RESOURCES)}")
        if abs(sum(self.weights.values()) - 1) > 1e-9:
            parts = " + ".join(f"{r} {self.weights[r]:g}" for r in RESOURCES)
            total = sum(self.weights.values())
            raise ValueError(f"weights must sum to 1, got {parts} = {total:g} (set them together)")
        return self


class Staff(Strict):
    """Hiring and re-assignment frictions on technical staff."""

    growth_max_per_year: Annotated[Real, Field(ge=0, le=100)] = 1.0
    reassignment_share_per_year: Annotated[Real, Field(ge=0, le=100)] = 0.25
    initial_safety_share: Share | None = None


class Risk(Strict):
    """Risk-reduction technology shared by all interventions."""

    residual_floor: dict[Channel, Annotated[Real, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: dict.fromkeys(CHANNELS, 0.1)
    )
    hazard_multiplier_pre_acceleration: Annotated[Real, Field(ge=0, le=1e3)] = 1.0
    hazard_multiplier_post_acceleration: Annotated[Real, Field(ge=0, le=1e3)] = 1.0
    cuts: Annotated[Whole, Field(ge=2, le=200)] = 24

    @model_validator(mode="after")
    def _every_channel(self) -> Risk:
        missing = [c for c in CHANNELS if c not in self.residual_floor]
        if missing:
            raise ValueError(f"residual_floor lacks channel(s) {', '.join(missing)}")
        return self


class Timeline(Strict):
    """When the reference AI trajectory arrives: the speed-up and hazard tables read
    ``shift_years`` later (positive: acceleration and danger come later; negative: earlier)."""

    shift_years: Annotated[Real, Field(ge=-5, le=5)] = 0.0


class Slp(Strict):
    """Successive linear programming: the outer loop that re-linearizes around each iterate."""

    tolerance_years: Annotated[float, Field(gt=0, le=1)] = 1e-3
    max_iterations: Annotated[int, Field(ge=1, le=500)] = 60
    trust_region_years: Annotated[float, Field(gt=0, le=10)] = 0.25


class Capability(Strict):
    """Endogenous capability: velocity hits delay Magma's own trajectory, and the delay moves the
    regime switch and the terms switched on here (all off by default: a fixed reference)."""

    hazard_follows_delay: bool = False
    budget_frontier_share: dict[Resource, Share] = Field(default_factory=dict)
    ai_labour: bool = False
    readiness_required: bool = True
    ai_multiplier_max: Annotated[float, Field(ge=1, le=1e4)] = 10.0
    influence_halflife_years: Annotated[float, Field(gt=0, le=1e3)] | None = None
    competition_relief_max: dict[
        Literal["pre_acceleration", "post_acceleration"], Annotated[float, Field(ge=0, lt=1)]
    ] = Field(default_factory=dict)
    competition_lag_scale_years: Annotated[float, Field(gt=0, le=100)] = 0.5
    # share of the remaining others' hazard Magma's drop-out relieves per doubling of the
    # frontier's AI software R&D speed-up (competition grows more dangerous as capabilities rise)
    competition_relief_per_doubling: Annotated[float, Field(ge=0, lt=1)] = 0.0
    # share of governance_communication's effect on other developers lost while Magma races at
    # full speed, and the half-life (years) of the memory of its racing (advocacy credibility)
    credibility_loss: Annotated[float, Field(ge=0, lt=1)] = 0.0
    credibility_halflife_years: Annotated[float, Field(gt=0, le=100)] = 0.5
    # point of no return: Magma's own AI software R&D speed-up (x) past which a share of each
    # listed channel's hazard is locked at the residual share its safety work had reached, over a
    # sigmoid of the given width (doublings of the speed-up); None: off
    no_return_speedup: Annotated[float, Field(gt=1, le=1e6)] | None = None
    no_return_width_doublings: Annotated[float, Field(gt=0, le=20)] = 0.5
    no_return_share: Annotated[float, Field(gt=0, le=1)] = 1.0
    no_return_channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS))
    # safety difficulty: the level an intervention's benefit reads is divided by
    # (own speed-up / speed-up of the first period) ** elasticity (dimensionless)
    safety_difficulty_elasticity: Annotated[float, Field(ge=0, le=10)] = 0.0
    # years of reference progress past the horizon's end counted at the last period's residual
    tail_years: Annotated[float, Field(ge=0, le=20)] = 0.0
    # salvage: over the tail, the residual share reads the stocks as they evolve past the horizon
    # with no new effort (effort in flight joins at the end of its lead time, stocks depreciate);
    # off: the tail is met at the last period's residual share (no effect without a tail)
    salvage: bool = False
    slp: Slp = Field(default_factory=Slp)

    @property
    def endogenous(self) -> bool:
        """True when any term makes the trajectory depend on the decisions."""
        return bool(
            self.hazard_follows_delay
            or any(self.budget_frontier_share.values())
            or self.ai_labour
            or self.influence_halflife_years is not None
            or any(self.competition_relief_max.values())
            or self.competition_relief_per_doubling > 0
            or self.credibility_loss > 0
            or self.no_return_speedup is not None
            or self.safety_difficulty_elasticity > 0
            or self.tail_years > 0
        )


class Outcomes(Strict):
    """The choice among automated scaling, a coordinated pause and self-destruction after the
    regime switch (essay Appendix A; docs/model.md, "Outcomes after acceleration")."""

    pause_plausibility: Share = 0.1
    lag_years: Annotated[Real, Field(ge=0, le=10)] = 0.25
    pause_years: Annotated[Real, Field(gt=0, le=10)] = 0.5
    pause_attempt_years: Annotated[Real, Field(ge=0, le=10)] = 0.25
    influence_halflife_years: Annotated[Real, Field(gt=0, le=100)] = 0.25
    signal_advocacy_gain: Annotated[Real, Field(ge=0, le=100)] = 1.0
    self_destruct_budget_decline_per_year: Annotated[Real, Field(ge=0, lt=1)] = 0.3
    self_destruct_competition_relief: Annotated[Real, Field(ge=0, lt=1)] = 0.15
    relief_lag_scale_years: Annotated[Real, Field(gt=0, le=100)] = 0.5
    self_destruct_replacement: Annotated[Real, Field(ge=0, le=10)] = 0.5


class Solver(Strict):
    """Options handed to HiGHS, and the tie-break among near-equal optima: ``smooth_tolerance``
    is the relative share of the optimum the smoothest schedule may give up (docs/model.md,
    "Tie-break: the smoothest optimum"); None turns the tie-break off."""

    time_limit_seconds: Positive | None = None
    threads: Annotated[Whole, Field(ge=1, le=64)] = 1
    smooth_tolerance: Annotated[Real, Field(ge=0, le=1e-3)] | None = 1e-6


class TreeBranch(Strict):
    """One outcome of a stage: its probability and the scenario fields it changes (dotted paths,
    as :meth:`Scenario.with_updates` takes them)."""

    probability: Annotated[Real, Field(gt=0, le=1)]
    updates: dict[str, Any] = Field(default_factory=dict)


class TreeStage(Strict):
    """Uncertainty revealed at the start of period ``reveal``: decisions before it are shared by
    every outcome of the stage, decisions from it on may differ."""

    reveal: PeriodLabel
    branches: dict[Name, TreeBranch] = Field(min_length=1)

    @model_validator(mode="after")
    def _probabilities_sum_to_one(self) -> TreeStage:
        total = sum(b.probability for b in self.branches.values())
        if abs(total - 1) > 1e-9:
            raise ValueError(f"branch probabilities must sum to 1, got {total:g}")
        return self


class Tree(Strict):
    """A scenario tree: independent stages whose outcomes combine into branches (one per path),
    solved as one stochastic program; ``objective`` is the expected risk reduction, its worst
    case over branches, or its CVaR (mean of the worst ``1 - cvar_alpha`` of probability)."""

    stages: list[TreeStage] = Field(min_length=1)
    objective: Literal["expected", "worst_case", "cvar"] = "expected"
    cvar_alpha: Annotated[Real, Field(gt=0, lt=1)] = 0.9


class ScenarioConfig(Strict):
    """What a scenario YAML file may contain (after ``extends:`` has been merged)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    horizon: Horizon = Field(default_factory=Horizon)
    data: DataFiles
    velocity: Velocity = Field(default_factory=Velocity)
    staff: Staff = Field(default_factory=Staff)
    risk: Risk = Field(default_factory=Risk)
    safety_floor_share: dict[Resource, Share] = Field(default_factory=dict)
    budget_multiplier: dict[Resource, Annotated[Real, Field(gt=0, le=1e3)]] = Field(
        default_factory=dict
    )
    budget_growth_multiplier: dict[Resource, Annotated[Real, Field(ge=0, le=10)]] = Field(
        default_factory=dict
    )
    intervention_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    timeline: Timeline = Field(default_factory=Timeline)
    capability: Capability = Field(default_factory=Capability)
    tree: Tree | None = None
    outcomes: Outcomes | None = None
    solver: Solver = Field(default_factory=Solver)
    uncertainty: Uncertainty | None = None

    def periods(self) -> Periods:
        """The scenario's ordered periods."""
        return self.horizon.periods()

    def with_updates(self, updates: dict[str, Any]) -> Self:
        """A validated copy with dotted fields replaced (raises :class:`ScenarioError` naming each
        problem).

        Example: ``{"velocity.hit_cap_pre_acceleration": 0.1}``.
        """
        data = self.model_dump()
        problems = set_fields(type(self), data, updates)
        if problems:
            raise ScenarioError(problems)
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(format_errors(f"scenario '{self.name}'", exc, type(self))) from None


class Tables(Strict):
    """The validated rows of a scenario's four tables."""

    interventions: tuple[InterventionRow, ...]
    budgets: tuple[BudgetRow, ...]
    acceleration: tuple[AccelerationRow, ...]
    hazards: tuple[HazardRow, ...]


def set_fields(schema: type[ScenarioConfig], data: dict, updates: Mapping[str, Any]) -> list[str]:
    """Set each dotted field of ``updates`` in ``data`` (a scenario as plain dicts), creating the
    blocks on the way where they are missing or null; returns one line per field that ``schema``
    has no place for (:func:`~allocopt.scenario.fields.path_problem`), which is left unset.
    Values are validated later, with the whole scenario."""
    problems = []
    for dotted, value in updates.items():
        keys = dotted.split(".")
        problem = path_problem(schema, keys)
        node = data
        for depth, key in enumerate(keys[:-1]):
            if problem:
                break
            if node.get(key) is None:
                node[key] = {}
            elif not isinstance(node[key], dict):
                problem = f"{dotted}: {'.'.join(keys[: depth + 1])} is a value, not a block"
            node = node[key]
        if problem:
            problems.append(problem)
        else:
            node[keys[-1]] = value
    return problems
