"""The services' wiring without Faust: decoding commands (and refusing poison), the agent's step over a table,
replies that fit the event catalog, and the topics the services need."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.events import EventCatalog
from agents.services.agents import CommandDecoder, Service, Step, apply, services
from agents.services.base import Command
from agents.services.topics import service_topic, service_topic_specs
from agents.settings import OrderSettings
from agents.topics import topic_name
from streams.avro import AvroCodec, AvroSchema, load_schema, load_schemas
from streams.envelope import Envelope, derived_event_id
from streams.errors import DecodeError, ValidationError
from streams.recordpath.agent import control_topic
from streams.settings import Settings
from streams.topics import dlq_topic
from tests.support import NOW, MemoryRegistry, record

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
CATALOG = EventCatalog.load(SCHEMAS)
COMMANDS = load_schemas(SCHEMAS / "commands")
SETTINGS = OrderSettings(sim_stock=3, sim_payment_limit_minor=1000, sim_payment_failure_rate=0.0,
                         sim_shipping_failure_rate=0.0)
SERVICES = {service.name: service for service in services(SETTINGS)}


@pytest.fixture
def codec() -> AvroCodec:
    return AvroCodec(MemoryRegistry())


def encoded(codec: AvroCodec, name: str, fields: Mapping[str, Any], *, topic: str = "payments",
            schema: AvroSchema | None = None, key: bytes | None = b"o-1", event_type: str | None = None,
            headers: bool = True) -> tuple[str, Any]:
    """A command record as the saga sends it: Avro through the registry, the envelope in its headers."""
    command_id = str(uuid.uuid4())
    envelope = Envelope.new(event_type or name, "saga", event_id=command_id, correlation_id="corr-1")
    value = codec.encode(topic, schema or COMMANDS[name], fields)
    return command_id, record(value, key=key, topic=topic, headers=tuple(envelope.to_headers()) if headers else ())


AUTHORIZE = {"order_id": "o-1", "customer_id": "c-1", "amount_minor": 500, "currency": "EUR"}
RESERVE = {"order_id": "o-1", "lines": [{"sku": "a", "quantity": 2}], "warehouse": "main"}


async def test_a_command_decodes_with_its_id_from_the_envelope(codec: AvroCodec) -> None:
    command_id, raw = encoded(codec, "AuthorizePayment", AUTHORIZE)
    received = await CommandDecoder(codec, COMMANDS, SERVICES["payments"]).decode(raw)
    assert received.command == Command(command_id, "AuthorizePayment", AUTHORIZE)
    assert received.envelope.correlation_id == "corr-1"


async def test_a_reservation_of_the_first_schema_reads_as_the_main_warehouse(codec: AvroCodec) -> None:
    v1 = load_schema(SCHEMAS / "history" / "ReserveInventory.v1.avsc")
    fields = {"order_id": "o-1", "lines": [{"sku": "a", "quantity": 1}]}
    _, raw = encoded(codec, "ReserveInventory", fields, topic="inventory", schema=v1, key=b"main")
    received = await CommandDecoder(codec, COMMANDS, SERVICES["inventory"]).decode(raw)
    assert received.command.fields["warehouse"] == "main"


def _poison(codec: AvroCodec) -> list[tuple[str, str, Any]]:
    """(service, what the error says, record)."""
    return [
        ("payments", "magic byte", record(b"not avro", topic="payments")),
        ("payments", "not one this consumer reads", encoded(codec, "ReserveInventory", RESERVE)[1]),
        ("payments", "missing envelope header", encoded(codec, "AuthorizePayment", AUTHORIZE, headers=False)[1]),
        ("payments", "but the record is a AuthorizePayment", encoded(codec, "AuthorizePayment", AUTHORIZE,
                                                                     event_type="RefundPayment")[1]),
        ("payments", "record key b'o-2' is not 'o-1'", encoded(codec, "AuthorizePayment", AUTHORIZE, key=b"o-2")[1]),
        ("payments", "record key None", encoded(codec, "AuthorizePayment", AUTHORIZE, key=None)[1]),
        ("payments", "amount_minor is negative", encoded(codec, "AuthorizePayment",
                                                         {**AUTHORIZE, "amount_minor": -1})[1]),
        ("inventory", "record key b'o-1' is not 'main'", encoded(codec, "ReserveInventory", RESERVE,
                                                                 topic="inventory", key=b"o-1")[1]),
        ("inventory", "lines[0].quantity is below 1", encoded(codec, "ReserveInventory", {
            **RESERVE, "lines": [{"sku": "a", "quantity": 0}]}, topic="inventory", key=b"main")[1]),
        ("inventory", "lines[0].sku is empty", encoded(codec, "ReleaseInventory", {
            **RESERVE, "reservation_id": "res-1", "lines": [{"sku": " ", "quantity": 1}]}, topic="inventory",
            key=b"main")[1]),
        ("shipping", "order_id is empty", encoded(codec, "CreateShipment", {
            "order_id": "", "customer_id": "c", "lines": []}, topic="shipping", key=b"")[1]),
    ]


async def test_a_command_that_cannot_be_decoded_is_poison_the_platform_dead_letters(codec: AvroCodec) -> None:
    for service, says, raw in _poison(codec):
        with pytest.raises((DecodeError, ValidationError), match=re.escape(says)) as caught:
            await CommandDecoder(codec, COMMANDS, SERVICES[service]).decode(raw)
        assert caught.value.dead_letter, says
        assert not caught.value.retriable, says


def _table_step(service: Service[Any], table: dict[str, Any], command: Command) -> Any:
    changed, reply = apply(service, command, table.get, NOW)
    table.update(changed)
    return changed, reply


def test_the_agent_step_reads_and_writes_only_the_commands_rows_and_the_settings_reach_the_handlers() -> None:
    table: dict[str, Any] = {}
    inventory = SERVICES["inventory"]
    first = Command(str(uuid.uuid4()), "ReserveInventory", {**RESERVE, "lines": [{"sku": "a", "quantity": 3}]})
    changed, reply = _table_step(inventory, table, first)
    assert reply.outcome == "reserved"  # sim_stock=3: exactly all there is
    rid = reply.fields["reservation_id"]
    assert set(changed) == {"main/stock/a", f"main/reservation/{rid}", f"main/reply/{first.command_id}"}
    assert table["main/stock/a"] == 0
    changed, reply = _table_step(inventory, table, Command(str(uuid.uuid4()), "ReserveInventory", RESERVE))
    assert reply.fields["reason"] == "out of stock: a has 0, 2 asked"
    assert len(changed) == 1  # the reply only
    release = Command(str(uuid.uuid4()), "ReleaseInventory", {**RESERVE, "reservation_id": rid})
    changed, reply = _table_step(inventory, table, release)
    assert reply.outcome == "released"
    assert table["main/stock/a"] == 3
    assert _table_step(inventory, table, release)[0] == {}  # seen again: nothing written
    json.dumps(table)  # rows are what a Faust table's JSON keeps

    payments = SERVICES["payments"]
    _, reply = _table_step(payments, table, Command(str(uuid.uuid4()), "AuthorizePayment",
                                                    {**AUTHORIZE, "amount_minor": 1001}))
    assert reply.outcome == "over_limit"  # sim_payment_limit_minor=1000
    shipped = Command(str(uuid.uuid4()), "CreateShipment", {"order_id": "o-1", "customer_id": "c", "lines": []})
    changed, reply = _table_step(SERVICES["shipping"], table, shipped)
    assert (reply.outcome, list(changed)) == ("created", [f"reply/{shipped.command_id}"])


@pytest.mark.parametrize(("service", "command"), [
    ("payments", Command("11111111-1111-1111-1111-111111111111", "AuthorizePayment", AUTHORIZE)),
    ("payments", Command("11111111-1111-1111-1111-111111111112", "AuthorizePayment",
                         {**AUTHORIZE, "amount_minor": 10**6})),
    ("payments", Command("11111111-1111-1111-1111-111111111113", "RefundPayment",
                         {**AUTHORIZE, "payment_id": "pay-1", "reason": "cancelled"})),
    ("inventory", Command("11111111-1111-1111-1111-111111111114", "ReserveInventory", RESERVE)),
    ("inventory", Command("11111111-1111-1111-1111-111111111115", "ReserveInventory",
                          {**RESERVE, "lines": [{"sku": "a", "quantity": 9}]})),
    ("inventory", Command("11111111-1111-1111-1111-111111111116", "ReleaseInventory",
                          {**RESERVE, "reservation_id": "res-1"})),
    ("shipping", Command("11111111-1111-1111-1111-111111111117", "CreateShipment",
                         {"order_id": "o-1", "customer_id": "c", "lines": []})),
])
def test_every_reply_is_an_event_of_the_catalog(codec: AvroCodec, service: str, command: Command) -> None:
    _, reply = apply(SERVICES[service], command, {}.get, NOW)
    value = codec.encode("orders", CATALOG.schema(reply.event_type), reply.fields)
    decoded = codec.decode(value, CATALOG.readers)
    event = CATALOG.validate(reply.event_type, decoded.record)
    assert event.order_id == "o-1"
    assert NOW in decoded.record.values()  # the time field, as the catalog's timestamp-millis


def test_each_service_topic_comes_with_its_dead_letters_and_their_control_topic() -> None:
    settings = Settings(topic_prefix="p.", topic_partitions=3)
    specs = {spec.name: spec.partitions for spec in service_topic_specs(settings)}
    topics = ["p.payments", "p.inventory", "p.shipping"]
    assert specs == {name: 3 for topic in topics for name in (topic, dlq_topic(topic), control_topic(topic))}
    assert [service_topic(settings, s) for s in ("payments", "inventory", "shipping")] == [
        topic_name(settings, s) for s in ("payments", "inventory", "shipping")]



def _step(codec: AvroCodec, table: dict[str, Any], **knobs: Any) -> Step:
    return Step(SERVICES["payments"], get=table.get, codec=codec, schema_of=CATALOG.schema, orders="p.orders",
                producer="orders-app/payments", clock=lambda: NOW, **knobs)


async def test_the_reply_goes_to_orders_keyed_by_order_with_the_envelope_of_the_contract(codec: AvroCodec) -> None:
    table: dict[str, Any] = {}
    command_id, raw = encoded(codec, "AuthorizePayment", AUTHORIZE)
    received = await CommandDecoder(codec, COMMANDS, SERVICES["payments"]).decode(raw)
    prepared = await _step(codec, table)(raw, received)
    assert prepared.outcome == "authorized"
    assert prepared.reply is not None
    key, value, headers = prepared.reply
    assert key == b"o-1"
    envelope = Envelope.from_headers(headers)
    assert envelope == Envelope(event_id=derived_event_id(command_id, "reply"), event_type="PaymentAuthorized",
                                correlation_id="corr-1", causation_id=command_id, occurred_at=NOW,
                                producer="orders-app/payments")
    assert codec.decode(value, CATALOG.readers).record["payment_id"].startswith("pay-")
    table.update(prepared.rows)

    later = Step(SERVICES["payments"], get=table.get, codec=codec, schema_of=CATALOG.schema, orders="p.orders",
                 producer="orders-app/payments", clock=lambda: NOW + timedelta(minutes=3))
    again = await later(raw, received)
    assert (again.outcome, again.rows) == ("duplicate", {})
    assert again.reply == prepared.reply  # the same record: event id, bytes, time


async def test_a_silent_service_answers_nothing_and_records_nothing(codec: AvroCodec) -> None:
    table: dict[str, Any] = {}
    _, raw = encoded(codec, "AuthorizePayment", AUTHORIZE)
    received = await CommandDecoder(codec, COMMANDS, SERVICES["payments"]).decode(raw)
    prepared = await _step(codec, table, silent=True)(raw, received)
    assert (prepared.outcome, prepared.rows, prepared.reply) == ("silent", {}, None)
    assert (await _step(codec, table)(raw, received)).outcome == "authorized"  # turned back on: it answers


async def test_latency_delays_the_answer(codec: AvroCodec) -> None:
    _, raw = encoded(codec, "AuthorizePayment", AUTHORIZE)
    received = await CommandDecoder(codec, COMMANDS, SERVICES["payments"]).decode(raw)
    started = time.perf_counter()
    prepared = await _step(codec, {}, latency_s=0.2)(raw, received)
    assert time.perf_counter() - started >= 0.2
    assert prepared.outcome == "authorized"


def test_the_silent_list_is_read_from_the_settings_and_every_service_has_its_commands_schemas() -> None:
    quiet = OrderSettings(sim_silent="shipping, payments", sim_latency_ms=250)
    assert quiet.silent == {"payments", "shipping"}
    assert [s.name for s in services(quiet)] == ["payments", "inventory", "shipping"]
    assert {s.name: s.commands for s in services(quiet)} == {
        "payments": ("AuthorizePayment", "RefundPayment"), "inventory": ("ReserveInventory", "ReleaseInventory"),
        "shipping": ("CreateShipment",)}
    assert set(COMMANDS) >= {c for s in services(quiet) for c in s.commands}
