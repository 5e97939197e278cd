"""Error types raised where problems are detected; only the CLI turns them into exit codes."""

from __future__ import annotations


class AllocoptError(Exception):
    """Base class of every error allocopt raises on purpose."""


class ScenarioError(AllocoptError):
    """Bad input: a scenario file or data table that does not validate.

    ``problems`` holds one line per problem, each naming the file, the field and what is allowed.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SolverError(AllocoptError):
    """The solver did not return an optimal solution (infeasible, unbounded, time limit, ...)."""

    def __init__(self, status: str, message: str) -> None:
        self.status = status
        super().__init__(f"{status}: {message}")
