"""Why a scenario is infeasible, as plain data: the conflicting constraints and the sentence that
explains them ("2025Q4: velocity-hit cap 5% conflicts with the safety floor of 10% of compute").
:mod:`allocopt.optimize.diagnose` finds them; :class:`allocopt.errors.InfeasibleError` carries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Method = Literal["iis", "elastic"]


@dataclass(frozen=True)
class Conflict:
    """One member of a set of constraints that cannot hold together."""

    # the model component: velocity_hit_limit, safety_floor_limit, max_effort, stock_balance, ...
    family: str
    constraint: str  # the model's name for it, e.g. "velocity_hit_limit[2026Q1]"
    period: str | None
    resource: str | None  # compute / staff, where the constraint is about one resource
    activity: str | None  # intervention id, where the constraint is about one intervention
    phrase: str  # the rule in the scenario's words, e.g. "velocity-hit cap 5%"
    # a rule the scenario sets: its place in a headline (lower first; allocopt.model.family.Row);
    # None: model bookkeeping such as stock_balance
    rank: int | None

    @property
    def is_limit(self) -> bool:
        """A rule the scenario sets (False: model bookkeeping)."""
        return self.rank is not None

    @property
    def sentence(self) -> str:
        """``period: phrase`` — one line of the explanation."""
        return f"{self.period}: {self.phrase}" if self.period else self.phrase


@dataclass(frozen=True)
class Diagnosis:
    """The conflicting constraints of an infeasible scenario and how they were found."""

    scenario_name: str
    method: Method  # "iis": irreducible (drop any member and the rest can hold); "elastic": the
    #   rules a minimal-violation relaxation had to break
    conflicts: tuple[Conflict, ...]

    def families(self) -> set[str]:
        """Names of the constraint families involved."""
        return {c.family for c in self.conflicts}

    def headline(self) -> str:
        """One sentence: the first rule conflicts with the others (rules the scenario sets only)."""
        limits = sorted((c for c in self.conflicts if c.is_limit), key=lambda c: c.rank)
        if not limits:
            return "no rule the scenario sets was singled out (only model bookkeeping rows)"
        grouped: dict[str, list[str]] = {}
        for c in limits:
            grouped.setdefault(c.phrase, [])
            if c.period and c.period not in grouped[c.phrase]:
                grouped[c.phrase].append(c.period)
        periods = {p for ps in grouped.values() for p in ps}
        if len(periods) <= 1:
            prefix = f"{periods.pop()}: " if periods else ""
            items = list(grouped)
        else:
            prefix = ""
            items = [
                f"{phrase} in {_periods(ps)}" if ps else phrase for phrase, ps in grouped.items()
            ]
        if self.method == "elastic":
            return f"{prefix}the least change that makes it feasible relaxes the {_join(items)}"
        if len(items) == 1:
            return f"{prefix}{items[0]} cannot be met"
        return f"{prefix}{items[0]} conflicts with the {_join(items[1:])}"

    def lines(self) -> list[str]:
        """The headline, then one line per conflicting constraint."""
        how = {"iis": "irreducible infeasible set", "elastic": "elastic relaxation"}[self.method]
        return [
            f"scenario '{self.scenario_name}' is infeasible: {self.headline()}",
            f"  conflicting constraints ({how}):",
            *(f"    {c.constraint}: {c.sentence}" for c in self.conflicts),
        ]


def _join(items: Sequence[str], most: int = 5) -> str:
    """ "a, b and c" — or "a; b; and c" when the items hold commas themselves."""
    shown = [*items[:most], *([f"{len(items) - most} more"] if len(items) > most else [])]
    if len(shown) == 1:
        return shown[0]
    if any(", " in item for item in shown):
        return "; ".join(shown[:-1]) + "; and " + shown[-1]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _periods(labels: Sequence[str]) -> str:
    if len(labels) <= 3:
        return _join(labels)
    return f"{labels[0]}–{labels[-1]} ({len(labels)} periods)"
