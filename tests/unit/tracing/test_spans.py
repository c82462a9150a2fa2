"""The record path's spans, made by ``RecordSpans`` on a local tracer provider and read back from memory."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from streams import headers as h
from streams.recordpath.outbox import Ticket
from streams.tracing.sampling import sampler
from streams.tracing.spans import ATTR, RecordSpans

TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
SPAN_HEX = "b7ad6b7169203331"
CALLER = f"00-{TRACE_HEX}-{SPAN_HEX}-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Decided:
    """A domain's ``handle`` result that says what it decided (``Traced``)."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    def span_attributes(self) -> dict[str, str]:
        return {ATTR.EVENT_TYPE: "OrderPlaced", ATTR.OUTCOME: self.outcome}


def finished(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in exporter.get_finished_spans()]
    return found[0]


def names(exporter: InMemorySpanExporter) -> list[str]:
    return [span.name for span in exporter.get_finished_spans()]


def ids(span: ReadableSpan | trace.Span) -> tuple[int, int]:
    context = span.get_span_context()
    assert context is not None
    return context.trace_id, context.span_id


def text(span: ReadableSpan | trace.Span) -> str:
    """``span``'s context as W3C's ``traceparent`` writes it."""
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


ENVELOPE = [(h.EVENT_ID, b"e-1"), (h.EVENT_TYPE, b"OrderPlaced"), (h.CORRELATION_ID, b"corr-1"),
            (h.CAUSATION_ID, None)]


def test_process_is_a_consumer_span_continuing_the_records_trace_named_by_its_envelope(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 3, 41, [*ENVELOPE, (h.TRACEPARENT, CALLER.encode())]) as span:
        assert trace.get_current_span() is span
        assert names(exporter) == []  # ended with the block
    process = finished(exporter, "orders process")
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None
    assert (process.parent.trace_id, process.parent.span_id) == (int(TRACE_HEX, 16), int(SPAN_HEX, 16))
    assert process.parent.is_remote
    assert ids(process)[0] == int(TRACE_HEX, 16)
    assert dict(process.attributes or {}) == {
        ATTR.SYSTEM: "kafka", ATTR.DESTINATION: "orders", ATTR.PARTITION: "3", ATTR.OFFSET: 41,
        ATTR.OPERATION: "process", ATTR.AGENT: "orders-agent",
        ATTR.EVENT_ID: "e-1", ATTR.EVENT_TYPE: "OrderPlaced", ATTR.CORRELATION_ID: "corr-1"}


@pytest.mark.parametrize("carried", [[], [(h.TRACEPARENT, b"00-not-a-trace-context-01")]], ids=["none", "malformed"])
def test_a_record_without_a_valid_traceparent_starts_a_new_trace(
        spans: RecordSpans, exporter: InMemorySpanExporter, carried: list[tuple[str, bytes]]) -> None:
    with spans.process("orders-agent", "orders", 0, 0, carried):
        pass
    assert finished(exporter, "orders process").parent is None


def test_an_error_escaping_process_ends_its_span_with_error_status(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with pytest.raises(RuntimeError, match="boom"), spans.process("orders-agent", "orders", 0, 0, ENVELOPE):
        raise RuntimeError("boom")
    process = finished(exporter, "orders process")
    assert process.status.status_code is StatusCode.ERROR
    assert [event.name for event in process.events] == ["exception"]


def test_decode_and_handle_are_children_of_process(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        with spans.step("decode"):
            pass
        with spans.handling() as handled:
            handled(Decided("applied"))
    handle, decode = finished(exporter, "handle"), finished(exporter, "decode")
    for step in (handle, decode):
        assert step.parent is not None
        assert step.parent.span_id == ids(span)[1]
    assert dict(handle.attributes or {}) == {ATTR.EVENT_TYPE: "OrderPlaced", ATTR.OUTCOME: "applied"}


def test_a_result_that_names_no_outcome_sets_nothing(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, []) as span:
        with spans.handling() as handled:
            handled({"outcome": "rejected"})  # not ``Traced``
        spans.settled(span, "applied")
    assert dict(finished(exporter, "handle").attributes or {}) == {}
    assert (finished(exporter, "orders process").attributes or {})[ATTR.OUTCOME] == "applied"


def test_settled_keeps_the_domains_outcome(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        with spans.handling() as handled:
            handled(Decided("rejected"))
        spans.settled(span, "applied")  # the platform applied what the domain decided: a rejection
    assert (finished(exporter, "orders process").attributes or {})[ATTR.OUTCOME] == "rejected"


@pytest.mark.parametrize("outcome", ["dead_lettered", "parked", "already_processed"])
def test_settled_sets_the_platforms_outcome_over_the_domains(
        spans: RecordSpans, exporter: InMemorySpanExporter, outcome: str) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        with spans.handling() as handled:
            handled(Decided("applied"))
        spans.settled(span, outcome)
    assert (finished(exporter, "orders process").attributes or {})[ATTR.OUTCOME] == outcome


def test_a_dead_letter_sets_error_status_and_the_error_on_the_current_span(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE):
        spans.dead_lettered("Poison", "bad bytes")
    process = finished(exporter, "orders process")
    assert process.status.status_code is StatusCode.ERROR
    assert process.status.description == "Poison: bad bytes"
    attributes = process.attributes or {}
    assert (attributes[ATTR.ERROR_CLASS], attributes[ATTR.ERROR_MESSAGE]) == ("Poison", "bad bytes")


def test_each_retry_is_an_event_with_its_attempt(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE):
        spans.retried(1, "Timeout", "registry slow")
        spans.retried(2, "Timeout", "registry slower")
    events = finished(exporter, "orders process").events
    assert [(event.name, dict(event.attributes or {})) for event in events] == [
        ("retry", {ATTR.ATTEMPT: 1, ATTR.ERROR_CLASS: "Timeout", ATTR.ERROR_MESSAGE: "registry slow"}),
        ("retry", {ATTR.ATTEMPT: 2, ATTR.ERROR_CLASS: "Timeout", ATTR.ERROR_MESSAGE: "registry slower"})]


def test_acknowledge_lasts_until_the_tickets_done_runs(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    acked: list[str] = []
    ticket = Ticket()
    ticket.done = lambda: acked.append("e-1")  # sealed, its records still in flight
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        spans.acknowledging(ticket, span)
    assert names(exporter) == ["orders process"]  # not acknowledged yet: no acknowledge span ended
    assert acked == []
    assert ticket.done is not None
    ticket.done()
    assert acked == ["e-1"]
    acknowledge = finished(exporter, "acknowledge")
    assert acknowledge.parent is not None
    assert acknowledge.parent.span_id == ids(span)[1]


def test_no_acknowledge_span_for_an_event_already_acknowledged_or_not_recorded(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    acknowledged = Ticket()  # sealed with nothing in flight: done already ran, none is left
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        spans.acknowledging(acknowledged, span)
    assert acknowledged.done is None

    def done() -> None:
        pass

    waiting = Ticket()
    waiting.done = done
    spans.acknowledging(waiting, trace.INVALID_SPAN)
    assert waiting.done is done
    assert names(exporter) == ["orders process"]


def test_send_is_a_producer_span_carried_by_the_record_and_ended_by_its_delivery(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as process:
        headers, send = spans.send("payments", [(h.EVENT_ID, b"e-2")])
    assert send is not None
    assert headers == [(h.EVENT_ID, b"e-2"), (h.TRACEPARENT, text(send).encode())]
    assert "payments send" not in names(exporter)  # in flight
    RecordSpans.delivered(send, 2, 17, None)
    span = finished(exporter, "payments send")
    assert span.kind is SpanKind.PRODUCER
    assert span.parent is not None
    assert span.parent.span_id == ids(process)[1]
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {ATTR.SYSTEM: "kafka", ATTR.DESTINATION: "payments",
                                           ATTR.OPERATION: "send", ATTR.PARTITION: "2", ATTR.OFFSET: 17}


def test_a_refused_send_ends_with_error_status(spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE):
        _, send = spans.send("payments", [])
    assert send is not None
    RecordSpans.delivered(send, 0, 0, "MSG_SIZE_TOO_LARGE: too big")
    span = finished(exporter, "payments send")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "MSG_SIZE_TOO_LARGE: too big"
    assert ATTR.OFFSET not in (span.attributes or {})


def test_a_dead_letters_send_names_its_error_and_keeps_the_originals_trace_context(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    original = [(h.EVENT_ID, b"e-1"), (h.TRACEPARENT, CALLER.encode()), (h.DLQ_ERROR_CLASS, b"Poison"),
                (h.DLQ_ERROR_MESSAGE, b"bad bytes")]
    with spans.process("orders-agent", "orders", 0, 0, [(h.TRACEPARENT, CALLER.encode())]):
        headers, send = spans.send("orders-dlq", original)
    assert headers == original
    assert send is not None
    RecordSpans.delivered(send, 0, 5, None)
    attributes = finished(exporter, "orders-dlq send").attributes or {}
    assert (attributes[ATTR.ERROR_CLASS], attributes[ATTR.ERROR_MESSAGE]) == ("Poison", "bad bytes")


def test_an_items_traceparent_is_the_current_recorded_span(spans: RecordSpans) -> None:
    assert spans.item_traceparent() is None  # no current span
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as span:
        assert spans.item_traceparent() == text(span)


def test_a_batch_is_its_own_trace_linked_to_each_trace_it_joins(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    with spans.process("orders-agent", "orders", 0, 0, ENVELOPE) as current:
        batch = spans.batch("customers", "deltas", 1, 9, [CALLER, None, "garbage", OTHER])
    batch.end()
    span = finished(exporter, "deltas process")
    assert span.kind is SpanKind.CONSUMER
    assert span.parent is None  # not a child of whatever span is current
    assert ids(span)[0] != ids(current)[0]
    assert [(link.context.trace_id, link.context.span_id) for link in span.links] == [
        (int(TRACE_HEX, 16), int(SPAN_HEX, 16)), (0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7)]
    attributes = span.attributes or {}
    assert (attributes[ATTR.ITEMS], attributes[ATTR.AGENT], attributes[ATTR.OFFSET]) == (4, "customers", 9)


def test_an_item_is_applied_in_its_events_trace_linked_to_its_batch(
        spans: RecordSpans, exporter: InMemorySpanExporter) -> None:
    batch = spans.batch("customers", "deltas", 1, 9, [CALLER])
    apply = spans.apply("customers", CALLER, batch, "c-1")
    assert apply is not None
    apply.end()
    batch.end()
    span = finished(exporter, "customers apply")
    assert span.parent is not None
    assert (span.parent.trace_id, span.parent.span_id) == (int(TRACE_HEX, 16), int(SPAN_HEX, 16))
    assert [(link.context.trace_id, link.context.span_id) for link in span.links] == [ids(batch)]
    assert dict(span.attributes or {}) == {ATTR.AGENT: "customers", "streams.key": "c-1"}


@pytest.mark.parametrize("traceparent", [None, "garbage", 7])
def test_an_item_outside_any_trace_gets_no_apply_span(spans: RecordSpans, traceparent: object) -> None:
    batch = spans.batch("customers", "deltas", 1, 9, [traceparent])
    assert spans.apply("customers", traceparent, batch, "c-1") is None
    batch.end()


def test_at_ratio_0_a_batch_joining_a_recorded_trace_and_its_apply_are_still_recorded() -> None:
    """The sampler and the spans together: every recorded trace finds the batch that applied it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler(0.0))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans = RecordSpans(provider.get_tracer("t"))
    alone = spans.batch("customers", "deltas", 1, 8, [None])
    batch = spans.batch("customers", "deltas", 1, 9, [CALLER])
    apply = spans.apply("customers", CALLER, batch, "c-1")
    assert apply is not None
    for span in (apply, batch, alone):
        span.end()
    assert sorted((span.name, (span.attributes or {}).get(ATTR.OFFSET)) for span in exporter.get_finished_spans()) == [
        ("customers apply", None), ("deltas process", 9)]
    provider.shutdown()
