"""`streams produce` and `streams schemas` as a user runs them, against the real broker and registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def streams(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


PLACED = {"order_id": "cli-1", "customer_id": "c", "currency": "EUR", "placed_at": "2026-11-22T10:00:00Z",
          "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 99}], "total_minor": 99}


def test_produce_one_event_prints_its_receipt_with_headers(stack_env: dict[str, str]) -> None:
    result = streams(stack_env, "produce", "OrderPlaced", "--data", json.dumps(PLACED))
    assert result.returncode == 0, result.stderr
    receipt = json.loads(result.stdout)
    assert receipt["topic"] == f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    consumer = Consumer({"bootstrap.servers": stack_env["STREAMS_BROKER"].removeprefix("kafka://"),
                         "group.id": "cli-check", "auto.offset.reset": "earliest"})
    from confluent_kafka import TopicPartition
    consumer.assign([TopicPartition(receipt["topic"], receipt["partition"], receipt["offset"])])
    message = consumer.poll(15)
    consumer.close()
    assert message is not None
    headers = dict(message.headers() or [])
    assert headers["event_id"].decode() == receipt["event_id"]
    assert headers["event_type"] == b"OrderPlaced"
    assert {"correlation_id", "causation_id", "occurred_at", "producer"} <= set(headers)
    assert message.key() == b"cli-1"
    assert message.value()[0] == 0


def test_produce_invalid_event_is_one_line_and_exit_1(stack_env: dict[str, str]) -> None:
    result = streams(stack_env, "produce", "OrderPlaced", "--data", json.dumps({**PLACED, "total_minor": 5}))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("streams: error: OrderPlaced is not valid")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "total_minor" in result.stderr  # the field, not only a count of errors
    result = streams(stack_env, "produce", "OrderPlaced", "--data", "{nope")
    assert result.returncode == 1
    assert "not JSON" in result.stderr


def test_produce_file_reports_progress_and_a_summary(stack_env: dict[str, str], tmp_path: Path) -> None:
    lines = [json.dumps({"type": "OrderPlaced", "data": {**PLACED, "order_id": f"f-{i}"}}) for i in range(50)]
    lines.insert(10, json.dumps({"type": "OrderPlaced", "data": {**PLACED, "currency": "euros"}}))
    lines.insert(20, "not json")
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    result = streams(stack_env, "produce", "--file", str(path))
    assert result.returncode == 1  # two bad lines
    assert "produced 50, failed 2, of 52 lines" in result.stderr
    assert "line 11: OrderPlaced is not valid" in result.stderr
    assert "currency" in result.stderr
    assert "line 21: not JSON" in result.stderr


def test_schemas_register_then_check(stack_env: dict[str, str], tmp_path: Path) -> None:
    registered = streams(stack_env, "schemas", "register")
    assert registered.returncode == 0, registered.stderr
    assert "com.acme.orders.OrderPlaced" in registered.stdout
    checked = streams(stack_env, "schemas", "check")
    assert checked.returncode == 0, checked.stdout
    assert "BREAKING" not in checked.stdout
    current = len(list((ROOT / "schemas").glob("*.avsc")))
    assert (f"checked {current} schema(s) from {ROOT / 'schemas'} against {stack_env['STREAMS_SCHEMA_REGISTRY_URL']}: "
            f"{current} against their subject's {current} registered version(s) at its compatibility level, "
            "0 new (not registered yet); 0 break compatibility") in checked.stdout
    broken = tmp_path / "schemas"
    broken.mkdir()
    schema = json.loads((ROOT / "schemas" / "OrderCompleted.avsc").read_text())
    schema["fields"].append({"name": "rating", "type": "int", "doc": "no default: breaks BACKWARD"})
    (broken / "OrderCompleted.avsc").write_text(json.dumps(schema))
    result = streams(stack_env, "schemas", "check", "--dir", str(broken))
    assert result.returncode == 1
    assert "BREAKING" in result.stdout
    assert "reader_field_missing_default_value" in result.stdout


def test_schemas_register_registers_the_current_schemas_only(registry_env: dict[str, str]) -> None:
    """history/ is for evolution tests: an old schema must never become its subject's latest version, whether
    the registry is empty or already has the current schemas (registering twice changes nothing)."""
    subject = f"{registry_env['STREAMS_TOPIC_PREFIX']}orders-com.acme.orders.OrderPlaced"
    base = registry_env["STREAMS_SCHEMA_REGISTRY_URL"]
    for _ in range(2):
        result = streams(registry_env, "schemas", "register")
        assert result.returncode == 0, result.stderr
        assert "history" not in result.stdout
        assert httpx.get(f"{base}/subjects/{subject}/versions").json() == [1]
        latest = httpx.get(f"{base}/subjects/{subject}/versions/latest").json()
        assert "channel" in latest["schema"]  # the current OrderPlaced, not history/OrderPlaced.v1.avsc
