"""Reading scenario files: YAML with repeated keys refused, ``extends:`` merged, the files a
scenario names kept inside its project, named ``overrides:`` sets and dotted updates applied, and
:func:`load_scenario`, which validates it all.

YAML is read with PyYAML's safe loader (YAML 1.1) plus two things users of other tools expect:
anchors, aliases and merge keys (``late: {<<: *branch, updates: {...}}``) work, and numbers in
scientific notation without a dot (``1e3``, YAML 1.2) are numbers, not text.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from allocopt.errors import ScenarioError
from allocopt.scenario.checks import branch_problems, uncertainty_problems
from allocopt.scenario.config import ScenarioConfig, set_fields
from allocopt.scenario.fields import format_errors, suggest, suggest_file
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import read_table

MERGE_TAG = "tag:yaml.org,2002:merge"
# YAML 1.2 floats PyYAML misses: an exponent without a dot (1e3, 2.5E-4 it reads already)
SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class YamlLoader(yaml.SafeLoader):
    """The safe YAML loader, reading ``1e3`` as a number and noting keys repeated within one
    mapping (plain YAML keeps the last); merge keys (``<<``) are not repeats."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"key '{key}' repeated on line {line}")
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", SCIENTIFIC, list("-+0123456789."))


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and why the parser refused the text: "at line L, column C: <its reason> (<what it
    was reading> at line L, column C)"."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    reason = getattr(exc, "problem", None) or str(exc)
    if "'\\t'" in reason:
        reason += " (a tab: indent with spaces)"
    context, began = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and began and began is not mark:
        reason += f" ({context} at line {began.line + 1}, column {began.column + 1})"
    return f"{at}: {' '.join(reason.split())}"


def parse_value(text: str) -> Any:
    """A command-line value read as a YAML scalar or list (``0.3``, ``1e3``, ``null``,
    ``[a, b]``, ``2025Q1``); raises ScenarioError with the parser's reason."""
    try:
        value, _ = _parse(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not a YAML value{_yaml_problem(exc)}") from None
    return value


def parse_updates(items: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """The dotted fields and values of ``FIELD=VALUE`` items (``--set``; values read by
    :func:`parse_value`; a later item wins); raises ScenarioError naming ``option`` and the item."""
    updates: dict[str, Any] = {}
    for item in items:
        field, equals, text = item.partition("=")
        if not equals or not field.strip():
            raise ScenarioError(
                f"{option} {item}: expected FIELD=VALUE, e.g. velocity.hit_cap_post_acceleration=0.3"
            )
        try:
            updates[field.strip()] = parse_value(text)
        except ScenarioError as exc:
            raise ScenarioError(f"{option} {item}: {exc.problems[0]}") from None
    return updates


def _parse(text: str) -> tuple[Any, list[str]]:
    """The YAML document in ``text`` and its repeated keys; raises yaml.YAMLError."""
    loader = YamlLoader(text)  # the reader refuses control characters right here
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found{suggest_file(path)}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        raw, duplicates = _parse(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: malformed YAML{_yaml_problem(exc)}") from None
    if duplicates:
        raise ScenarioError([f"{path}: {d}" for d in duplicates])
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


# allocopt's own scenarios, whose relative paths a copied scenario still holds
OWN_MODELS = Path(__file__).resolve().parents[2] / "models"
# allocopt's own scenarios and tables: always readable, so a scenario anywhere may extend the
# bundled scenarios and name the bundled tables without --allow-path
OWN_FOLDERS = (OWN_MODELS, OWN_MODELS.parent / "data")


def _path_problem(where: Path, field: str, given: str, allowed: tuple[Path, ...]) -> str | None:
    """Why the file ``given`` in field ``field`` of scenario file ``where`` cannot be used: it
    does not exist (the path resolved, relative to what, and how to fix it: a file of a close
    name in its folder, else allocopt's own file the path reaches from its ``models/`` folder)
    or it lies outside the ``allowed`` folders; None when it can be read."""
    target = (where.parent / given).resolve()
    if not target.exists():
        close, own = suggest_file(target), (OWN_MODELS / given).resolve()
        fix = "; name an existing file, by an absolute path or one relative to that folder"
        if own.is_file() and own != target:
            outside = "" if _inside(own, allowed) else f" with --allow-path {own.parent}"
            fix += f", e.g. allocopt's own {own}{outside}"
        return (
            f"{where}: {field}: {given}: no such file (it resolves to {target}, relative to the "
            f"scenario's folder {where.parent}){close}{'' if close.startswith(';') else fix}"
        )
    if not _inside(target, allowed):
        return (
            f"{where}: {field}: {given} lies outside the project ({', '.join(map(str, allowed))}); "
            "name its folder on the command line (--allow-path) to use it"
        )
    return None


def _resolve_raw(
    path: Path, allowed: tuple[Path, ...], problems: list[str], chain: tuple[Path, ...] = ()
) -> dict:
    """The YAML of ``path`` merged over what it ``extends``, with data paths made absolute;
    ``problems`` gains a line for each data file that is missing or outside the ``allowed``
    folders (:func:`_path_problem`). Raises ScenarioError, with those lines first, when the
    file or what it extends cannot be read."""
    path = path.resolve()
    if path in chain:
        raise ScenarioError(
            f"{path}: 'extends' forms a cycle: " + " -> ".join(p.name for p in (*chain, path))
        )
    try:
        raw = _read_yaml(path)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    data = raw.get("data")
    if isinstance(data, dict):
        given = {k: v for k, v in data.items() if isinstance(v, str)}
        found = (_path_problem(path, f"data.{k}", v, allowed) for k, v in given.items())
        problems += [p for p in found if p]
        raw["data"] = {**data, **{k: str((path.parent / v).resolve()) for k, v in given.items()}}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(
            [*problems, f"{path}: extends: must be the path of another scenario file"]
        )
    problem = _path_problem(path, "extends", parent, allowed)
    if problem:
        raise ScenarioError([*problems, problem])
    base = _resolve_raw((path.parent / parent).resolve(), allowed, problems, (*chain, path))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, raw)


def _apply_overrides(
    where: str,
    raw: dict,
    chosen: Sequence[str],
    updates: Mapping[str, Any],
    labels: tuple[str, str],
) -> dict[str, str]:
    """Apply to ``raw`` the file's ``overrides:`` sets named in ``chosen``, in order, then
    ``updates`` (each a mapping of dotted fields to values); returns what set each field, for
    :func:`~allocopt.scenario.fields.format_errors`. Problems name the set or update
    (``labels``: how the caller names its sets and updates, e.g. ``--override`` and ``--set``)."""
    sets = raw.pop("overrides", None) or {}
    if not isinstance(sets, dict) or not all(isinstance(v, dict) for v in sets.values()):
        raise ScenarioError(
            f"{where}: overrides: must map set names to mappings of dotted fields to values"
        )
    origins: dict[str, str] = {}
    problems: list[str] = []
    steps: list[tuple[str, Mapping[str, Any]]] = []
    for name in chosen:
        if name not in sets:
            known = f"its sets: {', '.join(sets)}" if sets else "it defines none"
            problems.append(
                f"{labels[0]} {name}: no override set of that name in {where} ({known})"
                + suggest(name, sets)
            )
            continue
        steps.append((f"{where}: overrides.{name}.", {str(f): v for f, v in sets[name].items()}))
    steps.append((f"{labels[1]} ", updates))
    for label, fields in steps:
        data = [f for f in fields if f == "data" or f.startswith("data.")]
        problems += [f"{label}{f}: the data files cannot be overridden" for f in data]
        kept = {f: v for f, v in fields.items() if f not in data}
        problems += [f"{label}{p}" for p in set_fields(ScenarioConfig, raw, kept)]
        origins.update({f: f"{label}{f}" for f in kept})
    if problems:
        raise ScenarioError(problems)
    return origins


def load_scenario(
    path: str | Path,
    *,
    root: str | Path | None = None,
    allow: Sequence[str | Path] = (),
    overrides: Sequence[str] = (),
    updates: Mapping[str, Any] | None = None,
    labels: tuple[str, str] = ("overrides", "updates"),
) -> Scenario:
    """Load, merge (``extends:``), override, validate and cross-check a scenario and its tables.

    Files the scenario names (``extends:``, ``data:``) must lie inside ``root`` (default:
    :func:`project_root` of ``path``), inside the project allocopt runs from (the closest folder
    at or above the current directory holding ``models/``), in allocopt's own ``models/`` and
    ``data/`` (:data:`OWN_FOLDERS`), or in one of the ``allow`` folders, which the caller vouches
    for.

    ``overrides`` names sets of the file's top-level ``overrides:`` block (``{name: {dotted.field:
    value}}``, merged through ``extends:`` like any block), applied in order; then ``updates``
    (dotted fields as :meth:`Scenario.with_updates` takes them, e.g.
    ``{"velocity.hit_cap_post_acceleration": 0.3}``) is applied; a later value wins. ``labels``
    name the two in messages (the command line passes ``("--override", "--set")``).

    Raises :class:`ScenarioError` with one line per problem, each naming the file or the
    override and the field, with "did you mean" suggestions for mistyped fields and names.
    """
    path = Path(path)
    if not path.exists():  # named as given (files it names are named resolved)
        raise ScenarioError(f"{path}: scenario file not found{suggest_file(path)}")
    home = Path(root).resolve() if root is not None else project_root(path)
    working = _project_of(Path.cwd().resolve())
    allowed = (
        home,
        *([working] if working else []),
        *(Path(a).resolve() for a in allow),
        *(f for f in OWN_FOLDERS if f.is_dir()),  # none in an install without the checkout
    )
    problems: list[str] = []  # files missing or outside: reported first, with the fields'
    raw = _resolve_raw(path, allowed, problems)
    try:
        origins = _apply_overrides(str(path), raw, overrides, updates or {}, labels)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    try:
        config = ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        problems += format_errors(str(path), exc, ScenarioConfig, origins)
        raise ScenarioError(problems) from None
    if problems:
        raise ScenarioError(problems)
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
        raise ScenarioError(format_errors(str(path), exc, Scenario, origins)) from None
    problems = uncertainty_problems(scenario, str(path)) + branch_problems(scenario, str(path))
    if problems:
        raise ScenarioError(problems)
    return scenario


def as_scenario(scenario: Scenario | str | os.PathLike[str], caller: str) -> Scenario:
    """``scenario`` itself, or the scenario file it names (``str`` or ``os.PathLike``) loaded by
    :func:`load_scenario` with its defaults; raises TypeError naming ``caller`` for any other
    type, and ScenarioError as :func:`load_scenario` does."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario)
    raise TypeError(
        f"{caller}: expected a Scenario or the path of a scenario file (str or os.PathLike), "
        f"got {type(scenario).__name__}"
    )
