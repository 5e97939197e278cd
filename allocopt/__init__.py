"""allocopt: compute and staff for capabilities, preparation, mitigation and the safety portfolio
of a frontier AI developer, as a multi-period linear program solved by HiGHS.

>>> import allocopt
>>> scenario = allocopt.load_scenario("models/magma_core.yaml")
>>> first_year = scenario.with_updates({"horizon.end": "2025Q4"})  # four quarters: a quick LP
>>> result = allocopt.solve(first_year)
>>> result.status.value, result.is_optimal
('optimal', True)
>>> result.allocation.columns.tolist()
['period', 'activity', 'category', 'mode', 'resource', 'value', 'unit']
>>> sorted(set(result.allocation.period))
['2025Q1', '2025Q2', '2025Q3', '2025Q4']
"""

from __future__ import annotations

from allocopt.errors import AllocoptError, InfeasibleError, ScenarioError, SolverError
from allocopt.model import evaluate
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.pipeline import solve
from allocopt.optimize.session import Model
from allocopt.results.result import Result
from allocopt.results.status import Status
from allocopt.results.store import load_result, save_result
from allocopt.scenario.load import load_scenario
from allocopt.scenario.schema import Scenario

__all__ = [
    "AllocoptError",
    "InfeasibleError",
    "Model",
    "Result",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "SolverError",
    "Status",
    "evaluate",
    "load_result",
    "load_scenario",
    "save_result",
    "solve",
]
