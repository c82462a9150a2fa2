"""OrderEventDecoder: a raw orders record to a typed event, its envelope and meta; each refusal its own error."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.decoding import OrderEventDecoder
from agents.events import EventCatalog
from streams import headers as h
from streams.avro import AvroCodec, AvroSchema, BadAvroError, UnknownEventTypeError, UnknownSchemaIdError, frame
from streams.envelope import BadHeaderError, Envelope, position_event_id
from streams.errors import ValidationError
from streams.position import Position
from streams.settings import Settings
from tests.support import NOW, MemoryRegistry, placed, record

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CATALOG = EventCatalog.load(SCHEMAS)
EVENT = placed(placed_at=NOW + timedelta(microseconds=123_000))


def setup() -> tuple[OrderEventDecoder, bytes]:
    """A decoder whose codec fetches writer schemas from the registry, as a worker's does."""
    registry = MemoryRegistry()
    value = AvroCodec(registry).encode("orders", CATALOG.schema("OrderPlaced"), CATALOG.to_avro(EVENT))
    return OrderEventDecoder(Settings(), codec=AvroCodec(registry), catalog=CATALOG), value


async def test_a_record_with_headers_decodes_to_its_event_envelope_and_meta() -> None:
    decoder, value = setup()
    envelope = Envelope.new("OrderPlaced", "test", occurred_at=NOW + timedelta(microseconds=456_789))
    rec = record(value, offset=7, headers=tuple(envelope.to_headers()))
    for _ in range(2):  # the second read uses what the first cached
        decoded = await decoder.decode(rec)
        assert decoded.event == EVENT
        assert decoded.envelope == envelope
        assert decoded.meta.event_id == envelope.event_id
        assert decoded.meta.event_type == "OrderPlaced"
        assert decoded.meta.position == Position("orders", 0, 7)
        assert decoded.meta.occurred_at == NOW + timedelta(milliseconds=456)
        assert decoded.meta.occurred_at.tzinfo is UTC
        assert decoded.fields == {**CATALOG.to_avro(EVENT)}
        assert decoded.event.placed_at.tzinfo is UTC  # type: ignore[attr-defined]


async def test_a_record_without_headers_gets_its_envelope_from_the_record() -> None:
    decoder, value = setup()
    decoded = await decoder.decode(record(value, offset=9, partition=2))
    event_id = position_event_id("orders", 2, 9)
    assert decoded.envelope == Envelope(event_id=event_id, event_type="OrderPlaced", correlation_id=event_id,
                                        causation_id=event_id, occurred_at=datetime.fromtimestamp(1_795_000_000, UTC),
                                        producer="unknown")
    assert decoded.meta.event_id == event_id


async def test_a_key_that_is_not_the_order_id_is_refused() -> None:
    decoder, value = setup()
    with pytest.raises(ValidationError, match=r"^record key b'o-9' is not the order id 'o-1': an order's events "
                                              r"must share its key to stay in order$"):
        await decoder.decode(record(value, key=b"o-9"))
    assert (await decoder.decode(record(value, key=None))).event == EVENT


@pytest.mark.parametrize(("headers", "error", "message"), [
    (((h.EVENT_ID, b"not-a-uuid"),), BadHeaderError, r"header event_id = 'not-a-uuid' is not a UUID"),
    (((h.EVENT_TYPE, b"OrderShipped"),), BadHeaderError, r"is 'OrderShipped' but the record is a OrderPlaced"),
    (((h.OCCURRED_AT, b"2026-01-01T00:00:00"),), BadHeaderError, r"header occurred_at has no time zone"),
    (((h.PRODUCER, b"\xff"),), BadHeaderError, r"header producer is not UTF-8"),
])
async def test_malformed_headers_are_refused(headers: tuple[tuple[str, bytes], ...], error: type[Exception],
                                             message: str) -> None:
    decoder, value = setup()
    with pytest.raises(error, match=message):
        await decoder.decode(record(value, headers=headers))


async def test_bad_bytes_are_refused() -> None:
    decoder, value = setup()
    with pytest.raises(BadAvroError, match=r"^2 trailing bytes after the com\.acme\.orders\.OrderPlaced record"):
        await decoder.decode(record(value + b"\x00\x00"))
    with pytest.raises(UnknownSchemaIdError):
        await decoder.decode(record(frame(999, b"\x00")))
    registry = MemoryRegistry()
    other = AvroCodec(registry).encode("orders", AvroSchema.from_text(
        '{"type":"record","name":"Other","namespace":"x","fields":[{"name":"a","type":"int"}]}'), {"a": 1})
    with pytest.raises(UnknownEventTypeError, match=r"x\.Other"):
        await OrderEventDecoder(Settings(), codec=AvroCodec(registry), catalog=CATALOG).decode(record(other))


async def test_an_invalid_event_is_refused_naming_the_field() -> None:
    registry = MemoryRegistry()
    bad = {**CATALOG.to_avro(EVENT), "total_minor": 7}
    value = AvroCodec(registry).encode("orders", CATALOG.schema("OrderPlaced"), bad)
    decoder = OrderEventDecoder(Settings(), codec=AvroCodec(registry), catalog=CATALOG)
    with pytest.raises(ValidationError, match=r"^OrderPlaced is not valid: \(event\): total_minor 7 != sum"):
        await decoder.decode(record(value, headers=((h.EVENT_ID, str(uuid.uuid4()).encode()),)))
