"""``faust_internals.resume.hold_streams``: flow held, stream partitions (not changelogs) sought where the group left...

And the behaviour of mode's flow control the fix rests on: a record that waits
at the door while flow is held is let in after ``resume()`` has emptied the
queues, so it is not thrown away with them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.types import TP
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams.recordpath.faust_internals.resume import hold_streams

ORDERS_0, ORDERS_1, DELTAS_0 = TP("orders", 0), TP("orders", 1), TP("deltas", 0)
CHANGELOG_0 = TP("app-orders-changelog", 0)


class FakeConsumer:
    def __init__(self, assignment: set[TP]) -> None:
        self._assignment = assignment
        self.sought: dict[TP, int] = {}

    def assignment(self) -> set[TP]:
        return self._assignment

    async def earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        return {tp: 3 for tp in partitions}  # a log whose start was deleted by retention

    async def seek_wait(self, partitions: dict[TP, int]) -> None:
        self.sought.update(partitions)


class FakeTables:
    def __init__(self) -> None:
        self.changelog_topics = {CHANGELOG_0.topic}


class FakeApp:
    def __init__(self, assignment: set[TP], committed: dict[tuple[str, int], int]) -> None:
        self.flow_control = FlowControlEvent(initially_suspended=False)
        self.consumer = FakeConsumer(assignment)
        self.tables = FakeTables()
        self._committed = committed
        self.asked: set[TP] = set()

    async def committed_offsets(self, tps: Any) -> dict[tuple[str, int], int]:
        self.asked = set(tps)
        return {key: offset for key, offset in self._committed.items() if TP(*key) in self.asked}


def test_holds_flow_and_seeks_streams_to_committed_or_log_start() -> None:
    app = FakeApp({ORDERS_0, ORDERS_1, DELTAS_0, CHANGELOG_0}, {("orders", 0): 88, ("deltas", 0): 5})
    queue: FlowControlQueue[str] = FlowControlQueue(flow_control=app.flow_control, clear_on_resume=True)
    queue.put_nowait("queued before the hold: fetched again after the seek")
    asyncio.run(hold_streams(app))
    assert not app.flow_control.is_active()
    assert queue.empty()  # an agent would skip it and acknowledge it while flow is held
    assert app.asked == {ORDERS_0, ORDERS_1, DELTAS_0}  # changelogs are Faust's recovery's business
    assert app.consumer.sought == {ORDERS_0: 88, DELTAS_0: 5, ORDERS_1: 3}


def test_nothing_assigned_still_holds_flow() -> None:
    app = FakeApp({CHANGELOG_0}, {})
    asyncio.run(hold_streams(app))
    assert not app.flow_control.is_active()
    assert app.consumer.sought == {}


def test_a_record_held_at_the_door_survives_the_queues_being_emptied() -> None:
    async def scenario() -> list[str]:
        flow = FlowControlEvent(initially_suspended=False)
        queue: FlowControlQueue[str] = FlowControlQueue(flow_control=flow, clear_on_resume=True)
        queue.put_nowait("fetched before the hold")  # what Faust empties on resume, as it should
        flow.suspend()

        async def deliver(record: str) -> None:  # what Faust's on_message does: wait for flow, then queue
            await flow.acquire()
            queue.put_nowait(record)

        held = asyncio.ensure_future(deliver("fetched after the hold"))
        await asyncio.sleep(0)
        assert not held.done()
        flow.resume()  # Faust, once it has sought: empties the queues
        await held
        return [queue.get_nowait() for _ in range(queue.qsize())]

    assert asyncio.run(scenario()) == ["fetched after the hold"]


def test_a_broker_that_does_not_answer_still_leaves_the_flow_held(caplog: pytest.LogCaptureFixture) -> None:
    app = FakeApp({ORDERS_0}, {})

    async def unreachable(tps: Any) -> dict[tuple[str, int], int]:
        raise TimeoutError("no answer from the group coordinator")

    app.committed_offsets = unreachable  # type: ignore[method-assign]
    asyncio.run(hold_streams(app))
    assert not app.flow_control.is_active()
    assert app.consumer.sought == {}
    assert "could not seek 1 stream partitions" in caplog.text
