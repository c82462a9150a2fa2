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
restart; nothing is lost.  Delivery reports arrive on a poll thread and are
handed to the event loop in batches, one wake-up per batch.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from streams.errors import StreamsError

__all__ = ["CURRENT", "Outbox", "OutboxError", "Ticket", "TicketScope"]

Delivered = Callable[[str, int, int], None]  # (topic, partition, offset), on the event loop


class OutboxError(StreamsError):
    """Kafka refused a record an agent wrote: the worker stops, the event is not acknowledged."""

    dead_letter = False
    code = "produce_failed"


class Ticket:
    """The records one event caused; ``done`` runs (on the loop) when all are durable and the ticket is sealed."""

    __slots__ = ("done", "pending", "sealed")

    def __init__(self) -> None:
        self.pending = 0
        self.sealed = False
        self.done: Callable[[], None] | None = None


CURRENT: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("streams_outbox_ticket", default=None)
"""The ticket of the event being processed: what is sent now counts on it."""


class TicketScope:
    """``with outbox.open(done):`` a new ticket is current inside; on a clean exit it is sealed with ``done``.

    If the block raises, the ticket is never sealed and ``done`` never runs: the event is not acknowledged.
    A plain (not async) context manager: it is entered once per event, and has nothing to wait for.
    """

    __slots__ = ("_done", "_outbox", "_token", "ticket")

    def __init__(self, outbox: Outbox, done: Callable[[], None]) -> None:
        self._outbox = outbox
        self._done = done
        self.ticket = Ticket()

    def __enter__(self) -> Ticket:
        self._token = CURRENT.set(self.ticket)
        return self.ticket

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        CURRENT.reset(self._token)
        if exc_type is None:
            self._outbox.seal(self.ticket, self._done)


class Outbox:
    def __init__(self, bootstrap_servers: str, *, client_id: str, loop: asyncio.AbstractEventLoop,
                 on_failure: Callable[[OutboxError], None] = lambda error: None, producer: Any = None) -> None:
        """``on_failure``: called once, on the loop, when Kafka refuses a record (stop the worker).
        ``producer``: a confluent-kafka ``Producer`` or one with its produce/poll/flush (tests)."""
        self._loop = loop
        self._on_failure = on_failure
        self._producer = producer or Producer({
            "bootstrap.servers": bootstrap_servers, "client.id": client_id, "acks": "all",
            "enable.idempotence": True, "partitioner": "murmur2_random", "linger.ms": 2,
            "compression.type": "lz4", "queue.buffering.max.messages": 500_000, "log_level": 3,
        })
        self._reports: list[tuple[Sequence[Ticket], Delivered | None, KafkaError | None, str, int, int]] = []
        self._lock = threading.Lock()
        self._draining = False
        self.failed: OutboxError | None = None
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name=f"{client_id}-outbox", daemon=True)
        self._poller.start()

    def send(self, topic: str, key: bytes | None, value: bytes | None,
             headers: Sequence[tuple[str, bytes | None]] | None = None, *, partition: int | None = None,
             tickets: Sequence[Ticket] | None = None, delivered: Delivered | None = None) -> None:
        """Produce one record, counted on ``tickets`` (default: the current event's).

        Several tickets share a record that carries several events' outputs (``streams.batching``);
        a ticket listed twice counts twice.
        """
        if tickets is None:
            current = CURRENT.get()
            tickets = (current,) if current is not None else ()
        for ticket in tickets:
            ticket.pending += 1

        def report(err: KafkaError | None, msg: Message) -> None:  # poll thread
            entry = (tickets, delivered, err, topic, int(msg.partition() or 0), int(msg.offset() or 0))
            with self._lock:
                self._reports.append(entry)

        extra: dict[str, Any] = {"partition": partition} if partition is not None else {}
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=list(headers or ()), on_delivery=report,
                                       **extra)
                return
            except BufferError:
                self._producer.poll(0.05)  # the local queue is full: let deliveries drain

    def open(self, done: Callable[[], None]) -> TicketScope:
        """A ticket for one event, current inside the ``with`` block; ``done`` once it is sealed and durable."""
        return TicketScope(self, done)

    def seal(self, ticket: Ticket, done: Callable[[], None]) -> None:
        """Nothing more will be sent for this event: run ``done`` once its records are durable."""
        ticket.sealed = True
        if ticket.pending == 0:
            done()
        else:
            ticket.done = done

    def raise_if_failed(self) -> None:
        if self.failed is not None:
            raise self.failed

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for outstanding records (at shutdown); how many are still undelivered."""
        remaining = int(self._producer.flush(timeout))
        self._drain()
        return remaining

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._poller.join(timeout=2)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)
            with self._lock:
                if not self._reports or self._draining:
                    continue
                self._draining = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed: shutting down
                return

    def _drain(self) -> None:
        """On the loop: apply delivery reports, run the acknowledgements they complete."""
        with self._lock:
            reports, self._reports = self._reports, []
            self._draining = False
        for tickets, delivered, err, topic, partition, offset in reports:
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
