"""Every way the project produces is counted, by the worker that takes the records in: ``streams produce``,
``streams demo``, ``POST /events``, any other client."""

from __future__ import annotations

import json

import httpx
import pytest

from agents.demo import scenario
from tests.integration.harness import Worker, metric, streams_cli, wait_until
from tests.integration.orders.builders import RawProducer, placed

pytestmark = pytest.mark.integration


def test_records_in_are_counted_by_who_produced_them(worker: Worker, stack_env: dict[str, str]) -> None:
    orders = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    cli = streams_cli(stack_env, "produce", "OrderPlaced", "--data", json.dumps(placed("by-cli")))
    assert cli.returncode == 0, cli.stderr
    http = httpx.post(f"{worker.url}/events", json={"type": "OrderPlaced", "data": placed("by-http")}, timeout=30)
    assert http.status_code == 202, http.text
    demo = streams_cli(stack_env, "demo", "--orders", "2", "--seed", "7", "--no-poison", "--worker", worker.url)
    assert demo.returncode == 0, demo.stderr
    told = len(scenario(orders=2, seed=7).steps)
    producer = RawProducer(stack_env)
    producer.send(orders, b"by-other", b"\x00 not ours", [("producer", b"billing")])
    producer.send(orders, b"by-nobody", b"\x00 no headers")
    producer.flush()

    def counts() -> dict[str, float]:
        text = worker.get("/metrics").text
        return {source: metric(text, "streams_ingested_total", topic=orders, source=source)
                for source in ("cli", "http", "other", "none", "demo")}

    wait_until(lambda: counts() == {"cli": 1, "http": 1, "other": 1, "none": 1, "demo": told},
               what="each record counted once, by its source")
    text = worker.get("/metrics").text
    assert metric(text, "streams_produced_total", topic=orders, source="http") == 1  # what this worker sent itself
