"""Agents that apply the order agent's deltas to the customer, inventory and stats tables.

Each is the same loop over a different pure ``apply`` function: read the view,
apply the delta (``None`` back means already applied), write the view.
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
        manual = stream.noack()  # acked once applied: an exception leaves the delta uncommitted
        async for event in manual.events():
            started = time.perf_counter()
            delta = event.value
            key = key_of(delta)
            table = model.table
            view = apply(table.get(key), delta)
            if view is not None:
                table[key] = view
            model.applied(event.message.partition, event.message.offset)
            marks.notify()  # wakes ?after= readers, who re-check the key's own applied positions
            (applied if view is not None else replayed).inc()
            await manual.ack(event)
            processing.observe(time.perf_counter() - started)

    app.agent(topic, name=agent_name)(project)
