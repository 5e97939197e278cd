"""A Pyomo model solved by HiGHS through Pyomo's persistent interface: :class:`HighsRunner` hands
the model over, solves it (warm after in-place Param changes), loads the solution and reads what
the rest of the package needs from HiGHS: the model status, row duals, an irreducible infeasible
set (:mod:`~allocopt.optimize.highs.iis`), the LP as arrays with its column and row maps
(:mod:`~allocopt.optimize.highs.arrays`); it solves the model extended by columns, rows and an
objective of its own (:mod:`~allocopt.optimize.highs.extension`) and pushes changed Param values
alone (:mod:`~allocopt.optimize.highs.coefficients`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.errors import SolverError
from allocopt.optimize.highs.arrays import LpArrays, lp_arrays, objective_costs
from allocopt.optimize.highs.coefficients import Coefficients
from allocopt.optimize.highs.extension import Extension, extended
from allocopt.optimize.highs.iis import Iis, find_iis
from allocopt.optimize.highs.model_status import PRIMAL_FEASIBLE, classify
from allocopt.optimize.highs.options import (
    DUAL_TOLERANCE,
    NOT_HIGHS,
    PRIMAL,
    SETTINGS,
    objective_scale,
    option_of,
    use_threads,
)
from allocopt.results.status import Status
from allocopt.scenario.config import Solver as SolverSettings

AUTO_UPDATES_OFF = (  # a re-solve of the same model only pushes changed mutable Param values
    "check_for_new_or_removed_constraints",
    "check_for_new_or_removed_vars",
    "check_for_new_or_removed_params",
    "check_for_new_objective",
    "update_constraints",
    "update_vars",
    "update_named_expressions",
    "update_objective",
)


@dataclass(frozen=True)
class Solved:
    """What HiGHS returned for one model; the solution, if any, is loaded into the model.
    ``timings`` (seconds): ``handover`` (Pyomo → HiGHS: the whole model, or the changed Params
    of a warm re-solve), ``highs`` (HiGHS's run, timed around it) and ``highs_clock`` (HiGHS's
    own run clock); callers add ``build``."""

    status: Status
    objective: float | None  # of the loaded solution; None when HiGHS found no feasible point
    bound: float | None  # best proven bound on the objective, where HiGHS reports one
    message: str
    runner: HighsRunner = field(repr=False, compare=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def relative_gap(self) -> float | None:
        """|bound - objective| / max(1, |objective|), where both are known."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(1.0, abs(self.objective))


class _Interface(Highs):
    """Pyomo's persistent HiGHS interface, made to hand HiGHS exactly the options it holds.

    Pyomo only sets the options it is given, so an option removed (or a ``time_limit`` set back
    to None) would keep its old value inside HiGHS for every later solve. Before each run HiGHS's
    options are reset to its defaults, then Pyomo sets ``config.solver_options``. ``limit`` is
    the time limit of each run (seconds, None: none): HiGHS compares its ``time_limit`` with a
    run clock that accumulates over the runs of one instance, so the limit handed over is
    ``limit`` past the clock's reading at the start of the run."""

    limit: float | None = None
    clock_start = 0.0  # the run clock's reading at the start of the last run

    def _solve(self) -> Any:
        highs = self._solver_model
        highs.resetOptions()
        use_threads(self._active_config.solver_options.get("threads", 0))
        self.clock_start = highs.getRunTime()
        if self.limit is not None:
            highs.setOptionValue("time_limit", self.limit + self.clock_start)
        scale = objective_scale(highs.getLp().col_cost_)
        if "user_objective_scale" not in self._active_config.solver_options:
            highs.setOptionValue("user_objective_scale", scale)
        return super()._solve()


class HighsRunner:
    """One persistent HiGHS interface (output off). A new model is handed over whole; a re-solve
    of the same model after changing its mutable Params only pushes the changed values (no
    re-scan of the model) and starts from HiGHS's last basis (warm start). At every run HiGHS
    holds exactly :attr:`options` (HiGHS's defaults for the rest) and a ``time_limit`` of
    :attr:`time_limit` seconds for that run alone."""

    def __init__(
        self,
        time_limit: float | None = None,
        threads: int = 1,
        algorithm: str = "choose",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.solver = _Interface()
        self.solver.config.load_solutions = False
        self.solver.config.raise_exception_on_nonoptimal_result = False
        self.solver.limit = time_limit
        self.solver.config.solver_options.update(
            {
                "threads": threads,
                "output_flag": False,
                "solver": algorithm,
                "dual_feasibility_tolerance": DUAL_TOLERANCE,
                **(options or {}),
            }
        )
        updates = self.solver.config.auto_updates
        for option in AUTO_UPDATES_OFF:
            setattr(updates, option, False)
        updates.update_parameters = True

    @property
    def time_limit(self) -> float | None:
        """Seconds HiGHS may run per solve (None: no limit); a re-solve that runs HiGHS twice
        (see :meth:`solve`) gives each run this limit."""
        return self.solver.limit

    @time_limit.setter
    def time_limit(self, seconds: float | None) -> None:
        self.solver.limit = seconds

    @property
    def options(self) -> dict[str, Any]:
        """The HiGHS options (by HiGHS's names) set for every solve; a copy."""
        return dict(self.solver.config.solver_options)

    def set_options(self, options: Mapping[str, Any]) -> None:
        """Set HiGHS ``options`` (by HiGHS's names) for the next solves."""
        self.solver.config.solver_options.update(options)

    def remove_options(self, names: Sequence[str]) -> None:
        """Let HiGHS run at its defaults for the options ``names`` from the next solve on."""
        for name in names:
            self.solver.config.solver_options.pop(name, None)

    def apply(self, settings: SolverSettings) -> None:
        """Take the scenario's ``solver:`` block: every field reaches HiGHS at the next solve
        under its HiGHS name (:data:`SETTINGS`), a None field as HiGHS's default (those of
        :data:`NOT_HIGHS` are not HiGHS's). Raises KeyError for a field :data:`SETTINGS` does not
        map."""
        values = {SETTINGS[name]: value for name, value in settings if name not in NOT_HIGHS}
        self.time_limit = values.pop("time_limit")
        self.set_options({k: v for k, v in values.items() if v is not None})
        self.remove_options([k for k, v in values.items() if v is None])

    def held(self, name: str) -> Any:
        """The value HiGHS held for its option ``name`` in the last run (``time_limit``: the
        seconds that run was allowed, ``inf`` for none). Raises RuntimeError before any run."""
        highs = getattr(self.solver, "_solver_model", None)
        if highs is None:
            raise RuntimeError("HiGHS has not run yet")
        value = option_of(highs, name)
        if name == "time_limit":
            return value - self.solver.clock_start
        return value

    @property
    def _highs(self) -> highspy.Highs:
        return self.solver._solver_model

    def solve(self, m: pyo.ConcreteModel) -> Solved:
        """Solve ``m`` and report how it ended; a feasible solution, optimal or not, is loaded.
        When presolve cannot tell infeasible from unbounded, solve again without presolve."""
        timer = HierarchicalTimer()
        results, clock = self._solve_timed(m, timer)
        status = classify(self._highs.getModelStatus())
        if status is Status.INFEASIBLE_OR_UNBOUNDED:
            self.solver.config.solver_options["presolve"] = "off"
            results, again = self._solve_timed(m, timer)
            clock += again
            self.solver.config.solver_options.pop("presolve")
            status = classify(self._highs.getModelStatus())
        info = self._highs.getInfo()
        objective = bound = None
        if info.primal_solution_status == PRIMAL_FEASIBLE:
            results.solution_loader.load_vars()
            objective = float(pyo.value(m.objective))
            if status is Status.OPTIMAL:
                bound = objective
            elif info.mip_node_count >= 0:
                bound = float(info.mip_dual_bound)
        message = f"HiGHS stopped with '{self._highs.getModelStatus().name}' on model '{m.name}'"
        timings = {
            "handover": _total(timer, "set_instance") + _total(timer, "update"),
            "highs": _total(timer, "optimize"),
            "highs_clock": clock,
        }
        return Solved(status, objective, bound, message, self, timings)

    def objective_costs(self) -> tuple[np.ndarray, float]:
        """The objective of the model last handed over as HiGHS holds it: [cols] the column
        costs and the constant, ``m.objective = cost @ x + offset`` (HiGHS's sense)."""
        return objective_costs(self._highs)

    def objective_value(self) -> float:
        """The objective of the model last handed over at HiGHS's last solution (HiGHS's own
        figure: ``m.objective`` there, without evaluating Pyomo's expression)."""
        return float(self._highs.getInfo().objective_function_value)

    def solve_instead(self, m: pyo.ConcreteModel, extension: Extension) -> Solved:
        """Solve ``m`` (handed over by an earlier solve) with the columns and rows of
        ``extension`` added and its objective in place of ``m.objective``, warm from HiGHS's
        last basis; then take them out again and hand ``m.objective`` back, so the next solve
        is of ``m`` as it was. The arrays are written to HiGHS directly, past Pyomo's
        interface, whose maps never see them (its bookkeeping of each added and removed row and
        column, and Pyomo's expressions of the rows, took longer than the run: measured on the
        endogenous baseline). The new columns are appended, so no column of ``m`` is renumbered
        and tracked coefficients (:meth:`track_parameters`) stay valid; ``m``'s costs, sense
        and offset are written back as they were
        (:func:`~allocopt.optimize.highs.extension.extended`). The run starts from the last
        basis, extended (primal feasible when the extension says how), with HiGHS's
        :data:`~allocopt.optimize.highs.options.PRIMAL` options. ``Solved.objective``:
        ``m.objective`` at the solution loaded (into ``m``'s variables; the new columns' values
        are HiGHS's alone)."""
        highs, options = self._highs, self.options
        with extended(highs, extension) as (cost, offset):
            updates = self.solver.config.auto_updates
            pushes = updates.update_parameters
            updates.update_parameters = False  # Pyomo would write m's costs over the new ones
            self.set_options(PRIMAL)
            try:
                solved = self.solve(m)
                if solved.objective is None:
                    return solved
                x = np.asarray(highs.getSolution().col_value)[: len(cost)]
                return replace(solved, objective=float(cost @ x + offset))
            finally:
                updates.update_parameters = pushes
                self.solver.config.solver_options.clear()
                self.set_options(options)

    def hand_over(self, m: pyo.ConcreteModel) -> None:
        """Hand ``m`` to HiGHS whole without solving it (:meth:`lp` then reads it; the next
        :meth:`solve` of ``m`` is cold and pushes only what changed since)."""
        self.solver.set_instance(m)
        self._highs.setOptionValue("output_flag", False)  # as every run sets it (_Interface)
        self._highs.ensureColwise()  # HiGHS holds the rows Pyomo added row-wise until a run

    def _solve_timed(self, m: pyo.ConcreteModel, timer: HierarchicalTimer) -> tuple[Any, float]:
        """Pyomo's solve of ``m`` (phases recorded in ``timer``) and the seconds HiGHS's own
        clock advanced (it accumulates over the runs of one HiGHS instance; a new model gets a
        new instance)."""
        before = getattr(self.solver, "_solver_model", None)
        start = before.getRunTime() if before is not None else 0.0
        results = self.solver.solve(m, timer=timer)
        clock = self._highs.getRunTime()
        return results, clock - start if self._highs is before else clock

    def __call__(self, m: pyo.ConcreteModel) -> float:
        """Solve ``m`` and return its objective; raise SolverError unless HiGHS proves an
        optimum."""
        solved = self.solve(m)
        if not solved.status.is_optimal:
            raise SolverError(solved.status, solved.message)
        return float(solved.objective)

    def track_parameters(self) -> Coefficients:
        """From now on, push only the changed values of the mutable Params' coefficients, bounds
        and costs of the model just solved (:class:`Coefficients`; call its ``push`` after
        assigning Params, before the next solve) instead of Pyomo re-evaluating all of them."""
        coefficients = Coefficients(self.solver)
        self.solver.config.auto_updates.update_parameters = False
        return coefficients

    def row_duals(self, rows: Sequence[pyo.ConstraintData]) -> np.ndarray:
        """[len(rows)] the duals of ``rows`` after the last optimal LP solve (HiGHS's sign)."""
        duals = self.solver._get_duals(rows)  # the persistent interface's accessor of row duals
        return np.array([duals[c] for c in rows], dtype=float)

    def iis(self) -> Iis | None:
        """The IIS HiGHS computes for the model it has just found infeasible (with this runner's
        threads and time limit; see :func:`~allocopt.optimize.highs.iis.find_iis`); None when
        HiGHS reports no set."""
        return find_iis(self.solver, self.solver.limit)

    def lp(self) -> LpArrays:
        """The LP of the model last handed over, as arrays."""
        return lp_arrays(self._highs)

    def simplex_iterations(self) -> int:
        """Simplex iterations of the last solve (a warm re-solve needs few)."""
        return int(self._highs.getInfo().simplex_iteration_count)

    def basic_rows(self) -> np.ndarray:
        """[rows] bool: which rows are basic (slack) in HiGHS's last basis."""
        status = np.array(self._highs.getBasis().row_status)
        return status == highspy.HighsBasisStatus.kBasic

    def column_of(self, var: pyo.VarData) -> int | None:
        """HiGHS's column of ``var`` in the model last handed over (None: not in it)."""
        return self.solver._pyomo_var_to_solver_var_map.get(id(var))

    def row_of(self, con: pyo.ConstraintData) -> int:
        """HiGHS's row of ``con`` in the model last handed over."""
        return self.solver._pyomo_con_to_solver_con_map[con]


def _total(timer: HierarchicalTimer, name: str) -> float:
    """Seconds ``timer`` spent in ``name`` (0 when it never ran)."""
    try:
        return timer.get_total_time(name)
    except KeyError:
        return 0.0


def run_highs(
    m: pyo.ConcreteModel,
    time_limit: float | None = None,
    threads: int = 1,
    options: dict[str, Any] | None = None,
) -> Solved:
    """Solve ``m`` once with a fresh HiGHS (extra HiGHS ``options`` by name); see
    :meth:`HighsRunner.solve`."""
    return HighsRunner(time_limit, threads, options=options).solve(m)


def load_any_solution(m: pyo.ConcreteModel) -> bool:
    """Solve ``m`` with HiGHS at its default options and load the solution if it is optimal or
    feasible; return whether one was loaded."""
    solver = _Interface()
    solver.config.raise_exception_on_nonoptimal_result = False
    solver.config.load_solutions = False
    results = solver.solve(m)
    if results.solution_status.name not in ("optimal", "feasible"):
        return False
    results.solution_loader.load_vars()
    return True
