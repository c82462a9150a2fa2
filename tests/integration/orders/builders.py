"""Order events for integration tests: JSON bodies, encoded records, a raw producer, topic reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Producer

from agents import create_ingest
from agents.ingest import OrderIngest, Prepared
from streams.connection import KafkaConnection
from streams.recordpath.records import RawRecord
from streams.scan import scan
from streams.settings import Settings

__all__ = ["NOW", "RawProducer", "body", "ingest_for", "paid", "placed", "read", "reserved", "settings_for",
           "shipped"]

NOW = "2026-11-22T10:00:00Z"


def settings_for(env: dict[str, str]) -> Settings:
    """The settings a worker started with ``env`` reads."""
    return Settings(**{k.removeprefix("STREAMS_").lower(): v for k, v in env.items()  # type: ignore[arg-type]
                       if k.startswith("STREAMS_")})


def placed(order_id: str, customer: str = "cust", sku: str = "sku", qty: int = 1, price: int = 100) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": customer, "currency": "EUR", "placed_at": NOW,
            "items": [{"sku": sku, "quantity": qty, "unit_price_minor": price}], "total_minor": qty * price}


def paid(order_id: str, amount: int) -> dict[str, Any]:
    return {"order_id": order_id, "payment_id": f"pay-{order_id}", "amount_minor": amount, "currency": "EUR",
            "authorized_at": NOW}


def reserved(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "reservation_id": f"res-{order_id}", "reserved_at": NOW}


def shipped(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "carrier": "dhl", "tracking_number": f"T-{order_id}", "shipped_at": NOW}


def body(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "data": data}


@contextmanager
def ingest_for(env: dict[str, str]) -> Iterator[OrderIngest]:
    """What ``streams produce`` uses: validation, Avro through the registry, envelope headers."""
    ingest = create_ingest(settings_for(env), "cli")
    try:
        yield ingest
    finally:
        ingest.close()


class RawProducer:
    """A plain confluent-kafka producer, as any client would use it (murmur2 keys, like Java clients)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.producer = Producer({"bootstrap.servers": env["STREAMS_BROKER"].removeprefix("kafka://"),
                                  "partitioner": "murmur2_random", "linger.ms": 5})

    def send(self, topic: str, key: bytes | None, value: bytes | None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        self.producer.produce(topic, key=key, value=value, headers=headers or [])

    def send_prepared(self, topic: str, prepared: Prepared) -> None:
        self.send(topic, prepared.key, prepared.value, prepared.envelope.to_headers())

    def flush(self) -> None:
        assert self.producer.flush(30) == 0


def read(env: dict[str, str], topic: str, *, committed: bool = True) -> list[RawRecord]:
    """Every record of ``topic`` now (prefixed with the test's STREAMS_TOPIC_PREFIX), as a read_committed reader
    sees them (``committed=False``: read_uncommitted)."""
    kafka = KafkaConnection(env["STREAMS_BROKER"].removeprefix("kafka://"))
    return list(scan(kafka, f"{env['STREAMS_TOPIC_PREFIX']}{topic}", missing_ok=True, committed=committed))
