"""The simulated services on the real broker: commands in on payments, inventory and shipping, replies out on orders.

One worker with the services on and the saga off; the test plays the saga: Avro commands through the registry,
with the envelope in their headers, keyed as the contract says.  Each command is answered once, a command sent
again is answered with the same event, stock runs out and comes back with a release, and a poison command is
dead-lettered without an answer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from agents.events import EventCatalog
from streams import headers as h
from streams.avro import AvroCodec, ConfluentRegistry, load_schemas
from streams.envelope import Envelope, derived_event_id
from streams.recordpath.records import RawRecord, header
from tests.integration.harness import Worker, metric, wait_caught_up
from tests.integration.orders.builders import RawProducer, read, settings_for

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
COMMANDS = load_schemas(SCHEMAS / "commands")
CATALOG = EventCatalog.load(SCHEMAS)


class Saga:
    """Sends commands as the saga does: command id derived from the order and the command's name."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        settings = settings_for(env)
        self.codec = AvroCodec(ConfluentRegistry(settings.schema_registry_url, settings.registry_client_config))
        self.producer = RawProducer(env)
        self.sent: dict[str, str] = {}  # command id -> what the test calls it
        self.services: dict[str, str] = {}  # what the test calls a command -> the service it went to

    def send(self, label: str, service: str, name: str, fields: dict[str, Any], *, key: str) -> str:
        topic = f"{self.env['STREAMS_TOPIC_PREFIX']}{service}"
        command_id = derived_event_id(f"saga/{fields['order_id']}", name)
        envelope = Envelope.new(name, "saga-test", event_id=command_id, correlation_id=f"corr-{fields['order_id']}",
                                causation_id=str(uuid.uuid4()))
        self.producer.send(topic, key.encode(), self.codec.encode(topic, COMMANDS[name], fields),
                           envelope.to_headers())
        self.sent[command_id] = label
        self.services[label] = service
        return command_id

    def replies(self) -> dict[str, list[RawRecord]]:
        """The replies on orders by what the test called their command."""
        found: dict[str, list[RawRecord]] = defaultdict(list)
        for record in read(self.env, "orders"):
            cause = (header(record.headers, h.CAUSATION_ID) or b"").decode()
            if cause in self.sent:
                found[self.sent[cause]].append(record)
        return found

    def fields(self, record: RawRecord) -> dict[str, Any]:
        return self.codec.decode(record.value, CATALOG.readers).record

    def close(self) -> None:
        self.producer.flush()
        self.codec.close()


def test_each_command_is_answered_once_and_stock_runs_out_and_comes_back(stack_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    env = {**stack_env, "STREAMS_SIMULATED_SERVICES": "true", "STREAMS_SAGA": "false", "STREAMS_SIM_STOCK": "3",
           "STREAMS_SIM_PAYMENT_LIMIT_MINOR": "1000"}
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    saga = Saga(env)
    try:
        tag = uuid.uuid4().hex[:6]
        a, b, c = f"{tag}-a", f"{tag}-b", f"{tag}-c"
        sku = f"sku-{tag}"
        saga.send("pay a", "payments", "AuthorizePayment",
                  {"order_id": a, "customer_id": "cust", "amount_minor": 900, "currency": "EUR"}, key=a)
        saga.send("pay b", "payments", "AuthorizePayment",
                  {"order_id": b, "customer_id": "cust", "amount_minor": 1001, "currency": "EUR"}, key=b)
        saga.send("pay a", "payments", "AuthorizePayment",  # a retry of the step: the same command id
                  {"order_id": a, "customer_id": "cust", "amount_minor": 900, "currency": "EUR"}, key=a)
        saga.send("reserve a", "inventory", "ReserveInventory",
                  {"order_id": a, "lines": [{"sku": sku, "quantity": 2}], "warehouse": "main"}, key="main")
        saga.send("reserve b", "inventory", "ReserveInventory",
                  {"order_id": b, "lines": [{"sku": "other", "quantity": 1}, {"sku": sku, "quantity": 2}],
                   "warehouse": "main"}, key="main")
        saga.send("ship a", "shipping", "CreateShipment",
                  {"order_id": a, "customer_id": "cust", "lines": [{"sku": sku, "quantity": 2}]}, key=a)
        saga.producer.send(f"{env['STREAMS_TOPIC_PREFIX']}shipping", c.encode(), b"not a command",
                           Envelope.new("CreateShipment", "saga-test").to_headers())
        saga.producer.flush()
        wait_caught_up(env, timeout=30)  # every command judged, every reply durable

        replies = saga.replies()
        types = {label: [header(r.headers, h.EVENT_TYPE) for r in records] for label, records in replies.items()}
        assert types == {"pay a": [b"PaymentAuthorized"] * 2, "pay b": [b"PaymentFailed"],
                         "reserve a": [b"InventoryReserved"], "reserve b": [b"InventoryReservationFailed"],
                         "ship a": [b"ShipmentCreated"]}
        first, again = replies["pay a"]
        assert header(first.headers, h.EVENT_ID) == header(again.headers, h.EVENT_ID)  # the same event, twice
        assert (first.key, first.value) == (again.key, again.value)
        assert saga.fields(replies["pay b"][0])["reason"] == "declined: over the limit"
        assert saga.fields(replies["reserve b"][0])["reason"] == f"out of stock: {sku} has 1, 2 asked"
        shipment = saga.fields(replies["ship a"][0])
        assert (shipment["order_id"], shipment["carrier"]) == (a, "SIM")
        for label, records in replies.items():
            for record in records:
                assert header(record.headers, h.CORRELATION_ID) == f"corr-{(record.key or b'').decode()}".encode()
                assert header(record.headers, h.PRODUCER) == f"streams/{saga.services[label]}".encode()
        poison = [r for r in read(env, "shipping.dlq") if r.key == c.encode()]
        assert len(poison) == 1

        reservation = saga.fields(replies["reserve a"][0])["reservation_id"]
        saga.send("release a", "inventory", "ReleaseInventory",
                  {"order_id": a, "reservation_id": reservation, "lines": [{"sku": sku, "quantity": 2}],
                   "warehouse": "main"}, key="main")
        saga.send("reserve c", "inventory", "ReserveInventory",
                  {"order_id": c, "lines": [{"sku": sku, "quantity": 3}], "warehouse": "main"}, key="main")
        saga.producer.flush()
        wait_caught_up(env, timeout=30)
        replies = saga.replies()
        assert [header(r.headers, h.EVENT_TYPE) for r in replies["release a"]] == [b"InventoryReleased"]
        assert [header(r.headers, h.EVENT_TYPE) for r in replies["reserve c"]] == [b"InventoryReserved"]  # all 3 back

        text = worker.get("/metrics").text
        assert metric(text, "streams_sim_commands_total", service="payments", outcome="duplicate") == 1
        assert metric(text, "streams_sim_commands_total", service="inventory", outcome="out_of_stock") == 1
        assert metric(text, "streams_sim_commands_total", service="inventory", outcome="released") == 1
        assert metric(text, "streams_dead_letters_total", topic=f"{env['STREAMS_TOPIC_PREFIX']}shipping") == 1
    finally:
        saga.close()
        worker.stop()
