"""A consumer group's offsets through confluent-kafka's AdminClient: read them, and reset them.

``reset`` refuses while the group has active members, as Kafka does (their
next commit would undo the reset): one line names the members and says how to
stop them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin._listoffsets import OffsetSpec

from streams.connection import KafkaConnection
from streams.errors import ConflictError, NotFoundError, TransientError
from streams.replay.plan import Move, Reset, ResetKind, plan

__all__ = ["GroupActiveError", "GroupOffsets"]

_TIMEOUT = 15.0

TP = tuple[str, int]


class GroupActiveError(ConflictError):
    """The group has active members: offsets cannot be reset under them."""

    code = "group_active"


class GroupOffsets:
    def __init__(self, kafka: KafkaConnection) -> None:
        self._admin = kafka.admin({"log_level": 0})

    def members(self, group: str) -> list[str]:
        """``client_id@host`` of each active member (empty for an inactive or unknown group)."""
        try:
            desc = self._admin.describe_consumer_groups([group], request_timeout=_TIMEOUT)[group].result(_TIMEOUT)
        except KafkaException as exc:
            raise TransientError(f"cannot describe group {group!r}: {exc.args[0]}") from exc
        return sorted(f"{m.client_id}@{m.host}" for m in desc.members)

    def partitions(self, topic: str) -> list[int]:
        metadata = self._admin.list_topics(topic, timeout=_TIMEOUT)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise NotFoundError(f"topic {topic!r} does not exist", hint="check the name and STREAMS_TOPIC_PREFIX")
        return sorted(found.partitions)

    def committed(self, group: str, tps: Iterable[TP]) -> dict[TP, int | None]:
        wanted = [TopicPartition(t, p) for t, p in tps]
        request = ConsumerGroupTopicPartitions(group, wanted)
        try:
            result = self._admin.list_consumer_group_offsets([request], request_timeout=_TIMEOUT)[group].result(
                _TIMEOUT)
        except KafkaException as exc:
            raise TransientError(f"cannot read the offsets of group {group!r}: {exc.args[0]}") from exc
        return {(tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in result.topic_partitions}

    def log_offsets(self, tps: Iterable[TP], spec: Any) -> dict[TP, int]:
        request = {TopicPartition(t, p): spec for t, p in tps}
        if not request:
            return {}
        futures = self._admin.list_offsets(request, request_timeout=_TIMEOUT)
        return {(tp.topic, tp.partition): int(f.result(_TIMEOUT).offset) for tp, f in futures.items()}

    def plan(self, group: str, topic: str, partitions: list[int] | None, reset: Reset) -> list[Move]:
        existing = self.partitions(topic)
        unknown = sorted(set(partitions or ()) - set(existing))
        if unknown:
            raise NotFoundError(f"topic {topic!r} has no partition(s) {unknown}; it has {existing}")
        tps = [(topic, p) for p in (partitions or existing)]
        at_time = None
        if reset.kind is ResetKind.DATETIME:
            assert reset.at is not None
            at_time = {tp: (o if o >= 0 else None) for tp, o in self.log_offsets(
                tps, OffsetSpec.for_timestamp(int(reset.at.timestamp() * 1000))).items()}
        return plan(reset, tps, committed=self.committed(group, tps),
                    log_start=self.log_offsets(tps, OffsetSpec.earliest()),  # type: ignore[no-untyped-call]
                    log_end=self.log_offsets(tps, OffsetSpec.latest()),  # type: ignore[no-untyped-call]
                    at_time=at_time)

    def refuse_if_active(self, group: str) -> None:
        members = self.members(group)
        if members:
            raise GroupActiveError(
                f"group {group!r} has {len(members)} active member(s): {', '.join(members)}",
                hint="stop them first (Ctrl-C the workers, or `docker compose stop worker-1 worker-2`), "
                     "then run this again")

    def apply(self, group: str, moves: list[Move]) -> None:
        """Commit the new offsets for the group (it must be inactive)."""
        self.refuse_if_active(group)
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(m.topic, m.partition, m.after) for m in moves])
        try:
            result = self._admin.alter_consumer_group_offsets([request], request_timeout=_TIMEOUT)[group].result(
                _TIMEOUT)
        except KafkaException as exc:
            raise TransientError(f"cannot reset the offsets of group {group!r}: {exc.args[0]}",
                                 hint="is the group still active? run it again once it is stopped") from exc
        failed = [tp for tp in result.topic_partitions if tp.error is not None]
        if failed:
            raise TransientError(f"offsets not reset for {', '.join(f'{tp.topic}:{tp.partition}' for tp in failed)}")
