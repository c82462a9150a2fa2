"""Test helpers without a broker: an in-memory schema source and event builders."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastavro.schema import to_parsing_canonical_form

from agents.events import OrderPlaced
from streams.avro.errors import UnknownSchemaIdError
from streams.recordpath.records import RawRecord


class MemoryRegistry:
    """Same contract as ConfluentRegistry: ids by canonical form; ``subjects`` lists the ids per subject."""

    def __init__(self) -> None:
        self.by_id: dict[int, str] = {}
        self.ids: dict[str, int] = {}
        self.subjects: dict[str, list[int]] = {}
        self.lookups = 0
        self.registrations = 0

    def schema_text(self, schema_id: int) -> str:
        self.lookups += 1
        try:
            return self.by_id[schema_id]
        except KeyError:
            raise UnknownSchemaIdError(f"schema id {schema_id} is not in the registry") from None

    def register(self, subject: str, schema_text: str) -> int:
        self.registrations += 1
        canonical = to_parsing_canonical_form(json.loads(schema_text))
        if canonical not in self.ids:
            self.ids[canonical] = len(self.ids) + 1
            self.by_id[self.ids[canonical]] = schema_text
        versions = self.subjects.setdefault(subject, [])
        if self.ids[canonical] not in versions:
            versions.append(self.ids[canonical])
        return self.ids[canonical]


NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def placed(order_id: str = "o-1", customer_id: str = "c-1", **changes: Any) -> OrderPlaced:
    data: dict[str, Any] = {
        "order_id": order_id, "customer_id": customer_id, "currency": "EUR", "placed_at": NOW,
        "items": [{"sku": "sku-a", "quantity": 2, "unit_price_minor": 500},
                  {"sku": "sku-b", "quantity": 1, "unit_price_minor": 250}],
        "total_minor": 1250,
    }
    data.update(changes)
    return OrderPlaced.model_validate(data)


def record(value: bytes | None, *, key: bytes | None = b"o-1", offset: int = 0, partition: int = 0,
           headers: tuple[tuple[str, bytes], ...] = (), topic: str = "orders") -> RawRecord:
    return RawRecord(topic=topic, partition=partition, offset=offset, timestamp_ms=1_795_000_000_000, key=key,
                     value=value, headers=headers)


def new_id() -> str:
    return str(uuid.uuid4())
