"""Customer read model: the orders a customer placed, how many, and their lifetime value."""

from __future__ import annotations

from typing import TypedDict

from agents.orders.deltas import CustomerDelta

__all__ = ["CustomerView", "apply_customer"]

MAX_ORDER_IDS = 1000  # newest ids kept in the view; the count stays exact


class CustomerView(TypedDict):
    customer_id: str
    order_ids: list[str]
    order_count: int
    lifetime_value_minor: dict[str, int]


def apply_customer(view: CustomerView | None, delta: CustomerDelta) -> CustomerView:
    """The view after the delta (each delta is handed over once: ``streams.recordpath.inbox``)."""
    if view is None:
        view = CustomerView(customer_id=delta["customer_id"], order_ids=[], order_count=0,
                            lifetime_value_minor={})
    order_ids = view["order_ids"]
    if delta["orders"] and delta["order_id"] not in order_ids:
        order_ids = [*order_ids, delta["order_id"]][-MAX_ORDER_IDS:]
    value = dict(view["lifetime_value_minor"])
    value[delta["currency"]] = value.get(delta["currency"], 0) + delta["value_minor"]
    return CustomerView(
        customer_id=view["customer_id"], order_ids=order_ids,
        order_count=view["order_count"] + delta["orders"], lifetime_value_minor=value,
    )
