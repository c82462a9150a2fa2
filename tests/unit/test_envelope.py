import uuid

import pytest

from streams import headers as h
from streams.envelope import Envelope
from streams.errors import ValidationError
from tests.support import NOW, record


def test_headers_round_trip() -> None:
    env = Envelope.new("OrderPlaced", "test", occurred_at=NOW)
    back = Envelope.from_record(record(b"x", headers=tuple(env.to_headers())), "OrderPlaced")
    assert back == env
    assert dict(env.to_headers())[h.OCCURRED_AT] == b"2026-11-22T10:30:00.000Z"


def test_root_event_correlates_and_causes_itself_and_derived_events_chain() -> None:
    root = Envelope.new("OrderPlaced", "test")
    assert root.correlation_id == root.causation_id == root.event_id
    child = root.derive("PaymentRequested", "payments")
    assert child.correlation_id == root.correlation_id
    assert child.causation_id == root.event_id
    assert child.event_id != root.event_id


def test_missing_headers_are_filled_from_the_record_stably() -> None:
    rec = record(b"x", offset=42)
    first = Envelope.from_record(rec, "OrderPlaced")
    assert first == Envelope.from_record(rec, "OrderPlaced")  # same position, same id: replays dedupe
    assert uuid.UUID(first.event_id)
    assert first.producer == "unknown"
    assert first.occurred_at.timestamp() == 1_795_000_000


@pytest.mark.parametrize(("name", "value", "message"), [
    (h.EVENT_ID, b"not-a-uuid", "not a UUID"),
    (h.OCCURRED_AT, b"yesterday", "not an ISO 8601"),
    (h.OCCURRED_AT, b"2026-01-01T00:00:00", "no time zone"),
    (h.EVENT_TYPE, b"OrderShipped", "but the record is a OrderPlaced"),
    (h.PRODUCER, b"\xff\xfe", "not UTF-8"),
])
def test_malformed_headers_are_validation_errors(name: str, value: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Envelope.from_record(record(b"x", headers=((name, value),)), "OrderPlaced")
