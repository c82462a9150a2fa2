"""The customer, inventory and stats read models: the order agent's deltas folded into each key's view.

Each is the platform's delta agent (``streams.recordpath.inbox.delta_agent``: each
delta handed over once, one table write per key per record) over a pure fold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import STATS_KEY, apply_stats
from agents.tables import Tables
from streams.app import StreamsApp
from streams.freshness import Watermarks
from streams.recordpath.inbox import DeltaInbox, delta_agent

__all__ = ["register_readmodel_agents"]


def register_readmodel_agents(app: StreamsApp, *, deltas: dict[str, Any], tables: Tables,
                              marks: Watermarks) -> dict[str, DeltaInbox]:
    """Registers the agents; returns each read model's inbox (what reads wait on for ``?after=``)."""
    specs: list[tuple[str, Any, Callable[[Any, Any], Any], Callable[[Any], str]]] = [
        ("customers", tables.customers, apply_customer, lambda d: str(d["customer_id"])),
        ("inventory", tables.inventory, apply_sku, lambda d: str(d["sku"])),
        ("stats", tables.stats, apply_stats, lambda d: STATS_KEY),
    ]
    return {name: delta_agent(app, name=f"{name}-projection", topic=deltas[name], model=model, fold=fold,
                              key_of=key_of, marks=marks)
            for name, model, fold, key_of in specs}
