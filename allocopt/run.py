"""Run a scenario as its blocks ask: the Python call behind ``allocopt solve``.

A scenario with a ``tree:`` block is solved as one stochastic program (:func:`solve_tree`);
otherwise the deterministic program is solved (:func:`allocopt.solve`), its optimum evaluated on
the samples of an ``uncertainty:`` block (Monte Carlo) and the outcome after acceleration chosen
under an ``outcomes:`` block. Everything is computed before anything is written, so a run refused
halfway leaves no files. It sits beside :mod:`allocopt.report` because it draws figures.

>>> import allocopt
>>> from allocopt.run import run_scenario
>>> run = run_scenario(allocopt.load_scenario("models/magma_core.yaml"), "out")  # doctest: +SKIP
>>> print(run.solved.text_summary())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from allocopt.analyses.montecarlo import MonteCarlo, montecarlo
from allocopt.analyses.outcomes import OutcomeChoice, choose_outcome
from allocopt.analyses.runner import executor
from allocopt.analyses.tree import TreeResult, solve_tree
from allocopt.errors import ScenarioError
from allocopt.optimize.outer import Iteration
from allocopt.optimize.pipeline import solve
from allocopt.plot.save import save_figure
from allocopt.plot.tree import plot_tree
from allocopt.plot.uncertainty import plot_fan
from allocopt.results.files import check_writable, write_run
from allocopt.results.result import Result
from allocopt.results.store import save_beside
from allocopt.scenario.schema import Scenario

# the steps of a run, in order, as ``on_step`` is told of them
SOLVE, TREE, MONTE_CARLO, OUTCOMES, WRITE = "solve", "tree", "monte_carlo", "outcomes", "write"
OUTCOMES_FILE = "outcomes.csv"
TREE_FIGURE = "tree_plan.png"
FAN_FIGURE = "montecarlo_fan.png"


@dataclass(frozen=True)
class Run:
    """What :func:`run_scenario` computed: the plan (a plain solve's :class:`Result` or a tree's
    :class:`TreeResult`), and for a plain solve its Monte Carlo evaluation and outcome choice
    when the scenario has those blocks."""

    solved: Result | TreeResult
    monte_carlo: MonteCarlo | None = None
    outcome: OutcomeChoice | None = None

    def write(self, folder: str | Path) -> list[Path]:
        """Write the tables (``tree_*.csv`` and ``tree_plan.png`` for a tree; the result tables
        with the saved result beside them (:func:`~allocopt.results.store.save_beside`),
        ``montecarlo_*.csv``, ``montecarlo_fan.png`` and ``outcomes.csv`` otherwise, as computed)
        into ``folder`` with a ``manifest.json`` naming the scenario and every file; files an
        earlier run listed there are removed (:func:`~allocopt.results.files.write_run`); each
        file appears whole or not at all. Returns the paths written."""

        def fill(folder: Path) -> None:
            self.solved.to_csv(folder)
            if isinstance(self.solved, Result):  # a saved result too: report --from-result reads it
                save_beside(self.solved, folder)
            if isinstance(self.solved, TreeResult):
                save_figure(plot_tree(self.solved), folder / TREE_FIGURE)
            if self.monte_carlo is not None:
                self.monte_carlo.to_csv(folder)
                save_figure(plot_fan(self.monte_carlo), folder / FAN_FIGURE)
            if self.outcome is not None:
                self.outcome.to_csv(folder / OUTCOMES_FILE)

        return write_run(folder, self.solved.scenario_name, fill)


def run_scenario(
    scenario: Scenario,
    out: str | Path | None = None,
    *,
    allow_nonoptimal: bool = False,
    starts: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    on_step: Callable[[str], object] | None = None,
) -> Run:
    """Solve ``scenario`` as its blocks ask (module docstring) and, when ``out`` is given, write
    the files into that folder (:meth:`Run.write`).

    ``allow_nonoptimal`` keeps a plain solve that HiGHS stopped short of an optimum (marked NOT
    OPTIMAL); ``starts`` runs the outer loop from that many starting schedules (see
    :func:`allocopt.solve`); the Monte Carlo samples run through ``workers`` local processes or
    the Dask cluster at ``scheduler``, which is contacted, before the solve, only when there are
    samples;
    ``progress`` shows a live line of the outer loop's iterations (on stderr) and the samples' bar.
    ``on_step`` is called with each step's name (:data:`SOLVE`, :data:`TREE`,
    :data:`MONTE_CARLO`, :data:`OUTCOMES`, :data:`WRITE`) as it begins.

    Raises, before any solving: ScenarioError for a tree combined with an ``outcomes:`` or
    ``uncertainty:`` block or with ``starts`` above 1, OSError when ``out`` cannot be written (see
    :func:`~allocopt.results.files.check_writable`),
    :class:`~allocopt.analyses.runner.SchedulerUnreachable` when there are samples and
    ``scheduler`` cannot be reached; then InfeasibleError / SolverError when a program has no
    optimum, ScenarioError for an invalid Monte Carlo draw.
    """
    step = on_step or (lambda _: None)
    if scenario.tree is not None and (scenario.outcomes, scenario.uncertainty) != (None, None):
        raise ScenarioError(
            f"scenario '{scenario.name}': tree: is solved on its own; "
            "drop the outcomes: or uncertainty: block"
        )
    if scenario.tree is not None and starts > 1:
        raise ScenarioError(
            f"scenario '{scenario.name}': starts apply to a plain solve, not a tree"
        )
    if out is not None:
        check_writable(out)
    if scenario.tree is not None:
        step(TREE)
        run = Run(solve_tree(scenario))
    else:
        with ExitStack() as stack:
            # the samples' executor first: an unreachable cluster fails before the solve
            sampling = scenario.uncertainty is not None
            ex = stack.enter_context(executor(workers, scheduler)) if sampling else None
            step(SOLVE)
            with OuterLine() as line:
                result = solve(scenario, allow_nonoptimal, starts, line if progress else None)
            sampled = None
            if sampling:
                step(MONTE_CARLO)
                plan = result.schedule
                sampled = montecarlo(scenario, plan, executor=ex, progress=progress)
        chosen = None
        if scenario.outcomes is not None:
            step(OUTCOMES)
            chosen = choose_outcome(scenario)
        run = Run(result, sampled, chosen)
    if out is not None:
        step(WRITE)
        run.write(out)
    return run


class OuterLine:
    """A live progress line of the outer loop on stderr (tqdm), opened at the first iteration it
    is told of (so a core program shows none): iterations, elapsed time, seconds per iteration
    once one has been timed (tqdm's own rate would time the empty first update), start,
    iteration, exact objective, delay step and trust radius. Pass it as :func:`allocopt.solve`'s
    ``on_iteration`` inside ``with OuterLine() as line:``, which clears it at the end."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def __call__(self, start: str, it: Iteration) -> None:
        if self.bar is None:
            form = "{desc}: {n_fmt}{unit} [{elapsed}{postfix}]"  # no rate
            self.bar = tqdm(desc="outer loop", unit=" iterations", leave=False, bar_format=form)
        timed = self.bar.n  # iterations since the bar opened at the first one
        pace = f"{self.bar.format_dict['elapsed'] / timed:.2f} s/iteration, " if timed else ""
        self.bar.set_postfix_str(
            f"{pace}start {start}, iteration {it.iteration}: exact {it.objective_exact:.6f}, "
            f"step {it.delay_step_years:.1e} y, radius {it.trust:.1e} y",
            refresh=False,
        )
        self.bar.n += 1
        self.bar.refresh()  # at every iteration (each takes a fraction of a second)

    def __enter__(self) -> OuterLine:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
