"""Trace context in Kafka headers and repartition items: what is read, what is written, what is left alone."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from streams import headers as h
from streams.tracing.carrier import continuing, extract, item_context, item_traceparent, with_context

TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
SPAN_HEX = "b7ad6b7169203331"
VALID = f"00-{TRACE_HEX}-{SPAN_HEX}-01"

MALFORMED = {
    "short trace id": f"00-{TRACE_HEX[:-2]}-{SPAN_HEX}-01",
    "long span id": f"00-{TRACE_HEX}-{SPAN_HEX}00-01",
    "non-hex trace id": f"00-{'z' * 32}-{SPAN_HEX}-01",
    "uppercase hex": f"00-{TRACE_HEX.upper()}-{SPAN_HEX}-01",
    "version ff": f"ff-{TRACE_HEX}-{SPAN_HEX}-01",
    "all-zero trace id": f"00-{'0' * 32}-{SPAN_HEX}-01",
    "all-zero span id": f"00-{TRACE_HEX}-{'0' * 16}-01",
    "not a traceparent": "00-not-a-trace-context-01",
    "empty": "",
}


def parent_of(context: Context) -> trace.SpanContext:
    return trace.get_current_span(context).get_span_context()


def traceparent_of(span: trace.Span) -> str:
    """W3C's text of ``span``'s context (its flags as the SDK sets them: sampled, and maybe random trace id)."""
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def test_a_valid_traceparent_is_the_remote_parent_it_names() -> None:
    context = parent_of(extract([(h.EVENT_ID, b"e1"), (h.TRACEPARENT, VALID.encode())]))
    assert (context.trace_id, context.span_id) == (int(TRACE_HEX, 16), int(SPAN_HEX, 16))
    assert context.is_remote
    assert context.trace_flags.sampled


@pytest.mark.parametrize("value", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_traceparent_is_no_context_at_all(value: str) -> None:
    assert extract([(h.TRACEPARENT, value.encode())]) == Context()
    assert item_context(value) is None


def test_headers_without_trace_context_give_an_empty_context() -> None:
    assert extract([]) == Context()
    assert extract([(h.EVENT_ID, b"e1"), (h.TRACEPARENT, None)]) == Context()


def test_with_context_adds_the_spans_traceparent_to_headers_without_one(provider: TracerProvider) -> None:
    span = provider.get_tracer("t").start_span("orders send")
    headers = [(h.EVENT_ID, b"e1")]
    out = with_context(headers, span)
    assert span.get_span_context().trace_flags.sampled
    assert out == [(h.EVENT_ID, b"e1"), (h.TRACEPARENT, traceparent_of(span).encode())]
    assert headers == [(h.EVENT_ID, b"e1")]  # the caller's list is not changed
    span.end()


def test_with_context_leaves_headers_that_carry_a_traceparent_byte_for_byte(provider: TracerProvider) -> None:
    span = provider.get_tracer("t").start_span("orders-dlq send")
    original = [(h.EVENT_ID, b"e1"), (h.TRACEPARENT, b"00-not-a-trace-context-01"), (h.TRACESTATE, b"k=v")]
    assert with_context(original, span) == original
    span.end()


def test_item_traceparent_names_a_recorded_span_and_round_trips(provider: TracerProvider) -> None:
    span = provider.get_tracer("t").start_span("orders process")
    context = span.get_span_context()
    traceparent = item_traceparent(span)
    assert traceparent == traceparent_of(span)
    back = item_context(traceparent)
    assert back is not None
    assert (parent_of(back).trace_id, parent_of(back).span_id) == (context.trace_id, context.span_id)
    span.end()


def test_item_traceparent_is_none_for_a_span_that_is_not_recorded() -> None:
    provider = TracerProvider(sampler=ALWAYS_OFF)
    span = provider.get_tracer("t").start_span("orders process")
    assert span.get_span_context().is_valid  # a real context, only not sampled
    assert item_traceparent(span) is None
    assert item_traceparent(trace.INVALID_SPAN) is None


@pytest.mark.parametrize("value", [None, 42, b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
def test_an_item_without_a_text_traceparent_has_no_context(value: object) -> None:
    assert item_context(value) is None


def parents(exporter: InMemorySpanExporter) -> dict[str, tuple[int, int] | None]:
    """Each finished span's parent, by name: (trace id, span id), or None for a root."""
    return {span.name: (span.parent.trace_id, span.parent.span_id) if span.parent is not None else None
            for span in exporter.get_finished_spans()}


def test_continuing_makes_spans_children_of_the_given_context(provider: TracerProvider,
                                                              exporter: InMemorySpanExporter) -> None:
    tracer = provider.get_tracer("t")
    with continuing(VALID), tracer.start_as_current_span("streams produce") as inside:
        assert inside.get_span_context().trace_id == int(TRACE_HEX, 16)
    with tracer.start_as_current_span("later"):
        pass
    assert parents(exporter) == {"streams produce": (int(TRACE_HEX, 16), int(SPAN_HEX, 16)),
                                 "later": None}  # the context is detached at the end of the block


@pytest.mark.parametrize("value", [None, MALFORMED["version ff"], MALFORMED["not a traceparent"]])
def test_continuing_nothing_or_garbage_changes_nothing(provider: TracerProvider, exporter: InMemorySpanExporter,
                                                       value: str | None) -> None:
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("caller") as caller:
        with continuing(value):
            assert trace.get_current_span() is caller
            with tracer.start_as_current_span("streams produce"):
                pass
        assert trace.get_current_span() is caller
    context = caller.get_span_context()
    assert parents(exporter) == {"streams produce": (context.trace_id, context.span_id), "caller": None}
