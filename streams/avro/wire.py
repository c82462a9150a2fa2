"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro body."""

from __future__ import annotations

import struct

from streams.avro.errors import BadMagicByteError, EmptyPayloadError

__all__ = ["HEADER_SIZE", "MAGIC", "frame", "unframe"]

MAGIC = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">bI")


def frame(schema_id: int, body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, schema_id) + body


def unframe(payload: bytes | None) -> tuple[int, memoryview]:
    """(schema id, Avro body) of a framed payload; ``DecodeError`` subclasses otherwise."""
    if not payload:
        raise EmptyPayloadError("empty value: not a Confluent Avro record")
    if len(payload) < HEADER_SIZE:
        raise EmptyPayloadError(f"value of {len(payload)} bytes is shorter than the 5-byte wire-format header")
    magic, schema_id = _HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise BadMagicByteError(f"magic byte {magic} (expected 0): not the Confluent wire format")
    return schema_id, memoryview(payload)[HEADER_SIZE:]
