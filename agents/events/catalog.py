"""The order event catalog: each event type with its current schema, loaded from a directory.

``EventCatalog.load`` reads each type's .avsc from ``schemas/`` (or
``STREAMS_SCHEMAS_DIR``) and checks it names the record the type expects, so a
worker with a wrong schema directory fails at start, not on the first record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from agents.events import models as m
from agents.events.convert import field_errors, parse, to_avro
from agents.events.types import EVENT_TYPES, default_schemas_dir, event_type
from streams.avro import AvroSchema, load_schema
from streams.errors import ConfigError

__all__ = ["MODELS", "EventCatalog", "default_schemas_dir", "field_errors"]

MODELS: Mapping[str, type[m.OrderEvent]] = MappingProxyType(
    {name: t.model for name, t in EVENT_TYPES.items() if name == t.name})
"""Models by short name."""


@dataclass(frozen=True)
class EventCatalog:
    schemas: Mapping[str, AvroSchema]  # by short name

    @classmethod
    def load(cls, directory: Path | None = None) -> EventCatalog:
        directory = directory or default_schemas_dir()
        schemas = {}
        for name in MODELS:
            kind = EVENT_TYPES[name]
            path = kind.avsc_path(directory)
            if not path.is_file():
                raise ConfigError(f"no {kind.avsc} for event type {name} in {directory}",
                                  hint="set STREAMS_SCHEMAS_DIR to the directory of the .avsc files")
            schema = load_schema(path)
            if schema.full_name != kind.full_name:
                raise ConfigError(f"{path} defines {schema.full_name}, expected {kind.full_name}")
            schemas[name] = schema
        return cls(schemas=MappingProxyType(schemas))

    @property
    def readers(self) -> dict[str, AvroSchema]:
        """Reader schemas by Avro full name, for ``AvroCodec.decode``."""
        return {schema.full_name: schema for schema in self.schemas.values()}

    def short_name(self, full_name: str) -> str:
        return full_name.rsplit(".", 1)[-1]

    def model(self, event_type_name: str) -> type[m.OrderEvent]:
        return event_type(event_type_name).model

    def schema(self, event_type_name: str) -> AvroSchema:
        return self.schemas[event_type(event_type_name).name]

    def validate(self, event_type_name: str, data: Any) -> m.OrderEvent:
        """A typed event, or ``ValidationError`` whose ``details`` name each bad field."""
        return parse(event_type(event_type_name).model, data)

    def to_avro(self, event: m.OrderEvent) -> dict[str, Any]:
        return to_avro(event)
