"""Transient failures: retried in place and applied when they clear; an open breaker pauses instead of flooding.

The dependency that fails is real: the test's own schema registry, stopped and
started again on the same port and storage topic.  A record whose writer
schema the worker has not cached yet cannot be decoded while it is down.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.harness import Restartable, Worker, metric, wait_until
from tests.integration.lag.conftest import system_tool
from tests.integration.lag.test_dashboard import rendered
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed, read

pytestmark = pytest.mark.integration

AGENT = "orders-projection"


def test_a_transient_failure_that_clears_is_applied_after_retries(
        registry_env: dict[str, str], own_registry: Restartable, tmp_path: Path) -> None:
    env = {**registry_env, "STREAMS_RETRY_MAX_ATTEMPTS": "40", "STREAMS_RETRY_BASE_DELAY_S": "0.2",
           "STREAMS_RETRY_MAX_DELAY_S": "0.5"}
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        order = f"retry-{uuid.uuid4().hex[:6]}"
        orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            first = ingest.prepare(body("OrderPlaced", placed(order, price=700)))
            payment = ingest.prepare(body("PaymentAuthorized", paid(order, 700)))  # a schema the worker has not read
        producer = RawProducer(env)
        producer.send_prepared(orders, first)
        producer.flush()
        wait_until(lambda: worker.get(f"/orders/{order}").status_code == 200, what="the order placed")

        own_registry.stop()
        producer.send_prepared(orders, payment)
        producer.flush()
        wait_until(lambda: metric(worker.get("/metrics").text, "streams_retries_total", agent=AGENT) >= 2,
                   timeout=30, what="the worker retrying")
        own_registry.start()

        wait_until(lambda: worker.get(f"/orders/{order}").json()["status"] == "paid", timeout=30,
                   what="the payment applied once the registry is back")
        assert not [r for r in read(env, "orders.dlq") if r.key == order.encode()]
        metrics = worker.get("/metrics").text
        assert metric(metrics, "streams_retries_total", agent=AGENT, reason="RegistryUnavailableError") >= 2
        assert metric(metrics, "streams_dead_letters_total") == 0
    finally:
        worker.stop()


def test_the_first_record_out_of_retries_opens_the_breaker_which_pauses_and_holds_and_health_says_so(
        registry_env: dict[str, str], own_registry: Restartable, tmp_path: Path) -> None:
    env = {**registry_env, "STREAMS_RETRY_MAX_ATTEMPTS": "2", "STREAMS_RETRY_BASE_DELAY_S": "0.05",
           "STREAMS_BREAKER_OPEN_S": "0.5", "STREAMS_BREAKER_MAX_OPEN_S": "1"}
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        tag = uuid.uuid4().hex[:6]
        orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            placed_first = ingest.prepare(body("OrderPlaced", placed(f"{tag}-a", price=100)))
            payments = [ingest.prepare(body("PaymentAuthorized", paid(f"{tag}-a", 100)))]
            later = [ingest.prepare(body("OrderPlaced", placed(f"{tag}-{i}", price=100))) for i in range(5)]
        producer = RawProducer(env)
        producer.send_prepared(orders, placed_first)
        producer.flush()
        wait_until(lambda: worker.get(f"/orders/{tag}-a").status_code == 200, what="the first order")

        own_registry.stop()
        for prepared in [*payments, *later]:
            producer.send_prepared(orders, prepared)
        producer.flush()

        def breaker_open() -> bool:
            text = worker.get("/metrics").text
            return (metric(text, "streams_breaker_state", agent=AGENT) in (1, 2)
                    and metric(text, "streams_paused_partitions", agent=AGENT) > 0)

        wait_until(breaker_open, timeout=30, what="the breaker open and partitions paused")
        assert metric(worker.get("/metrics").text, "streams_dead_letters_total") == 0  # held, not dead-lettered
        health = worker.get("/health")
        assert health.status_code == 200  # still serving reads
        assert health.json()["status"] == "degraded"
        assert health.json()["breakers"][AGENT]["state"] in ("open", "half_open")
        assert "RegistryUnavailableError" in health.json()["breakers"][AGENT]["waiting_for"]
        assert worker.get("/api/lag").json()["breakers"][AGENT]["state"] in ("open", "half_open")
        page = rendered(system_tool("chromium"), tmp_path / "profile", f"{worker.url}/dashboard")
        [banner] = page.found["breaker-banner"]  # the dashboard says so too
        assert (banner["agent"], banner["state"] in ("open", "half_open")) == (AGENT, True)

        own_registry.start()
        wait_until(lambda: worker.get(f"/orders/{tag}-a").json()["status"] == "paid", timeout=30,
                   what="the held record applied after the probe")
        for i in range(5):
            wait_until(lambda i=i: worker.get(f"/orders/{tag}-{i}").status_code == 200, timeout=30,
                       what=f"order {i} behind it")
        text = worker.get("/metrics").text
        assert worker.get("/health").json()["breakers"][AGENT] == {"state": "closed", "waiting_for": None}
        assert metric(text, "streams_breaker_state", agent=AGENT) == 0
        assert metric(text, "streams_paused_partitions", agent=AGENT) == 0
        assert metric(text, "streams_dead_letters_total") == 0
        assert not [r for r in read(env, "orders.dlq") if (r.key or b"").startswith(tag.encode())]
    finally:
        worker.stop()

