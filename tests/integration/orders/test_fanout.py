"""Fan-out on the real broker: every rule routes what it should and nothing else, Avro a client can read."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from streams import headers as h
from streams.recordpath.records import RawRecord, header
from tests.integration.harness import Worker, metric, wait_caught_up
from tests.integration.orders.builders import body, paid, placed, read, shipped

pytestmark = pytest.mark.integration

TARGETS = ("notifications", "fraud-review", "analytics")  # commands are the saga's (tests/integration/saga)


def test_fanout_routes_by_type_and_content_keeping_key_and_ids(stack_env: dict[str, str], tmp_path: Path) -> None:
    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        tag = uuid.uuid4().hex[:6]
        big, small = f"{tag}-big", f"{tag}-small"
        receipts: dict[str, dict[str, Any]] = {}
        events = [("big-placed", "OrderPlaced", placed(big, qty=3, price=50_000)),  # 1500.00 EUR: fraud review
                  ("small-placed", "OrderPlaced", placed(small, qty=1, price=100_000)),  # exactly 1000.00: not over
                  ("big-paid", "PaymentAuthorized", paid(big, 150_000)),
                  ("small-shipped", "OrderShipped", shipped(small))]  # unpaid: the lifecycle refuses it
        for name, event_type, data in events:
            response = httpx.post(f"{worker.url}/events", json={**body(event_type, data),
                                                                "correlation_id": f"corr-{name}"}, timeout=30)
            assert response.status_code == 202, response.text
            receipts[name] = response.json()

        def out(topic: str) -> list[RawRecord]:
            return [r for r in read(stack_env, topic) if (r.key or b"").startswith(tag.encode())]

        wait_caught_up(stack_env, timeout=60)  # every event judged and all it wrote durable, in every topic
        outputs = {topic: out(topic) for topic in TARGETS}
        routed = {topic: sorted((r.key or b"").decode() for r in records) for topic, records in outputs.items()}
        assert routed == {
            "notifications": [big, small],
            "fraud-review": [big], "analytics": [big, big, small, small],  # the refused one too
        }
        by_event = {receipt["event_id"]: name for name, receipt in receipts.items()}
        for records in outputs.values():
            for record in records:
                causation = (header(record.headers, h.CAUSATION_ID) or b"").decode()
                source = by_event[causation]  # the causation id is the source event's id
                assert header(record.headers, h.CORRELATION_ID) == f"corr-{source}".encode()
                assert header(record.headers, h.EVENT_ID) != receipts[source]["event_id"].encode()

        sources = {r.key: r for r in read(stack_env, "orders") if r.key == big.encode()
                   and header(r.headers, h.EVENT_TYPE) == b"OrderPlaced"}
        notified = next(r for r in outputs["notifications"] if r.key == big.encode())
        assert notified.value == sources[big.encode()].value  # forwarded as is: same bytes, same writer schema


        text = worker.get("/metrics").text
        assert metric(text, "streams_fanout_total", rule="fraud-review") == 1
        assert metric(text, "streams_fanout_total", rule="analytics") == 4
        assert metric(text, "streams_rejected_transitions_total", event_type="OrderShipped") == 1
    finally:
        worker.stop()
