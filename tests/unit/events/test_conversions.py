"""to_avro / from_avro: every event type survives Avro and the wire unchanged."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.events import (
    EVENT_TYPES,
    EventCatalog,
    OrderCompleted,
    OrderEvent,
    OrderPlaced,
    from_avro,
    to_avro,
)
from agents.events.models import MAX_MINOR
from streams.avro import AvroCodec, AvroSchema
from tests.support import NOW, MemoryRegistry, placed

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
CATALOG = EventCatalog.load(SCHEMAS)
V1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")

IDS = st.text(min_size=1, max_size=40).filter(str.strip)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])
TIMES = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=ZONES)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "order_id": IDS, "customer_id": IDS, "payment_id": IDS, "reservation_id": IDS, "shipment_id": IDS, "carrier": IDS,
    "tracking_number": IDS, "reason": IDS, "currency": st.from_regex(r"\A[A-Z]{3}\Z"),
    "amount_minor": st.integers(0, MAX_MINOR), "channel": st.none() | st.sampled_from(["web", "app", "store"]),
}


@st.composite
def order_placed(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(st.lists(st.tuples(IDS, st.integers(1, 1000), st.integers(0, 10**9)), min_size=1, max_size=5))
    items = [{"sku": sku, "quantity": quantity, "unit_price_minor": price} for sku, quantity, price in lines]
    return {"order_id": draw(IDS), "customer_id": draw(IDS), "items": items,
            "total_minor": sum(quantity * price for _, quantity, price in lines),
            "currency": draw(FIELDS["currency"]), "placed_at": draw(TIMES), "channel": draw(FIELDS["channel"])}


def event_data(name: str) -> st.SearchStrategy[dict[str, Any]]:
    if name == "OrderPlaced":
        return order_placed()
    model = EVENT_TYPES[name].model
    return st.fixed_dictionaries({f: TIMES if f.endswith("_at") else FIELDS[f] for f in model.model_fields})


EVENTS = st.sampled_from(sorted(CATALOG.schemas)).flatmap(
    lambda name: event_data(name).map(lambda data: from_avro(name, data)))


@settings(max_examples=300)
@given(EVENTS)
def test_every_event_survives_avro_and_the_wire(event: OrderEvent) -> None:
    registry = MemoryRegistry()
    schema = CATALOG.schema(type(event).__name__)
    payload = AvroCodec(registry).encode("orders", schema, to_avro(event))
    decoded = AvroCodec(registry).decode(payload, CATALOG.readers)
    back = from_avro(decoded.writer_name, decoded.record)
    assert back == event
    assert type(back) is type(event)


def test_to_avro_gives_what_fastavro_writes() -> None:
    record = to_avro(placed(channel="web"))
    assert record["placed_at"] == NOW
    assert record["items"][0] == {"sku": "sku-a", "quantity": 2, "unit_price_minor": 500}
    assert record["channel"] == "web"


def test_times_become_utc_and_millisecond_precise() -> None:
    event = OrderCompleted(order_id="o", completed_at=datetime(2026, 1, 1, 12, 0, 0, 123456,
                                                               tzinfo=timezone(timedelta(hours=2))))
    assert event.completed_at == datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert event.completed_at.tzinfo is UTC


def test_a_v1_record_becomes_the_current_model() -> None:
    registry = MemoryRegistry()
    record = {k: v for k, v in to_avro(placed()).items() if k != "channel"}
    payload = AvroCodec(registry).encode("orders", V1, record)
    writer_only = AvroCodec(registry).decode(payload)  # no reader: the v1 record, no channel at all
    assert "channel" not in writer_only.record
    assert from_avro("OrderPlaced", writer_only.record) == placed()
    resolved = AvroCodec(registry).decode(payload, CATALOG.readers)
    assert from_avro(resolved.writer_name, resolved.record) == placed()


def test_a_v2_event_reaches_a_v1_consumer_without_the_new_field() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode("orders", CATALOG.schema("OrderPlaced"), to_avro(placed(channel="app")))
    decoded = AvroCodec(registry).decode(payload, V1)
    assert decoded.record == {k: v for k, v in to_avro(placed()).items() if k != "channel"}


@pytest.mark.parametrize("name", ["OrderPlaced", "com.acme.orders.OrderPlaced"])
def test_from_avro_takes_short_and_full_names(name: str) -> None:
    assert isinstance(from_avro(name, to_avro(placed())), OrderPlaced)


@pytest.mark.parametrize("moment", [
    datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC),  # as fastavro reads timestamp-millis: kept as it is
    datetime(2026, 1, 1, 10, 0, 0, 123999, tzinfo=UTC),
    datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=ZoneInfo("UTC")),
    "2026-01-01T10:00:00.123Z",  # pydantic's own UTC zone
    "2026-01-01T11:00:00.123456+01:00",
])
def test_every_time_ends_in_datetime_utc_to_the_millisecond(moment: datetime | str) -> None:
    event = OrderCompleted.model_validate({"order_id": "o", "completed_at": moment})
    assert event.completed_at == datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert event.completed_at.tzinfo is UTC
