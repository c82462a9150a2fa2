"""Avro schemas loaded from .avsc files, parsed once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro import parse_schema

from streams.errors import ConfigError

__all__ = ["AvroSchema", "load_schemas"]


@dataclass(frozen=True)
class AvroSchema:
    """One record schema: its text (as registered) and fastavro's parsed form."""

    text: str
    parsed: Any = field(compare=False, repr=False)

    @property
    def full_name(self) -> str:
        return str(self.parsed["name"])

    @property
    def name(self) -> str:
        return self.full_name.rsplit(".", 1)[-1]

    @classmethod
    def from_text(cls, text: str) -> AvroSchema:
        try:
            return cls(text=text, parsed=parse_schema(json.loads(text)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"not a valid Avro schema: {exc}") from exc

    @classmethod
    def from_file(cls, path: Path) -> AvroSchema:
        try:
            return cls.from_text(path.read_text())
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}") from exc


def load_schemas(directory: Path) -> dict[str, AvroSchema]:
    """Every ``*.avsc`` directly in ``directory``, by record short name."""
    if not directory.is_dir():
        raise ConfigError(f"schema directory {directory} does not exist", hint="set STREAMS_SCHEMAS_DIR")
    schemas = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = AvroSchema.from_file(path)
        schemas[schema.name] = schema
    return schemas
