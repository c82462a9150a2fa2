"""Time to resume after kill -9 of one of two workers: restarted with its static instance id, restarted without
static membership, and not restarted; with ``--leader``, after kill -9 of the Kafka node leading an ``orders``
partition, on a three-node cluster.

    python -m bench.failover [--session-timeout S] [--rounds K]
    python -m bench.failover --leader [--rounds K]

A broker and a registry of the bench's own run on loopback.  Per case, two workers of a fresh group share the
four ``orders`` partitions; one is killed with SIGKILL and, at once, one order per partition it owned is sent
through the survivor (``POST /events``).  The time measured runs from the kill until the survivor answers 200
for every one of those orders (reads of a key another worker owns are forwarded to it): until the dead worker's
partitions are processed again, by it restarted or by the survivor.  Every wait is bounded (the session timeout
plus two minutes).

``--leader``: three nodes, one worker (its topics with three copies, two in sync required: what it decides on
three brokers).  Per round, the node leading ``orders`` partition ``round % 4`` is killed with SIGKILL and, at
once, one order for that partition is sent (``POST /events``: answered once a new leader has it on two copies);
the time runs from the kill until the worker answers 200 for it.  The node is then started again and the round
ends once every partition has its three copies in sync.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka.admin import AdminClient

from bench.pipeline import local_stack
from streams.devstack.cluster import KafkaCluster
from streams.devstack.worker import WorkerProcess

CASES = ("restarted, static id", "restarted, no static id", "not restarted")
NOW = "2026-11-22T10:00:00Z"


def orders_partitions(worker: WorkerProcess, topic: str) -> set[int]:
    assigned = worker.get("/health").json()["assigned_partitions"]
    return {int(tp.rsplit(":", 1)[1]) for tp in assigned if tp.startswith(topic + ":")}


def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def key_in(partition: int) -> str:
    """A new order id whose records land in ``orders`` partition ``partition`` (of four: murmur2, as Kafka's)."""
    partitioner = DefaultPartitioner()
    while True:
        key = f"fo-{uuid.uuid4().hex[:8]}"
        if partitioner(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3]) == partition:
            return key


def place(worker: WorkerProcess, key: str) -> None:
    """``POST /events`` of an OrderPlaced for ``key``; answered once the record is durable (acks=all)."""
    data = {"order_id": key, "customer_id": "c", "currency": "EUR", "placed_at": NOW,
            "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}], "total_minor": 1}
    response = httpx.post(f"{worker.url}/events", json={"type": "OrderPlaced", "data": data}, timeout=60)
    if response.status_code != 202:
        raise SystemExit(f"POST /events answered {response.status_code}: {response.text}")


def one_case(case: str, base_env: dict[str, str], root: Path, session_timeout: float) -> float:
    tag = uuid.uuid4().hex[:8]
    env = {**base_env, "STREAMS_TOPIC_PREFIX": f"f{tag}.", "STREAMS_APP_ID": f"failover-{tag}",
           "STREAMS_SESSION_TIMEOUT_S": f"{session_timeout:g}"}
    if case != "restarted, static id":
        env["STREAMS_INSTANCE_ID"] = ""  # dynamic membership, as before static ids
    topic = f"f{tag}.orders"
    survivor = WorkerProcess(env=env, data_dir=root / f"{tag}-a").start(timeout=120)
    doomed = WorkerProcess(env=env, data_dir=root / f"{tag}-b").start(timeout=120)
    bound = session_timeout + 120
    try:
        until(lambda: all(w.get("/health").json()["ready"] and len(orders_partitions(w, topic)) == 2
                          for w in (survivor, doomed)), bound, "two orders partitions per worker")
        theirs = orders_partitions(doomed, topic)
        keys = {partition: key_in(partition) for partition in theirs}
        doomed.kill()
        t0 = time.monotonic()
        for key in keys.values():
            place(survivor, key)
        if case != "not restarted":
            doomed.start(timeout=bound)  # same data dir (and so the same kept instance id), same port

        def answered() -> bool:
            return all(survivor.get(f"/orders/{key}").status_code == 200 for key in keys.values())

        until(answered, bound, f"the killed worker's partitions processed again ({case})")
        return time.monotonic() - t0
    finally:
        doomed.stop()
        survivor.stop()


def in_sync(cluster: KafkaCluster) -> bool:
    """Every partition of every topic has all its copies in sync."""
    metadata = AdminClient({"bootstrap.servers": cluster.bootstrap_servers}).list_topics(timeout=10)
    return all(len(p.isrs) == len(p.replicas) for t in metadata.topics.values() for p in t.partitions.values())


def leader_rounds(rounds: int) -> list[tuple[float, float]]:
    """``--leader``: per round, seconds from kill -9 of the leader of an ``orders`` partition until an order sent
    to it at once is acknowledged, and until the worker answers 200 for it."""
    figures: list[tuple[float, float]] = []
    bound = 180.0
    with tempfile.TemporaryDirectory(prefix="failover-leader-") as tmp, \
            local_stack(Path(tmp), brokers=3) as (cluster, registry):
        tag = uuid.uuid4().hex[:8]
        env = {"STREAMS_BROKER": cluster.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
               "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning", "STREAMS_TOPIC_PREFIX": f"l{tag}.",
               "STREAMS_APP_ID": f"leader-{tag}"}
        worker = WorkerProcess(env=env, data_dir=Path(tmp) / "w").start(timeout=120)
        try:
            first = key_in(0)  # every schema the worker writes registered before any kill (the registry is on
            place(worker, first)  # the same cluster: the worker's failover is measured, not the registry's)
            until(lambda: worker.get(f"/orders/{first}").status_code == 200, bound, "a first order processed")
            for round_ in range(rounds):
                partition = round_ % 4
                leader = cluster.leader(f"l{tag}.orders", partition)
                key = key_in(partition)
                cluster.kill_node(leader)
                t0 = time.monotonic()
                place(worker, key)
                acknowledged = time.monotonic() - t0
                until(lambda: worker.get(f"/orders/{key}").status_code == 200, bound,  # noqa: B023 - called here
                      f"the order sent after the kill of node {leader} processed")
                figures.append((acknowledged, time.monotonic() - t0))
                print(f"round {round_ + 1}, node {leader} leading orders:{partition} killed: the order sent at once "
                      f"acknowledged after {acknowledged:.1f} s, processed after {figures[-1][1]:.1f} s", flush=True)
                if worker.process is None or worker.process.exited() is not None:
                    raise SystemExit("the worker exited")
                cluster.restart_node(leader)
                until(lambda: in_sync(cluster), bound, f"node {leader} back in sync")
        finally:
            worker.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--session-timeout", type=float, default=60.0, help="STREAMS_SESSION_TIMEOUT_S of the runs")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--leader", action="store_true",
                        help="kill -9 of the Kafka node leading an orders partition, on three nodes, instead")
    args = parser.parse_args()
    if args.leader:
        leaders = leader_rounds(args.rounds)
        print(f"kill -9 of an orders partition's leader (3 nodes, broker.session.timeout.ms 9 s); median of "
              f"{args.rounds} round(s): acknowledged {statistics.median(a for a, _ in leaders):.1f} s, processed "
              f"{statistics.median(p for _, p in leaders):.1f} s")
        return
    figures: dict[str, list[float]] = {case: [] for case in CASES}
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp, local_stack(Path(tmp)) as (broker, registry):
        env = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
               "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning"}
        for round_ in range(args.rounds):
            for case in CASES:
                seconds = one_case(case, env, Path(tmp), args.session_timeout)
                figures[case].append(seconds)
                print(f"round {round_ + 1}, {case}: {seconds:.1f} s from kill -9 to its partitions processed again",
                      flush=True)
    print(f"session timeout {args.session_timeout:g} s, heartbeat {min(args.session_timeout / 3, 3):g} s; "
          f"median of {args.rounds} round(s):")
    for case, values in figures.items():
        print(f"  {case:<26} {statistics.median(values):6.1f} s")


if __name__ == "__main__":
    main()
