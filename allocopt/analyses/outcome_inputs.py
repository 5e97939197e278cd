"""The inputs of each outcome after acceleration (essay Appendix A): automated scaling, a
coordinated pause (its success and failure branches) and self-destruction, as the core program's
:class:`~allocopt.numeric.inputs.Inputs` changed from the switch period on (docs/model.md,
"Outcomes after acceleration"); self-destruction's terms can be switched off one at a time for the
decomposition of the choice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import numpy as np

from allocopt.errors import ScenarioError
from allocopt.numeric.inputs import CapabilitySettings, Inputs
from allocopt.numeric.series import read
from allocopt.numeric.trajectory import OWN
from allocopt.scenario.config import Outcomes
from allocopt.scenario.tables import CHANNELS

SCALE, PAUSE, SELF_DESTRUCT = "scale", "pause", "self_destruct"
OUTCOMES = (SCALE, PAUSE, SELF_DESTRUCT)
ADVOCACY = "governance_communication"  # the category whose exports a costly signal amplifies
OTHERS = CHANNELS.index("others")
INFLUENCE_WINDOW, COSTLY_SIGNAL, RELIEF, COMPUTE, REPLACEMENT = (
    "influence_window",
    "costly_signal",
    "relief",
    "compute",
    "replacement",
)
TERMS = (INFLUENCE_WINDOW, COSTLY_SIGNAL, RELIEF, COMPUTE, REPLACEMENT)  # of self-destruction
REST = "rest"  # the difference the terms leave: own hazard held, hit cap, interactions


def switch_period(inp: Inputs) -> int:
    """Index of the first period whose reference speed-up has reached the threshold."""
    post = np.flatnonzero(inp.post_acceleration)
    if not len(post):
        raise ScenarioError(
            f"scenario '{inp.scenario_name}': outcomes: the reference AI R&D speed-up never "
            f"reaches velocity.acceleration_threshold ({inp.acceleration_threshold:g}x) within "
            "the horizon, so there is no switch after which to choose an outcome"
        )
    return int(post[0])


def _since_switch(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Whether each period is at or after the switch, and years from the switch's start (0 before)."""
    s = switch_period(inp)
    after = np.arange(len(inp.periods)) >= s
    tau = np.where(after, inp.periods.start_year - inp.periods.start_year[s], 0.0)
    return after, tau


def _exports(
    inp: Inputs, lag: np.ndarray | float, halflife: float, signal: float = 0.0
) -> np.ndarray:
    """export_weight after the switch: 2^(−lag[t]/halflife), times (1 + signal) for advocacy."""
    after, _ = _since_switch(inp)
    influence = np.where(after, 2.0 ** (-lag / halflife), 1.0)
    boost = np.array([1 + signal if i.category == ADVOCACY else 1.0 for i in inp.interventions])
    return influence[:, None] * np.where(after[:, None], boost[None, :], 1.0)


def _shifted(inp: Inputs, hazard: np.ndarray, years: np.ndarray | float) -> np.ndarray:
    """Each channel of ``hazard`` read ``years`` later (earlier when negative)."""
    mid = inp.periods.mid_year
    return np.column_stack([read(mid, h, mid + years)[0] for h in hazard.T])


def frontier_hazard(inp: Inputs, lag_years: float) -> np.ndarray:
    """Reference hazard when the frontier is ``lag_years`` ahead of Magma: Magma's own channels
    as in the data, other developers' read lag_years later."""
    hazard = inp.hazard.copy()
    hazard[:, OTHERS] = _shifted(inp, inp.hazard, lag_years)[:, OTHERS]
    return hazard


def scale(inp: Inputs, o: Outcomes, lag_years: float | None = None) -> Inputs:
    """Automated scaling ``lag_years`` (default: ``o.lag_years``) behind the frontier: reference
    own hazards and budgets, others' hazard that far ahead, exports count 2^(−lag/halflife);
    the baseline of risk reduction is scaling at ``o.lag_years`` with no safety work."""
    lag = o.lag_years if lag_years is None else lag_years
    cap = inp.capability
    pre, post = cap.competition_relief
    return dataclasses.replace(
        inp,
        hazard=frontier_hazard(inp, lag),
        hazard_full=frontier_hazard(inp, o.lag_years),
        export_weight=_exports(inp, np.full(len(inp.periods), lag), o.influence_halflife_years),
        # endogenous term (e) after the switch: a delay relieves what Magma's pressure at the lag
        # was, exp(−lag/competition_lag_scale_years) of a peer's (no change on the core program)
        capability=dataclasses.replace(
            cap,
            competition_relief=(
                pre,
                post * float(np.exp(-lag / cap.competition_lag_scale_years)),
            ),
        ),
    )


def dropout_relief(o: Outcomes, lag_years: float) -> float:
    """Share of other developers' hazard removed when Magma drops out ``lag_years`` behind the
    frontier: ``self_destruct_competition_relief · exp(−lag_years / relief_lag_scale_years)``.
    A peer in the pack relieves the leader fully; a laggard, whose pressure on the leader has
    faded, hardly at all."""
    return o.self_destruct_competition_relief * float(np.exp(-lag_years / o.relief_lag_scale_years))


def self_destruct(inp: Inputs, o: Outcomes, without: Collection[str] = ()) -> Inputs:
    """Self-destruction: capabilities may stop (hit cap 1); own hazards held at the switch level;
    others' hazard relieved by :func:`dropout_relief` and raised by the share of Magma's forgone
    hazard others take over; budgets decline from the switch level; influence fades as Magma falls
    behind; advocacy gains the costly signal.

    ``without`` switches terms of :data:`TERMS` off (for :func:`terms_of`): ``influence_window``
    keeps influence at the lag of the switch, ``costly_signal`` drops the advocacy gain, ``relief``
    the competition relief, ``compute`` keeps the budgets of scaling, ``replacement`` hands none of
    the forgone hazard to others. Raises ValueError naming an unknown term."""
    unknown = set(without) - set(TERMS)
    if unknown:
        raise ValueError(f"unknown self_destruct terms {sorted(unknown)}; known: {list(TERMS)}")
    s = switch_period(inp)
    after, tau = _since_switch(inp)
    full = frontier_hazard(inp, o.lag_years)
    held = np.where(after[:, None], full[s][None, :], full)
    forgone = (full - held)[:, OWN].sum(axis=1)
    hazard = held.copy()
    relief = np.where(after & (RELIEF not in without), dropout_relief(o, o.lag_years), 0.0)
    replacement = 0.0 if REPLACEMENT in without else o.self_destruct_replacement
    hazard[:, OTHERS] = full[:, OTHERS] * (1 - relief) + replacement * forgone
    decline = (1 - o.self_destruct_budget_decline_per_year) ** tau
    budget = np.where(after[:, None], inp.budget[s][None, :] * decline[:, None], inp.budget)
    behind = o.lag_years + (0.0 if INFLUENCE_WINDOW in without else tau)
    signal = 0.0 if COSTLY_SIGNAL in without else o.signal_advocacy_gain
    return dataclasses.replace(
        inp,
        hazard=hazard,
        hazard_full=full,
        budget=inp.budget if COMPUTE in without else budget,
        speedup=np.where(after, inp.speedup[s], inp.speedup),  # Magma's AI stops advancing
        hit_cap=np.where(after, 1.0, inp.hit_cap),
        hit_cap_by_regime=(inp.hit_cap_by_regime[0], 1.0),
        export_weight=_exports(inp, behind, o.influence_halflife_years, signal),
        capability=_dropped_out(inp.capability),
    )


def _dropped_out(cap: CapabilitySettings) -> CapabilitySettings:
    """Endogenous capability once Magma has dropped out: its own hazard, budgets, influence and
    competition relief follow self-destruction's calendar terms instead of its delay (docs/model.md,
    "Outcomes over endogenous capability"); AI labour stays, on the held speed-up."""
    return dataclasses.replace(
        cap,
        hazard_follows_delay=False,
        budget_frontier_share=np.zeros_like(cap.budget_frontier_share),
        influence_halflife_years=None,
        competition_relief=(cap.competition_relief[0], 0.0),
    )


def pause_success(inp: Inputs, o: Outcomes) -> Inputs:
    """A coordinated pause that holds: every channel's hazard stays at the switch level for
    pause_years, then follows its path when scaling, postponed by pause_years; Magma may stop its
    capabilities while the pause lasts (hit cap 1); influence as when scaling."""
    s = switch_period(inp)
    after, tau = _since_switch(inp)
    pausing = after & (tau < o.pause_years)
    resumed = after & ~pausing
    scaling = scale(inp, o)
    hazard = np.where(pausing[:, None], scaling.hazard[s][None, :], scaling.hazard)
    hazard = np.where(resumed[:, None], _shifted(inp, scaling.hazard, -o.pause_years), hazard)
    return dataclasses.replace(scaling, hazard=hazard, hit_cap=np.where(pausing, 1.0, inp.hit_cap))


def pause_failure(inp: Inputs, o: Outcomes) -> Inputs:
    """A pause attempt that fails: scaling, with Magma pause_attempt_years further behind."""
    return scale(inp, o, o.lag_years + o.pause_attempt_years)
