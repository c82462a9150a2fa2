"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.avro import BadMagicByteError, EmptyPayloadError, frame, unframe
from streams.avro.wire import MAX_SCHEMA_ID
from streams.errors import DecodeError


@given(st.integers(min_value=0, max_value=MAX_SCHEMA_ID), st.binary(max_size=64))
def test_frame_round_trip(schema_id: int, body: bytes) -> None:
    got_id, got_body = unframe(frame(schema_id, body))
    assert (got_id, bytes(got_body)) == (schema_id, body)


def test_frame_layout_is_confluents() -> None:
    assert frame(258, b"xy") == b"\x00\x00\x00\x01\x02xy"
    assert frame(MAX_SCHEMA_ID, b"") == b"\x00\xff\xff\xff\xff"


@pytest.mark.parametrize("schema_id", [-1, MAX_SCHEMA_ID + 1])
def test_schema_ids_outside_four_bytes_cannot_be_framed(schema_id: int) -> None:
    with pytest.raises(ValueError, match="4-byte"):
        frame(schema_id, b"")


def test_header_only_is_an_empty_body() -> None:
    schema_id, body = unframe(b"\x00\x00\x00\x00\x07")
    assert (schema_id, bytes(body)) == (7, b"")


@pytest.mark.parametrize(("payload", "error"), [
    (None, EmptyPayloadError),
    (b"", EmptyPayloadError),
    (b"\x00", EmptyPayloadError),
    (b"\x00\x00\x00\x01", EmptyPayloadError),
    (b"\x01\x00\x00\x00\x01abc", BadMagicByteError),
    (b"\xff\x00\x00\x00\x01", BadMagicByteError),
    (b'{"json": true}', BadMagicByteError),
])
def test_unframe_errors(payload: bytes | None, error: type[DecodeError]) -> None:
    with pytest.raises(error) as info:
        unframe(payload)
    assert info.value.dead_letter
    assert not info.value.retriable


def test_bad_magic_byte_is_reported_unsigned() -> None:
    with pytest.raises(BadMagicByteError, match="magic byte 255"):
        unframe(b"\xff\x00\x00\x00\x01")


@given(st.binary())
def test_unframe_raises_only_decode_errors(payload: bytes) -> None:
    try:
        schema_id, body = unframe(payload)
    except DecodeError:
        return
    assert payload[0] == 0
    assert frame(schema_id, bytes(body)) == payload
