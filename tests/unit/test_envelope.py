"""The envelope headers: round trip, derivation, strict and lenient reading."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams import headers as h
from streams.envelope import SOURCES, BadHeaderError, Envelope, MissingHeaderError, derive, producer_for, source_of
from streams.errors import DecodeError, ValidationError
from streams.recordpath.records import RawRecord
from tests.support import NOW, record

ROOT = Envelope.new("OrderPlaced", "test", occurred_at=NOW)


def test_headers_are_the_design_names_in_order() -> None:
    names = [name for name, _ in ROOT.to_headers()]
    assert names == list(h.ENVELOPE) == ["event_id", "event_type", "correlation_id", "causation_id",
                                         "occurred_at", "producer"]
    assert dict(ROOT.to_headers())[h.OCCURRED_AT] == b"2026-11-22T10:30:00.000Z"
    assert all(isinstance(value, bytes) for _, value in ROOT.to_headers())


def test_headers_round_trip() -> None:
    assert Envelope.from_headers(ROOT.to_headers()) == ROOT
    assert Envelope.from_headers(dict(ROOT.to_headers())) == ROOT
    assert Envelope.from_record(record(b"x", headers=tuple(ROOT.to_headers())), "OrderPlaced") == ROOT


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=9))])),
       st.text(min_size=1, max_size=50).filter(str.strip))
def test_any_envelope_round_trips(moment: datetime, producer: str) -> None:
    env = Envelope.new("OrderShipped", producer, occurred_at=moment)
    assert env.occurred_at.tzinfo is UTC
    assert abs(env.occurred_at - moment) < timedelta(milliseconds=1)
    assert Envelope.from_headers(env.to_headers()) == env


def test_a_new_envelope_is_a_root_with_a_fresh_uuid() -> None:
    root = Envelope.new("OrderPlaced", "test")
    assert uuid.UUID(root.event_id).version == 4
    assert root.correlation_id == root.causation_id == root.event_id
    assert Envelope.new("OrderPlaced", "test").event_id != root.event_id
    assert root.occurred_at.microsecond % 1000 == 0


def test_derived_events_keep_the_correlation_and_are_caused_by_the_parent() -> None:
    child = derive(ROOT, "PaymentAuthorized")
    assert child.correlation_id == ROOT.correlation_id
    assert child.causation_id == ROOT.event_id
    assert child.event_id not in (ROOT.event_id, ROOT.correlation_id)
    assert (child.event_type, child.producer) == ("PaymentAuthorized", "test")
    grandchild = Envelope.derive(child, "OrderShipped", "shipping")
    assert grandchild.correlation_id == ROOT.event_id
    assert grandchild.causation_id == child.event_id
    assert grandchild.producer == "shipping"


def test_ids_given_to_new_are_checked_and_kept() -> None:
    given_id = str(uuid.uuid4())
    env = Envelope.new("OrderPlaced", "api", event_id=given_id.upper(), correlation_id="req-7")
    assert env.event_id == given_id  # canonical form
    assert (env.correlation_id, env.causation_id) == ("req-7", given_id)
    with pytest.raises(ValidationError, match="not a UUID"):
        Envelope.new("OrderPlaced", "api", event_id="42")


def test_missing_headers_are_decode_errors_listing_each() -> None:
    headers = [(name, value) for name, value in ROOT.to_headers() if name not in (h.EVENT_ID, h.PRODUCER)]
    with pytest.raises(MissingHeaderError, match="event_id, producer") as info:
        Envelope.from_headers(headers)
    assert isinstance(info.value, DecodeError)
    assert info.value.dead_letter
    assert [d["field"] for d in info.value.details or []] == [h.EVENT_ID, h.PRODUCER]


def test_a_null_header_value_is_missing() -> None:
    headers = [(name, None if name == h.CAUSATION_ID else value) for name, value in ROOT.to_headers()]
    with pytest.raises(MissingHeaderError, match="causation_id"):
        Envelope.from_headers(headers)


@pytest.mark.parametrize(("name", "value", "message"), [
    (h.EVENT_ID, b"not-a-uuid", "not a UUID"),
    (h.OCCURRED_AT, b"yesterday", "not an ISO 8601"),
    (h.OCCURRED_AT, b"2026-01-01T00:00:00", "no time zone"),
    (h.PRODUCER, b"\xff\xfe", "not UTF-8"),
    (h.CORRELATION_ID, b"", "empty"),
    (h.EVENT_TYPE, b"x" * 600, "longer than"),
])
def test_malformed_headers_are_validation_errors_naming_the_header(name: str, value: bytes, message: str) -> None:
    headers = [(n, value if n == name else v) for n, v in ROOT.to_headers()]
    with pytest.raises(BadHeaderError, match=message) as info:
        Envelope.from_headers(headers)
    assert isinstance(info.value, ValidationError)
    assert info.value.details == [{"field": name, "message": info.value.details[0]["message"]}]  # type: ignore[index]
    assert info.value.header == name


def test_the_last_of_repeated_headers_wins() -> None:
    other = str(uuid.uuid4())
    assert Envelope.from_headers([*ROOT.to_headers(), (h.EVENT_ID, other.encode())]).event_id == other


def test_other_time_zones_are_read_as_utc() -> None:
    headers = [(n, b"2026-11-22T12:30:00.5+02:00" if n == h.OCCURRED_AT else v) for n, v in ROOT.to_headers()]
    assert Envelope.from_headers(headers).occurred_at == NOW + timedelta(milliseconds=500)


# --- lenient reading of records from producers that set no headers ------------------------------------------------


def test_missing_headers_are_filled_from_the_record_stably() -> None:
    rec = record(b"x", offset=42)
    first = Envelope.from_record(rec, "OrderPlaced")
    assert first == Envelope.from_record(rec, "OrderPlaced")  # same position, same id: replays dedupe
    assert first != Envelope.from_record(record(b"x", offset=43), "OrderPlaced")
    assert uuid.UUID(first.event_id)
    assert first.correlation_id == first.causation_id == first.event_id
    assert first.producer == "unknown"
    assert first.occurred_at.timestamp() == 1_795_000_000


@pytest.mark.parametrize(("name", "value", "message"), [
    (h.EVENT_ID, b"not-a-uuid", "not a UUID"),
    (h.OCCURRED_AT, b"yesterday", "not an ISO 8601"),
    (h.OCCURRED_AT, b"2026-01-01T00:00:00", "no time zone"),
    (h.EVENT_TYPE, b"OrderShipped", "but the record is a OrderPlaced"),
    (h.PRODUCER, b"\xff\xfe", "not UTF-8"),
])
def test_malformed_headers_are_refused_even_when_lenient(name: str, value: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Envelope.from_record(record(b"x", headers=((name, value),)), "OrderPlaced")


@pytest.mark.parametrize(("producer", "source"), [
    (b"streams/http", "http"), (b"streams/cli", "cli"), (b"streams/demo", "demo"),
    (b"streams", "worker"), (b"streams/elsewhere", "other"), (b"billing", "other"), (b"billing/cli", "other"),
    (b"\xff\xfe", "other"), (None, "none"),
])
def test_the_source_of_a_record_is_one_of_a_few_labels(producer: bytes | None, source: str) -> None:
    assert source_of(producer, "streams") == source


def test_each_way_the_project_produces_has_its_producer_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """``create_ingest(settings, source)``: the bench, too, is counted as itself, not as a worker's output."""
    from agents.app import create_ingest
    from streams.settings import Settings

    monkeypatch.setattr("agents.app.DurableProducer", lambda *args, **kwargs: None)  # no broker here
    for source in SOURCES:
        name = create_ingest(Settings(producer_name="shop"), source).producer_name
        assert name == producer_for("shop", source)
        assert source_of(name.encode(), "shop") == source
    assert "bench" in SOURCES


# --- the per-record paths of from_record read exactly as before ---------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [(h.CORRELATION_ID, b" "), (h.CAUSATION_ID, b"x" * 513),
                                             (h.PRODUCER, b"\t")])
def test_text_headers_are_checked_when_lenient_too(name: str, value: bytes) -> None:
    with pytest.raises(BadHeaderError, match=r"is empty|longer than") as info:
        Envelope.from_record(record(b"x", headers=((name, value),)), "OrderPlaced")
    assert info.value.header == name


def test_lenient_reading_reports_the_first_bad_header_as_before() -> None:
    """Headers are decoded in ``h.ENVELOPE`` order; then the type, the time, the id, the other texts are checked."""
    def first_error(*headers: tuple[str, bytes]) -> str:
        with pytest.raises(BadHeaderError) as info:
            Envelope.from_record(record(b"x", headers=headers), "OrderPlaced")
        return info.value.header

    assert first_error((h.PRODUCER, b"\xff"), (h.CORRELATION_ID, b"\xfe")) == h.CORRELATION_ID
    assert first_error((h.EVENT_ID, b"bad"), (h.OCCURRED_AT, b"nope"), (h.EVENT_TYPE, b"Other")) == h.EVENT_TYPE
    assert first_error((h.EVENT_ID, b"bad"), (h.OCCURRED_AT, b"nope")) == h.OCCURRED_AT
    assert first_error((h.EVENT_ID, b"bad"), (h.PRODUCER, b" ")) == h.EVENT_ID


def test_lenient_reading_canonicalizes_ids_and_times() -> None:
    given_id = str(uuid.uuid4())
    headers = ((h.EVENT_ID, given_id.upper().encode()), (h.OCCURRED_AT, b"2026-11-22T12:30:00.123456+02:00"))
    env = Envelope.from_record(record(b"x", headers=headers), "OrderPlaced")
    assert env.event_id == env.correlation_id == env.causation_id == given_id
    assert env.occurred_at == NOW + timedelta(milliseconds=123)
    assert env.occurred_at.tzinfo is UTC


def test_header_values_other_than_bytes_are_read_as_before() -> None:
    given_id = str(uuid.uuid4())
    headers: Any = ((h.EVENT_ID, bytearray(given_id.encode())), (h.PRODUCER, memoryview(b"mv")))
    env = Envelope.from_record(record(b"x", headers=headers), "OrderPlaced")
    assert (env.event_id, env.producer) == (given_id, "mv")
    with pytest.raises(BadHeaderError, match="not UTF-8"):
        Envelope.from_record(record(b"x", headers=((h.PRODUCER, memoryview(b"\xff")),)), "OrderPlaced")  # type: ignore[arg-type]


def test_a_record_without_time_or_timestamp_is_stamped_now_to_the_millisecond() -> None:
    rec = RawRecord(topic="orders", partition=0, offset=1, timestamp_ms=0, key=None, value=b"x", headers=())
    env = Envelope.from_record(rec, "OrderPlaced")
    assert env.occurred_at.tzinfo is UTC
    assert env.occurred_at.microsecond % 1000 == 0
    assert abs(env.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_utc_zone_other_than_datetime_utc_is_converted() -> None:
    from zoneinfo import ZoneInfo

    env = Envelope.new("OrderPlaced", "test", occurred_at=datetime(2026, 11, 22, 10, 30, tzinfo=ZoneInfo("UTC")))
    assert env.occurred_at == NOW
    assert env.occurred_at.tzinfo is UTC
