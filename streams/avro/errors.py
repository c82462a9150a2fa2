"""Why a payload could not be decoded, each class saying whether to retry or dead-letter.

Every ``DecodeError`` is permanent: the same bytes fail the same way, so the
record goes to the dead-letter topic.  A registry that cannot be reached is a
``TransientError``: retry with backoff, the record is fine.
"""

from __future__ import annotations

from streams.errors import DecodeError, TransientError

__all__ = [
    "BadAvroError",
    "BadMagicByteError",
    "EmptyPayloadError",
    "IncompatibleSchemaError",
    "RegistryUnavailableError",
    "UnknownEventTypeError",
    "UnknownSchemaIdError",
]


class EmptyPayloadError(DecodeError):
    """No value, or fewer bytes than the 5-byte wire-format header."""

    code = "empty_payload"


class BadMagicByteError(DecodeError):
    """The first byte is not 0: not the Confluent wire format (JSON, another framing...)."""

    code = "bad_magic_byte"


class UnknownSchemaIdError(DecodeError):
    """The registry does not know the schema id (Confluent error 40403)."""

    code = "unknown_schema_id"


class BadAvroError(DecodeError):
    """The body is not a valid encoding under its writer schema (truncated, garbage, trailing bytes)."""

    code = "bad_avro"


class IncompatibleSchemaError(DecodeError):
    """The writer's record cannot be resolved into the reader schema the consumer declared."""

    code = "incompatible_schema"


class UnknownEventTypeError(DecodeError):
    """A record type this consumer does not read."""

    code = "unknown_event_type"


class RegistryUnavailableError(TransientError):
    """The schema registry could not be reached or failed: retry, do not dead-letter."""

    code = "registry_unavailable"
