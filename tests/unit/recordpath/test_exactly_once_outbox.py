"""The outbox in exactly-once mode, with a producer that delivers when told: an event's records wait until it is
whole, a commit's gate holds what is written meanwhile for the next transaction, and the transaction knows which
source partitions its records came from (what a commit must cover with offsets)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from streams.position import Position
from streams.recordpath.batching import ITEMS, RepartitionBatcher
from streams.recordpath.outbox import CURRENT, Outbox
from streams.recordpath.transactions import Transactions
from tests.unit.recordpath.test_outbox import FakeProducer, Timers, open_outbox


class TxnProducer(FakeProducer):
    """The fake producer, with the transaction calls recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def init_transactions(self, timeout: float) -> None:
        self.calls.append("init")

    def begin_transaction(self) -> None:
        self.calls.append("begin")

    def send_offsets_to_transaction(self, offsets: Any, metadata: Any, timeout: float) -> None:
        self.calls.append("offsets")

    def commit_transaction(self, timeout: float) -> None:
        self.calls.append("commit")

    def abort_transaction(self, timeout: float) -> None:
        self.calls.append("abort")


def transactional() -> tuple[Outbox, FakeProducer, Timers, Transactions]:
    outbox, producer, timers = open_outbox()
    transactions = Transactions(TxnProducer(), transactional_id="app.w1", timeout_s=10, broker="b:9092")
    transactions.start()
    outbox.transactions = transactions
    return outbox, producer, timers, transactions


def test_an_events_records_are_sent_only_once_it_is_processed_whole() -> None:
    outbox, producer, timers, transactions = transactional()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1"), Position("orders", 2, 7)) as ticket:
        outbox.send("notifications", b"k", b"1")
        outbox.send("orders-changelog", b"k", b"2", state=True)
        assert producer.sent == []  # held: a commit now must not carry half of this event
        assert ticket.pending == 0
    assert [r["value"] for r in producer.sent] == [b"1", b"2"]
    assert transactions.records == 2
    assert transactions.sources == {("orders", 2): 7}
    assert transactions.uncovered({("orders", 2): 7}) == ["orders:2"]  # the event at 7 is not covered by 7
    assert transactions.uncovered({("orders", 2): 8}) == []
    producer.deliver(0)
    producer.deliver(1)
    timers.tick()
    assert acked == ["e1"]
    outbox.close()


def test_an_event_that_raises_sends_nothing_at_all() -> None:
    outbox, producer, _, transactions = transactional()
    try:
        with outbox.open(lambda: None, Position("orders", 0, 1)):
            outbox.send("notifications", b"k", b"1")
            raise RuntimeError("the handler failed")
    except RuntimeError:
        pass
    assert producer.sent == []
    assert transactions.records == 0
    outbox.close()


def test_what_is_written_while_a_commit_is_under_way_waits_for_the_next_transaction() -> None:
    outbox, producer, timers, transactions = transactional()
    outbox.close_gate()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1"), Position("orders", 1, 3)):
        outbox.send("notifications", b"k", b"1")
    outbox.send("audit", None, b"outside any event")
    assert producer.sent == []
    assert acked == []  # not acknowledged: its offset must not go into the commit under way
    assert transactions.records == 0
    outbox.open_gate()
    assert [r["value"] for r in producer.sent] == [b"1", b"outside any event"]
    assert transactions.records == 2
    producer.deliver(0)
    timers.tick()
    assert acked == ["e1"]
    outbox.close()


def test_delivered_waits_for_every_record_and_applies_the_acknowledgements() -> None:
    outbox, producer, _, _ = transactional()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1"), Position("orders", 0, 0)):
        outbox.send("notifications", b"k", b"1")
    polls = {"n": 0}
    poll = producer.poll

    def delivering_on_the_third_poll(timeout: float) -> int:  # the broker answers when the test says
        polls["n"] += 1
        if polls["n"] == 3:
            producer.deliver(0)
        return poll(timeout)

    producer.poll = delivering_on_the_third_poll  # type: ignore[method-assign]
    asyncio.run(asyncio.wait_for(outbox.delivered(), 5))
    assert polls["n"] == 3  # it went on polling until the record was delivered, and no longer
    assert acked == ["e1"]
    outbox.close()


def test_batched_items_of_an_event_join_the_batch_once_the_event_is_whole() -> None:
    outbox, producer, _, _ = transactional()
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=100, max_delay_s=0.05)
    ticket = outbox.open(lambda: None, Position("orders", 0, 5))
    with ticket:
        batcher.add("deltas", "alice", {"n": 1})
        batcher.flush()  # the linger fires mid-event: the item is not in the batch yet
        assert producer.sent == []
    batcher.flush()
    items = json.loads(producer.sent[0]["value"])[ITEMS]
    assert [item[:3] for item in items] == [["orders:0", 5, 1]]
    outbox.close()


def test_at_least_once_sends_at_once_as_before() -> None:
    outbox, producer, _ = open_outbox()
    with outbox.open(lambda: None, Position("orders", 0, 0)):
        outbox.send("notifications", b"k", b"1")
        assert len(producer.sent) == 1
        assert CURRENT.get() is not None
    outbox.close()
