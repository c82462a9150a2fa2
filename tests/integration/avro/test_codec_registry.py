"""AvroCodec against the embedded registry over HTTP, interoperating with confluent-kafka's serializers.

Both directions: what ``AvroSerializer`` writes our codec reads (v1 writer into
the v2 reader), and what our codec writes ``AvroDeserializer`` reads (with and
without a reader schema).  The two register the same schema under the same
TopicRecordNameStrategy subject and get the same id, so the bytes are equal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from agents.events import EventCatalog, from_avro, to_avro
from streams.avro import AvroCodec, AvroSchema, ConfluentRegistry, UnknownSchemaIdError, frame
from tests.support import placed

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
V1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")
V2 = AvroSchema.from_file(SCHEMAS / "OrderPlaced.avsc")
STRATEGY = {"subject.name.strategy": topic_record_subject_name_strategy}


@pytest.fixture
def client(registry: Any) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry.url}) as registry_client:
        yield registry_client


@pytest.fixture
def codec(registry: Any) -> Iterator[AvroCodec]:
    with ConfluentRegistry(registry.url) as schema_registry:
        yield AvroCodec(schema_registry)


@pytest.fixture
def topic() -> str:
    return f"orders-{uuid.uuid4().hex[:10]}"


def v1_record(order_id: str) -> dict[str, Any]:
    return {k: v for k, v in to_avro(placed(order_id)).items() if k != "channel"}


def test_serializer_bytes_decode_into_our_reader(client: SchemaRegistryClient, codec: AvroCodec, topic: str) -> None:
    ctx = SerializationContext(topic, MessageField.VALUE)
    payload = AvroSerializer(client, V1.text, conf=STRATEGY)(v1_record("o-1"), ctx)
    assert payload is not None
    decoded = codec.decode(payload, EventCatalog.load(SCHEMAS).readers)
    assert decoded.writer_name == "com.acme.orders.OrderPlaced"
    assert from_avro(decoded.writer_name, decoded.record) == placed("o-1")


def test_deserializer_reads_our_bytes(client: SchemaRegistryClient, codec: AvroCodec, topic: str) -> None:
    ctx = SerializationContext(topic, MessageField.VALUE)
    record = to_avro(placed("o-2", channel="app"))
    payload = codec.encode(topic, V2, record)
    assert AvroDeserializer(client)(payload, ctx) == record
    assert AvroDeserializer(client, V1.text)(payload, ctx) == v1_record("o-2")


def test_same_subject_same_id_same_bytes(client: SchemaRegistryClient, codec: AvroCodec, topic: str) -> None:
    ctx = SerializationContext(topic, MessageField.VALUE)
    record = to_avro(placed("o-3", channel="web"))
    ours = codec.encode(topic, V2, record)
    theirs = AvroSerializer(client, V2.text, conf=STRATEGY)(record, ctx)
    assert ours == theirs
    assert f"{topic}-com.acme.orders.OrderPlaced" in client.get_subjects()


def test_v1_then_v2_are_two_versions_of_one_subject_read_by_one_consumer(
        client: SchemaRegistryClient, codec: AvroCodec, topic: str, registry: Any) -> None:
    v1_bytes = codec.encode(topic, V1, v1_record("o-4"))
    v2_bytes = codec.encode(topic, V2, to_avro(placed("o-5", channel="store")))
    subject = codec.subject(topic, V2)
    assert client.get_versions(subject) == [1, 2]
    with ConfluentRegistry(registry.url) as fresh:
        consumer = AvroCodec(fresh)
        first, second = consumer.decode(v1_bytes, V2), consumer.decode(v2_bytes, V2)
    assert first.schema_id != second.schema_id
    assert (first.record["channel"], second.record["channel"]) == (None, "store")


def test_an_id_the_registry_does_not_know_is_permanent(codec: AvroCodec) -> None:
    with pytest.raises(UnknownSchemaIdError) as info:
        codec.decode(frame(2**31 - 7, b"\x00"))
    assert info.value.dead_letter
    assert not info.value.retriable
