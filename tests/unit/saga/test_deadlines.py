"""Which saga deadlines get a timer record on a tick (``DeadlineIndex``): those passed, once per (step, attempt)
while the record is on its way, again for a later attempt, again after a failed send (the caller marks only what it
wrote); and the index follows the table: rows set, set again, deleted, and loaded again after a rebalance."""

from __future__ import annotations

from typing import Any

from agents.saga.deadlines import SLACK, DeadlineIndex

T1, T2, T3 = "2026-12-03T10:00:01.000Z", "2026-12-03T10:00:02.000Z", "2026-12-03T10:00:03.000Z"


def row(step: str, attempt: int, deadline: str) -> dict[str, Any]:
    return {"step": step, "attempt": attempt, "deadline": deadline}


def loaded(*rows: tuple[str, Any]) -> DeadlineIndex:
    index = DeadlineIndex()
    index.load(rows, "assignment 1")
    return index


def test_only_the_deadlines_passed_are_due_and_a_deleted_row_is_not() -> None:
    index = loaded(("a", row("payment", 1, T1)), ("b", row("payment", 1, T3)), ("c", None))
    assert index.due(T2) == [("a", "payment", 1)]
    assert len(index) == 2
    assert sorted(index.due(T3)) == [("a", "payment", 1), ("b", "payment", 1)]


def test_a_timer_written_is_not_written_again_while_its_row_stays() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    assert index.due(T2) == [("a", "payment", 1)]
    index.written("a", "payment", 1)
    assert index.due(T2) == []
    assert index.due(T3) == []
    index.set("a", row("payment", 1, T1))  # the same row written again (a record judged again after a crash)
    assert index.due(T3) == []


def test_a_send_that_failed_is_tried_again_at_the_next_tick() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    assert index.due(T2) == [("a", "payment", 1)]  # not marked written: the send failed
    assert index.due(T2) == [("a", "payment", 1)]


def test_the_next_attempt_gets_its_own_timer_and_a_judged_one_is_forgotten() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    assert index.due(T2) == [("a", "payment", 1)]
    index.written("a", "payment", 1)
    index.set("a", row("payment", 2, T1))  # the saga judged the timer and sent again
    assert index.due(T2) == [("a", "payment", 2)]
    index.written("a", "payment", 2)
    index.set("a", None)  # the saga was answered: the row went
    assert index.due(T3) == []
    assert len(index) == 0
    index.set("a", row("payment", 2, T1))  # so a row back is new again
    assert index.due(T2) == [("a", "payment", 2)]


def test_a_row_moved_to_a_later_deadline_is_due_only_then() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    index.set("a", row("stock", 1, T3))  # answered before its deadline: the next step waits until T3
    assert index.due(T2) == []  # the old heap entry is dropped: it no longer matches the row
    assert index.due(T3) == [("a", "stock", 1)]


def test_loading_replaces_the_rows_and_keeps_what_is_on_its_way_for_rows_that_stayed() -> None:
    index = loaded(("a", row("payment", 1, T1)), ("b", row("payment", 1, T1)))
    assert sorted(index.due(T2)) == [("a", "payment", 1), ("b", "payment", 1)]
    index.written("a", "payment", 1)
    index.written("b", "payment", 1)
    # a rebalance: "b"'s partition went to another worker, "c"'s came here, "a" stayed
    index.load([("a", row("payment", 1, T1)), ("c", row("shipment", 1, T1))], "assignment 2")
    assert index.loaded_for == "assignment 2"
    assert index.due(T2) == [("c", "shipment", 1)]  # "a"'s timer is still on its way; "b" is not ours
    index.load([("b", row("payment", 1, T1))], "assignment 3")  # "b" came back: its old record is forgotten
    assert index.due(T2) == [("b", "payment", 1)]


def test_refresh_loads_the_table_only_when_what_it_was_loaded_for_changed() -> None:
    reads: list[str] = []

    def rows() -> list[tuple[str, Any]]:
        reads.append("read")
        return [("a", row("payment", 1, T1))]

    index = DeadlineIndex()
    assert index.refresh(rows, ("epoch 1", frozenset({0, 1})))
    assert not index.refresh(rows, ("epoch 1", frozenset({0, 1})))  # the same assignment: the index is kept
    assert reads == ["read"]
    assert index.due(T2) == [("a", "payment", 1)]
    assert index.refresh(rows, ("epoch 1", frozenset({0})))  # a partition went, with no recovery of this worker's
    assert index.refresh(rows, ("epoch 2", frozenset({0})))  # a rebalance restored partitions
    assert reads == ["read", "read", "read"]


def test_a_row_written_again_while_its_timer_was_on_its_way_keeps_its_own_deadline() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    assert index.due(T2) == [("a", "payment", 1)]
    index.set("a", row("payment", 1, T2))  # the saga was retried (POST /sagas/a/retry) while the record was sent
    index.written("a", "payment", 1)  # the earlier record: not the new deadline's
    assert index.due(T3) == [("a", "payment", 1)]
    index.set("a", None)
    index.written("a", "payment", 1)  # a row that went is not marked either
    index.set("a", row("payment", 1, T1))
    assert index.due(T2) == [("a", "payment", 1)]


def test_deleting_a_row_the_index_never_had_changes_nothing() -> None:
    index = loaded(("a", row("payment", 1, T1)))
    index.set("b", None)
    assert len(index) == 1
    assert index.due(T2) == [("a", "payment", 1)]


def test_the_heap_stays_the_size_of_the_running_sagas() -> None:
    index = DeadlineIndex()
    for i in range(3 * SLACK):  # sagas that each waited, then ended, all before their deadline
        index.set(f"o-{i}", row("payment", 1, T3))
        index.set(f"o-{i}", row("stock", 1, T3))
        index.set(f"o-{i}", None)
    index.set("running", row("shipment", 1, T1))
    assert len(index) == 1
    assert index.heap_size() <= 2 * len(index) + SLACK
    assert index.due(T2) == [("running", "shipment", 1)]
