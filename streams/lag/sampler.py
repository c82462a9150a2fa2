"""Samples consumer lag with confluent-kafka's AdminClient.

For each group: its state and members (``describe_consumer_groups``), its
committed offsets (``list_consumer_group_offsets``), every other partition of
the topics it reads (never committed on: from the log start), the log-end offsets
(``list_offsets`` latest) and, for every partition with lag, the timestamp of
the record *at* the committed offset, read directly with an unsubscribed
consumer: lag in seconds is how long ago the oldest unconsumed record was
written, not an interpolation.

The consumer reads ``read_committed``, and a partition whose offsets past the
committed one hold no record it can read (only the commit markers of
transactions, or aborted records: a topic written by an exactly-once worker
ends with a marker) has no lag: nothing waits to be consumed there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin._listoffsets import OffsetSpec

from streams.connection import KafkaConnection
from streams.errors import TransientError
from streams.lag.model import GroupLag, PartitionLag

__all__ = ["LagSampler", "faust_internal"]

_TIMEOUT = 10.0

METADATA_MAX_AGE_S = 60.0
"""How old the partition counts of the sampled topics may be (a topic's partitions are added rarely)."""


def faust_internal(topic: str) -> bool:
    """Topics a Faust worker is assigned but never commits on (table changelogs, the leader topic):
    their "lag" would read as a stalled consumer forever, so they are not reported."""
    return topic.endswith("-changelog") or topic.endswith("__assignor-__leader")


class LagSampler:
    """Not thread-safe: one sampler per sampling thread."""

    def __init__(self, kafka: KafkaConnection, *, group_prefixes: Iterable[str] = (),
                 ignore_topic: Callable[[str], bool] = faust_internal) -> None:
        self.kafka = kafka
        self.ignore_topic = ignore_topic
        self.group_prefixes = tuple(group_prefixes)
        self._admin = kafka.admin({"log_level": 0})
        self._reader: Any = None
        self._partitions: dict[str, tuple[int, ...]] = {}
        self._partitions_at = 0.0

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def all_groups(self) -> list[str]:
        listing = self._admin.list_consumer_groups(request_timeout=_TIMEOUT).result(timeout=_TIMEOUT + 5)
        return sorted(g.group_id for g in listing.valid)

    def groups(self, extra: Iterable[str] = ()) -> list[str]:
        """The app's groups (by prefix) plus any named explicitly."""
        names = set(extra)
        if self.group_prefixes:
            listing = self._admin.list_consumer_groups(request_timeout=_TIMEOUT).result(timeout=_TIMEOUT + 5)
            names.update(g.group_id for g in listing.valid if g.group_id.startswith(self.group_prefixes))
        return sorted(names)

    def sample(self, groups: Iterable[str], *, seconds: bool = True) -> list[GroupLag]:
        """``seconds=False``: records behind only; ``lag_seconds`` stays 0 (a partition with lag still has its first
        record after the committed offset read, to tell records from transaction markers)."""
        names = list(groups)
        if not names:
            return []
        try:
            return self._sample(names, timed=seconds)
        except KafkaException as exc:
            raise TransientError(f"cannot sample consumer lag: {exc.args[0]}",
                                 hint="is the broker reachable? check STREAMS_BROKER") from exc

    def _sample(self, names: list[str], *, timed: bool) -> list[GroupLag]:
        now = time.time()
        described = self._admin.describe_consumer_groups(names, request_timeout=_TIMEOUT)
        result: list[GroupLag] = []
        committed_by_group: dict[str, dict[tuple[str, int], int | None]] = {}
        for name in names:
            desc = described[name].result(timeout=_TIMEOUT + 5)
            members = [f"{m.client_id}@{m.host}" for m in desc.members]
            committed: dict[tuple[str, int], int | None] = {}
            for member in desc.members:
                for tp in member.assignment.topic_partitions:
                    if not self.ignore_topic(tp.topic):
                        committed[(tp.topic, tp.partition)] = None
            offsets = self._admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(name)], request_timeout=_TIMEOUT)[name].result(timeout=_TIMEOUT + 5)
            for tp in offsets.topic_partitions:
                if not self.ignore_topic(tp.topic):
                    committed[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else None
            committed_by_group[name] = committed
            result.append(GroupLag(group=name, state=_state_name(desc.state), members=sorted(members)))
        self._every_partition(committed_by_group)
        all_tps = {tp for committed in committed_by_group.values() for tp in committed}
        log_end = self._offsets(all_tps, OffsetSpec.latest())  # type: ignore[no-untyped-call]
        never = {tp for committed in committed_by_group.values() for tp, offset in committed.items() if offset is None}
        log_start = self._offsets(never, OffsetSpec.earliest())  # type: ignore[no-untyped-call]

        def start_of(tp: tuple[str, int], offset: int | None) -> int:
            """Where the group will read next: its committed offset, else the log start (auto.offset.reset)."""
            return offset if offset is not None else log_start.get(tp, 0)

        wanted_times = {(topic, partition, start_of((topic, partition), offset))
                        for committed in committed_by_group.values()
                        for (topic, partition), offset in committed.items()
                        if start_of((topic, partition), offset) < log_end.get((topic, partition), 0)}
        timestamps = self._timestamps_at(wanted_times)
        for group in result:
            for (topic, partition), offset in sorted(committed_by_group[group.group].items()):
                end = log_end.get((topic, partition), 0)
                start = start_of((topic, partition), offset)
                lag = max(end - start, 0)
                if timestamps.get((topic, partition, start), 0) is None:
                    lag = 0  # only transaction markers (or aborted records) from there on
                written = timestamps.get((topic, partition, start)) if timed else None
                seconds = max(now - written / 1000.0, 0.0) if lag and written else 0.0
                group.partitions.append(PartitionLag(
                    group=group.group, topic=topic, partition=partition, committed=offset, log_end=end,
                    lag=lag, lag_seconds=round(seconds, 3), sampled_at=now))
        return result

    def _every_partition(self, committed_by_group: dict[str, dict[tuple[str, int], int | None]]) -> None:
        """Add, as never committed on, the partitions of each group's topics that it neither committed on nor has
        assigned: they are read from the log start when a member takes them.  Without them a group between two
        members (a rebalance, when no member holds an assignment, or all stopped) showed none of the lag of a
        partition it had not committed on yet."""
        topics = {topic for committed in committed_by_group.values() for topic, _ in committed}
        partitions = self._partitions_of(topics)
        for committed in committed_by_group.values():
            for topic in {topic for topic, _ in committed}:
                for partition in partitions.get(topic, ()):
                    committed.setdefault((topic, partition), None)

    def _partitions_of(self, topics: set[str]) -> dict[str, tuple[int, ...]]:
        """The partitions of each topic, from cluster metadata asked at most every ``METADATA_MAX_AGE_S``, or
        when a topic not seen before comes up."""
        if not topics:
            return {}
        if not topics <= self._partitions.keys() or time.monotonic() - self._partitions_at > METADATA_MAX_AGE_S:
            metadata = self._admin.list_topics(timeout=_TIMEOUT).topics
            self._partitions = {name: tuple(sorted(topic.partitions)) for name, topic in metadata.items()
                                if topic.error is None}
            # a topic the cluster does not have (deleted since its offsets were committed) is asked about again
            # only once the counts are stale
            self._partitions.update({name: () for name in topics - self._partitions.keys()})
            self._partitions_at = time.monotonic()
        return self._partitions

    def _offsets(self, tps: set[tuple[str, int]], spec: Any) -> dict[tuple[str, int], int]:
        if not tps:
            return {}
        request = {TopicPartition(topic, partition): spec for topic, partition in tps}
        futures = self._admin.list_offsets(request, request_timeout=_TIMEOUT)
        return {(tp.topic, tp.partition): future.result(timeout=_TIMEOUT + 5).offset
                for tp, future in futures.items()}

    def _timestamps_at(self, wanted: set[tuple[str, int, int]]) -> dict[tuple[str, int, int], int | None]:
        """Timestamp (ms) of the first committed record at or after each (topic, partition, offset), read with an
        unsubscribed consumer; None where the partition's readable end comes first (markers only)."""
        if not wanted:
            return {}
        if self._reader is None:
            self._reader = Consumer(self.kafka.config({
                "group.id": "streams-lag-sampler",
                "enable.auto.commit": False, "isolation.level": "read_committed", "enable.partition.eof": True,
                "fetch.max.bytes": 1048576,
                "log_level": 0,
            }))
        consumer = self._reader
        found: dict[tuple[str, int, int], int | None] = {}
        try:
            consumer.assign([TopicPartition(t, p, o) for t, p, o in wanted])
            pending = {(t, p): o for t, p, o in wanted}
            deadline = time.monotonic() + _TIMEOUT
            while pending and time.monotonic() < deadline:
                for message in consumer.consume(num_messages=len(pending) * 10, timeout=0.5):
                    key = (str(message.topic()), int(message.partition() or 0))
                    offset = pending.get(key)
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF and offset is not None:
                            found[(key[0], key[1], offset)] = None
                            del pending[key]
                        continue
                    if offset is not None and int(message.offset() or 0) >= offset:
                        found[(key[0], key[1], offset)] = message.timestamp()[1]
                        del pending[key]
        finally:
            consumer.unassign()
        return found


def _state_name(state: Any) -> str:
    name = getattr(state, "name", str(state))
    return str(name).upper()
