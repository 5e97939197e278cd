"""Shared fixtures: the baseline and its core program solved once per session, and a builder of
tiny scenarios; how ``python -m pytest`` shares the tests out between its pytest-xdist workers
(``-n logical --dist loadfile`` in pyproject.toml)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from allocopt import Result, Scenario, load_scenario, solve
from allocopt.scenario.tables import CHANNELS, RESOURCES

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "models" / "magma_baseline.yaml"
CORE = ROOT / "models" / "magma_core.yaml"

INTENSITY = {"compute": "compute_per_effort_kh100e", "staff": "staff_per_effort_fte"}


def in_units(scenario: Scenario, units: dict[str, float]) -> Scenario:
    """``scenario`` with each resource r of ``units`` measured in a unit units[r] times smaller:
    its budgets and every intervention's intensity of it times units[r] (the same problem)."""
    mult = scenario.budget_multiplier
    return scenario.with_updates(
        {
            "budget_multiplier": {r: mult.get(r, 1.0) * units.get(r, 1.0) for r in RESOURCES},
            "intervention_overrides": {
                row.id: {
                    **scenario.intervention_overrides.get(row.id, {}),
                    **{INTENSITY[r]: getattr(row, INTENSITY[r]) * k for r, k in units.items()},
                }
                for row in scenario.interventions()
            },
        }
    )


def manifest_files(folder: Path) -> list[str]:
    """The files the manifest of a run's ``folder`` lists (relative paths)."""
    from allocopt.results.files import MANIFEST

    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]


def files_below(folder: Path) -> list[str]:
    """Every file below ``folder`` as a relative POSIX path, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


ITEM_DEFAULTS = {
    "name": "tiny intervention",
    "category": "safety_distribution",
    "mode": "mitigation",
    "essay_priority": "",
    "compute_per_effort_kh100e": 0,
    "staff_per_effort_fte": 1,
    "lead_time_years": 0,
    "depreciation_per_year": 0,
    "saturation_effort": 10,
    "max_effort": "",
    "effect_own_direct": 1,
    "effect_own_proliferation": 0,
    "effect_own_sabotage": 0,
    "effect_own_competition": 0,
    "effect_others": 0,
    "source": "test",
}


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The bundled baseline scenario."""
    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def baseline_result(baseline: Scenario) -> Result:
    """The baseline solved once for the whole test session."""
    return solve(baseline)


@pytest.fixture(scope="session")
def core(baseline: Scenario) -> Scenario:
    """The baseline's core program (no endogenous capability): one LP, updated in place and
    re-solved warm; what tests that solve many times use."""
    return baseline.with_updates({"capability": {}})


@pytest.fixture(scope="session")
def core_result(core: Scenario) -> Result:
    """The core program solved once for the whole test session."""
    return solve(core)


TinyBuilder = Callable[..., Scenario]


@pytest.fixture
def tiny(tmp_path: Path) -> TinyBuilder:
    """Build a small yearly scenario from a few numbers, for tests whose optimum is known by hand.

    ``interventions``: list of dicts overriding :data:`ITEM_DEFAULTS`; ``budgets``: list of
    (compute, staff) per year; ``hazard``: list of per-year hazard of ``own_direct`` (other
    channels zero); ``speedup``: list per year; ``config``: YAML fields merged over the defaults.
    """

    def build(
        interventions: list[dict],
        budgets: list[tuple[float, float]],
        hazard: list[float],
        speedup: list[float] | None = None,
        config: dict | None = None,
    ) -> Scenario:
        years = [str(2025 + n) for n in range(len(budgets))]
        speedup = speedup or [1.0] * len(years)
        rows = [{**ITEM_DEFAULTS, "id": f"item{n}", **item} for n, item in enumerate(interventions)]
        pd.DataFrame(rows).to_csv(tmp_path / "interventions.csv", index=False)
        pd.DataFrame(
            [(y, "compute", c, "kH100e", "test") for y, (c, _) in zip(years, budgets, strict=True)]
            + [(y, "staff", s, "FTE", "test") for y, (_, s) in zip(years, budgets, strict=True)],
            columns=["period", "resource", "value", "unit", "source"],
        ).to_csv(tmp_path / "budgets.csv", index=False)
        pd.DataFrame({"period": years, "ai_rnd_speedup": speedup, "source": "test"}).to_csv(
            tmp_path / "acceleration.csv", index=False
        )
        pd.DataFrame(
            [
                (y, c, h if c == "own_direct" else 0.0, "test")
                for y, h in zip(years, hazard, strict=True)
                for c in CHANNELS
            ],
            columns=["period", "channel", "hazard_per_year", "source"],
        ).to_csv(tmp_path / "hazards.csv", index=False)
        doc = {
            "name": "tiny",
            "horizon": {"start": years[0], "end": years[-1], "frequency": "year"},
            "data": {
                t: f"{t}.csv" for t in ("interventions", "budgets", "acceleration", "hazards")
            },
            "velocity": {
                "weights": {"compute": 0.0, "staff": 1.0},
                "hit_cap_pre_acceleration": 0.1,
                "hit_cap_post_acceleration": 1.0,
            },
            "staff": {"growth_max_per_year": 100.0, "reassignment_share_per_year": 100.0},
            "risk": {"residual_floor": dict.fromkeys(CHANNELS, 0.0), "cuts": 40},
        }
        for key, value in (config or {}).items():
            doc[key] = {**doc[key], **value} if isinstance(value, dict) and key in doc else value
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(doc))
        return load_scenario(path)

    return build


NOTEBOOK_TESTS = "tests/test_notebooks.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker, the notebooks (the slowest tests) come first, so no worker is
    left running one alone at the end; elsewhere the order is the written one."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("notebook") is None)  # stable


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: none without it (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` (pyproject.toml) with each notebook apart: the tests of a file run on
    one worker, in the order collected, so a module-scoped fixture is built once, not once per
    worker; the notebooks, independent of each other, spread over the workers. Other ``--dist``
    modes are pytest-xdist's own (None: its default scheduler)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndNotebooks(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            return nodeid if path == NOTEBOOK_TESTS else path

    return FilesAndNotebooks(config, log)
