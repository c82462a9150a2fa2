"""Saga deadlines as state: a loop that turns each deadline that passed into a ``SagaTimer`` inbox record.

A deadline is a row of the ``saga-deadlines`` table (written by the saga agent with the saga's state), never a
sleeping coroutine: it survives a restart and moves with its partition.  Every ``STREAMS_SAGA_TICK_S`` each worker
looks at the rows of the partitions it owns (Faust iterates active partitions only) and writes a timer record for
each one due.  The record goes through the inbox and is judged by the agent like any event, so a timer fires
once: a timer written twice (by two workers during a rebalance, or again after a restart) names a step and
attempt the saga has left, and is ignored as stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from agents.saga.inbox import TIMER, signal
from agents.saga.state import iso, record_id
from streams.app import StreamsApp
from streams.errors import StreamsError
from streams.producer import DurableProducer
from streams.web.route import restoring

__all__ = ["DueTimers", "register_saga_timers"]

log = logging.getLogger(__name__)


class DueTimers:
    """Which deadlines need a timer record now: those that passed, less those whose record is already on its way.

    ``rows`` are the deadline table's (order id, {"step", "attempt", "deadline"}) items; a deadline is ISO 8601 UTC
    with milliseconds, ordered as text.  A record written for a (step, attempt) is not written again while that row
    stays; once the row moves on (the saga judged the timer, or answered) it is forgotten.
    """

    def __init__(self) -> None:
        self._written: dict[str, tuple[str, int]] = {}  # order id -> the (step, attempt) whose timer is on its way

    def due(self, rows: Iterable[tuple[str, Any]], now: str) -> list[tuple[str, str, int]]:
        passed = {order_id: (row["step"], row["attempt"]) for order_id, row in rows
                  if row is not None and row["deadline"] <= now}
        for order_id in [k for k, written in self._written.items() if passed.get(k) != written]:
            del self._written[order_id]  # judged (its deadline moved or went): forget it
        return [(order_id, step, attempt) for order_id, (step, attempt) in passed.items()
                if self._written.get(order_id) != (step, attempt)]

    def written(self, order_id: str, step: str, attempt: int) -> None:
        self._written[order_id] = (step, attempt)


def register_saga_timers(app: StreamsApp, *, deadlines: Any, inbox_topic: str, tick_s: float,
                         producer: Callable[[], DurableProducer]) -> None:
    name = f"{app.streams_settings.producer_name}/saga-timer"
    timers = DueTimers()

    async def fire_due() -> None:
        if restoring(app):  # the deadlines of a partition being restored are not all there yet
            return
        for order_id, step, attempt in timers.due(list(deadlines.items()), iso(datetime.now(UTC))):
            event_id = record_id(order_id, f"{TIMER}/{step}/{attempt}")
            key, value, headers = signal(TIMER, order_id, event_id, name, {"step": step, "attempt": attempt})
            try:
                await producer().send(inbox_topic, key, value, headers)
            except StreamsError as exc:  # Kafka down: the deadline stays, the next tick tries again
                log.warning("saga timer for order %s not written: %s", order_id, exc)
                continue
            timers.written(order_id, step, attempt)

    app.timer(interval=tick_s, name="saga-deadlines")(fire_due)
