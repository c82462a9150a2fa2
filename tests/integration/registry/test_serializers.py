"""confluent-kafka's AvroSerializer and AvroDeserializer round-trip records through the registry."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

pytestmark = pytest.mark.integration

SCHEMA = json.dumps({"type": "record", "name": "Greeting", "namespace": "t.ser",
                     "fields": [{"name": "text", "type": "string"}, {"name": "n", "type": "long"}]})


def test_round_trip(client: SchemaRegistryClient) -> None:
    serializer = AvroSerializer(client, SCHEMA)
    deserializer = AvroDeserializer(client)
    ctx = SerializationContext("greetings", MessageField.VALUE)
    payload = serializer({"text": "hello", "n": 7}, ctx)
    assert payload is not None
    assert payload[0] == 0  # Confluent wire format
    assert deserializer(payload, ctx) == {"text": "hello", "n": 7}
    assert "greetings-value" in client.get_subjects()
