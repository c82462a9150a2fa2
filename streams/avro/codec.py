"""Avro in the Confluent wire format, with fastavro; writer schemas fetched by id once.

``encode`` registers (or looks up) the writer schema under a subject once per
process and frames the body; ``decode`` reads the id, fetches and parses that
writer schema once, and resolves the record into the reader schema the caller
declares (Avro schema resolution: a v1 record read as v2 gets v2's defaults).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from streams.avro.errors import BadAvroError, UnknownEventTypeError
from streams.avro.registry_client import SchemaSource
from streams.avro.schemas import AvroSchema
from streams.avro.wire import frame, unframe
from streams.errors import ValidationError

__all__ = ["AvroCodec", "Decoded"]


@dataclass(frozen=True, slots=True)
class Decoded:
    schema_id: int
    writer_name: str
    record: dict[str, Any]


class AvroCodec:
    def __init__(self, registry: SchemaSource) -> None:
        self._registry = registry
        self._writers: dict[int, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}

    def schema_id(self, subject: str, schema: AvroSchema) -> int:
        key = (subject, schema.text)
        schema_id = self._ids.get(key)
        if schema_id is None:
            schema_id = self._registry.register(subject, schema.text)
            self._ids[key] = schema_id
            self._writers.setdefault(schema_id, schema.parsed)
        return schema_id

    def encode(self, subject: str, schema: AvroSchema, record: dict[str, Any]) -> bytes:
        schema_id = self.schema_id(subject, schema)
        out = io.BytesIO()
        try:
            schemaless_writer(out, schema.parsed, record)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValidationError(f"record does not fit schema {schema.full_name}: {exc}") from exc
        return frame(schema_id, out.getvalue())

    def writer(self, schema_id: int) -> Any:
        parsed = self._writers.get(schema_id)
        if parsed is None:
            text = self._registry.schema_text(schema_id)
            try:
                parsed = parse_schema(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                raise BadAvroError(f"writer schema {schema_id} from the registry does not parse: {exc}") from exc
            self._writers[schema_id] = parsed
        return parsed

    def decode(self, payload: bytes | None, readers: Mapping[str, AvroSchema] | None = None) -> Decoded:
        """Decode; with ``readers`` (by full name), resolve into the reader of the writer's record type."""
        schema_id, body = unframe(payload)
        writer = self.writer(schema_id)
        writer_name = str(writer["name"]) if isinstance(writer, dict) else str(writer)
        reader = None
        if readers is not None:
            reader = readers.get(writer_name)
            if reader is None:
                raise UnknownEventTypeError(f"record type {writer_name} (schema id {schema_id}) is not one this "
                                       f"consumer reads ({', '.join(sorted(readers))})")
        stream = io.BytesIO(body)
        try:
            record = schemaless_reader(stream, writer, reader.parsed if reader is not None else None)
        except (EOFError, ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError, OverflowError) as exc:
            raise BadAvroError(f"Avro body does not match schema id {schema_id} ({writer_name}): "
                          f"{type(exc).__name__}: {exc}") from exc
        if stream.tell() != len(body):
            raise BadAvroError(f"{len(body) - stream.tell()} trailing bytes after the {writer_name} record")
        if not isinstance(record, dict):
            raise BadAvroError(f"schema id {schema_id} is not a record schema")
        return Decoded(schema_id, writer_name, record)
