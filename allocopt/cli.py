"""The ``allocopt`` command line: a thin typer layer over the public API.

Exit codes: 0 ok (``optimal``, or ``locally_optimal``: a converged outer loop); 1 the model is
infeasible (the conflicting constraints are printed) or the solver failed (the message says
how); 2 bad input (one line per problem naming file, field and
what is allowed), an output path that cannot be written (checked before any solving) or a Dask
scheduler that cannot be reached. :func:`explain` alone maps errors to codes and lines; every
command runs its body inside :func:`_failing`. Heavy modules are imported inside the commands
that need them, so ``validate`` and ``--help`` start fast.

Every command that takes a scenario also takes ``--set FIELD=VALUE`` (repeatable),
``--override A,B`` (sets of the file's ``overrides:`` block) and ``--allow-path``, read by
:func:`_load`. The global options ``--quiet`` / ``--verbose`` set the ``allocopt`` logger's level
(WARNING / DEBUG; INFO otherwise), and progress bars show only at INFO or below.

Long: the module runs to ~500 lines because typer reads each command's options from its
signature: six commands, each declaring its options inline, beside the one error mapper.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from allocopt.analyses.runner import SchedulerUnreachable
from allocopt.errors import AllocoptError, InfeasibleError, ScenarioError, SolverError
from allocopt.results.files import atomic_write, check_writable
from allocopt.results.status import Status
from allocopt.scenario.load import load_scenario, parse_updates
from allocopt.scenario.schema import Scenario

DEFAULT_SCENARIO = Path("models/magma_baseline.yaml")
CORES = os.cpu_count() or 1
LOGGER = logging.getLogger("allocopt")
VERSIONED = ("allocopt", "pyomo", "highspy")

# plain click help: defaults shown as written ("[default: ...]"), flags without a type
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Plan compute and staff between capabilities and safety work.",
)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=True)]
AllowOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        metavar="FOLDER",
        help="A folder outside the scenario's project whose files the scenario may name "
        "(data tables, extends); repeatable.",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="FIELD=VALUE",
        help="Set a dotted scenario field (as Scenario.with_updates takes it), e.g. "
        "velocity.hit_cap_post_acceleration=0.3; VALUE is read as YAML (0.3, 1e3, null, "
        "[a, b]); repeatable, applied after --override.",
    ),
]
OverrideOption = Annotated[
    list[str] | None,
    typer.Option(
        "--override",
        metavar="A,B",
        help="Apply these sets of the scenario file's overrides: block, in order; repeatable.",
    ),
]
FromResultOption = Annotated[
    Path | None,
    typer.Option(
        "--from-result",
        help="Folder of a saved result (what `allocopt solve --out` or a report's result/ "
        "holds): its optimum is not solved again.",
    ),
]

WorkersOption = Annotated[int, typer.Option(min=1, help="Local worker processes.")]
SchedulerOption = Annotated[
    str | None, typer.Option(help="Dask scheduler address (e.g. tcp://host:8786).")
]


@dataclass
class _Doing:
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


def explain(exc: AllocoptError | OSError, doing: _Doing) -> tuple[int, list[str]]:
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
def _failing(source: Path | None = None) -> Iterator[_Doing]:
    """Run a command's body; turn the package's errors (and OSError) into :func:`explain`'s lines
    on stderr and its exit code, with no traceback. Yields the :class:`_Doing` to keep current."""
    doing = _Doing(source)
    try:
        yield doing
    except (AllocoptError, OSError) as exc:
        code, lines = explain(exc, doing)
        for line in lines:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code) from None


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


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the versions of allocopt, Pyomo and HiGHS (highspy) and exit.",
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


def _progress() -> bool:
    """Whether to show progress bars: unless ``--quiet``."""
    return LOGGER.getEffectiveLevel() <= logging.INFO


def _load(
    path: Path,
    allow: list[Path] | None = None,
    sets: list[str] | None = None,
    override: list[str] | None = None,
) -> Scenario:
    """Load ``path`` with the command's ``--allow-path``, ``--override`` and ``--set``."""
    if path == DEFAULT_SCENARIO and not path.exists():
        raise ScenarioError(f"{path}: not found; run from the allocopt checkout or name a scenario")
    names = [n.strip() for group in override or () for n in group.split(",") if n.strip()]
    return load_scenario(
        path,
        allow=allow or (),
        overrides=names,
        updates=parse_updates(sets or []),
        labels=("--override", "--set"),
    )


@app.command()
def solve(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the result tables.  [default: results/<scenario name>]"),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Seconds HiGHS may run (overrides solver.time_limit_seconds).",
        ),
    ] = None,
    allow_nonoptimal: Annotated[
        bool,
        typer.Option(
            "--allow-nonoptimal",
            help="Write the best solution found when HiGHS stops short of an optimum "
            "(marked NOT OPTIMAL) instead of failing.",
        ),
    ] = False,
    starts: Annotated[
        int,
        typer.Option(
            min=1,
            help="Run the outer loop (endogenous capability) from N starting schedules: full "
            "speed, the essay's rule, never slowing, then seeded random ones; keep the best and "
            "report the spread (starts.csv).",
        ),
    ] = 1,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
    workers: WorkersOption = CORES,
    scheduler: SchedulerOption = None,
) -> None:
    """Solve a scenario, print a summary and write the result tables as CSV.

    With an uncertainty: block, also evaluate the optimum on its samples (Monte Carlo, through
    --workers or --scheduler) and write montecarlo_*.csv beside the tables. With a tree: block,
    solve the scenario tree as one stochastic program instead and write tree_*.csv and
    tree_plan.png."""
    from allocopt.run import OUTCOMES_FILE, TREE_FIGURE, run_scenario

    with _failing(scenario) as doing:
        loaded = _load(scenario, allow_path, set_, override)
        if time_limit is not None:
            loaded = _with_option("--time-limit", loaded, "solver.time_limit_seconds", time_limit)
        folder = out or Path("results") / loaded.name
        tree = loaded.tree is not None
        doing.writes(folder, "the tree tables" if tree else "the result tables")
        run = run_scenario(
            loaded,
            folder,
            allow_nonoptimal=allow_nonoptimal,
            starts=starts,
            workers=workers,
            scheduler=scheduler,
            progress=_progress(),
            on_step=doing.step,
        )
    typer.echo(run.solved.text_summary())
    if tree:
        typer.echo(
            f"  tables and {TREE_FIGURE} written to {folder}/ (tree_*.csv: one plan per branch)"
        )
        return
    if run.monte_carlo is not None:
        typer.echo(run.monte_carlo.text_summary("the deterministic optimum above"))
    typer.echo(f"  tables written to {folder}/")
    if run.outcome is not None:
        typer.echo("\n".join(run.outcome.lines()))
        typer.echo(f"  outcome values written to {folder / OUTCOMES_FILE}")


def _with_option(option: str, scenario: Scenario, field: str, value: object) -> Scenario:
    """``scenario`` with ``field`` set from a command-line ``option``; its problems name it."""
    try:
        return scenario.with_updates({field: value})
    except ScenarioError as exc:
        inner = (line.removeprefix(f"scenario '{scenario.name}': ") for line in exc.problems)
        raise ScenarioError([f"{option} {line}" for line in inner]) from None


@app.command()
def sweep(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="FIELD=LO:HI:N (repeatable), e.g. risk.cuts=8:24:3."),
    ] = None,
    grid: Annotated[bool, typer.Option(help="Every combination instead of one at a time.")] = False,
    workers: WorkersOption = CORES,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for sweep.csv and figures.  [default: results/<name>_sweep]"),
    ] = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Solve a scenario over a sweep of fields; write one tidy table and tornado / heat-map figures.

    Fast (warm re-solves) on a core program such as models/magma_core.yaml; a scenario with
    endogenous capability runs the outer loop at every point."""
    from allocopt.analyses.runner import executor
    from allocopt.analyses.sweep import Parameter
    from allocopt.analyses.sweep import sweep as run
    from allocopt.plot.explore import save_sweep

    with _failing(scenario) as doing:
        loaded = _load(scenario, allow_path, set_, override)
        if not param:
            raise ScenarioError("give at least one --param FIELD=LO:HI:N")
        params = [Parameter.parse(p) for p in param]
        for p in params:  # a mistyped field, named as the option
            _with_option("--param", loaded, p.field, p.values[0])
        folder = doing.writes(out or Path("results") / f"{loaded.name}_sweep", "the sweep table")
        check_writable(folder)
        with executor(workers, scheduler) as ex:
            table = run(loaded, params, full_grid=grid, executor=ex, progress=_progress())
        save_sweep(table, folder, loaded.name)
    counts = table.status.value_counts()
    found = [
        f"{counts[s.value]} {s.value.replace('_', ' ')}"
        for s in Status
        if s.is_local_optimum and s.value in counts
    ]
    typer.echo(f"{len(table)} points ({', '.join(found) or '0 optimal'}) written to {folder}/")


def _grid(option: str, spec: str) -> tuple[float, ...]:
    """The values of a ``LO:HI:N`` option (N evenly spaced values from LO to HI)."""
    from allocopt.analyses.sweep import Parameter

    try:
        return Parameter.parse(f"grid={spec}").values
    except ScenarioError:
        raise ScenarioError(f"{option} {spec!r}: expected LO:HI:N, e.g. 0:1:5") from None


@app.command()
def outcomes(
    scenario: ScenarioArg = Path("models/magma_outcomes.yaml"),
    plausibility: Annotated[
        str, typer.Option(help="Pause plausibilities LO:HI:N (probability a pause succeeds).")
    ] = "0:1:5",
    lag: Annotated[str, typer.Option(help="Lags behind the frontier LO:HI:N (years).")] = "0:2:5",
    workers: WorkersOption = CORES,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for outcome_map and outcome_decomposition .csv and .png.  "
            "[default: results/<name>_outcomes]"
        ),
    ] = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Map the outcome chosen after acceleration over pause plausibility × lag (essay Appendix A)."""
    from allocopt.analyses.outcomes import outcome_map
    from allocopt.analyses.runner import executor
    from allocopt.plot.outcomes import save_outcome_map

    with _failing(scenario) as doing:
        doing.subject = SUBJECTS["outcomes"]
        loaded = _load(scenario, allow_path, set_, override)
        ps, lags = _grid("--plausibility", plausibility), _grid("--lag", lag)
        folder = doing.writes(out or Path("results") / f"{loaded.name}_outcomes", "the outcome map")
        check_writable(folder)
        with executor(workers, scheduler) as ex:
            table = outcome_map(loaded, ps, lags, executor=ex, progress=_progress())
        save_outcome_map(table, folder, loaded.name)
    counts = table.chosen.value_counts().to_dict()
    typer.echo(f"{len(table)} points ({counts}) written to {folder}/")


@app.command()
def compare(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[Path | None, typer.Option(help="Also write the table to this CSV file.")] = None,
    from_result: FromResultOption = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Compare the optimum with the essay's rule, 'never slow down' and 'capabilities only'.

    With --from-result the saved optimum and its scenario are used (the optimum is not solved
    again; 'never slow down' still is)."""
    from allocopt.analyses.policies import compare as run
    from allocopt.results.names import label, unit
    from allocopt.results.store import load_result

    with _failing(scenario) as doing:
        if from_result is not None and (set_ or override):
            raise ScenarioError(
                "--set/--override change a scenario: with --from-result the saved one is used"
            )
        optimum = load_result(from_result) if from_result is not None else None
        loaded = optimum.scenario if optimum else _load(scenario, allow_path, set_, override)
        if out is not None:
            check_writable(doing.writes(out, "the comparison table"), folder=False)
        table = run(loaded, optimum)
        if out is not None:  # one file, whole or not at all (no folder: no manifest)
            atomic_write(
                out,
                lambda tmp: table.to_csv(
                    tmp, index=False, float_format="%.10g", lineterminator="\n"
                ),
            )
    shown = table.copy()
    for column in ("risk_reduction", "mean_velocity_hit", "velocity_lost_years"):
        shown[column] = shown[column].map("{:.4f}".format)
    for column in ("probability_with_plan_and_postponed", "share_of_optimum"):
        shown[column] = shown[column].map("{:.1%}".format)
    typer.echo(
        f"scenario {loaded.name}: risk_reduction is the {label('risk_reduction_exact').lower()}, "
        f"in {unit('risk_reduction_exact')}; probability_with_plan_and_postponed is the "
        f"{label('probability_with_plan_and_postponed').lower()}"
    )
    typer.echo(shown.to_string(index=False))


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Check scenario files and their tables without solving; report every problem."""
    with _failing():
        problems: list[str] = []
        for path in scenarios:
            try:
                loaded = _load(path, allow_path, set_, override)
            except ScenarioError as exc:  # collected: every file is checked
                problems += [p for p in exc.problems if p not in problems]  # --set's once
                continue
            typer.echo(
                f"{path}: ok ({len(loaded.periods())} periods, "
                f"{len(loaded.tables.interventions)} interventions)"
            )
        if problems:
            raise ScenarioError(problems)


@app.command()
def report(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML file.  [default: models/magma_baseline.yaml; none with --from-result]"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the report.  [default: results/<scenario name>_report]"),
    ] = None,
    from_result: FromResultOption = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Write figures, tables, the saved result and an HTML page for a scenario."""
    from allocopt.optimize.pipeline import solve as run
    from allocopt.report import write_report
    from allocopt.results.store import load_result
    from allocopt.run import OuterLine

    path = scenario or DEFAULT_SCENARIO
    with _failing(path) as doing:
        if (set_ or override) and scenario is None and from_result is not None:
            raise ScenarioError(
                "--set/--override change a scenario: name the scenario file too "
                "(--from-result alone solves nothing)"
            )
        loaded = _load(path, allow_path, set_, override) if scenario or not from_result else None
        result = load_result(from_result) if from_result is not None else None
        if loaded is not None and result is not None and loaded.name != result.scenario_name:
            raise ScenarioError(
                f"{from_result}: holds scenario '{result.scenario_name}', "
                f"not '{loaded.name}' named by {path}"
            )
        name = result.scenario_name if result is not None else loaded.name
        folder = doing.writes(out or Path("results") / f"{name}_report", "the report")
        check_writable(folder)
        if result is None:
            with OuterLine() as line:
                result = run(loaded, on_iteration=line if _progress() else None)
        page = write_report(result, folder)
    typer.echo(result.text_summary())
    typer.echo(f"  report written to {page}")


if __name__ == "__main__":
    app()
