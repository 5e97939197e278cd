"""The ``allocopt`` command line: a thin typer layer over the public API.

Exit codes: 0 ok; 1 the model is infeasible (the conflicting constraints are printed) or the
solver failed (the message says how); 2 bad input (one line per problem naming file, field and
what is allowed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocopt.errors import InfeasibleError, ScenarioError, SolverError
from allocopt.scenario.schema import Scenario, load_scenario

if TYPE_CHECKING:
    from allocopt.analyses.montecarlo import MonteCarlo
    from allocopt.results.result import Result

DEFAULT_SCENARIO = Path("models/magma_baseline.yaml")
CORES = os.cpu_count() or 1

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan compute and staff between capabilities and safety work.",
)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=True)]
AllowOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        help="A folder outside the scenario's project whose files the scenario may name "
        "(data tables, extends); repeatable.",
    ),
]

WorkersOption = Annotated[int, typer.Option(min=1, help="Local worker processes.")]
SchedulerOption = Annotated[
    str | None, typer.Option(help="Dask scheduler address (e.g. tcp://host:8786).")
]


def _fail(code: int, lines: list[str]) -> typer.Exit:
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(code)


def _load(path: Path, allow: list[Path] | None = None) -> Scenario:
    if path == DEFAULT_SCENARIO and not path.exists():
        raise _fail(2, [f"{path}: not found; run from the allocopt checkout or name a scenario"])
    try:
        return load_scenario(path, allow=allow or ())
    except ScenarioError as exc:
        raise _fail(2, exc.problems) from None


def _unreachable(scheduler: str | None, exc: OSError) -> typer.Exit:
    return _fail(2, [f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"])


def _monte_carlo(
    scenario: Scenario, result: Result, workers: int, scheduler: str | None
) -> MonteCarlo | None:
    """The Monte Carlo evaluation of the solved plan, when the scenario has an uncertainty block."""
    if scenario.uncertainty is None:
        return None
    from allocopt.analyses.montecarlo import montecarlo
    from allocopt.analyses.runner import executor

    try:
        with executor(workers, scheduler) as ex:
            return montecarlo(scenario, result.schedule, executor=ex, progress=True)
    except ScenarioError as exc:
        raise _fail(2, exc.problems) from None
    except OSError as exc:
        raise _unreachable(scheduler, exc) from None


@app.command()
def solve(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the result tables [default: results/<scenario name>]."),
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
    allow_path: AllowOption = None,
    workers: WorkersOption = CORES,
    scheduler: SchedulerOption = None,
) -> None:
    """Solve a scenario, print a summary and write the result tables as CSV.

    With an uncertainty: block, also evaluate the optimum on its samples (Monte Carlo, through
    --workers or --scheduler) and write montecarlo_*.csv beside the tables. With a tree: block,
    solve the scenario tree as one stochastic program instead and write tree_*.csv and
    tree_plan.png."""
    from allocopt.optimize.pipeline import solve as run

    loaded = _load(scenario, allow_path)
    try:
        if time_limit is not None:
            loaded = loaded.with_updates({"solver.time_limit_seconds": time_limit})
    except ScenarioError as exc:
        raise _fail(2, [f"--time-limit: {line}" for line in exc.problems]) from None
    if loaded.tree is not None:
        _solve_tree(loaded, scenario, out or Path("results") / loaded.name)
        return
    try:
        result = run(loaded, allow_nonoptimal=allow_nonoptimal)
    except InfeasibleError as exc:
        first, *rest = exc.diagnosis.lines()
        raise _fail(1, [f"{scenario}: {first}", *rest]) from None
    except SolverError as exc:
        raise _fail(1, [f"{scenario}: the model could not be solved: {exc}"]) from None
    monte_carlo = _monte_carlo(loaded, result, workers, scheduler)
    folder = out or Path("results") / loaded.name
    try:
        result.to_csv(folder)
        if monte_carlo is not None:
            from allocopt.plot.schedule import save_figure
            from allocopt.plot.uncertainty import plot_fan

            monte_carlo.to_csv(folder)
            save_figure(plot_fan(monte_carlo), folder / "montecarlo_fan.png")
    except OSError as exc:
        raise _fail(2, [f"{folder}: cannot write the result tables ({exc.strerror})"]) from None
    typer.echo(result.text_summary())
    if monte_carlo is not None:
        typer.echo(monte_carlo.text_summary("the deterministic optimum above"))
    typer.echo(f"  tables written to {folder}/")
    if loaded.outcomes is not None:
        from allocopt.analyses.outcomes import choose_outcome

        try:
            choice = choose_outcome(loaded)
        except ScenarioError as exc:
            raise _fail(2, exc.problems) from None
        except SolverError as exc:
            raise _fail(1, [f"{scenario}: an outcome could not be solved: {exc}"]) from None
        choice.to_csv(folder / "outcomes.csv")
        typer.echo("\n".join(choice.lines()))
        typer.echo(f"  outcome values written to {folder / 'outcomes.csv'}")


def _solve_tree(loaded: Scenario, path: Path, folder: Path) -> None:
    """The tree: branch of ``solve``: solve the stochastic program, write its tables, print."""
    from allocopt.analyses.tree import solve_tree

    if loaded.outcomes is not None or loaded.uncertainty is not None:
        raise _fail(
            2, [f"{path}: tree: is solved on its own; drop the outcomes: or uncertainty: block"]
        )
    try:
        result = solve_tree(loaded)
    except ScenarioError as exc:
        raise _fail(2, exc.problems) from None
    except InfeasibleError as exc:
        first, *rest = exc.diagnosis.lines()
        raise _fail(1, [f"{path}: {first}", *rest]) from None
    except SolverError as exc:
        raise _fail(1, [f"{path}: the scenario tree could not be solved: {exc}"]) from None
    from allocopt.plot.schedule import save_figure
    from allocopt.plot.tree import plot_tree

    try:
        result.to_csv(folder)
        save_figure(plot_tree(result), folder / "tree_plan.png")
    except OSError as exc:
        raise _fail(2, [f"{folder}: cannot write the tree tables ({exc.strerror})"]) from None
    typer.echo(result.text_summary())
    typer.echo(f"  tables and tree_plan.png written to {folder}/ (tree_*.csv: one plan per branch)")


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
        typer.Option(help="Folder for sweep.csv and figures [default: results/<name>_sweep]."),
    ] = None,
) -> None:
    """Solve a scenario over a sweep of fields; write one tidy table and tornado / heat-map figures.

    Fast (warm re-solves) on a core program such as models/magma_core.yaml; a scenario with
    endogenous capability runs the outer loop at every point."""
    from allocopt.analyses.runner import executor
    from allocopt.analyses.sweep import Parameter
    from allocopt.analyses.sweep import sweep as run
    from allocopt.plot.explore import save_sweep

    loaded = _load(scenario)
    try:
        if not param:
            raise ScenarioError("give at least one --param FIELD=LO:HI:N")
        params = [Parameter.parse(p) for p in param]
        with executor(workers, scheduler) as ex:
            table = run(loaded, params, full_grid=grid, executor=ex, progress=True)
    except ScenarioError as exc:
        raise _fail(2, exc.problems) from None
    except OSError as exc:
        raise _unreachable(scheduler, exc) from None
    folder = out or Path("results") / f"{loaded.name}_sweep"
    save_sweep(table, folder)
    solved = int((table.status == "optimal").sum())
    typer.echo(f"{len(table)} points ({solved} optimal) written to {folder}/")


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
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = CORES,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (e.g. tcp://host:8786).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for outcome_map.csv and .png [default: results/<name>_outcomes]."
        ),
    ] = None,
) -> None:
    """Map the outcome chosen after acceleration over pause plausibility × lag (essay Appendix A)."""
    from allocopt.analyses.outcomes import outcome_map
    from allocopt.analyses.runner import executor
    from allocopt.plot.outcomes import save_outcome_map

    loaded = _load(scenario)
    try:
        ps, lags = _grid("--plausibility", plausibility), _grid("--lag", lag)
        with executor(workers, scheduler) as ex:
            table = outcome_map(loaded, ps, lags, executor=ex, progress=True)
    except ScenarioError as exc:
        raise _fail(2, exc.problems) from None
    except SolverError as exc:
        raise _fail(1, [f"{scenario}: an outcome could not be solved: {exc}"]) from None
    except OSError as exc:
        raise _fail(
            2, [f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"]
        ) from None
    folder = out or Path("results") / f"{loaded.name}_outcomes"
    save_outcome_map(table, folder)
    counts = table.chosen.value_counts().to_dict()
    typer.echo(f"{len(table)} points ({counts}) written to {folder}/")


@app.command()
def compare(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[Path | None, typer.Option(help="Also write the table to this CSV file.")] = None,
) -> None:
    """Compare the optimum with the essay's rule, 'never slow down' and 'capabilities only'."""
    from allocopt.analyses.policies import compare as run

    loaded = _load(scenario)
    try:
        table = run(loaded)
    except SolverError as exc:
        raise _fail(1, [f"{scenario}: the model could not be solved: {exc}"]) from None
    shown = table.copy()
    for column in ("risk_reduction", "mean_velocity_hit", "velocity_lost_years"):
        shown[column] = shown[column].map("{:.4f}".format)
    for column in ("probability_with_plan", "share_of_optimum"):
        shown[column] = shown[column].map("{:.1%}".format)
    typer.echo(f"scenario {loaded.name}: risk reduction is the exact cut in cumulative hazard")
    typer.echo(shown.to_string(index=False))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False, float_format="%.10g", lineterminator="\n")


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
    allow_path: AllowOption = None,
) -> None:
    """Check scenario files and their tables without solving; report every problem."""
    problems: list[str] = []
    for path in scenarios:
        try:
            loaded = load_scenario(path, allow=allow_path or ())
        except ScenarioError as exc:
            problems += exc.problems
            continue
        typer.echo(
            f"{path}: ok ({len(loaded.periods())} periods, "
            f"{len(loaded.tables.interventions)} interventions)"
        )
    if problems:
        raise _fail(2, problems)


@app.command()
def report(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML file (default: models/magma_baseline.yaml; none with --from-result)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the report (default: results/<scenario name>_report)."),
    ] = None,
    from_result: Annotated[
        Path | None,
        typer.Option(
            "--from-result",
            help="Folder of a saved result (such as an earlier report's result/): no solve.",
        ),
    ] = None,
) -> None:
    """Write figures, tables, the saved result and an HTML page for a scenario."""
    from allocopt.optimize.pipeline import solve as run
    from allocopt.report import write_report
    from allocopt.results.store import load_result

    path = scenario or DEFAULT_SCENARIO
    loaded = _load(path) if scenario or not from_result else None
    if from_result is not None:
        try:
            result = load_result(from_result)
        except ScenarioError as exc:
            raise _fail(2, exc.problems) from None
        if loaded is not None and loaded.name != result.scenario_name:
            raise _fail(
                2,
                [
                    f"{from_result}: holds scenario '{result.scenario_name}', "
                    f"not '{loaded.name}' named by {path}"
                ],
            )
    else:
        try:
            result = run(loaded)
        except SolverError as exc:
            raise _fail(1, [f"{path}: the model could not be solved: {exc}"]) from None
    folder = out or Path("results") / f"{result.scenario_name}_report"
    try:
        page = write_report(result, folder)
    except ScenarioError as exc:  # e.g. folder/result exists and is not a saved result
        raise _fail(2, exc.problems) from None
    except OSError as exc:
        raise _fail(2, [f"{folder}: cannot write the report ({exc.strerror})"]) from None
    typer.echo(result.text_summary())
    typer.echo(f"  report written to {page}")


if __name__ == "__main__":
    app()
