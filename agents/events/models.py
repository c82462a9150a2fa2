"""Typed order events, one frozen pydantic model per schemas/*.avsc (a unit test proves they agree).

Money is integer minor units (Avro ``long``, strict: a float is refused, never
rounded) with an ISO 4217 currency code; times are aware UTC datetimes cut to
the millisecond, as Avro ``timestamp-millis`` keeps them, so an event read
back from Kafka equals the event written.  An event is a fact: models are
frozen and refuse unknown fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator

from streams.envelope import utc_millis

__all__ = [
    "AVRO_INT_MAX",
    "MAX_MINOR",
    "InventoryReleased",
    "InventoryReservationFailed",
    "InventoryReserved",
    "OrderCancelled",
    "OrderCompleted",
    "OrderEvent",
    "OrderFailed",
    "OrderItem",
    "OrderPlaced",
    "OrderShipped",
    "PaymentAuthorized",
    "PaymentFailed",
    "PaymentRefunded",
    "ShipmentCreated",
    "ShipmentFailed",
]

AVRO_INT_MAX = 2**31 - 1
MAX_MINOR = 10**15  # far inside Avro long; a total of many such lines still fits


def _utc_millis(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("must have a time zone (use UTC, e.g. 2026-01-01T10:00:00Z)")
    return utc_millis(moment)


UtcMillis = Annotated[datetime, AfterValidator(_utc_millis)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Minor = Annotated[int, Strict(), Field(ge=0, le=MAX_MINOR)]
Quantity = Annotated[int, Strict(), Field(ge=1, le=1_000_000)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]


class OrderEvent(BaseModel):
    """Fields every order event has; the base of the thirteen event models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: Id


class OrderItem(BaseModel):
    """One line of an order (the ``com.acme.orders.OrderItem`` record inside OrderPlaced)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Id
    quantity: Quantity
    unit_price_minor: Minor


class OrderPlaced(OrderEvent):
    customer_id: Id
    items: list[OrderItem] = Field(min_length=1, max_length=1000)
    total_minor: Minor
    currency: Currency
    placed_at: UtcMillis
    channel: str | None = None

    @model_validator(mode="after")
    def _total_matches_items(self) -> OrderPlaced:
        expected = sum(item.quantity * item.unit_price_minor for item in self.items)
        if self.total_minor != expected:
            raise ValueError(f"total_minor {self.total_minor} != sum of items {expected}")
        return self


class PaymentAuthorized(OrderEvent):
    payment_id: Id
    amount_minor: Minor
    currency: Currency
    authorized_at: UtcMillis


class PaymentFailed(OrderEvent):
    reason: Reason
    failed_at: UtcMillis


class InventoryReserved(OrderEvent):
    reservation_id: Id
    reserved_at: UtcMillis


class InventoryReservationFailed(OrderEvent):
    reason: Reason
    failed_at: UtcMillis


class OrderShipped(OrderEvent):
    carrier: Id
    tracking_number: Id
    shipped_at: UtcMillis


class OrderCompleted(OrderEvent):
    completed_at: UtcMillis


class OrderCancelled(OrderEvent):
    reason: Reason
    cancelled_at: UtcMillis


class PaymentRefunded(OrderEvent):
    payment_id: Id
    amount_minor: Minor
    currency: Currency
    refunded_at: UtcMillis


class InventoryReleased(OrderEvent):
    reservation_id: Id
    released_at: UtcMillis


class ShipmentCreated(OrderEvent):
    shipment_id: Id
    carrier: Id
    tracking_number: Id
    created_at: UtcMillis


class ShipmentFailed(OrderEvent):
    reason: Reason
    failed_at: UtcMillis


class OrderFailed(OrderEvent):
    reason: Reason
    failed_at: UtcMillis
