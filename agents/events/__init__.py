"""Order events: typed models, their Avro schemas and validation."""

from agents.events.catalog import MODELS, EventCatalog, default_schemas_dir, field_errors
from agents.events.models import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    OrderCompleted,
    OrderEvent,
    OrderItem,
    OrderPlaced,
    OrderShipped,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
)

__all__ = [
    "MODELS", "EventCatalog", "InventoryReleased", "InventoryReservationFailed", "InventoryReserved",
    "OrderCancelled", "OrderCompleted", "OrderEvent", "OrderItem", "OrderPlaced", "OrderShipped",
    "PaymentAuthorized", "PaymentFailed", "PaymentRefunded", "default_schemas_dir", "field_errors",
]
