"""Why a scenario is infeasible: an irreducible infeasible set (IIS) from HiGHS, or an elastic
relaxation where HiGHS gives none, mapped back to the model's constraints and told in the
scenario's words ("2025Q4: velocity-hit cap 5% conflicts with the safety floor of 10% of compute").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyomo.environ as pyo

from allocopt.numeric.inputs import Inputs
from allocopt.optimize.highs import load_any_solution
from allocopt.scenario.tables import RESOURCE_UNITS

if TYPE_CHECKING:
    from allocopt.optimize.highs import HighsRunner

Method = Literal["iis", "elastic"]

# Rules a scenario sets, in the order a headline names them; other rows are bookkeeping.
LIMITS: tuple[str, ...] = (
    "velocity_hit_limit",
    "safety_floor_limit",
    "staff_growth",
    "staff_reassignment",
    "staff_initial",
    "max_effort",
    "budget_limit",
)
SLACK_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Conflict:
    """One member of a set of constraints that cannot hold together."""

    # the model component: velocity_hit_limit, safety_floor_limit, max_effort, stock_balance, ...
    family: str
    constraint: str  # the model's name for it, e.g. "velocity_hit_limit[2026Q1]"
    period: str | None
    resource: str | None  # compute / staff, where the constraint is about one resource
    activity: str | None  # intervention id, where the constraint is about one intervention
    phrase: str  # the rule in the scenario's words, e.g. "velocity-hit cap 5%"
    is_limit: bool  # a rule the scenario sets (False: model bookkeeping such as stock_balance)

    @property
    def sentence(self) -> str:
        """``period: phrase`` — one line of the explanation."""
        return f"{self.period}: {self.phrase}" if self.period else self.phrase


@dataclass(frozen=True)
class Diagnosis:
    """The conflicting constraints of an infeasible scenario and how they were found."""

    scenario_name: str
    method: Method  # "iis": irreducible (drop any member and the rest can hold); "elastic": the
    #   rules a minimal-violation relaxation had to break
    conflicts: tuple[Conflict, ...]

    def families(self) -> set[str]:
        """Names of the constraint families involved."""
        return {c.family for c in self.conflicts}

    def headline(self) -> str:
        """One sentence: the first rule conflicts with the others (rules the scenario sets only)."""
        limits = sorted(
            (c for c in self.conflicts if c.is_limit), key=lambda c: LIMITS.index(c.family)
        )
        if not limits:
            return "no rule the scenario sets was singled out (only model bookkeeping rows)"
        grouped: dict[str, list[str]] = {}
        for c in limits:
            grouped.setdefault(c.phrase, [])
            if c.period and c.period not in grouped[c.phrase]:
                grouped[c.phrase].append(c.period)
        periods = {p for ps in grouped.values() for p in ps}
        if len(periods) <= 1:
            prefix = f"{periods.pop()}: " if periods else ""
            items = list(grouped)
        else:
            prefix = ""
            items = [
                f"{phrase} in {_periods(ps)}" if ps else phrase for phrase, ps in grouped.items()
            ]
        if self.method == "elastic":
            return f"{prefix}the least change that makes it feasible relaxes the {_join(items)}"
        if len(items) == 1:
            return f"{prefix}{items[0]} cannot be met"
        return f"{prefix}{items[0]} conflicts with the {_join(items[1:])}"

    def lines(self) -> list[str]:
        """The headline, then one line per conflicting constraint."""
        how = {"iis": "irreducible infeasible set", "elastic": "elastic relaxation"}[self.method]
        return [
            f"scenario '{self.scenario_name}' is infeasible: {self.headline()}",
            f"  conflicting constraints ({how}):",
            *(f"    {c.constraint}: {c.sentence}" for c in self.conflicts),
        ]


def _join(items: Sequence[str], most: int = 5) -> str:
    """ "a, b and c" — or "a; b; and c" when the items hold commas themselves."""
    shown = [*items[:most], *([f"{len(items) - most} more"] if len(items) > most else [])]
    if len(shown) == 1:
        return shown[0]
    if any(", " in item for item in shown):
        return "; ".join(shown[:-1]) + "; and " + shown[-1]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _periods(labels: Sequence[str]) -> str:
    if len(labels) <= 3:
        return _join(labels)
    return f"{labels[0]}–{labels[-1]} ({len(labels)} periods)"


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def _amount(x: float, resource: str) -> str:
    return f"{x:.4g} {RESOURCE_UNITS[resource]}"


def describe(m: pyo.ConcreteModel, inp: Inputs, family: str, index: Any, bound: float) -> Conflict:
    """The :class:`Conflict` of constraint ``family[index]`` (or of an effort bound) in scenario terms.

    ``bound`` is the right-hand side that binds (the upper bound for effort).
    """
    idx = index if isinstance(index, tuple) else () if index is None else (index,)
    period = str(idx[0]) if idx else None
    resource = activity = None
    is_limit = family in LIMITS
    if family == "velocity_hit_limit":
        regime = "post" if inp.post_acceleration[inp.periods.labels.index(period)] else "pre"
        phrase = f"velocity-hit cap {_pct(pyo.value(m.hit_cap[period]))} ({regime}-acceleration)"
    elif family == "safety_floor_limit":
        resource = idx[1]
        budget = pyo.value(m.budget[period, resource])
        share = pyo.value(m.safety_floor[resource])
        phrase = (
            f"safety floor of {_pct(share)} of {resource} "
            f"({_amount(share * budget, resource)} of a {_amount(budget, resource)} budget)"
        )
    elif family == "budget_limit":
        resource = idx[1]
        phrase = f"{resource} budget {_amount(pyo.value(m.budget[period, resource]), resource)}"
    elif family == "staff_growth":
        resource = "staff"
        phrase = f"staff growth cap {_pct(inp.staff_growth_max_per_year)} per year"
    elif family == "staff_reassignment":
        resource = "staff"
        phrase = (
            f"staff re-assignment limit {_amount(bound, 'staff')} "
            f"({_pct(inp.reassignment_share_per_year)} of staff per year plus new hires)"
        )
    elif family == "staff_initial":
        resource = "staff"
        share = (inp.initial_safety_share or 0.0) + inp.reassignment_share_per_year * inp.dt
        phrase = (
            f"safety staff in the first period at most {_pct(share)} of staff "
            f"(initial safety share {_pct(inp.initial_safety_share or 0.0)} plus one "
            "period of re-assignment)"
        )
    elif family == "max_effort":
        activity = idx[1]
        phrase = f"max_effort {bound:g} EU on {activity}"
    else:
        activity = idx[1] if family in ("stock_balance", "benefit_cut") else None
        phrase = f"{family} (model bookkeeping)"
    name = f"{family}[{','.join(map(str, idx))}]" if idx else family
    return Conflict(family, name, period, resource, activity, phrase, is_limit)


def _constraint_conflict(m: pyo.ConcreteModel, inp: Inputs, con: Any) -> Conflict:
    bound = con.upper if con.has_ub() else con.lower
    return describe(m, inp, con.parent_component().local_name, con.index(), pyo.value(bound))


def iis(m: pyo.ConcreteModel, inp: Inputs, run: HighsRunner) -> Diagnosis | None:
    """The IIS HiGHS computes for the model ``run`` has just found infeasible; None when HiGHS
    reports no set (see :meth:`HighsRunner.iis`)."""
    found = run.iis()
    if found is None:
        return None
    conflicts = [_constraint_conflict(m, inp, con) for con in found.rows]
    for var in found.upper_bounds:
        if var.parent_component().local_name == "effort" and var.has_ub():
            conflicts.append(describe(m, inp, "max_effort", var.index(), pyo.value(var.ub)))
    return Diagnosis(inp.scenario_name, "iis", tuple(conflicts))


def elastic(m: pyo.ConcreteModel, inp: Inputs) -> Diagnosis:
    """Relax every rule the scenario sets with a slack, minimize the total relative slack, and
    report the rules that had to give (works with any LP solver; not necessarily irreducible)."""
    e = m.clone()
    e.objective.deactivate()
    e.ELASTIC = pyo.ConstraintList()
    e.slack = pyo.VarList(domain=pyo.NonNegativeReals)
    weighted = []
    relaxed: list[tuple[Any, Any]] = []
    for family in LIMITS:
        block = getattr(e, family, None)
        if block is None or not isinstance(block, pyo.Constraint):
            continue
        for con in block.values():
            con.deactivate()
            for side in ("lower", "upper"):
                rhs = getattr(con, side)
                if rhs is None:
                    continue
                s = e.slack.add()
                body = con.body - s if side == "upper" else con.body + s
                e.ELASTIC.add(body <= rhs if side == "upper" else body >= rhs)
                weighted.append(s / max(1.0, abs(pyo.value(rhs))))
                relaxed.append((con, s))
    e.total_slack = pyo.Objective(expr=sum(weighted), sense=pyo.minimize)
    conflicts: list[Conflict] = []
    if load_any_solution(e):
        seen: set[str] = set()
        for con, s in relaxed:
            if (s.value or 0.0) > SLACK_TOLERANCE and con.name not in seen:
                seen.add(con.name)
                conflicts.append(_constraint_conflict(m, inp, con))
    return Diagnosis(inp.scenario_name, "elastic", tuple(conflicts))


def diagnose(
    m: pyo.ConcreteModel, inp: Inputs, run: HighsRunner | None = None, method: str = "auto"
) -> Diagnosis:
    """Explain why ``m`` is infeasible: the IIS of ``run`` (which found it infeasible) when
    ``method`` is "auto" or "iis" and HiGHS gives one, else the elastic relaxation."""
    if method not in ("auto", "iis", "elastic"):
        raise ValueError(f"method must be auto, iis or elastic, got {method!r}")
    found = iis(m, inp, run) if run is not None and method != "elastic" else None
    return found if found is not None else elastic(m, inp)
