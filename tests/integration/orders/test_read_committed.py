"""The worker reads committed records only: an aborted transaction's event is never applied.

A transactional producer (another service, a replay tool) writes an OrderPlaced to ``orders`` and
aborts; a plain producer then writes another to the same partition. Once the second is applied, the
worker has read past the first: it must not be in the read model.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from streams.position import key_partition
from tests.integration.harness import Worker, wait_until
from tests.integration.orders.builders import body, ingest_for, placed

pytestmark = pytest.mark.integration


def test_an_aborted_transactions_event_is_skipped_and_the_next_one_applied(stack_env: dict[str, str],
                                                                           tmp_path: Path) -> None:
    partitions = int(stack_env["STREAMS_TOPIC_PARTITIONS"])
    tag = uuid.uuid4().hex[:6]
    aborted = f"{tag}-aborted"
    committed = next(key for key in (f"{tag}-committed-{i}" for i in range(1000))
                     if key_partition(key.encode(), partitions) == key_partition(aborted.encode(), partitions))
    worker = Worker(env=stack_env, data_dir=tmp_path / "w").start()
    try:
        topic = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
        bootstrap = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
        with ingest_for(stack_env) as ingest:
            first = ingest.prepare(body("OrderPlaced", placed(aborted)))
            second = ingest.prepare(body("OrderPlaced", placed(committed)))
        transactional = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"test-{tag}",
                                  "partitioner": "murmur2_random"})
        transactional.init_transactions(30)
        transactional.begin_transaction()
        transactional.produce(topic, key=first.key, value=first.value, headers=first.envelope.to_headers())
        transactional.flush(30)  # in the log, not committed
        transactional.abort_transaction(30)
        plain = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
        plain.produce(topic, key=second.key, value=second.value, headers=second.envelope.to_headers())
        assert plain.flush(30) == 0

        wait_until(lambda: worker.get(f"/orders/{committed}").status_code == 200, timeout=60,
                   what="the committed event applied")
        assert worker.get(f"/orders/{aborted}").status_code == 404  # read past, never applied
    finally:
        worker.stop()
