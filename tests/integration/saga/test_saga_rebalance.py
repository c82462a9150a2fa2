"""Two workers running sagas; one is killed with SIGKILL while its sagas wait on a silent shipping service: the
survivor takes its partitions over, their deadlines with them (state, not sleeping coroutines), and every saga
ends, each of its timers having fired once.  (Shipping never answers, so every saga times out there, unless a
service on the killed worker made an earlier step time out first: either way it ends compensated or failed.)"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from streams.devstack.kafka import KafkaBroker
from streams.position import key_partition
from tests.integration.harness import Worker, caught_up, metric, wait_until, worker_env
from tests.integration.orders.builders import RawProducer, body, ingest_for, placed

pytestmark = pytest.mark.integration

SAGAS = 40
ATTEMPTS = 2


def test_sagas_of_a_killed_worker_finish_on_the_survivor_and_each_timer_fires_once(
        kafka_broker: KafkaBroker, registry: Any, tmp_path: Path) -> None:
    env = worker_env(kafka_broker.url, registry.url, STREAMS_SAGA="true", STREAMS_SIMULATED_SERVICES="true",
                     STREAMS_SIM_SILENT="shipping", STREAMS_SAGA_STEP_TIMEOUT_S="2",
                     STREAMS_SAGA_MAX_ATTEMPTS=str(ATTEMPTS), STREAMS_SAGA_TICK_S="0.2",
                     STREAMS_SESSION_TIMEOUT_S="10")
    first = Worker(env=env, data_dir=tmp_path / "w1").start()
    second = Worker(env=env, data_dir=tmp_path / "w2").start()
    try:
        wait_until(lambda: all(w.get("/health").json()["assigned_partitions"] for w in (first, second)),
                   timeout=90, what="the partitions shared between both workers")
        tag = uuid.uuid4().hex[:6]
        ids = [f"{tag}-{i}" for i in range(SAGAS)]
        producer, topic = RawProducer(env), f"{env['STREAMS_TOPIC_PREFIX']}orders"
        with ingest_for(env) as ingest:
            for order_id in ids:
                producer.send_prepared(topic, ingest.prepare(body("OrderPlaced", placed(order_id))))
        producer.flush()
        inbox = f"{env['STREAMS_TOPIC_PREFIX']}{env['STREAMS_APP_ID']}-saga-inbox"
        owned_by_first = {int(tp.rsplit(":", 1)[1]) for tp in first.get("/health").json()["assigned_partitions"]
                          if tp.rsplit(":", 1)[0] == inbox}
        assert owned_by_first, "the first worker owns no partition of the saga inbox"
        # Every saga waits on shipping (silent) before the kill: the first worker's deadlines are pending.
        wait_until(lambda: metric(first.get("/metrics").text, "streams_sagas_total", event="started",
                                  step="payment") > 0
                   and metric(first.get("/metrics").text, "streams_sagas_waiting") > 0,
                   timeout=60, what="sagas waiting on the first worker")
        first.kill()

        def inbox_partitions(worker: Worker) -> set[int]:
            return {int(tp.rsplit(":", 1)[1]) for tp in worker.get("/health").json()["assigned_partitions"]
                    if tp.rsplit(":", 1)[0] == inbox}

        wait_until(lambda: inbox_partitions(second) == set(range(4)), timeout=90, what="the survivor owns all")
        wait_until(lambda: metric(second.get("/metrics").text, "streams_sagas_waiting") == 0 and caught_up(env),
                   timeout=180, interval=0.5, what="every saga ended on the survivor")
        moved = [i for i in ids if key_partition(i.encode(), 4) in owned_by_first]
        for order_id in ids:
            saga = second.get(f"/sagas/{order_id}").json()
            assert saga["status"] in ("compensated", "failed"), saga
            timeouts = Counter((e["step"], e["attempt"]) for e in saga["history"] if e["kind"] == "timeout")
            # each deadline acted on once: a timer record written again (by the survivor, for a deadline the killed
            # worker had already turned into a record) is stale, and ignored
            assert set(timeouts.values()) == {1}, (order_id, timeouts)
            # the step that failed timed out at each attempt
            assert {(saga["failed_step"], a) for a in range(1, ATTEMPTS + 1)} <= set(timeouts), (order_id, timeouts)
        assert moved, "no saga was on the killed worker's partitions"
    finally:
        first.stop()
        second.stop()
