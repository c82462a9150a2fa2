"""The order itself: its lifecycle, the pure projection of its events, and the deltas it feeds."""

from agents.orders.projection import EventMeta, OrderOutcome, apply_order, deltas_for
from agents.orders.state_machine import STATUSES, TRANSITIONS, next_status
from agents.orders.view import OrderView

__all__ = ["STATUSES", "TRANSITIONS", "EventMeta", "OrderOutcome", "OrderView", "apply_order", "deltas_for",
           "next_status"]
