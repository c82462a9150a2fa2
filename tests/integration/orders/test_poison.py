"""A record the agent cannot read goes to orders.dlq byte for byte; the good records around it are applied."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer

from tests.integration.harness import Worker, wait_until

pytestmark = pytest.mark.integration
NOW = "2026-11-22T10:00:00Z"


def test_garbage_is_dead_lettered_and_the_agent_goes_on(stack_env: dict[str, str], tmp_path: Path) -> None:
    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        topic = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
        bootstrap = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
        key = f"poison-{uuid.uuid4().hex[:6]}"

        def place(order_id: str) -> dict[str, Any]:
            data = {"order_id": order_id, "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                    "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}], "total_minor": 1}
            response = httpx.post(f"{worker.url}/events", json={"type": "OrderPlaced", "data": data}, timeout=30)
            assert response.status_code == 202
            return dict(response.json())

        place(f"{key}-before")
        producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
        poison = [b"\x07not avro", b"\x00\x00\x00\xff\xffunknown schema id", b""]
        for value in poison:
            producer.produce(topic, key=key.encode(), value=value,
                             headers=[("trace", b"\x01\x02"), ("empty", b""), ("null", None)])
        assert producer.flush(10) == 0
        after = place(f"{key}-after")
        assert worker.get(f"/orders/{key}-after", after=after["after"]).status_code == 200
        assert worker.get(f"/orders/{key}-before").status_code == 200

        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"dlq-{key}", "auto.offset.reset": "earliest"})
        consumer.subscribe([f"{topic}.dlq"])
        letters: list[Any] = []

        def collect() -> bool:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None and message.key() == key.encode():
                letters.append(message)
            return len(letters) == len(poison)

        wait_until(collect, timeout=60, what="three dead letters")
        consumer.close()
        assert [m.value() for m in letters] == poison
        for message in letters:
            assert message.headers()[:3] == [("trace", b"\x01\x02"), ("empty", b""), ("null", None)]  # as sent
            headers = dict(message.headers())
            assert headers["dlq_original_topic"] == topic.encode()
            assert headers["dlq_agent"] == b"orders-projection"
            assert int(headers["dlq_original_offset"]) >= 0
        # One key: the first bad record is dead-lettered, the two after it are parked behind it, in order.
        classes = [dict(m.headers())["dlq_error_class"] for m in letters]
        assert classes == [b"BadMagicByteError", b"Parked", b"Parked"]
        assert [dict(m.headers())["dlq_sequence"] for m in letters] == [b"1", b"2", b"3"]
        assert "dead_lettered" in worker.get("/metrics").text
    finally:
        worker.stop()
