"""Registry access for the codec: confluent-kafka's ``SchemaRegistryClient`` behind a small protocol.

The protocol lets unit tests use an in-memory registry; everything else uses
``ConfluentRegistry``, which works unchanged against Confluent's registry and
our embedded one.  Registry errors are classified here: a schema id the
registry does not know is permanent (``UnknownSchemaIdError``); a registry that
cannot be reached is transient (``RegistryUnavailableError``).
"""

from __future__ import annotations

from typing import Protocol

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams.avro.errors import RegistryUnavailableError, UnknownSchemaIdError
from streams.errors import ConflictError, ValidationError

__all__ = ["ConfluentRegistry", "SchemaSource"]


class SchemaSource(Protocol):
    def schema_text(self, schema_id: int) -> str:
        """The writer schema registered under ``schema_id``."""

    def register(self, subject: str, schema_text: str) -> int:
        """Register (or find) ``schema_text`` under ``subject`` and return its id."""


class ConfluentRegistry:
    def __init__(self, url: str) -> None:
        self.url = url
        self._client = SchemaRegistryClient({"url": url})

    def close(self) -> None:
        self._client.close()

    def schema_text(self, schema_id: int) -> str:
        try:
            return str(self._client.get_schema(schema_id).schema_str)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise UnknownSchemaIdError(
                    f"schema id {schema_id} is not in the registry ({exc.error_message})") from exc
            raise RegistryUnavailableError(f"registry error for schema id {schema_id}: {exc.error_message}") from exc
        except (httpx.TransportError, OSError) as exc:
            raise RegistryUnavailableError(f"schema registry {self.url} unreachable: {exc}") from exc

    def register(self, subject: str, schema_text: str) -> int:
        try:
            return int(self._client.register_schema(subject, Schema(schema_text, "AVRO")))
        except SchemaRegistryError as exc:
            if exc.http_status_code == 409:
                raise ConflictError(f"schema for {subject} is incompatible: {exc.error_message}") from exc
            if exc.http_status_code == 422:
                raise ValidationError(f"registry refused the schema for {subject}: {exc.error_message}") from exc
            raise RegistryUnavailableError(f"registry error registering {subject}: {exc.error_message}") from exc
        except (httpx.TransportError, OSError) as exc:
            raise RegistryUnavailableError(f"schema registry {self.url} unreachable: {exc}") from exc
