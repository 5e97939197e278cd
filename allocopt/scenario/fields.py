"""The building blocks of every scenario schema: the strict base model, the number types a YAML
file may use, the fields a dotted path may name, "did you mean" suggestions, and the formatting
of pydantic errors as one problem line each."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


def _integral(value: Any) -> Any:
    """A float with no fractional part (``1e3`` in YAML) as the int it writes."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _label(value: Any) -> Any:
    """A bare year (``start: 2025``; YAML reads it as a number) as the period label it writes."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Numbers in YAML must be numbers: strict refuses true/false and quoted strings ("0.05").
Real = Annotated[float, Field(strict=True)]
Whole = Annotated[int, BeforeValidator(_integral), Field(strict=True)]
Share = Annotated[Real, Field(ge=0, le=1)]
Positive = Annotated[Real, Field(gt=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
PeriodLabel = Annotated[str, BeforeValidator(_label)]  # 2025Q1, 2025-01, or a bare year 2025


class Strict(BaseModel):
    """Base of every scenario block: unknown fields rejected, values frozen, NaN refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def suggest(word: str, choices: Iterable[str], prefix: str = "") -> str:
    """``"; did you mean X?"`` (or ``"X or Y"``) naming the choices closest to ``word``, each
    after ``prefix``: those ``word`` is part of, else difflib's closest matches (the best and any
    as close); ``""`` when nothing is close.

    >>> suggest("hit_cap", ["weights", "hit_cap_pre", "hit_cap_post"], "velocity.")
    '; did you mean velocity.hit_cap_pre or velocity.hit_cap_post?'
    >>> suggest("magma_cor.yaml", ["magma_core.yaml", "magma_tree.yaml"])
    '; did you mean magma_core.yaml?'
    """
    choices = [c for c in choices if c != word]
    ratio = {c: difflib.SequenceMatcher(None, word, c).ratio() for c in choices}
    picked = sorted((c for c in choices if word and word in c), key=lambda c: -ratio[c])
    if not picked:
        close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
        picked = [c for c in close if ratio[c] >= ratio[close[0]] - 0.05]
    named = [f"{prefix}{c}" for c in picked[:3]]
    return f"; did you mean {' or '.join(named)}?" if named else ""


def _layers(annotation: Any) -> Iterator[Any]:
    """``annotation``, then in turn what it wraps in ``Annotated[...]`` and ``| None``."""
    while True:
        yield annotation
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            kept = [a for a in get_args(annotation) if a is not type(None)]
            if len(kept) != 1:
                return
            annotation = kept[0]
        else:
            return


def unwrap(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[...]`` and ``| None`` (``float`` for ``Real | None``)."""
    *_, inner = _layers(annotation)
    return inner


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _step(annotation: Any, key: Any) -> Any:
    """The annotation of ``key`` inside ``annotation``: a model's field, a mapping's values, a
    list's items (``Any`` inside ``Any``); None when there is no such key."""
    annotation = unwrap(annotation)
    if _is_model(annotation):
        field = annotation.model_fields.get(key)
        return field.annotation if field is not None else None
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]
    if get_origin(annotation) in (list, tuple) and isinstance(key, int):
        return get_args(annotation)[0]
    return Any if annotation is Any else None


def path_problem(schema: type[BaseModel], keys: Sequence[str]) -> str | None:
    """Why the dotted field ``keys`` cannot be set in ``schema`` (an unknown field, with
    :func:`suggest`; a field inside a number or a list), or None when it names a field or a
    key of a mapping field (whose keys the schema checks when validating)."""
    annotation: Any = schema
    for depth, key in enumerate(keys):
        inner = unwrap(annotation)
        annotation = _step(inner, key)
        dotted, parent = ".".join(keys[: depth + 1]), ".".join(keys[:depth])
        if annotation is None and _is_model(inner):
            hint = suggest(key, inner.model_fields, f"{parent}." if parent else "")
            return f"{dotted}: unknown field{hint}"
        if annotation is None:
            return f"{dotted}: {parent} is a value, not a block of fields"
        if annotation is Any:
            return None
    return None


def _bounds(schema: type[BaseModel], loc: Sequence[Any]) -> dict[str, float]:
    """The bounds (``ge``, ``gt``, ``le``, ``lt``) of the field at ``loc`` (a pydantic error
    location) in ``schema``, from its model field and the ``Annotated`` types it wraps (a
    :data:`Share` inside ``| None`` or a mapping's values); empty when ``loc`` names no field."""
    annotation: Any = schema
    metadata: list[Any] = []
    for key in loc:
        inner = unwrap(annotation)
        field = inner.model_fields.get(key) if _is_model(inner) else None
        metadata = list(field.metadata) if field is not None else []
        annotation = _step(annotation, key)
        if annotation is None:
            return {}
    for layer in _layers(annotation):
        if get_origin(layer) is Annotated:  # a FieldInfo holds its constraints in .metadata
            for extra in get_args(layer)[1:]:
                metadata += getattr(extra, "metadata", [extra])
    names = ("ge", "gt", "le", "lt")
    return {n: getattr(m, n) for m in metadata for n in names if hasattr(m, n)}


def _number(value: float) -> str:
    """A bound as written: ``1`` for 1.0, ``1000000`` for 1e6, ``0.001``."""
    whole = float(value).is_integer() and abs(value) < 1e15
    return str(int(value)) if whole else f"{value:g}"


def _range(bounds: Mapping[str, float]) -> str | None:
    """The allowed range of a field with a lower and an upper bound, in words: ``"must be
    between 0 and 1"`` (both allowed), else e.g. ``"must be above 0 and at most 1"``; None
    unless it has both."""
    low = ("at least", bounds["ge"]) if "ge" in bounds else ("above", bounds.get("gt"))
    high = ("at most", bounds["le"]) if "le" in bounds else ("below", bounds.get("lt"))
    if low[1] is None or high[1] is None:
        return None
    if (low[0], high[0]) == ("at least", "at most"):
        return f"must be between {_number(low[1])} and {_number(high[1])}"
    return f"must be {low[0]} {_number(low[1])} and {high[0]} {_number(high[1])}"


RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _model_at(schema: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model holding the fields at ``loc`` (a pydantic error location), if it is one."""
    annotation: Any = schema
    for key in loc:
        annotation = _step(annotation, key)
        if annotation is None:
            return None
    annotation = unwrap(annotation)
    return annotation if _is_model(annotation) else None


def format_errors(
    where: str,
    exc: ValidationError,
    schema: type[BaseModel] | None = None,
    origins: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per error of ``exc``, each starting with ``where`` and naming the field (dotted),
    what is wrong and the value given; a model-level check's ``"; "``-joined problems become one
    line each. With ``schema`` (the model validated), an unknown field gets :func:`suggest`'s
    suggestion and a value out of the range of a field bounded on both sides the whole range
    (``must be between 0 and 1 (got 1.5)``, :func:`_range`); ``origins`` maps dotted fields to
    what set them (``"--set velocity.x"``), which then replaces ``where`` and the field for
    errors at or inside them, for a block's own check on fields set inside it (``"--set
    velocity.weights.compute: velocity: weights must sum to 1, got compute 0.9 + staff 0.4 = 1.3
    (set them together)"``; several joined by
    ", ") and for a model-level check's problem that starts with such a field."""
    lines = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        if not e["loc"]:  # a model-level check: its problems are joined by "; "
            lines += [_attributed(where, part, origins or {}) for part in msg.split("; ")]
            continue
        loc = ".".join(str(p) for p in e["loc"])
        got = e.get("input")
        shown = (
            "" if isinstance(got, dict | list) else f" (got {'null' if got is None else repr(got)})"
        )
        if e["type"] == "extra_forbidden":
            parent = ".".join(str(p) for p in e["loc"][:-1])
            model = _model_at(schema, e["loc"][:-1]) if schema is not None else None
            fields = model.model_fields if model is not None else ()
            msg = "unknown field" + suggest(
                str(e["loc"][-1]), fields, f"{parent}." if parent else ""
            )
            shown = ""
        if e["type"] in RANGE_ERRORS and schema is not None:
            msg = _range(_bounds(schema, e["loc"])) or msg
        origin = next((f for f in (origins or {}) if loc == f or loc.startswith(f"{f}.")), None)
        within = [o for f, o in (origins or {}).items() if f.startswith(f"{loc}.")]
        if origin is not None:  # the option that set the field names it already
            inside = "" if loc == origin else f"{loc}: "
            lines.append(f"{origins[origin]}: {inside}{msg}{shown}")
        elif within:  # a block's own check (a model validator) on fields set inside it
            lines.append(f"{', '.join(within)}: {loc}: {msg}{shown}")
        else:
            lines.append(f"{where}: {loc}: {msg}{shown}")
    return lines


def _attributed(where: str, problem: str, origins: Mapping[str, str]) -> str:
    """``problem`` (of a model-level check) after what set the field it starts with, if known."""
    for field, origin in origins.items():
        if problem.startswith((f"{field}:", f"{field}.")):
            return f"{origin}{problem[len(field) :]}"
    return f"{where}: {problem}"


def suggest_file(path: Path) -> str:
    """For a file that does not exist: :func:`suggest`'s nearest file of the same kind (suffix)
    in its folder or, when that folder does not exist, the nearest folder beside it."""
    folder = path.parent
    if not folder.is_dir():
        above = folder.parent
        folders = [p.name for p in above.iterdir() if p.is_dir()] if above.is_dir() else []
        hint = suggest(folder.name, folders, f"{above}/" if str(above) != "." else "")
        return f" (folder {folder} does not exist{hint})"
    names = [p.name for p in folder.iterdir() if p.is_file() and p.suffix == path.suffix]
    return suggest(path.name, names, f"{folder}/" if str(folder) != "." else "")
