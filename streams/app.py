"""Builds the ``faust.App`` from settings: the one place Faust is configured.

Choices that matter for correctness, not style:

* Agents acknowledge events themselves (``streams.recordpath.agent``), only once an
  event is applied, dead-lettered or parked: Faust's automatic acks would
  acknowledge an event its agent raised on (faust-streaming ignores
  ``stream_ack_exceptions``), and its offset would then be committed.
* ``producer_acks=-1`` (all in-sync replicas): nothing is acknowledged that is
  not durable.
* Every topic the app creates, its own (``declare_topics``) and Faust's (changelogs,
  the assignor's leader topic), gets the replication factor and ``min.insync.replicas``
  of ``streams.replication``, decided when the worker first starts, before any topic
  is created (Faust reads ``topic_replication_factor`` when it declares a topic;
  ``ReplicatedTopic`` adds ``min.insync.replicas``, which Faust has no setting for).
* RocksDB table stores under ``data_dir``: a restarted worker reads its tables
  from disk and replays only the changelog tail.
* What agents write (changelogs, deltas, fan-out, dead letters) goes through
  the ``Outbox`` (librdkafka), and an event is acknowledged once all of it is
  durable, in offset order per partition; every table partition is restored to
  exactly the effects of the source records below its resume point, and agents
  skip what is below it: the commit protocol (``streams.recordpath.protocol``).
* Faust's transport, sensors, recovery and rebalance signals are hooked in
  ``streams.recordpath.faust_internals`` (``FaustHooks``, this app's base).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

import faust
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from streams import heap
from streams.breaker import CircuitBreaker
from streams.errors import TransientError
from streams.membership import heartbeat_interval_s, instance_id
from streams.recordpath.acks import InOrderAcks
from streams.recordpath.batching import RepartitionBatcher
from streams.recordpath.faust_internals import (
    FaustHooks,
    MarkerAwareTableManager,
    OutboxTable,
    leave_on_clean_stop,
    serve_protocol_errors_as_json,
)
from streams.recordpath.outbox import Outbox, OutboxError
from streams.recordpath.protocol import Positions
from streams.recordpath.transactions import EXACTLY_ONCE, Transactions, transactional_id
from streams.replay.rebuilds import RebuildLog
from streams.replication import Replication, cluster_replication
from streams.settings import Settings
from streams.topics import TopicSpec, ensure_topics
from streams.tracing import WORKER_SERVICE, RecordSpans, Tracing, start_tracing
from streams.web.cards import Card
from streams.web.metrics import Metrics

__all__ = ["ReplicatedTopic", "StreamsApp", "build_app", "outbox_config"]

log = logging.getLogger(__name__)


class StreamsApp(FaustHooks):
    """A ``faust.App`` that also carries its settings, metrics and declared topics.

    Declared topics are created (if missing) on first start, before the
    consumer subscribes, so tables and their sources agree on partitions.
    """

    def __init__(self, id: str, *, streams_settings: Settings, tracing: Tracing | None = None, **kwargs: Any) -> None:
        self.streams_settings = streams_settings
        self.tracing = tracing or Tracing.off()
        self.spans = RecordSpans(self.tracing.tracer) if self.tracing.enabled else None  # None: no span made
        self.positions = Positions()  # per source partition: the first offset not yet in the state
        super().__init__(id, positions=self.positions, committed=self._committed_now, **kwargs)
        self.metrics = Metrics()
        self.metrics.guarantee.labels(streams_settings.processing_guarantee).set(1)
        self.topic_specs: list[TopicSpec] = []
        self.replication: Replication | None = None  # decided on first start, before any topic is created
        self.outbox: Outbox | None = None  # created when the worker starts (it needs the running loop)
        self.batcher: RepartitionBatcher | None = None
        self.acks = InOrderAcks()  # what Faust is told is acknowledged, per partition in offset order
        self.breakers: dict[str, CircuitBreaker] = {}  # per guarded agent, for /health
        self.cards: list[Card] = []  # what the domain adds to the dashboard (streams.web.cards.register_card)
        self.metrics.recovery_emptied.set_function(lambda: float(self.recovery.emptied))
        self.metrics.recovery_unfinished.set_function(lambda: float(self.recovery.skipped))
        self.on_rebalance_complete.connect(_settle_heap)  # type: ignore[arg-type]  # mode types handlers oddly

    def declare_topics(self, specs: Iterable[TopicSpec]) -> None:
        self.topic_specs.extend(specs)

    def admin(self) -> AdminClient:
        return self.streams_settings.kafka.admin()

    async def committed_offsets(self, tps: Iterable[Any]) -> dict[tuple[str, int], int]:
        """Committed offsets of this app's group for ``tps`` (confluent-kafka AdminClient, in a thread)."""
        wanted = [(tp.topic, tp.partition) for tp in tps]
        return await asyncio.get_running_loop().run_in_executor(None, self._committed_now, wanted)

    def _committed_now(self, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The same, blocking (recovery needs them before Faust reads a changelog)."""
        if not tps:
            return {}
        request = ConsumerGroupTopicPartitions(self.conf.id, [TopicPartition(t, p) for t, p in tps])
        admin = self.admin()  # kept alive until the result is in: a collected client fails its futures
        # ``require_stable``: offsets a transaction still holds (a predecessor's, being committed or aborted) are
        # an error on their partition, never read as "nothing committed"; asked again until the transaction ends
        deadline = time.monotonic() + 3 * self.streams_settings.transaction_timeout_s
        while True:
            futures = admin.list_consumer_group_offsets([request], request_timeout=10, require_stable=True)
            result = futures[self.conf.id].result(timeout=15)
            unsettled = [tp for tp in result.topic_partitions if tp.error is not None]
            if not unsettled:
                return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}
            if time.monotonic() > deadline:
                raise TransientError(f"the committed offsets of {unsettled[0].topic}:{unsettled[0].partition} are "
                                     f"not settled: {unsettled[0].error}")
            time.sleep(0.2)

    async def on_first_start(self) -> None:
        await super().on_first_start()
        loop = asyncio.get_running_loop()
        settings = self.streams_settings
        self.replication = replication = await loop.run_in_executor(None, partial(
            cluster_replication, self.admin(), factor=settings.replication_factor,
            min_insync=settings.min_insync_replicas))
        self.conf.topic_replication_factor = replication.factor  # Faust's topics are declared after this
        specs = [*self.topic_specs, *self._changelog_specs()]
        if specs:
            await loop.run_in_executor(None, partial(
                ensure_topics, self.admin(), specs, replication_factor=replication.factor,
                min_insync_replicas=replication.min_insync))
        self.recovery.floors = await loop.run_in_executor(None, RebuildLog(self.streams_settings).floors, self.conf.id)
        exactly_once = settings.processing_guarantee == EXACTLY_ONCE
        txn_id = transactional_id(self.conf.id, self.conf.consumer_group_instance_id)
        self.outbox = Outbox(self.streams_settings.kafka, client_id=f"{self.conf.id}-outbox", loop=loop,
                             on_failure=self._outbox_failed, spans=self.spans,
                             config=outbox_config(settings, txn_id))
        if exactly_once:
            transactions = Transactions(self.outbox.producer, transactional_id=txn_id,
                                        timeout_s=settings.transaction_timeout_s, broker=settings.bootstrap_servers,
                                        observe=self._transaction_ended)
            await loop.run_in_executor(None, transactions.start)
            self.outbox.transactions = transactions
        self.batcher = RepartitionBatcher(self.outbox, self.streams_settings.topic_partitions,
                                          max_delay_s=self.streams_settings.repartition_linger_ms / 1000,
                                          spans=self.spans)
        self.add_future(self.batcher.run())

    def _changelog_specs(self) -> list[TopicSpec]:
        """The tables' changelog topics, created here with the others before the consumer subscribes.

        Faust would create them itself as it starts, moments before its consumer subscribes; on a broker
        busy creating them (the first worker of a new app) the subscription's metadata could miss one, the
        consumer then ignored it for good, and the table's agent crashed on every record
        (``PartitionsMismatch``: "the changelog topic has 0 partitions")."""
        return [TopicSpec(table.changelog_topic.get_topic_name(), table.partitions or self.conf.topic_partitions,
                          config={"cleanup.policy": "compact"})
                for table in self.tables.values()]

    def _transaction_ended(self, outcome: str, seconds: float) -> None:
        self.metrics.transactions.labels(outcome).inc()
        self.metrics.transaction_seconds.observe(seconds)

    def _outbox_failed(self, error: OutboxError) -> None:
        log.critical("stopping: %s (the events it belongs to are not committed; they are processed again "
                     "after the restart)", error.message)
        self.add_future(self.crash(error))

    async def on_shutdown(self) -> None:
        """After the consumer's last commit: what is still in flight goes out before the process ends."""
        await super().on_shutdown()
        if self.batcher is not None:
            self.batcher.flush()
        if self.outbox is not None:
            transactions = self.outbox.transactions
            rolled_back = transactions.abort() + self.outbox.waiting if transactions is not None else 0
            undelivered = self.outbox.close()
            if rolled_back or self.outbox.abandoned or (transactions is not None and transactions.failed):
                log.warning("%d records written after the last commit were rolled back: the next start restores "
                            "every table from its changelog and processes their events again", rolled_back)
                self.tracing.close()
                return
            if undelivered or self.outbox.failed is not None:
                log.warning("%d records undelivered at shutdown: the next start restores every table from its "
                            "changelog", undelivered)
                self.tracing.close()
                return
        self.recovery.stopped_cleanly()
        self.tracing.close()  # the last spans (the sends just acknowledged) go out


class ReplicatedTopic(faust.Topic):
    """Faust's topic, created with the app's ``min.insync.replicas`` (Faust passes a topic's ``config`` on).

    The value is read when the topic is declared, not when it is described: the app decides it on first start,
    after the tables and agents (and so their topics) exist.
    """

    async def declare(self) -> None:
        replication = getattr(self.app, "replication", None)
        if replication is not None:
            self.config = {**replication.topic_config(), **(self.config or {})}
        await super().declare()


async def _settle_heap(sender: Any, **kwargs: Any) -> None:
    """Recovery after a rebalance is over: what exists now lives as long as the worker (``streams.heap``)."""
    heap.settle()


def outbox_config(settings: Settings, transactional_id: str) -> dict[str, Any]:
    """The librdkafka settings of the outbox's producer that come from ``settings``: its linger and, exactly-once,
    its transactional id and timeout."""
    config: dict[str, Any] = {"linger.ms": settings.outbox_linger_ms}
    if settings.processing_guarantee == EXACTLY_ONCE:
        config.update({"transactional.id": transactional_id,
                       "transaction.timeout.ms": int(settings.transaction_timeout_s * 1000)})
    return config


def build_app(settings: Settings, *, app_id: str | None = None) -> StreamsApp:
    """A configured app; agents, tables and views are registered on it by the caller.

    Its web server answers requests aiohttp cannot parse with JSON errors; the caller adds
    ``streams.web.install_error_middleware`` for those that reach a handler.
    """
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    leave_on_clean_stop()  # a static member that stops cleanly leaves the group at once
    tracing = start_tracing(settings, service=WORKER_SERVICE)
    tracing.instrument_web()  # before Faust builds its aiohttp application (``serve_protocol_errors_as_json``)
    app = StreamsApp(
        app_id or settings.app_id,
        streams_settings=settings,
        tracing=tracing,
        broker=settings.broker,
        broker_credentials=settings.kafka.faust_credentials(),  # SASL and TLS of Faust's aiokafka clients
        store="rocksdb://",
        Table=OutboxTable,
        TableManager=MarkerAwareTableManager,
        datadir=str(data_dir / "faust"),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor or 1,  # the decided one on first start
        Topic=ReplicatedTopic,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="json",
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=True,
        broker_commit_every=1000,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=heartbeat_interval_s(settings),
        consumer_group_instance_id=instance_id(settings, app_id),  # static membership (streams.membership)
        broker_commit_interval=timedelta(seconds=settings.commit_interval_s),
        table_standby_replicas=settings.standby_replicas,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_enabled=True,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_tables_enabled=False,
        web_metrics_enabled=False,
        web_router_enabled=False,  # Faust's /router/ pages: table routing internals, not part of the API
        autodiscover=False,
        version=1,
    )
    serve_protocol_errors_as_json(app)
    return app
