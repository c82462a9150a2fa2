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
    cancelled, failed, payment_failed ─PaymentAuthorized→ (same status: a late payment, refunded next)
    cancelled, failed, reservation_failed ─InventoryReserved→ (same status: a late reservation, released next)

The order saga drives an order through payment, stock and shipping; when a step
fails it undoes the earlier ones (refund, release) and then sends OrderFailed,
so the compensations arrive while the order is still in its ``*_failed``
status, or after it is failed for good; a saga that gives up on a step that
did not answer sends OrderFailed from the step's open status.  A payment or a
reservation that answers after its step gave up (or after a cancellation) still
happened: it is recorded, status kept, so that the refund or release the saga
sends for it balances it in the read models (paid and refunded, revenue,
reserved and released stock).  ShipmentCreated
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

_LATE_PAYMENT: Final = ("cancelled", "failed", "payment_failed")
_LATE_RESERVATION: Final = ("cancelled", "failed", "reservation_failed")
"""Statuses a late payment or reservation is recorded in (status kept): the saga undoes it next."""

TRANSITIONS: Final[dict[str, dict[str | None, str]]] = {
    "OrderPlaced": {None: "placed"},
    "PaymentAuthorized": {"placed": "paid", **{status: status for status in _LATE_PAYMENT}},
    "PaymentFailed": {"placed": "payment_failed"},
    "InventoryReserved": {"paid": "reserved", **{status: status for status in _LATE_RESERVATION}},
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
