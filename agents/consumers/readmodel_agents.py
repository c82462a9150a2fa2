"""Agents that apply the order agent's deltas to the customer, inventory and stats tables.

Each is the same loop over a different pure ``apply`` function.  A record
carries the deltas bound for one partition (``streams.recordpath.batching``);
the platform hands over only those not applied before
(``streams.recordpath.inbox``), each is folded into its key's view in turn, and
each changed view is written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import STATS_KEY, apply_stats
from agents.tables import Tables
from streams.app import StreamsApp
from streams.freshness import Watermarks
from streams.recordpath.agent import admit, ticket_for
from streams.recordpath.batching import ITEMS
from streams.recordpath.inbox import DeltaInbox
from streams.replay import Generational

__all__ = ["register_readmodel_agents"]

Apply = Callable[[Any, Any], Any]


def register_readmodel_agents(app: StreamsApp, *, deltas: dict[str, Any], tables: Tables,
                              marks: Watermarks) -> dict[str, DeltaInbox]:
    """Registers the agents; returns each read model's inbox (what reads wait on for ``?after=``)."""
    specs: list[tuple[str, Generational, Apply, Callable[[Any], str]]] = [
        ("customers", tables.customers, apply_customer, lambda d: str(d["customer_id"])),
        ("inventory", tables.inventory, apply_sku, lambda d: str(d["sku"])),
        ("stats", tables.stats, apply_stats, lambda d: STATS_KEY),
    ]
    return {name: _register(app, name, deltas[name], table, apply, key_of, marks)
            for name, table, apply, key_of in specs}


def _register(app: StreamsApp, name: str, topic: Any, model: Generational, apply: Apply,
              key_of: Callable[[Any], str], marks: Watermarks) -> DeltaInbox:
    agent_name = f"{name}-projection"
    inbox = DeltaInbox(app, agent_name, topic.get_topic_name())
    applied = app.metrics.events.labels(agent_name, "delta", "applied")  # label lookups once, not per delta
    again = app.metrics.events.labels(agent_name, "delta", "already_processed")
    processing = app.metrics.processing_seconds.labels(agent_name)
    positions = app.positions

    async def project(stream: Any) -> None:
        async for event in stream.noack().events():
            started = time.perf_counter()
            message = event.message
            with ticket_for(app, event):  # acked once its table writes are durable
                if admit(app, event):
                    items = event.value[ITEMS]
                    fresh = inbox.fresh(message.partition, model.generation, items)
                    views: dict[str, Any] = {}
                    table = model.table
                    for delta in fresh:
                        key = key_of(delta)
                        views[key] = apply(views[key] if key in views else table.get(key), delta)
                    for key, view in views.items():  # one table write per key per record
                        table[key] = view
                    applied.inc(len(fresh))  # counted once per record, not per delta
                    again.inc(len(items) - len(fresh))
                    positions.done(message.topic, message.partition, message.offset)
                model.applied(message.partition, message.offset)
            marks.notify()  # wakes ?after= readers, who re-check the marks of the key's partition
            processing.observe(time.perf_counter() - started)

    app.agent(topic, name=agent_name)(project)
    return inbox
