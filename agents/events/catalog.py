"""The order event catalog: type name -> model and .avsc, validation with field-level errors.

Data, not code paths: ``MODELS`` lists the event types; their schemas come from
``schemas/`` (``STREAMS_SCHEMAS_DIR``), matched by record name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from agents.events import models as m
from streams.avro import AvroSchema, load_schemas
from streams.errors import ConfigError, ValidationError

__all__ = ["MODELS", "EventCatalog", "default_schemas_dir", "field_errors"]

MODELS: dict[str, type[m.OrderEvent]] = {
    model.__name__: model for model in (
        m.OrderPlaced, m.PaymentAuthorized, m.PaymentFailed, m.InventoryReserved, m.InventoryReservationFailed,
        m.OrderShipped, m.OrderCompleted, m.OrderCancelled, m.PaymentRefunded, m.InventoryReleased,
    )
}


def default_schemas_dir() -> Path:
    """``schemas/`` of the source tree (editable installs, tests), else ``./schemas``."""
    repo = Path(__file__).resolve().parents[2] / "schemas"
    return repo if repo.is_dir() else Path("schemas")


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in err["loc"]) or "(event)", "message": err["msg"]}
            for err in exc.errors(include_url=False)]


@dataclass(frozen=True)
class EventCatalog:
    schemas: Mapping[str, AvroSchema]  # by short name

    @classmethod
    def load(cls, directory: Path | None = None) -> EventCatalog:
        schemas = load_schemas(directory or default_schemas_dir())
        missing = sorted(set(MODELS) - set(schemas))
        if missing:
            raise ConfigError(f"no .avsc for event types {', '.join(missing)} in {directory}")
        return cls(schemas={name: schemas[name] for name in MODELS})

    @property
    def readers(self) -> dict[str, AvroSchema]:
        """Reader schemas by Avro full name, for the codec."""
        return {schema.full_name: schema for schema in self.schemas.values()}

    def short_name(self, full_name: str) -> str:
        return full_name.rsplit(".", 1)[-1]

    def model(self, event_type: str) -> type[m.OrderEvent]:
        model = MODELS.get(event_type.rsplit(".", 1)[-1])
        if model is None:
            raise ValidationError(f"unknown event type {event_type!r}; known: {', '.join(MODELS)}")
        return model

    def validate(self, event_type: str, data: Any) -> m.OrderEvent:
        """A typed event, or ``ValidationError`` whose ``details`` name each bad field."""
        model = self.model(event_type)
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"{model.__name__} is not valid: {exc.error_count()} error(s)",
                                  details=field_errors(exc)) from None

    def to_avro(self, event: m.OrderEvent) -> dict[str, Any]:
        return event.model_dump(mode="python")
