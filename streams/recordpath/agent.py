"""A Faust agent around a ``GuardedProcessor``: where the processing loop meets Faust.

``guarded_agent`` declares, for one agent over one source topic:

* the agent itself, over the source topic and its control topic
  (``<topic>.dlq.control``, where ``streams dlq release`` writes), which Faust
  assigns co-partitioned: a key's control records reach the worker that owns it;
* the table of parked keys (``<agent>-parked``, changelog-backed, keyed by the
  raw record key), so parking survives restarts and moves with its partition;
* the metrics of dead letters, parking, retries and the breaker.

A record below its partition's resume point is already in the state
(``streams.recordpath.protocol``): it is skipped (``already_processed``),
never judged again; a rebuild's replay is judged again into the new
generation only.

Each event is acknowledged (and so, later, committed) only once it is
applied, dead-lettered or parked, and everything that wrote is durable: the
records it caused go through the app's ``Outbox`` on the event's ticket, and
the ticket's completion acknowledges it.  Acks are manual (the events are
taken with ``faust_internals.take.events``, which never acknowledges one the
agent gets): Faust's own acknowledges an event even when the agent raises on
it (and faust-streaming ignores ``stream_ack_exceptions``); here an exception
that escapes leaves the event unacknowledged, so it is never committed and is
processed again after the restart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import faust
from faust.types import AppT, CodecArg, Message

from streams import headers as h
from streams.app import StreamsApp
from streams.breaker import BreakerState
from streams.dlq.seen import DeadLetterIndex
from streams.envelope import source_of
from streams.freshness import Watermarks
from streams.position import Position
from streams.recordpath.batching import RepartitionBatcher
from streams.recordpath.faust_internals import events
from streams.recordpath.outbox import Outbox, Ticket, TicketScope
from streams.recordpath.processing import Effects, GuardedProcessor, Outcome, ProcessingPolicy
from streams.recordpath.records import RawRecord, header
from streams.replay.generations import Generational

__all__ = ["CONTROL_SUFFIX", "RawSchema", "admit", "control_topic", "guarded_agent", "outbox",
           "repartition", "ticket_for"]

T = TypeVar("T")
D = TypeVar("D")

CONTROL_SUFFIX = ".dlq.control"


def control_topic(source: str) -> str:
    """Where release requests for parked keys of ``source`` are written."""
    return f"{source}{CONTROL_SUFFIX}"


def guarded_agent(app: StreamsApp, *, name: str, source: str, decode: Callable[[RawRecord], Awaitable[D]],
                  handle: Callable[[RawRecord, D], Awaitable[T]], commit: Callable[[RawRecord, T], None],
                  policy: ProcessingPolicy, model: Generational, marks: Watermarks) -> GuardedProcessor[T]:
    """Register the agent ``name`` over topic ``source``, writing read model ``model`` (whose rebuilds it drives:
    a record the old generation has is judged again into the new one only); ``marks`` advance after each record
    (read-your-writes).

    Per record: ``decode`` (bytes to an event), ``handle`` (the decision and the outputs; may fail, no side
    effects) make what ``commit`` writes.  What ``handle`` returns may describe itself to the trace
    (``streams.tracing.Traced``)."""
    metrics = app.metrics
    spans = app.spans  # None: tracing off, no span is made
    control = control_topic(source)
    parked = app.Table(f"{name}-parked", key_type=bytes, default=None,  # raw keys: the app default
                       partitions=app.streams_settings.topic_partitions,
                       help=f"keys of {source} parked behind a dead letter")
    breaker_gauge = metrics.breaker_state.labels(name)
    paused_gauge = metrics.paused_partitions.labels(name)
    metrics.parked_keys.labels(source).set_function(lambda: float(len(parked)))
    retries: dict[str, Any] = {}

    async def send(topic: str, key: bytes | None, value: bytes | None,
                   headers: list[tuple[str, bytes | None]]) -> None:
        outbox(app).send(topic, key, value, headers)

    def mine() -> set[Any]:
        return {tp for tp in app.consumer.assignment() if tp.topic in (source, control)}

    def pause() -> int:
        tps = mine()
        app.consumer.pause_partitions(tps)
        return len(tps)

    def on_breaker(state: BreakerState, paused: int) -> None:
        breaker_gauge.set(int(state))
        paused_gauge.set(paused)

    def on_retry(error_class: str, attempt: int, message: str) -> None:
        counter = retries.get(error_class)
        if counter is None:
            counter = retries[error_class] = metrics.retries.labels(name, error_class)
        counter.inc()
        if spans is not None:
            spans.retried(attempt, error_class, message)

    def on_dead_letter(topic: str, error_class: str, message: str) -> None:
        metrics.dead_letters.labels(topic, error_class).inc()
        if error_class == "Parked":
            metrics.parked_records.labels(topic).inc()
        if spans is not None:
            spans.dead_lettered(error_class, message)

    async def prepare(record: RawRecord) -> T:
        if spans is None:
            return await handle(record, await decode(record))
        with spans.step("decode"):
            decoded = await decode(record)
        with spans.handling() as handled:
            result = await handle(record, decoded)
            handled(result)
        return result

    letters = DeadLetterIndex(app.streams_settings.kafka, epoch=lambda: app.recovery.epoch)
    effects = Effects(send=send, parked=parked, pause=pause, resume=lambda: app.consumer.resume_partitions(mine()),
                      on_breaker=on_breaker, on_retry=on_retry, on_dead_letter=on_dead_letter,
                      written=letters.written)
    processor = GuardedProcessor(agent=name, prepare=prepare, commit=commit, effects=effects, policy=policy,
                                 control_topic=control,
                                 replaying=lambda r: r.topic == source and model.replaying(r.partition, r.offset))
    app.breakers[name] = processor.breaker
    breaker_gauge.set(0)
    paused_gauge.set(0)
    processing = metrics.processing_seconds.labels(name)
    channel = app.topic(source, control, schema=RawSchema())
    positions = app.positions
    turn_after_s = app.streams_settings.agent_turn_ms / 1000
    outcomes: dict[str, Any] = {}
    ingested: dict[bytes | None, Any] = {}

    def took_in(record: RawRecord) -> None:
        """Count a record of the source topic judged for the first time, by who produced it."""
        if record.topic != source or model.replaying(record.partition, record.offset):
            return
        producer = header(record.headers, h.PRODUCER)
        counter = ingested.get(producer)
        if counter is None:
            label = source_of(producer, app.streams_settings.producer_name)
            counter = metrics.ingested.labels(source, label)
            if len(ingested) < 64:  # headers of other clients vary: their labels do not, their keys need not stay
                ingested[producer] = counter
        counter.inc()

    def settled(record: RawRecord, outcome: Outcome) -> None:
        if outcome != "applied":  # the agent's commit counts what it applied, by event type
            counter = outcomes.get(outcome)
            if counter is None:
                counter = outcomes[outcome] = metrics.events.labels(name, "unknown", outcome)
            counter.inc()
        if record.topic == source:
            model.applied(record.partition, record.offset)
        marks.advance(record.topic, record.partition, record.offset)

    async def judge(event: Any, record: RawRecord) -> tuple[Ticket, Outcome]:
        with ticket_for(app, event) as ticket:
            outcome: Outcome = "already_processed"
            if positions.admit(record.topic, record.partition, record.offset):
                took_in(record)
                outcome = await processor.process(record)
                positions.done(record.topic, record.partition, record.offset)
            settled(record, outcome)
        return ticket, outcome

    async def run(stream: Any) -> None:
        async for event in events(stream, turn_after_s=turn_after_s):
            started = time.perf_counter()
            record = RawRecord.from_faust(event.message)
            if spans is None:
                await judge(event, record)
            else:
                with spans.process(name, record.topic, record.partition, record.offset, record.headers) as span:
                    ticket, outcome = await judge(event, record)
                    spans.settled(span, outcome)
                    spans.acknowledging(ticket, span)
            processing.observe(time.perf_counter() - started)

    app.agent(channel, name=name)(run)
    return processor


class RawSchema(faust.Schema[bytes, bytes]):
    """A topic's key and value as the record's bytes, without Faust's serializer registry on the way.

    Faust's ``raw`` serializer gives the same bytes, through a codec lookup per key and per value:
    6.0 us a record against 3.7 here (micro-benchmark, 2026-12-02); agents that decode records
    themselves (``RawRecord``) need nothing of it.
    """

    def __init__(self) -> None:
        super().__init__(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    def loads_key(self, app: AppT, message: Message, *, loads: Callable[..., Any] | None = None,
                  serializer: CodecArg | None = None) -> bytes:
        return cast(bytes, message.key)  # None for a record without a key

    def loads_value(self, app: AppT, message: Message, *, loads: Callable[..., Any] | None = None,
                    serializer: CodecArg | None = None) -> bytes:
        return cast(bytes, message.value)  # None for a tombstone


def outbox(app: StreamsApp) -> Outbox:
    if app.outbox is None:
        raise RuntimeError("the app's outbox exists once the worker has started")
    return app.outbox


def repartition(app: StreamsApp) -> RepartitionBatcher:
    if app.batcher is None:
        raise RuntimeError("the app's batcher exists once the worker has started")
    return app.batcher


def ticket_for(app: StreamsApp, event: Any) -> TicketScope:
    """``with ticket_for(app, event):`` count what processing ``event`` sends; acknowledge it once all is durable.

    Acknowledgements reach Faust in offset order per partition (``streams.recordpath.acks``). If processing
    raises, the ticket is never sealed: the event is not acknowledged, never committed, and neither
    is any later event of its partition.
    """
    box = outbox(app)
    box.raise_if_failed()
    message = event.message
    return box.open(app.acks.track(message.tp, event.ack, message.offset),
                    Position(message.topic, message.partition, message.offset))


def admit(app: StreamsApp, event: Any) -> bool:
    """True for an event not yet in the state (process it, then ``app.positions.done``); False: skip it."""
    message = event.message
    return app.positions.admit(message.topic, message.partition, message.offset)
