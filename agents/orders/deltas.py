"""What the order projection tells the other read models, keyed for repartitioning.

The customer, inventory and stats read models are keyed by customer id, SKU
and a single global key, not by order id, so the order agent sends them these
deltas through internal topics keyed by their own keys (the repartition
pattern).  Every delta carries the source position of the order event; the
receiving read model skips a delta at or below the position it already
applied for that source partition, so a replayed event never counts twice.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["CustomerDelta", "SkuDelta", "Source", "StatsDelta"]


class Source(TypedDict):
    topic: str
    partition: int
    offset: int
    event_id: str


class CustomerDelta(TypedDict):
    source: Source
    customer_id: str
    order_id: str
    orders: int
    value_minor: int
    currency: str


class SkuDelta(TypedDict):
    source: Source
    sku: str
    reserved: int
    released: int


class StatsDelta(TypedDict):
    source: Source
    from_status: str | None
    to_status: str
    revenue_minor: int
    currency: str
    hour: str
