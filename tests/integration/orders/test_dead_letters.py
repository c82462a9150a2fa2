"""Every kind of poison lands in orders.dlq byte for byte with where and why; the good records around it apply.

And a worker killed with SIGKILL in the middle of a batch with poison in it
loses nothing and double-counts nothing once restarted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agents.ingest import OrderIngest
from streams import headers as h
from streams.recordpath.records import header
from tests.integration.harness import Worker, metric, wait_caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed, read

pytestmark = pytest.mark.integration


def _poison(env: dict[str, str], ingest: OrderIngest,
            tag: str) -> dict[str, tuple[bytes, bytes, list[tuple[str, bytes]], str]]:
    """Kind -> (key, value, headers, expected error class), one record of each kind of poison."""
    codec = ingest.codec
    schema = ingest.catalog.schemas["OrderPlaced"]
    orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"

    def key(kind: str) -> bytes:
        return f"{tag}-{kind}".encode()

    good_record = {**placed("x"), "placed_at": datetime.fromisoformat("2026-11-22T10:00:00+00:00")}
    valid = codec.encode(orders, schema, {**good_record, "order_id": key("truncated").decode()})
    zero_quantity = {**good_record, "order_id": key("invalid").decode(),
                     "items": [{"sku": "s", "quantity": 0, "unit_price_minor": 100}], "total_minor": 0}
    other_key = ingest.prepare(body("OrderPlaced", placed(f"{tag}-someone-else")))
    bad_header = ingest.prepare(body("OrderPlaced", placed(key("header").decode())))
    headers = [(n, b"not-a-uuid" if n == h.EVENT_ID else v) for n, v in bad_header.envelope.to_headers()]
    return {
        "magic": (key("magic"), b"\x07not avro", [("trace", b"\x01\x02")], "BadMagicByteError"),
        "empty": (key("empty"), b"", [], "EmptyPayloadError"),
        "unknown-id": (key("unknown-id"), b"\x00\x00\x0f\xff\xff\x02", [], "UnknownSchemaIdError"),
        "truncated": (key("truncated"), valid[:-3], [], "BadAvroError"),
        "invalid": (key("invalid"), codec.encode(orders, schema, zero_quantity), [], "ValidationError"),
        "key-mismatch": (key("key-mismatch"), other_key.value, other_key.envelope.to_headers(), "ValidationError"),
        "bad-header": (key("header"), bad_header.value, headers, "BadHeaderError"),
    }


def test_each_kind_of_poison_is_dead_lettered_with_where_and_why(stack_env: dict[str, str], tmp_path: Path) -> None:
    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        tag = uuid.uuid4().hex[:6]
        orders = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
        producer = RawProducer(stack_env)
        with ingest_for(stack_env) as ingest:
            poison = _poison(stack_env, ingest, tag)
            for index, (key, value, headers, _) in enumerate(poison.values()):
                producer.send_prepared(orders, ingest.prepare(body("OrderPlaced", placed(f"{tag}-good-{index}"))))
                producer.send(orders, key, value, headers)
            producer.send_prepared(orders, ingest.prepare(body("OrderPlaced", placed(f"{tag}-good-last"))))
        producer.flush()

        wait_caught_up(stack_env, timeout=60)  # every record judged, every letter written: none still to come
        found = [r for r in read(stack_env, "orders.dlq") if (r.key or b"").startswith(tag.encode())]
        assert sorted(r.key for r in found) == sorted(key for key, *_ in poison.values())  # each once
        for index in range(len(poison)):
            assert worker.get(f"/orders/{tag}-good-{index}").status_code == 200
        assert worker.get(f"/orders/{tag}-good-last").status_code == 200

        originals = {r.key: r for r in read(stack_env, "orders") if (r.key or b"").startswith(tag.encode())}
        by_key = {r.key: r for r in found}
        for kind, (key, value, headers, error_class) in poison.items():
            letter = by_key[key]
            assert letter.value == value, kind
            assert list(letter.headers[: len(headers)]) == headers, kind  # original headers first, byte for byte
            assert header(letter.headers, h.DLQ_ERROR_CLASS) == error_class.encode(), kind
            original = originals[key]
            assert header(letter.headers, h.DLQ_ORIGINAL_TOPIC) == orders.encode()
            assert header(letter.headers, h.DLQ_ORIGINAL_PARTITION) == str(original.partition).encode()
            assert header(letter.headers, h.DLQ_ORIGINAL_OFFSET) == str(original.offset).encode()
            assert header(letter.headers, h.DLQ_ORIGINAL_TIMESTAMP) == str(original.timestamp_ms).encode()
            assert header(letter.headers, h.DLQ_ATTEMPTS) == b"1", kind  # permanent: no retries
            assert header(letter.headers, h.DLQ_AGENT) == b"orders-projection"
            assert header(letter.headers, h.DLQ_SEQUENCE) == b"1"
            assert (header(letter.headers, h.DLQ_ERROR_MESSAGE) or b"") != b""
            failed_at = (header(letter.headers, h.DLQ_FAILED_AT) or b"").decode()
            assert datetime.fromisoformat(failed_at.replace("Z", "+00:00")).tzinfo is not None
        metrics = worker.get("/metrics").text
        assert metric(metrics, "streams_dead_letters_total", topic=orders, reason="ValidationError") == 2
        assert metric(metrics, "streams_dead_letters_total", topic=orders, reason="BadMagicByteError") == 1
    finally:
        worker.stop()


def test_sigkill_mid_batch_with_poison_loses_nothing_and_double_counts_nothing(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    orders = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    customers = [f"{tag}-c{i}" for i in range(10)]
    count = 600
    records = []
    with ingest_for(stack_env) as ingest:
        for i in range(count):
            order = f"{tag}-o{i}"
            records.append(ingest.prepare(body("OrderPlaced", placed(order, customers[i % 10], price=100 + i))))
            records.append(ingest.prepare(body("PaymentAuthorized", paid(order, 100 + i))))
    poison_keys = {f"{tag}-poison-{i}".encode() for i in range(6)}
    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    producer = RawProducer(stack_env)
    poison_iter = iter(sorted(poison_keys))
    for i, prepared in enumerate(records):
        producer.send_prepared(orders, prepared)
        if i % 200 == 100:
            producer.send(orders, next(poison_iter), b"\x07poison")
    producer.flush()

    def applied() -> int:
        stats = worker.get("/stats").json()
        return int(sum(stats["orders_by_status"].values()))

    wait_until(lambda: applied() > 0, timeout=30, what="the first events applied")
    worker.kill()
    restarted = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        seen: dict[str, Any] = {}

        def done() -> bool:
            seen.update(restarted.get("/stats").json())
            return bool(seen["orders_by_status"].get("paid") == count)

        try:
            wait_until(done, timeout=120, what=f"{count} paid orders after the restart")
        except AssertionError as exc:  # say how far it got
            raise AssertionError(f"{exc}; orders by status: {seen.get('orders_by_status')}") from None
        wait_caught_up(stack_env)  # everything judged and written: anything double-counted shows now
        stats = restarted.get("/stats").json()
        assert {k: v for k, v in stats["orders_by_status"].items() if v} == {"paid": count}
        assert stats["revenue_minor_total"]["EUR"] == sum(100 + i for i in range(count))
        for index, customer in enumerate(customers):
            view = restarted.get(f"/customers/{customer}").json()
            assert view["order_count"] == count // 10, customer
            assert view["lifetime_value_minor"]["EUR"] == sum(100 + i for i in range(index, count, 10))
        letters = {r.key for r in read(stack_env, "orders.dlq") if (r.key or b"").startswith(tag.encode())}
        assert letters == poison_keys  # every poison record, and nothing else, in the dead-letter topic
    finally:
        restarted.stop()
