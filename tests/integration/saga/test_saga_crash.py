"""A worker running the saga and the simulated services, killed with SIGKILL at random points of a run of a few
hundred sagas: after the restarts every saga ends as the rules say, no service applies a command twice, no
compensation has effect twice, and stock adds up.

The orders are built so that every path is taken: one in ten is over the payment limit (declined), shipping fails
for about a fifth (decided by a hash of the command id, so the same on a resend), and the four SKUs have less stock
than the orders ask for, so later reservations run out.  Which orders get the stock depends on the order the
reservations reach the warehouse in, which crashes change: the checks are the rules each saga must satisfy, not a
fixed outcome per order.  The kill points are counts of inbox records the saga has taken since its start, drawn
from a seeded generator (the seed is in the failure message).
"""

from __future__ import annotations

import os
import random
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from streams import headers as h
from streams.connection import KafkaConnection
from streams.devstack.kafka import KafkaBroker
from streams.recordpath.records import header
from streams.tables import changelog_topic, table_rows
from tests.integration.harness import Worker, caught_up, metric, wait_until, worker_env
from tests.integration.orders.builders import NOW, RawProducer, body, ingest_for, read

pytestmark = pytest.mark.integration

ORDERS = 200
SKUS = 4
STOCK = 30  # per SKU; the orders ask about 75 units of each
LIMIT = 5_000  # minor units: the payment service declines more
REPLIES = ("PaymentAuthorized", "PaymentFailed", "PaymentRefunded", "InventoryReserved",
           "InventoryReservationFailed", "InventoryReleased", "ShipmentCreated", "ShipmentFailed")


def order(tag: str, i: int) -> dict[str, Any]:
    quantity = 1 + i % 2
    price = 10_000 if i % 10 == 0 else 100  # one in ten over the limit
    return {"order_id": f"{tag}-{i}", "customer_id": f"c-{i % 17}", "currency": "EUR", "placed_at": NOW,
            "items": [{"sku": f"{tag}-sku-{i % SKUS}", "quantity": quantity, "unit_price_minor": price}],
            "total_minor": quantity * price}


def saga_records(worker: Worker) -> float:
    return metric(worker.get("/metrics").text, "streams_processing_seconds_count", agent="order-saga")


def test_sigkill_mid_sagas_leaves_every_saga_ended_by_the_rules_and_stock_adding_up(
        kafka_broker: KafkaBroker, registry: Any, tmp_path: Path) -> None:
    env = worker_env(kafka_broker.url, registry.url, STREAMS_SAGA="true", STREAMS_SIMULATED_SERVICES="true",
                     STREAMS_SIM_STOCK=str(STOCK), STREAMS_SIM_PAYMENT_LIMIT_MINOR=str(LIMIT),
                     STREAMS_SIM_SHIPPING_FAILURE_RATE="0.2", STREAMS_SESSION_TIMEOUT_S="10")
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    orders = [order(tag, i) for i in range(ORDERS)]
    data_dir = tmp_path / "w"
    worker = Worker(env=env, data_dir=data_dir).start()
    try:
        producer, topic = RawProducer(env), f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            for data in orders:
                producer.send_prepared(topic, ingest.prepare(body("OrderPlaced", data)))
        producer.flush()
        for _ in range(2):  # each run of the saga gets this far, then dies
            point = rng.randrange(20, 400)
            wait_until(lambda: saga_records(worker) >= point, timeout=120, interval=0.02,  # noqa: B023
                       what=f"{point} saga records taken (seed {seed})")
            worker.kill()
            worker = Worker(env=env, data_dir=data_dir, port=worker.port).start()
        wait_until(lambda: metric(worker.get("/metrics").text, "streams_sagas_waiting") == 0 and caught_up(env),
                   timeout=240, interval=0.5, what=f"every saga ended (seed {seed})")
        check(env, worker, tag, orders, seed)
    finally:
        worker.stop()


def check(env: dict[str, str], worker: Worker, tag: str, orders: list[dict[str, Any]], seed: int) -> None:
    held: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    for data in orders:
        order_id, total = data["order_id"], data["total_minor"]
        saga = worker.get(f"/sagas/{order_id}").json()
        view = worker.get(f"/orders/{order_id}").json()
        status = saga["status"]
        statuses[status] += 1
        said = f"order {order_id} (seed {seed}): saga {status} {saga.get('reason')}, order {view['status']}"
        paid, refunded = view["paid_minor"], view["refunded_minor"]
        if total > LIMIT:
            assert (status, saga["failed_step"], view["status"], paid) == ("failed", "payment", "failed", 0), said
        elif status == "completed":
            assert (view["status"], paid, refunded, view["reserved"], view["released"]) == (
                "completed", total, 0, True, False), said
            for item in data["items"]:
                held[item["sku"]] += item["quantity"]
        else:
            assert status in ("compensated", "failed"), said
            assert view["status"] == "failed", said
            assert refunded == paid, said  # whatever was paid, refunded once
            assert view["reserved"] == view["released"], said  # whatever was reserved, released
    warehouse = table_rows(KafkaConnection(env["STREAMS_BROKER"].removeprefix("kafka://")),  # its own rows
                           changelog_topic(env["STREAMS_APP_ID"], "sim-inventory-state"))
    for i in range(SKUS):
        sku = f"{tag}-sku-{i}"
        stock = worker.get(f"/inventory/{sku}").json()
        assert stock["held"] == held[sku] <= STOCK, (sku, stock, held[sku], seed)
        left = warehouse.get(f"main/stock/{sku}", STOCK)
        assert left + held[sku] == STOCK, (sku, left, held[sku], seed)  # units in the warehouse or in a parcel
    assert statuses["completed"] > 0, (statuses, seed)
    assert statuses["compensated"] > 0, (statuses, seed)

    answers: dict[str, set[str]] = defaultdict(set)  # command id -> event ids of the replies to it
    for record in read(env, "orders"):
        kind = (header(record.headers, h.EVENT_TYPE) or b"").decode()
        if kind in REPLIES and (record.key or b"").decode().startswith(tag):
            answers[(header(record.headers, h.CAUSATION_ID) or b"").decode()].add(
                (header(record.headers, h.EVENT_ID) or b"").decode())
    twice = {command: ids for command, ids in answers.items() if len(ids) != 1}
    assert not twice, (twice, seed)  # every command answered with one event, however often it was sent
    print(f"seed {seed}: {ORDERS} sagas, 2 kills: {dict(statuses)}; held {dict(held)}")
