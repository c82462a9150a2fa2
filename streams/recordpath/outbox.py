"""What agents write goes out through one librdkafka producer; an event is acknowledged once all of it is durable.

Faust's producer costs about 100 us a record in Python; librdkafka, a few.
So every record an agent writes (table changelogs, repartition deltas, fan-out,
dead letters) is produced here, and tied to the event that caused it with a
``Ticket``: the agent opens one per event, everything sent while it is
``current`` counts on it, and once the event is processed the agent seals it
with its acknowledgement, which runs when the last of those records is on all
in-sync replicas (acks=all, idempotent producer: per-partition order kept).
Faust then commits only offsets of acknowledged events.

A record Kafka refuses for good stops the worker (``raise_if_failed``): the
event it belongs to is never acknowledged, so it is processed again after the
restart; nothing is lost.

Delivery reports are served on the event loop, by a timer that polls the
producer every ``POLL_INTERVAL_S`` while records are in flight (and not at all
when none are), never by a thread of its own.  A poll thread has to take the
GIL for each report, and under load the event loop holds it: CPython makes a
waiting thread wait up to its switch interval (5 ms) each time, so reports fell
seconds behind (15,000 to 21,000 events awaiting their acknowledgement at once
in a 40,000-event run), holding their records and events in memory for the
garbage collector to scan again and again.  Polled on the loop, 100 to 300 wait.

In exactly-once mode (``transactions`` set: ``streams.recordpath.transactions``) the
producer is transactional, and two rules keep a transaction whole: an event's records
are *held* on its ticket until it is sealed, so a commit never carries part of an
event; and while a commit is under way the *gate* is closed: records sent meanwhile
wait, and go into the next transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from opentelemetry.trace import Span

from streams.connection import KafkaConnection
from streams.errors import StreamsError
from streams.position import Position
from streams.recordpath.protocol import format_source, format_tp
from streams.tracing.spans import RecordSpans

if TYPE_CHECKING:
    from streams.recordpath.transactions import Transactions

__all__ = ["CURRENT", "Outbox", "OutboxError", "Ticket", "TicketScope"]

log = logging.getLogger(__name__)

Delivered = Callable[[str, int, int], None]  # (topic, partition, offset), on the event loop

POLL_INTERVAL_S = 0.005
"""How often the loop serves delivery reports while records are in flight: what an acknowledgement may wait
beyond its records' delivery.  A poll with nothing ready costs a few microseconds."""


class OutboxError(StreamsError):
    """Kafka refused a record an agent wrote: the worker stops, the event is not acknowledged."""

    dead_letter = False
    code = "produce_failed"


class Ticket:
    """The records one event caused; ``done`` runs (on the loop) when all are durable and the ticket is sealed."""

    __slots__ = ("_origin", "_stamp", "done", "held", "made", "pending", "rebuild", "sealed", "source")

    def __init__(self, source: Position | None = None) -> None:
        self.pending = 0
        self.sealed = False
        self.done: Callable[[], None] | None = None
        self.source = source  # where the record being processed sits
        self._stamp: bytes | None = None
        self._origin: str | None = None
        self.made = 0  # repartition items made so far: their rank (``streams.recordpath.batching``)
        self.rebuild = False  # a rebuild judging the record again: only its table writes go out
        self.held: list[Callable[[], None]] | None = None  # exactly-once: what it sent, sent once it is sealed

    @property
    def stamp(self) -> bytes | None:
        """``source`` as changelog records carry it (``protocol.format_source``), made once per event."""
        if self._stamp is None and self.source is not None:
            self._stamp = format_source(*self.source)
        return self._stamp

    @property
    def origin(self) -> str | None:
        """``source``'s topic partition as repartition items name it (``protocol.format_tp``), made once."""
        if self._origin is None and self.source is not None:
            self._origin = format_tp(self.source.topic, self.source.partition)
        return self._origin


CURRENT: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("streams_outbox_ticket", default=None)
"""The ticket of the event being processed: what is sent now counts on it."""


class TicketScope:
    """``with outbox.open(done):`` a new ticket is current inside; on a clean exit it is sealed with ``done``.

    If the block raises, the ticket is never sealed and ``done`` never runs: the event is not acknowledged.
    A plain (not async) context manager: it is entered once per event, and has nothing to wait for.
    """

    __slots__ = ("_done", "_outbox", "_token", "ticket")

    def __init__(self, outbox: Outbox, done: Callable[[], None], source: Position | None = None) -> None:
        self._outbox = outbox
        self._done = done
        self.ticket = Ticket(source)

    def __enter__(self) -> Ticket:
        self._token = CURRENT.set(self.ticket)
        return self.ticket

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        CURRENT.reset(self._token)
        if exc_type is None:
            self._outbox.seal(self.ticket, self._done)
        elif self.ticket.held or self.ticket.pending or self.ticket.made:
            self._outbox.abandoned += 1  # part of an event is in the stores: never a clean stop


class Outbox:
    """One producer for everything agents write. Use it on the event loop's thread only."""

    def __init__(self, kafka: KafkaConnection, *, client_id: str, loop: asyncio.AbstractEventLoop,
                 on_failure: Callable[[OutboxError], None] = lambda error: None, producer: Any = None,
                 spans: RecordSpans | None = None, config: Mapping[str, Any] | None = None) -> None:
        """``on_failure``: called once, on the loop, when Kafka refuses a record (stop the worker).
        ``config``: more librdkafka settings (exactly-once: ``transactional.id``, ``transaction.timeout.ms``).
        ``producer``: a confluent-kafka ``Producer`` or one with its produce/poll/flush/len (tests).
        ``spans``: with tracing on, every record an event writes but its changelog records carries the event's
        trace context on, and gets a send span ended by its delivery when the trace is recorded; a repartition
        record carries its items' contexts inside (``streams.tracing``)."""
        self._spans = spans
        self._loop = loop
        self._on_failure = on_failure
        self._producer = producer if producer is not None else Producer(kafka.config({
            "client.id": client_id, "acks": "all",
            "enable.idempotence": True, "partitioner": "murmur2_random", "linger.ms": 2,
            "compression.type": "lz4", "queue.buffering.max.messages": 500_000, "log_level": 3, **(config or {}),
        }))
        self._reports: list[tuple[Sequence[Ticket], Delivered | None, KafkaError | None, str, int, int,
                                  Span | None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.failed: OutboxError | None = None
        self.transactions: Transactions | None = None  # exactly-once: set by the app, with the same producer
        self.abandoned = 0  # events that wrote and then raised (or were cancelled): their writes are half done
        self._waiting: list[Callable[[], None]] | None = None  # a commit under way: the sends it holds back

    @property
    def producer(self) -> Any:
        return self._producer

    def send(self, topic: str, key: bytes | None, value: bytes | None,
             headers: Sequence[tuple[str, bytes | None]] | None = None, *, partition: int | None = None,
             tickets: Sequence[Ticket] | None = None, delivered: Delivered | None = None, state: bool = False) -> bool:
        """Produce one record, counted on ``tickets`` (default: the current event's); False if it was not sent.

        Several tickets share a record that carries several events' outputs (``streams.recordpath.batching``);
        a ticket listed twice counts twice.  ``state``: a changelog record; any other record of an event that a
        rebuild judges again is not sent (its outputs went out the first time).
        """
        span = None
        current = None
        if tickets is None:
            current = CURRENT.get()
            if current is not None and current.rebuild and not state:
                return False
            tickets = (current,) if current is not None else ()
            if self._spans is not None and not state:  # an event's own output (a batch carries its items' contexts)
                headers, span = self._spans.send(topic, headers or ())
        if current is not None and self.holds(current):
            self.hold(current, partial(self._emit, topic, key, value, headers, partition, tickets, delivered, span))
        else:
            self._emit(topic, key, value, headers, partition, tickets, delivered, span)
        return True

    def holds(self, ticket: Ticket) -> bool:
        """True while what ``ticket``'s event sends must wait for it to be sealed (exactly-once)."""
        return self.transactions is not None and not ticket.sealed

    @staticmethod
    def hold(ticket: Ticket, send: Callable[[], None]) -> None:
        """Run ``send`` when ``ticket`` is sealed (``holds``): its event is processed, whole."""
        if ticket.held is None:
            ticket.held = []
        ticket.held.append(send)

    def _emit(self, topic: str, key: bytes | None, value: bytes | None,
              headers: Sequence[tuple[str, bytes | None]] | None, partition: int | None,
              tickets: Sequence[Ticket], delivered: Delivered | None, span: Span | None) -> None:
        for ticket in tickets:
            ticket.pending += 1
        if self._waiting is not None:  # a commit is under way: into the next transaction
            self._waiting.append(partial(self._produce, topic, key, value, headers, partition, tickets, delivered,
                                         span))
        else:
            self._produce(topic, key, value, headers, partition, tickets, delivered, span)

    def _produce(self, topic: str, key: bytes | None, value: bytes | None,
                 headers: Sequence[tuple[str, bytes | None]] | None, partition: int | None,
                 tickets: Sequence[Ticket], delivered: Delivered | None, span: Span | None) -> None:
        def report(err: KafkaError | None, msg: Message) -> None:  # inside poll or flush, on this thread
            self._reports.append((tickets, delivered, err, topic, int(msg.partition() or 0), int(msg.offset() or 0),
                                  span))

        extra: dict[str, Any] = {"partition": partition} if partition is not None else {}
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=list(headers or ()), on_delivery=report,
                                       **extra)
                break
            except BufferError:
                self._producer.poll(0.05)  # the local queue is full: let deliveries drain
        if self.transactions is not None:
            self.transactions.produced(t.source for t in tickets if t.source is not None)
        self._arm()

    def close_gate(self) -> None:
        """A commit begins: what is sent from now on waits for ``open_gate`` (the next transaction)."""
        if self._waiting is None:
            self._waiting = []

    def open_gate(self) -> None:
        """The next transaction has begun: send what waited, in the order it was sent."""
        waiting, self._waiting = self._waiting, None
        for produce in waiting or ():
            produce()

    @property
    def waiting(self) -> int:
        """Sends held back by a commit under way (exactly-once), not yet produced."""
        return len(self._waiting or ())

    async def delivered(self) -> None:
        """Wait (on the loop) until every record produced so far is delivered and its reports applied."""
        while True:
            self._producer.poll(0)  # also what is not a delivery report (errors, logs): ``len`` counts those too
            self._drain()
            self.raise_if_failed()
            if not len(self._producer):
                return
            await asyncio.sleep(POLL_INTERVAL_S)

    def open(self, done: Callable[[], None], source: Position | None = None) -> TicketScope:
        """A ticket for one event, current inside the ``with`` block; ``done`` once it is sealed and durable.
        ``source``: where the event sits, carried by the changelog records and repartition items it writes."""
        return TicketScope(self, done, source)

    def seal(self, ticket: Ticket, done: Callable[[], None]) -> None:
        """Nothing more will be sent for this event: send what it held, run ``done`` once its records are durable."""
        ticket.sealed = True
        if ticket.held is not None:
            held, ticket.held = ticket.held, None
            for send in held:
                send()
        if ticket.pending == 0:
            done()
        else:
            ticket.done = done

    def raise_if_failed(self) -> None:
        if self.failed is not None:
            raise self.failed

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for outstanding records (at shutdown); how many are still undelivered."""
        try:
            remaining = int(self._producer.flush(timeout))
        except KafkaException as exc:  # a transactional producer that was fenced: its records are rolled back
            if self.transactions is None:
                raise
            log.warning("the outbox's producer could not flush: %s", exc.args[0].str())
            remaining = len(self._producer)
        self._drain()
        return remaining

    def close(self) -> int:
        """Flush and stop polling; how many records are still undelivered."""
        remaining = self.flush()
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return remaining

    def _arm(self) -> None:
        """Poll in ``POLL_INTERVAL_S`` unless a poll is already due."""
        if self._timer is None and not self._closed:
            self._timer = self._loop.call_later(POLL_INTERVAL_S, self._tick)

    def _tick(self) -> None:
        """The poll timer: serve the delivery reports that are in, apply them; again while records are in flight."""
        self._timer = None
        self._producer.poll(0)
        self._drain()
        if len(self._producer):
            self._arm()

    def _drain(self) -> None:
        """Apply delivery reports, run the acknowledgements they complete."""
        reports, self._reports = self._reports, []
        for tickets, delivered, err, topic, partition, offset, span in reports:
            if span is not None:
                RecordSpans.delivered(span, partition, offset, None if err is None else f"{err.name()}: {err.str()}")
            if err is not None:
                if self.failed is None:
                    self.failed = OutboxError(f"Kafka refused a record for {topic}: {err.name()}: {err.str()}")
                    self._on_failure(self.failed)
                continue  # never acknowledge the event
            if delivered is not None:
                delivered(topic, partition, offset)
            for ticket in tickets:
                ticket.pending -= 1
                if ticket.pending == 0 and ticket.sealed and ticket.done is not None:
                    done, ticket.done = ticket.done, None
                    done()
