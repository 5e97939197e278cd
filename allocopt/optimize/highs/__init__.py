"""The one package that talks to HiGHS: highspy and Pyomo's HiGHS interface (its private maps too).

Two ways in. :mod:`~allocopt.optimize.highs.runner` hands a Pyomo model to HiGHS through Pyomo's
persistent interface and solves it, warm after in-place Param changes (with
:mod:`~allocopt.optimize.highs.coefficients`, which pushes only the changed values of
mutable-Param coefficients, :mod:`~allocopt.optimize.highs.extension`, a solve with columns, rows
and an objective added for once, and :mod:`~allocopt.optimize.highs.iis`, why a model is
infeasible); :mod:`~allocopt.optimize.highs.arrays` is HiGHS at array level, for programs
assembled from arrays. :mod:`~allocopt.optimize.highs.options` holds HiGHS's options as this
package sets them, :mod:`~allocopt.optimize.highs.model_status` reads how a run ended. Every
other module uses only this API, so a change of HiGHS or Pyomo versions touches this package
alone (tests/optimize/test_highs.py greps the rest of the package for ``highspy`` and the private
attributes). Other modules import from the module that does the job.
"""
