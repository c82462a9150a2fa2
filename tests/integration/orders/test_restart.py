"""Stopping a worker in the middle of a backlog and starting it again loses nothing and counts nothing twice, with
the stores it left on disk."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.harness import Worker, by_status, metric, wait_caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed

pytestmark = pytest.mark.integration


def test_stop_mid_backlog_then_restart_applies_every_event_once(stack_env: dict[str, str], tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    orders = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    count = 1500
    Worker(env=stack_env, data_dir=tmp_path / "w").start().stop()  # creates the topics with their partitions
    producer = RawProducer(stack_env)
    with ingest_for(stack_env) as ingest:
        for i in range(count):
            order = f"{tag}-o{i}"
            producer.send_prepared(orders, ingest.prepare(body("OrderPlaced", placed(order, price=100 + i))))
            producer.send_prepared(orders, ingest.prepare(body("PaymentAuthorized", paid(order, 100 + i))))
    producer.flush()

    def applied(worker: Worker) -> dict[str, int]:
        return {k: v for k, v in by_status(worker).items() if v}

    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        wait_until(lambda: sum(applied(worker).values()) > 0, timeout=30, what="the first events applied")
    finally:
        worker.stop()  # SIGTERM with the agents' queues full of fetched events
    restarted = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        seen: dict[str, int] = {}

        def done() -> bool:
            seen.clear()
            seen.update(applied(restarted))
            return seen.get("paid") == count

        try:
            wait_until(done, timeout=120, what=f"{count} paid orders after the restart")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; orders by status: {seen}") from None
        wait_caught_up(stack_env, timeout=30)  # and the deltas of every event applied: a count twice would show
        assert applied(restarted) == {"paid": count}
        metrics = restarted.get("/metrics").text
        assert metric(metrics, "streams_rejected_transitions_total") == 0  # no payment came before its order
        # the stop was clean: every store was trusted as it was on disk (unlogged: its memtables flushed at the
        # stop), none emptied and restored from its changelog
        assert metric(metrics, "streams_recovery_emptied_partitions") == 0
    finally:
        restarted.stop()
