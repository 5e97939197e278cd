"""Why a scenario is infeasible: an irreducible infeasible set (IIS) from HiGHS, or an elastic
relaxation where HiGHS gives none, mapped back to the model's constraints and told in the
scenario's words ("2025Q4: velocity-hit cap 5% conflicts with the safety floor of 10% of compute").
"""

from __future__ import annotations

from typing import Any

import highspy
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.diagnosis import Conflict, Diagnosis
from allocopt.model.family import Told, families_of, rows_by_name
from allocopt.numeric.inputs import Inputs

# HiGHS finds an infeasible subset with an elastic LP, then deletes rows until it is irreducible;
# the default strategy (a light bounds test) often reports an empty set for this model.
IIS_STRATEGY = int(highspy.IisStrategy.kIisStrategyFromLp) | int(
    highspy.IisStrategy.kIisStrategyIrreducible
)
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
    bound = con.upper if con.has_ub() else con.lower
    return describe(m, inp, con.parent_component().local_name, con.index(), pyo.value(bound))


def iis(m: pyo.ConcreteModel, inp: Inputs, solver: Highs) -> Diagnosis | None:
    """The IIS HiGHS computes for the model ``solver`` has just found infeasible; None when
    HiGHS reports no set (or this Pyomo version hides its row and column maps)."""
    highs = getattr(solver, "_solver_model", None)
    rows = getattr(solver, "_solver_con_to_pyomo_con_map", None)
    cols = getattr(solver, "_pyomo_var_to_solver_var_map", None)
    known = getattr(solver, "_vars", None)
    if highs is None or rows is None or cols is None or known is None:
        return None
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("iis_strategy", IIS_STRATEGY)
    status, found = highs.getIis()
    if status != highspy.HighsStatus.kOk or not found.valid_ or not list(found.row_index_):
        return None
    var_of = {ndx: known[vid][0] for vid, ndx in cols.items()}
    conflicts = [_constraint_conflict(m, inp, rows[r]) for r in found.row_index_]
    upper = {int(highspy.IisBoundStatus.kIisBoundStatusUpper)}
    upper.add(int(highspy.IisBoundStatus.kIisBoundStatusBoxed))
    for c, how in zip(found.col_index_, found.col_bound_, strict=True):
        var = var_of[c]
        if var.parent_component().local_name == "effort" and int(how) in upper and var.has_ub():
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
    solver = Highs()
    solver.config.raise_exception_on_nonoptimal_result = False
    solver.config.load_solutions = False
    results = solver.solve(e)
    conflicts: list[Conflict] = []
    if results.solution_status.name in ("optimal", "feasible"):
        results.solution_loader.load_vars()
        seen: set[str] = set()
        for con, s in relaxed:
            if (s.value or 0.0) > SLACK_TOLERANCE and con.name not in seen:
                seen.add(con.name)
                conflicts.append(_constraint_conflict(m, inp, con))
    return Diagnosis(inp.scenario_name, "elastic", tuple(conflicts))


def diagnose(
    m: pyo.ConcreteModel, inp: Inputs, solver: Highs | None = None, method: str = "auto"
) -> Diagnosis:
    """Explain why ``m`` is infeasible: the IIS of ``solver`` (which found it infeasible) when
    ``method`` is "auto" or "iis" and HiGHS gives one, else the elastic relaxation."""
    if method not in ("auto", "iis", "elastic"):
        raise ValueError(f"method must be auto, iis or elastic, got {method!r}")
    found = iis(m, inp, solver) if solver is not None and method != "elastic" else None
    return found if found is not None else elastic(m, inp)
