"""The read models' tables: changelog-backed, RocksDB-stored, keyed by strings, one per generation.

Keys and values are stored, and written to the changelogs, as Faust's tables
serialize them by default: JSON (the key ``o-1`` is ``"o-1"``).  A key lives
in the partition of the record that wrote it, which Kafka chose from the
record's raw key bytes; that is also how reads are routed to the worker that
owns a key (``agents.views``).  Each read model is a ``Generational``: normally one
table; during a blue/green rebuild (``streams replay --rebuild``), the old
generation serving and the new one being built (``streams.replay``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.topics import CUSTOMER_DELTAS, SKU_DELTAS, STATS_DELTAS, internal, orders_topic
from streams.app import StreamsApp
from streams.replay import Generational, declare_generations, rebuilding_topics
from streams.settings import Settings

__all__ = ["HELP", "Tables", "declare_tables", "read_models"]

HELP = {
    "orders": "order read model by order id",
    "customers": "customer read model by customer id",
    "inventory": "stock read model by SKU",
    "stats": "orders by status and revenue per hour",
}


@dataclass(frozen=True)
class Tables:
    orders: Generational
    customers: Generational
    inventory: Generational
    stats: Generational

    def all(self) -> list[Generational]:
        return [self.orders, self.customers, self.inventory, self.stats]


def read_models(settings: Settings) -> dict[str, str]:
    """Each read model and the topic it is built from (what ``streams replay --rebuild`` replays)."""
    return {
        "orders": orders_topic(settings),
        "customers": internal(settings, CUSTOMER_DELTAS),
        "inventory": internal(settings, SKU_DELTAS),
        "stats": internal(settings, STATS_DELTAS),
    }


def declare_tables(app: StreamsApp) -> Tables:
    settings = app.streams_settings

    def table(name: str, read_model: str) -> Any:
        # Faust's table defaults: JSON keys and values (the app-wide raw keys are for topics)
        return app.Table(name, default=None, key_type=str, partitions=settings.topic_partitions,
                         help=HELP[read_model])

    generations = declare_generations(settings, app.conf.id, read_models(settings), table)
    app.recovery.rebuilding.update(rebuilding_topics(generations))
    return Tables(**generations)
