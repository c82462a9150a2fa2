"""Which spans are recorded, through a real tracer provider with the project's sampler.

A span that is not sampled is not recording and never reaches the exporter; a sampled one is exported when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from streams.tracing.sampling import QUIET_ROUTES, sampler

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0xB7AD6B7169203331


def recorded(ratio: float, name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent: SpanContext | None = None,
             links: Sequence[Link] = ()) -> bool:
    """Whether a span made under ``sampler(ratio)`` is recorded and exported (both, or neither)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler(ratio))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent is not None else None
    span = provider.get_tracer("t").start_span(name, context=context, kind=kind, links=links)
    recording = span.is_recording()
    sampled = span.get_span_context().trace_flags.sampled
    span.end()
    exported = [s.name for s in exporter.get_finished_spans()]
    provider.shutdown()
    assert recording == sampled == (exported == [name])
    return recording


def remote(sampled: bool) -> SpanContext:
    return SpanContext(TRACE_ID, SPAN_ID, is_remote=True,
                       trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT))


@pytest.mark.parametrize("route", sorted(QUIET_ROUTES))
def test_scrapes_and_probes_start_no_trace_even_when_every_trace_is_recorded(route: str) -> None:
    assert not recorded(1.0, route, kind=SpanKind.SERVER)


def test_only_server_spans_of_quiet_routes_are_dropped() -> None:
    assert recorded(1.0, "POST /events", kind=SpanKind.SERVER)
    assert recorded(1.0, "GET /metrics", kind=SpanKind.CLIENT)  # a call to a scrape target, not a scrape


@pytest.mark.parametrize(("ratio", "expected"), [(0.0, False), (1.0, True)])
def test_other_roots_follow_the_ratio(ratio: float, expected: bool) -> None:
    assert recorded(ratio, "orders process", kind=SpanKind.CONSUMER) is expected
    assert recorded(ratio, "POST /events", kind=SpanKind.SERVER) is expected


def test_a_root_linked_to_a_recorded_trace_is_recorded_even_at_ratio_0() -> None:
    assert recorded(0.0, "deltas process", kind=SpanKind.CONSUMER, links=[Link(remote(sampled=False)),
                                                                         Link(remote(sampled=True))])


def test_a_root_linked_only_to_unrecorded_traces_follows_the_ratio() -> None:
    assert not recorded(0.0, "deltas process", kind=SpanKind.CONSUMER, links=[Link(remote(sampled=False))])


def test_a_child_of_a_recorded_parent_is_recorded_even_at_ratio_0() -> None:
    assert recorded(0.0, "orders process", kind=SpanKind.CONSUMER, parent=remote(sampled=True))


def test_a_child_of_an_unrecorded_parent_is_dropped_even_at_ratio_1() -> None:
    assert not recorded(1.0, "orders process", kind=SpanKind.CONSUMER, parent=remote(sampled=False))


def test_a_quiet_route_continuing_a_recorded_trace_is_recorded() -> None:
    """The quiet routes start no trace; a caller's recorded trace through one is still whole."""
    assert recorded(1.0, "GET /health", kind=SpanKind.SERVER, parent=remote(sampled=True))
