"""The read-model tables: changelog-backed, RocksDB-stored, keyed by raw UTF-8 strings.

Keys use the ``raw`` serializer so a table key's bytes equal the source
record's key bytes: that is what makes Faust's table routing send a GET to the
worker that owns the key's partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.app import StreamsApp

__all__ = ["Tables", "declare_tables"]


@dataclass(frozen=True)
class Tables:
    orders: Any
    customers: Any
    inventory: Any
    stats: Any


def declare_tables(app: StreamsApp) -> Tables:
    partitions = app.streams_settings.topic_partitions

    def table(name: str, help_: str) -> Any:
        # key_serializer "raw" and value_serializer "json" are the app-wide defaults (streams.app)
        return app.Table(name, default=None, key_type=str, partitions=partitions, help=help_)

    return Tables(
        orders=table("orders", "order read model by order id"),
        customers=table("customers", "customer read model by customer id"),
        inventory=table("inventory", "stock read model by SKU"),
        stats=table("stats", "orders by status and revenue per hour"),
    )
