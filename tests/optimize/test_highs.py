"""The modules of allocopt/optimize/highs/ are the only ones that touch HiGHS or Pyomo's private
solver maps."""

from __future__ import annotations

import re
from pathlib import Path

import allocopt

PACKAGE = Path(allocopt.__file__).parent
ADAPTER = PACKAGE / "optimize" / "highs"  # the adapter package
# what only the adapter may write: the HiGHS bindings, and Pyomo's private attributes and
# result loaders of its HiGHS interface
FORBIDDEN = re.compile(
    r"\bimport highspy\b|\bfrom highspy\b|\bhighspy\.|\._solver_model\b|\._get_duals\b"
    r"|_pyomo_var_to_solver_var_map|_pyomo_con_to_solver_con_map"
    r"|_solver_con_to_pyomo_con_map|\bsolution_loader\b|pyomo\.contrib\.solver"
    r"|_mutable_helpers|_mutable_bounds|_mutable_objective|\bauto_updates\b"
)


def outside_the_adapter() -> list[Path]:
    """Every module of the package but those inside :data:`ADAPTER`."""
    return [path for path in sorted(PACKAGE.rglob("*.py")) if ADAPTER not in path.parents]


def test_only_the_adapter_touches_highs() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for path in outside_the_adapter()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []


def test_the_pattern_finds_what_it_forbids() -> None:
    """The grep above can fail: the adapter itself holds every forbidden use, and the grep reads
    the modules beside it (and beside the package that holds it)."""
    outside = outside_the_adapter()
    assert PACKAGE / "optimize" / "pipeline.py" in outside
    assert PACKAGE / "optimize" / "__init__.py" in outside
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(ADAPTER.glob("*.py")))
    for needle in (
        "import highspy",
        "._solver_model",
        "._get_duals",
        "_pyomo_var_to_solver_var_map",
        "_pyomo_con_to_solver_con_map",
        "_solver_con_to_pyomo_con_map",
        "solution_loader",
        "_mutable_helpers",
        "auto_updates",
    ):
        assert needle in text
        assert FORBIDDEN.search(needle)
