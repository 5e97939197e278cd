"""Monte Carlo evaluation of a fixed plan: draw the scenario's uncertain fields (its
``uncertainty:`` block), run the plan in the exact simulator on every sample, and summarize the
risk reduction it achieves against the essay's rule and 'capabilities only' on the same samples
(docs/model.md, "Monte Carlo evaluation").

A plan is carried to a sample as shares of each period's budget (:func:`carry`), so a sample
with other budgets never overspends. Samples are evaluated in chunks through
:func:`allocopt.analyses.runner.run_many` (this process, local processes or Dask); chunks depend only on
the number of samples, so every executor gives the same tables.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocopt.analyses.policies import capabilities_only, essay_split, follow_rule
from allocopt.analyses.runner import run_many
from allocopt.analyses.sweep import FIELD_UNIT
from allocopt.errors import ScenarioError
from allocopt.model import broken, evaluate
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule
from allocopt.results.build import probabilities
from allocopt.results.names import HAZARD_UNIT, PROBABILITIES, label, unit
from allocopt.results.result import write_tables
from allocopt.results.views import units_table
from allocopt.scenario.distributions import Uncertainty
from allocopt.scenario.schema import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
POSTPONED = "probability_with_plan_and_postponed"
POLICIES = ("essay_rule", "capabilities_only")  # compared with the plan on every sample
TIE = 1e-9  # the plan does worse than a policy when its risk reduction is lower by more than this
QUANTITIES = {  # per-sample outcome -> unit (the headline names, allocopt.results.names)
    "risk_reduction": HAZARD_UNIT,
    **{name: unit(name) for name in PROBABILITIES},
    **{f"risk_reduction_{p}": HAZARD_UNIT for p in POLICIES},
}
# the unit of each numeric column of montecarlo_samples.csv after the drawn fields (each in
# FIELD_UNIT) and of montecarlo_paths.csv, written as montecarlo_units.csv (the sample's number,
# an identifier, has none, as a sweep point's has none)
SAMPLE_UNITS = {**QUANTITIES, "violations": "count"}
PATH_UNITS = {
    f"probability_{side}": unit("probability_with_plan") for side in ("without_plan", "with_plan")
}
WHERE_KEPT = "_where_kept"  # a quantity over the samples where the plan keeps every constraint
KEPT = f"risk_reduction{WHERE_KEPT}"  # the plan's risk reduction over those samples
ALL_SAMPLES = "share of all samples"
KEPT_SAMPLES = "share of the samples where the plan keeps every constraint"
POLICY_WORDS = {"essay_rule": "the essay's rule", "capabilities_only": "capabilities only"}
FAMILY_WORDS = {  # a constraint family (allocopt.model.FAMILIES) as the summary says it
    "velocity": "velocity-hit cap",
    "budget": "budgets",
    "staff": "staff frictions",
    "allocation": "safety floors",
    "variables": "bounds",
}

Task = tuple[dict, dict[str, list], list[tuple[int, dict[str, float]]]]


def draw(uncertainty: Uncertainty) -> pd.DataFrame:
    """The samples: one row per sample, one column per uncertain field. Each field draws from its
    own stream, seeded by the seed and the field's path, so adding a field leaves the others'
    draws unchanged and a larger ``samples`` extends the same sequence."""
    columns = {
        field: dist.quantile(
            np.random.default_rng([uncertainty.seed, *field.encode()]).random(uncertainty.samples)
        )
        for field, dist in uncertainty.parameters.items()
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(uncertainty.samples, name="sample"))


def carry(plan: Schedule, budget: np.ndarray, sample_budget: np.ndarray) -> Schedule:
    """``plan``, written for ``budget`` [T, R], as shares of ``sample_budget``: capabilities keep
    their share of each resource; effort (which uses both resources in fixed proportion) scales
    by the smallest ratio of the period's budgets, so no resource is overspent."""
    ratio = sample_budget / budget
    return Schedule(
        effort=plan.effort * ratio.min(axis=1)[:, None],
        capabilities=plan.capabilities * ratio,
    )


def evaluate_sample(
    base: Scenario, plan: Schedule, budget: np.ndarray, values: dict[str, float]
) -> dict[str, Any]:
    """The plan (written for ``budget``), the essay's rule and 'capabilities only' on ``base``
    with ``values`` set: risk reductions, the four catastrophe probabilities
    (:func:`allocopt.results.build.probabilities`), the plan's violations and the constraint
    families they are in (``broken``: family names joined by ", ", e.g. "velocity" where the
    sample's later switch holds the pre-acceleration cap over a quarter the plan slows by the
    post-acceleration one), and the cumulative probability at the end of each period (within
    the horizon)."""
    inp = prepare(base.with_updates(values))
    schedule = carry(plan, budget, inp.budget)
    ev = evaluate(inp, schedule)
    policies = {
        "essay_rule": follow_rule(inp, essay_split),
        "capabilities_only": capabilities_only(inp),
    }
    return {
        "risk_reduction": ev.risk_reduction(inp),
        **probabilities(inp, ev),
        "violations": len(ev.violations),
        "broken": ", ".join(broken(inp, schedule, ev)),
        **{
            f"risk_reduction_{name}": evaluate(inp, schedule).risk_reduction(inp)
            for name, schedule in policies.items()
        },
        "path_without_plan": _cumulative(inp.hazard, inp.dt),
        "path_with_plan": _cumulative(ev.hazard_plan, inp.dt),
    }


def _cumulative(hazard: np.ndarray, dt: float) -> list[float]:
    """Probability of catastrophe from the start to the end of each period, all channels."""
    return (-np.expm1(-np.cumsum(hazard.sum(axis=1)) * dt)).tolist()


def evaluate_chunk(task: Task) -> list[dict[str, Any]]:
    """Evaluate the samples of one chunk (base scenario and plan as plain data, samples as
    ``(number, field values)``); one plain row per sample. Runs in a worker."""
    base_data, plan_data, samples = task
    base = Scenario.model_validate(base_data)
    plan = Schedule(**{k: np.array(v) for k, v in plan_data.items()})
    budget = prepare(base).budget
    rows = []
    for number, values in samples:
        try:
            row = evaluate_sample(base, plan, budget, values)
        except ScenarioError as exc:  # values valid one by one but not together
            drawn = ", ".join(f"{field}={value:g}" for field, value in values.items())
            raise ScenarioError(
                [f"uncertainty: sample {number} ({drawn}): {p}" for p in exc.problems]
            ) from None
        rows.append({"sample": number, **values, **row})
    return rows


def sample_units(samples: pd.DataFrame) -> dict[str, str]:
    """The unit of every numeric column of a samples table but the sample's number: each drawn
    field (its columns between ``sample`` and ``risk_reduction``: :data:`FIELD_UNIT`), then each
    outcome (:data:`SAMPLE_UNITS`), in the table's order."""
    columns = list(samples.columns)
    drawn = columns[columns.index("sample") + 1 : columns.index("risk_reduction")]
    units = dict.fromkeys(drawn, FIELD_UNIT) | SAMPLE_UNITS
    return {c: units[c] for c in columns if c in units}


@dataclass(frozen=True)
class MonteCarlo:
    """A Monte Carlo evaluation of one plan, as tidy tables."""

    scenario_name: str
    seed: int
    samples: pd.DataFrame  # one row per sample: the drawn values, then the outcomes
    summary: pd.DataFrame  # quantity, statistic, value, unit
    paths: pd.DataFrame  # sample, period, cumulative probability without and with the plan

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its file name; ``montecarlo_units`` gives the unit of every numeric
        column of the wide tables ``montecarlo_samples`` and ``montecarlo_paths`` (as a result's
        ``units``: ``table, column, unit``; the summary carries a ``unit`` column)."""
        units = {"montecarlo_samples": sample_units(self.samples), "montecarlo_paths": PATH_UNITS}
        return {
            "montecarlo_samples": self.samples,
            "montecarlo_summary": self.summary,
            "montecarlo_paths": self.paths,
            "montecarlo_units": units_table(units),
        }

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table as CSV into ``folder``; files appear whole or not at all."""
        return write_tables(folder, self.tables())

    def statistic(self, quantity: str, statistic: str) -> float:
        """One value of the summary, e.g. ``statistic("risk_reduction", "q05")``."""
        s = self.summary
        return float(s.loc[(s.quantity == quantity) & (s.statistic == statistic), "value"].iloc[0])

    def text_summary(self, plan: str = "the plan") -> str:
        """A few lines a person reads after the run."""
        n, stat = len(self.samples), self.statistic
        kept = int(stat(KEPT, "count"))
        worse = [
            f"  the plan does worse than {POLICY_WORDS[p]} in "
            f"{stat(f'plan_worse_than_{p}', 'probability'):.1%} of all {n} samples"
            + (
                f", {stat(f'plan_worse_than_{p}{WHERE_KEPT}', 'probability'):.1%} of the {kept} "
                "where it keeps every constraint"
                if 0 < kept < n
                else ""
            )
            for p in POLICIES
        ]
        families = self.summary.quantity[self.summary.quantity.str.startswith("samples_breaking_")]
        by_family = ", ".join(
            f"{FAMILY_WORDS.get(f, f)} {stat(q, 'probability'):.1%}"
            for q in families
            for f in [q.removeprefix("samples_breaking_")]
        )

        def median(name: str) -> str:
            return f"{stat(name, 'q50'):.2%}"

        lines = [
            f"Monte Carlo evaluation of {plan}: {n} samples (seed {self.seed})",
            f"  {label('risk_reduction_exact').lower()}: mean "
            f"{stat('risk_reduction', 'mean'):.4f} "
            f"(5–95%: {stat('risk_reduction', 'q05'):.4f}–{stat('risk_reduction', 'q95'):.4f};"
            f" nominal {stat('risk_reduction', 'nominal'):.4f})",
            "  probability of catastrophe (median), without safety work -> with the plan: "
            f"within the horizon {median('probability_without_plan')} -> "
            f"{median('probability_with_plan')}; including the risk past it "
            f"{median('probability_without_plan_and_postponed')} -> {median(POSTPONED)}",
            *worse,
            f"  the plan breaks a constraint in "
            f"{stat('samples_with_violations', 'probability'):.1%} of all {n} samples"
            + (
                f" ({by_family}: the plan, written for the nominal values, does not adapt "
                "to the sample)"
                if by_family
                else ""
            ),
        ]
        if 0 < kept < n:
            lines.append(
                f"  over the {kept} samples where it keeps every constraint: mean "
                f"{stat(KEPT, 'mean'):.4f} (5–95%: {stat(KEPT, 'q05'):.4f}–"
                f"{stat(KEPT, 'q95'):.4f})"
            )
        return "\n".join(lines)


def summarize(samples: pd.DataFrame, nominal: dict[str, Any]) -> pd.DataFrame:
    """Nominal value, mean, its standard error, standard deviation and quantiles of each outcome;
    the probability that the plan does worse than each policy over all samples
    (``plan_worse_than_<policy>``) and over the samples where it breaks no constraint
    (``plan_worse_than_<policy>_where_kept``), that it breaks a constraint
    (``samples_with_violations``) and one in each family (``samples_breaking_<family>``); the
    count, mean and quantiles of the plan's risk reduction over the samples where it breaks
    none (:data:`KEPT`: the samples that break one count safety work the plan could not do)."""
    n = len(samples)
    rows = []
    for quantity, quantity_unit in QUANTITIES.items():
        values = samples[quantity]
        sd = float(values.std(ddof=1)) if n > 1 else math.nan
        stats = {
            "nominal": nominal[quantity],
            "mean": float(values.mean()),
            "se_mean": sd / math.sqrt(n),
            "sd": sd,
            **{f"q{round(100 * q):02d}": float(values.quantile(q)) for q in QUANTILES},
        }
        rows += [(quantity, k, v, quantity_unit) for k, v in stats.items()]
    keeps = samples.violations == 0
    for p in POLICIES:
        worse = samples.risk_reduction < samples[f"risk_reduction_{p}"] - TIE
        rows += [
            (f"plan_worse_than_{p}", "probability", float(worse.mean()), ALL_SAMPLES),
            (
                f"plan_worse_than_{p}{WHERE_KEPT}",
                "probability",
                float(worse[keeps].mean()),
                KEPT_SAMPLES,
            ),
        ]
    share = float((samples.violations > 0).mean())
    rows.append(("samples_with_violations", "probability", share, ALL_SAMPLES))
    names = samples.broken.str.split(", ")
    for family in sorted(set(names.explode()) - {""}):
        hit = names.map(lambda broken, f=family: f in broken)
        rows.append((f"samples_breaking_{family}", "probability", float(hit.mean()), ALL_SAMPLES))
    kept = samples.risk_reduction[keeps]
    rows += [  # NaN when every sample breaks a constraint
        (KEPT, "count", float(len(kept)), "samples"),
        (KEPT, "mean", float(kept.mean()), HAZARD_UNIT),
        *(
            (KEPT, f"q{round(100 * q):02d}", float(kept.quantile(q)), HAZARD_UNIT)
            for q in QUANTILES
        ),
    ]
    rows.append(("samples", "count", float(n), "samples"))
    return pd.DataFrame(rows, columns=["quantity", "statistic", "value", "unit"])


def check_draws(scenario: Scenario, draws: pd.DataFrame) -> None:
    """Raise ScenarioError when a drawn value (the smallest or largest of each field) is one the
    scenario's own validation rejects, naming the field, the sample and the value."""
    problems = []
    for field in draws.columns:
        for number in (draws[field].idxmin(), draws[field].idxmax()):
            value = float(draws.at[number, field])
            try:
                scenario.with_updates({field: value})
            except ScenarioError as exc:
                problems += [
                    f"scenario '{scenario.name}': uncertainty.parameters.{field}: sample "
                    f"{number} drew {value:g}, which the scenario rejects "
                    f"({p.removeprefix(f'scenario {scenario.name!r}: ')}); narrow or truncate "
                    "the distribution"
                    for p in exc.problems
                ]
                break
    if problems:
        raise ScenarioError(problems)


def auto_chunk_size(samples: int) -> int:
    """Samples per chunk: about 8 chunks, at most 100 samples each (a sample costs ~10 ms).
    Depends on the number of samples only, never on the executor."""
    return max(1, min(100, math.ceil(samples / 8)))


def montecarlo(
    scenario: Scenario,
    plan: Schedule,
    *,
    executor: Executor | None = None,
    progress: bool = False,
    chunk_size: int | None = None,
) -> MonteCarlo:
    """Evaluate ``plan`` (written for ``scenario``'s nominal values) on every sample of the
    scenario's ``uncertainty:`` block. Raises ScenarioError when the scenario has none or a drawn
    value is invalid."""
    if scenario.uncertainty is None:
        raise ScenarioError(f"scenario '{scenario.name}': no uncertainty: block to sample")
    draws = draw(scenario.uncertainty)
    check_draws(scenario, draws)
    base = scenario.with_updates({"uncertainty": None})
    nominal = evaluate_sample(base, plan, prepare(base).budget, {})
    data = base.model_dump()
    plan_data = {"effort": plan.effort.tolist(), "capabilities": plan.capabilities.tolist()}
    samples = [(int(n), {f: float(v) for f, v in row.items()}) for n, row in draws.iterrows()]
    chunk_size = chunk_size or auto_chunk_size(len(samples))
    tasks = [
        (data, plan_data, samples[k : k + chunk_size]) for k in range(0, len(samples), chunk_size)
    ]
    rows = [
        r for chunk in run_many(tasks, evaluate_chunk, executor, progress, _size) for r in chunk
    ]
    table = pd.DataFrame(rows)
    periods = list(scenario.periods().labels)
    paths = pd.DataFrame(
        {
            "sample": np.repeat(table["sample"].to_numpy(), len(periods)),
            "period": periods * len(table),
            **{
                f"probability_{side}": np.concatenate(table[f"path_{side}"].to_list())
                for side in ("without_plan", "with_plan")
            },
        }
    )
    table = table.drop(columns=["path_without_plan", "path_with_plan"])
    return MonteCarlo(
        scenario_name=scenario.name,
        seed=scenario.uncertainty.seed,
        samples=table,
        summary=summarize(table, nominal),
        paths=paths,
    )


def _size(task: Task) -> int:
    return len(task[2])
