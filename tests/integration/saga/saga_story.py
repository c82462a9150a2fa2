"""One order's saga on a real worker, with the test playing the services: it places the order, reads the commands
the saga sends (as a service would, with Confluent's deserializer) and answers them with events over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from agents.saga.inbox import TIMER, signal
from agents.saga.state import record_id
from streams import headers as h
from streams.recordpath.records import header
from tests.integration.harness import Worker, wait_until
from tests.integration.orders.builders import NOW, RawProducer, body, placed, read

__all__ = ["SERVICES", "Command", "Story"]

SERVICES = ("payments", "inventory", "shipping")

REPLIES: dict[str, dict[str, Any]] = {
    "PaymentAuthorized": {"payment_id": "pay-{o}", "amount_minor": 300, "currency": "EUR", "authorized_at": NOW},
    "PaymentFailed": {"reason": "card declined", "failed_at": NOW},
    "InventoryReserved": {"reservation_id": "res-{o}", "reserved_at": NOW},
    "InventoryReservationFailed": {"reason": "out of stock", "failed_at": NOW},
    "ShipmentCreated": {"shipment_id": "shp-{o}", "carrier": "SIM", "tracking_number": "T-{o}", "created_at": NOW},
    "ShipmentFailed": {"reason": "no carrier", "failed_at": NOW},
    "PaymentRefunded": {"payment_id": "pay-{o}", "amount_minor": 300, "currency": "EUR", "refunded_at": NOW},
    "InventoryReleased": {"reservation_id": "res-{o}", "released_at": NOW},
    "OrderCancelled": {"reason": "changed my mind", "cancelled_at": NOW},
}


FORWARD = (("AuthorizePayment", "PaymentAuthorized"), ("ReserveInventory", "InventoryReserved"),
           ("CreateShipment", "ShipmentCreated"))
"""Each forward step's command and the reply that says it succeeded, in the saga's order."""


@dataclass(frozen=True)
class Command:
    name: str
    fields: dict[str, Any]
    command_id: str
    causation_id: str
    key: str


@dataclass
class Story:
    worker: Worker
    env: dict[str, str]
    order_id: str = field(default_factory=lambda: f"o-{uuid.uuid4().hex[:10]}")

    @property
    def correlation_id(self) -> str:
        return f"corr-{self.order_id}"

    def post(self, event_type: str, data: dict[str, Any], *, event_id: str | None = None) -> str:
        """Write one event as a service or a client would (POST /events); its event id."""
        request = {**body(event_type, data), "correlation_id": self.correlation_id}
        if event_id is not None:
            request["event_id"] = event_id
        response = httpx.post(f"{self.worker.url}/events", json=request, timeout=30)
        assert response.status_code == 202, response.text
        return str(response.json()["event_id"])

    def place(self) -> str:
        return self.post("OrderPlaced", placed(self.order_id, qty=3, price=100))

    def reply(self, event_type: str, *, event_id: str | None = None) -> str:
        data = {"order_id": self.order_id,
                **{k: v.format(o=self.order_id) if isinstance(v, str) else v for k, v in REPLIES[event_type].items()}}
        return self.post(event_type, data, event_id=event_id)

    def run_until(self, command: str) -> None:
        """Place the order and answer each forward step with its success until the saga has sent ``command``."""
        self.place()
        for sent, success in FORWARD:
            self.wait_sent(sent)
            if sent == command:
                return
            self.reply(success)
        raise AssertionError(f"{command} is not a forward step's command")

    def time_out(self, step: str, attempt: int) -> None:
        """Write the timer record the saga's timer loop writes when ``step``'s deadline of ``attempt`` passed: the
        test says when a deadline passes, on a worker whose own deadlines are far off."""
        event_id = record_id(self.order_id, f"{TIMER}/{step}/{attempt}")
        key, value, headers = signal(TIMER, self.order_id, event_id, "test/saga-timer",
                                     {"step": step, "attempt": attempt})
        producer = RawProducer(self.env)
        producer.send(f"{self.env['STREAMS_TOPIC_PREFIX']}{self.env['STREAMS_APP_ID']}-saga-inbox", key, value,
                      headers)
        producer.flush()

    def commands(self) -> list[Command]:
        """Every command the saga sent for this order so far, in the order of each service's topic."""
        registry = SchemaRegistryClient({"url": self.env["STREAMS_SCHEMA_REGISTRY_URL"]})
        try:
            deserialize = AvroDeserializer(registry)
            found = []
            for service in SERVICES:
                for record in read(self.env, service):
                    if header(record.headers, h.CORRELATION_ID) != self.correlation_id.encode():
                        continue
                    fields = deserialize(record.value, SerializationContext(record.topic, MessageField.VALUE))
                    found.append(Command(name=(header(record.headers, h.EVENT_TYPE) or b"").decode(), fields=fields,
                                         command_id=(header(record.headers, h.EVENT_ID) or b"").decode(),
                                         causation_id=(header(record.headers, h.CAUSATION_ID) or b"").decode(),
                                         key=(record.key or b"").decode()))
            return found
        finally:
            registry.close()

    def sent(self) -> list[str]:
        """The commands the saga says it sent (its history), in the order it sent them."""
        state = self.saga()
        return [e["type"] for e in state["history"] if e["kind"] == "command"] if state else []

    def wait_sent(self, name: str, times: int = 1, timeout: float = 60) -> None:
        """Until the saga has sent ``name`` ``times`` times (its history, over HTTP: quicker than reading topics;
        ``commands()`` reads what went out)."""
        wait_until(lambda: self.sent().count(name) >= times, timeout=timeout,
                   what=f"{name} x{times} for {self.order_id} (sent: {self.sent()})")

    def wait_commands(self, name: str, times: int, timeout: float = 60) -> list[Command]:
        """Until the services' topics hold ``name`` ``times`` times for this order (what the saga's history says it
        sent may still be on its way to Kafka); those commands."""
        def found() -> list[Command]:
            named = [c for c in self.commands() if c.name == name]
            return named if len(named) >= times else []

        return list(wait_until(found, timeout=timeout, what=f"{name} x{times} in the topics for {self.order_id}"))

    def saga(self) -> dict[str, Any] | None:
        response = self.worker.get(f"/sagas/{self.order_id}")
        if response.status_code in (404, 503):
            return None
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_saga(self, status: str, timeout: float = 60) -> dict[str, Any]:
        state = wait_until(lambda: (s := self.saga()) is not None and s["status"] == status and s,
                           timeout=timeout, what=f"saga of {self.order_id} {status} (now: {self.saga()})")
        return state  # type: ignore[no-any-return]

    def order_status(self) -> str | None:
        response = self.worker.get(f"/orders/{self.order_id}")
        return str(response.json()["status"]) if response.status_code == 200 else None

    def wait_order(self, status: str, timeout: float = 60) -> None:
        wait_until(lambda: self.order_status() == status, timeout=timeout,
                   what=f"order {self.order_id} {status} (now: {self.order_status()})")
