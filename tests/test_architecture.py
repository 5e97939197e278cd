"""The package's shape: no import cycle, no module too long without a stated reason, and modules
that do nothing when imported.

Import edges are read with ``ast`` from each module's top level (inside ``if`` blocks, such as
``if TYPE_CHECKING:``, and ``try`` blocks too, but not inside functions or classes): ``import a.b``
and ``from a.b import c`` (``a.b.c`` when that is a module, else ``a.b``), relative imports
resolved. The parent packages a dotted import runs first are not counted as edges: the package
``allocopt/__init__.py`` re-exports the public API from every stage, so counting it would join
every module to every other.

Length: a module above :data:`MAX_LINES` lines must say why in its module docstring, in a sentence
that starts with ``Long:`` (e.g. ``Long: one table of every figure's style, read top to bottom.``).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "allocopt"
MAX_LINES = 400
LONG = re.compile(r"(?:^|[.!?:]\s+|\n\s*)Long:\s+\w+", re.IGNORECASE)


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name of every module under ``package`` (a package by its ``__init__.py``)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at import: the body, and the bodies of top-level ``if`` and ``try``."""
    out = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            out += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                out += _top_level(block)
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` (at ``path``) imports at its top level."""
    is_package = path.name == "__init__.py"
    edges = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            edges |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            edges |= {
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            }
    return {e for e in edges if e in known and e != name}


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module name -> the package's modules it imports at its top level."""
    names = module_names(package)
    return {name: imports(name, path, set(names)) for name, path in names.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (sorted)."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {n: reach(n) for n in graph}
    groups = {
        tuple(sorted(m for m in reachable[n] if n in reachable[m]))
        for n in graph
        if n in reachable[n]
    }
    return sorted(list(g) for g in groups)


def test_the_walker_finds_cycles_through_type_checking_imports(tmp_path: Path) -> None:
    """The cycle finder itself, on a package made for it: a -> b under TYPE_CHECKING, b -> a."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.c import x\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.b import B\n"
    )
    (pkg / "sub" / "b.py").write_text(
        "from .. import a\nimport pkg.c\n\ndef f():\n    import pkg\n"
    )
    (pkg / "c.py").write_text("x = 1\n")
    graph = import_graph(pkg)
    assert graph == {
        "pkg": {"pkg.c"},
        "pkg.a": {"pkg.sub.b"},
        "pkg.c": set(),
        "pkg.sub": set(),
        "pkg.sub.b": {"pkg.a", "pkg.c"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]


def test_the_import_graph_is_read() -> None:
    graph = import_graph(PACKAGE)
    assert "allocopt.scenario.schema" in graph["allocopt.numeric.inputs"]
    assert "allocopt.numeric.simulate" in graph["allocopt.optimize.outer"]
    assert len(graph) >= 40


def test_no_import_cycle() -> None:
    found = cycles(import_graph(PACKAGE))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(g) for g in found)


# The pipeline's stages in order (docs/architecture.md): a module may import its own stage and the
# stages before it, never a later one. errors and diagnosis sit beside every stage.
STAGES = (
    ("errors", "diagnosis"),
    ("scenario",),
    ("numeric",),
    ("model",),
    ("results",),
    ("optimize",),
    ("analyses",),
    ("plot",),
    ("run", "report", "cli"),
)


def stage_of(module: str) -> int | None:
    """Position in :data:`STAGES` of ``allocopt.<stage>...`` (None for the package itself)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return next(n for n, names in enumerate(STAGES) if parts[1] in names)


def backward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every edge of ``graph`` from a stage to a later one."""
    out = []
    for module, targets in sorted(graph.items()):
        here = stage_of(module)
        for target in sorted(targets):
            there = stage_of(target)
            if here is not None and there is not None and there > here:
                out.append(f"{module} -> {target}")
    return out


def test_imports_run_down_the_pipeline() -> None:
    assert backward_imports(import_graph(PACKAGE)) == []


def test_the_stage_rule_finds_a_backward_import() -> None:
    graph = {"allocopt.results.x": {"allocopt.optimize.y"}, "allocopt.optimize.y": set()}
    assert backward_imports(graph) == ["allocopt.results.x -> allocopt.optimize.y"]
    assert backward_imports({"allocopt.optimize.y": {"allocopt.results.x"}}) == []


def test_long_modules_say_why() -> None:
    unexplained = []
    for name, path in module_names(PACKAGE).items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and not LONG.search(doc):
            unexplained.append(f"{name} ({lines} lines)")
    assert not unexplained, (
        f"above {MAX_LINES} lines without a 'Long: <why>' sentence in the module docstring: "
        + ", ".join(unexplained)
    )


def test_the_length_rule_reads_the_docstring() -> None:
    assert LONG.search("Figures.\n\nLong: one style table for every figure.")
    assert LONG.search("Figures. Long: one style table.")
    assert not LONG.search("A long module.")
    assert not LONG.search("Figures.\n\nLong:")


def test_importing_the_calibration_script_does_no_work(tmp_path: Path) -> None:
    """``python -m allocopt.scenario.calibrate`` writes tables; importing it (as doctest
    collection does) must not."""
    run = subprocess.run(
        [sys.executable, "-c", "import allocopt.scenario.calibrate"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert list(tmp_path.iterdir()) == []
