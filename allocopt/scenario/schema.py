"""Scenario files (``models/*.yaml``): schema, ``extends:`` inheritance, and loading with tables.

A scenario is validated in two steps: the YAML against :class:`ScenarioConfig` (unknown fields
rejected), then its tables against the row schemas of :mod:`allocopt.scenario.tables`, then the cross-checks
that need both (every period present, overrides naming existing interventions and fields).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from allocopt.errors import ScenarioError
from allocopt.scenario.periods import Periods, is_period_label
from allocopt.scenario.tables import (
    CHANNELS,
    RESOURCES,
    AccelerationRow,
    BudgetRow,
    Channel,
    HazardRow,
    InterventionRow,
    Resource,
    read_table,
)

# Numbers in YAML must be numbers: strict refuses true/false and quoted strings ("0.05").
Real = Annotated[float, Field(strict=True)]
Whole = Annotated[int, Field(strict=True)]
Share = Annotated[Real, Field(ge=0, le=1)]
Positive = Annotated[Real, Field(gt=0)]


class Strict(BaseModel):
    """Base of every scenario block: unknown fields rejected, values frozen, NaN refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Horizon(Strict):
    """Planning horizon: first and last period (inclusive) and period length."""

    start: str = "2025Q1"
    end: str = "2029Q4"
    frequency: Literal["quarter", "year", "month"] = "quarter"

    @model_validator(mode="after")
    def _parses(self) -> Horizon:
        try:
            Periods.from_horizon(self.start, self.end, self.frequency)
        except ValueError as exc:
            raise ValueError(f"invalid horizon for frequency '{self.frequency}': {exc}") from None
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
            raise ValueError(f"weights must sum to 1, got {sum(self.weights.values()):g}")
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
    self_destruct_replacement: Annotated[Real, Field(ge=0, le=10)] = 0.5


class Solver(Strict):
    """Options handed to HiGHS."""

    time_limit_seconds: Positive | None = None
    threads: Annotated[Whole, Field(ge=1, le=64)] = 1


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]


class TreeBranch(Strict):
    """One outcome of a stage: its probability and the scenario fields it changes (dotted paths,
    as :meth:`Scenario.with_updates` takes them)."""

    probability: Annotated[Real, Field(gt=0, le=1)]
    updates: dict[str, Any] = Field(default_factory=dict)


class TreeStage(Strict):
    """Uncertainty revealed at the start of period ``reveal``: decisions before it are shared by
    every outcome of the stage, decisions from it on may differ."""

    reveal: str
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


STANDARD_NORMAL = NormalDist()
MIN_MASS = 1e-9  # least probability a truncated normal may keep between low and high


def _normal_quantile(p: np.ndarray) -> np.ndarray:
    """Standard normal quantiles of probabilities ``p`` (clipped into the open interval (0, 1))."""
    return np.array([STANDARD_NORMAL.inv_cdf(x) for x in np.clip(p, 1e-300, 1 - 1e-16)])


class Normal(Strict):
    """Normal distribution of mean ``mean`` and standard deviation ``sd``, optionally truncated
    to [``low``, ``high``]."""

    distribution: Literal["normal"]
    mean: Real
    sd: Annotated[Real, Field(ge=0)]
    low: Real | None = None
    high: Real | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """Truncation interval (infinite ends where none is given)."""
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )

    @model_validator(mode="after")
    def _keeps_mass(self) -> Normal:
        lo, hi = self.bounds
        if lo >= hi:
            raise ValueError(f"low ({lo:g}) must be below high ({hi:g})")
        if self.sd == 0:
            if not lo <= self.mean <= hi:
                raise ValueError(f"with sd 0 the mean {self.mean:g} must lie in [low, high]")
        elif self._cdf(hi) - self._cdf(lo) < MIN_MASS:
            raise ValueError(
                f"[low, high] = [{lo:g}, {hi:g}] keeps almost none of the distribution"
            )
        return self

    def _cdf(self, x: float) -> float:
        return STANDARD_NORMAL.cdf((x - self.mean) / self.sd) if math.isfinite(x) else float(x > 0)

    @property
    def center(self) -> float:
        """The mean, moved into [low, high]."""
        lo, hi = self.bounds
        return min(max(self.mean, lo), hi)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the (truncated) distribution at ``u`` in [0, 1)."""
        if self.sd == 0:
            return np.full(len(u), self.mean)
        lo, hi = self.bounds
        p = self._cdf(lo) + u * (self._cdf(hi) - self._cdf(lo))
        return np.clip(self.mean + self.sd * _normal_quantile(p), lo, hi)


class LogNormal(Strict):
    """Log-normal distribution: ``log(x)`` is normal with mean ``log(median)`` and sd ``sigma``."""

    distribution: Literal["lognormal"]
    median: Positive
    sigma: Annotated[Real, Field(ge=0, le=10)]

    @property
    def center(self) -> float:
        """The median."""
        return self.median

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        if self.sigma == 0:
            return np.full(len(u), self.median)
        return self.median * np.exp(self.sigma * _normal_quantile(u))


class Uniform(Strict):
    """Uniform distribution on [``low``, ``high``]."""

    distribution: Literal["uniform"]
    low: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    @property
    def center(self) -> float:
        """The midpoint."""
        return (self.low + self.high) / 2

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        return self.low + u * (self.high - self.low)


class Triangular(Strict):
    """Triangular distribution on [``low``, ``high``] with its peak at ``mode``."""

    distribution: Literal["triangular"]
    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"need low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}"
            )
        return self

    @property
    def center(self) -> float:
        """The mode."""
        return self.mode

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        a, c, b = self.low, self.mode, self.high
        if a == b:
            return np.full(len(u), a)
        left = u < (c - a) / (b - a)
        rising = a + np.sqrt(u * (b - a) * (c - a))
        falling = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(left, rising, falling)


Distribution = Annotated[
    Normal | LogNormal | Uniform | Triangular, Field(discriminator="distribution")
]


class Uncertainty(Strict):
    """Uncertain scenario fields (dotted paths, as ``Scenario.with_updates`` takes them) with
    their distributions, and the number and seed of the Monte Carlo samples."""

    samples: Annotated[Whole, Field(ge=1, le=100_000)]
    seed: Annotated[Whole, Field(ge=0)]
    parameters: Annotated[dict[str, Distribution], Field(min_length=1)]


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

    @model_validator(mode="after")
    def _outcomes_on_the_core_program(self) -> ScenarioConfig:
        if self.outcomes is not None and self.capability.endogenous:
            raise ValueError(
                "outcomes: the outcome choice is made over the core program, but capability: "
                "has endogenous terms on (turn every capability: term off, e.g. extend "
                "models/magma_core.yaml rather than magma_baseline.yaml)"
            )
        return self


class Tables(Strict):
    """The validated rows of a scenario's four tables."""

    interventions: tuple[InterventionRow, ...]
    budgets: tuple[BudgetRow, ...]
    acceleration: tuple[AccelerationRow, ...]
    hazards: tuple[HazardRow, ...]


class Scenario(ScenarioConfig):
    """A loaded scenario: the configuration plus its tables, cross-checked; plain data throughout."""

    tables: Tables

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = _cross_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def periods(self) -> Periods:
        """The scenario's ordered periods."""
        return self.horizon.periods()

    def interventions(self) -> tuple[InterventionRow, ...]:
        """The catalog with ``intervention_overrides`` applied."""
        rows = []
        for row in self.tables.interventions:
            change = self.intervention_overrides.get(row.id)
            rows.append(
                InterventionRow.model_validate({**row.model_dump(), **change}) if change else row
            )
        return tuple(rows)

    def with_updates(self, updates: dict[str, Any]) -> Scenario:
        """A validated copy with dotted fields replaced.

        Example: ``{"velocity.hit_cap_pre_acceleration": 0.1}``.
        """
        data = self.model_dump()
        for dotted, value in updates.items():
            _set_dotted(data, dotted, value)
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_format_errors(f"scenario '{self.name}'", exc)) from None


def _cross_problems(s: Scenario) -> list[str]:
    periods = s.periods().labels
    problems: list[str] = []
    keyed = {
        "budgets": {(r.period, r.resource) for r in s.tables.budgets},
        "acceleration": {(r.period,) for r in s.tables.acceleration},
        "hazards": {(r.period, r.channel) for r in s.tables.hazards},
    }
    extra_keys = {"budgets": RESOURCES, "acceleration": ("",), "hazards": CHANNELS}
    frequency = s.horizon.frequency
    for table, present in keyed.items():
        strange = sorted({key[0] for key in present if not is_period_label(key[0], frequency)})
        if strange:
            problems.append(
                f"{s.data.model_dump()[table]}: period label(s) {', '.join(strange[:6])} are not "
                f"{frequency} labels like {periods[0]}"
            )
        for extra in extra_keys[table]:
            missing = [p for p in periods if ((p, extra) if extra else (p,)) not in present]
            if missing:
                what = f" for {extra}" if extra else ""
                problems.append(
                    f"{s.data.model_dump()[table]}: missing period(s){what}: "
                    f"{', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''} "
                    f"(the horizon runs {periods[0]}–{periods[-1]})"
                )
    problems += _tree_problems(s)
    ids = [r.id for r in s.tables.interventions]
    for iid, change in s.intervention_overrides.items():
        if iid not in ids:
            problems.append(
                f"intervention_overrides.{iid}: no such intervention (known: {', '.join(ids)})"
            )
            continue
        for field in change:
            if field not in InterventionRow.model_fields or field == "id":
                problems.append(
                    f"intervention_overrides.{iid}.{field}: not an overridable intervention field"
                )
        if any(isinstance(v, bool) for v in change.values()):
            problems.append(f"intervention_overrides.{iid}: values must be numbers or text")
    if not problems:
        total = sum(r.readiness_weight for r in s.tables.interventions)
        if total > 1 + 1e-9:
            problems.append(
                f"{s.data.interventions}: readiness_weight sums to {total:g} over the "
                "catalog; it must be at most 1"
            )
        for row in s.tables.interventions:
            change = s.intervention_overrides.get(row.id)
            try:
                InterventionRow.model_validate({**row.model_dump(), **(change or {})})
            except ValidationError as exc:
                problems += _format_errors(f"intervention_overrides.{row.id}", exc)
    return problems


def _tree_problems(s: Scenario) -> list[str]:
    """Reveal periods inside the horizon, after its first period and in order; branch updates
    that do not touch the tree itself."""
    if s.tree is None:
        return []
    periods = s.periods().labels
    problems, last = [], 0
    for k, stage in enumerate(s.tree.stages):
        where = f"tree.stages[{k}]"
        if stage.reveal not in periods[1:]:
            problems.append(
                f"{where}.reveal: {stage.reveal} is not a period after the first of the horizon "
                f"({periods[1] if len(periods) > 1 else periods[0]}–{periods[-1]})"
            )
            continue
        at = periods.index(stage.reveal)
        if at <= last and k:
            problems.append(f"{where}.reveal: {stage.reveal} must come after the previous stage's")
        last = at
        for name, branch in stage.branches.items():
            for path in branch.updates:
                if path.split(".")[0] in ("tree", "name", "data"):
                    problems.append(
                        f"{where}.branches.{name}.updates.{path}: a branch may not change "
                        "the tree, the name or the data files"
                    )
    return problems


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for depth, k in enumerate(keys[:-1]):
        if depth == 1 and keys[0] == "intervention_overrides" and isinstance(node, dict):
            node.setdefault(k, {})  # first override of this intervention; validated below
        if not isinstance(node, dict) or k not in node:
            node_keys = ", ".join(node) if isinstance(node, dict) else "none"
            raise ScenarioError(f"{dotted}: no field '{k}' (fields here: {node_keys})")
        node = node[k]
    if not isinstance(node, dict):
        raise ScenarioError(f"{dotted}: cannot set a field inside a value")
    node[keys[-1]] = value


def _format_errors(where: str, exc: ValidationError) -> list[str]:
    lines = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        if not e["loc"]:  # a model-level check: its problems are joined by "; "
            lines += [f"{where}: {part}" for part in msg.split("; ")]
            continue
        loc = ".".join(str(p) for p in e["loc"])
        got = e.get("input")
        shown = (
            "" if isinstance(got, dict | list) else f" (got {'null' if got is None else repr(got)})"
        )
        lines.append(f"{where}: {loc}: {msg}{shown}")
    return lines


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe YAML loader, noting keys repeated within one mapping (plain YAML keeps the last)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"key '{key}' repeated on line {line}")
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        loader = _UniqueKeyLoader(text)  # the reader refuses control characters right here
        try:
            raw = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}: malformed YAML{at}") from None
    if loader.duplicates:
        raise ScenarioError([f"{path}: {d}" for d in loader.duplicates])
    if raw is None:
        raise ScenarioError(f"{path}: the scenario file is empty")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{path}: a scenario must be a mapping of fields, got {type(raw).__name__}"
        )
    return raw


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _project_of(folder: Path) -> Path | None:
    """The closest folder at or above ``folder`` that holds a ``models/`` folder."""
    return next((f for f in (folder, *folder.parents) if (f / "models").is_dir()), None)


def project_root(scenario: Path) -> Path:
    """The project a scenario belongs to: the closest folder above it that holds a ``models/``
    folder, else the scenario's own folder. Files a scenario names must lie inside it."""
    here = scenario.resolve().parent
    return _project_of(here) or here


def _inside(path: Path, allowed: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(folder) for folder in allowed)


def _resolve_raw(path: Path, allowed: tuple[Path, ...], chain: tuple[Path, ...] = ()) -> dict:
    """The YAML of ``path`` merged over what it ``extends``, with data paths made absolute and
    checked to lie inside ``allowed`` folders."""
    path = path.resolve()
    if path in chain:
        raise ScenarioError(
            f"{path}: 'extends' forms a cycle: " + " -> ".join(p.name for p in (*chain, path))
        )
    raw = _read_yaml(path)
    outside = (
        f"lies outside the project ({', '.join(map(str, allowed))}); "
        "name its folder on the command line (--allow-path) to use it"
    )
    data = raw.get("data")
    if isinstance(data, dict):
        resolved = {k: (path.parent / v).resolve() for k, v in data.items() if isinstance(v, str)}
        problems = [
            f"{path}: data.{k}: {data[k]} {outside}"
            for k, v in resolved.items()
            if not _inside(v, allowed)
        ]
        if problems:
            raise ScenarioError(problems)
        raw["data"] = {**data, **{k: str(v) for k, v in resolved.items()}}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: must be the path of another scenario file")
    target = (path.parent / parent).resolve()
    if not _inside(target, allowed):
        raise ScenarioError(f"{path}: extends: {parent} {outside}")
    base = _resolve_raw(target, allowed, (*chain, path))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, raw)


def load_scenario(
    path: str | Path, *, root: str | Path | None = None, allow: Sequence[str | Path] = ()
) -> Scenario:
    """Load, merge (``extends:``), validate and cross-check a scenario and its tables.

    Files the scenario names (``extends:``, ``data:``) must lie inside ``root`` (default:
    :func:`project_root` of ``path``), inside the project allocopt runs from (the closest folder
    at or above the current directory holding ``models/``), or in one of the ``allow`` folders,
    which the caller vouches for. Raises :class:`ScenarioError` with one line per problem, each
    naming file and field.
    """
    path = Path(path)
    home = Path(root).resolve() if root is not None else project_root(path)
    working = _project_of(Path.cwd().resolve())
    allowed = (home, *([working] if working else []), *(Path(a).resolve() for a in allow))
    raw = _resolve_raw(path, allowed)
    try:
        config = ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(str(path), exc)) from None
    problems: list[str] = []
    tables: dict[str, tuple] = {}
    for name, table_path in config.data.model_dump().items():
        try:
            tables[name] = tuple(read_table(name, Path(table_path)))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    try:
        scenario = Scenario.model_validate({**config.model_dump(), "tables": tables})
    except ValidationError as exc:
        raise ScenarioError(_format_errors(str(path), exc)) from None
    problems = _uncertainty_problems(scenario, str(path)) + _branch_problems(scenario, str(path))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _branch_problems(s: Scenario, where: str) -> list[str]:
    """Every outcome of every tree stage must give a valid scenario (checked one stage at a time,
    so each problem names the outcome that causes it)."""
    problems: list[str] = []
    for k, stage in enumerate(s.tree.stages if s.tree else ()):
        for name, branch in stage.branches.items():
            try:
                s.with_updates({**branch.updates, "tree": None})
            except ScenarioError as exc:
                inner = (p.removeprefix(f"scenario '{s.name}': ") for p in exc.problems)
                problems += [
                    f"{where}: tree.stages[{k}].branches.{name}.updates: {p}" for p in inner
                ]
    return problems


def _uncertainty_problems(s: Scenario, where: str) -> list[str]:
    """Each uncertain field must be a scenario field that takes a number and accepts the centre of
    its distribution (values drawn later are checked when they are drawn)."""
    problems: list[str] = []
    for field, dist in (s.uncertainty.parameters if s.uncertainty else {}).items():
        at = f"{where}: uncertainty.parameters.{field}"
        try:
            moved = s.with_updates({field: dist.center})
        except ScenarioError as exc:
            inner = (p.removeprefix(f"scenario '{s.name}': ") for p in exc.problems)
            problems += [f"{at}: cannot be set to {dist.center:g} (its centre): {p}" for p in inner]
            continue
        node: Any = moved.model_dump()
        for key in field.split("."):
            node = node[key]
        if isinstance(node, bool):
            problems.append(f"{at}: a switch (true/false), not a number")
    return problems
