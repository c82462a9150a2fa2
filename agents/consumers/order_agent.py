"""The orders agent: decode, ``apply_order``, pick fan-out; then write the order table and send.

Thin by design.  ``decode`` turns the record into an event; ``handle`` (may
fail, no side effects, so it can be retried) runs the pure projection and
builds the fan-out records;
``commit`` writes the order view and sends the deltas and fan-out records.
Dead letters, parking, retries and the breaker are the platform's
(``streams.recordpath.processing``); every decision about orders is in
``agents.orders.projection`` and ``agents.fanout``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agents.decoding import DecodedEvent, OrderEventDecoder
from agents.orders.projection import OrderOutcome, apply_order
from agents.readmodels.stats import STATS_KEY
from agents.tables import Tables
from streams.app import StreamsApp
from streams.freshness import Watermarks
from streams.recordpath.agent import guarded_agent, outbox, repartition
from streams.recordpath.processing import ProcessingPolicy
from streams.recordpath.records import RawRecord
from streams.routing import Fanout, Output
from streams.tracing import ATTR

__all__ = ["AGENT", "register_order_agent"]

log = logging.getLogger(__name__)

AGENT = "orders-projection"


@dataclass(frozen=True, slots=True)
class Prepared:
    decoded: DecodedEvent
    outcome: OrderOutcome
    fanout: list[Output]

    def span_attributes(self) -> dict[str, str]:
        """What the trace's ``handle`` span says (``streams.tracing.Traced``)."""
        return {ATTR.EVENT_TYPE: self.decoded.meta.event_type, ATTR.OUTCOME: self.outcome.kind}


def register_order_agent(app: StreamsApp, *, source: str, tables: Tables, deltas: dict[str, Any],
                         decoder: OrderEventDecoder, fanout: Fanout, marks: Watermarks,
                         policy: ProcessingPolicy) -> None:
    metrics = app.metrics
    orders = tables.orders  # the order read model, across rebuild generations
    customers, skus, stats = (deltas[name].get_topic_name() for name in ("customers", "inventory", "stats"))
    fanned: dict[tuple[str, str], Any] = {}
    counted: dict[tuple[str, str], Any] = {}

    async def handle(record: RawRecord, decoded: DecodedEvent) -> Prepared:
        outcome = apply_order(orders.table.get(decoded.event.order_id), decoded.event, decoded.meta)
        outputs: list[Output] = []
        # A duplicate went out the first time; a rejected event only by rules that take every event.
        if outcome.kind != "duplicate":
            outputs = await fanout.outputs(decoded.meta.event_type, decoded.fields, key=record.key,
                                           value=record.value or b"", envelope=decoded.envelope,
                                           accepted=outcome.kind != "rejected")
        return Prepared(decoded, outcome, outputs)

    def commit(record: RawRecord, prepared: Prepared) -> None:
        meta, outcome = prepared.decoded.meta, prepared.outcome
        if outcome.kind == "applied":
            orders.table[prepared.decoded.event.order_id] = outcome.view
        if outcome.kind == "rejected":
            current = outcome.view["status"] if outcome.view else "none"
            metrics.rejected_transitions.labels("orders", meta.event_type, current).inc()
            log.warning("rejected %s for order %s (event_id=%s): %s", meta.event_type,
                        prepared.decoded.event.order_id, meta.event_id, outcome.reason)
        batcher, box = repartition(app), outbox(app)
        for delta in outcome.customers:
            batcher.add(customers, delta["customer_id"], delta)
        for sku in outcome.skus:
            batcher.add(skus, sku["sku"], sku)
        for stat in outcome.stats:
            batcher.add(stats, STATS_KEY, stat)
        for out in prepared.fanout:
            if not box.send(out.topic, out.key, out.value, out.headers):
                continue  # not sent again (a rebuild): not counted again
            counter = fanned.get((out.rule, out.topic))
            if counter is None:
                counter = fanned[(out.rule, out.topic)] = metrics.fanout.labels(out.rule, out.topic)
            counter.inc()
        counter = counted.get((meta.event_type, outcome.kind))
        if counter is None:  # label lookups once per (type, outcome), not per event
            counter = counted[(meta.event_type, outcome.kind)] = metrics.events.labels(AGENT, meta.event_type,
                                                                                       outcome.kind)
        counter.inc()

    guarded_agent(app, name=AGENT, source=source, decode=decoder.decode, handle=handle, commit=commit, policy=policy,
                  model=orders, marks=marks)
