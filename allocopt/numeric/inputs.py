"""Numeric inputs of one scenario as arrays, shared by the LP builder and the exact simulator.

Index order is fixed everywhere: period, intervention (or activity), resource / channel.

>>> from allocopt.scenario.load import load_scenario
>>> core = load_scenario("models/magma_core.yaml").with_updates({"horizon.end": "2025Q4"})
>>> inp = prepare(core)
>>> inp.budget.shape, inp.hazard.shape, inp.dt  # [T, R], [T, CH], years
((4, 2), (4, 5), 0.25)
>>> inp.intensity.shape == (len(inp.ids), 2), inp.capability.endogenous
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.numeric.series import read
from allocopt.scenario.periods import Periods
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import CHANNELS, RESOURCES, InterventionRow


@dataclass(frozen=True)
class CapabilitySettings:
    """The endogenous-capability terms of a scenario, as numbers (all zero/off: fixed reference)."""

    endogenous: bool
    hazard_follows_delay: bool
    budget_frontier_share: np.ndarray  # [R]
    ai_labour: bool
    readiness_required: bool
    ai_multiplier_max: float
    influence_halflife_years: float | None
    competition_relief: tuple[float, float]  # largest relief of others' hazard, (pre, post)
    competition_lag_scale_years: float
    safety_difficulty_elasticity: float  # % more effort needed per % of own speed-up
    tail_years: float  # years of progress past the horizon at the last period's residual
    tolerance_years: float
    max_iterations: int
    trust_region_years: float
    competition_relief_per_doubling: float = 0.0  # relief per doubling of the frontier's speed-up
    credibility_loss: float = 0.0  # share of advocacy's export lost while Magma races at full speed
    credibility_halflife_years: float = 0.5  # memory of Magma's racing
    no_return_speedup: float | None = None  # Magma's own speed-up at the point of no return (x)
    no_return_width_doublings: float = 0.5  # sigmoid width, doublings of the speed-up
    no_return_share: float = 1.0  # share of a channel's hazard that locks in
    no_return_channels: tuple[str, ...] = CHANNELS  # channels whose hazard locks in
    salvage: bool = False  # the tail reads the stocks evolving past the horizon, no new effort


@dataclass(frozen=True)
class Inputs:
    """Everything the model needs, in model units (per year rates, EU, kH100e, FTE)."""

    scenario_name: str
    periods: Periods
    interventions: tuple[InterventionRow, ...]
    budget: np.ndarray  # [T, R] resource available per period (kH100e, FTE)
    speedup: np.ndarray  # [T] reference AI software R&D speed-up (x)
    post_acceleration: np.ndarray  # [T] bool: speed-up has reached the threshold
    hazard: np.ndarray  # [T, CH] reference hazard with no safety work, per year
    hazard_full: np.ndarray  # [T, CH] baseline of risk reduction: full speed, no safety work
    intensity: np.ndarray  # [I, R] resource per unit of effort
    effect: np.ndarray  # [I, CH] e-folds of channel capacity at saturation
    lead_periods: np.ndarray  # [I] whole periods before effort joins a stock (Periods.whole)
    retention: np.ndarray  # [I] share of a stock kept from one period to the next
    saturation: np.ndarray  # [I] saturation effort (EU for mitigation, EU*year for stocks)
    max_effort: np.ndarray  # [I] upper bound on effort per period (EU), inf when none
    is_preparation: np.ndarray  # [I] bool
    residual_floor: np.ndarray  # [CH]
    hit_cap: np.ndarray  # [T] velocity-hit cap of each period's regime on the reference trajectory
    hit_cap_by_regime: tuple[float, float]  # (pre, post acceleration)
    acceleration_threshold: float
    ai_leverage: np.ndarray  # [I] share of the work AI labour can multiply
    readiness_weight: np.ndarray  # [I] contribution of the benefit to elicitation readiness
    capability: CapabilitySettings
    weights: np.ndarray  # [R] velocity weight of each resource
    safety_floor: np.ndarray  # [R] minimum share of each resource to safety
    staff_growth_max_per_year: float
    reassignment_share_per_year: float
    initial_safety_share: float | None  # staff share on safety before the first period
    cuts: int
    export_weight: np.ndarray  # [T, I] weight of Magma's work on other developers (1: frontier)
    # [T] 1 / safety difficulty held fixed (allocopt.analyses.slowing freezes it); None: it
    # follows Magma's own speed-up (allocopt.numeric.trajectory.point_at)
    ease_fixed: np.ndarray | None = None
    # [T] share locked in past the point of no return held fixed (allocopt.analyses.slowing);
    # None: it follows Magma's own speed-up (allocopt.numeric.trajectory.no_return)
    lock_fixed: np.ndarray | None = None
    # [T] advocacy's credibility held fixed (allocopt.analyses.slowing); None: it follows the
    # velocities (allocopt.numeric.trajectory.credibility)
    credibility_fixed: np.ndarray | None = None

    @property
    def dt(self) -> float:
        """Period length in years."""
        return self.periods.length_years

    @property
    def has_safety_floor(self) -> bool:
        """Whether some resource has a positive safety floor (the program then has floor rows;
        their levels are the mutable ``safety_floor``)."""
        return bool(self.safety_floor.max() > 0)

    @property
    def ids(self) -> tuple[str, ...]:
        """Intervention ids in catalog order."""
        return tuple(i.id for i in self.interventions)


def _capability(scenario: Scenario) -> CapabilitySettings:
    cap = scenario.capability
    relief = cap.competition_relief_max
    return CapabilitySettings(
        endogenous=cap.endogenous,
        hazard_follows_delay=cap.hazard_follows_delay,
        budget_frontier_share=np.array([cap.budget_frontier_share.get(r, 0.0) for r in RESOURCES]),
        ai_labour=cap.ai_labour,
        readiness_required=cap.readiness_required,
        ai_multiplier_max=cap.ai_multiplier_max,
        influence_halflife_years=cap.influence_halflife_years,
        competition_relief=(
            relief.get("pre_acceleration", 0.0),
            relief.get("post_acceleration", 0.0),
        ),
        competition_lag_scale_years=cap.competition_lag_scale_years,
        safety_difficulty_elasticity=cap.safety_difficulty_elasticity,
        tail_years=cap.tail_years,
        tolerance_years=cap.slp.tolerance_years,
        max_iterations=cap.slp.max_iterations,
        trust_region_years=cap.slp.trust_region_years,
        competition_relief_per_doubling=cap.competition_relief_per_doubling,
        credibility_loss=cap.credibility_loss,
        credibility_halflife_years=cap.credibility_halflife_years,
        no_return_speedup=cap.no_return_speedup,
        no_return_width_doublings=cap.no_return_width_doublings,
        no_return_share=cap.no_return_share,
        no_return_channels=tuple(c for c in CHANNELS if c in cap.no_return_channels),
        salvage=cap.salvage,
    )


def prepare(scenario: Scenario) -> Inputs:
    """Arrays for ``scenario``: tables aligned to its periods, multipliers and overrides applied."""
    periods = scenario.periods()
    labels = periods.labels
    items = scenario.interventions()
    budgets = {(r.period, r.resource): r.value for r in scenario.tables.budgets}
    table = np.array([[budgets[p, r] for r in RESOURCES] for p in labels])
    growth = np.array([scenario.budget_growth_multiplier.get(r, 1.0) for r in RESOURCES])
    multiplier = np.array([scenario.budget_multiplier.get(r, 1.0) for r in RESOURCES])
    budget = table[0] * (table / table[0]) ** growth * multiplier
    speed = {r.period: r.ai_rnd_speedup for r in scenario.tables.acceleration}
    hazards = {(r.period, r.channel): r.hazard_per_year for r in scenario.tables.hazards}
    speedup = np.array([speed[p] for p in labels])
    hazard = np.array([[hazards[p, c] for c in CHANNELS] for p in labels])
    shift = scenario.timeline.shift_years
    if shift:
        mid = periods.mid_year
        speedup = read(mid, speedup, mid - shift)[0]
        hazard = np.column_stack([read(mid, h, mid - shift)[0] for h in hazard.T])
    post = speedup >= scenario.velocity.acceleration_threshold
    hazard = (
        hazard
        * np.where(
            post,
            scenario.risk.hazard_multiplier_post_acceleration,
            scenario.risk.hazard_multiplier_pre_acceleration,
        )[:, None]
    )
    dt = periods.length_years
    return Inputs(
        scenario_name=scenario.name,
        periods=periods,
        interventions=items,
        budget=budget,
        speedup=speedup,
        post_acceleration=post,
        hazard=hazard,
        hazard_full=hazard,
        intensity=np.array([[i.compute_per_effort_kh100e, i.staff_per_effort_fte] for i in items]),
        effect=np.array([[i.effect(c) for c in CHANNELS] for i in items]),
        lead_periods=np.array([periods.whole(i.lead_time_years) for i in items], dtype=int),
        retention=np.array([(1 - i.depreciation_per_year) ** dt for i in items]),
        saturation=np.array([i.saturation_effort for i in items]),
        max_effort=np.array([np.inf if i.max_effort is None else i.max_effort for i in items]),
        is_preparation=np.array([i.mode == "preparation" for i in items]),
        residual_floor=np.array([scenario.risk.residual_floor[c] for c in CHANNELS]),
        hit_cap=np.where(
            post,
            scenario.velocity.hit_cap_post_acceleration,
            scenario.velocity.hit_cap_pre_acceleration,
        ),
        hit_cap_by_regime=(
            scenario.velocity.hit_cap_pre_acceleration,
            scenario.velocity.hit_cap_post_acceleration,
        ),
        acceleration_threshold=scenario.velocity.acceleration_threshold,
        ai_leverage=np.array([i.ai_leverage for i in items]),
        readiness_weight=np.array([i.readiness_weight for i in items]),
        capability=_capability(scenario),
        weights=np.array([scenario.velocity.weights[r] for r in RESOURCES]),
        safety_floor=np.array([scenario.safety_floor_share.get(r, 0.0) for r in RESOURCES]),
        staff_growth_max_per_year=scenario.staff.growth_max_per_year,
        reassignment_share_per_year=scenario.staff.reassignment_share_per_year,
        initial_safety_share=scenario.staff.initial_safety_share,
        cuts=scenario.risk.cuts,
        export_weight=np.ones((len(labels), len(items))),
    )
