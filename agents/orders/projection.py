"""Pure order projection: (view before, event) -> outcome.  No Faust, no Kafka.

The agent calls ``apply_order`` for each decoded event and then writes the
outcome's view to the orders table and sends its deltas.  Each record is
judged once (the platform never hands over a record already in the state), so
three outcomes:

* ``applied``: a new view and the deltas it causes;
* ``duplicate``: the same event id arrived again (a producer retry, a redrive,
  a re-send): ignored, nothing sent;
* ``rejected``: the lifecycle does not allow this transition, or a payment or
  refund names a currency other than the order's: counted, logged, not
  applied.  An order's amounts (its total, ``paid_minor``, ``refunded_minor``,
  the customer's lifetime value it adds to) are all in the order's currency.

The view shows what the events say: ``placed_at`` is the OrderPlaced event's
own ``placed_at``, ``updated_at`` the time the last applied event carries
(``authorized_at``, ``shipped_at``...), revenue is counted in the hour the
payment or refund event names, in its currency (the order's).  The
envelope's ``occurred_at`` is when the record was sent, which a producer, a
redrive or a backfill makes later than the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from agents.orders.deltas import CustomerDelta, SkuDelta, StatsDelta
from agents.orders.state_machine import next_status
from agents.orders.view import HistoryEntry, Item, OrderView
from streams.position import Position

__all__ = ["EVENT_TIME_FIELDS", "EventMeta", "OrderOutcome", "apply_order", "deltas_for", "event_time"]

Kind = Literal["applied", "duplicate", "rejected"]

EVENT_TIME_FIELDS: dict[str, str] = {
    "OrderPlaced": "placed_at",
    "PaymentAuthorized": "authorized_at",
    "PaymentFailed": "failed_at",
    "InventoryReserved": "reserved_at",
    "InventoryReservationFailed": "failed_at",
    "OrderShipped": "shipped_at",
    "OrderCompleted": "completed_at",
    "OrderCancelled": "cancelled_at",
    "PaymentRefunded": "refunded_at",
    "InventoryReleased": "released_at",
    "ShipmentCreated": "created_at",
    "ShipmentFailed": "failed_at",
    "OrderFailed": "failed_at",
}
"""The field of each event type that says when the fact happened."""

_MONEY_EVENTS = ("PaymentAuthorized", "PaymentRefunded")
"""Event types that move money on an order: their currency must be the order's."""


def event_time(event: Any, event_type: str) -> datetime:
    """When the event says it happened (its own ``*_at`` field, not the time it was sent)."""
    moment: datetime = getattr(event, EVENT_TIME_FIELDS[event_type])
    return moment


@dataclass(frozen=True)
class EventMeta:
    """What the envelope and Kafka say about an event, beside its payload."""

    event_id: str
    event_type: str
    position: Position
    occurred_at: datetime  # when the record was sent (the envelope's header), not when the fact happened


@dataclass(frozen=True)
class OrderOutcome:
    kind: Kind
    view: OrderView | None
    customers: list[CustomerDelta] = field(default_factory=list)
    skus: list[SkuDelta] = field(default_factory=list)
    stats: list[StatsDelta] = field(default_factory=list)
    reason: str | None = None


def apply_order(view: OrderView | None, event: Any, meta: EventMeta) -> OrderOutcome:
    """Apply one order event (a typed model with ``order_id``) to the order's view."""
    if view is not None and any(entry["event_id"] == meta.event_id for entry in view["history"]):
        return OrderOutcome("duplicate", view)
    current = view["status"] if view is not None else None
    target = next_status(current, meta.event_type)
    if target is None:
        return OrderOutcome("rejected", view,
                            reason=f"{meta.event_type} not allowed in status {current or 'none'}")
    if view is not None and meta.event_type in _MONEY_EVENTS and event.currency != view["currency"]:
        return OrderOutcome("rejected", view,
                            reason=f"{meta.event_type} in {event.currency} for an order in {view['currency']}")
    entry = HistoryEntry(event_id=meta.event_id, event_type=meta.event_type, from_status=current,
                         to_status=target, partition=meta.position.partition, offset=meta.position.offset)
    new_view = _evolve(view, event, meta, target)
    new_view["history"] = [*new_view["history"], entry]
    return _with_deltas("applied", new_view, event, entry)


def _evolve(view: OrderView | None, event: Any, meta: EventMeta, status: str) -> OrderView:
    if view is None:
        items = [Item(sku=i.sku, quantity=int(i.quantity), unit_price_minor=int(i.unit_price_minor))
                 for i in event.items]
        new: OrderView = OrderView(
            order_id=event.order_id, customer_id=event.customer_id, status=status, items=items,
            total_minor=int(event.total_minor), currency=event.currency, paid_minor=0, refunded_minor=0,
            reserved=False, released=False, payment_id=None, tracking_number=None, carrier=None,
            reason=None, placed_at=_iso(event.placed_at), updated_at=None, history=[],
            applied={"topic": "", "partition": 0, "offset": -1},
        )
    else:
        new = OrderView(**view)  # shallow copy; lists are replaced, never mutated
    new["status"] = status
    kind = meta.event_type
    if kind == "PaymentAuthorized":
        new["paid_minor"] += int(event.amount_minor)
        new["payment_id"] = event.payment_id
    elif kind == "PaymentRefunded":
        new["refunded_minor"] += int(event.amount_minor)
    elif kind == "InventoryReserved":
        new["reserved"] = True
    elif kind == "InventoryReleased":
        new["released"] = True
    elif kind in ("OrderShipped", "ShipmentCreated"):
        new["tracking_number"] = event.tracking_number
        new["carrier"] = event.carrier
    elif kind in ("PaymentFailed", "InventoryReservationFailed", "ShipmentFailed", "OrderCancelled", "OrderFailed"):
        new["reason"] = event.reason
    new["updated_at"] = _iso(event_time(event, kind))
    new["applied"] = {"topic": meta.position.topic, "partition": meta.position.partition,
                      "offset": meta.position.offset}
    return new


def _with_deltas(kind: Kind, view: OrderView, event: Any, entry: HistoryEntry) -> OrderOutcome:
    customers, skus, stats = deltas_for(view, event, entry)
    return OrderOutcome(kind, view, customers, skus, stats)


def deltas_for(view: OrderView, event: Any,
               entry: HistoryEntry) -> tuple[list[CustomerDelta], list[SkuDelta], list[StatsDelta]]:
    """The deltas one history entry causes: a pure function of the view after it and the event."""
    kind = entry["event_type"]
    customers: list[CustomerDelta] = []
    skus: list[SkuDelta] = []
    revenue = 0
    currency = view["currency"]
    if kind == "OrderPlaced":
        customers.append(CustomerDelta(customer_id=view["customer_id"],
                                       order_id=view["order_id"], orders=1,
                                       value_minor=view["total_minor"], currency=view["currency"]))
    elif kind == "PaymentAuthorized":
        revenue, currency = int(event.amount_minor), event.currency
    elif kind == "PaymentRefunded":  # in the order's currency: apply_order rejects any other
        revenue, currency = -int(event.amount_minor), event.currency
        customers.append(CustomerDelta(customer_id=view["customer_id"],
                                       order_id=view["order_id"], orders=0,
                                       value_minor=-int(event.amount_minor), currency=view["currency"]))
    elif kind in ("InventoryReserved", "InventoryReleased"):
        reserved = kind == "InventoryReserved"
        skus = [SkuDelta(sku=item["sku"],
                         reserved=item["quantity"] if reserved else 0,
                         released=0 if reserved else item["quantity"]) for item in view["items"]]
    stats = [StatsDelta(from_status=entry["from_status"], to_status=entry["to_status"],
                        revenue_minor=revenue, currency=currency, hour=_hour(event_time(event, kind)))]
    return customers, skus, stats


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")
