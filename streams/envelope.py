"""The event envelope: the Kafka headers every event carries (DESIGN.md).

``event_id`` is also the idempotency key.  A derived event keeps its parent's
correlation id and takes the parent's event id as its causation id.

Records from producers that set no headers (any client with Confluent's
serializers) still get an envelope: ``from_record`` fills what is missing from
the record itself (a stable event id from its position, the writer schema's
type, the record timestamp), while a header that is present but malformed is a
validation error and the record is dead-lettered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from streams import headers as h
from streams.errors import ValidationError
from streams.records import RawRecord, header

__all__ = ["Envelope"]

_NAMESPACE = uuid.UUID("6f1c1a52-3f5e-4d0b-9a57-1c0b7f1f0e11")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: str
    event_type: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime
    producer: str

    @classmethod
    def new(cls, event_type: str, producer: str, *, event_id: str | None = None,
            correlation_id: str | None = None, causation_id: str | None = None,
            occurred_at: datetime | None = None) -> Envelope:
        """A root event: its correlation and causation ids default to its own id."""
        event_id = _check_uuid(h.EVENT_ID, event_id) if event_id else str(uuid.uuid4())
        return cls(event_id=event_id, event_type=event_type, correlation_id=correlation_id or event_id,
                   causation_id=causation_id or event_id, occurred_at=occurred_at or _now(), producer=producer)

    def derive(self, event_type: str, producer: str) -> Envelope:
        """The envelope of an event caused by this one."""
        return replace(self, event_id=str(uuid.uuid4()), event_type=event_type, causation_id=self.event_id,
                       occurred_at=_now(), producer=producer)

    def to_headers(self) -> list[tuple[str, bytes]]:
        return [
            (h.EVENT_ID, self.event_id.encode()),
            (h.EVENT_TYPE, self.event_type.encode()),
            (h.CORRELATION_ID, self.correlation_id.encode()),
            (h.CAUSATION_ID, self.causation_id.encode()),
            (h.OCCURRED_AT, _iso(self.occurred_at).encode()),
            (h.PRODUCER, self.producer.encode()),
        ]

    @classmethod
    def from_record(cls, record: RawRecord, event_type: str) -> Envelope:
        """The record's envelope; missing headers are filled from the record, malformed ones refused."""
        values = {name: _text(record, name) for name in h.ENVELOPE}
        declared = values[h.EVENT_TYPE]
        if declared is not None and declared != event_type:
            raise ValidationError(f"header event_type={declared!r} but the record is a {event_type}")
        declared_id = values[h.EVENT_ID]
        if declared_id is not None:
            event_id = _check_uuid(h.EVENT_ID, declared_id)
        else:
            event_id = str(uuid.uuid5(_NAMESPACE, f"{record.topic}/{record.partition}/{record.offset}"))
        occurred = values[h.OCCURRED_AT]
        if occurred is not None:
            occurred_at = _parse_time(occurred)
        else:
            occurred_at = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC) if record.timestamp_ms else _now()
        return cls(
            event_id=event_id, event_type=event_type,
            correlation_id=values[h.CORRELATION_ID] or event_id,
            causation_id=values[h.CAUSATION_ID] or event_id,
            occurred_at=occurred_at, producer=values[h.PRODUCER] or "unknown",
        )


def _text(record: RawRecord, name: str) -> str | None:
    raw = header(record.headers, name)
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ValidationError(f"header {name} is not UTF-8") from None


def _check_uuid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(f"header {name}={value!r} is not a UUID") from None


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"header occurred_at={value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValidationError(f"header occurred_at={value!r} has no time zone (use UTC, e.g. ...Z)")
    return moment.astimezone(UTC)
