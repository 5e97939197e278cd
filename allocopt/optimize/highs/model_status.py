"""HiGHS's model status, read as this package's :class:`~allocopt.results.status.Status`."""

from __future__ import annotations

from typing import Any

from allocopt.results.status import Status

# HiGHS model status (by name, so statuses added by later HiGHS versions fall to SOLVER_ERROR)
HIGHS_STATUS: dict[str, Status] = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": Status.UNBOUNDED,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.ITERATION_LIMIT,
    "kSolutionLimit": Status.ITERATION_LIMIT,
    "kSolveError": Status.NUMERICAL_TROUBLE,
    "kPostsolveError": Status.NUMERICAL_TROUBLE,
    "kUnknown": Status.NUMERICAL_TROUBLE,
}
PRIMAL_FEASIBLE = 2  # HighsInfo.primal_solution_status of a feasible point


def classify(model_status: Any) -> Status:
    """The :class:`Status` of a ``highspy.HighsModelStatus``."""
    return HIGHS_STATUS.get(getattr(model_status, "name", ""), Status.SOLVER_ERROR)
