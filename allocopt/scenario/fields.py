"""The building blocks of every scenario schema: the strict base model, the number types a YAML
file may use, and the formatting of pydantic errors as one problem line each."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Numbers in YAML must be numbers: strict refuses true/false and quoted strings ("0.05").
Real = Annotated[float, Field(strict=True)]
Whole = Annotated[int, Field(strict=True)]
Share = Annotated[Real, Field(ge=0, le=1)]
Positive = Annotated[Real, Field(gt=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]


class Strict(BaseModel):
    """Base of every scenario block: unknown fields rejected, values frozen, NaN refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def format_errors(where: str, exc: ValidationError) -> list[str]:
    """One line per error of ``exc``, each starting with ``where`` and naming the field (dotted),
    what is wrong and the value given; a model-level check's ``"; "``-joined problems become one
    line each."""
    lines = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        if not e["loc"]:  # a model-level check: its problems are joined by "; "
            lines += [f"{where}: {part}" for part in msg.split("; ")]
            continue
        loc = ".".join(str(p) for p in e["loc"])
        got = e.get("input")
        shown = (
            "" if isinstance(got, dict | list) else f" (got {'null' if got is None else repr(got)})"
        )
        lines.append(f"{where}: {loc}: {msg}{shown}")
    return lines
