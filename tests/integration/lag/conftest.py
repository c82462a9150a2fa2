"""A worker watching a consumer group with real lag: the group committed, stopped, and more was produced.

The stopped group ``legacy-<tag>`` (named in STREAMS_LAG_GROUPS) has, on its
two-partition topic, lag 20 on partition 0 and none on partition 1; one
garbage record in ``orders`` gives the worker a dead letter to count.  The
worker runs the order saga with the simulated services (payments declined above
1,000.00), for the dashboard's saga card.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streams.devstack.kafka import KafkaBroker
from tests.integration.harness import Worker, wait_until

__all__ = ["LaggingStack", "system_tool"]


@dataclass
class LaggingStack:
    worker: Worker
    group: str
    topic: str
    env: dict[str, str]

    def lag_api(self) -> dict[str, Any]:
        response = self.worker.get("/api/lag")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def cards_api(self) -> dict[str, Any]:
        response = self.worker.get("/api/cards")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def stopped_group(self, body: dict[str, Any]) -> dict[str, Any]:
        [group] = [g for g in body["groups"] if g["group"] == self.group]
        return dict(group)


def system_tool(name: str) -> str:
    """The path of a Debian tool a test needs; a skip naming it (a failure where CI requires it) if absent."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {name}); .ci/run installs it"
        if os.environ.get("STREAMS_REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def lagging(kafka_broker: KafkaBroker, registry: Any, admin: AdminClient,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaggingStack]:
    tag = uuid.uuid4().hex[:8]
    prefix, group = f"lag{tag}.", f"legacy-{tag}"
    topic = f"{prefix}legacy-events"
    bootstrap = kafka_broker.bootstrap_servers
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, count in ((0, 30), (1, 20)):
        for i in range(count):
            producer.produce(topic, value=f"e{i}".encode(), partition=partition)
    assert producer.flush(15) == 0
    committer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 20)], asynchronous=False)
    committer.close()
    env = {"STREAMS_BROKER": kafka_broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
           "STREAMS_TOPIC_PREFIX": prefix, "STREAMS_APP_ID": f"orders-{tag}", "STREAMS_TOPIC_PARTITIONS": "2",
           "STREAMS_LAG_INTERVAL_S": "1", "STREAMS_LAG_WINDOW": "3", "STREAMS_LAG_GROUPS": group,
           "STREAMS_SIMULATED_SERVICES": "true", "STREAMS_SIM_PAYMENT_LIMIT_MINOR": "100000"}
    worker = Worker(env=env, data_dir=Path(tmp_path_factory.mktemp("lagworker"))).start()
    try:
        producer.produce(f"{prefix}orders", key=b"poison-1", value=b"\x07 not avro")
        assert producer.flush(15) == 0
        stack = LaggingStack(worker, group, topic, env)

        def ready() -> bool:
            body = stack.lag_api()
            groups = {g["group"]: g for g in body["groups"]}
            return (groups.get(group, {}).get("status") == "STOPPED" and bool(body["dead_letters"])
                    and len(body["history"]) >= 3)

        wait_until(ready, timeout=60, what="the stopped group judged STOPPED and the dead letter counted")
        yield stack
    finally:
        worker.stop()
