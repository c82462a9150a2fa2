"""Why a payload could not be decoded: each a ``DecodeError`` (permanent, dead-lettered)."""

from __future__ import annotations

from streams.errors import DecodeError, TransientError

__all__ = [
    "BadAvroError",
    "BadMagicByteError",
    "EmptyPayloadError",
    "RegistryUnavailableError",
    "UnknownEventTypeError",
    "UnknownSchemaIdError",
]


class EmptyPayloadError(DecodeError):
    code = "empty_payload"


class BadMagicByteError(DecodeError):
    code = "bad_magic_byte"


class UnknownSchemaIdError(DecodeError):
    code = "unknown_schema_id"


class BadAvroError(DecodeError):
    code = "bad_avro"


class UnknownEventTypeError(DecodeError):
    code = "unknown_event_type"


class RegistryUnavailableError(TransientError):
    """The schema registry could not be reached: retry, do not dead-letter."""

    code = "registry_unavailable"
