"""W3C trace context in Kafka headers (``traceparent``, ``tracestate``) and in repartition items.

Extraction and injection go through OpenTelemetry's global propagator (W3C trace
context and baggage, or whatever ``OTEL_PROPAGATORS`` names), with the getter and
setter of OpenTelemetry's confluent-kafka instrumentation: the same headers any
instrumented Kafka client reads and writes.  A record carries one trace context:
``with_context`` leaves a record that already has a ``traceparent`` as it is (a
dead letter keeps its original's, byte for byte) and adds one to any other.

A malformed ``traceparent`` is no context at all (the propagator's rule): the
record starts a new trace, and is processed like any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.instrumentation.confluent_kafka.utils import KafkaContextGetter, KafkaContextSetter
from opentelemetry.trace import Span, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from streams import headers as h

__all__ = ["TRACE_HEADERS", "continuing", "extract", "item_context", "item_traceparent", "with_context", "within"]

TRACE_HEADERS = (h.TRACEPARENT, h.TRACESTATE)

_GETTER = KafkaContextGetter()
_SETTER = KafkaContextSetter()
_W3C = TraceContextTextMapPropagator()

Header = tuple[str, bytes | None]


def extract(headers: Sequence[Header]) -> Context:
    """The trace context a record's headers carry; empty (a new trace) when none or malformed."""
    return propagate.extract(headers, getter=_GETTER)


def with_context(headers: Sequence[Header], span: Span) -> list[Header]:
    """``headers`` carrying ``span``'s context, unless they carry a trace context already."""
    out = list(headers)
    if any(name == h.TRACEPARENT for name, _ in out):
        return out
    propagate.inject(out, context=set_span_in_context(span), setter=_SETTER)
    return out


def item_traceparent(span: Span) -> str | None:
    """``span``'s W3C ``traceparent``, for a repartition item, when it is recorded (else None: nothing to join)."""
    if not span.get_span_context().trace_flags.sampled:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=set_span_in_context(span))
    return carrier.get(h.TRACEPARENT)


def item_context(traceparent: object) -> Context | None:
    """The context an item's ``traceparent`` names; None when it has none or a malformed one."""
    if not isinstance(traceparent, str):
        return None
    context = _W3C.extract({h.TRACEPARENT: traceparent})
    return context if context else None


@contextmanager
def within(context: Context | None) -> Iterator[None]:
    """Inside the block, spans are made in ``context`` (None or empty: nothing changes)."""
    if not context:
        yield
        return
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def continuing(traceparent: str | None) -> contextlib.AbstractContextManager[None]:
    """Spans made inside continue the trace ``traceparent`` names (a CLI's ``--traceparent``, or the
    ``TRACEPARENT`` environment carrier); none or a malformed one: nothing changes."""
    return within(item_context(traceparent))
