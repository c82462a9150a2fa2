"""Which saga deadlines get a timer record on a tick: those passed, once per (step, attempt) while the record is on
its way, again for a later attempt, and again after a failed send (the caller marks only what it wrote)."""

from __future__ import annotations

from typing import Any

from agents.saga.timers import DueTimers

T1, T2, T3 = "2026-12-03T10:00:01.000Z", "2026-12-03T10:00:02.000Z", "2026-12-03T10:00:03.000Z"


def row(step: str, attempt: int, deadline: str) -> dict[str, Any]:
    return {"step": step, "attempt": attempt, "deadline": deadline}


def test_only_the_deadlines_passed_are_due_and_a_deleted_row_is_not() -> None:
    rows = [("a", row("payment", 1, T1)), ("b", row("payment", 1, T3)), ("c", None)]
    assert DueTimers().due(rows, T2) == [("a", "payment", 1)]


def test_a_timer_written_is_not_written_again_while_its_row_stays() -> None:
    timers = DueTimers()
    rows = [("a", row("payment", 1, T1))]
    assert timers.due(rows, T2) == [("a", "payment", 1)]
    timers.written("a", "payment", 1)
    assert timers.due(rows, T2) == []
    assert timers.due(rows, T3) == []


def test_a_send_that_failed_is_tried_again_at_the_next_tick() -> None:
    timers = DueTimers()
    rows = [("a", row("payment", 1, T1))]
    assert timers.due(rows, T2) == [("a", "payment", 1)]  # not marked written: the send failed
    assert timers.due(rows, T2) == [("a", "payment", 1)]


def test_the_next_attempt_gets_its_own_timer_and_a_judged_one_is_forgotten() -> None:
    timers = DueTimers()
    timers.written("a", "payment", 1)
    assert timers.due([("a", row("payment", 2, T1))], T2) == [("a", "payment", 2)]
    timers.written("a", "payment", 2)
    assert timers.due([], T2) == []  # the saga answered: the row went
    assert timers.due([("a", row("payment", 2, T1))], T2) == [("a", "payment", 2)]  # so a row back is new again
