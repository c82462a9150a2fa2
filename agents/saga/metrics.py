"""The saga's metrics, on the worker's registry: what happened to sagas by step, odd replies, and durations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from agents.saga.state import Decision

__all__ = ["SagaMetrics"]

_SAGA_EVENTS = frozenset({"started", "completed", "compensated", "failed", "timed_out", "retried", "stuck",
                          "cancelled"})
"""Notes of ``advance`` counted in ``streams_sagas_total`` by step; every other note is about a reply or a signal
(duplicate, late, unexpected, orphan, stale_timer, cancel_too_late, retry_ignored)."""

_ENDED = ("completed", "compensated", "failed")
_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


class SagaMetrics:
    def __init__(self, registry: CollectorRegistry, running: Callable[[], float]) -> None:
        self.sagas = Counter("streams_sagas", "Order sagas by what happened (started, completed, compensated, failed, "
                             "timed_out, retried, stuck, cancelled) and the step it happened at",
                             ["event", "step"], registry=registry)
        self.replies = Counter("streams_saga_replies", "Inputs a saga took no step on, by kind (duplicate, late, "
                               "unexpected, orphan, stale_timer, cancel_too_late, retry_ignored) and type",
                               ["kind", "type"], registry=registry)
        self.duration = Histogram("streams_saga_duration_seconds", "From OrderPlaced to the saga's end, by how it "
                                  "ended", ["status"], buckets=_DURATION_BUCKETS, registry=registry)
        self.waiting = Gauge("streams_sagas_waiting", "Sagas of this worker's partitions waiting for a service",
                             registry=registry)
        self.waiting.set_function(running)

    def count(self, decision: Decision) -> None:
        for what, step in decision.notes:
            if what in _SAGA_EVENTS:
                self.sagas.labels(what, step).inc()
            else:
                self.replies.labels(what, step).inc()
            state = decision.state
            if what in _ENDED and state is not None and state["ended_at"] is not None:
                took = datetime.fromisoformat(state["ended_at"]) - datetime.fromisoformat(state["started_at"])
                self.duration.labels(what).observe(took.total_seconds())
