"""The first vertical slice: Avro events in through Kafka, an agent, a table, a GET route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.harness import Worker, wait_until

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_health_answers_ready(worker: Worker) -> None:
    body = worker.get("/health").json()
    assert body["ready"] is True
    assert body["status"] == "ok"
    assert worker.get("/health", probe="live").status_code == 200


def test_confluent_avro_serializer_event_reaches_the_read_model(worker: Worker, stack_env: dict[str, str],
                                                                registry: Any) -> None:
    """A user's own producer: confluent-kafka + AvroSerializer (TopicRecordNameStrategy), no headers."""
    from confluent_kafka.schema_registry import topic_record_subject_name_strategy

    topic = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    with SchemaRegistryClient({"url": registry.url}) as client:
        serializer = AvroSerializer(client, (SCHEMAS / "OrderPlaced.avsc").read_text(),
                                    conf={"subject.name.strategy": topic_record_subject_name_strategy})
        value = serializer({"order_id": "slice-1", "customer_id": "c-1", "currency": "EUR",
                            "items": [{"sku": "sku-1", "quantity": 3, "unit_price_minor": 100}],
                            "total_minor": 300, "placed_at": 1_795_000_000_000, "channel": "web"},
                           SerializationContext(topic, MessageField.VALUE))
        assert f"{topic}-com.acme.orders.OrderPlaced" in client.get_subjects()
    producer = Producer({"bootstrap.servers": stack_env["STREAMS_BROKER"].removeprefix("kafka://"),
                         "partitioner": "murmur2_random"})
    producer.produce(topic, key=b"slice-1", value=value)
    assert producer.flush(10) == 0

    def order() -> dict[str, Any] | None:
        response = worker.get("/orders/slice-1")
        return response.json() if response.status_code == 200 else None

    body = wait_until(order, timeout=60, what="order slice-1 in the read model")
    assert body["status"] == "placed"
    assert body["total_minor"] == 300
    assert body["_meta"]["read_model"] == "orders"
    assert body["_meta"]["applied"]["offset"] == 0
    missing = worker.get("/orders/nope")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    assert json.loads(missing.text)["error"]["code"] == "not_found"
