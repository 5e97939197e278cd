"""A guard for refusal tests: any attempt to start HiGHS fails the test, so a refusal is shown to
come before anything is solved (every solve goes through ``allocopt.optimize.highs.runner.HighsRunner``)."""

from __future__ import annotations

import pytest

from allocopt.optimize.highs.runner import HighsRunner


def forbid_solving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make starting HiGHS (constructing a :class:`HighsRunner`) raise AssertionError."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("HiGHS was started: something was solved")

    monkeypatch.setattr(HighsRunner, "__init__", started)
