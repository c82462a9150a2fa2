"""Agents that apply the order agent's deltas to the customer, inventory and stats tables.

Each is the same loop over a different pure ``apply`` function.  A record
carries the deltas bound for one partition (``streams.batching``): each is
applied in turn to its key's view (``None`` back means already applied), and
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
from streams.agent import ticket_for
from streams.app import StreamsApp
from streams.batching import ITEMS
from streams.freshness import Watermarks
from streams.replay import Generational

__all__ = ["register_readmodel_agents"]

Apply = Callable[[Any, Any], Any]


def register_readmodel_agents(app: StreamsApp, *, deltas: dict[str, Any], tables: Tables,
                              marks: Watermarks) -> None:
    specs: list[tuple[str, Generational, Apply, Callable[[Any], str]]] = [
        ("customers", tables.customers, apply_customer, lambda d: str(d["customer_id"])),
        ("inventory", tables.inventory, apply_sku, lambda d: str(d["sku"])),
        ("stats", tables.stats, apply_stats, lambda d: STATS_KEY),
    ]
    for name, table, apply, key_of in specs:
        _register(app, name, deltas[name], table, apply, key_of, marks)


def _register(app: StreamsApp, name: str, topic: Any, model: Generational, apply: Apply,
              key_of: Callable[[Any], str], marks: Watermarks) -> None:
    agent_name = f"{name}-projection"
    applied = app.metrics.events.labels(agent_name, "delta", "applied")  # label lookups once, not per delta
    replayed = app.metrics.events.labels(agent_name, "delta", "replayed")
    processing = app.metrics.processing_seconds.labels(agent_name)

    async def project(stream: Any) -> None:
        async for event in stream.noack().events():
            started = time.perf_counter()
            with ticket_for(app, event):  # acked once its table writes are durable
                views: dict[str, Any] = {}
                table = model.table
                items = event.value[ITEMS]
                again = 0
                for delta in items:  # a record carries many deltas, each with its source position
                    key = key_of(delta)
                    current = views[key] if key in views else table.get(key)
                    view = apply(current, delta)
                    if view is not None:
                        views[key] = view
                    else:  # applied before a crash: written again, in case its changelog record never went out
                        if current is not None:
                            views[key] = current
                        again += 1
                for key, view in views.items():  # one table write per key per record
                    table[key] = view
                applied.inc(len(items) - again)  # counted once per record, not per delta
                replayed.inc(again)
                model.applied(event.message.partition, event.message.offset)
            marks.notify()  # wakes ?after= readers, who re-check the key's own applied positions
            processing.observe(time.perf_counter() - started)

    app.agent(topic, name=agent_name)(project)
