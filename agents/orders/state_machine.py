"""The order lifecycle as data: which event moves an order from which status to which.

``TRANSITIONS[event_type][from_status] = to_status``; ``None`` as the from-status
means "no order yet".  An event whose (type, status) pair is missing is a
transition the lifecycle does not allow: it is counted and logged, not applied.

    placed ─PaymentAuthorized→ paid ─InventoryReserved→ reserved ─OrderShipped→ shipped ─OrderCompleted→ completed
      │ PaymentFailed            │ InventoryReservationFailed
      ▼                          ▼
    payment_failed           reservation_failed
    any open status ─OrderCancelled→ cancelled ─PaymentRefunded/InventoryReleased→ cancelled (compensations)
"""

from __future__ import annotations

from typing import Final

__all__ = ["OPEN_STATUSES", "STATUSES", "TRANSITIONS", "next_status"]

STATUSES: Final = (
    "placed", "paid", "reserved", "shipped", "completed",
    "payment_failed", "reservation_failed", "cancelled",
)
OPEN_STATUSES: Final = ("placed", "paid", "reserved", "payment_failed", "reservation_failed")

TRANSITIONS: Final[dict[str, dict[str | None, str]]] = {
    "OrderPlaced": {None: "placed"},
    "PaymentAuthorized": {"placed": "paid"},
    "PaymentFailed": {"placed": "payment_failed"},
    "InventoryReserved": {"paid": "reserved"},
    "InventoryReservationFailed": {"paid": "reservation_failed"},
    "OrderShipped": {"reserved": "shipped"},
    "OrderCompleted": {"shipped": "completed"},
    "OrderCancelled": {status: "cancelled" for status in OPEN_STATUSES},
    # Compensations are recorded on a cancelled order; the status stays.
    "PaymentRefunded": {"cancelled": "cancelled"},
    "InventoryReleased": {"cancelled": "cancelled"},
}


def next_status(current: str | None, event_type: str) -> str | None:
    """The status after ``event_type``, or ``None`` when the lifecycle does not allow it."""
    return TRANSITIONS.get(event_type, {}).get(current)
