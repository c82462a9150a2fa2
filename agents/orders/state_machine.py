"""The order lifecycle as data: which event moves an order from which status to which.

``TRANSITIONS[event_type][from_status] = to_status``; ``None`` as the from-status
means "no order yet".  An event whose (type, status) pair is missing is a
transition the lifecycle does not allow: it is counted and logged, not applied.

    placed ─PaymentAuthorized→ paid ─InventoryReserved→ reserved ─ShipmentCreated/OrderShipped→ shipped
      │ PaymentFailed            │ InventoryReservationFailed   │ ShipmentFailed                  │ OrderCompleted
      ▼                          ▼                              ▼                                 ▼
    payment_failed           reservation_failed             shipment_failed                   completed
    any open status ─OrderCancelled→ cancelled
    placed, paid, reserved and the three *_failed ─OrderFailed→ failed
    cancelled, failed, reservation_failed, shipment_failed ─PaymentRefunded/InventoryReleased→ (same status)

The order saga drives an order through payment, stock and shipping; when a step
fails it undoes the earlier ones (refund, release) and then sends OrderFailed,
so the compensations arrive while the order is still in its ``*_failed``
status, or after it is failed for good; a saga that gives up on a step that
did not answer sends OrderFailed from the step's open status.  ShipmentCreated
is the shipping service's reply to the saga; OrderShipped stays for producers
that report shipping themselves.
"""

from __future__ import annotations

from typing import Final

__all__ = ["OPEN_STATUSES", "STATUSES", "TRANSITIONS", "next_status"]

STATUSES: Final = (
    "placed", "paid", "reserved", "shipped", "completed",
    "payment_failed", "reservation_failed", "shipment_failed", "cancelled", "failed",
)
OPEN_STATUSES: Final = ("placed", "paid", "reserved", "payment_failed", "reservation_failed", "shipment_failed")
"""Statuses an order can still leave by cancellation; shipped, completed, cancelled and failed cannot."""

_COMPENSABLE: Final = ("cancelled", "failed", "reservation_failed", "shipment_failed")
"""Statuses a refund or a release is recorded in: the order was cancelled, or the saga undoes a failed order."""

TRANSITIONS: Final[dict[str, dict[str | None, str]]] = {
    "OrderPlaced": {None: "placed"},
    "PaymentAuthorized": {"placed": "paid"},
    "PaymentFailed": {"placed": "payment_failed"},
    "InventoryReserved": {"paid": "reserved"},
    "InventoryReservationFailed": {"paid": "reservation_failed"},
    "OrderShipped": {"reserved": "shipped"},
    "ShipmentCreated": {"reserved": "shipped"},
    "ShipmentFailed": {"reserved": "shipment_failed"},
    "OrderCompleted": {"shipped": "completed"},
    "OrderCancelled": {status: "cancelled" for status in OPEN_STATUSES},
    "OrderFailed": {status: "failed" for status in (
        "placed", "paid", "reserved", "payment_failed", "reservation_failed", "shipment_failed")},
    # Compensations are recorded on a cancelled or failing order; the status stays.
    "PaymentRefunded": {status: status for status in _COMPENSABLE},
    "InventoryReleased": {status: status for status in _COMPENSABLE},
}


def next_status(current: str | None, event_type: str) -> str | None:
    """The status after ``event_type``, or ``None`` when the lifecycle does not allow it."""
    return TRANSITIONS.get(event_type, {}).get(current)
