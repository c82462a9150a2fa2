"""Order events through POST /events into all four read models, on one worker and the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from streams.avro import AvroCodec, AvroSchema, ConfluentRegistry
from streams.envelope import Envelope
from tests.integration.harness import Worker, wait_until

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
NOW = "2026-11-22T10:00:00Z"


@pytest.fixture(scope="module")
def env(kafka_broker: Any, registry: Any) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"STREAMS_BROKER": kafka_broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
            "STREAMS_TOPIC_PREFIX": f"m{tag}.", "STREAMS_APP_ID": f"orders-{tag}", "STREAMS_TOPIC_PARTITIONS": "4",
            "STREAMS_API_TOKEN": "test-token",
            "STREAMS_SAGA": "false"}  # read models judged by the events the tests send (harness.worker_env)


@pytest.fixture(scope="module")
def worker(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = Worker(env=env, data_dir=tmp_path_factory.mktemp("worker")).start()
    try:
        yield w
    finally:
        w.stop()


AUTH = {"Authorization": "Bearer test-token"}


def post(worker: Worker, event_type: str, data: dict[str, Any], **extra: Any) -> httpx.Response:
    return httpx.post(f"{worker.url}/events", json={"type": event_type, "data": data, **extra}, headers=AUTH,
                      timeout=30)


def placed(order_id: str, customer: str = "cust-1", sku: str = "sku-1", qty: int = 2,
           price: int = 500) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": customer, "currency": "EUR", "placed_at": NOW,
            "items": [{"sku": sku, "quantity": qty, "unit_price_minor": price}], "total_minor": qty * price}


def accepted(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def test_full_lifecycle_end_to_end_with_read_your_writes(worker: Worker) -> None:
    oid, cust, sku = f"life-{uuid.uuid4().hex[:6]}", f"cust-{uuid.uuid4().hex[:6]}", f"sku-{uuid.uuid4().hex[:6]}"
    steps = [
        ("OrderPlaced", placed(oid, cust, sku)),
        ("PaymentAuthorized", {"order_id": oid, "payment_id": "pay-1", "amount_minor": 1000, "currency": "EUR",
                               "authorized_at": NOW}),
        ("InventoryReserved", {"order_id": oid, "reservation_id": "res-1", "reserved_at": NOW}),
        ("OrderShipped", {"order_id": oid, "carrier": "dhl", "tracking_number": "T-1", "shipped_at": NOW}),
        ("OrderCompleted", {"order_id": oid, "completed_at": "2026-11-22T12:30:00Z"}),
    ]
    receipts = {event_type: accepted(post(worker, event_type, data)) for event_type, data in steps}
    receipt = receipts["OrderCompleted"]
    order = worker.get(f"/orders/{oid}", after=receipt["after"]).json()  # read your writes: no polling
    assert order["status"] == "completed"
    # The view shows the times the events say, not when they were sent.
    assert (order["placed_at"], order["updated_at"]) == (NOW, "2026-11-22T12:30:00Z")
    assert order["_meta"]["applied"]["offset"] == receipt["offset"]
    assert [h["to_status"] for h in order["history"]] == ["placed", "paid", "reserved", "shipped", "completed"]
    # ?after= names a write to that read model: the customer changed with OrderPlaced, the stock with the
    # reservation; stats change with every event.
    customer = worker.get(f"/customers/{cust}", after=receipts["OrderPlaced"]["after"]).json()
    assert (customer["order_count"], customer["order_ids"]) == (1, [oid])
    assert customer["lifetime_value_minor"] == {"EUR": 1000}
    stock = worker.get(f"/inventory/{sku}", after=receipts["InventoryReserved"]["after"]).json()
    assert (stock["reserved"], stock["held"]) == (2, 2)
    stats = worker.get("/stats", after=receipt["after"]).json()
    assert stats["orders_by_status"].get("completed", 0) >= 1
    assert stats["revenue_minor_by_hour"]["2026-11-22T10:00Z"]["EUR"] >= 1000  # the payment's own hour


def test_duplicate_event_id_is_applied_once(worker: Worker) -> None:
    oid, cust = f"dup-{uuid.uuid4().hex[:6]}", f"cust-{uuid.uuid4().hex[:6]}"
    event_id = str(uuid.uuid4())
    first = accepted(post(worker, "OrderPlaced", placed(oid, cust), event_id=event_id))
    second = accepted(post(worker, "OrderPlaced", placed(oid, cust), event_id=event_id))
    assert second["offset"] != first["offset"] or second["partition"] != first["partition"]
    order = worker.get(f"/orders/{oid}", after=second["after"]).json()
    assert len(order["history"]) == 1
    customer = worker.get(f"/customers/{cust}", after=first["after"], wait="10").json()
    assert customer["order_count"] == 1
    metrics = worker.get("/metrics").text
    assert 'outcome="duplicate"' in metrics


def test_disallowed_transition_is_counted_not_applied(worker: Worker) -> None:
    oid = f"bad-{uuid.uuid4().hex[:6]}"
    accepted(post(worker, "OrderPlaced", placed(oid)))
    receipt = accepted(post(worker, "OrderShipped", {"order_id": oid, "carrier": "ups", "tracking_number": "X",
                                                     "shipped_at": NOW}))
    order = worker.get(f"/orders/{oid}", after=receipt["after"]).json()
    assert order["status"] == "placed"
    assert order["tracking_number"] is None
    metrics = worker.get("/metrics").text
    line = next(row for row in metrics.splitlines() if row.startswith("streams_rejected_transitions_total{")
                and 'event_type="OrderShipped"' in row and 'from_status="placed"' in row)
    assert float(line.rsplit(" ", 1)[1]) >= 1
    assert worker.get("/health").status_code == 200  # the agent kept going


def test_read_your_writes_times_out_with_504(worker: Worker) -> None:
    response = worker.get("/orders/whatever", after="0:999999999", wait="0.5")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"


def test_v1_and_v2_producers_side_by_side(worker: Worker, env: dict[str, str]) -> None:
    topic = f"{env['STREAMS_TOPIC_PREFIX']}orders"
    registry_client = ConfluentRegistry(env["STREAMS_SCHEMA_REGISTRY_URL"])
    codec = AvroCodec(registry_client)
    v1 = AvroSchema.from_file(SCHEMAS / "history" / "OrderPlaced.v1.avsc")
    v2 = AvroSchema.from_file(SCHEMAS / "OrderPlaced.avsc")
    subject = codec.subject(topic, v2)
    producer = Producer({"bootstrap.servers": env["STREAMS_BROKER"].removeprefix("kafka://"),
                         "partitioner": "murmur2_random"})
    from datetime import UTC, datetime
    for version, schema, oid in ((1, v1, f"v1-{uuid.uuid4().hex[:6]}"), (2, v2, f"v2-{uuid.uuid4().hex[:6]}")):
        record: dict[str, Any] = {**placed(oid), "placed_at": datetime(2026, 11, 22, tzinfo=UTC)}
        if version == 2:
            record["channel"] = "app"
        envelope = Envelope.new("OrderPlaced", f"producer-v{version}")
        producer.produce(topic, key=oid.encode(), value=codec.encode(topic, schema, record),
                         headers=envelope.to_headers())
        assert producer.flush(10) == 0
        body = wait_until(lambda oid=oid: (r := worker.get(f"/orders/{oid}")).status_code == 200 and r.json(),
                          timeout=30, what=f"{oid} applied")
        assert body["status"] == "placed"
    registry_client.close()
    with httpx.Client() as client:
        versions = client.get(f"{env['STREAMS_SCHEMA_REGISTRY_URL']}/subjects/{subject}/versions").json()
    assert versions == [1, 2]


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "bad_request"),
    (b"[]", 422, "validation_error"),
    (b'{"type": "OrderPlaced"}', 422, "validation_error"),
    (b'{"type": "Nope", "data": {}}', 422, "validation_error"),
    (b'{"type": "OrderPlaced", "data": {"order_id": 5}}', 422, "validation_error"),
    (b'{"type": "OrderCompleted", "data": {"order_id": "x", "completed_at": "soon"}}', 422, "validation_error"),
    (b'{"type": "OrderCompleted", "data": {"order_id": "x", "completed_at": "2026-01-01T00:00:00Z"}, '
     b'"event_id": "not-a-uuid"}', 422, "bad_header"),
    (b'{"type": "OrderCompleted", "data": {}, "extra": 1}', 422, "validation_error"),
])
def test_bad_http_input_gets_4xx_json(worker: Worker, body: bytes, status: int, code: str) -> None:
    response = httpx.post(f"{worker.url}/events", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_field_errors_are_listed(worker: Worker) -> None:
    response = post(worker, "OrderPlaced", {**placed("x"), "currency": "euro", "items": []})
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"currency", "items"} <= fields


def test_mutations_need_the_token_and_reads_do_not(worker: Worker) -> None:
    response = httpx.post(f"{worker.url}/events", json={"type": "OrderCompleted", "data": {}})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "test-token" not in response.text
    assert httpx.post(f"{worker.url}/events", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    for malformed in (b"Bearer", b"Basic dGVzdC10b2tlbg==", b"Bearer \xff\xfe", b"test-token"):
        refused = httpx.post(f"{worker.url}/events", json={}, headers={"Authorization": malformed})
        assert refused.status_code == 401, (malformed, refused.text)
        assert refused.json()["error"]["code"] == "unauthorized"
    assert worker.get("/stats").status_code == 200


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/orders/x", {"after": "abc"}, 400), ("/orders/x", {"after": "1:2", "wait": "nan"}, 400),
    ("/orders/x", {"after": "1:2", "wait": "-1"}, 400), ("/customers/x", {"after": "1"}, 400),
    ("/inventory/none-such", {}, 404), ("/customers/none-such", {}, 404), ("/no/such/route", {}, 404),
])
def test_bad_reads_are_4xx_json(worker: Worker, path: str, params: dict[str, str], status: int) -> None:
    response = worker.get(path, **params)
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_metrics_exposition(worker: Worker) -> None:
    text = worker.get("/metrics").text
    for name in ("streams_events_total", "streams_processing_seconds_bucket", "streams_query_seconds_bucket"):
        assert name in text
