"""Why a model is infeasible, as HiGHS finds it: an irreducible infeasible set (IIS) of the model
handed to Pyomo's persistent HiGHS interface, read back as Pyomo components."""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.optimize.highs.arrays import INF
from allocopt.optimize.highs.options import option_of

# HiGHS finds an infeasible subset with an elastic LP, then deletes rows until it is irreducible;
# the default strategy (a light bounds test) often reports an empty set for this model.
IIS_STRATEGY = int(highspy.IisStrategy.kIisStrategyFromLp) | int(
    highspy.IisStrategy.kIisStrategyIrreducible
)
IIS_UPPER = frozenset(
    {
        int(highspy.IisBoundStatus.kIisBoundStatusUpper),
        int(highspy.IisBoundStatus.kIisBoundStatusBoxed),
    }
)


@dataclass(frozen=True)
class Iis:
    """An irreducible infeasible set as Pyomo components: its rows, and the variables whose
    upper bound belongs to it."""

    rows: tuple[pyo.ConstraintData, ...]
    upper_bounds: tuple[pyo.VarData, ...]


def find_iis(solver: Highs, time_limit: float | None) -> Iis | None:
    """The IIS HiGHS computes for the model that ``solver`` (Pyomo's persistent HiGHS
    interface) has just found infeasible; None when HiGHS reports no set (or this Pyomo version
    hides its row and column maps).

    HiGHS computes it at its default options (``solver``'s threads kept, and a time limit of
    ``time_limit`` seconds, None: none): under the runner's
    :data:`~allocopt.optimize.highs.options.DUAL_TOLERANCE` (set for the optimum, not for feasibility) the
    deletion filter cannot confirm that a row may go, so on the endogenous program HiGHS
    returned a set it calls reducible, with a warning (tests/infeasible/frozen_headcount.yaml:
    12 rows, where the IIS has 9; floor_beyond_staff.yaml: 3,088 rows after three minutes,
    where it has 2). It is computed on a fresh HiGHS holding a copy of the LP, with presolve
    off: on the endogenous program with salvage HiGHS 1.16's elasticity filter fails its
    first elastic LP ("unknown model status") and returns all 8,842 rows, flagged reducible
    or unknown, both in the solving instance (whatever its presolve) and in a fresh one with
    presolve on (floor_beyond_staff.yaml, where the IIS has 2 rows, found in 0.1 s so).
    The solving instance is left as it was."""
    highs = getattr(solver, "_solver_model", None)
    rows = getattr(solver, "_solver_con_to_pyomo_con_map", None)
    cols = getattr(solver, "_pyomo_var_to_solver_var_map", None)
    known = getattr(solver, "_vars", None)
    if highs is None or rows is None or cols is None or known is None:
        return None
    fresh = highspy.Highs()
    for name, value in (
        ("output_flag", False),
        ("threads", option_of(highs, "threads")),
        ("time_limit", INF if time_limit is None else time_limit),
        ("iis_strategy", IIS_STRATEGY),
        ("presolve", "off"),
    ):
        fresh.setOptionValue(name, value)
    fresh.passModel(highs.getLp())
    status, found = fresh.getIis()
    if status != highspy.HighsStatus.kOk or not found.valid_ or not list(found.row_index_):
        return None
    var_of = {ndx: known[vid][0] for vid, ndx in cols.items()}
    upper = tuple(
        var_of[c]
        for c, how in zip(found.col_index_, found.col_bound_, strict=True)
        if int(how) in IIS_UPPER
    )
    return Iis(tuple(rows[r] for r in found.row_index_), upper)
