"""Avro in the Confluent wire format, with fastavro; schema ids cached both ways.

``encode(topic, schema, record)`` registers (or finds) the writer schema under
the subject the codec's naming strategy gives (TopicRecordNameStrategy by
default, as several record types share a topic) once per process, and frames
the Avro body.  ``decode(payload, reader)`` reads the schema id, fetches and
parses that writer schema once, and resolves the record into the reader schema
the caller declares (Avro schema resolution: a v1 record read as v2 gets v2's
defaults; a v2 record read as v1 loses the fields v1 does not have).

The bytes are those of confluent-kafka's ``AvroSerializer``: either side reads
what the other writes.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from fastavro.schema import SchemaParseException
from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate

from streams.avro.errors import BadAvroError, IncompatibleSchemaError, UnknownEventTypeError
from streams.avro.registry_client import SchemaRegistry
from streams.avro.schemas import AvroSchema
from streams.avro.subjects import SubjectStrategy, topic_record_subject
from streams.avro.wire import frame, unframe
from streams.errors import ConfigError, ValidationError

__all__ = ["AvroCodec", "Decoded", "Readers"]

Readers = AvroSchema | Mapping[str, AvroSchema] | None
"""What ``decode`` resolves into: one reader schema, reader schemas by full name, or the writer's own schema."""

_READ_ERRORS = (EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError, struct.error)
_WRITE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, struct.error)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded record: the writer schema's id and full name, and the record resolved into the reader."""

    schema_id: int
    writer_name: str
    record: dict[str, Any]


class AvroCodec:
    """Encode and decode Confluent-framed Avro against a ``SchemaRegistry``."""

    def __init__(self, registry: SchemaRegistry, *, subject_strategy: SubjectStrategy = topic_record_subject) -> None:
        self._registry = registry
        self._subject = subject_strategy
        self._writers: dict[int, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._reader_args: dict[int, tuple[Any, Any]] = {}  # schema id -> (last reader schema, fastavro's argument)

    def close(self) -> None:
        """Close the registry client, when it has something to close."""
        close = getattr(self._registry, "close", None)
        if callable(close):
            close()

    def subject(self, topic: str, schema: AvroSchema) -> str:
        """The subject ``schema`` is registered under for records of ``topic``."""
        if topic.endswith(f"-{schema.full_name}"):
            raise ConfigError(f"{topic!r} looks like a subject, not a topic",
                              hint="pass the topic: the codec names the subject with its strategy")
        return self._subject(topic, schema.full_name)

    def schema_id(self, topic: str, schema: AvroSchema) -> int:
        """The registry id of ``schema`` for ``topic``: registered (or found) once, then cached."""
        subject = self.subject(topic, schema)
        key = (subject, schema.text)
        schema_id = self._ids.get(key)
        if schema_id is None:
            schema_id = self._registry.register(subject, schema.text)
            self._ids[key] = schema_id
            self._writers.setdefault(schema_id, schema.parsed)
        return schema_id

    def encode(self, topic: str, schema: AvroSchema, record: Mapping[str, Any]) -> bytes:
        """``record`` as ``schema`` in the wire format; ``ValidationError`` if it does not fit the schema.

        The record is validated first: fastavro alone would write 1.5 as the long 1
        and 2**31 as an Avro ``int`` that other readers cannot read.
        """
        record = dict(record)
        _check_fits(schema, record)
        out = io.BytesIO()
        try:
            schemaless_writer(out, schema.parsed, record, strict_allow_default=True)
        except _WRITE_ERRORS as exc:
            raise ValidationError(f"record does not fit schema {schema.full_name}: {exc}") from exc
        return frame(self.schema_id(topic, schema), out.getvalue())

    async def encode_async(self, topic: str, schema: AvroSchema, record: Mapping[str, Any]) -> bytes:
        """``encode`` for an event loop: a first registration runs in a thread, not on the loop."""
        if (self.subject(topic, schema), schema.text) not in self._ids:
            await asyncio.to_thread(self.schema_id, topic, schema)
        return self.encode(topic, schema, record)

    async def decode_async(self, payload: bytes | None, reader: Readers = None) -> Decoded:
        """``decode`` for an event loop: a writer schema not yet cached is fetched in a thread.

        The registry client retries with backoff; on the loop that would stall
        every agent (and heartbeats) while the registry is down.
        """
        schema_id, body = unframe(payload)
        if schema_id not in self._writers:
            await asyncio.to_thread(self.writer, schema_id)
        return self._decode(schema_id, body, reader)

    def writer(self, schema_id: int) -> Any:
        """The parsed writer schema of ``schema_id``, fetched from the registry once."""
        parsed = self._writers.get(schema_id)
        if parsed is None:
            text = self._registry.schema_text(schema_id)
            try:
                parsed = parse_schema(json.loads(text))
            except (ValueError, KeyError, TypeError, AttributeError, SchemaParseException) as exc:
                raise BadAvroError(f"writer schema {schema_id} from the registry does not parse: {exc}") from exc
            self._writers[schema_id] = parsed
        return parsed

    def decode(self, payload: bytes | None, reader: Readers = None) -> Decoded:
        """Decode one framed record and resolve it into ``reader``; ``DecodeError`` subclasses say why not.

        ``reader`` is one schema, or schemas by full name for a topic of several
        record types (the writer's full name picks one); ``None`` keeps the
        writer's schema.  A registry that cannot be reached raises
        ``RegistryUnavailableError`` (retriable).
        """
        schema_id, body = unframe(payload)
        return self._decode(schema_id, body, reader)

    def _decode(self, schema_id: int, body: memoryview, reader: Readers) -> Decoded:
        """``decode`` of an unframed payload."""
        writer = self.writer(schema_id)
        if not (isinstance(writer, dict) and writer.get("type") == "record"):
            raise UnknownEventTypeError(f"schema id {schema_id} is not a record schema: {str(writer)[:100]}")
        writer_name = str(writer["name"])
        target = _pick_reader(reader, writer_name, schema_id)
        stream = io.BytesIO(body)
        try:
            record = schemaless_reader(stream, writer, self._reader_arg(schema_id, writer, target))
        except SchemaResolutionError as exc:
            assert target is not None  # resolution needs a reader
            if target.full_name != writer_name:
                raise UnknownEventTypeError(f"record type {writer_name} (schema id {schema_id}) is not "
                                            f"the {target.full_name} this consumer reads") from exc
            raise IncompatibleSchemaError(f"{writer_name} of schema id {schema_id} cannot be read as the "
                                          f"declared reader schema: {exc}") from exc
        except _READ_ERRORS as exc:
            raise BadAvroError(f"Avro body does not match schema id {schema_id} ({writer_name}): "
                               f"{type(exc).__name__}: {exc}") from exc
        if stream.tell() != len(body):
            raise BadAvroError(f"{len(body) - stream.tell()} trailing bytes after the {writer_name} record "
                               f"(schema id {schema_id})")
        if not isinstance(record, dict):  # pragma: no cover - a record schema reads a dict
            raise BadAvroError(f"schema id {schema_id} did not read as a record")
        return Decoded(schema_id, writer_name, record)

    def _reader_arg(self, schema_id: int, writer: Any, target: AvroSchema | None) -> Any:
        """The ``reader_schema`` to give fastavro for ``target``: ``None`` when it is the writer's own schema.

        ``schemaless_reader`` begins with ``if writer_schema == reader_schema: reader_schema = None``, a deep
        comparison of two schema dicts on every record whenever the writer was parsed from the registry's text
        (a different object from the reader): a few microseconds per record for an answer that never changes
        for a given pair.  This makes that comparison once per schema id and reader schema object (the last one
        seen, compared by identity, so another reader is compared afresh) and hands fastavro ``None`` exactly
        when fastavro would have dropped the reader itself; records read the same.  Safe to remember because a
        schema id's parsed writer is cached for good (``writer``) and parsed schemas are never mutated.
        """
        if target is None:
            return None
        wanted = target.parsed
        last = self._reader_args.get(schema_id)
        if last is not None and last[0] is wanted:
            return last[1]
        arg = None if writer == wanted else wanted
        self._reader_args[schema_id] = (wanted, arg)  # one tuple: a thread never sees half of an entry
        return arg


def _check_fits(schema: AvroSchema, record: dict[str, Any]) -> None:
    """``ValidationError`` with one ``{field, message}`` per field whose value the schema cannot take."""
    try:
        validate(record, schema.parsed, raise_errors=True)
    except AvroValidationError as exc:
        expected: dict[str, list[str]] = {}
        for error in exc.errors:
            wanted = error.schema.get("type") if isinstance(error.schema, dict) else error.schema
            name = error.field.removeprefix(f"{schema.full_name}.")
            name = ".".join(name.split(".")[-2:])  # a nested record's field: OrderItem.quantity
            expected.setdefault(name, []).append(str(wanted))
        details = [{"field": name, "message": f"expected {' or '.join(types)}"} for name, types in expected.items()]
        raise ValidationError(f"record does not fit schema {schema.full_name}: "
                              + "; ".join(f"{d['field']} {d['message']}" for d in details), details=details) from None


def _pick_reader(reader: Readers, writer_name: str, schema_id: int) -> AvroSchema | None:
    if reader is None or isinstance(reader, AvroSchema):
        return reader
    picked = reader.get(writer_name)
    if picked is None:
        raise UnknownEventTypeError(f"record type {writer_name} (schema id {schema_id}) is not one this "
                                    f"consumer reads ({', '.join(sorted(reader)) or 'none'})")
    return picked
