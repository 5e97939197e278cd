"""Valid YAML is read as YAML 1.1 tools and spreadsheets write it: anchors, aliases and merge
keys, numbers in scientific notation, bare years; repeated keys are still refused and the
parser's reason is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt import ScenarioError, load_scenario
from tests.conftest import TinyBuilder
from tests.projects import copy_project

MERGED_TREE = """\
extends: magma_core.yaml
name: merged
tree:
  stages:
    - reveal: 2026Q1
      branches:
        early: &branch
          probability: 0.5
          updates: {timeline.shift_years: -0.5}
        late: {<<: *branch, updates: {timeline.shift_years: 0.75}}
"""


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def test_merge_keys_in_a_tree_are_read(tmp_path: Path) -> None:
    path = copy_project(tmp_path).parent / "merged.yaml"
    path.write_text(MERGED_TREE, encoding="utf-8")
    branches = load_scenario(path).tree.stages[0].branches
    assert branches["late"].probability == 0.5  # from the anchor
    assert branches["late"].updates == {"timeline.shift_years": 0.75}  # its own key wins
    assert branches["early"].updates == {"timeline.shift_years": -0.5}


def test_anchors_aliases_and_merges_elsewhere_are_read(tmp_path: Path) -> None:
    path = copy_project(tmp_path).parent / "aliased.yaml"
    path.write_text(
        "extends: magma_core.yaml\nname: aliased\n"
        "velocity: &caps {hit_cap_pre_acceleration: 0.07, hit_cap_post_acceleration: 0.2}\n"
        "budget_multiplier: &same {compute: 1.5, staff: 1.5}\n"
        "budget_growth_multiplier: {<<: *same, staff: 0.5}\n"
        "overrides:\n  tight: {velocity: {<<: *caps, hit_cap_post_acceleration: 0.1}}\n",
        encoding="utf-8",
    )
    loaded = load_scenario(path)
    assert loaded.velocity.hit_cap_pre_acceleration == 0.07
    assert loaded.budget_growth_multiplier == {"compute": 1.5, "staff": 0.5}
    tight = load_scenario(path, overrides=["tight"]).velocity
    assert (tight.hit_cap_pre_acceleration, tight.hit_cap_post_acceleration) == (0.07, 0.1)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: a\nname: b\n", 2),
        (
            "name: a\nvelocity: &v {hit_cap_pre_acceleration: 0.1}\n"
            "risk: {<<: *v, cuts: 8, cuts: 9}\n",
            3,
        ),
    ],
)
def test_repeated_keys_are_still_refused(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = _problems(path)
    assert f"repeated on line {line}" in problem


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("risk: {cuts: 2.4e1}", ("risk", "cuts"), 24),
        ("budget_multiplier: {compute: 1e0, staff: 15E-1}", ("budget_multiplier", "staff"), 1.5),
        ("solver: {time_limit_seconds: 1e3}", ("solver", "time_limit_seconds"), 1000.0),
    ],
)
def test_scientific_notation_is_a_number(
    tmp_path: Path, line: str, field: tuple[str, str], value: float
) -> None:
    path = copy_project(tmp_path).parent / "sci.yaml"
    path.write_text(f"extends: magma_core.yaml\nname: sci\n{line}\n", encoding="utf-8")
    block = getattr(load_scenario(path), field[0])
    got = block[field[1]] if isinstance(block, dict) else getattr(block, field[1])
    assert got == value
    assert type(got) is type(value)


def test_a_quoted_number_is_still_refused(tmp_path: Path) -> None:
    path = copy_project(tmp_path).parent / "quoted.yaml"
    path.write_text('extends: magma_core.yaml\nname: q\nrisk: {cuts: "24"}\n', encoding="utf-8")
    (problem,) = _problems(path)
    assert "risk.cuts" in problem


def test_bare_years_are_period_labels(tiny: TinyBuilder) -> None:
    loaded = tiny(
        [{}],
        [(1, 10)] * 3,
        [0.1] * 3,
        config={
            "horizon": {"start": 2025, "end": 2027},
            "tree": {
                "stages": [
                    {"reveal": 2026, "branches": {"only": {"probability": 1.0, "updates": {}}}}
                ]
            },
        },
    )
    assert loaded.horizon.start == "2025"
    assert loaded.horizon.end == "2027"
    assert loaded.tree.stages[0].reveal == "2026"
    assert loaded.periods().labels == ("2025", "2026", "2027")


@pytest.mark.parametrize(
    ("text", "at", "reason"),
    [
        (
            "name: x\nvelocity:\n  weights: {}\n\thit_cap_pre_acceleration: 0.1\n",
            "line 4, column 1",
            "found character '\\t' that cannot start any token (a tab",
        ),
        (
            "name: x\nvelocity: {weights: [1, 2\nrisk: 3\n",
            "line 3, column 5",
            "expected ',' or ']', but got ':' (while parsing a flow sequence at line 2, column 21)",
        ),
    ],
)
def test_the_parser_reason_is_kept(tmp_path: Path, text: str, at: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = _problems(path)
    assert f"malformed YAML at {at}: " in problem
    assert reason in problem


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "velocity: {hit_cap_post: 0.3}",
            "velocity.hit_cap_post: unknown field; did you mean "
            "velocity.hit_cap_post_acceleration?",
        ),
        ("veloctiy: {}", "veloctiy: unknown field; did you mean velocity?"),
        ("risk: {cut: 8}", "risk.cut: unknown field; did you mean risk.cuts?"),
        ("risk: {zzz: 8}", "risk.zzz: unknown field"),
    ],
)
def test_a_mistyped_field_gets_a_suggestion(tmp_path: Path, line: str, expected: str) -> None:
    path = copy_project(tmp_path).parent / "typo.yaml"
    path.write_text(f"extends: magma_core.yaml\nname: typo\n{line}\n", encoding="utf-8")
    assert _problems(path) == [f"{path}: {expected}"]
