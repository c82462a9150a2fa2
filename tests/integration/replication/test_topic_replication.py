"""A worker creates every topic, its own and Faust's, with the replication the cluster and the settings give.

The test broker is one node: the factor is 1 either way, so what can fail here is ``min.insync.replicas``
being set on each topic itself (a topic left to the broker's default would show the broker as its source),
the startup line, and a factor the cluster cannot hold being refused before anything is created.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, ResourceType

from streams.devstack.ports import free_port
from tests.integration.harness import Worker, streams_cli, wait_until

pytestmark = pytest.mark.integration


def _ours(admin: AdminClient, env: dict[str, str]) -> dict[str, list[int]]:
    """The test's topics (its prefix or its app id in the name): per topic, the replica count of each partition."""
    marks = (env["STREAMS_TOPIC_PREFIX"], env["STREAMS_APP_ID"])
    topics = admin.list_topics(timeout=10).topics
    return {name: [len(p.replicas) for p in meta.partitions.values()]
            for name, meta in topics.items() if any(mark in name for mark in marks)}


def _min_insync(admin: AdminClient, names: list[str]) -> dict[str, tuple[str | None, ConfigSource]]:
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    found = {}
    for resource, future in admin.describe_configs(resources).items():
        entry = future.result(timeout=30)["min.insync.replicas"]
        found[resource.name] = (entry.value, ConfigSource(entry.source))
    return found


@pytest.mark.parametrize(("settings", "said"), [
    ({}, "replication factor 1, min.insync.replicas 1 (from the cluster: 1 broker)"),
    ({"STREAMS_REPLICATION_FACTOR": "1", "STREAMS_MIN_INSYNC_REPLICAS": "1"},
     "replication factor 1 (from STREAMS_REPLICATION_FACTOR), min.insync.replicas 1 (from "
     "STREAMS_MIN_INSYNC_REPLICAS)"),
], ids=["from-the-cluster", "from-the-settings"])
def test_every_topic_a_worker_creates_has_the_replication_in_force(
        stack_env: dict[str, str], admin: AdminClient, tmp_path: Path, settings: dict[str, str], said: str) -> None:
    env = {**stack_env, **settings}
    leader = f"{env['STREAMS_APP_ID']}-__assignor-__leader"  # created by Faust itself, not by the app
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        startup = [line for line in worker.log().splitlines() if line.startswith(f"worker {env['STREAMS_APP_ID']}:")]
        assert len(startup) == 1, worker.log_tail()
        assert f"/health, {said}," in startup[0], startup[0]
        topics = wait_until(lambda: (found := _ours(admin, env)) and leader in found and found, timeout=30,
                            what="Faust's leader topic")
    finally:
        worker.stop()
    prefix = env["STREAMS_TOPIC_PREFIX"]
    changelogs = [name for name in topics if name.endswith("-changelog")]
    assert changelogs, sorted(topics)
    for expected in (f"{prefix}orders", f"{prefix}orders.dlq", f"{env['STREAMS_APP_ID']}-customer-deltas"):
        assert any(name.endswith(expected) for name in topics), (expected, sorted(topics))
    assert {name: set(replicas) for name, replicas in topics.items()} == {name: {1} for name in topics}
    # set on the topic itself, not the broker's default (which is 1 as well on this broker)
    assert _min_insync(admin, sorted(topics)) == {name: ("1", ConfigSource.DYNAMIC_TOPIC_CONFIG) for name in topics}


def test_a_factor_larger_than_the_cluster_stops_the_worker_in_one_line(
        stack_env: dict[str, str], admin: AdminClient, tmp_path: Path) -> None:
    env = {**stack_env, "STREAMS_REPLICATION_FACTOR": "3", "STREAMS_DATA_DIR": str(tmp_path / "w"),
           "STREAMS_WEB_PORT": str(free_port())}
    done = streams_cli(env, "worker", timeout=60)  # a hang fails here: TimeoutExpired
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.strip().splitlines() == [
        "streams: error: STREAMS_REPLICATION_FACTOR=3 is more than the 1 broker of the cluster (set it to 1 or "
        "less, or unset it to decide from the cluster)"
    ]
    assert _ours(admin, env) == {}  # refused before any topic was created
