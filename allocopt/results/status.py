"""Solver statuses a result can carry. ``optimal`` is a proven optimum; ``locally_optimal`` a
converged outer loop (a local optimum of the nonconvex endogenous program, not proven global);
anything else is marked ``NOT OPTIMAL`` wherever a result is shown."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a solve ended. A ``str``, so it compares with and writes as its value (``"optimal"``).

    >>> Status("time_limit") is Status.TIME_LIMIT, Status.TIME_LIMIT == "time_limit"
    (True, True)
    >>> [s.value for s in Status if s.is_optimal]  # a proven, checked optimum, nothing else
    ['optimal']
    >>> [s.value for s in Status if s.is_local_optimum]  # what a solve returns unasked
    ['optimal', 'locally_optimal']
    """

    OPTIMAL = "optimal"  # HiGHS proved an optimum and the exact simulator found no violation
    # the outer loop for endogenous capability converged at a point that violates nothing: a
    # local optimum of a nonconvex program (up to the tangent cuts' accuracy), not proven global
    LOCALLY_OPTIMAL = "locally_optimal"
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

    @property
    def is_local_optimum(self) -> bool:
        """True for a checked optimum, proven (``optimal``) or local (``locally_optimal``): the
        ends a solve returns without ``allow_nonoptimal`` and shows without a NOT OPTIMAL mark."""
        return self in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL)
