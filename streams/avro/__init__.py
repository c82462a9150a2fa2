"""Confluent wire-format Avro: framing, registry access, encode/decode, subject names, .avsc loading."""

from streams.avro.codec import AvroCodec, Decoded, Readers
from streams.avro.errors import (
    BadAvroError,
    BadMagicByteError,
    EmptyPayloadError,
    IncompatibleSchemaError,
    RegistryUnavailableError,
    UnknownEventTypeError,
    UnknownSchemaIdError,
)
from streams.avro.registry_client import SCHEMA_NOT_FOUND, ConfluentRegistry, SchemaRegistry, SchemaSource
from streams.avro.schemas import AvroSchema, load_schema, load_schemas, schemas_by_full_name
from streams.avro.subjects import SubjectStrategy, record_subject, topic_record_subject, topic_subject
from streams.avro.wire import HEADER_SIZE, MAGIC, frame, unframe

__all__ = [
    "HEADER_SIZE",
    "MAGIC",
    "SCHEMA_NOT_FOUND",
    "AvroCodec",
    "AvroSchema",
    "BadAvroError",
    "BadMagicByteError",
    "ConfluentRegistry",
    "Decoded",
    "EmptyPayloadError",
    "IncompatibleSchemaError",
    "Readers",
    "RegistryUnavailableError",
    "SchemaRegistry",
    "SchemaSource",
    "SubjectStrategy",
    "UnknownEventTypeError",
    "UnknownSchemaIdError",
    "frame",
    "load_schema",
    "load_schemas",
    "record_subject",
    "schemas_by_full_name",
    "topic_record_subject",
    "topic_subject",
    "unframe",
]
