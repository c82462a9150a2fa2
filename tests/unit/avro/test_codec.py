"""Wire format, decode errors, and schema resolution between OrderPlaced v1 and v2."""

import io
import struct
from pathlib import Path

import pytest
from fastavro import schemaless_writer
from hypothesis import given
from hypothesis import strategies as st

from streams.avro import (
    AvroCodec,
    AvroSchema,
    BadAvroError,
    BadMagicByteError,
    EmptyPayloadError,
    UnknownEventTypeError,
    UnknownSchemaIdError,
    frame,
    topic_record_subject,
    unframe,
)
from tests.support import NOW, MemoryRegistry

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
V2 = AvroSchema.from_file(SCHEMAS / "OrderPlaced.avsc")
V1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")
SUBJECT = topic_record_subject("orders", V2.full_name)

RECORD = {"order_id": "o-1", "customer_id": "c-1", "items": [{"sku": "a", "quantity": 1, "unit_price_minor": 5}],
          "total_minor": 5, "currency": "EUR", "placed_at": NOW}


@given(st.integers(min_value=0, max_value=2**32 - 1), st.binary(max_size=64))
def test_frame_round_trip(schema_id: int, body: bytes) -> None:
    got_id, got_body = unframe(frame(schema_id, body))
    assert (got_id, bytes(got_body)) == (schema_id, body)


def test_frame_layout_is_confluents() -> None:
    assert frame(258, b"xy") == b"\x00\x00\x00\x01\x02xy"


@pytest.mark.parametrize(("payload", "error"), [
    (None, EmptyPayloadError), (b"", EmptyPayloadError), (b"\x00\x00\x01", EmptyPayloadError),
    (b"\x01\x00\x00\x00\x01abc", BadMagicByteError), (b"{\"json\": true}", BadMagicByteError),
])
def test_unframe_errors(payload: bytes | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        unframe(payload)


def test_round_trip_and_writer_cached() -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    payload = codec.encode(SUBJECT, V2, RECORD)
    fresh = AvroCodec(registry)
    first = fresh.decode(payload, {V2.full_name: V2})
    fresh.decode(payload, {V2.full_name: V2})
    assert registry.lookups == 1
    assert first.writer_name == "com.acme.orders.OrderPlaced"
    assert first.record["channel"] is None
    assert first.record["placed_at"] == NOW


def test_v1_record_is_read_as_v2_with_the_default() -> None:
    registry = MemoryRegistry()
    v1_bytes = AvroCodec(registry).encode(SUBJECT, V1, RECORD)
    decoded = AvroCodec(registry).decode(v1_bytes, {V2.full_name: V2})
    assert decoded.record["channel"] is None
    assert decoded.record["order_id"] == "o-1"


def test_v2_record_is_read_as_v1_dropping_the_new_field() -> None:
    registry = MemoryRegistry()
    v2_bytes = AvroCodec(registry).encode(SUBJECT, V2, {**RECORD, "channel": "web"})
    decoded = AvroCodec(registry).decode(v2_bytes, {V1.full_name: V1})
    assert "channel" not in decoded.record


def test_unknown_schema_id_is_permanent() -> None:
    with pytest.raises(UnknownSchemaIdError) as info:
        AvroCodec(MemoryRegistry()).decode(frame(999, b"\x02"))
    assert info.value.dead_letter
    assert not info.value.retriable


def test_truncated_body_is_bad_avro() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(SUBJECT, V2, RECORD)
    with pytest.raises(BadAvroError):
        AvroCodec(registry).decode(payload[:-4], {V2.full_name: V2})


def test_trailing_garbage_is_bad_avro() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(SUBJECT, V2, RECORD)
    with pytest.raises(BadAvroError, match="trailing"):
        AvroCodec(registry).decode(payload + b"\x00\x00", {V2.full_name: V2})


def test_a_type_the_consumer_does_not_read_is_refused() -> None:
    registry = MemoryRegistry()
    other = AvroSchema.from_text(
        '{"type":"record","name":"Other","namespace":"x","fields":[{"name":"a","type":"int"}]}')
    payload = AvroCodec(registry).encode("orders-x.Other", other, {"a": 1})
    with pytest.raises(UnknownEventTypeError, match=r"x\.Other"):
        AvroCodec(registry).decode(payload, {V2.full_name: V2})


def test_bytes_written_by_plain_fastavro_with_confluent_framing_decode() -> None:
    registry = MemoryRegistry()
    schema_id = registry.register(SUBJECT, V2.text)
    out = io.BytesIO()
    schemaless_writer(out, V2.parsed, {**RECORD, "channel": "app"})
    payload = struct.pack(">bI", 0, schema_id) + out.getvalue()
    assert AvroCodec(registry).decode(payload).record["channel"] == "app"
