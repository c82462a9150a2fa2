"""AvroCodec: registration and caching, decode errors by kind, v1 <-> v2 schema resolution."""

import io
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.avro import (
    AvroCodec,
    AvroSchema,
    BadAvroError,
    IncompatibleSchemaError,
    RegistryUnavailableError,
    UnknownEventTypeError,
    UnknownSchemaIdError,
    frame,
    topic_subject,
)
from streams.errors import ConfigError, DecodeError, ValidationError
from tests.support import NOW, MemoryRegistry

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
V2 = AvroSchema.from_file(SCHEMAS / "OrderPlaced.avsc")
V1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")
SHIPPED = AvroSchema.from_file(SCHEMAS / "OrderShipped.avsc")
TOPIC = "orders"

RECORD: dict[str, Any] = {
    "order_id": "o-1", "customer_id": "c-1", "items": [{"sku": "a", "quantity": 1, "unit_price_minor": 5}],
    "total_minor": 5, "currency": "EUR", "placed_at": NOW,
}


def record_schema(name: str, fields: str, namespace: str = "com.acme.orders") -> AvroSchema:
    return AvroSchema.from_text(
        f'{{"type":"record","name":"{name}","namespace":"{namespace}","fields":[{fields}]}}')


class FlakyRegistry(MemoryRegistry):
    """Unreachable for the first ``failures`` lookups."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def schema_text(self, schema_id: int) -> str:
        if self.failures:
            self.failures -= 1
            raise RegistryUnavailableError("registry down")
        return super().schema_text(schema_id)


# --- encode: subjects, ids, caching -----------------------------------------------------------------------------


def test_encode_registers_under_the_topic_record_subject_once() -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    first = codec.encode(TOPIC, V2, RECORD)
    second = codec.encode(TOPIC, V2, {**RECORD, "order_id": "o-2"})
    assert registry.registrations == 1
    assert registry.subjects == {"orders-com.acme.orders.OrderPlaced": [1]}
    assert first[:5] == second[:5] == b"\x00\x00\x00\x00\x01"


def test_one_topic_holds_several_record_types_under_their_own_subjects() -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    codec.encode(TOPIC, V1, RECORD)
    codec.encode(TOPIC, V2, RECORD)
    codec.encode(TOPIC, SHIPPED, {"order_id": "o-1", "carrier": "dhl", "tracking_number": "t", "shipped_at": NOW})
    assert registry.subjects == {"orders-com.acme.orders.OrderPlaced": [1, 2],
                                 "orders-com.acme.orders.OrderShipped": [3]}


def test_the_subject_strategy_is_the_codecs_choice() -> None:
    registry = MemoryRegistry()
    AvroCodec(registry, subject_strategy=topic_subject).encode("payments", V2, RECORD)
    assert list(registry.subjects) == ["payments-value"]


def test_a_subject_passed_as_the_topic_is_refused() -> None:
    with pytest.raises(ConfigError, match="looks like a subject"):
        AvroCodec(MemoryRegistry()).encode("orders-com.acme.orders.OrderPlaced", V2, RECORD)


@pytest.mark.parametrize(("change", "field"), [
    ({"total_minor": "5"}, "total_minor"),
    ({"total_minor": 1.5}, "total_minor"),  # fastavro alone would write 1
    ({"total_minor": True}, "total_minor"),
    ({"total_minor": 2**63}, "total_minor"),
    ({"placed_at": "yesterday"}, "placed_at"),
    ({"channel": 3}, "channel"),
    ({"items": [{"sku": "a", "quantity": 2**31, "unit_price_minor": 5}]}, "OrderItem.quantity"),  # not an Avro int
])
def test_a_value_that_does_not_fit_its_field_is_a_validation_error_naming_it(change: dict[str, Any],
                                                                              field: str) -> None:
    registry = MemoryRegistry()
    with pytest.raises(ValidationError, match=field) as info:
        AvroCodec(registry).encode(TOPIC, V2, {**RECORD, **change})
    assert [d["field"] for d in info.value.details or []] == [field]
    assert registry.registrations == 0  # nothing registered for a record that cannot be written


def test_a_field_the_schema_does_not_have_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        AvroCodec(MemoryRegistry()).encode(TOPIC, V2, {**RECORD, "surprise": 1})


def test_a_missing_required_field_is_a_validation_error_but_a_missing_default_is_not() -> None:
    codec = AvroCodec(MemoryRegistry())
    with pytest.raises(ValidationError):
        codec.encode(TOPIC, V2, {k: v for k, v in RECORD.items() if k != "currency"})
    assert codec.decode(codec.encode(TOPIC, V2, RECORD)).record["channel"] is None


# --- decode: round trip, caching, readers -----------------------------------------------------------------------


def test_round_trip_and_writer_fetched_once() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, {**RECORD, "channel": "web"})
    fresh = AvroCodec(registry)
    first = fresh.decode(payload, V2)
    second = fresh.decode(payload, {V2.full_name: V2})
    assert registry.lookups == 1
    assert first == second
    assert first.schema_id == 1
    assert first.writer_name == "com.acme.orders.OrderPlaced"
    assert first.record == {**RECORD, "channel": "web"}
    assert first.record["placed_at"].tzinfo is not None


def test_the_encoding_codec_knows_its_writer_without_a_lookup() -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    codec.decode(codec.encode(TOPIC, V2, RECORD))
    assert registry.lookups == 0


def test_v1_record_is_read_as_v2_with_the_default() -> None:
    registry = MemoryRegistry()
    v1_bytes = AvroCodec(registry).encode(TOPIC, V1, RECORD)
    decoded = AvroCodec(registry).decode(v1_bytes, {V2.full_name: V2})
    assert decoded.record == {**RECORD, "channel": None}


def test_v2_record_is_read_as_v1_dropping_the_new_field() -> None:
    registry = MemoryRegistry()
    v2_bytes = AvroCodec(registry).encode(TOPIC, V2, {**RECORD, "channel": "web"})
    decoded = AvroCodec(registry).decode(v2_bytes, V1)
    assert decoded.record == RECORD


def test_v1_and_v2_writers_side_by_side_read_by_one_consumer() -> None:
    registry = MemoryRegistry()
    v1_producer, v2_producer, consumer = AvroCodec(registry), AvroCodec(registry), AvroCodec(registry)
    payloads = [v1_producer.encode(TOPIC, V1, RECORD), v2_producer.encode(TOPIC, V2, {**RECORD, "channel": "app"}),
                v1_producer.encode(TOPIC, V1, {**RECORD, "order_id": "o-3"})]
    decoded = [consumer.decode(p, {V2.full_name: V2}) for p in payloads]
    assert [d.schema_id for d in decoded] == [1, 2, 1]
    assert [d.record["channel"] for d in decoded] == [None, "app", None]
    assert registry.lookups == 2


def test_without_a_reader_the_writer_schema_is_kept() -> None:
    registry = MemoryRegistry()
    decoded = AvroCodec(registry).decode(AvroCodec(registry).encode(TOPIC, V1, RECORD))
    assert "channel" not in decoded.record


def test_bytes_written_by_plain_fastavro_with_confluent_framing_decode() -> None:
    registry = MemoryRegistry()
    schema_id = registry.register("orders-com.acme.orders.OrderPlaced", V2.text)
    out = io.BytesIO()
    schemaless_writer(out, V2.parsed, {**RECORD, "channel": "app"})
    payload = struct.pack(">bI", 0, schema_id) + out.getvalue()
    assert AvroCodec(registry).decode(payload).record["channel"] == "app"


# --- decode errors, each its own class ---------------------------------------------------------------------------


def test_unknown_schema_id_is_permanent() -> None:
    with pytest.raises(UnknownSchemaIdError) as info:
        AvroCodec(MemoryRegistry()).decode(frame(999, b"\x02"))
    assert info.value.dead_letter
    assert not info.value.retriable


def test_an_unreachable_registry_is_retriable_and_not_cached() -> None:
    registry = FlakyRegistry(failures=1)
    payload = AvroCodec(registry).encode(TOPIC, V2, RECORD)
    consumer = AvroCodec(registry)
    with pytest.raises(RegistryUnavailableError) as info:
        consumer.decode(payload, V2)
    assert info.value.retriable
    assert consumer.decode(payload, V2).record["order_id"] == "o-1"


def test_truncated_body_is_bad_avro() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, RECORD)
    with pytest.raises(BadAvroError):
        AvroCodec(registry).decode(payload[:-4], V2)


def test_trailing_garbage_is_bad_avro() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, RECORD)
    with pytest.raises(BadAvroError, match="trailing"):
        AvroCodec(registry).decode(payload + b"\x00\x00", V2)


def test_invalid_utf8_is_bad_avro() -> None:
    registry = MemoryRegistry()
    schema_id = registry.register("orders-com.acme.orders.OrderCompleted", record_schema(
        "OrderCompleted", '{"name":"order_id","type":"string"}').text)
    with pytest.raises(BadAvroError, match="UnicodeDecodeError"):
        AvroCodec(registry).decode(frame(schema_id, b"\x04\xff\xfe"))


def test_a_type_the_consumer_does_not_read_is_refused() -> None:
    registry = MemoryRegistry()
    other = record_schema("Other", '{"name":"a","type":"int"}', namespace="x")
    payload = AvroCodec(registry).encode(TOPIC, other, {"a": 1})
    with pytest.raises(UnknownEventTypeError, match=r"x\.Other"):
        AvroCodec(registry).decode(payload, {V2.full_name: V2})
    with pytest.raises(UnknownEventTypeError, match=r"x\.Other"):
        AvroCodec(registry).decode(payload, V2)


def test_a_writer_the_reader_cannot_resolve_is_incompatible() -> None:
    registry = MemoryRegistry()
    needs_more = record_schema("OrderShipped", '{"name":"order_id","type":"string"},{"name":"weight","type":"int"}')
    payload = AvroCodec(registry).encode(
        TOPIC, SHIPPED, {"order_id": "o-1", "carrier": "dhl", "tracking_number": "t", "shipped_at": NOW})
    with pytest.raises(IncompatibleSchemaError, match="weight") as info:
        AvroCodec(registry).decode(payload, needs_more)
    assert info.value.dead_letter


def test_a_writer_schema_that_is_not_a_record_is_refused() -> None:
    registry = MemoryRegistry()
    schema_id = registry.register("s", '"string"')
    with pytest.raises(UnknownEventTypeError, match="not a record"):
        AvroCodec(registry).decode(frame(schema_id, b"\x02a"))


def test_a_writer_schema_that_does_not_parse_is_bad_avro() -> None:
    registry = MemoryRegistry()
    registry.by_id[7] = '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "NoSuchType"}]}'
    with pytest.raises(BadAvroError, match="does not parse"):
        AvroCodec(registry).decode(frame(7, b"\x00"))


# --- properties ---------------------------------------------------------------------------------------------------

LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
MILLIS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1),
                      timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
ITEMS = st.lists(st.fixed_dictionaries({"sku": st.text(), "quantity": st.integers(-(2**31), 2**31 - 1),
                                        "unit_price_minor": LONGS}), max_size=5)
ORDER_PLACED = st.fixed_dictionaries({
    "order_id": st.text(), "customer_id": st.text(), "items": ITEMS, "total_minor": LONGS,
    "currency": st.text(max_size=3), "placed_at": MILLIS, "channel": st.none() | st.text(),
})


@settings(max_examples=200)
@given(ORDER_PLACED)
def test_any_record_round_trips(record: dict[str, Any]) -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, record)
    assert AvroCodec(registry).decode(payload, V2).record == record


@settings(max_examples=50)
@given(ORDER_PLACED, st.data())
def test_any_truncation_is_bad_avro(record: dict[str, Any], data: st.DataObject) -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, record)
    cut = data.draw(st.integers(min_value=5, max_value=len(payload) - 1))
    with pytest.raises(BadAvroError):
        AvroCodec(registry).decode(payload[:cut], V2)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_bodies_raise_only_decode_errors(body: bytes) -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    schema_id = codec.schema_id(TOPIC, V2)
    try:
        decoded = codec.decode(frame(schema_id, body), V2)
    except DecodeError:
        return
    assert decoded.writer_name == V2.full_name
    assert set(decoded.record) == {f["name"] for f in V2.parsed["fields"]}


def test_timestamps_are_utc_whatever_the_writers_zone() -> None:
    codec = AvroCodec(MemoryRegistry())
    paris = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    decoded = codec.decode(codec.encode(TOPIC, V2, {**RECORD, "placed_at": paris + timedelta(milliseconds=1)}))
    assert decoded.record["placed_at"] == NOW + timedelta(milliseconds=1)
    assert decoded.record["placed_at"].utcoffset() == timedelta(0)


# --- async variants: registry round trips off the event loop ----------------------------------------------------


async def test_async_variants_fetch_in_a_thread_then_use_the_cache() -> None:
    import threading

    main = threading.get_ident()
    seen: list[int] = []

    class Watching(MemoryRegistry):
        def schema_text(self, schema_id: int) -> str:
            seen.append(threading.get_ident())
            return super().schema_text(schema_id)

        def register(self, subject: str, schema_text: str) -> int:
            seen.append(threading.get_ident())
            return super().register(subject, schema_text)

    registry = Watching()
    payload = await AvroCodec(registry).encode_async(TOPIC, V2, RECORD)
    consumer = AvroCodec(registry)
    assert (await consumer.decode_async(payload, V2)).record["order_id"] == "o-1"
    assert (await consumer.decode_async(payload, V2)).record["order_id"] == "o-1"
    assert len(seen) == 2
    assert main not in seen


async def test_async_decode_errors_are_the_same_classes() -> None:
    with pytest.raises(UnknownSchemaIdError):
        await AvroCodec(MemoryRegistry()).decode_async(frame(5, b"\x00"))
    with pytest.raises(RegistryUnavailableError):
        await AvroCodec(FlakyRegistry(failures=1)).decode_async(frame(5, b"\x00"))


# --- the per-schema-id caches of decode ---------------------------------------------------------------------------


def test_one_writer_read_as_several_readers_in_turn() -> None:
    """The reader schema fastavro gets is remembered per schema id for the last reader: switching readers works."""
    registry = MemoryRegistry()
    v2_bytes = AvroCodec(registry).encode(TOPIC, V2, {**RECORD, "channel": "web"})
    consumer = AvroCodec(registry)  # its writer is parsed from the registry's text: equal to V2, not V2 itself
    same_text = AvroSchema.from_text(V2.text)
    for _ in range(2):
        assert consumer.decode(v2_bytes, V2).record == {**RECORD, "channel": "web"}
        assert consumer.decode(v2_bytes, V1).record == RECORD
        assert consumer.decode(v2_bytes, {V2.full_name: same_text}).record == {**RECORD, "channel": "web"}
        assert consumer.decode(v2_bytes).record == {**RECORD, "channel": "web"}
    assert registry.lookups == 1


def test_a_reader_that_cannot_resolve_is_refused_after_one_that_could() -> None:
    registry = MemoryRegistry()
    needs_more = record_schema("OrderShipped", '{"name":"order_id","type":"string"},{"name":"weight","type":"int"}')
    payload = AvroCodec(registry).encode(
        TOPIC, SHIPPED, {"order_id": "o-1", "carrier": "dhl", "tracking_number": "t", "shipped_at": NOW})
    consumer = AvroCodec(registry)
    assert consumer.decode(payload, SHIPPED).record["carrier"] == "dhl"
    for _ in range(2):
        with pytest.raises(IncompatibleSchemaError, match="weight"):
            consumer.decode(payload, needs_more)
        with pytest.raises(UnknownEventTypeError, match="not one this consumer reads"):
            consumer.decode(payload, {V2.full_name: V2})
        assert consumer.decode(payload, SHIPPED).record["carrier"] == "dhl"


def test_a_writer_that_is_not_a_record_is_refused_every_time() -> None:
    registry = MemoryRegistry()
    schema_id = registry.register("s", '"string"')
    codec = AvroCodec(registry)
    for _ in range(2):
        with pytest.raises(UnknownEventTypeError, match=f"schema id {schema_id} is not a record schema: string"):
            codec.decode(frame(schema_id, b"\x02a"))
    assert registry.lookups == 1


async def test_async_decode_refuses_what_decode_refuses_with_the_same_message() -> None:
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, RECORD)
    for bad in (None, b"", b"\x00\x00", b"\x01" + payload[1:], payload + b"\x00", payload[:-2]):
        with pytest.raises(DecodeError) as sync:
            AvroCodec(registry).decode(bad, V2)
        with pytest.raises(DecodeError) as async_:
            await AvroCodec(registry).decode_async(bad, V2)
        assert (type(async_.value), str(async_.value)) == (type(sync.value), str(sync.value))
    assert (await AvroCodec(registry).decode_async(payload, V2)) == AvroCodec(registry).decode(payload, V2)


def test_fastavro_gets_no_reader_when_the_reader_is_the_writers_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """What fastavro would do itself, once per schema id rather than a deep comparison on every record."""
    import streams.avro.codec as codec_module

    given: list[Any] = []
    real = codec_module.schemaless_reader

    def spy(stream: Any, writer: Any, reader: Any) -> Any:
        given.append(reader)
        return real(stream, writer, reader)

    monkeypatch.setattr(codec_module, "schemaless_reader", spy)
    registry = MemoryRegistry()
    payload = AvroCodec(registry).encode(TOPIC, V2, RECORD)
    consumer = AvroCodec(registry)
    consumer.decode(payload, V2)
    consumer.decode(payload, V2)
    consumer.decode(payload, V1)
    assert given == [None, None, V1.parsed]
