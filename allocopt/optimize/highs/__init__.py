"""The one package that talks to HiGHS: highspy and Pyomo's HiGHS interface (its private maps too).

Two ways in. :mod:`~allocopt.optimize.highs.runner` hands a Pyomo model to HiGHS through Pyomo's
persistent interface and solves it, warm after in-place Param changes (with
:mod:`~allocopt.optimize.highs.coefficients`, which pushes only the changed values of
mutable-Param coefficients, :mod:`~allocopt.optimize.highs.extension`, a solve with columns, rows
and an objective added for once, and :mod:`~allocopt.optimize.highs.iis`, why a model is
infeasible); :mod:`~allocopt.optimize.highs.arrays` is HiGHS at array level, for programs
assembled from arrays. :mod:`~allocopt.optimize.highs.options` holds HiGHS's options as this
package sets them, :mod:`~allocopt.optimize.highs.model_status` reads how a run ended. Every
other module uses only this API, so a change of HiGHS or Pyomo versions touches this package
alone (tests/optimize/test_highs.py greps the rest of the package for ``highspy`` and the private
attributes). The names other modules use are re-exported here.
"""

from __future__ import annotations

from allocopt.optimize.highs.arrays import INF, ArrayLp, LpArrays
from allocopt.optimize.highs.coefficients import Coefficients
from allocopt.optimize.highs.extension import Extension
from allocopt.optimize.highs.iis import Iis
from allocopt.optimize.highs.model_status import classify
from allocopt.optimize.highs.options import (
    COST_BAND,
    DUAL_TOLERANCE,
    NOT_HIGHS,
    SETTINGS,
    cold_algorithm,
    objective_scale,
)
from allocopt.optimize.highs.runner import HighsRunner, Solved, load_any_solution, run_highs

__all__ = [
    "COST_BAND",
    "DUAL_TOLERANCE",
    "INF",
    "NOT_HIGHS",
    "SETTINGS",
    "ArrayLp",
    "Coefficients",
    "Extension",
    "HighsRunner",
    "Iis",
    "LpArrays",
    "Solved",
    "classify",
    "cold_algorithm",
    "load_any_solution",
    "objective_scale",
    "run_highs",
]
