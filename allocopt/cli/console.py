"""What the command line shows besides results: the global options ``--version``, ``--quiet`` and
``--verbose``, the ``allocopt`` logger's lines on stderr and whether progress bars show.

``--quiet`` / ``--verbose`` set the ``allocopt`` logger's level (WARNING / DEBUG; INFO
otherwise); progress bars show only at INFO or below (:func:`progress`).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from tqdm import tqdm

LOGGER = logging.getLogger("allocopt")
VERSIONED = ("allocopt", "pyomo", "highspy", "piqp")  # piqp: large trees' interior point


class _ToStderr(logging.Handler):
    """The ``allocopt`` logger's records on the current stderr, one line each (above a progress
    bar or line, which tqdm clears and draws again)."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record), file=sys.stderr)


_HANDLER = _ToStderr()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _installed(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(" ".join(f"{p} {_installed(p)}" for p in VERSIONED))
        raise typer.Exit()


def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the versions of allocopt, Pyomo, HiGHS (highspy) and PIQP and exit.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bars; log warnings and errors only."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log allocopt's debug messages.")
    ] = False,
) -> None:
    """Plan compute and staff between capabilities and safety work."""
    if quiet and verbose:
        raise typer.BadParameter("give --quiet or --verbose, not both", param_hint="--quiet")
    LOGGER.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    if _HANDLER not in LOGGER.handlers:
        LOGGER.addHandler(_HANDLER)


def progress() -> bool:
    """Whether to show progress bars: unless ``--quiet``."""
    return LOGGER.getEffectiveLevel() <= logging.INFO
