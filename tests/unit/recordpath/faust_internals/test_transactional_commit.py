"""Faust's commit in exactly-once mode, over a consumer and an app made of plain objects: what goes into the
transaction, what stops the worker instead, and that the gate stays closed after a failure."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP

from streams.position import Position
from streams.recordpath.acks import InOrderAcks
from streams.recordpath.faust_internals.transactions import TransactionalCommit
from streams.recordpath.transactions import Transactions
from tests.unit.recordpath.test_outbox import open_outbox
from tests.unit.recordpath.test_transactions import Producer


@dataclass
class Coordinator:
    generation: int = 3
    member_id: str = "member-1"
    _group_instance_id: str | None = "w1"


@dataclass
class Aio:
    _coordinator: Coordinator = field(default_factory=Coordinator)
    _group_id: str = "orders-app"


class Thread:
    def __init__(self) -> None:
        self.aio = Aio()
        self.tp_last_committed_at: dict[Any, float] = {}

    def _ensure_consumer(self) -> Aio:
        return self.aio


class Base:
    """What Faust's consumer offers the mixin: acknowledged offsets and the assignment."""

    async def force_commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        raise AssertionError("Faust's own commit must not run in exactly-once mode")


class Consumer(TransactionalCommit, Base):
    def __init__(self, app: Any, assigned: set[TP]) -> None:
        self.app = app
        self.assigned = assigned
        self._committed_offset: dict[TP, int] = {}
        self._acked: dict[TP, list[int]] = {}
        self._acked_index: dict[TP, set[int]] = {}
        self._gap: dict[TP, Any] = {}
        self._thread = Thread()

    def assignment(self) -> set[TP]:
        return self.assigned


class App:
    def __init__(self, outbox: Any) -> None:
        self.outbox = outbox
        self.batcher = type("Batcher", (), {"flush": lambda self: None})()
        self.committed: list[Any] = []
        self.crashed: list[BaseException] = []
        self.tables = type("Tables", (), {"on_commit": lambda _, offsets: self.committed.append(offsets)})()
        self.monitor = type("Monitor", (), {"on_tp_commit": lambda _, offsets: None})()
        self.should_stop = False
        self.acks = InOrderAcks()
        self.futures: list[asyncio.Future[Any]] = []

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)

    def add_future(self, coro: Any) -> None:
        self.futures.append(asyncio.ensure_future(coro))


ORDERS0 = TP("orders", 0)


def setup(acked: dict[TP, int], assigned: set[TP]) -> tuple[Consumer, App, Producer, Any]:
    """``acked``: the last event acknowledged in order, per partition."""
    outbox, fake, _ = open_outbox()
    producer = Producer()
    outbox.transactions = Transactions(producer, transactional_id="orders-app.w1", timeout_s=10, broker="b:9092")
    outbox.transactions.start()
    app = App(outbox)
    app.acks.acked.update(acked)
    return Consumer(app, assigned), app, producer, fake


def write(outbox: Any, fake: Any, source: Position) -> None:
    """One event of ``source`` that wrote one record, delivered."""
    with outbox.open(lambda: None, source):
        outbox.send("notifications", b"k", b"v")
    fake.deliver(len(fake.sent) - 1)


async def commit(consumer: Consumer) -> bool:
    """Faust's commit, then whatever it scheduled (a crash) run to its end."""
    done = await consumer.force_commit()
    await asyncio.gather(*consumer.app.futures)
    return done


def test_the_acknowledged_offsets_go_into_the_transaction_with_the_groups_metadata() -> None:
    consumer, app, producer, fake = setup({ORDERS0: 7}, {ORDERS0})
    write(app.outbox, fake, Position("orders", 0, 7))
    assert asyncio.run(commit(consumer)) is True
    assert producer.calls[-3:] == ["offsets", "commit", "begin"]
    positions, metadata = producer.offsets
    assert [(tp.topic, tp.partition, tp.offset) for tp in positions] == [("orders", 0, 8)]
    assert metadata.startswith(b"CGMDv2:")
    assert b"orders-app\0member-1\0\0w1\0" in metadata
    assert app.committed == [{ORDERS0: 8}]
    assert consumer._committed_offset == {ORDERS0: 8}
    assert app.outbox._waiting is None  # the gate is open again


def test_records_of_an_event_whose_offset_cannot_be_committed_stop_the_worker_and_are_rolled_back() -> None:
    consumer, app, producer, fake = setup({ORDERS0: 6}, {ORDERS0})  # the event at 7 not acknowledged
    write(app.outbox, fake, Position("orders", 0, 7))
    assert asyncio.run(commit(consumer)) is False
    assert "commit" not in producer.calls
    assert producer.calls[-1] == "abort"
    assert "events of orders:0 wrote records but cannot be acknowledged" in str(app.crashed[0])
    assert app.outbox.transactions.failed
    assert app.outbox._waiting == []  # the gate stays closed: nothing more goes out


def test_offsets_of_a_partition_no_longer_assigned_are_never_sent() -> None:
    consumer, app, producer, _ = setup({ORDERS0: 7}, set())
    assert asyncio.run(commit(consumer)) is False
    assert "offsets" not in producer.calls
    assert "orders:0 were revoked while their transaction was open" in str(app.crashed[0])


def test_a_worker_the_group_dropped_sends_no_offsets_without_a_generation() -> None:
    consumer, app, producer, fake = setup({ORDERS0: 7}, {ORDERS0})
    consumer._thread.aio._coordinator.generation = -1  # what aiokafka does when the group forgot the member
    write(app.outbox, fake, Position("orders", 0, 7))
    assert asyncio.run(commit(consumer)) is False
    assert "offsets" not in producer.calls
    assert "no longer a member of its group" in str(app.crashed[0])


def test_nothing_written_and_nothing_acknowledged_commits_nothing() -> None:
    consumer, app, producer, _ = setup({}, {ORDERS0})
    assert asyncio.run(commit(consumer)) is False
    assert producer.calls == ["init", "begin"]
    assert app.crashed == []
    assert app.outbox._waiting is None


def test_offsets_already_committed_are_not_sent_again() -> None:
    consumer, app, producer, _ = setup({ORDERS0: 7}, {ORDERS0})
    consumer._committed_offset[ORDERS0] = 8
    assert asyncio.run(commit(consumer)) is False
    assert "offsets" not in producer.calls
    assert app.crashed == []
