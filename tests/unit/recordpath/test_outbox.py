"""Outbox and batching accounting with a producer that delivers when told: an event is acked only when
everything it wrote is delivered, never when a record of it failed.

The outbox's poll timer runs when the test says (``Timers``), not after some time has passed.
With tracing on, what records carry (a ``traceparent``, a fifth element of repartition items) and when their
send spans end are read from a local tracer provider's spans in memory.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, cast

import pytest
from confluent_kafka import KafkaError
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import Span, SpanKind, StatusCode

from streams import headers as h
from streams.connection import KafkaConnection
from streams.position import Position, key_partition
from streams.recordpath.batching import ITEMS, RepartitionBatcher
from streams.recordpath.outbox import CURRENT, POLL_INTERVAL_S, Outbox, OutboxError, Ticket
from streams.tracing.spans import ATTR, RecordSpans


class Message:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._t, self._p, self._o = topic, partition, offset

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o


class FakeProducer:
    """Keeps records until ``deliver``; ``poll`` runs the delivery callbacks of the delivered ones."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.polled_on: list[int] = []  # the thread of each poll
        self._ready: list[tuple[Any, KafkaError | None, Message]] = []
        self._in_flight = 0

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Any = None,
                on_delivery: Any = None, partition: int | None = None) -> None:
        self.sent.append({"topic": topic, "key": key, "value": value, "partition": partition, "headers": headers,
                          "on_delivery": on_delivery})
        self._in_flight += 1

    def deliver(self, index: int, error: KafkaError | None = None) -> None:
        record = self.sent[index]
        self._ready.append((record["on_delivery"], error, Message(record["topic"], record["partition"] or 0, index)))

    def poll(self, timeout: float) -> int:
        self.polled_on.append(threading.get_ident())
        ready, self._ready = self._ready, []
        for callback, error, message in ready:
            self._in_flight -= 1
            callback(error, message)
        return len(ready)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return self._in_flight

    def __len__(self) -> int:
        return self._in_flight


class Timer:
    def __init__(self, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.callback, self.args, self.cancelled = callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """The event loop as far as the outbox uses one (``call_later``): its timers run when the test calls ``tick``."""

    def __init__(self) -> None:
        self.armed: list[Timer] = []
        self.delays: list[float] = []

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> Timer:
        self.delays.append(delay)
        timer = Timer(callback, args)
        self.armed.append(timer)
        return timer

    def tick(self) -> None:
        """Run the timers armed so far, as the loop would once their delay is up (those they arm wait for the next
        tick)."""
        due, self.armed = self.armed, []
        for timer in due:
            if not timer.cancelled:
                timer.callback(*timer.args)

    @property
    def pending(self) -> int:
        return sum(not timer.cancelled for timer in self.armed)


def open_outbox(failures: list[OutboxError] | None = None,
                spans: RecordSpans | None = None) -> tuple[Outbox, FakeProducer, Timers]:
    producer, timers = FakeProducer(), Timers()
    outbox = Outbox(KafkaConnection("unused:9092"), client_id="test", loop=cast(asyncio.AbstractEventLoop, timers),
                    producer=producer, on_failure=(failures.append if failures is not None else lambda error: None),
                    spans=spans)
    return outbox, producer, timers


def test_an_event_is_acknowledged_only_when_all_it_wrote_is_delivered() -> None:
    outbox, producer, timers = open_outbox()
    acked: list[str] = []
    with outbox.open(lambda: acked.append("e1")) as ticket:  # what an agent does per event (ticket_for)
        assert CURRENT.get() is ticket
        outbox.send("a", b"k", b"1")
        outbox.send("b", b"k", b"2")
    assert CURRENT.get() is None
    assert ticket.sealed
    producer.deliver(0)
    timers.tick()
    assert acked == []
    producer.deliver(1)
    timers.tick()
    assert acked == ["e1"]
    outbox.close()


def test_an_event_that_wrote_nothing_is_acknowledged_at_once() -> None:
    outbox, _, _ = open_outbox()
    acked: list[int] = []
    outbox.seal(Ticket(), lambda: acked.append(1))
    assert acked == [1]
    outbox.close()


def test_a_refused_record_never_acknowledges_its_event_and_stops_the_worker() -> None:
    failures: list[OutboxError] = []
    outbox, producer, timers = open_outbox(failures)
    acked: list[int] = []
    ticket = Ticket()
    outbox.send("a", b"k", b"1", tickets=[ticket])
    outbox.seal(ticket, lambda: acked.append(1))
    producer.deliver(0, KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    timers.tick()
    assert acked == []
    assert len(failures) == 1
    assert "refused a record for a" in failures[0].message
    with pytest.raises(OutboxError):
        outbox.raise_if_failed()
    outbox.close()


def test_delivery_reports_the_position_for_the_store() -> None:
    outbox, producer, timers = open_outbox()
    positions: list[tuple[str, int, int]] = []
    outbox.send("changelog", b"k", b"v", partition=3, delivered=lambda t, p, o: positions.append((t, p, o)))
    producer.deliver(0)
    timers.tick()
    assert positions == [("changelog", 3, 0)]
    outbox.close()


KEYS = ("alice", "bob", "carol", "dave")


def test_batched_items_go_one_record_per_partition_and_ack_each_event_when_delivered() -> None:
    outbox, producer, timers = open_outbox()
    batcher = RepartitionBatcher(outbox, partitions=2, max_items=100, max_delay_s=0.05)
    acked: list[str] = []
    tickets = {name: Ticket(Position("orders", 1, offset)) for offset, name in enumerate(("e1", "e2"))}
    for name, ticket in tickets.items():
        token = CURRENT.set(ticket)
        for key in KEYS:
            batcher.add("deltas", key, {"key": key, "from": name})
        CURRENT.reset(token)
        outbox.seal(ticket, lambda name=name: acked.append(name))
    timers.tick()
    assert acked == []  # nothing sent yet
    batcher.flush()
    records = producer.sent
    assert len(records) == 2  # the keys fall in both partitions: one record each
    ids = [item[:3] for r in records for item in json.loads(r["value"])[ITEMS]]
    items = [item[3] for r in records for item in json.loads(r["value"])[ITEMS]]
    assert sorted((i["key"], i["from"]) for i in items) == sorted((k, e) for k in KEYS for e in ("e1", "e2"))
    # each item's id: the event's source partition and offset, and its rank among that event's items
    assert sorted(ids) == sorted(["orders:1", offset, rank] for offset in (0, 1) for rank in range(1, 5))
    for record in records:  # every item of a record really belongs to that partition
        assert {key_partition(i[3]["key"].encode(), 2) for i in json.loads(record["value"])[ITEMS]} == {
            record["partition"]}
    producer.deliver(0)
    timers.tick()
    assert acked == []  # each event has items in the record not delivered yet
    producer.deliver(1)
    timers.tick()
    assert sorted(acked) == ["e1", "e2"]
    outbox.close()


def test_a_full_batch_goes_out_without_waiting_for_the_timer() -> None:
    outbox, producer, _ = open_outbox()
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=3, max_delay_s=0.05)
    for i in range(7):
        batcher.add("deltas", "k", {"i": i})
    assert [len(json.loads(r["value"])[ITEMS]) for r in producer.sent] == [3, 3]
    batcher.flush()
    assert [len(json.loads(r["value"])[ITEMS]) for r in producer.sent] == [3, 3, 1]
    outbox.close()


def test_a_ticket_scope_that_raises_never_acknowledges_its_event() -> None:
    outbox, producer, timers = open_outbox()
    acked: list[str] = []
    scope = outbox.open(lambda: acked.append("e1"))

    def process() -> None:
        with scope:
            outbox.send("a", b"k", b"1")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        process()
    ticket = scope.ticket
    assert CURRENT.get() is None
    producer.deliver(0)
    timers.tick()
    assert not ticket.sealed
    assert acked == []
    outbox.close()


async def test_delivery_reports_are_served_on_the_event_loop_thread() -> None:
    # A poll thread would wait for the GIL at every report while the loop is busy; under load they fell behind.
    producer = FakeProducer()
    outbox = Outbox(KafkaConnection("unused:9092"), client_id="test", loop=asyncio.get_running_loop(),
                    producer=producer)
    acked: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    with outbox.open(lambda: acked.set_result("e1")):
        outbox.send("a", b"k", b"1")
    producer.deliver(0)
    assert await acked == "e1"  # by the loop's own poll timer
    assert producer.polled_on
    assert set(producer.polled_on) == {threading.get_ident()}
    outbox.close()


def test_the_outbox_polls_only_while_records_are_in_flight() -> None:
    outbox, producer, timers = open_outbox()
    acked: list[str] = []
    assert timers.pending == 0  # nothing sent: no timer
    with outbox.open(lambda: acked.append("e1")):
        outbox.send("a", b"k", b"1")
    assert (timers.pending, timers.delays) == (1, [POLL_INTERVAL_S])  # in flight: a poll is due
    for polls in (1, 2, 3):
        timers.tick()
        assert len(producer.polled_on) == polls
        assert timers.pending == 1  # still in flight: polled again and again
    producer.deliver(0)
    timers.tick()
    assert acked == ["e1"]
    assert timers.pending == 0  # all delivered: polling stopped
    with outbox.open(lambda: acked.append("e2")):
        outbox.send("a", b"k", b"2")
        outbox.send("a", b"k", b"3")
    assert timers.pending == 1  # and starts again with the next record (one timer, however many are sent)
    producer.deliver(1)
    producer.deliver(2)
    timers.tick()
    assert acked == ["e1", "e2"]
    assert timers.pending == 0
    outbox.close()


# -- with tracing on (a local tracer provider, its spans in memory; never the process's global one) ---------------

ENVELOPE = [(h.EVENT_ID, b"e-1")]


class Traces:
    """A tracer provider of the test's own, every trace recorded, its ended spans kept in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))  # whatever OTEL_TRACES_SAMPLER says
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.spans = RecordSpans(self.provider.get_tracer("t"))

    def finished(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.exporter.get_finished_spans() if span.name == name]


def traceparent(span: Span | ReadableSpan) -> bytes:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}".encode()


@pytest.fixture
def traces() -> Traces:
    return Traces()


def test_an_events_record_carries_its_send_span_which_its_delivery_ends(traces: Traces) -> None:
    outbox, producer, timers = open_outbox(spans=traces.spans)
    acked: list[str] = []
    with (traces.spans.process("orders-agent", "orders", 0, 7, ENVELOPE) as process,
          outbox.open(lambda: acked.append("e-1"))):
        outbox.send("payments", b"k", b"1", [(h.EVENT_ID, b"e-2")])
    assert traces.finished("payments send") == []  # in flight: the span is open
    producer.deliver(0)
    timers.tick()
    assert acked == ["e-1"]
    (send,) = traces.finished("payments send")
    assert producer.sent[0]["headers"] == [(h.EVENT_ID, b"e-2"), (h.TRACEPARENT, traceparent(send))]
    assert send.kind is SpanKind.PRODUCER
    assert send.parent is not None
    assert send.parent.span_id == process.get_span_context().span_id
    assert (send.attributes or {})[ATTR.OFFSET] == 0  # the delivered record's offset
    outbox.close()


def test_a_refused_records_send_span_ends_with_error_status(traces: Traces) -> None:
    outbox, producer, timers = open_outbox([], spans=traces.spans)
    with traces.spans.process("orders-agent", "orders", 0, 7, ENVELOPE), outbox.open(lambda: None):
        outbox.send("payments", b"k", b"1")
    producer.deliver(0, KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    timers.tick()
    (send,) = traces.finished("payments send")
    assert send.status.status_code is StatusCode.ERROR
    assert "MSG_SIZE_TOO_LARGE" in (send.status.description or "")
    outbox.close()


def test_a_changelog_record_carries_no_trace_context_and_gets_no_span(traces: Traces) -> None:
    outbox, producer, timers = open_outbox(spans=traces.spans)
    stamp = [("source", b"orders:0:7")]
    with traces.spans.process("orders-agent", "orders", 0, 7, ENVELOPE), outbox.open(lambda: None):
        outbox.send("orders-table-changelog", b"k", b"v", stamp, state=True)
        outbox.send("payments", b"k", b"1")  # the same event's other output is traced
    producer.deliver(0)
    producer.deliver(1)
    timers.tick()
    assert producer.sent[0]["headers"] == stamp
    assert sorted(span.name for span in traces.exporter.get_finished_spans()) == ["orders process", "payments send"]
    outbox.close()


def test_without_spans_headers_are_sent_as_given(traces: Traces) -> None:
    outbox, producer, timers = open_outbox()
    with traces.spans.process("orders-agent", "orders", 0, 7, ENVELOPE), outbox.open(lambda: None):
        outbox.send("payments", b"k", b"1", [(h.EVENT_ID, b"e-2")])  # a recorded span is current, tracing is off
    producer.deliver(0)
    timers.tick()
    assert producer.sent[0]["headers"] == [(h.EVENT_ID, b"e-2")]
    assert [span.name for span in traces.exporter.get_finished_spans()] == ["orders process"]
    outbox.close()


def batched_items(spans: RecordSpans | None, traces: Traces) -> tuple[list[list[Any]], bytes]:
    """The items one event makes, as its repartition record carries them, and the event's span's context."""
    outbox, producer, _ = open_outbox(spans=spans)
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=100, max_delay_s=0.05, spans=spans)
    with (traces.spans.process("orders-agent", "orders", 1, 7, ENVELOPE) as process,
          outbox.open(lambda: None, Position("orders", 1, 7))):
        batcher.add("deltas", "alice", {"n": 1})
        batcher.add("deltas", "bob", {"n": 2})
    batcher.flush()
    (record,) = producer.sent
    outbox.close()
    return json.loads(record["value"])[ITEMS], traceparent(process)


def test_with_tracing_on_an_item_of_a_recorded_trace_carries_its_events_traceparent(traces: Traces) -> None:
    items, event = batched_items(traces.spans, traces)
    assert items == [["orders:1", 7, 1, {"n": 1}, event.decode()], ["orders:1", 7, 2, {"n": 2}, event.decode()]]


def test_with_tracing_off_an_item_has_its_four_elements(traces: Traces) -> None:
    items, _ = batched_items(None, traces)
    assert items == [["orders:1", 7, 1, {"n": 1}], ["orders:1", 7, 2, {"n": 2}]]


def test_an_item_made_outside_a_recorded_span_has_no_traceparent(traces: Traces) -> None:
    outbox, producer, _ = open_outbox(spans=traces.spans)
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=100, max_delay_s=0.05, spans=traces.spans)
    with outbox.open(lambda: None, Position("orders", 1, 7)):
        batcher.add("deltas", "alice", {"n": 1})
    batcher.flush()
    assert json.loads(producer.sent[0]["value"])[ITEMS] == [["orders:1", 7, 1, {"n": 1}]]
    outbox.close()


def test_a_sampled_out_events_record_carries_its_context_flagged_not_recorded_and_makes_no_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))  # every new trace sampled out
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans = RecordSpans(provider.get_tracer("t"))
    outbox, producer, timers = open_outbox(spans=spans)
    with spans.process("orders-agent", "orders", 0, 7, ENVELOPE) as process, outbox.open(lambda: None):
        with spans.step("decode"), spans.handling() as handled:
            handled(None)
        outbox.send("payments", b"k", b"1", [(h.EVENT_ID, b"e-2")])
    producer.deliver(0)
    timers.tick()
    context = process.get_span_context()
    assert not context.trace_flags.sampled
    # its consumers learn the decision: the event's context, its sampled flag clear
    assert producer.sent[0]["headers"] == [(h.EVENT_ID, b"e-2"), (h.TRACEPARENT, traceparent(process))]
    assert exporter.get_finished_spans() == ()
    outbox.close()


def test_a_repartition_record_gets_no_send_span_of_the_event_that_flushed_it(traces: Traces) -> None:
    outbox, producer, timers = open_outbox(spans=traces.spans)
    batcher = RepartitionBatcher(outbox, partitions=1, max_items=1, max_delay_s=0.05, spans=traces.spans)
    with (traces.spans.process("orders-agent", "orders", 1, 7, ENVELOPE),
          outbox.open(lambda: None, Position("orders", 1, 7))):
        batcher.add("deltas", "alice", {"n": 1})  # max_items 1: sent now, inside the event
    producer.deliver(0)
    timers.tick()
    assert [name for name, _ in producer.sent[0]["headers"]] == []  # its items carry their contexts inside
    assert [span.name for span in traces.exporter.get_finished_spans()] == ["orders process"]
    outbox.close()
