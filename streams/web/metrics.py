"""Prometheus metrics: one registry object per process, passed in explicitly.

Platform metrics live here; domain code adds its own to the same registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    """Every metric of a worker, on a registry of its own (tests can make many)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.events = Counter(
            "streams_events", "Events processed, by agent, event type and outcome",
            ["agent", "event_type", "outcome"], registry=r,
        )
        self.processing_seconds = Histogram(
            "streams_processing_seconds", "Time from receiving a record to having applied it",
            ["agent"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.query_seconds = Histogram(
            "streams_query_seconds", "Read-model query latency", ["route"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.rejected_transitions = Counter(
            "streams_rejected_transitions", "Events whose transition the state machine refused",
            ["read_model", "event_type", "from_status"], registry=r,
        )
        self.produced = Counter(
            "streams_produced", "Records this process produced, by topic and source (http: POST /events)",
            ["topic", "source"], registry=r,
        )
        self.ingested = Counter(
            "streams_ingested", "Records the agents took in from their source topics (once per record, not again "
            "when skipped or judged again by a rebuild; a redriven dead letter is a new record, counted again "
            "under the source that first sent it), by who produced them (the producer header): http, cli, demo, "
            "bench (POST /events, streams produce, streams demo, the benchmarks), worker (an agent's output), "
            "other (any other client), none (no header)",
            ["topic", "source"], registry=r,
        )
        self.dead_letters = Counter(
            "streams_dead_letters", "Records written to a dead-letter topic, by source topic and reason "
            "(the error class, or Parked)", ["topic", "reason"], registry=r,
        )
        self.parked_records = Counter(
            "streams_parked_records", "Records parked behind a dead letter of their key", ["topic"], registry=r,
        )
        self.parked_keys = Gauge(
            "streams_parked_keys", "Keys parked behind a dead letter, on this worker's partitions", ["topic"],
            registry=r,
        )
        self.retries = Counter(
            "streams_retries", "In-place retries of a record, by agent and error class", ["agent", "reason"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "streams_breaker_state", "Circuit breaker: 0 closed, 1 open, 2 half-open", ["agent"], registry=r,
        )
        self.paused_partitions = Gauge(
            "streams_paused_partitions", "Partitions paused by an open circuit breaker", ["agent"], registry=r,
        )
        self.recovery_emptied = Gauge(
            "streams_recovery_emptied_partitions", "Table partitions this worker emptied and restored from their "
            "changelog since it started (left by a crash, or a copy that could not be trusted)", registry=r,
        )
        self.recovery_unfinished = Gauge(
            "streams_recovery_unfinished_records", "Changelog records dropped while restoring since this worker "
            "started: a crashed worker's unfinished work, done again from the source", registry=r,
        )
        self.fanout = Counter(
            "streams_fanout", "Records fanned out, by rule and target topic", ["rule", "target"], registry=r,
        )
        self.guarantee = Gauge(
            "streams_processing_guarantee", "1 for the processing guarantee in force (STREAMS_PROCESSING_GUARANTEE)",
            ["guarantee"], registry=r,
        )
        self.transactions = Counter(
            "streams_transactions", "Transactions ended (exactly_once), by outcome: committed or aborted",
            ["outcome"], registry=r,
        )
        self.transaction_seconds = Histogram(
            "streams_transaction_seconds", "How long each transaction was open, from its beginning to its commit "
            "or abort (exactly_once)", registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0),
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def register_metrics_route(app: object, metrics: Metrics) -> None:
    """``GET /metrics``: the Prometheus text exposition of ``metrics``."""
    from faust.web import Request, Response, View

    @app.page("/metrics")  # type: ignore[attr-defined]
    class MetricsView(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(metrics.exposition(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    del MetricsView
