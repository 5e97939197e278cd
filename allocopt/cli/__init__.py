"""The ``allocopt`` command line: a thin typer layer over the public API.

Exit codes: 0 ok (``optimal``, or ``locally_optimal``: a converged outer loop); 1 the model is
infeasible (the conflicting constraints are printed) or the solver failed (the message says
how); 2 bad input (one line per problem naming file, field and what is allowed), an output path
that cannot be written (checked before any solving) or a Dask scheduler that cannot be reached.

One module per job: :mod:`~allocopt.cli.failing` maps every error to its exit code and lines
(:func:`explain`), :mod:`~allocopt.cli.console` holds the global options, logging and whether
progress shows, :mod:`~allocopt.cli.options` the options commands share and how a scenario is
read; the commands live by family in :mod:`~allocopt.cli.solving` (``solve``, ``report``),
:mod:`~allocopt.cli.exploring` (``sweep``, ``outcomes``, ``compare``) and
:mod:`~allocopt.cli.checking` (``validate``). This module builds the typer :data:`app` from
them. Heavy modules are imported inside the commands that need them, so ``validate`` and
``--help`` start fast.
"""

from __future__ import annotations

import typer

from allocopt.cli.checking import validate
from allocopt.cli.console import main
from allocopt.cli.exploring import compare, outcomes, sweep
from allocopt.cli.failing import Doing, explain
from allocopt.cli.solving import report, solve

__all__ = ["Doing", "app", "explain"]

# plain click help: defaults shown as written ("[default: ...]"), flags without a type
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Plan compute and staff between capabilities and safety work.",
)
app.callback()(main)
for command in (solve, sweep, outcomes, compare, validate, report):  # the order --help lists
    app.command()(command)
