"""How a command fails: one line per problem on stderr and an exit code, with no traceback.

Exit codes: 0 ok; 1 the model is infeasible (the conflicting constraints are printed) or the
solver failed (the message says how); 2 bad input (one line per problem naming file, field and
what is allowed), an output path that cannot be written (checked before any solving) or a Dask
scheduler that cannot be reached. :func:`explain` alone maps errors to codes and lines; every
command runs its body inside :func:`failing`, keeping its :class:`Doing` current.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from allocopt.analyses.runner import SchedulerUnreachable
from allocopt.errors import AllocoptError, InfeasibleError, ScenarioError, SolverError


@dataclass
class Doing:
    """What a command is doing, for the one line an error prints: the scenario file a solver
    failure names, what could not be solved, the output (folder or file) and what it holds."""

    source: Path | None = None
    subject: str = "the model"
    output: Path | None = None
    holding: str = ""

    def writes(self, output: Path, holding: str) -> Path:
        """Note the command's output (folder or file) and what it holds; returns ``output``."""
        self.output, self.holding = output, holding
        return output

    def step(self, name: str) -> None:
        """Follow :func:`~allocopt.run.run_scenario`'s steps (its ``on_step``)."""
        self.subject = SUBJECTS.get(name, self.subject)


SUBJECTS = {"solve": "the model", "tree": "the scenario tree", "outcomes": "an outcome"}


def explain(exc: AllocoptError | OSError, doing: Doing) -> tuple[int, list[str]]:
    """The exit code and the lines to print for an error a command raised while ``doing``:
    ScenarioError 2 (its problems), InfeasibleError 1 (the diagnosis), SolverError 1, an
    unreachable Dask scheduler 2, any other OSError 2 (one line naming the output that cannot be
    written, else the file involved), any other allocopt error 1."""
    where = f"{doing.source}: " if doing.source else ""
    if isinstance(exc, ScenarioError):
        return 2, exc.problems
    if isinstance(exc, InfeasibleError):
        first, *rest = exc.diagnosis.lines()
        return 1, [f"{where}{first}", *rest]
    if isinstance(exc, SolverError):
        return 1, [f"{where}{doing.subject} could not be solved: {exc}"]
    if isinstance(exc, SchedulerUnreachable):
        return 2, [f"--scheduler {exc.address}: cannot reach the Dask scheduler ({exc})"]
    if isinstance(exc, OSError) and doing.output is not None:
        return 2, [f"{doing.output}: cannot write {doing.holding} ({exc.strerror or exc})"]
    if isinstance(exc, OSError):
        return 2, [f"{exc.filename}: {exc.strerror or exc}"]
    return 1, [f"{where}{exc}"]


@contextmanager
def failing(source: Path | None = None) -> Iterator[Doing]:
    """Run a command's body; turn the package's errors (and OSError) into :func:`explain`'s lines
    on stderr and its exit code, with no traceback. Yields the :class:`Doing` to keep current."""
    doing = Doing(source)
    try:
        yield doing
    except (AllocoptError, OSError) as exc:
        code, lines = explain(exc, doing)
        for line in lines:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code) from None
