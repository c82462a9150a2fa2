"""Dead letters that lose nothing: the original bytes, plus where and why, and how to read them back.

A dead letter keeps the original key, value and headers byte for byte and adds
the ``dlq_*`` headers of ``streams.headers``; it is produced to ``<topic>.dlq``
with the same key, so a key's dead letters stay in order on one partition.
``DeadLetter.from_message`` reads one back (for ``streams dlq`` and redrive),
and ``original_headers`` strips exactly what was added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams import headers as h
from streams.recordpath.records import Headers, RawRecord, header

__all__ = ["PARKED", "DeadLetter", "RedriveMark", "dead_letter_headers", "describe", "is_dlq_header"]

MAX_MESSAGE = 1000

PARKED = "Parked"
"""The error class of a record set aside, unprocessed, behind an earlier dead letter of its key."""


def is_dlq_header(name: str) -> bool:
    """A header that dead-lettering or redrive added (``dlq_*``), as opposed to one of the original record."""
    return name.startswith("dlq_")


def describe(error: BaseException) -> tuple[str, str]:
    """``(error class, message)`` of an exception, as the dead-letter headers carry them."""
    return type(error).__name__, str(error)


def dead_letter_headers(record: RawRecord, error_class: str, message: str, *, agent: str, attempts: int,
                        sequence: int | None = None, now: datetime | None = None) -> list[tuple[str, bytes | None]]:
    """The original headers followed by the dead-letter headers (original ones kept first, in order).

    A record dead-lettered again after a redrive carries one set of ``dlq_*`` headers, this time's: the
    earlier set (and the redrive marks) are dropped, the record's own headers kept byte for byte.
    """
    failed_at = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    extra = [
        (h.DLQ_ORIGINAL_TOPIC, record.topic),
        (h.DLQ_ORIGINAL_PARTITION, str(record.partition)),
        (h.DLQ_ORIGINAL_OFFSET, str(record.offset)),
        (h.DLQ_ORIGINAL_TIMESTAMP, str(record.timestamp_ms)),
        (h.DLQ_ERROR_CLASS, error_class),
        (h.DLQ_ERROR_MESSAGE, message[:MAX_MESSAGE]),
        (h.DLQ_ATTEMPTS, str(attempts)),
        (h.DLQ_AGENT, agent),
        (h.DLQ_FAILED_AT, failed_at),
    ]
    if sequence is not None:
        extra.append((h.DLQ_SEQUENCE, str(sequence)))
    own = [(name, value) for name, value in record.headers if not is_dlq_header(name)]
    return [*own, *((name, value.encode()) for name, value in extra)]


@dataclass(frozen=True, slots=True)
class RedriveMark:
    """What ``streams dlq redrive`` set on a record it sent back (absent on every other record)."""

    redrive_id: str
    sequence: int | None
    last: bool

    @classmethod
    def from_headers(cls, headers: Headers) -> RedriveMark | None:
        redrive_id = header(headers, h.DLQ_REDRIVE_ID)
        if redrive_id is None:
            return None
        sequence = header(headers, h.DLQ_SEQUENCE)
        return cls(redrive_id=redrive_id.decode(errors="replace"),
                   sequence=_int(sequence) if sequence is not None else None,
                   last=header(headers, h.DLQ_REDRIVE_LAST) == b"1")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a dead-letter topic, with its headers decoded."""

    record: RawRecord  # as it sits in the dead-letter topic
    original_topic: str
    original_partition: int
    original_offset: int
    original_timestamp_ms: int
    error_class: str
    error_message: str
    attempts: int
    agent: str
    failed_at: str
    sequence: int | None

    @property
    def original_headers(self) -> Headers:
        """The headers the record had before it was dead-lettered, byte for byte, in order."""
        return tuple((name, value) for name, value in self.record.headers if not is_dlq_header(name))

    @property
    def where(self) -> str:
        return f"{self.record.topic}:{self.record.partition}:{self.record.offset}"

    @classmethod
    def from_record(cls, record: RawRecord) -> DeadLetter:
        def text(name: str) -> str:
            value = header(record.headers, name)
            return value.decode(errors="replace") if value is not None else ""

        sequence = header(record.headers, h.DLQ_SEQUENCE)
        return cls(
            record=record,
            original_topic=text(h.DLQ_ORIGINAL_TOPIC),
            original_partition=_int(header(record.headers, h.DLQ_ORIGINAL_PARTITION)),
            original_offset=_int(header(record.headers, h.DLQ_ORIGINAL_OFFSET)),
            original_timestamp_ms=_int(header(record.headers, h.DLQ_ORIGINAL_TIMESTAMP)),
            error_class=text(h.DLQ_ERROR_CLASS) or "unknown",
            error_message=text(h.DLQ_ERROR_MESSAGE),
            attempts=_int(header(record.headers, h.DLQ_ATTEMPTS)),
            agent=text(h.DLQ_AGENT),
            failed_at=text(h.DLQ_FAILED_AT),
            sequence=_int(sequence) if sequence is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "dlq": self.where, "key": _show(self.record.key),
            "original": {"topic": self.original_topic, "partition": self.original_partition,
                         "offset": self.original_offset, "timestamp_ms": self.original_timestamp_ms},
            "error_class": self.error_class, "error_message": self.error_message, "attempts": self.attempts,
            "agent": self.agent, "failed_at": self.failed_at, "sequence": self.sequence,
            "headers": {name: _show(value) for name, value in self.original_headers},
        }


def _int(raw: bytes | None) -> int:
    try:
        return int(raw) if raw is not None else -1
    except ValueError:
        return -1


def _show(raw: bytes | None) -> str | None:
    """Bytes for people: UTF-8 text when it is, else ``0x`` hex."""
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return "0x" + raw.hex()
