"""Typed order events, one pydantic model per schemas/*.avsc (a unit test proves they agree).

Money is integer minor units with an ISO 4217 currency; times are aware UTC
datetimes (Avro timestamp-millis).  Models are frozen: an event is a fact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "InventoryReleased",
    "InventoryReservationFailed",
    "InventoryReserved",
    "OrderCancelled",
    "OrderCompleted",
    "OrderEvent",
    "OrderItem",
    "OrderPlaced",
    "OrderShipped",
    "PaymentAuthorized",
    "PaymentFailed",
    "PaymentRefunded",
]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("must have a time zone (use UTC, e.g. 2026-01-01T10:00:00Z)")
    return moment.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_utc)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Minor = Annotated[int, Field(ge=0, le=10**15)]
Text = Annotated[str, Field(min_length=1, max_length=1000)]


class OrderEvent(BaseModel):
    """Fields every order event has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: Id


class OrderItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Id
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price_minor: Minor


class OrderPlaced(OrderEvent):
    customer_id: Id
    items: list[OrderItem] = Field(min_length=1, max_length=1000)
    total_minor: Minor
    currency: Currency
    placed_at: UtcTime
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
    authorized_at: UtcTime


class PaymentFailed(OrderEvent):
    reason: Text
    failed_at: UtcTime


class InventoryReserved(OrderEvent):
    reservation_id: Id
    reserved_at: UtcTime


class InventoryReservationFailed(OrderEvent):
    reason: Text
    failed_at: UtcTime


class OrderShipped(OrderEvent):
    carrier: Id
    tracking_number: Id
    shipped_at: UtcTime


class OrderCompleted(OrderEvent):
    completed_at: UtcTime


class OrderCancelled(OrderEvent):
    reason: Text
    cancelled_at: UtcTime


class PaymentRefunded(OrderEvent):
    payment_id: Id
    amount_minor: Minor
    currency: Currency
    refunded_at: UtcTime


class InventoryReleased(OrderEvent):
    reservation_id: Id
    released_at: UtcTime
