"""A worker killed with SIGKILL and restarted with its static instance id gets its partitions back at once.

Two workers share the ``orders`` partitions, each with the instance id it made on first start and kept in its
data dir (the default).  One is killed; while it is dead (as long as the test keeps it so) orders are paid and
placed on every partition, its own included.  Restarted on the same data dir, it must be assigned the same
partitions again well before the group's session timeout could have moved them (the bound of every wait after
the kill is under it: with dynamic membership the group would wait out the dead member first, and the test fails),
and every event must be applied exactly once: the counts of the read models are exact.  Stopped cleanly at the
end, it leaves the group: the survivor gets every partition well before the session timeout.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.membership import INSTANCE_ID_FILE
from tests.integration.harness import Worker, caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_S = 60.0
BOUND_S = 40.0  # from the kill until the restarted worker has its partitions and everything is applied


def orders_partitions(worker: Worker, topic: str) -> set[int]:
    assigned = worker.get("/health").json()["assigned_partitions"]
    return {int(tp.rsplit(":", 1)[1]) for tp in assigned if tp.startswith(topic + ":")}


def test_a_worker_restarted_with_its_instance_id_gets_its_partitions_back_and_applies_each_event_once(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    env = {**stack_env, "STREAMS_SESSION_TIMEOUT_S": f"{SESSION_TIMEOUT_S:g}"}
    topic = f"{env['STREAMS_TOPIC_PREFIX']}orders"
    tag = uuid.uuid4().hex[:6]
    survivor = Worker(env=env, data_dir=tmp_path / "a").start()
    doomed = Worker(env=env, data_dir=tmp_path / "b").start()
    try:
        def split() -> bool:
            return all(w.get("/health").json()["ready"] and len(orders_partitions(w, topic)) == 2
                       for w in (survivor, doomed))

        wait_until(split, timeout=90, what="both workers ready with two orders partitions each")
        mine, theirs = orders_partitions(survivor, topic), orders_partitions(doomed, topic)
        instance = (tmp_path / "b" / INSTANCE_ID_FILE).read_text().split()[0]
        assert f"instance id {instance} (static membership)" in doomed.log()

        partitioner = DefaultPartitioner()
        by_partition: dict[int, list[str]] = {p: [] for p in range(4)}
        while any(len(orders) < 5 for orders in by_partition.values()):  # five orders per partition
            order = f"{tag}-{uuid.uuid4().hex[:8]}"
            partition = partitioner(order.encode(), [0, 1, 2, 3], [0, 1, 2, 3])
            if len(by_partition[partition]) < 5:
                by_partition[partition].append(order)
        before = [o for orders in by_partition.values() for o in orders[:3]]  # placed before the kill, paid after
        during = [o for orders in by_partition.values() for o in orders[3:]]  # placed while the worker is dead

        producer = RawProducer(env)
        with ingest_for(env) as ingest:
            for order in before:
                producer.send_prepared(topic, ingest.prepare(body("OrderPlaced", placed(order))))
            producer.flush()
            wait_until(lambda: caught_up(env), timeout=60, what="the first orders applied")

            doomed.kill()
            killed_at = time.monotonic()
            for order in before:
                producer.send_prepared(topic, ingest.prepare(body("PaymentAuthorized", paid(order, 100))))
            for order in during:
                producer.send_prepared(topic, ingest.prepare(body("OrderPlaced", placed(order))))
            producer.flush()
        assert orders_partitions(survivor, topic) == mine  # the dead worker's partitions have not moved

        doomed.start(timeout=BOUND_S)  # the same data dir (so the same instance id) and port

        def left() -> float:
            return max(0.1, BOUND_S - (time.monotonic() - killed_at))

        wait_until(lambda: orders_partitions(doomed, topic) == theirs, timeout=left(), interval=0.1,
                   what="the restarted worker assigned its partitions again")
        assert orders_partitions(survivor, topic) == mine  # the others kept theirs
        stats: dict[str, int] = {}

        def applied() -> bool:
            stats.clear()
            stats.update({k: v for k, v in survivor.get("/stats").json()["orders_by_status"].items() if v})
            return stats == {"paid": len(before), "placed": len(during)} and caught_up(env)

        try:
            wait_until(applied, timeout=left(), interval=0.1, what="every event applied")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; orders by status: {stats}") from None
        resumed = time.monotonic() - killed_at
        assert resumed < SESSION_TIMEOUT_S
        assert stats == {"paid": len(before), "placed": len(during)}  # caught up: final, nothing counted twice
        for order in before + during:
            got = doomed.get(f"/orders/{order}").json()
            assert got["status"] == ("paid" if order in before else "placed"), got
            assert [e["event_type"] for e in got["history"]] == (
                ["OrderPlaced", "PaymentAuthorized"] if order in before else ["OrderPlaced"]), got
        print(f"kill -9 to partitions back and every event applied: {resumed:.1f} s "
              f"(session timeout {SESSION_TIMEOUT_S:g} s)")

        doomed.stop()  # a clean stop: the static member leaves the group, its partitions move at once
        wait_until(lambda: orders_partitions(survivor, topic) == {0, 1, 2, 3}, timeout=SESSION_TIMEOUT_S / 2,
                   interval=0.1, what="the survivor assigned every partition after the other stopped cleanly")
    finally:
        doomed.stop()
        survivor.stop()
