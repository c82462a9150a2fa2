"""Dead letters counted by topic and reason, read from the dead-letter topics themselves.

Counting the topics (rather than a worker's own counters) gives every worker,
and the CLI, the same cluster-wide numbers.  A ``DeadLetterTally`` remembers
where it stopped, so each ``refresh`` reads only what arrived since.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams import headers as h
from streams.connection import KafkaConnection
from streams.errors import TransientError
from streams.topics import DLQ_SUFFIX

__all__ = ["DeadLetterTally"]

_TIMEOUT = 10.0


class DeadLetterTally:
    def __init__(self, kafka: KafkaConnection, *, topic_prefix: str = "") -> None:
        self.kafka = kafka
        self.topic_prefix = topic_prefix
        self.counts: Counter[tuple[str, str]] = Counter()
        self._next: dict[tuple[str, int], int] = {}
        self._consumer: Any = None

    def refresh(self) -> list[dict[str, Any]]:
        """Read what arrived since the last call; the counts, largest first."""
        if self._consumer is None:
            self._consumer = Consumer(self.kafka.config({
                "group.id": "streams-dlq-tally", "enable.auto.commit": False, "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "log_level": 0, "fetch.max.bytes": 4 << 20,
            }))
        try:
            self._read_new()
        except KafkaException as exc:
            raise TransientError(f"cannot read the dead-letter topics: {exc.args[0]}") from exc
        return [{"topic": topic, "reason": reason, "count": count}
                for (topic, reason), count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _read_new(self) -> None:
        consumer = self._consumer
        metadata = consumer.list_topics(timeout=_TIMEOUT)
        todo = []
        for name, topic in metadata.topics.items():
            if not (name.endswith(DLQ_SUFFIX) and name.startswith(self.topic_prefix)) or topic.error is not None:
                continue
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=_TIMEOUT)
                start = max(self._next.get((name, partition), low), low)
                if start < high:
                    todo.append((name, partition, start, high))
        if not todo:
            return
        consumer.assign([TopicPartition(name, partition, start) for name, partition, start, _ in todo])
        remaining = {(name, partition): high for name, partition, _, high in todo}
        idle = 0
        while remaining and idle < 5:
            messages = consumer.consume(num_messages=1000, timeout=1.0)
            idle = 0 if messages else idle + 1
            for message in messages:
                where = (str(message.topic()), int(message.partition()))
                if message.error() is not None:
                    if message.error().code() == message.error()._PARTITION_EOF:
                        remaining.pop(where, None)
                    continue
                offset = int(message.offset())
                self._next[where] = offset + 1
                reason = next((v.decode(errors="replace") for k, v in reversed(message.headers() or [])
                               if k == h.DLQ_ERROR_CLASS and v is not None), "unknown")
                self.counts[(where[0], reason)] += 1
                if offset + 1 >= remaining.get(where, 0):
                    remaining.pop(where, None)
        consumer.unassign()
