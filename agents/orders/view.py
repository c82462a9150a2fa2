"""The order read model as stored in its table: a JSON-able dict with a typed shape.

``applied`` is the source position of the last event applied; ``history``
lists every event applied with its position, which makes the event ids applied
visible (an event id seen again is a duplicate).
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["Applied", "HistoryEntry", "Item", "OrderView"]


class Item(TypedDict):
    sku: str
    quantity: int
    unit_price_minor: int


class HistoryEntry(TypedDict):
    event_id: str
    event_type: str
    from_status: str | None
    to_status: str
    partition: int
    offset: int


class Applied(TypedDict):
    topic: str
    partition: int
    offset: int


class OrderView(TypedDict):
    order_id: str
    customer_id: str
    status: str
    items: list[Item]
    total_minor: int
    currency: str
    paid_minor: int
    refunded_minor: int
    reserved: bool
    released: bool
    payment_id: str | None
    tracking_number: str | None
    carrier: str | None
    reason: str | None
    placed_at: str | None
    updated_at: str | None
    history: list[HistoryEntry]
    applied: Applied
