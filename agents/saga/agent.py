"""The saga agent: decode an inbox record, ``advance`` the order's saga, then write its state and send.

Thin, like the orders agent: ``handle`` runs the pure step function (``agents.saga.steps``) against the saga's
state and encodes the commands and events it decided (may fail, no side effects: it can be retried); ``commit``
writes the state and the deadline, and sends the records through the app's outbox, so a saga's state, its commands
and its events are durable before the inbox record is acknowledged.  After a crash the record is judged again
against the same state and gives the same records with the same ids: services deduplicate commands by command id,
``orders`` deduplicates events by event id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.events import EventCatalog
from agents.saga.deadlines import DeadlineIndex
from agents.saga.inbox import SagaInbox
from agents.saga.metrics import SagaMetrics
from agents.saga.state import Command, Decision, Emitted, SagaInput
from agents.saga.steps import SagaPolicy, advance
from streams.app import StreamsApp
from streams.avro import AvroCodec, AvroSchema
from streams.envelope import Envelope
from streams.freshness import Watermarks
from streams.recordpath.agent import guarded_agent, outbox
from streams.recordpath.processing import ProcessingPolicy
from streams.recordpath.records import RawRecord
from streams.replay import Generational
from streams.tracing import ATTR

__all__ = ["SAGA_AGENT", "SagaTables", "register_saga_agent"]

log = logging.getLogger(__name__)

SAGA_AGENT = "order-saga"

Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers


@dataclass(frozen=True)
class SagaTables:
    sagas: Generational  # the saga of each order: what GET /sagas/{order_id} shows
    deadlines: Any  # the Faust table of running sagas' deadlines: the truth, loaded into ``index`` at each rebalance
    index: DeadlineIndex  # the same rows in memory, by deadline: what the timer loop reads


@dataclass(frozen=True, slots=True)
class Prepared:
    order_id: str
    decision: Decision
    records: list[Record]

    def span_attributes(self) -> dict[str, str]:
        """What the trace's ``handle`` span says (``streams.tracing.Traced``)."""
        status = self.decision.state["status"] if self.decision.state is not None else "unchanged"
        return {ATTR.EVENT_TYPE: "saga", ATTR.OUTCOME: status}


def declare_saga_tables(app: StreamsApp, inbox_topic: str) -> SagaTables:
    partitions = app.streams_settings.topic_partitions
    sagas = app.Table("sagas", default=None, key_type=str, partitions=partitions, help="order sagas by order id")
    deadlines = app.Table("saga-deadlines", default=None, key_type=str, partitions=partitions,
                          help="the step, attempt and deadline of each saga waiting for a service")
    return SagaTables(Generational("sagas", inbox_topic, current=sagas, generation=0, partitions=partitions),
                      deadlines, DeadlineIndex())


def register_saga_agent(app: StreamsApp, *, inbox_topic: str, inbox: SagaInbox, policy: SagaPolicy,
                        catalog: EventCatalog, commands: Mapping[str, AvroSchema], codec: AvroCodec,
                        topic: Callable[[str], str], orders: str, processing: ProcessingPolicy,
                        marks: Watermarks) -> SagaTables:
    """``topic`` maps a service (payments, inventory, shipping) to its topic; ``orders`` is where the saga's own
    events go.  Returns the tables, for the views and the timer loop."""
    tables = declare_saga_tables(app, inbox_topic)
    sagas, deadlines, index = tables.sagas.table, tables.deadlines, tables.index
    metrics = SagaMetrics(app.metrics.registry, running=lambda: float(len(index)))  # the index's rows: no table scan
    producer = f"{app.streams_settings.producer_name}/saga"

    async def encode_command(command: Command, correlation_id: str, now: datetime) -> Record:
        target = topic(command.service)
        value = await codec.encode_async(target, commands[command.name], command.fields)
        envelope = Envelope(event_id=command.command_id, event_type=command.name, correlation_id=correlation_id,
                            causation_id=command.causation_id, occurred_at=now, producer=producer)
        key = command.fields.get("warehouse") or command.fields["order_id"]  # inventory: one owner per warehouse
        return target, str(key).encode(), value, envelope.to_headers()

    async def encode_event(event: Emitted, correlation_id: str, now: datetime) -> Record:
        value = await codec.encode_async(orders, catalog.schema(event.name), event.fields)
        envelope = Envelope(event_id=event.event_id, event_type=event.name, correlation_id=correlation_id,
                            causation_id=event.causation_id, occurred_at=now, producer=producer)
        return orders, event.fields["order_id"].encode(), value, envelope.to_headers()

    async def handle(record: RawRecord, decoded: tuple[str, SagaInput]) -> Prepared:
        order_id, message = decoded
        now = datetime.now(UTC)
        decision = advance(sagas.get(order_id), message, now, policy)
        records: list[Record] = []
        if decision.state is not None:
            correlation = decision.state["correlation_id"]
            records += [await encode_command(c, correlation, now) for c in decision.commands]
            records += [await encode_event(e, correlation, now) for e in decision.events]
        return Prepared(order_id, decision, records)

    def commit(record: RawRecord, prepared: Prepared) -> None:
        state, order_id = prepared.decision.state, prepared.order_id
        if state is not None:
            sagas[order_id] = state
            if state["status"] == "running" and state["deadline"] is not None:
                row = {"step": state["step"], "attempt": state["attempt"], "deadline": state["deadline"]}
                deadlines[order_id] = row
                index.set(order_id, row)
            elif deadlines.get(order_id) is not None:
                del deadlines[order_id]
                index.set(order_id, None)
            if state["status"] == "stuck":
                log.warning("saga of order %s is stuck: %s (POST /sagas/%s/retry sends it again)", order_id,
                            state["reason"], order_id)
        box = outbox(app)
        for target, key, value, headers in prepared.records:
            box.send(target, key, value, headers)
        metrics.count(prepared.decision)

    guarded_agent(app, name=SAGA_AGENT, source=inbox_topic, decode=inbox.decode, handle=handle, commit=commit,
                  policy=processing, model=tables.sagas, marks=marks)
    return tables
