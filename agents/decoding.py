"""Turns a raw ``orders`` record into a typed event with its envelope: codec, envelope, validation.

Every way this can fail raises a ``StreamsError`` that says whether it is
retriable (registry unreachable) or belongs in the dead-letter topic (bad
bytes, unknown schema id, unknown type, invalid content, key mismatch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents.events import EventCatalog, OrderEvent
from agents.orders.projection import EventMeta
from streams.avro import AvroCodec, ConfluentRegistry
from streams.envelope import Envelope
from streams.errors import ValidationError
from streams.recordpath.records import RawRecord
from streams.settings import Settings

__all__ = ["DecodedEvent", "OrderEventDecoder"]


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    meta: EventMeta
    event: OrderEvent
    envelope: Envelope
    fields: Mapping[str, Any]  # the record as Avro decoded it into the reader schema (what fan-out filters read)


class OrderEventDecoder:
    def __init__(self, settings: Settings, *, codec: AvroCodec | None = None,
                 catalog: EventCatalog | None = None) -> None:
        self.catalog = catalog or EventCatalog.load(settings.schemas_dir)
        self.codec = codec or AvroCodec(ConfluentRegistry(settings.schema_registry_url,
                                                          settings.registry_client_config))
        self._readers = self.catalog.readers

    async def decode(self, record: RawRecord) -> DecodedEvent:
        """Decode one record; a writer schema not yet cached is fetched off the event loop."""
        decoded = await self.codec.decode_async(record.value, self._readers)
        event_type = self.catalog.short_name(decoded.writer_name)
        envelope = Envelope.from_record(record, event_type)
        event = self.catalog.validate(event_type, decoded.record)
        if record.key is not None and record.key != event.order_id.encode():
            raise ValidationError(f"record key {record.key!r} is not the order id {event.order_id!r}: "
                                  "an order's events must share its key to stay in order")
        meta = EventMeta(event_id=envelope.event_id, event_type=event_type, position=record.position,
                         occurred_at=envelope.occurred_at)
        return DecodedEvent(meta, event, envelope, decoded.record)
