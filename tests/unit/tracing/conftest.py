"""A local tracer provider per test, its spans kept in memory: never the global one, which a process sets once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

from streams.tracing.spans import RecordSpans


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    made = TracerProvider(sampler=ParentBased(ALWAYS_ON))  # every root recorded, whatever OTEL_TRACES_SAMPLER says
    made.add_span_processor(SimpleSpanProcessor(exporter))
    yield made
    made.shutdown()


@pytest.fixture
def spans(provider: TracerProvider) -> RecordSpans:
    return RecordSpans(provider.get_tracer("t"))
