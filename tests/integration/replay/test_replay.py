"""``streams replay`` on the real broker: Kafka's reset rules, refusal on an active group, dry runs, rebuilds.

A replay to earliest gives read models identical to the first build (events
applied twice change nothing); ``--rebuild`` builds a new generation while the
old one serves, and switches each partition only once it has caught up.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from agents.topics import topic_specs
from streams.connection import KafkaConnection
from streams.devstack.kafka import KafkaBroker
from streams.replay import GroupOffsets
from streams.topics import ensure_topics
from tests.integration.harness import Restartable, Worker, by_status, metric, streams_cli, wait_caught_up, wait_until
from tests.integration.orders.builders import RawProducer, body, ingest_for, paid, placed, settings_for

pytestmark = pytest.mark.integration

ORDERS = 1200


def replay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return streams_cli(env, "replay", *args)


def test_to_datetime_to_offset_and_shift_by_follow_kafka(kafka_broker: KafkaBroker,
                                                         make_topic: Callable[..., str]) -> None:
    # Kept forever: these timestamps are fixed, and once they are older than the broker's 7-day retention
    # its retention check deletes the segment mid-test (the log start jumps to 5).
    topic = make_topic("times", config={"retention.ms": "-1"})
    bootstrap, group = kafka_broker.bootstrap_servers, f"g-{uuid.uuid4().hex[:6]}"
    t0 = int(datetime(2026, 11, 22, 10, 0, tzinfo=UTC).timestamp() * 1000)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):  # offsets 0..4 written at 10:00:00, :10, :20, :30, :40
        producer.produce(topic, value=b"x", partition=0, timestamp=t0 + i * 10_000)
    assert producer.flush(15) == 0
    committer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
    committer.close()
    env = {"STREAMS_BROKER": kafka_broker.url, "STREAMS_TOPIC_PREFIX": ""}

    def after(*flags: str) -> int:
        result = replay(env, "--group", group, "--topic", f"{topic}:0", *flags, "--json")
        assert result.returncode == 0, result.stderr
        [move] = json.loads(result.stdout)["moves"]
        return int(move["after"])

    assert after("--to-datetime", "2026-11-22T10:00:15Z") == 2  # the first record at or after 10:00:15
    assert after("--to-datetime", "2026-11-22T10:00:20Z") == 2  # at: included
    assert after("--to-datetime", "2026-11-22T12:00:00Z") == 5  # none that late: the log end
    assert after("--to-offset", "99") == 5  # clamped to the log end
    assert after("--shift-by", "-2") == 1
    assert after("--shift-by", "-10") == 0  # clamped to the log start
    assert after("--to-earliest") == 0
    assert after("--to-latest") == 5
    assert GroupOffsets(KafkaConnection(bootstrap)).committed(group, [(topic, 0)]) == {(topic, 0): 3}  # all dry runs

    moved = replay(env, "--group", group, "--topic", topic, "--to-datetime", "2026-11-22T10:00:15Z", "--execute")
    assert moved.returncode == 0, moved.stderr
    assert GroupOffsets(KafkaConnection(bootstrap)).committed(group, [(topic, 0)]) == {(topic, 0): 2}

    none = replay(env, "--group", group, "--topic", topic)
    assert none.returncode == 1
    assert none.stderr.count("\n") == 1
    assert "exactly one of --to-earliest" in none.stderr


@pytest.fixture
def orders_env(registry_env: dict[str, str]) -> dict[str, str]:
    """A stack with a registry of the test's own (``own_registry``: a rebuild test holds it down)."""
    return {**registry_env, "STREAMS_LAG_INTERVAL_S": "1", "STREAMS_BREAKER_OPEN_S": "0.2",
            "STREAMS_BREAKER_MAX_OPEN_S": "0.5"}


@pytest.fixture
def built(orders_env: dict[str, str], admin: AdminClient, tmp_path: Path) -> dict[str, Any]:
    """A worker that applied ORDERS placed-and-paid orders; yields what its read models said, then is stopped."""
    tag = uuid.uuid4().hex[:6]
    orders = f"{orders_env['STREAMS_TOPIC_PREFIX']}orders"
    ensure_topics(admin, topic_specs(settings_for(orders_env)))  # before producing: 4 partitions, as the app says
    producer = RawProducer(orders_env)
    with ingest_for(orders_env) as ingest:
        for i in range(ORDERS):
            order = f"{tag}-{i}"
            producer.send_prepared(orders, ingest.prepare(body("OrderPlaced", placed(order, f"{tag}-c{i % 7}",
                                                                                     price=100 + i))))
            producer.send_prepared(orders, ingest.prepare(body("PaymentAuthorized", paid(order, 100 + i))))
    producer.flush()
    worker = Worker(env=orders_env, data_dir=tmp_path / "w").start()
    try:
        wait_until(lambda: by_status(worker).get("paid") == ORDERS, timeout=120,
                   what="every order paid")
        wait_caught_up(orders_env)  # all applied (customers and stats too) and committed: what a replay starts from
        views = _views(worker, tag)
    finally:
        worker.stop()
    return {"tag": tag, "views": views, "data_dir": tmp_path / "w"}


def _views(worker: Worker, tag: str) -> dict[str, Any]:
    def strip(view: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in view.items() if k != "_meta"}

    return {
        "orders": {i: strip(worker.get(f"/orders/{tag}-{i}").json()) for i in range(0, ORDERS, 97)},
        "customers": {c: strip(worker.get(f"/customers/{tag}-c{c}").json()) for c in range(7)},
        "stats": strip(worker.get("/stats").json()),
    }


def test_refused_on_an_active_group_and_a_dry_run_changes_nothing(orders_env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    group = orders_env["STREAMS_APP_ID"]
    worker = Worker(env=orders_env, data_dir=tmp_path / "w").start()
    try:
        wait_until(lambda: GroupOffsets(KafkaConnection(orders_env["STREAMS_BROKER"].removeprefix("kafka://"))).members(group),
                   what="the worker in its group")
        refused = replay(orders_env, "--topic", "orders", "--to-earliest", "--execute")
        assert refused.returncode == 1
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, refused.stderr
        assert f"group '{group}' has 1 active member(s)" in lines[0]
        assert "stop them first" in lines[0]
    finally:
        worker.stop()
    offsets = GroupOffsets(KafkaConnection(orders_env["STREAMS_BROKER"].removeprefix("kafka://")))
    tps = [(f"{orders_env['STREAMS_TOPIC_PREFIX']}orders", p) for p in range(4)]
    before = offsets.committed(group, tps)
    dry = replay(orders_env, "--topic", "orders", "--to-earliest")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing changed" in dry.stdout
    assert offsets.committed(group, tps) == before


def test_replay_to_earliest_gives_read_models_identical_to_the_first_build(
        built: dict[str, Any], orders_env: dict[str, str]) -> None:
    result = replay(orders_env, "--topic", "orders", "--to-earliest", "--execute")
    assert result.returncode == 0, result.stderr
    worker = Worker(env=orders_env, data_dir=built["data_dir"]).start()
    try:
        wait_caught_up(orders_env)
        assert _views(worker, built["tag"]) == built["views"]  # everything applied twice, nothing changed
    finally:
        worker.stop()
    history = [json.loads(line) for line in replay(orders_env, "--history", "--json").stdout.splitlines()]
    assert [h["kind"] for h in history] == ["replay-reset"]
    assert history[0]["details"]["reset"] == "--to-earliest"
    assert all(m["after"] == 0 for m in history[0]["details"]["moves"])


def test_a_replay_onto_a_worker_with_a_fresh_disk_judges_nothing_again(
        built: dict[str, Any], orders_env: dict[str, str], tmp_path: Path) -> None:
    """Where a pod starts with an empty disk: the read models come from their changelogs, up to where the group
    had got (the floors the replay recorded), and the replayed events are skipped, not judged again."""
    result = replay(orders_env, "--topic", "orders", "--to-earliest", "--execute")
    assert result.returncode == 0, result.stderr
    worker = Worker(env=orders_env, data_dir=tmp_path / "fresh").start()
    try:
        wait_caught_up(orders_env)
        assert _views(worker, built["tag"]) == built["views"]
        text = worker.get("/metrics").text
        assert metric(text, "streams_events_total", agent="orders-projection", outcome="already_processed") == (
            2 * ORDERS)
        assert metric(text, "streams_events_total", agent="orders-projection", outcome="applied") == 0
        assert metric(text, "streams_events_total", agent="orders-projection", outcome="rejected") == 0
    finally:
        worker.stop()


def test_a_rebuild_serves_the_old_generation_until_the_new_one_caught_up(
        built: dict[str, Any], orders_env: dict[str, str], own_registry: Restartable) -> None:
    nothing = replay(orders_env, "--to-latest", "--rebuild", "orders", "--execute")
    assert nothing.returncode == 1
    assert "must replay what it has applied" in nothing.stderr  # an empty new generation would take over
    result = replay(orders_env, "--to-earliest", "--rebuild", "orders", "--execute")
    assert result.returncode == 0, result.stderr
    assert "orders-g1" in result.stdout
    tag, expected = built["tag"], built["views"]["orders"]
    # The rebuild is held while the test looks: a fresh worker cannot read the replayed records without the
    # registry (its breaker holds them), so the old generation must be what answers.
    own_registry.stop()
    worker = Worker(env=orders_env, data_dir=built["data_dir"]).start()
    seen: set[tuple[int, bool]] = set()

    def look(client: httpx.Client) -> set[int]:
        generations = set()
        for i, view in expected.items():
            answer = client.get(f"{worker.url}/orders/{tag}-{i}").json()
            meta = answer.pop("_meta")
            assert answer == view, f"order {i} half-built in generation {meta['generation']}"
            seen.add((meta["generation"], meta["rebuilding"]))
            generations.add(meta["generation"])
        return generations

    try:
        with httpx.Client(timeout=30) as client:
            assert look(client) == {0}, "the old generation answers while the rebuild is held"
            assert (0, True) in seen
            own_registry.start()
            wait_until(lambda: look(client) == {1}, timeout=120, interval=0.1,
                       what="every order served from the rebuilt generation")
        assert (1, False) in seen
        assert all(rebuilding == (generation == 0) for generation, rebuilding in seen)
        wait_caught_up(orders_env)
        assert _views(worker, tag) == built["views"]
    finally:
        worker.stop()
    history = [json.loads(line) for line in replay(orders_env, "--history", "--json").stdout.splitlines()]
    assert [h["details"]["rebuild"]["generation"] for h in history if h["kind"] == "replay-rebuild"] == [1]
