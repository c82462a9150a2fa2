"""Order events: typed models, their Avro schemas, conversions and validation."""

from agents.events.catalog import MODELS, EventCatalog
from agents.events.convert import field_errors, from_avro, parse, to_avro
from agents.events.models import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    OrderCompleted,
    OrderEvent,
    OrderFailed,
    OrderItem,
    OrderPlaced,
    OrderShipped,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
    ShipmentCreated,
    ShipmentFailed,
)
from agents.events.types import EVENT_TYPES, NAMESPACE, EventType, default_schemas_dir, event_type

__all__ = [
    "EVENT_TYPES",
    "MODELS",
    "NAMESPACE",
    "EventCatalog",
    "EventType",
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
    "default_schemas_dir",
    "event_type",
    "field_errors",
    "from_avro",
    "parse",
    "to_avro",
]
