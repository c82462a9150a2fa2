"""scan: every error of the Kafka client is a TransientError the caller can retry (no broker needed)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams import scan as scan_module
from streams.connection import KafkaConnection
from streams.errors import TransientError


class LeaderMoving:
    """A consumer whose broker answers the metadata, then says it no longer leads the partition."""

    closed = False

    def list_topics(self, topic: str, timeout: float) -> Any:
        return SimpleNamespace(topics={topic: SimpleNamespace(error=None, partitions={0: None})})

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        raise KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))

    def close(self) -> None:
        self.closed = True


def test_a_leader_moving_during_a_scan_is_a_transient_error_and_the_consumer_is_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    consumer = LeaderMoving()
    monkeypatch.setattr(scan_module, "_consumer", lambda bootstrap_servers, committed=True: consumer)
    with pytest.raises(TransientError, match="cannot reach Kafka at b:9092") as raised:
        list(scan_module.scan(KafkaConnection("b:9092"), "orders.dlq", missing_ok=True))
    assert raised.value.retriable
    assert consumer.closed
