"""A three-node KRaft cluster from the dev jars: a partition's leader killed with kill -9 loses no acknowledged
write, and writes (acks=all, two in-sync copies required) and reads go on with the two nodes left."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from streams.devstack.cluster import KafkaCluster
from streams.settings import Settings
from tests.integration.devstack.stack import alive, kill_all, start_dev
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration



def _produce(cluster: KafkaCluster, topic: str, value: bytes) -> None:
    """One record with acks=all, idempotent: returns once acknowledged, fails on any delivery error."""
    errors: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": cluster.bootstrap_servers, "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 45_000})
    producer.produce(topic, key=value, value=value, on_delivery=lambda err, _msg: errors.append(err))
    assert producer.flush(50) == 0, f"{value!r} not delivered in 50s"
    assert errors == [None], errors


def _read(cluster: KafkaCluster, topic: str, count: int, group: str) -> list[bytes]:
    """The first ``count`` values of partition 0, then the position committed for ``group`` (so the offsets
    topic, replicated like the transaction log, is written too)."""
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": group,
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values: list[bytes] = []
    last: Message | None = None
    try:
        deadline = time.monotonic() + 30
        while len(values) < count and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            values.append(message.value() or b"")
            last = message
        assert last is not None, "nothing read in 30s"
        consumer.commit(message=last, asynchronous=False)
    finally:
        consumer.close()
    return values


def _isr(admin: AdminClient, topic: str) -> list[int]:
    return sorted(admin.list_topics(topic, timeout=10).topics[topic].partitions[0].isrs)


def test_three_nodes_keep_acknowledged_writes_through_a_killed_leader_and_take_it_back(tmp_path: Path) -> None:
    settings = Settings()
    cluster = KafkaCluster(data_dir=tmp_path, cache_dir=settings.kafka_cache_dir, brokers=3,
                           kafka_home=settings.kafka_home)
    started = time.monotonic()
    cluster.start()
    pids = [node.pid for node in cluster.nodes]
    try:
        print(f"3 nodes up in {time.monotonic() - started:.1f}s")
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
        assert len(admin.list_topics(timeout=10).brokers) == 3
        topic = "failover"
        admin.create_topics([NewTopic(topic, 1, 3)])[topic].result(timeout=30)
        wait_until(lambda: _isr(admin, topic) == [1, 2, 3], timeout=30, what="three in-sync replicas")
        config = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
        [entries] = [future.result(timeout=30) for future in config.values()]
        assert entries["min.insync.replicas"].value == "2"  # the cluster's default, as for Kafka's own topics
        _produce(cluster, topic, b"before")

        leader = cluster.leader(topic)
        assert leader in (1, 2, 3)
        cluster.kill_node(leader)
        killed = time.monotonic()
        assert len(cluster.running) == 2
        _produce(cluster, topic, b"after")  # acks=all waits for the new leader; two copies suffice
        print(f"node {leader} killed; the next write was acknowledged after {time.monotonic() - killed:.1f}s")
        assert cluster.leader(topic) not in (leader, -1)
        assert _read(cluster, topic, 2, group="failover-reader") == [b"before", b"after"]
        offsets = admin.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"]
        assert {len(partition.replicas) for partition in offsets.partitions.values()} == {3}

        cluster.restart_node(leader)
        assert len(cluster.running) == 3
        wait_until(lambda: _isr(admin, topic) == [1, 2, 3], timeout=60, what=f"node {leader} back in the ISR")
        _produce(cluster, topic, b"again")
        assert _read(cluster, topic, 3, group="failover-reader-2") == [b"before", b"after", b"again"]
    finally:
        cluster.stop()
    assert [pid for pid in pids if pid is not None and alive(pid)] == []


def test_streams_dev_with_three_brokers_replicates_three_times_and_runs_on_without_a_node(tmp_path: Path) -> None:
    proc, _, _ = start_dev(tmp_path, args=("--brokers", "3"))
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("all up in" in line for line in printed), timeout=60, what="all up")
        text = " ".join(printed)  # rich wraps long lines
        found = re.findall(r"kafka +node (\d) at 127\.0\.0\.1:\d+ \(pid (\d+)", text)
        nodes = {int(node): int(pid) for node, pid in found}
        assert sorted(nodes) == [1, 2, 3], text
        startup = [line for line in (tmp_path / "logs" / "worker.log").read_text().splitlines()
                   if line.startswith("worker ")]
        assert "replication factor 3, min.insync.replicas 2 (from the cluster: 3 brokers)" in startup[0], startup
        os.kill(nodes[2], signal.SIGKILL)  # a node lost: said, and the stack runs on
        wait_until(lambda: "node 2 exited; 2 of 3 run on" in " ".join(printed), timeout=30,
                   what="the stack saying node 2 exited")
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, printed
    finally:
        kill_all(proc)
