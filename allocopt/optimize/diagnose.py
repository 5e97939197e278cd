"""Why a scenario is infeasible: an irreducible infeasible set (IIS) from HiGHS, or an elastic
relaxation where HiGHS gives none, mapped back to the model's constraints and told in the
scenario's words ("2025Q4: velocity-hit cap 5% conflicts with the safety floor of 10% of compute").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyomo.environ as pyo

from allocopt.diagnosis import Conflict, Diagnosis
from allocopt.model.family import Told, families_of, row_scale, rows_by_name
from allocopt.numeric.inputs import Inputs
from allocopt.optimize.highs.runner import load_any_solution

if TYPE_CHECKING:
    from allocopt.optimize.highs.runner import HighsRunner

SLACK_TOLERANCE = 1e-7


def describe(m: pyo.ConcreteModel, inp: Inputs, family: str, index: Any, bound: float) -> Conflict:
    """The :class:`Conflict` of constraint ``family[index]`` (or of an effort bound) in scenario
    terms, as the row's owner among the families ``m`` was built from tells it
    (:class:`allocopt.model.family.Row`); a row no family owns is model bookkeeping.

    ``bound`` is the right-hand side that binds (the upper bound for effort).
    """
    idx = index if isinstance(index, tuple) else () if index is None else (index,)
    period = str(idx[0]) if idx else None
    row = rows_by_name(families_of(m)).get(family)
    if row is not None and row.told is not None:
        told = row.told(m, inp, idx, bound)
    else:
        at = row.activity_at if row is not None else None
        told = Told(f"{family} (model bookkeeping)", activity=idx[at] if at is not None else None)
    name = f"{family}[{','.join(map(str, idx))}]" if idx else family
    rank = row.rank if row is not None else None
    return Conflict(family, name, period, told.resource, told.activity, told.phrase, rank)


def _constraint_conflict(m: pyo.ConcreteModel, inp: Inputs, con: Any) -> Conflict:
    bound = pyo.value(con.upper if con.has_ub() else con.lower) / row_scale(m, con)  # user units
    return describe(m, inp, con.parent_component().local_name, con.index(), bound)


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
    rules = [r for r in rows_by_name(families_of(m)).values() if r.rank is not None]
    for rule in sorted(rules, key=lambda r: r.rank):
        block = getattr(e, rule.name, None)
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
