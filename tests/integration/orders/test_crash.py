"""Right after any crash: a worker killed with SIGKILL at random points, once during recovery, loses nothing,
applies nothing twice, judges nothing twice, and writes every dead letter once.

Stories of every shape (``stories.py``: completed, cancelled with compensations,
a rejected transition, two lines of one SKU, an exact re-send, poison mid-life)
are produced in three phases while the worker is up, killed and restarted.  At
the end every order, customer, SKU and the stats are compared with what the
stories say, every poison record is in the dead-letter topic exactly once and
every parked record once, and every accepted event's fan-out reached its topics.

The kill points are drawn from a seeded generator (the seed is in the failure
message), as counts of records the worker has processed since it started: where
they land depends on nothing else, so the same seed gives the same schedule.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from streams import headers as h
from streams.devstack.kafka import KafkaBroker
from streams.errors import DevstackError
from streams.recordpath.records import header
from tests.integration.harness import Worker, by_status, caught_up, metric, wait_until
from tests.integration.orders.builders import RawProducer, ingest_for, read
from tests.integration.orders.stories import Expected, Send, write_stories

pytestmark = pytest.mark.integration

AGENT = "orders-projection"


def produce(env: dict[str, str], rounds: list[list[Send]]) -> None:
    orders = f"{env['STREAMS_TOPIC_PREFIX']}orders"
    producer = RawProducer(env)
    for batch in rounds:
        for send in batch:
            if send.prepared is not None:
                producer.send_prepared(orders, send.prepared)
            else:
                producer.send(orders, send.key, send.raw)
    producer.flush()


def processed(worker: Worker) -> float:
    """Records of ``orders`` this worker process has taken (judged or skipped) since it started."""
    return metric(worker.get("/metrics").text, "streams_processing_seconds_count", agent=AGENT)


def kill_after(worker: Worker, records: int) -> None:
    """SIGKILL once the worker has taken ``records`` records (or at once if it is idle past them)."""
    wait_until(lambda: processed(worker) >= records, timeout=120, interval=0.02, what=f"{records} records taken")
    worker.kill()


def kill_during_recovery(env: dict[str, str], data_dir: Path) -> None:
    """Start a worker and SIGKILL it as soon as it says it is restoring its tables (before it is ready)."""
    worker = Worker(env=env, data_dir=data_dir)
    seen = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker.process is not None and worker.process.pid is not None and (
                    "emptied, restoring from its changelog" in worker.log()):
                os.killpg(worker.process.pid, signal.SIGKILL)
                seen.set()
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with pytest.raises(DevstackError):  # it never gets ready: it dies during recovery
        worker.start()
    watcher.join()
    worker.stop()
    assert seen.is_set(), "the worker never reported restoring its tables"


def check(env: dict[str, str], worker: Worker, expected: Expected, tag: str, seed: int, *,
          exactly_once: bool = False) -> None:
    """Every read model exact, every dead letter once; ``exactly_once``: every fan-out record once too, as a
    ``read_committed`` reader sees them (``read`` is one)."""
    where = f"(seed {seed})"
    for order, want in expected.orders.items():
        got = worker.get(f"/orders/{order}").json()
        assert {k: got.get(k) for k in ("status", "paid_minor", "refunded_minor", "reserved", "released",
                                        "customer_id", "total_minor")} == {k: v for k, v in want.items()
                                                                           if k != "history"}, f"{order} {where}"
        assert [e["event_type"] for e in got["history"]] == want["history"], f"{order} {where}"
    for customer, want in expected.customers.items():
        got = worker.get(f"/customers/{customer}").json()
        assert (got["order_count"], set(got["order_ids"]), got["lifetime_value_minor"].get("EUR", 0)) == (
            want["order_count"], want["order_ids"], want["value"]), f"{customer} {where}"
    for sku, want in expected.skus.items():
        got = worker.get(f"/inventory/{sku}").json()
        assert {k: got[k] for k in want} == want, f"{sku} {where}"
    stats = worker.get("/stats").json()
    assert {k: v for k, v in stats["orders_by_status"].items() if v} == expected.by_status, where
    assert stats["revenue_minor_total"].get("EUR", 0) == expected.revenue, where

    letters = [r for r in read(env, "orders.dlq") if (r.key or b"").startswith(tag.encode())]
    parked = Counter(r.key for r in letters if header(r.headers, h.DLQ_ERROR_CLASS) == b"Parked")
    poison = Counter(r.key for r in letters if header(r.headers, h.DLQ_ERROR_CLASS) != b"Parked")
    assert poison == expected.poison_keys, f"every poison record dead-lettered exactly once {where}"
    assert parked == expected.parked_keys, f"every parked record in the dead-letter topic once {where}"

    def causes(topic: str) -> Counter[str]:
        return Counter((header(r.headers, h.CAUSATION_ID) or b"").decode() for r in read(env, topic))

    notifications, analytics = causes("notifications"), causes("analytics")
    assert expected.placed_ids <= set(notifications), f"fan-out of every OrderPlaced to notifications {where}"
    assert expected.analytics_ids <= set(analytics), f"every judged event reached analytics {where}"
    if exactly_once:
        assert {k: n for k, n in notifications.items() if n > 1} == {}, f"notifications written twice {where}"
        assert {k: n for k, n in analytics.items() if n > 1} == {}, f"analytics written twice {where}"


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_sigkill_at_random_points_and_during_recovery_leaves_every_read_model_exact(
        stack_env: dict[str, str], tmp_path: Path, guarantee: str) -> None:
    """In exactly_once, also: every fan-out record is in its topic exactly once."""
    stack_env = {**stack_env, "STREAMS_SESSION_TIMEOUT_S": "10",  # a killed worker's partitions move in 10 s
                 "STREAMS_PROCESSING_GUARANTEE": guarantee}
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    with ingest_for(stack_env) as ingest:
        rounds, expected = write_stories(ingest, tag, per_shape=40, seed=seed)
    data_dir = tmp_path / "w"
    third = len(rounds) // 3
    phases = [rounds[:third], rounds[third: 2 * third], rounds[2 * third:]]
    total = sum(len(r) for r in rounds)

    worker = Worker(env=stack_env, data_dir=data_dir).start()
    produce(stack_env, phases[0])
    kill_after(worker, rng.randrange(20, max(21, sum(len(r) for r in phases[0]) - 20)))

    produce(stack_env, phases[1])
    kill_during_recovery(stack_env, data_dir)

    worker = Worker(env=stack_env, data_dir=data_dir).start()
    kill_after(worker, rng.randrange(20, total // 2))

    produce(stack_env, phases[2])
    worker = Worker(env=stack_env, data_dir=data_dir).start()
    try:
        wait_until(lambda: by_status(worker).get("completed") == 40
                   and caught_up(stack_env), timeout=180, what=f"the last worker caught up (seed {seed})")
        check(stack_env, worker, expected, tag, seed, exactly_once=guarantee == "exactly_once")
        assert worker.get("/health").json()["processing_guarantee"] == guarantee
        text = worker.get("/metrics").text
        emptied = metric(text, "streams_recovery_emptied_partitions")
        assert emptied > 0  # it did recover from a crash
        print(f"{guarantee}, seed {seed}: {total} records, 3 kills (one during recovery), the last restart emptied "
              f"{emptied:.0f} "
              f"table partitions and redid {metric(text, 'streams_recovery_unfinished_records'):.0f} unfinished "
              "changelog records; every read model exact")
    finally:
        worker.stop()


def test_a_broker_killed_for_a_while_takes_no_worker_down_and_leaves_every_read_model_exact(
        tmp_path: Path) -> None:
    """The broker (its own, not the session's) is killed with SIGKILL mid-stream and comes back 15 s later."""
    from streams.registry.threaded import ThreadedRegistry
    from streams.settings import Settings

    settings = Settings()
    broker = KafkaBroker(data_dir=tmp_path / "kafka", cache_dir=settings.kafka_cache_dir,
                         kafka_home=settings.kafka_home).start()
    registry = ThreadedRegistry(broker.connection, "_schemas").start()
    tag = uuid.uuid4().hex[:6]
    env = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
           "STREAMS_TOPIC_PREFIX": f"t{tag}.", "STREAMS_APP_ID": f"orders-{tag}", "STREAMS_TOPIC_PARTITIONS": "4",
           "STREAMS_SESSION_TIMEOUT_S": "10", "STREAMS_LAG_INTERVAL_S": "1"}
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    worker = None
    try:
        with ingest_for(env) as ingest:
            rounds, expected = write_stories(ingest, tag, per_shape=20, seed=seed)
        del ingest  # its closed producer would go on calling the broker this test stops, until collected
        worker = Worker(env=env, data_dir=tmp_path / "w").start()
        produce(env, rounds[: len(rounds) // 2])
        kill_after_records = random.Random(seed).randrange(20, 200)
        wait_until(lambda: processed(worker) >= kill_after_records, timeout=120, interval=0.02,
                   what=f"{kill_after_records} records taken")
        broker.kill()
        # the broker stays down until the worker has found it gone (its lag sample failed), then comes back
        wait_until(lambda: worker.get("/api/lag").json()["error"], timeout=120,
                   what=f"the worker to find the broker gone (seed {seed})")
        broker.start()
        produce(env, rounds[len(rounds) // 2:])
        wait_until(lambda: by_status(worker).get("completed") == 20
                   and caught_up(env), timeout=240, what=f"the worker caught up (seed {seed})")
        assert worker.process is not None
        assert worker.process.exited() is None
        check(env, worker, expected, tag, seed)
    finally:
        if worker is not None:
            worker.stop()
        registry.stop()
        broker.stop()


def test_sigkill_of_one_of_two_workers_moves_its_partitions_and_leaves_every_read_model_exact(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    """Two workers, each the other's standby; one is killed mid-stream: the survivor takes its partitions over
    (promoting its standby copies, or restoring them where they hold the dead one's unfinished work)."""
    env = {**stack_env, "STREAMS_SESSION_TIMEOUT_S": "10"}
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    tag = uuid.uuid4().hex[:6]
    with ingest_for(env) as ingest:
        rounds, expected = write_stories(ingest, tag, per_shape=20, seed=seed)
    first = Worker(env=env, data_dir=tmp_path / "w1").start()
    second = Worker(env=env, data_dir=tmp_path / "w2").start()
    try:
        wait_until(lambda: all(w.get("/health").json()["assigned_partitions"] for w in (first, second)),
                   timeout=90, what="the partitions shared between both workers")
        produce(env, rounds[: len(rounds) // 2])
        kill_after(first, random.Random(seed).randrange(10, 100))
        produce(env, rounds[len(rounds) // 2:])
        wait_until(lambda: by_status(second).get("completed") == 20
                   and caught_up(env), timeout=180, what=f"the survivor caught up (seed {seed})")
        check(env, second, expected, tag, seed)
    finally:
        first.stop()
        second.stop()
