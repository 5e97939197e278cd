"""The one module that talks to HiGHS: highspy and Pyomo's HiGHS interface (its private maps too).

Two ways in. :class:`HighsRunner` hands a Pyomo model to HiGHS through Pyomo's persistent
interface, solves it (warm after in-place Param changes), loads the solution and reads what the
rest of the package needs from HiGHS: the model status, row duals, an irreducible infeasible set
as Pyomo components, and the LP arrays with their column and row maps; :class:`Coefficients`
pushes only the changed values of mutable-Param coefficients between warm re-solves (the outer
loop's program moves thousands of them; Pyomo would re-evaluate every one). :class:`ArrayLp` is
HiGHS at array level, for programs assembled from such arrays (the extensive forms of
:mod:`allocopt.optimize.extensive`): add columns and rows, change bounds, set options, run, read
the solution. Every other module uses only this API, so a change of HiGHS or Pyomo versions
touches this file alone (a test greps the package for ``highspy`` and the private attributes);
Long: both ways in, and the interface's private Param helpers, must live here, so it runs
past ~400 lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.errors import SolverError
from allocopt.results.status import Status
from allocopt.scenario.config import Solver as SolverSettings

# HiGHS model status (by name, so statuses added by later HiGHS versions fall to SOLVER_ERROR)
HIGHS_STATUS: dict[str, Status] = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": Status.UNBOUNDED,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.ITERATION_LIMIT,
    "kSolutionLimit": Status.ITERATION_LIMIT,
    "kSolveError": Status.NUMERICAL_TROUBLE,
    "kPostsolveError": Status.NUMERICAL_TROUBLE,
    "kUnknown": Status.NUMERICAL_TROUBLE,
}
PRIMAL_FEASIBLE = 2  # HighsInfo.primal_solution_status of a feasible point
# HiGHS's default dual feasibility tolerance (1e-7) is absolute, and this model's costs (hazard per
# year x period length x benefit slope) can be ~1e-6: "optimal" then stopped up to ~1% short of
# the optimum on short, low-hazard scenarios (measured); 1e-9 closes that gap at ~20% more time.
DUAL_TOLERANCE = 1e-9
INF = highspy.kHighsInf  # an absent bound
# a new objective on a program just solved (solve_instead): from the old optimal basis, extended
# to a primal feasible one (Extension.basic), primal simplex needs 230-300 iterations on the
# endogenous baseline's tie-break (1,000-1,400 with the new rows' slacks basic); dual simplex or
# HiGHS's choice from either basis took ten times longer; steepest-edge pricing took twice as long
# as HiGHS's default (devex) and Dantzig's 10% longer
PRIMAL = {"solver": "simplex", "simplex_strategy": 4}
IPM_FROM_COLUMNS = 2000  # measured: above this, interior point + crossover beats dual simplex cold
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
# HiGHS finds an infeasible subset with an elastic LP, then deletes rows until it is irreducible;
# the default strategy (a light bounds test) often reports an empty set for this model.
IIS_STRATEGY = int(highspy.IisStrategy.kIisStrategyFromLp) | int(
    highspy.IisStrategy.kIisStrategyIrreducible
)
# log2 of the band the median nonzero cost is scaled into (objective_scale): that of the bundled
# scenarios (2^-7.7 to 2^-4.9), on which DUAL_TOLERANCE was measured to reach the optimum
COST_BAND = (-8, 0)
# each field of the scenario's solver: block (allocopt.scenario.config.Solver) by HiGHS's name
SETTINGS: dict[str, str] = {"time_limit_seconds": "time_limit", "threads": "threads"}
NOT_HIGHS = frozenset({"smooth_tolerance"})  # fields of the solver: block that HiGHS never sees
IIS_UPPER = frozenset(
    {
        int(highspy.IisBoundStatus.kIisBoundStatusUpper),
        int(highspy.IisBoundStatus.kIisBoundStatusBoxed),
    }
)


def classify(model_status: Any) -> Status:
    """The :class:`Status` of a ``highspy.HighsModelStatus``."""
    return HIGHS_STATUS.get(getattr(model_status, "name", ""), Status.SOLVER_ERROR)


def cold_algorithm(m: pyo.ConcreteModel) -> str:
    """HiGHS algorithm for a first solve of ``m``: HiGHS's choice (dual simplex for an LP) for
    small models, interior point (with crossover, so duals and the warm-start basis stay clean)
    from IPM_FROM_COLUMNS columns."""
    return "ipm" if m.nvariables() >= IPM_FROM_COLUMNS else "choose"


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


@dataclass(frozen=True)
class LpArrays:
    """A built model's LP as HiGHS holds it: column-wise matrix (``a_start`` [cols+1],
    ``a_index``/``a_value`` [nonzeros]), costs and bounds (``±INF`` where absent), objective
    offset; the sense is HiGHS's (maximize for this package's programs)."""

    num_col: int
    num_row: int
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    offset: float


@dataclass(frozen=True)
class Iis:
    """An irreducible infeasible set as Pyomo components: its rows, and the variables whose
    upper bound belongs to it."""

    rows: tuple[pyo.ConstraintData, ...]
    upper_bounds: tuple[pyo.VarData, ...]


_scheduler: list[int] = []  # the threads HiGHS's process-wide scheduler was last started with


def objective_scale(cost: Sequence[float]) -> int:
    """The power of two HiGHS multiplies the costs ``cost`` by (its ``user_objective_scale``) so
    that their median nonzero magnitude lies in :data:`COST_BAND`: HiGHS's tolerances are
    absolute, so costs far below them (tiny hazards) stop HiGHS short of the optimum. Costs
    already in the band are left alone (0)."""
    magnitude = np.abs(np.asarray(cost, dtype=float))
    magnitude = magnitude[magnitude > 0]
    if not len(magnitude):
        return 0
    low, high = COST_BAND
    median = float(np.log2(np.median(magnitude)))
    return int(np.clip(0, math.ceil(low - median), math.floor(high - median)))


def option_of(highs: highspy.Highs, name: str) -> Any:
    """The value ``highs`` holds for its option ``name``."""
    value = highs.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value  # (status, value) in some highspy


def use_threads(threads: int) -> None:
    """Make HiGHS's scheduler (one per process, started by the first run) run ``threads``
    threads (0: HiGHS's choice) before a run with that ``threads`` option: HiGHS refuses to run
    (status ``kNotset``) when the option differs from the scheduler's count."""
    if _scheduler != [threads]:
        highspy.Highs.resetGlobalScheduler(True)
        _scheduler[:] = [threads]


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
        highs = self._highs
        num_col = highs.getNumCol()
        cost = highs.getCols(num_col, np.arange(num_col, dtype=np.int32))[2]
        return np.asarray(cost, dtype=float), float(highs.getObjectiveOffset()[1])

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
        and offset are written back as they were. The run starts from :meth:`Extension.basis`
        of the last basis (primal feasible when the extension says how) with HiGHS's
        :data:`PRIMAL` options. ``Solved.objective``: ``m.objective`` at the solution loaded
        (into ``m``'s variables; the new columns' values are HiGHS's alone)."""
        highs, options = self._highs, self.options
        num_col, num_row = highs.getNumCol(), highs.getNumRow()
        cost, offset = self.objective_costs()
        sense = highs.getObjectiveSense()[1]
        basis = highs.getBasis()
        new, rows = len(extension.col_lower), len(extension.row_lower)
        empty = np.array([], dtype=np.int32)
        highs.addCols(
            new,
            np.zeros(new),
            extension.col_lower,
            extension.col_upper,
            0,
            empty,
            empty,
            np.array([]),
        )
        highs.addRows(
            rows,
            extension.row_lower,
            extension.row_upper,
            len(extension.value),
            extension.start,
            extension.index,
            extension.value,
        )
        every = np.arange(num_col + new, dtype=np.int32)
        highs.changeColsCost(len(every), every, extension.cost)
        highs.changeObjectiveSense(
            highspy.ObjSense.kMinimize if extension.minimize else highspy.ObjSense.kMaximize
        )
        highs.changeObjectiveOffset(extension.offset)
        if basis.valid and extension.basic is not None:
            highs.setBasis(_extended(basis, extension.basic, new))
        updates = self.solver.config.auto_updates
        pushes = updates.update_parameters
        updates.update_parameters = False  # Pyomo would write m's costs over the new ones
        self.set_options(PRIMAL)
        try:
            solved = self.solve(m)
            if solved.objective is None:
                return solved
            x = np.asarray(highs.getSolution().col_value)[:num_col]
            return replace(solved, objective=float(cost @ x + offset))
        finally:
            updates.update_parameters = pushes
            self.solver.config.solver_options.clear()
            self.set_options(options)
            added_rows = np.arange(num_row, num_row + rows, dtype=np.int32)
            highs.deleteRows(rows, added_rows)
            added_cols = np.arange(num_col, num_col + new, dtype=np.int32)
            highs.deleteCols(new, added_cols)
            highs.changeColsCost(num_col, np.arange(num_col, dtype=np.int32), cost)
            highs.changeObjectiveSense(sense)
            highs.changeObjectiveOffset(offset)

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
        """The IIS HiGHS computes for the model it has just found infeasible; None when HiGHS
        reports no set (or this Pyomo version hides its row and column maps).

        HiGHS computes it at its default options (the runner's threads and time limit kept):
        under the runner's :data:`DUAL_TOLERANCE` (set for the optimum, not for feasibility) the
        deletion filter cannot confirm that a row may go, so on the endogenous program HiGHS
        returned a set it calls reducible, with a warning (tests/infeasible/frozen_headcount.yaml:
        12 rows, where the IIS has 9; floor_beyond_staff.yaml: 3,088 rows after three minutes,
        where it has 2). It is computed on a fresh HiGHS holding a copy of the LP, with presolve
        off: on the endogenous program with salvage HiGHS 1.16's elasticity filter fails its
        first elastic LP ("unknown model status") and returns all 8,842 rows, flagged reducible
        or unknown, both in the solving instance (whatever its presolve) and in a fresh one with
        presolve on (floor_beyond_staff.yaml, where the IIS has 2 rows, found in 0.1 s so).
        The solving instance is left as it was."""
        highs = getattr(self.solver, "_solver_model", None)
        rows = getattr(self.solver, "_solver_con_to_pyomo_con_map", None)
        cols = getattr(self.solver, "_pyomo_var_to_solver_var_map", None)
        known = getattr(self.solver, "_vars", None)
        if highs is None or rows is None or cols is None or known is None:
            return None
        fresh = highspy.Highs()
        for name, value in (
            ("output_flag", False),
            ("threads", option_of(highs, "threads")),
            ("time_limit", INF if self.solver.limit is None else self.solver.limit),
            ("iis_strategy", IIS_STRATEGY),
            ("presolve", "off"),
        ):
            fresh.setOptionValue(name, value)
        fresh.passModel(highs.getLp())
        status, found = fresh.getIis()
        if status != highspy.HighsStatus.kOk or not found.valid_ or not list(found.row_index_):
            return None
        var_of = {ndx: known[vid][0] for vid, ndx in cols.items()}
        upper = tuple(
            var_of[c]
            for c, how in zip(found.col_index_, found.col_bound_, strict=True)
            if int(how) in IIS_UPPER
        )
        return Iis(tuple(rows[r] for r in found.row_index_), upper)

    def lp(self) -> LpArrays:
        """The LP of the model last handed over, as arrays."""
        lp = self._highs.getLp()
        a = lp.a_matrix_
        return LpArrays(
            num_col=lp.num_col_,
            num_row=lp.num_row_,
            col_cost=np.asarray(lp.col_cost_),
            col_lower=np.asarray(lp.col_lower_),
            col_upper=np.asarray(lp.col_upper_),
            row_lower=np.asarray(lp.row_lower_),
            row_upper=np.asarray(lp.row_upper_),
            a_start=np.asarray(a.start_),
            a_index=np.asarray(a.index_),
            a_value=np.asarray(a.value_),
            offset=float(lp.offset_),
        )

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


# Python template of each expression node the program's mutable coefficients are made of
TEMPLATES: dict[str, Callable[[list[str]], str]] = {
    "NPV_SumExpression": lambda a: "(" + " + ".join(a) + ")",
    "NPV_ProductExpression": lambda a: f"({a[0]} * {a[1]})",
    "NPV_DivisionExpression": lambda a: f"({a[0]} / {a[1]})",
    "NPV_NegationExpression": lambda a: f"(-{a[0]})",
    "NPV_PowExpression": lambda a: f"({a[0]} ** {a[1]})",
    "NPV_MaxExpression": lambda a: f"np.maximum.reduce([{', '.join(a)}])",  # a variable's bounds
    "NPV_MinExpression": lambda a: f"np.minimum.reduce([{', '.join(a)}])",
}


@dataclass
class _Form:
    """Entries (helper, attribute) whose expressions share one template, and their data."""

    function: Callable[[np.ndarray, np.ndarray], np.ndarray]
    entries: list[tuple[Any, str]]
    slots: np.ndarray  # [slots, entries] number of the Param each P[k] reads
    consts: np.ndarray  # [constants, entries]
    last: np.ndarray  # [entries] values HiGHS holds

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        """The entries' values for the Param values ``values``."""
        out = self.function(values[self.slots], self.consts)
        return np.broadcast_to(out, (len(self.entries),))


class Coefficients:
    """Every mutable coefficient, bound and cost that Pyomo's persistent HiGHS interface
    ``solver`` tracks, compiled by form; the interface's helpers hold their current values as
    numbers from here on (so ``update_parameters`` must stay off)."""

    def __init__(self, solver: Any) -> None:
        fields = [
            (h, name)
            for row in solver._mutable_helpers.values()
            for h in row
            for name in (("expr",) if hasattr(h, "expr") else ("lower_expr", "upper_expr"))
        ]
        fields += [
            (h, name)
            for _, h in solver._mutable_bounds.values()
            for name in ("lower_expr", "upper_expr")
        ]
        objective = solver._mutable_objective
        fields += [(h, "expr") for h in (*objective.linear_coefs, objective.constant)]
        numbers: dict[int, int] = {}
        self.params: list[Any] = []
        by_form: dict[str, list[tuple[Any, str, list[int], list[float]]]] = {}
        for helper, name in fields:
            slots: list[int] = []
            consts: list[float] = []
            source = self._template(getattr(helper, name), numbers, slots, consts)
            if slots:  # else a constant, such as an absent bound
                by_form.setdefault(source, []).append((helper, name, slots, consts))
        values = self._values()
        self.forms = []
        for source, rows in by_form.items():
            form = _Form(
                eval(f"lambda P, K: {source}", {"np": np}),  # source built from TEMPLATES only
                [(h, name) for h, name, _, _ in rows],
                np.array([r[2] for r in rows], dtype=int).T,
                np.array([r[3] for r in rows], dtype=float).reshape(len(rows), -1).T,
                np.empty(0),
            )
            form.last = form.evaluate(values).copy()
            for (helper, name), value in zip(form.entries, form.last.tolist(), strict=True):
                setattr(helper, name, value)
            self.forms.append(form)

    def _template(
        self, expr: Any, numbers: dict[int, int], slots: list[int], consts: list[float]
    ) -> str:
        """``expr`` as Python source over ``P[k]`` (its k-th mutable Param: that Param's number
        in ``numbers`` is appended to ``slots``) and ``K[k]`` (its k-th constant, appended to
        ``consts``). Raises TypeError on a node outside :data:`TEMPLATES`."""
        if type(expr) in native_numeric_types or not expr.is_expression_type():
            if type(expr) not in native_numeric_types and expr.is_parameter_type():
                if id(expr) not in numbers:
                    numbers[id(expr)] = len(self.params)
                    self.params.append(expr)
                slots.append(numbers[id(expr)])
                return f"P[{len(slots) - 1}]"
            consts.append(float(pyo.value(expr)))
            return f"K[{len(consts) - 1}]"
        kind = type(expr).__name__
        if kind not in TEMPLATES:
            raise TypeError(f"no template for a mutable coefficient made of {kind}")
        return TEMPLATES[kind]([self._template(a, numbers, slots, consts) for a in expr.args])

    def _values(self) -> np.ndarray:
        return np.fromiter((p.value for p in self.params), dtype=float, count=len(self.params))

    def push(self) -> int:
        """Hand HiGHS every entry whose value changed since the last push; return how many
        helpers were updated."""
        values = self._values()
        touched: dict[int, Any] = {}
        for form in self.forms:
            new = form.evaluate(values)
            for j in np.flatnonzero(new != form.last).tolist():
                helper, name = form.entries[j]
                setattr(helper, name, float(new[j]))
                touched[id(helper)] = helper
            form.last = new.copy()
        for helper in touched.values():
            helper.update()
        return len(touched)


@dataclass(frozen=True)
class Extension:
    """Columns and rows added to a handed-over model for one solve, and the objective that
    replaces its own (:meth:`HighsRunner.solve_instead`), as HiGHS takes them: the new columns'
    bounds [new]; the rows' bounds [rows] and row-wise matrix (``start`` [rows] into
    ``index``/``value`` [nonzeros]) over the model's ``num_col`` columns (0 to num_col - 1,
    :meth:`HighsRunner.column_of`) and the new ones (num_col + k); the costs of every column
    [num_col + new], the objective's constant and its sense. ``basic`` [rows], where given: the
    column (a new one) made basic in each row, whose slack is then nonbasic (-1: the row's
    slack stays basic), so that a primal feasible point of the old basis stays primal feasible
    when each such column is the one that absorbs its row's residual."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    offset: float = 0.0
    minimize: bool = True
    basic: np.ndarray | None = None


def _extended(basis: highspy.HighsBasis, basic: np.ndarray, new: int) -> highspy.HighsBasis:
    """``basis`` of a handed-over model, extended by ``new`` columns (at their lower bound) and
    ``len(basic)`` rows: row k's column ``basic[k]`` basic and its slack nonbasic at its lower
    bound, or (``basic[k]`` = -1) its slack basic."""
    lower, basic_status = highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic
    cols = list(basis.col_status) + [lower] * new
    rows = list(basis.row_status) + [basic_status] * len(basic)
    num_row = len(basis.row_status)
    for k, column in enumerate(basic.tolist()):
        if column >= 0:
            cols[column] = basic_status
            rows[num_row + k] = lower
    out = highspy.HighsBasis()
    out.col_status, out.row_status = cols, rows
    out.valid = True
    return out


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


class ArrayLp:
    """A maximization LP held by HiGHS and assembled from arrays: columns, then rows in
    compressed form (``starts`` [rows] into ``index``/``value`` [entries]), re-solved warm after
    each change. Output is off."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._highs = highspy.Highs()
        self._clock = 0.0  # HiGHS's own clock over the last run
        self._limit = INF  # seconds each run may take
        self.set_options({"output_flag": False, **options})

    def set_options(self, options: Mapping[str, Any]) -> None:
        """Set HiGHS ``options`` by HiGHS's names; ``time_limit`` is the limit of each
        :meth:`run` (HiGHS's own clock runs on over runs: see :class:`_Interface`)."""
        for name, value in options.items():
            if name == "time_limit":
                self._limit = value
            else:
                self._highs.setOptionValue(name, value)

    def pass_lp(self, arrays: LpArrays) -> None:
        """Replace the model by ``arrays``, maximizing ``col_cost @ x + offset``."""
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = arrays.num_col, arrays.num_row
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = float(arrays.offset)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = (
            arrays.col_cost,
            arrays.col_lower,
            arrays.col_upper,
        )
        lp.row_lower_, lp.row_upper_ = arrays.row_lower, arrays.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = arrays.num_col, arrays.num_row
        lp.a_matrix_.start_ = np.asarray(arrays.a_start, np.int32)
        lp.a_matrix_.index_ = np.asarray(arrays.a_index, np.int32)
        lp.a_matrix_.value_ = arrays.a_value
        self._highs.passModel(lp)

    def pass_lp_warm(self, arrays: LpArrays) -> None:
        """Replace the model by ``arrays``; when it has as many columns and rows as the model
        replaced, the next run starts from that model's last basis (a moved program)."""
        highs = self._highs
        basis = highs.getBasis()
        same = (highs.getNumCol(), highs.getNumRow()) == (arrays.num_col, arrays.num_row)
        self.pass_lp(arrays)
        if same and basis.valid:
            highs.setBasis(basis)

    def pass_columns(
        self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, offset: float
    ) -> None:
        """Replace the model by ``len(cost)`` columns with no rows, maximizing
        ``cost @ x + offset``."""
        n, empty = len(cost), np.array([])
        start = np.zeros(n + 1, dtype=np.int32)
        self.pass_lp(
            LpArrays(n, 0, cost, lower, upper, empty, empty, start, start[:0], empty, offset)
        )

    def add_columns(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Append columns without entries in existing rows."""
        empty_i, empty_v = np.array([], np.int32), np.array([])
        self._highs.addCols(len(cost), cost, lower, upper, 0, empty_i, empty_i, empty_v)

    def add_row(self, lower: float, upper: float, index: np.ndarray, value: np.ndarray) -> None:
        """Append one row ``lower <= value @ x[index] <= upper``."""
        self._highs.addRow(lower, upper, len(index), np.asarray(index, np.int32), value)

    def add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        starts: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
    ) -> None:
        """Append ``len(lower)`` rows; row k's entries are ``starts[k]`` up to the next start."""
        self._highs.addRows(
            len(lower),
            lower,
            upper,
            len(index),
            np.asarray(starts, np.int32),
            np.asarray(index, np.int32),
            value,
        )

    def change_column_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the bounds of columns ``cols``."""
        self._highs.changeColsBounds(len(cols), np.asarray(cols, np.int32), lower, upper)

    def run(self) -> Status:
        """Run HiGHS (warm from the last basis when there is one); return how it ended."""
        start = self._highs.getRunTime()  # accumulates over runs
        self._highs.setOptionValue("time_limit", start + self._limit)
        use_threads(option_of(self._highs, "threads"))
        self._highs.run()
        self._clock = self._highs.getRunTime() - start
        return classify(self._highs.getModelStatus())

    def solution(self) -> np.ndarray:
        """[cols] the column values of the last run."""
        return np.asarray(self._highs.getSolution().col_value)

    def objective(self) -> float:
        """The objective value of the last run."""
        return float(self._highs.getInfo().objective_function_value)

    def size(self) -> dict[str, int]:
        """``variables``, ``constraints``, ``nonzeros`` now, and the last run's
        ``simplex_iterations``."""
        return {
            "variables": self._highs.getNumCol(),
            "constraints": self._highs.getNumRow(),
            "nonzeros": self._highs.getNumNz(),
            "simplex_iterations": self._highs.getInfo().simplex_iteration_count,
        }

    def clock(self) -> float:
        """HiGHS's own run clock over the last run, in seconds."""
        return self._clock
