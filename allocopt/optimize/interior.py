"""PIQP's interior point, for the extensive forms too large for HiGHS's (trees over endogenous
capability with many branches).

The interior point of the highspy wheels is IPX, which solves its normal equations by
preconditioned conjugate residuals: on the 64-branch tree's extensive form (563,328 rows x
111,676 columns, 1.3 million nonzeros) a run takes 181-218 CPU s, and the later runs, dual
simplex warm from its basis, no less (docs/explore.md, "Seventh pass"). PIQP (R. Schwan, Y.
Jiang, D. Kuhn, C. N. Jones, "PIQP: A Proximal Interior-Point Quadratic Programming Solver",
IEEE CDC 2023; BSD-2-Clause; https://predict-epfl.github.io/piqp/) factorizes the KKT system
directly (sparse LDLᵀ, kept regularized by its proximal terms): 0.17 s an iteration on that
form, 84 iterations, 14 CPU s a run, to within 2e-6 (relative) of HiGHS's optimum.

:class:`InteriorLp` solves an :class:`~allocopt.optimize.highs.arrays.LpArrays` (a maximization)
with its columns scaled, ``x = scale * x'``: an interior point's path depends on the columns'
magnitudes, which the package's LPs spread over four orders (decisions in FTE and kH100e up to
about 6,000, risk terms below 1). With every column at ``max(1, |x|)`` of a block solved alone
(:func:`block_scale`) the 64-branch form takes 84-86 iterations; unscaled it ends at PIQP's limit
of 250 still 9e-5 away. The end game is erratic on these forms (:data:`ATTEMPTS`).
PIQP proves no vertex and no exact optimum: a run is ``solved`` when its residuals and duality
gap are within :data:`SETTINGS`' tolerances (measured 2e-6 to 2e-5 relative to HiGHS's optimum
on the forms of docs/explore.md, far inside the outer loop's
:data:`~allocopt.optimize.outer.GAIN_TOLERANCE`); every other ending is reported as PIQP's
status for the caller to hand the run to HiGHS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import piqp
import scipy.sparse as sp

from allocopt.optimize.highs.arrays import ArrayLp, LpArrays

# PIQP's settings (names as PIQP's), measured on the first extensive forms of the endogenous
# baseline's trees of 16 and 64 branches, columns scaled (docs/explore.md, "Seventh pass"; CPU s
# on 64 branches). PIQP's defaults stall, the dual residual near 1e-3 for over 100 iterations
# with the proximal terms at their floor, and end at the limit of 250 iterations (50 s):
SETTINGS = {
    # residuals and gap: 1e-6 instead of PIQP's 1e-8 (gap 1e-9) ends after 84 iterations (14 s),
    # within 2e-6 (relative) of HiGHS's optimum
    "eps_abs": 1e-6,
    "eps_rel": 1e-6,
    "eps_duality_gap_abs": 1e-6,
    "eps_duality_gap_rel": 1e-6,
    # the proximal regularization's floor: at PIQP's 1e-13 the KKT system loses accuracy late in
    # the run (the stall); 1e-11 ends in 84 iterations; 1e-10 in 84 too but 1.2e-5 below the optimum
    "reg_finetune_lower_limit": 1e-11,
    # infeasibility certificates: at PIQP's 1e-4, runs with other settings declared the scaled
    # forms primal infeasible after 53-70 iterations, though HiGHS proves them feasible
    "eps_primal_inf": 1e-9,
    "eps_dual_inf": 1e-9,
}

# Attempts, each SETTINGS with these changes, until one ends solved. PIQP's end game is erratic on
# these forms: settings that solve one form in 84 iterations stall on the next, the dual residual
# near 1e-3 until the limit (iterations on the 64-branch tree's first three forms, columns scaled:
# PIQP's fraction to the boundary 0.99: 86, 92, over 250; 0.995: 84, 130, 105; initial proximal
# weights rho 1e-4 and delta 1e-2 instead of 1e-6 and 1e-4: 84, over 150, 96). No run that
# solved took more than 135 iterations, so each attempt stops there (about 25 CPU s on 64 branches).
ATTEMPTS: tuple[dict[str, float], ...] = (
    {"max_iter": 135},
    {"max_iter": 135, "tau": 0.995},
    {"max_iter": 135, "rho_init": 1e-4, "delta_init": 1e-2},
)


@dataclass(frozen=True)
class InteriorRun:
    """How PIQP ended: ``solved`` (residuals and gap within :data:`SETTINGS`) in one of its
    ``attempts`` (:data:`ATTEMPTS`), the last attempt's ``status`` (PIQP's name), the column
    values ``x`` [cols] (meaningful only when solved) and the interior point iterations of all
    attempts."""

    solved: bool
    status: str
    x: np.ndarray
    iterations: int
    attempts: int


class InteriorLp:
    """Solve LPs given as arrays by PIQP's sparse interior point, one thread
    (``threads`` otherwise)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def solve(self, arrays: LpArrays, scale: np.ndarray) -> InteriorRun:
        """Maximize ``col_cost @ x`` over ``arrays``' bounds and rows, the columns scaled by
        ``scale`` [cols] (positive; see the module docstring), in up to ``len(ATTEMPTS)``
        attempts. Rows whose bounds are equal are PIQP's equalities, the rest its two-sided
        inequalities; absent bounds are ``±inf``."""
        n = arrays.num_col
        a = sp.csc_matrix(
            (arrays.a_value, arrays.a_index, arrays.a_start), shape=(arrays.num_row, n)
        )
        a = (a @ sp.diags(scale)).tocsr()
        equal = arrays.row_lower == arrays.row_upper
        problem = (
            sp.csc_matrix((n, n)),
            -arrays.col_cost * scale,  # PIQP minimizes
            a[equal].tocsc(),
            arrays.row_lower[equal],
            a[~equal].tocsc(),
            arrays.row_lower[~equal],
            arrays.row_upper[~equal],
            arrays.col_lower / scale,
            arrays.col_upper / scale,
        )
        iterations = attempts = 0
        for changes in ATTEMPTS:
            attempts += 1
            solver = piqp.SparseSolver()
            for name, value in {**SETTINGS, **changes}.items():
                setattr(solver.settings, name, value)
            solver.settings.num_threads = self.threads
            solver.setup(*problem)
            status = solver.solve()
            iterations += int(solver.result.info.iter)
            if status == piqp.PIQP_SOLVED:
                break
        return InteriorRun(
            solved=status == piqp.PIQP_SOLVED,
            status=status.name,
            x=np.asarray(solver.result.x) * scale,
            iterations=iterations,
            attempts=attempts,
        )


def block_scale(
    lps: Sequence[LpArrays],
    group: Sequence[int],
    column: Sequence[np.ndarray],
    num_col: int,
) -> np.ndarray:
    """[num_col] the column scale of an extensive form whose block b is ``lps[b]`` (a branch of
    program ``group[b]``, its columns at ``column[b]`` in the form): ``max(1, |x|)``, ``x`` the
    optimum of one block of each program solved alone by HiGHS's simplex (its columns' magnitudes
    stand for every branch of that program); 1 where that block has no optimum and for the form's
    own columns (the risk measure's)."""
    scale = np.ones(num_col)
    alone: dict[int, np.ndarray] = {}
    for lp, g, cols in zip(lps, group, column, strict=True):
        if g not in alone:
            block = ArrayLp({"solver": "simplex", "threads": 1})
            block.pass_lp(lp)
            alone[g] = np.abs(block.solution()) if block.run().is_optimal else np.zeros(lp.num_col)
        np.maximum.at(scale, cols, alone[g])
    return scale
