"""The simulated services as Faust agents: decode the command, run the pure handler, write its rows and reply.

One agent per service (``sim-payments``, ``sim-inventory``, ``sim-shipping``) over the service's topic, through
the platform's ``guarded_agent``: a command that cannot be decoded (bad Avro, a command of another service, no
envelope, a key that is not the command's partition key, a quantity below 1) is a poison record, dead-lettered to
``<topic>.dlq``; a registry that cannot be reached is retried and held behind the breaker.

Per command: ``handle`` loads the rows the command reads from the service's table (``<agent>-state``), runs the
pure handler (``agents.services.payments``, ``inventory``, ``shipping``), and encodes the reply with the event
catalog's schema through the registry; ``commit`` writes the rows that changed and sends the reply to ``orders``
through the app's outbox, on the command's ticket: the command is acknowledged only once its rows and its reply are
durable (``docs/commit-protocol.md``).  A command judged again after a crash meets the state it met the first time,
so it gets the same decision and the same reply event id (the reply's time may differ).

The reply's envelope: ``event_id`` derived from the command id (``derived_event_id(command_id, "reply")``), the
command's correlation id, causation id = the command id, producer ``<STREAMS_PRODUCER_NAME>/<service>``.

Two knobs of the simulation (``OrderSettings``): STREAMS_SIM_LATENCY_MS delays every answer (an ``asyncio.sleep``
in ``handle``: the agent takes the service's commands one at a time, so it also bounds the service's throughput to
1000 / latency commands a second per worker, as a slow service would); STREAMS_SIM_SILENT names services that
consume and never answer, and record nothing (turned back on, they answer what they ignored if it is read again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from prometheus_client import Counter

from agents.decoding import OrderEventDecoder
from agents.services import inventory, payments, shipping
from agents.services.base import Command, Replies, Reply, reply_row
from agents.services.inventory import Warehouse, warehouse_of
from agents.services.topics import service_topic, service_topic_specs
from agents.settings import OrderSettings
from agents.topics import orders_topic
from streams import headers as h
from streams.app import StreamsApp
from streams.avro import AvroCodec, AvroSchema
from streams.envelope import BadHeaderError, Envelope, derived_event_id
from streams.errors import ValidationError
from streams.freshness import Watermarks
from streams.recordpath.agent import guarded_agent, outbox
from streams.recordpath.processing import ProcessingPolicy
from streams.recordpath.records import RawRecord
from streams.replay import Generational
from streams.settings import Settings
from streams.tracing import ATTR

__all__ = ["CommandDecoder", "Received", "Service", "Step", "agent_name", "apply", "register_services", "services"]

log = logging.getLogger(__name__)

S = TypeVar("S")


def agent_name(service: str) -> str:
    return f"sim-{service}"


@dataclass(frozen=True, slots=True)
class Service(Generic[S]):
    """A pure service as the wiring sees it: what it takes, how its records are keyed, its state as table rows."""

    name: str  # its topic (before the prefix), the metric label and the producer header's suffix
    commands: tuple[str, ...]
    partition_key: Callable[[Command], str]  # what the record key must be
    keys: Callable[[Command, Mapping[str, Any]], set[str]]  # the rows the handler reads, given those loaded
    load: Callable[[Command, Mapping[str, Any]], S]
    rows: Callable[[S], dict[str, Any]]
    handle: Callable[[S, Command, datetime], tuple[S, Reply]]


def _order_id(command: Command) -> str:
    return command.order_id


def _reply_keys(command: Command, loaded: Mapping[str, Any]) -> set[str]:
    return {reply_row(command.command_id)}


def _replies(command: Command, rows: Mapping[str, Any]) -> Replies:
    return Replies.from_rows(rows)


def services(order_settings: OrderSettings) -> list[Service[Any]]:
    """The three services with the behaviour ``order_settings`` gives them."""
    payment_policy = payments.PaymentPolicy.from_settings(order_settings)
    shipping_policy = shipping.ShippingPolicy.from_settings(order_settings)
    stock = order_settings.sim_stock

    def pay(state: Replies, command: Command, now: datetime) -> tuple[Replies, Reply]:
        return payments.handle(state, command, payment_policy, now)

    def ship(state: Replies, command: Command, now: datetime) -> tuple[Replies, Reply]:
        return shipping.handle(state, command, shipping_policy, now)

    def reserve(state: Warehouse, command: Command, now: datetime) -> tuple[Warehouse, Reply]:
        return inventory.handle(state, command, stock, now)

    def warehouse(command: Command, rows: Mapping[str, Any]) -> Warehouse:
        return Warehouse.from_rows(warehouse_of(command), rows)

    return [
        Service("payments", payments.COMMANDS, _order_id, _reply_keys, _replies, Replies.rows, pay),
        Service("inventory", inventory.COMMANDS, warehouse_of, inventory.keys, warehouse, Warehouse.rows,
                           reserve),
        Service("shipping", shipping.COMMANDS, _order_id, _reply_keys, _replies, Replies.rows, ship),
    ]


def apply(service: Service[Any], command: Command, get: Callable[[str], Any],
          now: datetime) -> tuple[dict[str, Any], Reply]:
    """The pure part of an agent's step: read the rows ``command`` needs through ``get`` (the table's), run the
    handler; the rows it changed (to write) and its reply."""
    loaded: dict[str, Any] = {}
    while missing := service.keys(command, loaded) - loaded.keys():
        loaded.update({key: get(key) for key in sorted(missing)})
    state, reply = service.handle(service.load(command, loaded), command, now)
    return {key: value for key, value in service.rows(state).items() if loaded.get(key) != value}, reply


@dataclass(frozen=True, slots=True)
class Received:
    command: Command
    envelope: Envelope


class CommandDecoder:
    """A raw record of a service's topic into a ``Received`` command; every failure dead-letters the record.

    The envelope is required (``Envelope.from_headers``): without its event id a command cannot be answered
    idempotently.  The record key must be the command's partition key (the order id; the warehouse for
    inventory), or the state it touches would be written from two partitions.
    """

    def __init__(self, codec: AvroCodec, schemas: Mapping[str, AvroSchema], service: Service[Any]) -> None:
        self._codec = codec
        self._service = service
        self._readers = {schemas[name].full_name: schemas[name] for name in service.commands}

    async def decode(self, record: RawRecord) -> Received:
        decoded = await self._codec.decode_async(record.value, self._readers)
        name = decoded.writer_name.rsplit(".", 1)[-1]
        envelope = Envelope.from_headers(record.headers)
        if envelope.event_type != name:
            raise BadHeaderError(h.EVENT_TYPE, f"is {envelope.event_type!r} but the record is a {name}")
        command = Command(envelope.event_id, name, decoded.record)
        _check(command)
        key = self._service.partition_key(command)
        if record.key != key.encode():
            raise ValidationError(f"record key {record.key!r} is not {key!r}, the key of {name} on "
                                  f"{self._service.name} (the order id, or for inventory the warehouse): one "
                                  "partition must own what the command touches",
                                  details=[{"field": "key", "message": f"expected {key!r}"}])
        return Received(command, envelope)


def _check(command: Command) -> None:
    """What Avro cannot say: ids not empty, amounts not negative, quantities at least 1."""
    fields, problems = command.fields, []
    for name in ("order_id", "payment_id", "reservation_id", "warehouse"):
        if name in fields and not str(fields[name]).strip():
            problems.append({"field": name, "message": "is empty"})
    if "amount_minor" in fields and int(fields["amount_minor"]) < 0:
        problems.append({"field": "amount_minor", "message": "is negative"})
    for i, line in enumerate(fields.get("lines", ())):
        if not str(line["sku"]).strip():
            problems.append({"field": f"lines[{i}].sku", "message": "is empty"})
        if int(line["quantity"]) < 1:
            problems.append({"field": f"lines[{i}].quantity", "message": "is below 1"})
    if problems:
        raise ValidationError(f"{command.name} {command.command_id}: "
                              + "; ".join(f"{p['field']} {p['message']}" for p in problems), details=problems)


@dataclass(frozen=True, slots=True)
class Prepared:
    received: Received
    outcome: str  # the handler's (authorized, out_of_stock...), duplicate, or silent
    rows: dict[str, Any]  # rows the command changed
    reply: tuple[bytes, bytes, list[tuple[str, bytes | None]]] | None  # key, value, headers; None: silent

    def span_attributes(self) -> dict[str, str]:
        """What the trace's ``handle`` span says (``streams.tracing.Traced``)."""
        return {ATTR.EVENT_TYPE: self.received.command.name, ATTR.OUTCOME: self.outcome}


class Step:
    """An agent's ``handle``: the command's rows read from the table (``get``), the pure handler run, the reply
    encoded with the catalog's schema (``schema_of``) and enveloped; no side effects (``commit`` writes)."""

    def __init__(self, service: Service[Any], *, get: Callable[[str], Any], codec: AvroCodec,
                 schema_of: Callable[[str], AvroSchema], orders: str, producer: str, silent: bool = False,
                 latency_s: float = 0.0, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.service = service
        self.get = get
        self.codec = codec
        self.schema_of = schema_of
        self.orders = orders
        self.producer = producer
        self.silent = silent
        self.latency_s = latency_s
        self.clock = clock

    async def __call__(self, record: RawRecord, received: Received) -> Prepared:
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)  # a simulation knob (module docstring)
        if self.silent:
            return Prepared(received, "silent", {}, None)
        command = received.command
        changed, reply = apply(self.service, command, self.get, self.clock())
        value = await self.codec.encode_async(self.orders, self.schema_of(reply.event_type), reply.fields)
        envelope = Envelope(event_id=derived_event_id(command.command_id, "reply"), event_type=reply.event_type,
                            correlation_id=received.envelope.correlation_id, causation_id=command.command_id,
                            occurred_at=reply.occurred_at, producer=self.producer)
        outcome = "duplicate" if reply.repeated else reply.outcome
        headers: list[tuple[str, bytes | None]] = list(envelope.to_headers())
        return Prepared(received, outcome, changed, (command.order_id.encode(), value, headers))


def register_services(app: StreamsApp, settings: Settings, order_settings: OrderSettings,
                      decoder: OrderEventDecoder, commands: Mapping[str, AvroSchema]) -> None:
    """The three simulated services as agents of ``app`` (``agents.app.create_app`` calls this when
    STREAMS_SIMULATED_SERVICES is true), with their topics, tables and the ``streams_sim_commands`` counter."""
    app.declare_topics(service_topic_specs(settings))
    counter = Counter("streams_sim_commands", "Commands the simulated services handled, by service, command and "
                      "outcome (duplicate: a command seen before, answered again with the same reply; silent: "
                      "consumed by a service set never to answer)", ["service", "command", "outcome"],
                      registry=app.metrics.registry)
    marks = Watermarks()  # the services' tables serve no reads: nothing waits on these
    policy = ProcessingPolicy.from_settings(settings)
    for service in services(order_settings):
        _register(app, service, settings=settings, codec=decoder.codec, catalog_schema=decoder.catalog.schema,
                  decoder=CommandDecoder(decoder.codec, commands, service), counter=counter, marks=marks,
                  policy=policy, silent=service.name in order_settings.silent,
                  latency_s=order_settings.sim_latency_ms / 1000)


def _register(app: StreamsApp, service: Service[Any], *, settings: Settings, codec: AvroCodec,
              catalog_schema: Callable[[str], AvroSchema], decoder: CommandDecoder, counter: Counter,
              marks: Watermarks, policy: ProcessingPolicy, silent: bool, latency_s: float) -> None:
    name = agent_name(service.name)
    source = service_topic(settings, service.name)
    orders = orders_topic(settings)
    partitions = settings.topic_partitions
    table = app.Table(f"{name}-state", default=None, key_type=str, partitions=partitions,
                      help=f"what the simulated {service.name} service keeps, and the reply it gave each command")
    model = Generational(name, source, current=table, generation=0, partitions=partitions)
    events = app.metrics.events
    handle = Step(service, get=table.get, codec=codec, schema_of=catalog_schema, orders=orders,
                  producer=f"{settings.producer_name}/{service.name}", silent=silent, latency_s=latency_s)

    def commit(record: RawRecord, prepared: Prepared) -> None:
        for key, value in prepared.rows.items():
            table[key] = value
        if prepared.reply is not None:
            order_key, reply, headers = prepared.reply
            outbox(app).send(orders, order_key, reply, headers)
        command = prepared.received.command
        counter.labels(service.name, command.name, prepared.outcome).inc()
        events.labels(name, command.name, "duplicate" if prepared.outcome == "duplicate" else "applied").inc()
        log.debug("%s %s %s: %s", service.name, command.name, command.command_id, prepared.outcome)

    guarded_agent(app, name=name, source=source, decode=decoder.decode, handle=handle, commit=commit, policy=policy,
                  model=model, marks=marks)
