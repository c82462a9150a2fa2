"""Exactly-once processing on the real broker: a transaction rolled back, a zombie fenced, a cluster without
transactions refused.

Each test holds a worker's transaction open with a control it owns: a commit interval longer than the test's
steps, then SIGSTOP once the transaction's outputs are written (a ``read_uncommitted`` reader sees them) and
before they are committed (a ``read_committed`` reader does not).  The crash test of "Right after any crash" runs
in exactly_once too (``test_crash.py``).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from streams import headers as h
from streams.devstack.kafka import KafkaBroker
from streams.errors import DevstackError
from streams.recordpath.records import header
from streams.recordpath.transactions import TransactionError, Transactions, group_metadata_bytes
from streams.settings import Settings
from tests.integration.harness import Worker, by_status, caught_up, metric, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, placed, read

pytestmark = pytest.mark.integration

HELD = {"STREAMS_PROCESSING_GUARANTEE": "exactly_once", "STREAMS_COMMIT_INTERVAL_S": "20",
        "STREAMS_TRANSACTION_TIMEOUT_S": "60", "STREAMS_SESSION_TIMEOUT_S": "10"}
"""A transaction stays open up to 20 s: long enough for a test to see its outputs and stop the worker."""


def causes(env: dict[str, str], topic: str, *, committed: bool = True) -> Counter[str]:
    """How many records of ``topic`` each causation id has, as a read_committed (or read_uncommitted) reader sees."""
    return Counter((header(r.headers, h.CAUSATION_ID) or b"").decode()
                   for r in read(env, topic, committed=committed))


def place(env: dict[str, str], orders: list[str]) -> set[str]:
    """Write an OrderPlaced per order; their event ids (the causation id of their fan-out)."""
    producer = RawProducer(env)
    ids = set()
    with ingest_for(env) as ingest:
        for order in orders:
            prepared = ingest.prepare(body("OrderPlaced", placed(order)))
            producer.send_prepared(f"{env['STREAMS_TOPIC_PREFIX']}orders", prepared)
            ids.add(prepared.envelope.event_id)
    producer.flush()
    return ids


def freeze(worker: Worker, sig: signal.Signals = signal.SIGSTOP) -> None:
    """SIGSTOP (or SIGCONT) the worker's process group."""
    assert worker.process is not None
    pid = worker.process.pid
    assert pid is not None
    os.killpg(pid, sig)


def held_open(env: dict[str, str], worker: Worker, tag: str) -> set[str]:
    """Write orders until the worker is frozen with the fan-out of a batch written but not committed; their ids.

    The commit interval is 20 s, so the first batch almost always lands inside one transaction; a batch a commit
    overtook (its outputs readable committed) is followed by another."""
    for attempt in range(3):
        ids = place(env, [f"{tag}-{attempt}-{n}" for n in range(8)])
        wait_until(lambda ids=ids: ids <= set(causes(env, "notifications", committed=False)), timeout=60,
                   what="the batch's fan-out written")
        freeze(worker)
        if not ids & set(causes(env, "notifications")):
            return ids
        freeze(worker, signal.SIGCONT)
    raise AssertionError("three batches were each committed before the worker could be stopped")


def exited(worker: Worker, timeout: float = 90) -> str:
    """Wait for the worker to exit by itself; its log."""
    assert worker.process is not None
    wait_until(lambda: worker.process is not None and worker.process.exited() is not None, timeout=timeout,
               what="the worker to stop by itself")
    assert worker.process.exited() != 0
    return worker.log()


def test_a_transaction_aborted_before_its_commit_leaves_no_output_and_its_events_are_processed_again(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    """The injected failure: another producer takes the worker's transactional id over (as a worker started with
    the same instance id would), which aborts the worker's open transaction."""
    env = {**stack_env, **HELD, "STREAMS_INSTANCE_ID": "eos-w1",
           "STREAMS_SESSION_TIMEOUT_S": "60"}  # frozen for a while: still a member when it is thawed
    tag = uuid.uuid4().hex[:6]
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        ids = held_open(env, worker, tag)
        usurper = Producer({"bootstrap.servers": env["STREAMS_BROKER"].removeprefix("kafka://"),
                            "transactional.id": f"{env['STREAMS_APP_ID']}.eos-w1"})
        usurper.init_transactions(30)  # fences the worker's producer and aborts its open transaction
        assert not ids & set(causes(env, "notifications")), "an aborted output is visible to read_committed"
        assert ids <= set(causes(env, "notifications", committed=False))  # written, then rolled back
        freeze(worker, signal.SIGCONT)
        log = exited(worker)
        assert "was taken over by another producer" in log, log[-3000:]
    finally:
        worker.stop()

    worker = Worker(env={**env, "STREAMS_COMMIT_INTERVAL_S": "1"}, data_dir=tmp_path / "w").start()
    try:
        wait_until(lambda: caught_up(env), timeout=120, what="the restarted worker caught up")
        seen = causes(env, "notifications")
        assert {i: seen[i] for i in ids} == dict.fromkeys(ids, 1), "each event's fan-out exactly once"
        wait_until(lambda: by_status(worker).get("placed", 0) >= len(ids), timeout=60,
                   what="the held orders placed in the read model")
        text = worker.get("/metrics").text
        assert metric(text, "streams_processing_guarantee", guarantee="exactly_once") == 1
        assert metric(text, "streams_transactions_total", outcome="committed") >= 1
    finally:
        worker.stop()


def test_a_worker_frozen_while_its_partitions_move_is_fenced_and_nothing_is_written_twice(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    """Two workers; the first is frozen with a transaction open until the group gives its partitions to the
    second, which processes the same events again.  Thawed, the first cannot commit for partitions it lost."""
    env = {**stack_env, **HELD}
    tag = uuid.uuid4().hex[:6]
    first = Worker(env=env, data_dir=tmp_path / "w1").start()
    second = Worker(env=env, data_dir=tmp_path / "w2").start()
    try:
        wait_until(lambda: all(w.get("/health").json()["assigned_partitions"] for w in (first, second)),
                   timeout=90, what="the partitions shared between both workers")
        ids = held_open(env, first, tag)
        try:
            wait_until(lambda: len([p for p in second.get("/health").json()["assigned_partitions"]
                                    if p.startswith(f"{env['STREAMS_TOPIC_PREFIX']}orders:")]) == 4,
                       timeout=90, what="the second worker holding every orders partition")
        finally:
            freeze(first, signal.SIGCONT)
        log = exited(first)
        fenced = ("no longer a member of its group", "lost its partitions", "revoked while their transaction was open")
        assert any(reason in log for reason in fenced), log[-3000:]
        wait_until(lambda: caught_up(env), timeout=120, what="the second worker caught up")
        seen = causes(env, "notifications")
        assert {i: seen[i] for i in ids} == dict.fromkeys(ids, 1), "each event's fan-out exactly once"
        wait_until(lambda: by_status(second).get("placed", 0) >= len(ids), timeout=60,
                   what="the held orders placed in the read model")
    finally:
        first.stop()
        second.stop()


def joined(consumer: Consumer, topic: str) -> tuple[bytes, int, str]:
    """Subscribe ``consumer`` to ``topic`` until it is a member: its group metadata, generation and member id
    (read from the metadata: ``CGMDv2:``, a native int32 generation, the group id, the member id)."""
    consumer.subscribe([topic])
    wait_until(lambda: consumer.poll(0.2) is not None or bool(consumer.assignment()), timeout=60,
               what="the consumer joined")
    real = consumer.consumer_group_metadata()
    return real, int.from_bytes(real[7:11], "little"), real[11:].split(b"\0")[1].decode()


def test_the_group_metadata_sent_with_the_offsets_is_what_a_confluent_consumer_of_the_group_has(
        stack_env: dict[str, str]) -> None:
    """``group_metadata_bytes`` builds librdkafka's own format, here checked against a member that joined."""
    group, topic = f"cgmd-{uuid.uuid4().hex[:6]}", f"{stack_env['STREAMS_TOPIC_PREFIX']}cgmd"
    boot = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
    producer = Producer({"bootstrap.servers": boot})
    producer.produce(topic, b"x")  # creates the topic (auto-create is on in the dev broker)
    producer.flush(30)
    for instance in (None, "static-1"):
        conf = {"bootstrap.servers": boot, "group.id": group, "auto.offset.reset": "earliest"}
        if instance is not None:
            conf["group.instance.id"] = instance
        consumer = Consumer(conf)
        try:
            real, generation, member = joined(consumer, topic)
        finally:
            consumer.close()
        assert real == group_metadata_bytes(group, generation, member, instance)


def test_a_cluster_that_cannot_run_transactions_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    """One broker whose transaction state log needs three copies: no transaction can start."""
    from streams.registry.threaded import ThreadedRegistry

    settings = Settings()
    broker = KafkaBroker(data_dir=tmp_path / "kafka", cache_dir=settings.kafka_cache_dir,
                         kafka_home=settings.kafka_home,
                         extra_config={"transaction.state.log.replication.factor": "3"}).start()
    registry = ThreadedRegistry(broker.connection, "_schemas").start()
    tag = uuid.uuid4().hex[:6]
    env = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url, "STREAMS_SAGA": "false",
           "STREAMS_TOPIC_PREFIX": f"t{tag}.", "STREAMS_APP_ID": f"orders-{tag}",
           "STREAMS_PROCESSING_GUARANTEE": "exactly_once", "STREAMS_TRANSACTION_TIMEOUT_S": "3"}
    worker = Worker(env=env, data_dir=tmp_path / "w")
    try:
        with pytest.raises(DevstackError) as refused:
            worker.start(timeout=120)
        assert "exited during start" in str(refused.value)
        log = worker.log()
        lines = [line for line in log.splitlines() if "could not start a transaction" in line]
        assert len(lines) == 1, log[-3000:]
        assert lines[0].startswith("streams: error: Kafka at ")
        assert "transaction.state.log.replication.factor" in lines[0]
        assert "STREAMS_PROCESSING_GUARANTEE=at_least_once" in lines[0]
        assert "Traceback" not in log
    finally:
        worker.stop()
        registry.stop()
        broker.stop()


def test_a_group_metadata_that_is_not_the_groups_is_refused_by_the_broker(stack_env: dict[str, str]) -> None:
    """What fences a zombie: offsets sent with a generation the group has moved past are refused (KIP-447)."""
    boot = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
    group, topic = f"zombie-{uuid.uuid4().hex[:6]}", f"{stack_env['STREAMS_TOPIC_PREFIX']}zombie"
    plain = Producer({"bootstrap.servers": boot})
    plain.produce(topic, b"x")
    plain.flush(30)
    consumer = Consumer({"bootstrap.servers": boot, "group.id": group, "auto.offset.reset": "earliest"})
    _, generation, member = joined(consumer, topic)
    producer = Producer({"bootstrap.servers": boot, "transactional.id": f"zombie-{uuid.uuid4().hex[:6]}"})
    producer.init_transactions(30)
    try:
        producer.begin_transaction()
        producer.send_offsets_to_transaction([TopicPartition(topic, 0, 1)],
                                             group_metadata_bytes(group, generation, member, None), 30)
        producer.commit_transaction(30)  # the group's own generation: accepted
        producer.begin_transaction()
        with pytest.raises(KafkaException) as refused:
            producer.send_offsets_to_transaction([TopicPartition(topic, 0, 1)],
                                                 group_metadata_bytes(group, generation + 5, member, None), 30)
        assert refused.value.args[0].name() in ("ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"), refused.value
    finally:
        consumer.close()


def test_a_transaction_left_open_past_its_timeout_is_refused_and_named(stack_env: dict[str, str]) -> None:
    """The coordinator aborts a transaction older than its timeout; the commit that comes later says so."""
    boot = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
    topic = f"{stack_env['STREAMS_TOPIC_PREFIX']}timeout"
    producer = Producer({"bootstrap.servers": boot, "transactional.id": f"timeout-{uuid.uuid4().hex[:6]}",
                         "transaction.timeout.ms": 2000})
    transactions = Transactions(producer, transactional_id="t", timeout_s=2, broker=boot)
    transactions.start()
    producer.produce(topic, b"left open", partition=0)
    assert producer.flush(30) == 0
    transactions.produced([("orders", 0, 0)])
    watcher = Consumer({"bootstrap.servers": boot, "group.id": "timeout-watch", "isolation.level": "read_committed"})
    try:  # the abort marker written: the last stable offset moves past the record
        wait_until(lambda: watcher.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1] >= 1,
                   timeout=90, what="the coordinator to abort the transaction")
    finally:
        watcher.close()
    with pytest.raises(TransactionError) as refused:
        transactions.commit({}, None)
    assert "past STREAMS_TRANSACTION_TIMEOUT_S=2" in refused.value.message
    assert not transactions.open
