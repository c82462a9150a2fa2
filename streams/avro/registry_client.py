"""Registry access for the codec: confluent-kafka's ``SchemaRegistryClient`` behind a small protocol.

The ``SchemaRegistry`` protocol lets unit tests use an in-memory registry;
everything else uses ``ConfluentRegistry``, which works unchanged against
Confluent's registry and our embedded one (and, with a ``mock://`` URL,
confluent-kafka's in-process ``MockSchemaRegistryClient``).  Registry errors are classified
here: a schema id the registry does not know (error code 40403) is permanent
(``UnknownSchemaIdError``); a registry that cannot be reached or fails is
transient (``RegistryUnavailableError``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams.avro.errors import RegistryUnavailableError, UnknownSchemaIdError
from streams.errors import ConflictError, ValidationError

__all__ = ["SCHEMA_NOT_FOUND", "ConfluentRegistry", "SchemaRegistry", "SchemaSource"]

SCHEMA_NOT_FOUND = 40403  # Confluent's error code for an unknown schema id
_NOT_FOUND_CODES = (SCHEMA_NOT_FOUND, 40400)  # 40400: confluent-kafka's MockSchemaRegistryClient (mock:// URLs)
_INCOMPATIBLE = 409
_INVALID_SCHEMA = 422


def _transport_errors() -> tuple[type[Exception], ...]:
    """Network failures as the client raises them: confluent-kafka 2.16 prefers httpx2 over httpx."""
    errors: list[type[Exception]] = [OSError]
    for name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(name).TransportError)
        except ImportError:  # pragma: no cover - whichever is installed
            continue
    return tuple(errors)


_UNREACHABLE = _transport_errors()


class SchemaRegistry(Protocol):
    """What the codec needs from a schema registry."""

    def schema_text(self, schema_id: int) -> str:
        """The writer schema registered under ``schema_id``; ``UnknownSchemaIdError`` if none."""

    def register(self, subject: str, schema_text: str) -> int:
        """Register (or find) ``schema_text`` under ``subject`` and return its id."""


SchemaSource = SchemaRegistry  # the protocol's earlier name


class ConfluentRegistry:
    """``SchemaRegistry`` over confluent-kafka's client; ``conf`` adds client settings (auth, TLS, retries)."""

    def __init__(self, url: str, conf: Mapping[str, Any] | None = None, *,
                 client: SchemaRegistryClient | None = None) -> None:
        self.url = url
        self._client = client or SchemaRegistryClient.new_client({**(conf or {}), "url": url})  # mock:// too

    @property
    def client(self) -> SchemaRegistryClient:
        """The underlying client, to share with confluent-kafka's serializers."""
        return self._client

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ConfluentRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def schema_text(self, schema_id: int) -> str:
        try:
            return str(self._client.get_schema(schema_id).schema_str)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404 and exc.error_code in _NOT_FOUND_CODES:
                raise UnknownSchemaIdError(
                    f"schema id {schema_id} is not in the registry ({exc.error_message})") from exc
            raise RegistryUnavailableError(
                f"registry {self.url} failed to return schema id {schema_id}: "
                f"HTTP {exc.http_status_code}, error {exc.error_code}: {exc.error_message}") from exc
        except _UNREACHABLE as exc:
            raise RegistryUnavailableError(f"schema registry {self.url} unreachable: {exc}") from exc

    def register(self, subject: str, schema_text: str) -> int:
        try:
            return int(self._client.register_schema(subject, Schema(schema_text, "AVRO")))
        except SchemaRegistryError as exc:
            if exc.http_status_code == _INCOMPATIBLE:
                raise ConflictError(f"schema for {subject} is incompatible: {exc.error_message}") from exc
            if exc.http_status_code == _INVALID_SCHEMA:
                raise ValidationError(f"registry refused the schema for {subject}: {exc.error_message}") from exc
            raise RegistryUnavailableError(
                f"registry {self.url} failed to register {subject}: "
                f"HTTP {exc.http_status_code}, error {exc.error_code}: {exc.error_message}") from exc
        except _UNREACHABLE as exc:
            raise RegistryUnavailableError(f"schema registry {self.url} unreachable: {exc}") from exc
