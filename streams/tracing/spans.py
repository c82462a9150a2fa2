"""The record path's spans: what an operator reads in a trace of one event.

Per record an agent takes (``streams.recordpath.agent``)::

    <topic> process          CONSUMER, child of the record's traceparent (the producer's span)
      decode                 the bytes to an event
      handle                 the domain's decision: event type, outcome (applied, rejected, duplicate)
      <target> send          PRODUCER, one per fan-out record or dead letter, ended by the broker's ack
      acknowledge            from the event's last write to its acknowledgement (all of it durable)

Retries are events on the process span (``retry``: attempt, error class, message); its
``streams.outcome`` attribute says how the record ended: applied, rejected, duplicate,
parked, dead_lettered, released, skipped, already_processed.  Its event id and correlation
id are attributes (``streams.event_id``, ``streams.correlation_id``): a trace is found
from either.

A repartition record carries the deltas of many events, so of many traces.  Its reader
makes one ``<topic> process`` span linked to every recorded trace it joins (links, not
parents) and, per delta of a recorded trace, an ``<agent> apply`` span in that trace
(child of the event's process span, linked to the batch's): one trace runs from the
request to every read model it changed.

Changelog records carry no trace context: they are state, not events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from streams import headers as h
from streams.tracing.carrier import extract, item_context, item_traceparent, with_context

__all__ = ["ATTR", "RecordSpans", "Traced"]


class ATTR:
    """Span attribute names: OpenTelemetry's messaging conventions, then the project's own."""

    SYSTEM = "messaging.system"
    DESTINATION = "messaging.destination.name"
    PARTITION = "messaging.destination.partition.id"
    OFFSET = "messaging.kafka.offset"
    OPERATION = "messaging.operation.type"
    AGENT = "streams.agent"
    EVENT_ID = "streams.event_id"
    EVENT_TYPE = "streams.event_type"
    CORRELATION_ID = "streams.correlation_id"
    OUTCOME = "streams.outcome"
    ERROR_CLASS = "streams.error.class"
    ERROR_MESSAGE = "streams.error.message"
    ATTEMPT = "streams.attempt"
    ITEMS = "streams.items"


_ENVELOPE_ATTRS = ((h.EVENT_ID, ATTR.EVENT_ID), (h.EVENT_TYPE, ATTR.EVENT_TYPE),
                   (h.CORRELATION_ID, ATTR.CORRELATION_ID))


@runtime_checkable
class Traced(Protocol):
    """What a domain's ``handle`` returns, when it says what it decided: its span's attributes
    (``ATTR.EVENT_TYPE``, ``ATTR.OUTCOME``: applied, rejected, duplicate)."""

    def span_attributes(self) -> dict[str, str]: ...


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value is not None else None


class RecordSpans:
    """Makes the record path's spans with ``tracer``. Built only when tracing is on."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    # -- one record of a source topic ----------------------------------------------------------------

    @contextmanager
    def process(self, agent: str, topic: str, partition: int, offset: int,
                headers: Sequence[tuple[str, bytes | None]]) -> Iterator[Span]:
        """The span of one record an agent takes, current inside the block."""
        attributes: dict[str, Any] = {ATTR.SYSTEM: "kafka", ATTR.DESTINATION: topic, ATTR.PARTITION: str(partition),
                                      ATTR.OFFSET: offset, ATTR.OPERATION: "process", ATTR.AGENT: agent}
        for name, value in headers:
            for header, attribute in _ENVELOPE_ATTRS:
                if name == header and value is not None:
                    attributes[attribute] = _text(value)
        span = self.tracer.start_span(f"{topic} process", context=extract(headers), kind=SpanKind.CONSUMER,
                                      attributes=attributes)
        with trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True):
            yield span

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A child of the current span (``decode``), made only if that one is recorded."""
        if not trace.get_current_span().is_recording():
            yield
            return
        with self.tracer.start_as_current_span(name):
            yield

    @contextmanager
    def handling(self) -> Iterator[Callable[[object], None]]:
        """The ``handle`` step; call what it yields with the result: a ``Traced`` one names its outcome."""
        parent = trace.get_current_span()
        if not parent.is_recording():
            yield lambda result: None
            return
        with self.tracer.start_as_current_span("handle") as span:

            def handled(result: object) -> None:
                if isinstance(result, Traced) and span.is_recording():
                    attributes = result.span_attributes()
                    span.set_attributes(attributes)
                    if ATTR.OUTCOME in attributes:
                        parent.set_attribute(ATTR.OUTCOME, attributes[ATTR.OUTCOME])

            yield handled

    @staticmethod
    def settled(span: Span, outcome: str) -> None:
        """How the record ended; a domain outcome (rejected, duplicate) set by ``handle`` stays."""
        if not span.is_recording():
            return
        attributes = getattr(span, "attributes", None) or {}
        if outcome != "applied" or ATTR.OUTCOME not in attributes:
            span.set_attribute(ATTR.OUTCOME, outcome)

    @staticmethod
    def retried(attempt: int, error_class: str, message: str) -> None:
        trace.get_current_span().add_event("retry", {ATTR.ATTEMPT: attempt, ATTR.ERROR_CLASS: error_class,
                                                     ATTR.ERROR_MESSAGE: message})

    @staticmethod
    def dead_lettered(error_class: str, message: str) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes({ATTR.ERROR_CLASS: error_class, ATTR.ERROR_MESSAGE: message})
            span.set_status(Status(StatusCode.ERROR, f"{error_class}: {message}"))

    def acknowledging(self, ticket: Any, parent: Span) -> None:
        """If ``ticket`` (sealed) still waits for writes: an ``acknowledge`` span until it is acknowledged."""
        done = ticket.done
        if done is None or not parent.is_recording():
            return
        span = self.tracer.start_span("acknowledge", context=trace.set_span_in_context(parent))

        def acknowledged() -> None:
            span.end()
            done()

        ticket.done = acknowledged

    # -- records an agent writes ---------------------------------------------------------------------

    def send(self, topic: str, headers: Sequence[tuple[str, bytes | None]]) -> tuple[list[tuple[str, bytes | None]],
                                                                                   Span | None]:
        """A PRODUCER span for one record (child of the current span) and the headers that carry it on.

        Under a span that is not recorded (sampled out) no span is made: the record carries that span's context,
        whose flags tell its consumers the trace is not recorded."""
        current = trace.get_current_span()
        if not current.is_recording():
            return with_context(headers, current), None
        attributes: dict[str, Any] = {ATTR.SYSTEM: "kafka", ATTR.DESTINATION: topic, ATTR.OPERATION: "send"}
        for name, value in headers:
            if name == h.DLQ_ERROR_CLASS:
                attributes[ATTR.ERROR_CLASS] = _text(value)
            elif name == h.DLQ_ERROR_MESSAGE:
                attributes[ATTR.ERROR_MESSAGE] = _text(value)
        span = self.tracer.start_span(f"{topic} send", kind=SpanKind.PRODUCER, attributes=attributes)
        return with_context(headers, span), span

    @staticmethod
    def delivered(span: Span, partition: int, offset: int, error: str | None) -> None:
        """The broker acknowledged the record (or refused it): the send span ends."""
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        else:
            span.set_attributes({ATTR.PARTITION: str(partition), ATTR.OFFSET: offset})
        span.end()

    @staticmethod
    def item_traceparent() -> str | None:
        """The current span's context for a repartition item (None when it is not recorded)."""
        return item_traceparent(trace.get_current_span())

    # -- a repartition record: many events' deltas ---------------------------------------------------

    def batch(self, agent: str, topic: str, partition: int, offset: int, traceparents: Sequence[object]) -> Span:
        """The span of one repartition record, linked to each recorded trace whose deltas it carries."""
        links = []
        for traceparent in traceparents:
            context = item_context(traceparent)
            if context is not None:
                links.append(Link(trace.get_current_span(context).get_span_context()))
        return self.tracer.start_span(
            f"{topic} process", context=Context(), kind=SpanKind.CONSUMER, links=links,
            attributes={ATTR.SYSTEM: "kafka", ATTR.DESTINATION: topic, ATTR.PARTITION: str(partition),
                        ATTR.OFFSET: offset, ATTR.OPERATION: "process", ATTR.AGENT: agent,
                        ATTR.ITEMS: len(traceparents)})

    def apply(self, agent: str, traceparent: object, batch: Span, key: str) -> Span | None:
        """The span of one delta in its event's trace (ended by the caller), or None when it has none."""
        context = item_context(traceparent)
        if context is None:
            return None
        return self.tracer.start_span(f"{agent} apply", context=context, links=[Link(batch.get_span_context())],
                                      attributes={ATTR.AGENT: agent, "streams.key": key})

