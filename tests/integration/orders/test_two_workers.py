"""Two workers share the partitions; each answers for every key (Faust table routing)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner

from tests.integration.harness import Worker, wait_until

pytestmark = pytest.mark.integration
NOW = "2026-11-22T10:00:00Z"


def test_each_worker_answers_for_keys_of_every_partition(stack_env: dict[str, str], tmp_path: Path) -> None:
    first = Worker(env=stack_env, data_dir=tmp_path / "a").start()
    second = Worker(env=stack_env, data_dir=tmp_path / "b").start()
    try:
        def split() -> bool:
            a = first.get("/health").json()
            b = second.get("/health").json()
            topic = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
            mine = [p for p in a["assigned_partitions"] if p.startswith(topic + ":")]
            theirs = [p for p in b["assigned_partitions"] if p.startswith(topic + ":")]
            return a["ready"] and b["ready"] and len(mine) == 2 and len(theirs) == 2

        wait_until(split, timeout=90, what="both workers ready with two orders partitions each")
        partitioner = DefaultPartitioner()
        keys: dict[int, str] = {}
        while len(keys) < 4:  # one order id per partition, by Kafka's murmur2 partitioner
            key = f"route-{uuid.uuid4().hex[:8]}"
            keys.setdefault(partitioner(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3]), key)
        receipts = {}
        for partition, key in keys.items():
            data: dict[str, Any] = {"order_id": key, "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                                    "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}], "total_minor": 1}
            response = httpx.post(f"{first.url}/events", json={"type": "OrderPlaced", "data": data}, timeout=30)
            assert response.status_code == 202, response.text
            receipts[key] = response.json()
            assert receipts[key]["partition"] == partition
        for key, receipt in receipts.items():
            for worker in (first, second):
                response = worker.get(f"/orders/{key}", after=receipt["after"], wait="15")
                if response.status_code != 200:
                    diag = [(w.url, w.get("/health").json()["assigned_partitions"],
                             [m for m in w.get("/metrics").text.splitlines() if m.startswith("streams_events_total")])
                            for w in (first, second)]
                    raise AssertionError(f"{worker.url} {key} {receipt} {response.text} {diag}")
                assert response.json()["order_id"] == key
                assert response.json()["_meta"]["applied"]["partition"] == receipt["partition"]
    finally:
        second.stop()
        first.stop()
