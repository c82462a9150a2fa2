"""The orders agent: decode, ``apply_order``, write the order table, send the deltas.

Thin by design: every decision is in ``agents.orders.projection``.  A record
that cannot be decoded or validated is dead-lettered with its reason and the
agent goes on; its offset is committed only after that dead letter is flushed
(Faust flushes the producer before every commit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from agents.orders.projection import EventMeta, OrderOutcome, apply_order
from agents.tables import Tables
from streams.app import StreamsApp
from streams.dlq import dead_letter_headers
from streams.errors import StreamsError
from streams.freshness import Watermarks
from streams.records import RawRecord
from streams.retry import RetryPolicy, retry_async
from streams.topics import dlq_topic

__all__ = ["OrderDecoder", "register_order_agent"]

log = logging.getLogger(__name__)

OrderDecoder = Callable[[RawRecord], tuple[EventMeta, Any]]
AGENT = "orders-projection"


def register_order_agent(app: StreamsApp, *, source: Any, tables: Tables, deltas: dict[str, Any],
                         decode: OrderDecoder, marks: Watermarks, retry: RetryPolicy | None = None) -> None:
    """Transient decode failures (registry unreachable) are retried with backoff and jitter, then
    dead-lettered with the number of attempts; permanent ones are dead-lettered at once."""
    retry = retry or RetryPolicy()
    metrics = app.metrics
    processing = metrics.processing_seconds.labels(AGENT)  # label lookups once, not per event

    async def dead_letter(record: RawRecord, exc: StreamsError) -> None:
        metrics.events.labels(AGENT, "unknown", "dead_lettered").inc()
        log.warning("dead-lettering %s[%d]@%d after %d attempt(s): %s: %s", record.topic, record.partition,
                    record.offset, exc.attempts, type(exc).__name__, exc.message)
        await app.producer.send(dlq_topic(record.topic), record.key, record.value, None, None,
                                dead_letter_headers(record, exc, agent=AGENT, attempts=exc.attempts))

    async def decode_with_retries(record: RawRecord) -> tuple[EventMeta, Any]:
        """Decode; only a retriable failure (rare) pays for the retry machinery."""
        try:
            return decode(record)
        except StreamsError as exc:
            if not exc.retriable:
                raise
            first_failure = exc

        async def attempt() -> tuple[EventMeta, Any]:
            return decode(record)

        def on_retry(attempt_no: int, exc: StreamsError) -> None:
            log.warning("retrying %s[%d]@%d after attempt %d: %s", record.topic, record.partition,
                        record.offset, attempt_no, exc.message)

        result, _ = await retry_async(attempt, retry, on_retry, failed=first_failure)
        return result

    def send_deltas(outcome: OrderOutcome) -> None:
        for delta in outcome.customers:
            deltas["customers"].send_soon(key=delta["customer_id"], value=delta)
        for sku in outcome.skus:
            deltas["inventory"].send_soon(key=sku["sku"], value=sku)
        for stat in outcome.stats:
            deltas["stats"].send_soon(key="all", value=stat)

    @app.agent(source, name=AGENT)
    async def orders_projection(stream: Any) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            record = RawRecord.from_faust(event.message)
            try:
                meta, model = await decode_with_retries(record)
            except StreamsError as exc:
                await dead_letter(record, exc)
                marks.advance(record.topic, record.partition, record.offset)
                continue
            outcome = apply_order(tables.orders.get(model.order_id), model, meta)
            if outcome.kind == "applied":
                tables.orders[model.order_id] = outcome.view
            elif outcome.kind == "rejected":
                current = outcome.view["status"] if outcome.view else "none"
                metrics.rejected_transitions.labels("orders", meta.event_type, current).inc()
                log.warning("rejected %s for order %s (event_id=%s): %s", meta.event_type, model.order_id,
                            meta.event_id, outcome.reason)
            if outcome.kind in ("applied", "replayed"):
                send_deltas(outcome)
            marks.advance(record.topic, record.partition, record.offset)
            metrics.events.labels(AGENT, meta.event_type, outcome.kind).inc()
            processing.observe(time.perf_counter() - started)
