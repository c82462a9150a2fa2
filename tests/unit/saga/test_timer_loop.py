"""The saga's timer loop over an app of plain objects: nothing while a rebalance restores, the table read again only
when the assignment changed, and after a partition moved away its deadlines are not fired here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

from agents.saga.deadlines import DeadlineIndex
from agents.saga.timers import register_saga_timers
from streams.app import StreamsApp
from streams.producer import DurableProducer

PAST = "2000-01-01T00:00:00.000Z"  # every deadline here has passed


class App:
    """What the timer loop reads of a ``StreamsApp``: rebalancing, the recovery epoch, the assignment, its timer."""

    def __init__(self) -> None:
        self.rebalancing = False
        self.recovery = SimpleNamespace(epoch=1)
        self.assigned = {0, 1}
        self.consumer = SimpleNamespace(assignment=lambda: set(self.assigned))
        self.streams_settings = SimpleNamespace(producer_name="test")
        self.tick: Callable[[], Awaitable[None]] | None = None

    def timer(self, interval: float, name: str) -> Callable[[Callable[[], Awaitable[None]]], Any]:
        def register(fn: Callable[[], Awaitable[None]]) -> Any:
            self.tick = fn
            return fn
        return register


class Table:
    """The deadlines table as Faust iterates it: the rows of the active partitions only; counts its reads."""

    def __init__(self, app: App, rows: dict[int, dict[str, Any]]) -> None:
        self.app, self.rows, self.reads = app, rows, 0

    def items(self) -> list[tuple[str, Any]]:
        self.reads += 1
        return [item for partition in sorted(self.app.assigned) for item in self.rows.get(partition, {}).items()]


class Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any = ()) -> None:
        assert key is not None
        assert value is not None
        self.sent.append((key.decode(), json.loads(value)))


def deadline(step: str, attempt: int = 1) -> dict[str, Any]:
    return {"step": step, "attempt": attempt, "deadline": PAST}


def loop(rows: dict[int, dict[str, Any]]) -> tuple[App, Table, Producer, Callable[[], None]]:
    app, producer = App(), Producer()
    table = Table(app, rows)
    register_saga_timers(cast(StreamsApp, app), deadlines=table, index=DeadlineIndex(), inbox_topic="inbox",
                         tick_s=0.5, producer=lambda: cast(DurableProducer, producer))

    def tick() -> None:
        assert app.tick is not None
        asyncio.run(app.tick())
    return app, table, producer, tick


def test_nothing_fires_while_a_rebalance_restores_the_tables() -> None:
    app, table, producer, tick = loop({0: {"a": deadline("payment")}})
    app.rebalancing = True
    tick()
    assert (table.reads, producer.sent) == (0, [])
    app.rebalancing = False
    tick()
    assert producer.sent == [("a", {"step": "payment", "attempt": 1})]


def test_the_table_is_read_once_per_assignment_and_each_timer_written_once() -> None:
    _, table, producer, tick = loop({0: {"a": deadline("payment")}, 1: {"b": deadline("stock", 2)}})
    tick()
    tick()
    assert table.reads == 1
    assert sorted(producer.sent) == [("a", {"step": "payment", "attempt": 1}), ("b", {"step": "stock", "attempt": 2})]


def test_a_partition_that_moved_away_has_its_deadlines_fired_by_its_new_owner_not_here() -> None:
    app, table, producer, tick = loop({0: {"a": deadline("payment")}, 1: {"b": deadline("stock")}})
    app.assigned = {0}  # partition 1 went to another worker before any tick
    app.recovery.epoch = 2
    tick()
    assert producer.sent == [("a", {"step": "payment", "attempt": 1})]
    app.assigned = {0, 1}  # and came back: read again, its deadline is this worker's to fire
    tick()
    assert table.reads == 2
    assert producer.sent[1:] == [("b", {"step": "stock", "attempt": 1})]
