"""The thirteen order event types: Avro name -> pydantic model and .avsc file.

``EVENT_TYPES`` answers both the short name (``OrderPlaced``, what clients and
headers use) and the Avro full name (``com.acme.orders.OrderPlaced``, what the
writer schema says).  The list is data: one model per event type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from agents.events import models as m
from streams.errors import ValidationError

__all__ = ["EVENT_TYPES", "NAMESPACE", "EventType", "default_schemas_dir", "event_type"]

NAMESPACE = "com.acme.orders"


def default_schemas_dir() -> Path:
    """``schemas/`` of the source tree (editable installs, tests), else ``./schemas``."""
    repo = Path(__file__).resolve().parents[2] / "schemas"
    return repo if repo.is_dir() else Path("schemas")


@dataclass(frozen=True)
class EventType:
    """One event type: its model; its Avro name and .avsc file are the model's class name."""

    model: type[m.OrderEvent]

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def avsc(self) -> str:
        return f"{self.name}.avsc"

    @property
    def full_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    def avsc_path(self, directory: Path | None = None) -> Path:
        """The .avsc file in ``directory`` (default: the repo's ``schemas/``)."""
        return (directory or default_schemas_dir()) / self.avsc


_TYPES = tuple(EventType(model) for model in (
    m.OrderPlaced, m.PaymentAuthorized, m.PaymentFailed, m.InventoryReserved, m.InventoryReservationFailed,
    m.OrderShipped, m.OrderCompleted, m.OrderCancelled, m.PaymentRefunded, m.InventoryReleased,
    m.ShipmentCreated, m.ShipmentFailed, m.OrderFailed,
))

EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(
    {**{t.name: t for t in _TYPES}, **{t.full_name: t for t in _TYPES}})
"""Every event type by short name and by Avro full name."""


def event_type(name: str) -> EventType:
    """The event type called ``name`` (short or full); ``ValidationError`` if there is none."""
    found = EVENT_TYPES.get(name)
    if found is None:
        known = ", ".join(t.name for t in _TYPES)
        raise ValidationError(f"unknown event type {name!r}; known: {known}",
                              details=[{"field": "type", "message": f"unknown event type; known: {known}"}])
    return found
