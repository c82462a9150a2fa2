"""Same bytes as confluent-kafka's AvroSerializer; each side reads what the other writes.

Runs against confluent-kafka's in-process mock registry (a ``mock://`` URL);
tests/integration/avro/test_codec_registry.py does the same over HTTP against
the embedded registry.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streams.avro import AvroCodec, AvroSchema, ConfluentRegistry, record_subject, topic_record_subject, topic_subject
from tests.support import NOW

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
V2 = AvroSchema.from_file(SCHEMAS / "OrderPlaced.avsc")
V1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")
CTX = SerializationContext("orders", MessageField.VALUE)
STRATEGY = {"subject.name.strategy": topic_record_subject_name_strategy}
RECORD: dict[str, Any] = {
    "order_id": "o-1", "customer_id": "c-1", "currency": "EUR", "placed_at": NOW, "total_minor": 1250,
    "items": [{"sku": "sku-a", "quantity": 2, "unit_price_minor": 500}, {"sku": "b", "quantity": 1,
                                                                       "unit_price_minor": 250}],
}


@pytest.fixture
def client() -> Iterator[SchemaRegistryClient]:
    mock = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
    yield mock
    mock.close()


@pytest.fixture
def codec(client: SchemaRegistryClient) -> AvroCodec:
    return AvroCodec(ConfluentRegistry("mock://", client=client))


def test_our_bytes_are_the_serializers_bytes(client: SchemaRegistryClient, codec: AvroCodec) -> None:
    record = {**RECORD, "channel": "web"}
    theirs = AvroSerializer(client, V2.text, conf=STRATEGY)(record, CTX)
    assert codec.encode("orders", V2, record) == theirs
    assert client.get_subjects() == ["orders-com.acme.orders.OrderPlaced"]


def test_we_read_what_the_serializer_writes(client: SchemaRegistryClient, codec: AvroCodec) -> None:
    payload = AvroSerializer(client, V1.text, conf=STRATEGY)(RECORD, CTX)
    assert payload is not None
    decoded = codec.decode(payload, V2)
    assert decoded.writer_name == "com.acme.orders.OrderPlaced"
    assert decoded.record == {**RECORD, "channel": None}


def test_the_deserializer_reads_what_we_write(client: SchemaRegistryClient, codec: AvroCodec) -> None:
    payload = codec.encode("orders", V2, {**RECORD, "channel": "app"})
    assert AvroDeserializer(client)(payload, CTX) == {**RECORD, "channel": "app"}
    assert AvroDeserializer(client, V1.text)(payload, CTX) == RECORD  # resolved into v1: channel dropped


@pytest.mark.parametrize(("ours", "theirs"), [
    (topic_record_subject, topic_record_subject_name_strategy),
    (topic_subject, topic_subject_name_strategy),
    (record_subject, record_subject_name_strategy),
])
def test_subject_strategies_name_subjects_as_confluents(ours: Any, theirs: Any) -> None:
    assert ours("orders", V2.full_name) == theirs(CTX, V2.full_name)
