"""Confluent wire-format Avro: framing, registry access, encode/decode, subject names."""

from streams.avro.codec import AvroCodec, Decoded
from streams.avro.errors import (
    BadAvroError,
    BadMagicByteError,
    EmptyPayloadError,
    RegistryUnavailableError,
    UnknownEventTypeError,
    UnknownSchemaIdError,
)
from streams.avro.registry_client import ConfluentRegistry, SchemaSource
from streams.avro.schemas import AvroSchema, load_schemas
from streams.avro.subjects import record_subject, topic_record_subject, topic_subject
from streams.avro.wire import frame, unframe

__all__ = [
    "AvroCodec", "AvroSchema", "BadAvroError", "BadMagicByteError", "ConfluentRegistry", "Decoded",
    "EmptyPayloadError", "RegistryUnavailableError", "SchemaSource", "UnknownEventTypeError", "UnknownSchemaIdError",
    "frame", "load_schemas",
    "record_subject", "topic_record_subject", "topic_subject", "unframe",
]
