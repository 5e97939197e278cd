"""A model handed to HiGHS, extended for one solve: columns and rows added and an objective in
place of its own (:class:`Extension`), written to HiGHS directly and taken out again afterwards
(:func:`extended`; :meth:`allocopt.optimize.highs.runner.HighsRunner.solve_instead` runs it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from allocopt.optimize.highs.arrays import objective_costs


@dataclass(frozen=True)
class Extension:
    """Columns and rows added to a handed-over model for one solve, and the objective that
    replaces its own (:meth:`~allocopt.optimize.highs.runner.HighsRunner.solve_instead`), as
    HiGHS takes them: the new columns' bounds [new]; the rows' bounds [rows] and row-wise matrix
    (``start`` [rows] into ``index``/``value`` [nonzeros]) over the model's ``num_col`` columns
    (0 to num_col - 1, :meth:`~allocopt.optimize.highs.runner.HighsRunner.column_of`) and the
    new ones (num_col + k); the costs of every column [num_col + new], the objective's constant
    and its sense. ``basic`` [rows], where given: the column (a new one) made basic in each row,
    whose slack is then nonbasic (-1: the row's slack stays basic), so that a primal feasible
    point of the old basis stays primal feasible when each such column is the one that absorbs
    its row's residual."""

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


@contextmanager
def extended(highs: highspy.Highs, extension: Extension) -> Iterator[tuple[np.ndarray, float]]:
    """The model ``highs`` holds, with the columns and rows of ``extension`` added and its
    objective in place of the model's own, for the ``with`` block; then the model as it was:
    the added rows and columns deleted and its costs, sense and offset written back. The new
    columns are appended, so no column of the model is renumbered. The next run starts from
    the last basis, extended by :func:`_extended` where ``extension.basic`` says how. Yields the
    model's own objective as :func:`~allocopt.optimize.highs.arrays.objective_costs` reads it:
    [num_col] costs and the constant."""
    num_col, num_row = highs.getNumCol(), highs.getNumRow()
    cost, offset = objective_costs(highs)
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
    try:
        yield cost, offset
    finally:
        added_rows = np.arange(num_row, num_row + rows, dtype=np.int32)
        highs.deleteRows(rows, added_rows)
        added_cols = np.arange(num_col, num_col + new, dtype=np.int32)
        highs.deleteCols(new, added_cols)
        highs.changeColsCost(num_col, np.arange(num_col, dtype=np.int32), cost)
        highs.changeObjectiveSense(sense)
        highs.changeObjectiveOffset(offset)
