"""Reading a topic from its start to where it ends now, without a consumer group.

What operator tools need (dead letters, the audit log, a table's changelog): a
consistent snapshot, read with an unsubscribed consumer (``assign``, no
commits), stopping at the log-end offsets taken when the scan started, so a
topic that keeps growing does not keep the scan going.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.connection import KafkaConnection
from streams.errors import NotFoundError, TransientError
from streams.recordpath.records import RawRecord

__all__ = ["scan", "topic_exists"]

_TIMEOUT = 15.0


def _consumer(kafka: KafkaConnection, committed: bool = True) -> Any:
    return Consumer(kafka.config({
        "group.id": "streams-scan", "enable.auto.commit": False,
        "enable.partition.eof": True, "auto.offset.reset": "earliest", "log_level": 0,
        "isolation.level": "read_committed" if committed else "read_uncommitted",
    }))


def _unreachable(kafka: KafkaConnection, exc: KafkaException) -> TransientError:
    return TransientError(f"cannot reach Kafka at {kafka}: {exc.args[0]}",
                          hint="is the broker running? check STREAMS_BROKER")


def topic_exists(kafka: KafkaConnection, topic: str) -> bool:
    consumer = _consumer(kafka)
    try:
        metadata = consumer.list_topics(topic, timeout=_TIMEOUT)
    except KafkaException as exc:
        raise _unreachable(kafka, exc) from exc
    finally:
        consumer.close()
    found = metadata.topics.get(topic)
    return found is not None and found.error is None and bool(found.partitions)


def scan(kafka: KafkaConnection, topic: str, *, partitions: set[int] | None = None,
         missing_ok: bool = False, committed: bool = True) -> Iterator[RawRecord]:
    """Every record of ``topic`` (or of its ``partitions``) up to the current end, partition by partition in order.

    A missing topic is a ``NotFoundError`` unless ``missing_ok`` (then nothing is read).  Any error of
    the Kafka client (the broker down, a leader moving) is a ``TransientError``: the caller may try again.
    ``committed=False`` reads ``read_uncommitted``: records of open and aborted transactions too.
    """
    consumer = _consumer(kafka, committed)
    try:
        yield from _scan(consumer, topic, partitions, missing_ok)
    except KafkaException as exc:
        raise _unreachable(kafka, exc) from exc
    finally:
        consumer.close()


def _scan(consumer: Any, topic: str, partitions: set[int] | None, missing_ok: bool) -> Iterator[RawRecord]:
    metadata = consumer.list_topics(topic, timeout=_TIMEOUT)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        if missing_ok:
            return
        raise NotFoundError(f"topic {topic!r} does not exist")
    wanted = sorted(p for p in found.partitions if partitions is None or p in partitions)
    ends = {}
    for partition in wanted:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=_TIMEOUT)
        if high > low:
            ends[partition] = (low, high)
    for partition, (low, high) in sorted(ends.items()):
        yield from _read_partition(consumer, topic, partition, low, high)


def _read_partition(consumer: Any, topic: str, partition: int, low: int, high: int) -> Iterator[RawRecord]:
    consumer.assign([TopicPartition(topic, partition, low)])
    deadline = time.monotonic() + _TIMEOUT
    while True:
        messages = consumer.consume(num_messages=500, timeout=1.0)
        if not messages and time.monotonic() > deadline:
            raise TransientError(f"reading {topic}[{partition}] stalled before offset {high}")
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == error._PARTITION_EOF:
                    return
                raise TransientError(f"reading {topic}[{partition}] failed: {error.str()}")
            offset = int(message.offset())
            deadline = time.monotonic() + _TIMEOUT
            yield RawRecord(topic=topic, partition=partition, offset=offset,
                            timestamp_ms=int(message.timestamp()[1]), key=message.key(), value=message.value(),
                            headers=tuple((k, v) for k, v in (message.headers() or ())))
            if offset >= high - 1:
                return
