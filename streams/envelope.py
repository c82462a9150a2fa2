"""The event envelope: the Kafka headers every event carries.

``event_id`` (a UUID) is also the idempotency key.  A derived event keeps its
parent's correlation id and takes the parent's event id as its causation id.
``occurred_at`` is an aware UTC time, kept to the millisecond as its header
(ISO 8601, ``2026-11-22T10:30:00.123Z``) carries it, so headers round-trip.

Two ways to read headers back:

* ``from_headers`` is strict: a missing header is a ``MissingHeaderError``
  (a ``DecodeError``), a malformed one a ``BadHeaderError`` (a
  ``ValidationError``); both dead-letter the record.
* ``from_record`` serves producers that set no headers (any client with
  Confluent's serializers): it fills what is missing from the record itself (a
  stable event id from its position, the writer schema's type, the record
  timestamp), while a header that is present but malformed is still refused.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from streams import headers as h
from streams.errors import DecodeError, ValidationError
from streams.recordpath.records import RawRecord

__all__ = ["SOURCES", "BadHeaderError", "Envelope", "HeaderInput", "MissingHeaderError", "derive",
           "derived_event_id", "position_event_id", "producer_for", "source_of", "utc_millis"]

HeaderInput = Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None]
"""Kafka headers as clients give them: (name, value) pairs or a mapping."""

_NAMESPACE = uuid.UUID("6f1c1a52-3f5e-4d0b-9a57-1c0b7f1f0e11")
_MAX_TEXT = 512
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class MissingHeaderError(DecodeError):
    """An envelope header the record must carry is absent."""

    code = "missing_header"


class BadHeaderError(ValidationError):
    """An envelope header is present but malformed (not UTF-8, not a UUID, not an ISO 8601 UTC time...)."""

    code = "bad_header"

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"header {name} {problem}", details=[{"field": name, "message": problem}])
        self.header = name


def position_event_id(topic: str, partition: int, offset: int) -> str:
    """The stable event id of a record that carries none: a UUID5 of where it was first written.

    A replay of the record, or a redrive of it (which names this first position), gets the same id.
    """
    return str(uuid.uuid5(_NAMESPACE, f"{topic}/{partition}/{offset}"))


def derived_event_id(parent_event_id: str, what: str) -> str:
    """The event id of the record ``what`` derived from ``parent_event_id``: the same on every reprocessing."""
    return str(uuid.uuid5(_NAMESPACE, f"{parent_event_id}/{what}"))


def _now() -> datetime:
    return datetime.now(UTC)


def utc_millis(moment: datetime) -> datetime:
    """An aware ``moment`` in ``datetime.UTC``, cut to the millisecond (Avro's ``timestamp-millis``, the headers').

    One already so (any time parsed from a header or read by fastavro, or put through here once) is returned as it
    is: the conversion would only have built an equal copy, and this runs for every record.
    """
    if moment.tzinfo is UTC and not moment.microsecond % 1000:
        return moment
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _millis(moment: datetime) -> datetime:
    """``utc_millis`` of a header's time; ``BadHeaderError`` if it is naive."""
    if moment.tzinfo is None:
        raise BadHeaderError(h.OCCURRED_AT, "has no time zone (use UTC, e.g. 2026-01-01T10:00:00Z)")
    return utc_millis(moment)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The six envelope headers of one event; ``event_id`` is a canonical UUID string."""

    event_id: str
    event_type: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime
    producer: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_id", _check_uuid(h.EVENT_ID, self.event_id))
        _check_text(h.EVENT_TYPE, self.event_type)
        _check_text(h.CORRELATION_ID, self.correlation_id)
        _check_text(h.CAUSATION_ID, self.causation_id)
        _check_text(h.PRODUCER, self.producer)
        object.__setattr__(self, "occurred_at", _millis(self.occurred_at))

    @classmethod
    def new(cls, event_type: str, producer: str, *, event_id: str | None = None,
            correlation_id: str | None = None, causation_id: str | None = None,
            occurred_at: datetime | None = None) -> Envelope:
        """A root event: its correlation and causation ids default to its own id."""
        event_id = _check_uuid(h.EVENT_ID, event_id) if event_id else str(uuid.uuid4())
        return cls(event_id=event_id, event_type=event_type, correlation_id=correlation_id or event_id,
                   causation_id=causation_id or event_id, occurred_at=occurred_at or _now(), producer=producer)

    def derive(self, event_type: str, producer: str | None = None, *, event_id: str | None = None,
               occurred_at: datetime | None = None) -> Envelope:
        """The envelope of an event caused by this one: same correlation id, causation id = this event id.

        ``producer`` defaults to this envelope's producer; ``event_id`` to a new random UUID (pass
        ``derived_event_id(parent, what)`` for one that is the same on every reprocessing).
        ``Envelope.derive(parent, "X")`` reads as ``derive(parent, "X")``.
        """
        return replace(self, event_id=event_id or str(uuid.uuid4()), event_type=event_type,
                       causation_id=self.event_id, occurred_at=occurred_at or _now(),
                       producer=producer or self.producer)

    def derived_headers(self, event_type: str, producer: str, event_id: str) -> list[tuple[str, bytes]]:
        """``derive(...).to_headers()`` for a derived event whose parts are already known good (our own
        ``event_type`` and ``producer``, ``event_id`` from ``derived_event_id``), without building and
        re-checking an envelope: the per-event path of fan-out."""
        return [
            (h.EVENT_ID, event_id.encode()),
            (h.EVENT_TYPE, event_type.encode()),
            (h.CORRELATION_ID, self.correlation_id.encode()),
            (h.CAUSATION_ID, self.event_id.encode()),
            (h.OCCURRED_AT, _iso(self.occurred_at).encode()),
            (h.PRODUCER, producer.encode()),
        ]

    def to_headers(self) -> list[tuple[str, bytes]]:
        """The six headers, in the order of ``streams.headers.ENVELOPE``."""
        return [
            (h.EVENT_ID, self.event_id.encode()),
            (h.EVENT_TYPE, self.event_type.encode()),
            (h.CORRELATION_ID, self.correlation_id.encode()),
            (h.CAUSATION_ID, self.causation_id.encode()),
            (h.OCCURRED_AT, _iso(self.occurred_at).encode()),
            (h.PRODUCER, self.producer.encode()),
        ]

    @classmethod
    def from_headers(cls, headers: HeaderInput) -> Envelope:
        """The envelope the headers carry; every envelope header is required and must be well formed."""
        values = _values(headers)
        text: dict[str, str] = {}
        for name in h.ENVELOPE:
            decoded = _decode(name, values.get(name))
            if decoded is not None:
                text[name] = decoded
        missing = [name for name in h.ENVELOPE if name not in text]
        if missing:
            raise MissingHeaderError(f"missing envelope header(s): {', '.join(missing)}",
                                     details=[{"field": name, "message": "missing"} for name in missing])
        return cls(event_id=text[h.EVENT_ID], event_type=text[h.EVENT_TYPE],
                   correlation_id=text[h.CORRELATION_ID], causation_id=text[h.CAUSATION_ID],
                   occurred_at=_parse_time(text[h.OCCURRED_AT]), producer=text[h.PRODUCER])

    @classmethod
    def from_record(cls, record: RawRecord, event_type: str) -> Envelope:
        """The record's envelope; missing headers are filled from the record, malformed ones refused."""
        text = _texts(_values(record.headers))
        declared = text[h.EVENT_TYPE]
        if declared is not None and declared != event_type:
            raise BadHeaderError(h.EVENT_TYPE, f"is {declared!r} but the record is a {event_type}")
        event_id = text[h.EVENT_ID] or position_event_id(record.topic, record.partition, record.offset)
        occurred = text[h.OCCURRED_AT]
        if occurred is not None:
            occurred_at = _parse_time(occurred)
        else:
            occurred_at = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC) if record.timestamp_ms else _now()
        event_id = _check_uuid(h.EVENT_ID, event_id)
        return cls(event_id=event_id, event_type=event_type,
                   correlation_id=text[h.CORRELATION_ID] or event_id, causation_id=text[h.CAUSATION_ID] or event_id,
                   occurred_at=occurred_at, producer=text[h.PRODUCER] or "unknown")


def derive(parent: Envelope, event_type: str, producer: str | None = None) -> Envelope:
    """The envelope of an event caused by ``parent`` (see ``Envelope.derive``)."""
    return parent.derive(event_type, producer)


def _values(headers: HeaderInput) -> dict[str, bytes | None]:
    """Header values by name; the last one wins when a name repeats, as ``streams.recordpath.records.header``."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    values: dict[str, bytes | None] = {}
    for name, value in pairs:
        values[name] = value
    return values


def _texts(values: Mapping[str, bytes | None]) -> dict[str, str | None]:
    """The envelope headers as text by name; None for one absent or null.

    ``_decode`` of each, with plain ``bytes`` (what records carry) decoded inline: one function call per
    record instead of one per header.  Errors are ``_decode``'s, for the first bad header in ``h.ENVELOPE`` order.
    """
    texts: dict[str, str | None] = {}
    for name in h.ENVELOPE:
        raw = values.get(name)
        if type(raw) is bytes:
            try:
                texts[name] = raw.decode()
                continue
            except UnicodeDecodeError:
                pass  # _decode raises the header's error
        texts[name] = _decode(name, raw)
    return texts


def _decode(name: str, raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        raise BadHeaderError(name, "is not UTF-8") from None


def _check_text(name: str, value: str) -> None:
    if not value or not value.strip():
        raise BadHeaderError(name, "is empty")
    if len(value) > _MAX_TEXT:
        raise BadHeaderError(name, f"is longer than {_MAX_TEXT} characters")


def _check_uuid(name: str, value: str) -> str:
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value  # already what str(uuid.UUID(value)) would give
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise BadHeaderError(name, f"= {value!r} is not a UUID") from None


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadHeaderError(h.OCCURRED_AT, f"= {value!r} is not an ISO 8601 time") from None
    return _millis(moment)


SOURCES = ("http", "cli", "demo", "bench")
"""The ways the project produces events: ``POST /events``, ``streams produce``, ``streams demo``, the benchmarks."""


def producer_for(name: str, source: str) -> str:
    """The ``producer`` header of events the project's own producers send: ``<name>/<source>`` (``streams/cli``);
    ``name`` is ``STREAMS_PRODUCER_NAME``, ``source`` one of ``SOURCES``."""
    return f"{name}/{source}"


def source_of(producer: bytes | None, name: str) -> str:
    """Who produced a record, from its ``producer`` header, as a bounded label: a source of ``SOURCES``,
    ``worker`` (an agent's own output, headed ``name``: fan-out, when another agent reads its target topic),
    ``other`` (any other client), ``none`` (no header).  A redriven dead letter keeps its headers: it counts
    again, under the source that first sent it."""
    if producer is None:
        return "none"
    text = producer.decode(errors="replace")
    if text == name:
        return "worker"
    base, _, source = text.rpartition("/")
    return source if base == name and source in SOURCES else "other"
