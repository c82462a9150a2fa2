"""Avro schemas loaded from .avsc files, each file parsed once per content.

``AvroSchema`` keeps the text exactly as written (what is registered) next to
fastavro's parsed form (what encodes and decodes).  ``load_schemas`` reads the
``*.avsc`` files directly in a directory (not its ``history/``); parsing is
cached by path, size and modification time, so workers and CLI commands that
load the same directory again pay nothing, and an edited file is re-read.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import SchemaParseException

from streams.errors import ConfigError

__all__ = ["AvroSchema", "load_schema", "load_schemas", "schemas_by_full_name"]


@dataclass(frozen=True)
class AvroSchema:
    """One named schema (a record, usually): its text as registered and fastavro's parsed form."""

    text: str
    parsed: Any = field(compare=False, repr=False)

    @property
    def full_name(self) -> str:
        """``namespace.Name`` of a named schema; the type name (``string``...) of a primitive one."""
        if isinstance(self.parsed, dict):
            return str(self.parsed.get("name", self.parsed.get("type")))
        return str(self.parsed)

    @property
    def name(self) -> str:
        return self.full_name.rsplit(".", 1)[-1]

    @property
    def is_record(self) -> bool:
        return isinstance(self.parsed, dict) and self.parsed.get("type") == "record"

    @classmethod
    def from_text(cls, text: str) -> AvroSchema:
        """Parse ``text``; it is kept stripped, the exact string confluent-kafka's ``AvroSerializer`` registers."""
        text = text.strip()
        try:
            return cls(text=text, parsed=parse_schema(json.loads(text)))
        except (ValueError, KeyError, TypeError, AttributeError, SchemaParseException) as exc:
            raise ConfigError(f"not a valid Avro schema: {exc}") from exc

    @classmethod
    def from_file(cls, path: Path) -> AvroSchema:
        try:
            return cls.from_text(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read schema file {path}: {exc}") from exc
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}") from exc


_cache: dict[Path, tuple[tuple[int, int], AvroSchema]] = {}
_cache_lock = threading.Lock()


def load_schema(path: Path) -> AvroSchema:
    """The schema in ``path``, parsed once for as long as the file is unchanged."""
    path = path.resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read schema file {path}: {exc}") from exc
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    schema = AvroSchema.from_file(path)
    with _cache_lock:
        _cache[path] = (stamp, schema)
    return schema


def load_schemas(directory: Path) -> dict[str, AvroSchema]:
    """Every record schema in the ``*.avsc`` files directly in ``directory``, by record short name."""
    if not directory.is_dir():
        raise ConfigError(f"schema directory {directory} does not exist", hint="set STREAMS_SCHEMAS_DIR")
    schemas: dict[str, AvroSchema] = {}
    origin: dict[str, Path] = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = load_schema(path)
        if not schema.is_record:
            raise ConfigError(f"{path}: {schema.full_name} is not a record schema")
        if schema.name in schemas:
            raise ConfigError(f"{path} and {origin[schema.name]} both define a record named {schema.name}")
        schemas[schema.name] = schema
        origin[schema.name] = path
    return schemas


def schemas_by_full_name(directory: Path) -> dict[str, AvroSchema]:
    """``load_schemas`` keyed by full name (``com.acme.orders.OrderPlaced``): reader schemas for the codec."""
    return {schema.full_name: schema for schema in load_schemas(directory).values()}
