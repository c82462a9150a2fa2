"""Saga deadlines as state: a loop that turns each deadline that passed into a ``SagaTimer`` inbox record.

A deadline is a row of the ``saga-deadlines`` table (written by the saga agent with the saga's state), never a
sleeping coroutine: it survives a restart and moves with its partition.  Every ``STREAMS_SAGA_TICK_S`` each worker
looks at the rows of the partitions it owns, through an index in memory (``agents.saga.deadlines``: loaded from the
table after each rebalance, where Faust iterates active partitions only), and writes a timer record for each one
due.  The record goes through the inbox and is judged by the agent like any event, so a timer fires
once: a timer written twice (by two workers during a rebalance, or again after a restart) names a step and
attempt the saga has left, and is ignored as stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agents.saga.deadlines import DeadlineIndex
from agents.saga.inbox import TIMER, signal
from agents.saga.state import iso, record_id
from streams.app import StreamsApp
from streams.errors import StreamsError
from streams.producer import DurableProducer
from streams.web.route import restoring

__all__ = ["register_saga_timers"]

log = logging.getLogger(__name__)


def register_saga_timers(app: StreamsApp, *, deadlines: Any, index: DeadlineIndex, inbox_topic: str, tick_s: float,
                         producer: Callable[[], DurableProducer]) -> None:
    """``index`` is kept by the saga agent's commit; it is loaded here from ``deadlines`` after each rebalance."""
    name = f"{app.streams_settings.producer_name}/saga-timer"

    async def fire_due() -> None:
        if restoring(app):  # the deadlines of a partition being restored are not all there yet
            return
        # after a rebalance that moved or restored partitions: the rows of those this worker owns now
        index.refresh(deadlines.items, (app.recovery.epoch, frozenset(app.consumer.assignment())))
        for order_id, step, attempt in index.due(iso(datetime.now(UTC))):
            event_id = record_id(order_id, f"{TIMER}/{step}/{attempt}")
            key, value, headers = signal(TIMER, order_id, event_id, name, {"step": step, "attempt": attempt})
            try:
                await producer().send(inbox_topic, key, value, headers)
            except StreamsError as exc:  # Kafka down: the deadline stays, the next tick tries again
                log.warning("saga timer for order %s not written: %s", order_id, exc)
                continue
            index.written(order_id, step, attempt)

    app.timer(interval=tick_s, name="saga-deadlines")(fire_due)
