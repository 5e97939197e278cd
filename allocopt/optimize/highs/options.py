"""HiGHS's options as this package sets them: the tolerance and algorithms chosen by measurement,
the objective's scale, the scenario's ``solver:`` block by HiGHS's names, and the thread count of
HiGHS's process-wide scheduler."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

# HiGHS's default dual feasibility tolerance (1e-7) is absolute, and this model's costs (hazard per
# year x period length x benefit slope) can be ~1e-6: "optimal" then stopped up to ~1% short of
# the optimum on short, low-hazard scenarios (measured); 1e-9 closes that gap at ~20% more time.
DUAL_TOLERANCE = 1e-9
# a new objective on a program just solved (solve_instead): from the old optimal basis, extended
# to a primal feasible one (Extension.basic), primal simplex needs 230-300 iterations on the
# endogenous baseline's tie-break (1,000-1,400 with the new rows' slacks basic); dual simplex or
# HiGHS's choice from either basis took ten times longer; steepest-edge pricing took twice as long
# as HiGHS's default (devex) and Dantzig's 10% longer
PRIMAL = {"solver": "simplex", "simplex_strategy": 4}
IPM_FROM_COLUMNS = 2000  # measured: above this, interior point + crossover beats dual simplex cold
# log2 of the band the median nonzero cost is scaled into (objective_scale): that of the bundled
# scenarios (2^-7.7 to 2^-4.9), on which DUAL_TOLERANCE was measured to reach the optimum
COST_BAND = (-8, 0)
# each field of the scenario's solver: block (allocopt.scenario.config.Solver) by HiGHS's name
SETTINGS: dict[str, str] = {"time_limit_seconds": "time_limit", "threads": "threads"}
NOT_HIGHS = frozenset({"smooth_tolerance"})  # fields of the solver: block that HiGHS never sees
_scheduler: list[int] = []  # the threads HiGHS's process-wide scheduler was last started with


def cold_algorithm(m: pyo.ConcreteModel) -> str:
    """HiGHS algorithm for a first solve of ``m``: HiGHS's choice (dual simplex for an LP) for
    small models, interior point (with crossover, so duals and the warm-start basis stay clean)
    from IPM_FROM_COLUMNS columns."""
    return "ipm" if m.nvariables() >= IPM_FROM_COLUMNS else "choose"


def objective_scale(cost: Sequence[float]) -> int:
    """The power of two HiGHS multiplies the costs ``cost`` by (its ``user_objective_scale``) so
    that their median nonzero magnitude lies in :data:`COST_BAND`: HiGHS's tolerances are
    absolute, so costs far below them (tiny hazards) stop HiGHS short of the optimum. Costs
    already in the band are left alone (0)."""
    magnitude = np.abs(np.asarray(cost, dtype=float))
    magnitude = magnitude[magnitude > 0]
    if not len(magnitude):
        return 0
    low, high = COST_BAND
    median = float(np.log2(np.median(magnitude)))
    return int(np.clip(0, math.ceil(low - median), math.floor(high - median)))


def option_of(highs: highspy.Highs, name: str) -> Any:
    """The value ``highs`` holds for its option ``name``."""
    value = highs.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value  # (status, value) in some highspy


def use_threads(threads: int) -> None:
    """Make HiGHS's scheduler (one per process, started by the first run) run ``threads``
    threads (0: HiGHS's choice) before a run with that ``threads`` option: HiGHS refuses to run
    (status ``kNotset``) when the option differs from the scheduler's count."""
    if _scheduler != [threads]:
        highspy.Highs.resetGlobalScheduler(True)
        _scheduler[:] = [threads]
