"""A dead-lettered key parks its later events; ``streams dlq redrive`` applies them, in order, once.

The dead letter is a real one: the worker cannot read a PaymentAuthorized while
the test's schema registry answers from an empty store (its schema id unknown:
a permanent error) and dead-letters it; the InventoryReserved behind it is
parked.  With the registry's own store back, a dry run
moves nothing, a redrive applies both in order, and a second redrive changes
nothing.  ``streams dlq release`` frees a key without redriving.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.integration.harness import Restartable, Worker, metric, streams_cli, wait_caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed, read, reserved, shipped

pytestmark = pytest.mark.integration


def _dlq_list(env: dict[str, str]) -> dict[str, list[dict[str, object]]]:
    result = streams_cli(env, "dlq", "list", "--json")
    assert result.returncode == 0, result.stderr
    listing: dict[str, list[dict[str, object]]] = json.loads(result.stdout)
    return listing


def test_parked_events_apply_in_order_after_redrive_and_twice_applies_once(
        registry_env: dict[str, str], own_registry: Restartable, tmp_path: Path) -> None:
    env = {**registry_env, "STREAMS_RETRY_MAX_ATTEMPTS": "2", "STREAMS_RETRY_BASE_DELAY_S": "0.05"}
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        tag = uuid.uuid4().hex[:6]
        order, other = f"{tag}-k", f"{tag}-other"
        orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            first = [ingest.prepare(body("OrderPlaced", placed(o, customer=f"{tag}-c", price=300)))
                     for o in (order, other)]
            payment = ingest.prepare(body("PaymentAuthorized", paid(order, 300)))  # schema not yet read by the worker
            reservation = ingest.prepare(body("InventoryReserved", reserved(order)))
            other_payment = ingest.prepare(body("PaymentAuthorized", paid(other, 300)))
        producer = RawProducer(env)
        for prepared in first:
            producer.send_prepared(orders, prepared)
        producer.flush()
        wait_until(lambda: worker.get(f"/orders/{other}").status_code == 200, what="the orders placed")

        own_registry.stop()
        own_registry.start(empty=True)  # answers, but knows no schema: the payment's id is unknown (permanent)
        producer.send_prepared(orders, payment)
        producer.send_prepared(orders, reservation)
        producer.flush()
        wait_until(lambda: len([r for r in read(env, "orders.dlq") if r.key == order.encode()]) == 2,
                   timeout=60, what="the payment dead-lettered and the reservation parked")
        own_registry.stop()
        own_registry.start()
        producer.send_prepared(orders, other_payment)  # another key keeps flowing
        producer.flush()
        wait_until(lambda: worker.get(f"/orders/{other}").json()["status"] == "paid", what="the other key paid")
        assert worker.get(f"/orders/{order}").json()["status"] == "placed"
        wait_caught_up(env)  # the parked state is in its changelog too (written with the letters, not before them)

        listing = _dlq_list(env)
        parked = [p for p in listing["parked"] if p["key"] == order]
        assert len(parked) == 1
        assert (parked[0]["count"], parked[0]["sequence"]) == (2, 2)
        reasons = {(d["reason"], d["count"]) for d in listing["dead_letters"]}
        assert reasons == {("UnknownSchemaIdError", 1), ("Parked", 1)}
        assert metric(worker.get("/metrics").text, "streams_parked_keys") == 1

        orders_before = len(read(env, "orders"))
        dry = streams_cli(env, "dlq", "redrive", "--key", order)
        assert dry.returncode == 0, dry.stderr
        assert "dry run: nothing moved (2 selected" in dry.stdout
        assert len(read(env, "orders")) == orders_before
        assert worker.get(f"/orders/{order}").json()["status"] == "placed"

        for _ in range(2):
            result = streams_cli(env, "dlq", "redrive", "--key", order, "--execute", "--rate", "50")
            assert result.returncode == 0, result.stderr
            assert "moved 2 record(s)" in result.stdout
        wait_until(lambda: worker.get(f"/orders/{order}").json()["status"] == "reserved", timeout=30,
                   what="the parked events applied after the redrive")
        history = [h["event_type"] for h in worker.get(f"/orders/{order}").json()["history"]]
        assert history == ["OrderPlaced", "PaymentAuthorized", "InventoryReserved"]  # in order, once each
        wait_until(lambda: not [p for p in _dlq_list(env)["parked"] if p["key"] == order], what="the key freed")

        receipt = json.loads(streams_cli(env, "produce", "OrderShipped", "--data",
                                         json.dumps(shipped(order))).stdout)
        view = worker.get(f"/orders/{order}", after=receipt["after"]).json()
        assert view["status"] == "shipped"  # later events flow again
        wait_caught_up(env)  # customers and stats apply deltas after the order view: all in
        customer = worker.get(f"/customers/{tag}-c").json()
        assert customer["order_count"] == 2
        stats = worker.get("/stats").json()
        assert stats["revenue_minor_total"]["EUR"] == 600  # two payments, neither counted twice

        audit = streams_cli(env, "dlq", "history", "--json")
        entries = [json.loads(line) for line in audit.stdout.splitlines()]
        assert [e["kind"] for e in entries] == ["dlq-redrive", "dlq-redrive"]
        assert entries[0]["details"]["moved"] == 2
        assert "@" in entries[0]["who"]
    finally:
        worker.stop()


def test_release_lets_later_events_of_a_parked_key_flow(
        registry_env: dict[str, str], own_registry: Restartable, tmp_path: Path) -> None:
    env = {**registry_env, "STREAMS_RETRY_MAX_ATTEMPTS": "1"}
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        order = f"{uuid.uuid4().hex[:6]}-released"
        orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            placed_event = ingest.prepare(body("OrderPlaced", placed(order, price=50)))
            payment = ingest.prepare(body("PaymentAuthorized", paid(order, 50)))
        producer = RawProducer(env)
        producer.send(orders, order.encode(), b"\x07 not avro")  # dead-lettered: parks the key
        producer.send_prepared(orders, placed_event)  # parked behind it
        producer.flush()
        wait_until(lambda: [p for p in _dlq_list(env)["parked"] if p["key"] == order], what="the key parked")

        released = streams_cli(env, "dlq", "release", "--key", order)
        assert released.returncode == 0, released.stderr
        wait_until(lambda: not [p for p in _dlq_list(env)["parked"] if p["key"] == order], what="the key freed")
        producer.send_prepared(orders, payment)
        producer.flush()
        # The released key flows: but OrderPlaced stayed in the dead-letter topic, so the payment has no
        # order to apply to and is refused by the lifecycle (counted), not parked.
        wait_until(lambda: metric(worker.get("/metrics").text, "streams_rejected_transitions_total",
                                  event_type="PaymentAuthorized") == 1, what="the payment processed")
        assert worker.get(f"/orders/{order}").status_code == 404
        assert [e["kind"] for e in map(json.loads, streams_cli(env, "dlq", "history", "--json").stdout.splitlines())
                ] == ["dlq-release"]
    finally:
        worker.stop()
