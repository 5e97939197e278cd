"""Error types raised where problems are detected; only the CLI turns them into exit codes."""

from __future__ import annotations

from allocopt.diagnosis import Diagnosis


class AllocoptError(Exception):
    """Base class of every error allocopt raises on purpose."""


class ScenarioError(AllocoptError):
    """Bad input: a scenario file or data table that does not validate.

    ``problems`` holds one line per problem, each naming the file, the field and what is allowed.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple:
        # pickle by its problems, so errors cross process pools (Monte Carlo workers) one per line
        return (type(self), (self.problems,))


class SolverError(AllocoptError):
    """The solver did not return an optimal solution.

    ``status`` is an :class:`allocopt.results.status.Status` value (``unbounded``, ``time_limit``,
    ``numerical_trouble``, ...); the message says what HiGHS reported.
    """

    def __init__(self, status: str, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")

    def __reduce__(self) -> tuple:
        # pickle by constructor arguments, so errors cross process pools (sweeps) intact
        return (type(self), (self.status, self.message))


class InfeasibleError(SolverError):
    """No allocation satisfies the scenario's constraints.

    ``diagnosis`` (:class:`allocopt.diagnosis.Diagnosis`) lists the conflicting constraints as data —
    period, family, resource, activity and a sentence each — and ``str(error)`` explains them.
    """

    def __init__(self, diagnosis: Diagnosis) -> None:
        self.diagnosis = diagnosis
        super().__init__("infeasible", diagnosis.headline())

    def __reduce__(self) -> tuple:
        return (type(self), (self.diagnosis,))
