"""Tracing on the real broker: one order's trace from POST /events to every read model and the saga's first
command, exported over OTLP/HTTP.

The worker exports to a receiver in the test (``streams.devstack.otlp``: the real wire
format, decoded with opentelemetry-proto).  Spans arrive in batches a few times a
second (``OTEL_BSP_SCHEDULE_DELAY``); the test waits for the ones it expects.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from streams import headers as h
from streams.devstack.otlp import OtlpReceiver, Received
from tests.integration.harness import Worker, streams_cli, wait_caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, placed, read

pytestmark = pytest.mark.integration

CONSUMER, PRODUCER, SERVER = 5, 4, 2  # OTLP's SpanKind numbers
ERROR = 2  # OTLP's STATUS_CODE_ERROR
CHANGED = ("customers", "stats")  # the read models an OrderPlaced changes (stock moves on InventoryReserved)


def traceparent() -> tuple[str, str, str]:
    """A caller's context: (traceparent, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    started = OtlpReceiver().start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def traced_env(stack_env: dict[str, str], receiver: OtlpReceiver) -> dict[str, str]:
    return {**stack_env, "STREAMS_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
            "STREAMS_SERVICE_NAME": "orders-worker-under-test", "STREAMS_SAGA": "true"}


@pytest.fixture
def traced_worker(traced_env: dict[str, str], tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(env=traced_env, data_dir=tmp_path / "w").start()
    try:
        yield worker
    finally:
        worker.stop()


def one(spans: list[Received], what: str) -> Received:
    assert len(spans) == 1, f"{what}: {[(s.name, s.span_id, s.parent_id) for s in spans]}"
    return spans[0]


def child(receiver: OtlpReceiver, parent: Received, name: str) -> Received:
    return one([s for s in receiver.trace(parent.trace_id) if s.parent_id == parent.span_id and s.name == name],
               f"{name} under {parent.name}")


def test_one_order_is_one_trace_from_the_request_to_the_read_models_it_changes_and_the_sagas_command(
        traced_worker: Worker, traced_env: dict[str, str], receiver: OtlpReceiver) -> None:
    prefix = traced_env["STREAMS_TOPIC_PREFIX"]
    order = f"o-{uuid.uuid4().hex[:8]}"
    caller, trace_id, caller_span = traceparent()
    assert traced_worker.get("/metrics").status_code == 200  # a scrape (the harness probed /health already)
    response = httpx.post(f"{traced_worker.url}/events", timeout=30, headers={"traceparent": caller},
                          json={**body("OrderPlaced", placed(order, customer=f"c-{order}", sku=f"s-{order}")),
                                "correlation_id": f"corr-{order}"})
    assert response.status_code == 202, response.text
    receipt = response.json()
    wait_caught_up(traced_env)

    inbox = f"{prefix}{traced_env['STREAMS_APP_ID']}-saga-inbox"

    def complete() -> bool:
        names = [s.name for s in receiver.trace(trace_id)]
        return (all(f"{model}-projection apply" in names for model in CHANGED)
                and f"{prefix}payments send" in names)

    wait_until(complete, timeout=60, what="the order's spans in the read models and the saga's payment command")
    spans = receiver.trace(trace_id)
    assert {s.service for s in spans} == {"orders-worker-under-test"}
    # scrapes and probes, served before the request and so exported no later than its spans, start no trace
    assert [s.name for s in receiver.spans if s.kind == SERVER] == ["POST /events"]

    request = one([s for s in spans if s.kind == SERVER], "the request")
    assert request.name == "POST /events"
    assert request.parent_id == caller_span  # continues the caller's trace
    send = child(receiver, request, f"{prefix}orders send")
    assert send.kind == PRODUCER

    process = child(receiver, send, f"{prefix}orders process")
    assert process.kind == CONSUMER
    assert process.attributes["streams.event_id"] == receipt["event_id"]
    assert process.attributes["streams.correlation_id"] == f"corr-{order}"
    assert process.attributes["streams.event_type"] == "OrderPlaced"
    assert process.attributes["streams.outcome"] == "applied"
    assert process.attributes["messaging.kafka.offset"] == receipt["offset"]
    assert child(receiver, process, "decode").end_ns > 0
    handle = child(receiver, process, "handle")
    assert handle.attributes == {"streams.event_type": "OrderPlaced", "streams.outcome": "applied"}
    assert child(receiver, process, "acknowledge").end_ns >= process.end_ns  # durable after it was processed

    fanned = sorted(s.name.removeprefix(prefix) for s in spans if s.parent_id == process.span_id
                    and s.kind == PRODUCER)
    assert fanned == ["analytics send", "notifications send", f"{inbox.removeprefix(prefix)} send"]
    for span in (s for s in spans if s.parent_id == process.span_id and s.kind == PRODUCER):
        assert "messaging.kafka.offset" in span.attributes  # ended by the broker's acknowledgement

    for model in CHANGED:
        apply = one([s for s in spans if s.name == f"{model}-projection apply"], model)
        assert apply.parent_id == process.span_id
        (link_trace, batch_id), = apply.links
        batch = one([s for s in receiver.spans if s.span_id == batch_id], f"{model}'s batch")
        assert batch.kind == CONSUMER
        assert batch.trace_id == link_trace != trace_id  # its own trace, linked
        assert (trace_id, process.span_id) in batch.links

    # the saga takes the order from its inbox and sends the payment command, in the same trace
    saga = child(receiver, child(receiver, process, f"{inbox} send"), f"{inbox} process")
    assert saga.kind == CONSUMER
    assert child(receiver, saga, "handle").attributes["streams.outcome"] == "running"
    payment_send = child(receiver, saga, f"{prefix}payments send")
    # and a payments service continues the trace from that command's own send span
    payments = [r for r in read(traced_env, "payments") if r.key == order.encode()]
    assert len(payments) == 1
    assert dict(payments[0].headers)[h.TRACEPARENT] == f"00-{trace_id}-{payment_send.span_id}-01".encode()


def test_an_outside_clients_traceparent_is_continued_and_a_malformed_one_starts_a_new_trace(
        traced_worker: Worker, traced_env: dict[str, str], stack_env: dict[str, str],
        receiver: OtlpReceiver) -> None:
    prefix = traced_env["STREAMS_TOPIC_PREFIX"]
    topic = f"{prefix}orders"
    good, bad = f"o-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"
    caller, trace_id, caller_span = traceparent()
    producer = RawProducer(stack_env)
    with ingest_for(stack_env) as ingest:  # no OTLP endpoint in this process: the client traces nothing itself
        first, second = ingest.prepare(body("OrderPlaced", placed(good))), ingest.prepare(body("OrderPlaced",
                                                                                                placed(bad)))
    producer.send(topic, first.key, first.value, [*first.envelope.to_headers(), (h.TRACEPARENT, caller.encode())])
    producer.send(topic, second.key, second.value, [*second.envelope.to_headers(),
                                                    (h.TRACEPARENT, b"00-not-a-trace-context-01")])
    producer.flush()
    wait_caught_up(traced_env)

    continued = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{topic} process"],
                           timeout=60, what="the outside record's process span")
    assert continued[0].parent_id == caller_span
    assert continued[0].attributes["streams.event_id"] == first.envelope.event_id

    fresh = wait_until(lambda: receiver.where(**{"streams.event_id": second.envelope.event_id}), timeout=60,
                       what="the malformed record's process span")
    span = one(fresh, "the malformed record's process span")
    assert span.parent_id == ""  # a new trace
    assert span.trace_id != trace_id
    assert span.attributes["streams.outcome"] == "applied"  # never a dead letter
    assert traced_worker.get(f"/orders/{bad}").status_code == 200


def test_a_poison_record_is_dead_lettered_and_redriven_in_its_trace_and_the_log_line_names_it(
        traced_worker: Worker, traced_env: dict[str, str], stack_env: dict[str, str],
        receiver: OtlpReceiver) -> None:
    prefix = traced_env["STREAMS_TOPIC_PREFIX"]
    caller, trace_id, caller_span = traceparent()
    producer = RawProducer(stack_env)
    producer.send(f"{prefix}orders", b"o-poison", b"not avro at all", [(h.TRACEPARENT, caller.encode())])
    producer.flush()
    wait_caught_up(traced_env)

    process = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders process"],
                         timeout=60, what="the poison record's process span")[0]
    assert process.parent_id == caller_span
    assert process.attributes["streams.outcome"] == "dead_lettered"
    assert process.status_code == ERROR
    assert process.attributes["streams.error.class"] == "BadMagicByteError"
    letter = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders.dlq send"],
                        timeout=60, what="the dead letter's send span")[0]
    assert letter.parent_id == process.span_id
    assert letter.kind == PRODUCER
    assert letter.attributes["streams.error.class"] == "BadMagicByteError"
    dead = [r for r in read(traced_env, "orders.dlq") if r.key == b"o-poison"]
    assert len(dead) == 1
    assert [v for k, v in dead[0].headers if k == h.TRACEPARENT] == [caller.encode()]  # the original's, kept

    lines = [line for line in traced_worker.log().splitlines() if "dead-lettering" in line]
    assert lines
    assert all(f"trace_id={trace_id} span_id={process.span_id}" in line for line in lines), lines

    # redriven, it stays in its trace: the redrive's send span continues the letter's context
    cli_env = {**traced_env, "STREAMS_SERVICE_NAME": ""}  # the CLI's own service name
    redrive = streams_cli(cli_env, "dlq", "redrive", "--key", "o-poison", "--execute")
    assert redrive.returncode == 0, redrive.stderr
    wait_caught_up(traced_env)
    sent = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders send"],
                      timeout=60, what="the redrive's send span")
    assert one(sent, "the redrive's send span").service == "streams-cli"
    assert sent[0].parent_id == caller_span
    again = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders process"
                                and s.parent_id == sent[0].span_id], timeout=60, what="the redriven record processed")
    assert again[0].attributes["streams.outcome"] == "dead_lettered"  # still poison: dead-lettered again, traced


def test_streams_produce_continues_the_traceparent_it_is_given(
        traced_worker: Worker, traced_env: dict[str, str], receiver: OtlpReceiver) -> None:
    prefix = traced_env["STREAMS_TOPIC_PREFIX"]
    order = f"o-{uuid.uuid4().hex[:8]}"
    caller, trace_id, caller_span = traceparent()
    done = streams_cli({**traced_env, "STREAMS_SERVICE_NAME": ""}, "produce", "OrderPlaced", "--data",
                       json.dumps(placed(order)), "--traceparent", caller)
    assert done.returncode == 0, done.stderr
    wait_caught_up(traced_env)
    send = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders send"],
                      timeout=60, what="the CLI's send span")[0]
    assert send.parent_id == caller_span
    assert send.service == "streams-cli"
    process = wait_until(lambda: [s for s in receiver.trace(trace_id) if s.name == f"{prefix}orders process"],
                         timeout=60, what="the worker's process span")[0]
    assert process.parent_id == send.span_id


    # OpenTelemetry's own variables keep their meaning: OTEL_SERVICE_NAME names the process, TRACEPARENT (the
    # environment carrier) is continued like --traceparent
    other, other_trace, other_span = traceparent()
    done = streams_cli({**traced_env, "STREAMS_SERVICE_NAME": "", "OTEL_SERVICE_NAME": "billing-cli",
                        "TRACEPARENT": other}, "produce", "OrderPlaced", "--data", json.dumps(placed(f"{order}-2")))
    assert done.returncode == 0, done.stderr
    send = wait_until(lambda: [s for s in receiver.trace(other_trace) if s.name == f"{prefix}orders send"],
                      timeout=60, what="the second CLI's send span")[0]
    assert send.parent_id == other_span
    assert send.service == "billing-cli"
