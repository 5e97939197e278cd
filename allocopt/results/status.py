"""Solver statuses a result can carry; anything but ``optimal`` is marked wherever a result is shown."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a solve ended. A ``str``, so it compares with and writes as its value (``"optimal"``).

    >>> Status("time_limit") is Status.TIME_LIMIT, Status.TIME_LIMIT == "time_limit"
    (True, True)
    >>> [s.value for s in Status if s.is_optimal]  # a checked optimum, nothing else
    ['optimal']
    """

    OPTIMAL = "optimal"  # HiGHS proved an optimum and the exact simulator found no violation
    INFEASIBLE = (
        "infeasible"  # no allocation satisfies every constraint (see allocopt.optimize.diagnose)
    )
    UNBOUNDED = "unbounded"  # the objective can grow without limit (a modelling error)
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"  # presolve could not tell which
    TIME_LIMIT = "time_limit"  # stopped at solver.time_limit_seconds; best solution, if any
    ITERATION_LIMIT = "iteration_limit"  # stopped at an iteration limit; best solution, if any
    NUMERICAL_TROUBLE = "numerical_trouble"  # HiGHS failed to converge cleanly
    CHECK_FAILED = "check_failed"  # HiGHS reported an optimum that violates a constraint when the
    #   exact simulator re-checks it (numerical trouble, or an approximation of the LP that is off)
    SOLVER_ERROR = "solver_error"  # HiGHS refused the model or crashed
    NOT_CONVERGED = "not_converged"  # the outer loop for endogenous capability hit max_iterations

    @property
    def is_optimal(self) -> bool:
        """True only for a proven optimum that passed the independent check."""
        return self is Status.OPTIMAL
