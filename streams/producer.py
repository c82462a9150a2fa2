"""A durable producer: acks=all, idempotent, Kafka's standard (murmur2) partitioner.

Used by ``POST /events``, ``streams produce`` and redrive.  ``send`` returns the
record's position only once the broker has it on all in-sync replicas: nothing
is acknowledged to a client that is not durable.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor

from streams.connection import KafkaConnection
from streams.errors import StreamsError, TransientError
from streams.position import Position
from streams.tracing import TRACE_HEADERS, Tracing, extract, within

__all__ = ["DurableProducer", "ProduceError", "producer_config"]


class ProduceError(StreamsError):
    """The broker refused a record for good (too large, unknown topic, not authorized)."""

    dead_letter = False
    http_status = 422
    code = "produce_failed"


def producer_config(kafka: KafkaConnection, client_id: str) -> dict[str, Any]:
    return kafka.config({
        "client.id": client_id,
        "acks": "all",
        "enable.idempotence": True,
        "partitioner": "murmur2_random",  # what Java clients and Faust's router use
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.timeout.ms": 30000,
    })


class DurableProducer:
    """confluent-kafka ``Producer`` with a poll thread and awaitable, position-returning sends."""

    def __init__(self, kafka: KafkaConnection, client_id: str = "streams", *, tracing: Tracing | None = None) -> None:
        """``tracing`` on: each record gets a send span (OpenTelemetry's confluent-kafka instrumentation), child
        of the current span or of the trace context the record's headers carry, and carries its context on."""
        producer = Producer(producer_config(kafka, client_id))
        self._traced = tracing is not None and tracing.enabled
        if tracing is not None and tracing.enabled:
            producer = ConfluentKafkaInstrumentor.instrument_producer(producer, tracer_provider=tracing.provider)
        self._producer = producer
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name=f"{client_id}-poll", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def produce(self, topic: str, key: bytes | None, value: bytes | None,
                headers: Sequence[tuple[str, bytes | None]] = (), *, partition: int | None = None) -> Future[Position]:
        """Enqueue one record (to ``partition``, else the key's); the future resolves with its position once durable."""
        future: Future[Position] = Future()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                future.set_exception(_classify(err))
            else:
                future.set_result(Position(str(msg.topic()), int(msg.partition() or 0), int(msg.offset() or 0)))

        if self._traced:
            return self._produce_traced(topic, key, value, headers, partition, on_delivery, future)
        return self._produce(topic, key, value, headers, partition, on_delivery, future)

    def _produce_traced(self, topic: str, key: bytes | None, value: bytes | None,
                        headers: Sequence[tuple[str, bytes | None]], partition: int | None,
                        on_delivery: Callable[[KafkaError | None, Message], None],
                        future: Future[Position]) -> Future[Position]:
        """A record that carries a trace context (a dead letter redriven) continues it; any other, the current."""
        carried = extract(headers)
        if not carried:
            return self._produce(topic, key, value, headers, partition, on_delivery, future)
        with within(carried):  # the instrumentation's send span, in the carried trace, injects the new context
            kept = [(name, content) for name, content in headers if name not in TRACE_HEADERS]
            return self._produce(topic, key, value, kept, partition, on_delivery, future)

    def _produce(self, topic: str, key: bytes | None, value: bytes | None,
                 headers: Sequence[tuple[str, bytes | None]], partition: int | None,
                 on_delivery: Callable[[KafkaError | None, Message], None],
                 future: Future[Position]) -> Future[Position]:
        while True:
            try:
                if partition is None:
                    self._producer.produce(topic, value=value, key=key, headers=list(headers),
                                           on_delivery=on_delivery)
                else:
                    self._producer.produce(topic, value=value, key=key, headers=list(headers),
                                           on_delivery=on_delivery, partition=partition)
                return future
            except BufferError:
                self._producer.poll(0.1)  # local queue full: let deliveries drain
            except KafkaException as exc:
                raise _classify(exc.args[0]) from exc

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Sequence[tuple[str, bytes]] = ()) -> Position:
        return await asyncio.wrap_future(self.produce(topic, key, value, headers))

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for outstanding deliveries; returns how many are still undelivered."""
        return int(self._producer.flush(timeout))

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        self._stop.set()
        self._poller.join(timeout=2)


def _classify(err: KafkaError) -> StreamsError:
    message = f"{err.name()}: {err.str()}"
    if err.retriable() or err.code() in (KafkaError._MSG_TIMED_OUT, KafkaError._TRANSPORT):
        return TransientError(f"Kafka did not take the record: {message}", hint="retry later")
    return ProduceError(f"Kafka refused the record: {message}")
