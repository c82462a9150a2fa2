"""Exactly-once processing: a commit interval's writes and the offsets it consumed, as one Kafka transaction.

With ``STREAMS_PROCESSING_GUARANTEE=exactly_once`` the outbox's producer is transactional
(``transactional.id`` = ``<app id>.<instance id>``): the table changelogs, repartition
records, fan-out and dead letters a worker writes in a commit interval, and the source
offsets of the events that wrote them, commit together or not at all.  Readers with
``read_committed`` (every consumer of this project) never see the writes of a transaction
that was rolled back.  The commit itself, in order (``faust_internals.transactions``):

1. the outbox closes its gate: what is written from now on waits for the next transaction;
2. the repartition batcher sends what it holds, and every record of the transaction is
   delivered: each event whose records are all in is acknowledged;
3. the acknowledged offsets go into the transaction with the consumer group's metadata
   (its generation: a worker that lost its partitions to a rebalance cannot commit for
   them, KIP-447), the transaction commits, the next one begins, the gate opens.

An event's records are held on its ticket until it is processed (``Outbox``): a
transaction never carries part of an event.  Anything that goes wrong in a commit aborts
the transaction and stops the worker: its stores already hold the rolled-back work, and
the restart restores them from the committed changelogs (``streams.recordpath.protocol``).

The error classes say what happened and what to do: a cluster that cannot run
transactions, a transactional id taken over by another worker, a transaction that ran
past its timeout, a worker that lost its partitions during one.
"""

from __future__ import annotations

import logging
import struct
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from streams.connection import KafkaConnection
from streams.errors import StreamsError

__all__ = ["EXACTLY_ONCE", "TransactionError", "Transactions", "group_metadata_bytes", "probe", "transactional_id"]

log = logging.getLogger(__name__)

EXACTLY_ONCE = "exactly_once"

_FENCED = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH,
           KafkaError.INVALID_PRODUCER_ID_MAPPING}
_LOST_GROUP = {KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID, KafkaError.FENCED_INSTANCE_ID,
               KafkaError.REBALANCE_IN_PROGRESS}
_NOT_ALLOWED = {KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED,
                KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED}
_NO_COORDINATOR = {KafkaError._TIMED_OUT, KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR,
                   KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError.NOT_ENOUGH_REPLICAS}


class TransactionError(StreamsError):
    """A transaction could not start or commit; the worker stops, and its rolled-back work is redone."""

    dead_letter = False
    code = "transaction_failed"


def transactional_id(app_id: str, instance_id: str | None) -> str:
    """The outbox producer's ``transactional.id``: the worker's static instance id (kept in its data dir), so a
    restarted worker fences its own predecessor and aborts what that one left open; a worker without one gets
    a new id per process (then only the group's generation fences it, KIP-447)."""
    return f"{app_id}.{instance_id or uuid.uuid4().hex[:12]}"


def probe(kafka: KafkaConnection, transactional_id: str, timeout_s: float) -> None:
    """Start (and leave) a transaction with ``transactional_id``, as the worker will: ``TransactionError`` in one
    line when the cluster cannot run transactions or refuses the id.  Run before the worker starts; like the
    worker's own start, it fences any producer still holding the id (a predecessor that died)."""
    producer = Producer(kafka.config({"transactional.id": transactional_id, "log_level": 0}))
    Transactions(producer, transactional_id=transactional_id, timeout_s=timeout_s, broker=str(kafka)).start()
    producer.abort_transaction(timeout_s)


def group_metadata_bytes(group_id: str, generation: int, member_id: str, instance_id: str | None) -> bytes:
    """The consumer group metadata librdkafka's ``send_offsets_to_transaction`` takes, for a member of a group
    that another client (aiokafka, under Faust) joined.

    librdkafka's own format (``rd_kafka_consumer_group_metadata_write``): ``CGMDv2:``, the generation as a
    native int32, the group id and member id NUL-terminated, a byte that is 1 when there is no instance id,
    then the instance id NUL-terminated.  Pinned by an integration test against the bytes of a confluent-kafka
    consumer that joined a group on the broker."""
    head = b"CGMDv2:" + struct.pack("=i", generation) + group_id.encode() + b"\0" + member_id.encode() + b"\0"
    if instance_id is None:
        return head + b"\1"
    return head + b"\0" + instance_id.encode() + b"\0"


class Transactions:
    """The transaction lifecycle of the outbox's producer.  ``start`` and ``commit`` block: run them off the loop."""

    def __init__(self, producer: Any, *, transactional_id: str, timeout_s: float, broker: str,
                 observe: Callable[[str, float], None] = lambda outcome, seconds: None) -> None:
        """``producer``: a confluent-kafka ``Producer`` made with ``transactional.id``; ``timeout_s``: the
        transaction timeout (the first contact with the coordinator, which may create ``__transaction_state``,
        may take three times as long); ``observe(outcome, seconds)``: each transaction that ends, ``committed``
        or ``aborted``, and how long it was open."""
        self.producer = producer
        self.transactional_id = transactional_id
        self.timeout_s = timeout_s
        self.broker = broker
        self._observe = observe
        self.init_timeout_s = 3 * timeout_s
        self._began = 0.0
        self.records = 0  # records produced in the open transaction
        self.sources: dict[tuple[str, int], int] = {}  # per source partition, the last event with records in it
        self.open = False
        self.failed = False  # a commit failed: the stores may hold rolled-back work (never a clean stop)

    def start(self) -> None:
        """Register the transactional id with its coordinator (fencing any earlier producer that used it, and
        aborting what that one left open), then begin the first transaction."""
        try:
            self.producer.init_transactions(self.init_timeout_s)
        except KafkaException as exc:
            raise self._refused_at_start(exc.args[0]) from exc
        self._begin()

    def produced(self, sources: Iterable[tuple[str, int, int]]) -> None:
        """A record went into the open transaction (the outbox tells), written by the events at ``sources``
        (topic, partition, offset); the transaction's duration counts from its first record."""
        if self.records == 0:
            self._began = time.monotonic()
        self.records += 1
        for topic, partition, offset in sources:
            if offset > self.sources.get((topic, partition), -1):
                self.sources[(topic, partition)] = offset

    def uncovered(self, offsets: Mapping[tuple[str, int], int]) -> list[str]:
        """The source partitions with records in the transaction of an event that ``offsets`` (the next offset to
        consume, per partition) do not cover: committing them would write those records without their events'
        offsets."""
        return [f"{topic}:{partition}" for (topic, partition), last in sorted(self.sources.items())
                if offsets.get((topic, partition), -1) <= last]

    def commit(self, offsets: Mapping[tuple[str, int], int], group_metadata: bytes | None) -> None:
        """Commit the open transaction, with ``offsets`` (the next offset to consume per source partition) when
        there are any, and begin the next one.  On any failure: abort (if Kafka still allows it), raise."""
        if self.records == 0:
            self._began = time.monotonic()  # offsets only: the transaction starts now, not at the last commit
        try:
            if offsets:
                positions = [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]
                self.producer.send_offsets_to_transaction(positions, group_metadata, self.timeout_s)
            self.producer.commit_transaction(self.timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            self.failed = True
            self._end("aborted")
            if error.txn_requires_abort():
                self._abort_quietly()
            raise self._refused_at_commit(error) from exc
        self._end("committed")
        self._begin()

    def abort(self) -> int:
        """Roll the open transaction back (at shutdown, with records past the last commit); the records it held.
        One without records (the one begun after the last commit) is not counted as aborted."""
        held = self.records
        if self.open:
            self._end("aborted", observe=held > 0)
            self._abort_quietly()
        return held

    def _begin(self) -> None:
        self.producer.begin_transaction()
        self._began = time.monotonic()
        self.records = 0
        self.sources = {}
        self.open = True

    def _end(self, outcome: str, *, observe: bool = True) -> None:
        self.open = False
        if observe:
            self._observe(outcome, time.monotonic() - self._began)

    def _abort_quietly(self) -> None:
        try:
            self.producer.abort_transaction(self.timeout_s)
        except KafkaException as exc:  # fenced or timed out already: the coordinator aborts it itself
            log.warning("could not abort the transaction of %s: %s", self.transactional_id, exc.args[0].str())

    def _refused_at_start(self, error: KafkaError) -> TransactionError:
        code = error.code()
        disable = "or set STREAMS_PROCESSING_GUARANTEE=at_least_once"
        if code in _NOT_ALLOWED:
            return TransactionError(
                f"Kafka at {self.broker} does not allow this worker to use transactional id "
                f"{self.transactional_id!r}: {error.str()}",
                hint=f"grant WRITE and DESCRIBE on TransactionalId {self.transactional_id}, {disable}")
        if code in _NO_COORDINATOR:
            return TransactionError(
                f"Kafka at {self.broker} could not start a transaction within {self.init_timeout_s:g} s "
                f"({error.name()}): its transaction state log (__transaction_state) cannot be created or has no "
                "leader",
                hint="a cluster needs at least transaction.state.log.replication.factor brokers (and "
                     f"transaction.state.log.min.isr in sync) to run transactions; fix the cluster, {disable}")
        if code in (KafkaError.UNSUPPORTED_VERSION, KafkaError._UNSUPPORTED_FEATURE):
            return TransactionError(f"Kafka at {self.broker} does not support transactions ({error.str()})",
                                    hint=disable)
        return TransactionError(f"Kafka at {self.broker} refused to start a transaction for "
                                f"{self.transactional_id!r}: {error.name()}: {error.str()}", hint=disable)

    def _refused_at_commit(self, error: KafkaError) -> TransactionError:
        code = error.code()
        redone = "its work was rolled back; the worker stops and it is redone"
        if code in _LOST_GROUP:
            return TransactionError(
                f"this worker lost its partitions to a rebalance during a transaction ({error.name()}): {redone} "
                "by their new owner")
        if self._last_age > self.timeout_s:  # whatever Kafka calls it: the coordinator aborted it first
            return TransactionError(
                f"a transaction stayed open {self._last_age:.1f} s, past STREAMS_TRANSACTION_TIMEOUT_S="
                f"{self.timeout_s:g}, and Kafka aborted it ({error.name()}): {redone}",
                hint="a worker paused that long (a stop-the-world pause, a stalled disk) or a commit interval "
                     "near the timeout; raise STREAMS_TRANSACTION_TIMEOUT_S")
        if code in _FENCED:
            return TransactionError(
                f"transactional id {self.transactional_id!r} was taken over by another producer ({error.name()}): "
                f"{redone}, by whichever worker now holds its partitions",
                hint="two workers with one STREAMS_INSTANCE_ID (or a copied data dir) fence each other; give each "
                     "its own")
        if error.fatal():
            return TransactionError(f"the producer of {self.transactional_id!r} failed for good ({error.name()}: "
                                    f"{error.str()}): {redone}")
        return TransactionError(f"Kafka refused to commit a transaction of {self.transactional_id!r}: "
                                f"{error.name()}: {error.str()}: {redone}")

    @property
    def _last_age(self) -> float:
        return time.monotonic() - self._began
