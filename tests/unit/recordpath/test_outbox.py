"""Outbox and batching accounting with a producer that delivers when told: an event is acked only when
everything it wrote is delivered, never when a record of it failed."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError

from streams.position import Position, key_partition
from streams.recordpath.batching import ITEMS, RepartitionBatcher
from streams.recordpath.outbox import CURRENT, Outbox, OutboxError, Ticket


class Message:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._t, self._p, self._o = topic, partition, offset

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o


class FakeProducer:
    """Keeps records until ``deliver``; ``poll`` runs the delivery callbacks of the delivered ones."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.polled_on: list[int] = []  # the thread of each poll
        self._ready: list[tuple[Any, KafkaError | None, Message]] = []
        self._in_flight = 0

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Any = None,
                on_delivery: Any = None, partition: int | None = None) -> None:
        self.sent.append({"topic": topic, "key": key, "value": value, "partition": partition,
                          "on_delivery": on_delivery})
        self._in_flight += 1

    def deliver(self, index: int, error: KafkaError | None = None) -> None:
        record = self.sent[index]
        self._ready.append((record["on_delivery"], error, Message(record["topic"], record["partition"] or 0, index)))

    def poll(self, timeout: float) -> int:
        self.polled_on.append(threading.get_ident())
        ready, self._ready = self._ready, []
        for callback, error, message in ready:
            self._in_flight -= 1
            callback(error, message)
        return len(ready)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return self._in_flight

    def __len__(self) -> int:
        return self._in_flight


async def settle() -> None:
    for _ in range(40):  # a few turns of the outbox's poll timer
        await asyncio.sleep(0.005)


async def open_outbox(failures: list[OutboxError] | None = None) -> tuple[Outbox, FakeProducer]:
    producer = FakeProducer()
    outbox = Outbox("unused:9092", client_id="test", loop=asyncio.get_running_loop(), producer=producer,
                    on_failure=(failures.append if failures is not None else lambda error: None))
    return outbox, producer


async def test_an_event_is_acknowledged_only_when_all_it_wrote_is_delivered() -> None:
    outbox, producer = await open_outbox()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1")) as ticket:  # what an agent does per event (ticket_for)
        assert CURRENT.get() is ticket
        outbox.send("a", b"k", b"1")
        outbox.send("b", b"k", b"2")
    assert CURRENT.get() is None
    assert ticket.sealed
    producer.deliver(0)
    await settle()
    assert acked == []
    producer.deliver(1)
    await settle()
    assert acked == ["e1"]
    outbox.close()


async def test_an_event_that_wrote_nothing_is_acknowledged_at_once() -> None:
    outbox, _ = await open_outbox()
    acked: list[int] = []
    outbox.seal(Ticket(), lambda: acked.append(1))
    assert acked == [1]
    outbox.close()


async def test_a_refused_record_never_acknowledges_its_event_and_stops_the_worker() -> None:
    failures: list[OutboxError] = []
    outbox, producer = await open_outbox(failures)
    acked: list[int] = []
    ticket = Ticket()
    outbox.send("a", b"k", b"1", tickets=[ticket])
    outbox.seal(ticket, lambda: acked.append(1))
    producer.deliver(0, KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    await settle()
    assert acked == []
    assert len(failures) == 1
    assert "refused a record for a" in failures[0].message
    with pytest.raises(OutboxError):
        outbox.raise_if_failed()
    outbox.close()


async def test_delivery_reports_the_position_for_the_store() -> None:
    outbox, producer = await open_outbox()
    positions: list[tuple[str, int, int]] = []
    outbox.send("changelog", b"k", b"v", partition=3, delivered=lambda t, p, o: positions.append((t, p, o)))
    producer.deliver(0)
    await settle()
    assert positions == [("changelog", 3, 0)]
    outbox.close()


KEYS = ("alice", "bob", "carol", "dave")


async def test_batched_items_go_one_record_per_partition_and_ack_each_event_when_delivered() -> None:
    outbox, producer = await open_outbox()
    batcher = RepartitionBatcher(outbox, partitions=2, max_items=100, max_delay_s=0.05)
    acked: list[str] = []
    tickets = {name: Ticket(Position("orders", 1, offset)) for offset, name in enumerate(("e1", "e2"))}
    for name, ticket in tickets.items():
        token = CURRENT.set(ticket)
        for key in KEYS:
            batcher.add("deltas", key, {"key": key, "from": name})
        CURRENT.reset(token)
        outbox.seal(ticket, lambda name=name: acked.append(name))
    await settle()
    assert acked == []  # nothing sent yet
    batcher.flush()
    records = producer.sent
    assert len(records) == 2  # the keys fall in both partitions: one record each
    ids = [item[:3] for r in records for item in json.loads(r["value"])[ITEMS]]
    items = [item[3] for r in records for item in json.loads(r["value"])[ITEMS]]
    assert sorted((i["key"], i["from"]) for i in items) == sorted((k, e) for k in KEYS for e in ("e1", "e2"))
    # each item's id: the event's source partition and offset, and its rank among that event's items
    assert sorted(ids) == sorted(["orders:1", offset, rank] for offset in (0, 1) for rank in range(1, 5))
    for record in records:  # every item of a record really belongs to that partition
        assert {key_partition(i[3]["key"].encode(), 2) for i in json.loads(record["value"])[ITEMS]} == {
            record["partition"]}
    producer.deliver(0)
    await settle()
    assert acked == []  # each event has items in the record not delivered yet
    producer.deliver(1)
    await settle()
    assert sorted(acked) == ["e1", "e2"]
    outbox.close()


async def test_a_full_batch_goes_out_without_waiting_for_the_timer() -> None:
    outbox, producer = await open_outbox()
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=3, max_delay_s=0.05)
    for i in range(7):
        batcher.add("deltas", "k", {"i": i})
    assert [len(json.loads(r["value"])[ITEMS]) for r in producer.sent] == [3, 3]
    batcher.flush()
    assert [len(json.loads(r["value"])[ITEMS]) for r in producer.sent] == [3, 3, 1]
    outbox.close()


async def test_a_ticket_scope_that_raises_never_acknowledges_its_event() -> None:
    outbox, producer = await open_outbox()
    acked: list[str] = []
    scope = outbox.open(lambda: acked.append("e1"))

    def process() -> None:
        with scope:
            outbox.send("a", b"k", b"1")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        process()
    ticket = scope.ticket
    assert CURRENT.get() is None
    producer.deliver(0)
    await settle()
    assert not ticket.sealed
    assert acked == []
    outbox.close()


async def test_delivery_reports_are_served_on_the_event_loop_thread() -> None:
    # A poll thread would wait for the GIL at every report while the loop is busy; under load they fell behind.
    outbox, producer = await open_outbox()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1")):
        outbox.send("a", b"k", b"1")
    producer.deliver(0)
    await settle()
    assert acked == ["e1"]
    assert producer.polled_on
    assert set(producer.polled_on) == {threading.get_ident()}
    outbox.close()


async def test_the_outbox_polls_only_while_records_are_in_flight() -> None:
    outbox, producer = await open_outbox()
    acked: list[str] = []
    await settle()
    assert producer.polled_on == []  # nothing sent: no timer
    with outbox.open(lambda: acked.append("e1")):
        outbox.send("a", b"k", b"1")
    await settle()
    assert len(producer.polled_on) > 1  # in flight: polled again and again
    producer.deliver(0)
    await settle()
    polls = len(producer.polled_on)
    await settle()
    assert len(producer.polled_on) == polls  # all delivered: polling stopped
    with outbox.open(lambda: acked.append("e2")):
        outbox.send("a", b"k", b"2")
    producer.deliver(1)
    await settle()
    assert acked == ["e1", "e2"]  # and starts again with the next record
    outbox.close()
