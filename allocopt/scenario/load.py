"""Reading scenario files: YAML with repeated keys refused, ``extends:`` merged, the files a
scenario names kept inside its project, and :func:`load_scenario`, which validates it all."""

from __future__ import annotations

import copy
from collections.abc import Hashable, Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from allocopt.errors import ScenarioError
from allocopt.scenario.checks import branch_problems, uncertainty_problems
from allocopt.scenario.config import ScenarioConfig
from allocopt.scenario.fields import format_errors
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import read_table


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe YAML loader, noting keys repeated within one mapping (plain YAML keeps the last)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"key '{key}' repeated on line {line}")
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        loader = _UniqueKeyLoader(text)  # the reader refuses control characters right here
        try:
            raw = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}: malformed YAML{at}") from None
    if loader.duplicates:
        raise ScenarioError([f"{path}: {d}" for d in loader.duplicates])
    if raw is None:
        raise ScenarioError(f"{path}: the scenario file is empty")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{path}: a scenario must be a mapping of fields, got {type(raw).__name__}"
        )
    return raw


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _project_of(folder: Path) -> Path | None:
    """The closest folder at or above ``folder`` that holds a ``models/`` folder."""
    return next((f for f in (folder, *folder.parents) if (f / "models").is_dir()), None)


def project_root(scenario: Path) -> Path:
    """The project a scenario belongs to: the closest folder above it that holds a ``models/``
    folder, else the scenario's own folder. Files a scenario names must lie inside it."""
    here = scenario.resolve().parent
    return _project_of(here) or here


def _inside(path: Path, allowed: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(folder) for folder in allowed)


def _resolve_raw(path: Path, allowed: tuple[Path, ...], chain: tuple[Path, ...] = ()) -> dict:
    """The YAML of ``path`` merged over what it ``extends``, with data paths made absolute and
    checked to lie inside ``allowed`` folders."""
    path = path.resolve()
    if path in chain:
        raise ScenarioError(
            f"{path}: 'extends' forms a cycle: " + " -> ".join(p.name for p in (*chain, path))
        )
    raw = _read_yaml(path)
    outside = (
        f"lies outside the project ({', '.join(map(str, allowed))}); "
        "name its folder on the command line (--allow-path) to use it"
    )
    data = raw.get("data")
    if isinstance(data, dict):
        resolved = {k: (path.parent / v).resolve() for k, v in data.items() if isinstance(v, str)}
        problems = [
            f"{path}: data.{k}: {data[k]} {outside}"
            for k, v in resolved.items()
            if not _inside(v, allowed)
        ]
        if problems:
            raise ScenarioError(problems)
        raw["data"] = {**data, **{k: str(v) for k, v in resolved.items()}}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: must be the path of another scenario file")
    target = (path.parent / parent).resolve()
    if not _inside(target, allowed):
        raise ScenarioError(f"{path}: extends: {parent} {outside}")
    base = _resolve_raw(target, allowed, (*chain, path))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, raw)


def load_scenario(
    path: str | Path, *, root: str | Path | None = None, allow: Sequence[str | Path] = ()
) -> Scenario:
    """Load, merge (``extends:``), validate and cross-check a scenario and its tables.

    Files the scenario names (``extends:``, ``data:``) must lie inside ``root`` (default:
    :func:`project_root` of ``path``), inside the project allocopt runs from (the closest folder
    at or above the current directory holding ``models/``), or in one of the ``allow`` folders,
    which the caller vouches for. Raises :class:`ScenarioError` with one line per problem, each
    naming file and field.
    """
    path = Path(path)
    home = Path(root).resolve() if root is not None else project_root(path)
    working = _project_of(Path.cwd().resolve())
    allowed = (home, *([working] if working else []), *(Path(a).resolve() for a in allow))
    raw = _resolve_raw(path, allowed)
    try:
        config = ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_errors(str(path), exc)) from None
    problems: list[str] = []
    tables: dict[str, tuple] = {}
    for name, table_path in config.data.model_dump().items():
        try:
            tables[name] = tuple(read_table(name, Path(table_path)))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    try:
        scenario = Scenario.model_validate({**config.model_dump(), "tables": tables})
    except ValidationError as exc:
        raise ScenarioError(format_errors(str(path), exc)) from None
    problems = uncertainty_problems(scenario, str(path)) + branch_problems(scenario, str(path))
    if problems:
        raise ScenarioError(problems)
    return scenario
