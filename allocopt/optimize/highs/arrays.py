"""HiGHS at array level: a built model's LP read as arrays (:class:`LpArrays`), and
:class:`ArrayLp`, an LP held by HiGHS and assembled from such arrays (the extensive forms of
:mod:`allocopt.optimize.extensive`): add columns and rows, change bounds, set options, run, read
the solution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from allocopt.optimize.highs.model_status import classify
from allocopt.optimize.highs.options import option_of, use_threads
from allocopt.results.status import Status

INF = highspy.kHighsInf  # an absent bound


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


def lp_arrays(highs: highspy.Highs) -> LpArrays:
    """The LP ``highs`` holds, as arrays."""
    lp = highs.getLp()
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


def objective_costs(highs: highspy.Highs) -> tuple[np.ndarray, float]:
    """The objective ``highs`` holds: [cols] the column costs and the constant (HiGHS's
    sense)."""
    num_col = highs.getNumCol()
    cost = highs.getCols(num_col, np.arange(num_col, dtype=np.int32))[2]
    return np.asarray(cost, dtype=float), float(highs.getObjectiveOffset()[1])


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
        :meth:`run` (HiGHS's own clock runs on over runs: see
        :class:`allocopt.optimize.highs.runner._Interface`)."""
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
