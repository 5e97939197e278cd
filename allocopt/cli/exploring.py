"""The commands that look around a scenario's optimum: ``sweep`` (over fields), ``outcomes``
(pause plausibility x lag, essay Appendix A) and ``compare`` (against simple policies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocopt.cli.console import progress
from allocopt.cli.failing import SUBJECTS, failing
from allocopt.cli.options import (
    CORES,
    DEFAULT_SCENARIO,
    AllowOption,
    FromResultOption,
    OverrideOption,
    ScenarioArg,
    SchedulerOption,
    SetOption,
    WorkersOption,
    grid,
    load,
    with_option,
)
from allocopt.errors import ScenarioError
from allocopt.results.files import atomic_write, check_writable
from allocopt.results.status import Status


def sweep(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="FIELD=LO:HI:N (repeatable), e.g. velocity.hit_cap_post_acceleration=0.1:0.4:4.",
        ),
    ] = None,
    grid: Annotated[bool, typer.Option(help="Every combination instead of one at a time.")] = False,
    workers: WorkersOption = CORES,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for sweep.csv, units.csv and figures.  [default: results/<name>_sweep]"
        ),
    ] = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Solve a scenario over a sweep of fields; write one tidy table and tornado / heat-map figures.

    Prints, per point, the swept values, the cut in cumulative hazard (exact) and the status.
    Fast (warm re-solves) on a core program such as models/magma_core.yaml; a scenario with
    endogenous capability (models/magma_baseline.yaml) runs the outer loop at every point."""
    from allocopt.analyses.runner import executor
    from allocopt.analyses.sweep import Parameter, sweep_parameters
    from allocopt.analyses.sweep import sweep as run
    from allocopt.plot.explore import save_sweep

    with failing(scenario) as doing:
        loaded = load(scenario, allow_path, set_, override)
        if not param:
            raise ScenarioError("give at least one --param FIELD=LO:HI:N")
        params = [Parameter.parse(p) for p in param]
        problems: list[str] = []
        for p in params:  # a mistyped field or a value out of range, named as the option
            for value in p.values:
                try:
                    with_option("--param", loaded, p.field, value)
                except ScenarioError as exc:
                    problems += [line for line in exc.problems if line not in problems]
        if problems:
            raise ScenarioError(problems)
        folder = doing.writes(out or Path("results") / f"{loaded.name}_sweep", "the sweep table")
        check_writable(folder)
        with executor(workers, scheduler) as ex:
            table = run(loaded, params, full_grid=grid, executor=ex, progress=progress())
        save_sweep(table, folder, loaded.name)
    counts = table.status.value_counts()
    found = [
        f"{counts[s.value]} {s.value.replace('_', ' ')}"
        for s in Status
        if s.is_local_optimum and s.value in counts
    ]
    typer.echo(f"{len(table)} points ({', '.join(found) or '0 optimal'}) written to {folder}/")
    typer.echo(
        f"{_meaning('risk_reduction', 'risk_reduction_exact')}; each swept field in its own unit "
        "(docs/model.md)"
    )
    shown = table[["point", *sweep_parameters(table), "status"]].copy()
    shown.insert(len(shown.columns) - 1, "risk_reduction", table.risk_reduction_exact.map(_fixed))
    typer.echo(shown.to_string(index=False))


def _meaning(column: str, name: str) -> str:
    """What the printed ``column`` is: the headline number ``name``'s label and unit, as the
    summary says them (:mod:`allocopt.results.names`)."""
    from allocopt.results.names import label, unit

    return f"{column} is the {label(name).lower()}, in {unit(name)}"


def _fixed(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` decimals and no negative zero (a cut in cumulative hazard: 4,
    as `allocopt compare` and `allocopt sweep` print it)."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


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
            help="Folder for outcome_map and outcome_decomposition .csv and .png, and "
            "units.csv.  [default: results/<name>_outcomes]"
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

    with failing(scenario) as doing:
        doing.subject = SUBJECTS["outcomes"]
        loaded = load(scenario, allow_path, set_, override)
        ps, lags = grid("--plausibility", plausibility), grid("--lag", lag)
        folder = doing.writes(out or Path("results") / f"{loaded.name}_outcomes", "the outcome map")
        check_writable(folder)
        with executor(workers, scheduler) as ex:
            table = outcome_map(loaded, ps, lags, executor=ex, progress=progress())
        save_outcome_map(table, folder, loaded.name)
    counts = ", ".join(f"{chosen} {n}" for chosen, n in table.chosen.value_counts().items())
    typer.echo(f"{len(table)} point{'s' * (len(table) != 1)} ({counts}) written to {folder}/")


TABLE, UNITS = "the comparison table", "the comparison table's units"  # compare --out's files


def compare(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the table to this CSV file, its units to <stem>_units.csv."),
    ] = None,
    from_result: FromResultOption = None,
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Compare the optimum with the essay's rule, 'never slow down' and 'capabilities only'.

    'Never slow down' holds the velocity hit after the switch at the cap before it
    (velocity.hit_cap_pre_acceleration, 5% on the baseline), so its mean hit is not zero.

    With --from-result the saved optimum and its scenario are used (the optimum is not solved
    again; 'never slow down' still is)."""
    from allocopt.analyses.policies import COMPARE_UNITS, meanings
    from allocopt.analyses.policies import compare as run
    from allocopt.results.names import label
    from allocopt.results.store import load_result
    from allocopt.results.views import write_units

    with failing(scenario) as doing:
        if from_result is not None and (set_ or override):
            raise ScenarioError(
                "--set/--override change a scenario: with --from-result the saved one is used"
            )
        optimum = load_result(from_result) if from_result is not None else None
        loaded = optimum.scenario if optimum else load(scenario, allow_path, set_, override)
        if out is not None:
            units = out.with_name(f"{out.stem}_units.csv")  # the unit of each numeric column
            check_writable(doing.writes(out, TABLE), folder=False)
            check_writable(doing.writes(units, UNITS), folder=False)
        table = run(loaded, optimum)
        if out is not None:  # two files, each whole or not at all (no folder: no manifest)
            atomic_write(
                doing.writes(out, TABLE),
                lambda tmp: table.to_csv(
                    tmp, index=False, float_format="%.10g", lineterminator="\n"
                ),
            )
            atomic_write(
                doing.writes(units, UNITS),
                lambda tmp: write_units(tmp, {out.stem: COMPARE_UNITS}),
            )
    shown = table.copy()
    shown["risk_reduction"] = shown.risk_reduction.map(_fixed)
    shown["velocity_lost_years"] = shown.velocity_lost_years.map(lambda v: _fixed(v, 2))
    for column in ("probability_with_plan_and_postponed", "mean_velocity_hit", "share_of_optimum"):
        shown[column] = shown[column].map(lambda v: f"{round(v, 3) + 0.0:.1%}")
    typer.echo(
        f"scenario {loaded.name}: {_meaning('risk_reduction', 'risk_reduction_exact')}; "
        f"probability_with_plan_and_postponed is the "
        f"{label('probability_with_plan_and_postponed').lower()}"
    )
    typer.echo(shown.to_string(index=False))
    width = max(map(len, table.policy))
    for policy, meaning in meanings(loaded).items():
        typer.echo(f"  {policy:<{width}}  {meaning}")
    row = table.set_index("policy")
    score, lost = row.risk_reduction, row.velocity_lost_years
    if score["essay_rule"] < score["never_slow"] and lost["essay_rule"] > lost["never_slow"]:
        typer.echo(
            "  essay_rule scores below never_slow though it slows more: its safety work follows "
            "a fixed split, never_slow's the solver's (notebooks/03_heuristics.ipynb)"
        )
