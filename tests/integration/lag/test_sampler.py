"""Lag on the real broker: numbers per partition, seconds read from the record itself, every Burrow status.

Groups here are driven by plain confluent-kafka consumers: committing with an
assigned (not subscribed) consumer leaves a group with offsets and no active
member; a subscribed consumer that polls without committing is an active
member whose offsets do not move.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.devstack.kafka import KafkaBroker
from streams.lag import Evaluator, LagSampler, Status
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration

MINUTE_MS = 60_000


@pytest.fixture
def sampler(kafka_broker: KafkaBroker) -> Iterator[LagSampler]:
    lag_sampler = LagSampler(kafka_broker.connection)
    try:
        yield lag_sampler
    finally:
        lag_sampler.close()


def produce(bootstrap: str, topic: str, counts: dict[int, int], timestamp_ms: int | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, count in counts.items():
        for i in range(count):
            extra = {"timestamp": timestamp_ms} if timestamp_ms is not None else {}
            producer.produce(topic, value=f"v{i}".encode(), partition=partition, **extra)
    assert producer.flush(15) == 0


def commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit offsets for ``group`` without joining it (no active member is left behind)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def by_partition(groups: list[Any], group: str) -> dict[int, Any]:
    found = [g for g in groups if g.group == group]
    assert len(found) == 1
    return {p.partition: p for p in found[0].partitions}


def test_lag_per_partition_is_log_end_minus_committed_and_seconds_come_from_the_record(
        kafka_broker: KafkaBroker, make_topic: Callable[..., str], sampler: LagSampler) -> None:
    bootstrap, group = kafka_broker.bootstrap_servers, f"g-{uuid.uuid4().hex[:6]}"
    topic = make_topic("lag", partitions=3)
    written = int(time.time() * 1000) - 5 * MINUTE_MS  # records written five minutes ago
    produce(bootstrap, topic, {0: 10, 1: 7, 2: 4}, timestamp_ms=written)
    commit(bootstrap, group, topic, {0: 10, 1: 2, 2: 0})  # caught up on 0, behind on 1, at the start of 2

    partitions = by_partition(sampler.sample([group]), group)
    assert {p: (s.committed, s.log_end, s.lag) for p, s in partitions.items()} == {
        0: (10, 10, 0), 1: (2, 7, 5), 2: (0, 4, 4)}
    assert partitions[0].lag_seconds == 0
    for partition in (1, 2):
        assert 5 * 60 - 5 < partitions[partition].lag_seconds < 5 * 60 + 60  # the record's own timestamp

    later = by_partition((time.sleep(1.5), sampler.sample([group]))[1], group)
    assert later[1].lag_seconds >= partitions[1].lag_seconds + 1.0  # grows while the consumer is stopped
    assert later[1].lag == 5

    counted = by_partition(sampler.sample([group], seconds=False), group)  # records behind only, no reads
    assert {p: (s.lag, s.lag_seconds) for p, s in counted.items()} == {0: (0, 0), 1: (5, 0), 2: (4, 0)}


def test_offsets_holding_only_transaction_markers_or_aborted_records_are_no_lag(
        kafka_broker: KafkaBroker, make_topic: Callable[..., str], sampler: LagSampler) -> None:
    """What an exactly-once writer leaves: a commit marker after its last record, and aborted records.  A reader
    that committed past its last record has nothing left to read; a committed record after them is lag again."""
    bootstrap, group = kafka_broker.bootstrap_servers, f"g-{uuid.uuid4().hex[:6]}"
    topic = make_topic("txn-lag", partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"lag-{uuid.uuid4().hex[:6]}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=f"v{i}".encode(), partition=0)  # offsets 0-2, the commit marker at 3
    producer.commit_transaction(30)
    commit(bootstrap, group, topic, {0: 3})  # past the last record, before the marker
    [only] = by_partition(sampler.sample([group]), group).values()
    assert (only.committed, only.log_end, only.lag) == (3, 4, 0)

    producer.begin_transaction()
    producer.produce(topic, value=b"rolled back", partition=0)  # offset 4, the abort marker at 5
    producer.flush(15)
    producer.abort_transaction(30)
    [only] = by_partition(sampler.sample([group], seconds=False), group).values()
    assert (only.log_end, only.lag) == (6, 0)

    producer.begin_transaction()
    producer.produce(topic, value=b"committed", partition=0)  # offset 6, readable
    producer.commit_transaction(30)
    [only] = by_partition(sampler.sample([group]), group).values()
    assert (only.log_end, only.lag) == (8, 5)  # counted in offsets, as every lag tool does
    assert only.lag_seconds < 60


def test_a_group_with_no_member_still_shows_its_lag(kafka_broker: KafkaBroker, make_topic: Callable[..., str],
                                                    sampler: LagSampler) -> None:
    bootstrap, topic, group = kafka_broker.bootstrap_servers, make_topic("lag"), f"g-{uuid.uuid4().hex[:6]}"
    produce(bootstrap, topic, {0: 3})
    commit(bootstrap, group, topic, {0: 1})
    [found] = sampler.sample([group])
    assert found.members == []
    assert [(p.partition, p.lag) for p in found.partitions] == [(0, 2)]


def test_a_partition_the_group_never_committed_on_counts_from_the_log_start(
        kafka_broker: KafkaBroker, make_topic: Callable[..., str], sampler: LagSampler) -> None:
    """No member holds it (the group stopped, or between two members) and no offset names it: a member that takes
    it reads it from the start, so all of it is lag."""
    bootstrap, group = kafka_broker.bootstrap_servers, f"g-{uuid.uuid4().hex[:6]}"
    topic = make_topic("lag", partitions=3)
    produce(bootstrap, topic, {0: 4, 1: 6})  # partition 2 empty
    commit(bootstrap, group, topic, {0: 4})
    [found] = sampler.sample([group])
    assert [(p.partition, p.committed, p.lag) for p in found.partitions] == [(0, 4, 0), (1, None, 6), (2, None, 0)]


class Member:
    """An active member of ``group``: subscribed, polling, never committing."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                                  "auto.offset.reset": "latest"})
        self.consumer.subscribe([topic])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.consumer.poll(0.2)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.consumer.close()


def statuses(sampler: LagSampler, group: str, steps: list[Callable[[], None]]) -> tuple[Status, Status]:
    """Run ``steps`` (one before each sample) and evaluate a window of that many samples: (partition, group)."""
    evaluator = Evaluator(size=len(steps))
    groups: list[Any] = []
    for step in steps:
        step()
        groups = evaluator.observe(sampler.sample([group]))
    [found] = [g for g in groups if g.group == group]
    return found.partitions[0].status, found.status


def test_every_status_is_reached(kafka_broker: KafkaBroker, make_topic: Callable[..., str],
                                 sampler: LagSampler) -> None:
    bootstrap = kafka_broker.bootstrap_servers

    def scenario() -> tuple[str, str]:
        return make_topic("status"), f"g-{uuid.uuid4().hex[:6]}"

    # OK: caught up.
    topic, group = scenario()
    produce(bootstrap, topic, {0: 5})
    assert statuses(sampler, group, [lambda: commit(bootstrap, group, topic, {0: 5})] * 3) == (Status.OK, Status.OK)

    # WARNING: the consumer moves, but the lag grows at every sample.
    topic, group = scenario()
    committed = [0]

    def falling_behind() -> None:
        produce(bootstrap, topic, {0: 10})
        committed[0] += 2
        commit(bootstrap, group, topic, {0: committed[0]})

    assert statuses(sampler, group, [falling_behind] * 3) == (Status.WARNING, Status.WARNING)

    # STOPPED: no member, offsets not moving, lag > 0.
    topic, group = scenario()
    produce(bootstrap, topic, {0: 8})
    commit(bootstrap, group, topic, {0: 3})
    assert statuses(sampler, group, [lambda: None] * 3) == (Status.STOPPED, Status.STOPPED)

    # STALLED: an active member whose offsets do not move, lag > 0.
    topic, group = scenario()
    produce(bootstrap, topic, {0: 8})
    commit(bootstrap, group, topic, {0: 3})
    member = Member(bootstrap, group, topic)
    try:
        wait_until(lambda: sampler.sample([group])[0].members, timeout=30, what="the member in its group")
        assert statuses(sampler, group, [lambda: None] * 3) == (Status.STALLED, Status.STALLED)
    finally:
        member.close()

    # REWIND: the committed offset went backwards (a replay).
    topic, group = scenario()
    produce(bootstrap, topic, {0: 10})
    steps = [lambda: commit(bootstrap, group, topic, {0: 9}), lambda: commit(bootstrap, group, topic, {0: 2}),
             lambda: commit(bootstrap, group, topic, {0: 4})]
    assert statuses(sampler, group, steps) == (Status.REWIND, Status.REWIND)
