"""Producing order events: validate with pydantic, encode Avro via the registry, set the envelope.

Used by POST /events and ``streams produce``.  A record is acknowledged only
once Kafka has it on all in-sync replicas (``DurableProducer``).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from agents.events import EventCatalog, OrderEvent
from streams.avro import AvroCodec
from streams.envelope import Envelope
from streams.errors import ValidationError
from streams.position import Position
from streams.producer import DurableProducer

__all__ = ["OrderIngest", "Prepared"]


@dataclass(frozen=True)
class Prepared:
    envelope: Envelope
    event: OrderEvent
    key: bytes
    value: bytes

    def receipt(self, position: Position) -> dict[str, Any]:
        return {"event_id": self.envelope.event_id, "event_type": self.envelope.event_type,
                "correlation_id": self.envelope.correlation_id, "topic": position.topic,
                "partition": position.partition, "offset": position.offset, "after": position.token}


class OrderIngest:
    def __init__(self, catalog: EventCatalog, codec: AvroCodec, producer: DurableProducer,
                 producer_name: str, topic: str) -> None:
        self.topic = topic
        self.catalog = catalog
        self.codec = codec
        self.producer = producer
        self.producer_name = producer_name

    def prepare(self, body: Any) -> Prepared:
        """Validate one request ``{"type", "data", "event_id"?, "correlation_id"?, "causation_id"?}``."""
        if not isinstance(body, dict):
            raise ValidationError("the body must be a JSON object like {\"type\": \"OrderPlaced\", \"data\": {...}}")
        unknown = set(body) - {"type", "data", "event_id", "correlation_id", "causation_id"}
        if unknown:
            raise ValidationError(f"unknown fields {sorted(unknown)}",
                                  details=[{"field": f, "message": "unknown field"} for f in sorted(unknown)])
        event_type = body.get("type")
        if not isinstance(event_type, str):
            raise ValidationError("\"type\" is required: the event type, e.g. OrderPlaced",
                                  details=[{"field": "type", "message": "required"}])
        model = self.catalog.model(event_type).__name__  # an unknown type says so first
        if "data" not in body:
            raise ValidationError(f"\"data\" is missing: the fields of the {model}, as a JSON object",
                                  details=[{"field": "data", "message": "required"}])
        data = body["data"]
        if not isinstance(data, dict):
            raise ValidationError(f"\"data\" must be a JSON object of the {model}'s fields, not {_json_type(data)}",
                                  details=[{"field": "data", "message": "must be a JSON object"}])
        event = self.catalog.validate(event_type, data)
        name = type(event).__name__
        ids = {k: body.get(k) for k in ("event_id", "correlation_id", "causation_id")}
        for field, value in ids.items():
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{field} must be a string", details=[{"field": field, "message": "string"}])
        envelope = Envelope.new(name, self.producer_name, event_id=ids["event_id"],
                                correlation_id=ids["correlation_id"], causation_id=ids["causation_id"])
        schema = self.catalog.schemas[name]
        value = self.codec.encode(self.topic, schema, self.catalog.to_avro(event))
        return Prepared(envelope, event, event.order_id.encode(), value)

    def close(self) -> None:
        """Flush what is being sent, then let go of the producer and the registry client."""
        self.producer.close()
        self.codec.close()

    def enqueue(self, prepared: Prepared) -> Future[Position]:
        """Produce without waiting; the future resolves with the record's position once it is durable."""
        return self.producer.produce(self.topic, prepared.key, prepared.value, prepared.envelope.to_headers())

    async def send(self, prepared: Prepared) -> Position:
        return await asyncio.wrap_future(self.enqueue(prepared))


def _json_type(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if value is None:
        return "null"
    kinds = ((bool, "a boolean"), (str, "a string"), (int, "a number"), (float, "a number"), (list, "an array"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)
