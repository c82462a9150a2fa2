"""The saga's inbox takes only the order events the saga acts on: every other type leaves a saga as it was."""

from __future__ import annotations

import pytest

from agents.events.types import EVENT_TYPES
from agents.saga.inbox import INBOX_RULES
from agents.saga.state import INPUTS
from agents.saga.steps import advance
from tests.unit.saga.test_steps import POLICY, T0, event

OTHERS = sorted(set(EVENT_TYPES) - set(INPUTS))


def test_one_rule_per_input_type_refused_events_included() -> None:
    assert sorted(rule.source for rule in INBOX_RULES) == sorted(INPUTS)
    assert set(INPUTS) <= set(EVENT_TYPES)  # each one an event of the catalog (the fan-out checks it at start too)
    assert {rule.target for rule in INBOX_RULES} == {"saga-inbox"}
    assert all(rule.rejected for rule in INBOX_RULES)  # a late reply is refused by the lifecycle, still needed here


@pytest.mark.parametrize("event_type", OTHERS)
def test_a_type_the_inbox_does_not_take_changes_no_saga(event_type: str) -> None:
    started = advance(None, event("OrderPlaced"), T0, POLICY).state
    assert started is not None
    decision = advance(started, event(event_type), T0, POLICY)
    assert (decision.state, decision.commands, decision.events, decision.notes) == (None, [], [], [])
