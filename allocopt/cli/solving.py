"""The commands that solve one scenario and write what it gives: ``solve`` (result tables, and
Monte Carlo, a scenario tree or outcomes when the scenario asks) and ``report`` (figures, tables,
the saved result and an HTML page)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated

import typer

from allocopt.cli.console import progress
from allocopt.cli.failing import failing
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
    load,
    with_option,
)
from allocopt.errors import ScenarioError
from allocopt.results.files import check_writable


def changes(sets: list[str] | None, override: list[str] | None) -> list[str]:
    """The command's ``--override`` names, then its ``--set`` assignments (spaces dropped), in
    the order given."""
    named = [n.strip() for g in override or () for n in g.split(",") if n.strip()]
    return named + [s.replace(" ", "") for s in sets or ()]


def summary(text: str, changed: list[str], saved: bool = False) -> str:
    """A result's summary ``text`` with a line under its title naming the command's changes to
    the scenario (``changed``, :func:`changes`); ``saved`` (a result read from disk) says its
    times are those of the saved solve."""
    title, *rest = text.splitlines()
    if saved:
        rest = [r.replace("  time: ", "  time of the saved solve: ", 1) for r in rest]
    return "\n".join([title, *([f"  changed: {', '.join(changed)}"] if changed else []), *rest])


def default_folder(name: str, sets: list[str] | None, override: list[str] | None) -> Path:
    """``results/<name>``, with the command's ``--override`` and ``--set`` appended when it has
    any (``results/magma_baseline__velocity.hit_cap_post_acceleration=0.3``), so a changed
    scenario never overwrites the folder of the scenario as written; characters other than
    letters, digits and ``.=+-_`` become ``_``, and a slug over 80 characters is cut to 60 and
    a hash of the whole."""
    changed = changes(sets, override)
    if not changed:
        return Path("results") / name
    slug = re.sub(r"[^A-Za-z0-9.=+_-]", "_", "+".join(changed))
    if len(slug) > 80:
        slug = f"{slug[:60]}-{hashlib.sha1(slug.encode()).hexdigest()[:8]}"
    return Path("results") / f"{name}__{slug}"


def solve(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the result tables.  [default: results/<scenario name>, with any "
            "--override and --set appended]"
        ),
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

    with failing(scenario) as doing:
        loaded = load(scenario, allow_path, set_, override)
        if time_limit is not None:
            loaded = with_option("--time-limit", loaded, "solver.time_limit_seconds", time_limit)
        folder = out or default_folder(loaded.name, set_, override)
        tree = loaded.tree is not None
        doing.writes(folder, "the tree tables" if tree else "the result tables")
        run = run_scenario(
            loaded,
            folder,
            allow_nonoptimal=allow_nonoptimal,
            starts=starts,
            workers=workers,
            scheduler=scheduler,
            progress=progress(),
            on_step=doing.step,
        )
    typer.echo(summary(run.solved.text_summary(), changes(set_, override)))
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


def report(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML file.  [default: models/magma_baseline.yaml; none with --from-result]"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the report.  [default: results/<scenario name>_report, with any "
            "--override and --set appended before _report; with --from-result, <that "
            "folder>_report beside it]"
        ),
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
    with failing(path) as doing:
        if (set_ or override) and scenario is None and from_result is not None:
            raise ScenarioError(
                "--set/--override change a scenario: name the scenario file too "
                "(--from-result alone solves nothing)"
            )
        loaded = load(path, allow_path, set_, override) if scenario or not from_result else None
        result = load_result(from_result) if from_result is not None else None
        if loaded is not None and result is not None and loaded.name != result.scenario_name:
            raise ScenarioError(
                f"{from_result}: holds scenario '{result.scenario_name}', "
                f"not '{loaded.name}' named by {path}"
            )
        name = result.scenario_name if result is not None else loaded.name
        plain = default_folder(name, set_, override)
        if from_result is not None:  # beside the saved result, named after its folder
            plain = from_result if from_result.name else from_result.resolve()
        folder = doing.writes(out or plain.with_name(f"{plain.name}_report"), "the report")
        if from_result is not None and folder.resolve() == from_result.resolve():
            raise ScenarioError(
                f"--out {out}: is the folder --from-result reads; a report there would replace "
                "the saved result: name another folder"
            )
        check_writable(folder)
        if result is None:
            with OuterLine() as line:
                result = run(loaded, on_iteration=line if progress() else None)
        page = write_report(result, folder)
    saved = from_result is not None
    typer.echo(summary(result.text_summary(), changes(set_, override), saved=saved))
    typer.echo(f"  report written to {page}")
