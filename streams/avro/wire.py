"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro body."""

from __future__ import annotations

import struct

from streams.avro.errors import BadMagicByteError, EmptyPayloadError

__all__ = ["HEADER_SIZE", "MAGIC", "MAX_SCHEMA_ID", "frame", "unframe"]

MAGIC = 0
HEADER_SIZE = 5
MAX_SCHEMA_ID = 2**32 - 1
_HEADER = struct.Struct(">BI")


def frame(schema_id: int, body: bytes) -> bytes:
    """``body`` behind the 5-byte header naming ``schema_id``."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"schema id {schema_id} does not fit the 4-byte wire-format header")
    return _HEADER.pack(MAGIC, schema_id) + body


def unframe(payload: bytes | None) -> tuple[int, memoryview]:
    """(schema id, Avro body) of a framed payload; ``DecodeError`` subclasses otherwise."""
    if not payload:
        raise EmptyPayloadError("empty value: not a Confluent Avro record")
    if len(payload) < HEADER_SIZE:
        raise EmptyPayloadError(f"value of {len(payload)} bytes is shorter than the 5-byte wire-format header")
    magic, schema_id = _HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise BadMagicByteError(f"magic byte {magic} (expected {MAGIC}): not the Confluent wire format")
    return schema_id, memoryview(payload)[HEADER_SIZE:]
