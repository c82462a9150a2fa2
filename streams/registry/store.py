"""The registry's storage: a compacted, single-partition Kafka topic, read from the start.

A background thread consumes ``_schemas`` (``read_committed``) and applies every
record to the in-memory ``RegistryState``; reads are served from memory.  A
write is produced with acks=all and takes effect only when this instance reads
it back from the topic, so every instance applies the same log in the same order.

Single writer: Kafka's transactional fencing
--------------------------------------------
Every instance on a topic uses the same ``transactional.id``
(``streams-registry-<topic>``).  ``init_transactions()`` gives the caller a new
producer epoch, fences every producer that holds an older one and completes or
aborts whatever transaction such a producer left open.  A write therefore is:

1. make sure this instance holds the current epoch (``init_transactions`` if it
   was fenced or has never written: this is taking the writer's lock);
2. catch up: read the topic to its end, now that no one else can commit;
3. decide the id and version from that state;
4. produce the records in one transaction and commit it.

If another instance took the epoch between 1 and 4, the commit fails as
fenced, the transaction is aborted (its records are never read by a
``read_committed`` consumer and the log cleaner drops them), and the write
starts again at 1.  So every committed write was planned on a state that
included every earlier committed write: two instances can never hand out
different schemas under one id, or two ids for one subject version, and a
compacted topic never keeps a losing record, because there is none.
``RegistryState.apply`` still ignores a record that would conflict (first
record in the log wins), as a second line of defence against foreign writers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

from streams.connection import KafkaConnection
from streams.errors import TransientError
from streams.registry.state import RegistryState
from streams.retry import RetryPolicy
from streams.topics import TopicSpec, ensure_topics

__all__ = ["KafkaStore", "Lost", "Records"]

_WRITE_RETRY = RetryPolicy(max_attempts=12, base_delay_s=0.02, max_delay_s=0.5)
"""Writes lost to another instance or a failed transaction: about 3 s in all at worst."""

log = logging.getLogger(__name__)
T = TypeVar("T")
Records = list[tuple[bytes, bytes | None]]

_QUIET = logging.getLogger("streams.registry.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

TOPIC_CONFIG = {"cleanup.policy": "compact"}


def _settling(error: KafkaError) -> bool:
    """Errors of a topic that was just created and has no leader yet, or a broker that is busy."""
    return error.retriable() or error.code() in (
        KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_PARTITION, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
    )


class Lost(Exception):  # noqa: N818 - a signal, not an error
    """Our record did not take effect (another writer's record came first): plan again."""


class _Fenced(Exception):  # noqa: N818 - a signal, not an error
    """Another instance took the writer's epoch while we were writing."""


class KafkaStore:
    """Reads ``topic`` into ``state`` in a background thread; writes one transaction at a time."""

    def __init__(self, kafka: KafkaConnection, topic: str, state: RegistryState, *, timeout: float = 30.0,
                 replication_factor: int | None = None, min_insync_replicas: int | None = None) -> None:
        """``replication_factor``, ``min_insync_replicas``: of the topic if it is created (None: the cluster's)."""
        self.topic = topic
        self.replication_factor, self.min_insync_replicas = replication_factor, min_insync_replicas
        self.state = state
        self.timeout = timeout
        self.kafka = kafka
        self._base: dict[str, Any] = kafka.config({"logger": _QUIET})
        self._tp = TopicPartition(topic, 0)
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._position = 0  # next offset to read: everything below it is applied
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._offsets: Consumer | None = None
        self._offsets_lock = threading.Lock()
        self._producer: Producer | None = None

    @property
    def transactional_id(self) -> str:
        return f"streams-registry-{self.topic}"

    # ---- life cycle ----
    def start(self) -> None:
        """Create the topic if missing, read it to its end; ``TransientError`` if Kafka cannot be reached."""
        # A broker that cannot be reached is told within 10s, not after the full write timeout; one that refuses
        # the connection's security (a password, a certificate), at once (``KafkaConnection.reachable``).
        admin = self.kafka.reachable(timeout=min(self.timeout, 10.0))
        try:
            ensure_topics(admin, [TopicSpec(self.topic, 1, TOPIC_CONFIG)],
                          timeout=min(self.timeout, 10.0), replication_factor=self.replication_factor,
                          min_insync_replicas=self.min_insync_replicas)
        except TransientError as exc:
            raise TransientError(f"cannot reach Kafka at {self.kafka} to open {self.topic}",
                                 hint="is the broker running? check STREAMS_BROKER") from exc
        self._consumer = self._reader(f"streams-registry-{id(self)}", {"auto.offset.reset": "earliest"})
        self._consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        self._offsets = self._offsets_client()  # the reader thread owns the first one
        self._thread = threading.Thread(target=self._run, name="registry-store", daemon=True)
        self._thread.start()
        self.catch_up()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for client in (self._consumer, self._offsets):
            if client is not None:
                client.close()
        self._consumer = self._offsets = None
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(5)

    def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while not self._stop.is_set():
            try:
                messages = consumer.consume(num_messages=500, timeout=0.2)
                position = consumer.position([self._tp])[0].offset
            except KafkaException as exc:  # pragma: no cover - broker gone
                log.warning("registry store: consumer error: %s", exc.args[0])
                time.sleep(0.5)
                continue
            with self._cond:
                for message in messages:
                    if message.error() is not None:
                        continue
                    if not self.state.apply(message.key(), message.value()):
                        log.warning("registry store: ignored the record at offset %s of %s (conflict or foreign)",
                                    message.offset(), self.topic)
                    self._position = max(self._position, int(message.offset() or 0) + 1)
                # The position also moves past transaction markers, which are never delivered.
                if position >= 0:
                    self._position = max(self._position, position)
                self._cond.notify_all()

    # ---- reading ----
    def read(self, fn: Callable[[RegistryState], T]) -> T:
        with self._cond:
            return fn(self.state)

    def end_offset(self) -> int:
        """The topic's end offset (last stable offset); retried while a just-created topic has no leader yet."""
        assert self._offsets is not None
        started = time.monotonic()
        deadline, renewed = started + self.timeout, started
        while True:
            try:
                with self._offsets_lock:
                    _, high = self._offsets.get_watermark_offsets(self._tp, timeout=5)
                return int(high)
            except KafkaException as exc:
                now = time.monotonic()
                if not _settling(exc.args[0]) or now > deadline:
                    raise TransientError(f"cannot read the end of {self.topic}: {exc.args[0].str()}",
                                         hint="is the broker running? check STREAMS_BROKER") from exc
                if exc.args[0].code() in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT) or now - renewed > 2:
                    self._renew_offsets()  # a dead leader, or one that moved: a new client looks it up
                    renewed = now
                time.sleep(0.2)

    def _reader(self, group: str, extra: dict[str, Any] | None = None) -> Consumer:
        """A consumer of the topic's committed records (it never commits: ``group`` only names it)."""
        return Consumer({**self._base, "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": False, "group.id": group, **(extra or {})})

    def _offsets_client(self) -> Consumer:
        """A client for end-offset queries only."""
        return self._reader(f"streams-registry-offsets-{id(self)}")

    def _renew_offsets(self) -> None:
        """A new end-offset client.  The old one asks the partition's leader it last knew: a client with no
        assignment never refreshes that, so with its leader's node dead (kill -9) it would time out until the
        node came back; a new client looks the leader up."""
        with self._offsets_lock:
            old, self._offsets = self._offsets, self._offsets_client()
        if old is not None:
            old.close()

    def catch_up(self) -> None:
        """Wait until everything in the topic right now is applied."""
        self.wait_position(self.end_offset())

    def wait_position(self, offset: int) -> None:
        """Wait until every record below ``offset`` is applied."""
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while self._position < offset:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransientError(f"registry store did not catch up to offset {offset} of {self.topic}")
                self._cond.wait(remaining)

    # ---- writing ----
    def _writer(self) -> Producer:
        """This instance's transactional producer, holding the current epoch (fencing any other writer)."""
        if self._producer is None:
            producer = Producer({**self._base, "transactional.id": self.transactional_id, "acks": "all",
                                 "enable.idempotence": True, "linger.ms": 0,
                                 "transaction.timeout.ms": int(self.timeout * 1000)})
            try:
                producer.init_transactions(self.timeout)
            except KafkaException as exc:
                raise TransientError(f"cannot become the writer of {self.topic}: {exc.args[0].str()}",
                                     hint="is the broker running? check STREAMS_BROKER") from exc
            self._producer = producer
        return self._producer

    def _append(self, records: Records) -> int:
        """Produce ``records`` in one transaction; return the offset after the last one."""
        producer = self._writer()
        last = {"offset": -1}

        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            if err is None:
                last["offset"] = max(last["offset"], int(msg.offset()))

        try:
            producer.begin_transaction()
            for key, value in records:
                producer.produce(self.topic, key=key, value=value, partition=0, on_delivery=on_delivery)
            producer.commit_transaction(self.timeout)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                             KafkaError.INVALID_PRODUCER_EPOCH):
                self._producer = None  # fenced by another instance: take the epoch back and plan again
                raise _Fenced from exc
            if err.txn_requires_abort():
                try:
                    producer.abort_transaction(self.timeout)
                except KafkaException:
                    self._producer = None
            raise TransientError(f"could not write to {self.topic}: {err.str()}") from exc
        producer.poll(0)  # serve the delivery callbacks
        if last["offset"] < 0:
            raise TransientError(f"could not write to {self.topic}: no delivery report")
        return last["offset"] + 1

    def write(self, attempt: Callable[[RegistryState], tuple[Records, Callable[[], T]]]) -> T:
        """Serialize a write: take the epoch, catch up, plan records from that state, commit, verify.

        ``attempt(state)`` returns the records to append (possibly none) and a function that, called
        under the state lock once the records are applied, returns the result or raises ``Lost``.
        Planning again is always safe (a write whose commit did land is found in the state and not
        repeated), so contention with another instance, a fenced or failed transaction, is retried
        after a jittered backoff: two instances that keep taking the epoch from each other drift apart.
        """
        with self._write_lock:
            for tries in range(1, _WRITE_RETRY.max_attempts + 1):
                if self._stop.is_set():
                    raise TransientError("the registry is stopping")
                if tries > 1:
                    time.sleep(_WRITE_RETRY.delay(tries - 1))
                self._writer()
                self.catch_up()
                with self._cond:
                    records, finish = attempt(self.state)
                if records:
                    try:
                        end = self._append(records)
                    except _Fenced:
                        log.info("registry store: another instance wrote to %s; planning again", self.topic)
                        continue
                    except TransientError as exc:
                        log.warning("registry store: %s; planning again", exc)
                        self._producer = None  # a new one aborts whatever this one left open
                        continue
                    self.wait_position(end)
                try:
                    with self._cond:
                        return finish()
                except Lost:
                    continue
        raise TransientError("too many concurrent writes to the registry; retry")
