"""What the order projection tells the other read models, keyed for repartitioning.

The customer, inventory and stats read models are keyed by customer id, SKU
and a single global key, not by order id, so the order agent sends them these
deltas through internal topics keyed by their own keys (the repartition
pattern).  The platform gives each delta its id (the order event's position and
its rank among that event's deltas) and hands each to its read model once
(``streams.recordpath.inbox``).
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["CustomerDelta", "SkuDelta", "StatsDelta"]


class CustomerDelta(TypedDict):
    customer_id: str
    order_id: str
    orders: int
    value_minor: int
    currency: str


class SkuDelta(TypedDict):
    sku: str
    reserved: int
    released: int


class StatsDelta(TypedDict):
    from_status: str | None
    to_status: str
    revenue_minor: int
    currency: str
    hour: str
