"""Storage in the `_schemas` topic: restarts keep ids and versions; two instances agree."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from streams.devstack.kafka import KafkaBroker
from tests.integration.registry.conftest import BackgroundRegistry

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("embedded_only")]


def schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "namespace": "t", "fields": [{"name": "a", "type": "int"}]})


def test_restart_serves_every_id_and_version(kafka_broker: KafkaBroker) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    first = BackgroundRegistry(kafka_broker.connection, topic).start()
    ids = {}
    try:
        httpx.put(f"{first.url}/config/s0", json={"compatibility": "NONE"}).raise_for_status()
        httpx.put(f"{first.url}/config/s1", json={"compatibility": "NONE"}).raise_for_status()
        for i in range(5):
            r = httpx.post(f"{first.url}/subjects/s{i % 2}/versions", json={"schema": schema(i)})
            ids[i] = r.json()["id"]
        httpx.delete(f"{first.url}/subjects/s1/versions/1").raise_for_status()
        before = {s: httpx.get(f"{first.url}/subjects/{s}/versions").json() for s in ("s0", "s1")}
    finally:
        first.stop()
    second = BackgroundRegistry(kafka_broker.connection, topic).start()
    try:
        for i, schema_id in ids.items():
            assert json.loads(httpx.get(f"{second.url}/schemas/ids/{schema_id}").json()["schema"]) == \
                json.loads(schema(i))
        assert {s: httpx.get(f"{second.url}/subjects/{s}/versions").json() for s in ("s0", "s1")} == before
        assert httpx.get(f"{second.url}/config/s0").json() == {"compatibilityLevel": "NONE"}
        again = httpx.post(f"{second.url}/subjects/s0/versions", json={"schema": schema(0)}).json()["id"]
        assert again == ids[0]
        assert httpx.post(f"{second.url}/subjects/s9/versions", json={"schema": schema(9)}).json()["id"] \
            == max(ids.values()) + 1
    finally:
        second.stop()


def test_two_instances_on_one_topic_never_share_an_id(kafka_broker: KafkaBroker) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    a = BackgroundRegistry(kafka_broker.connection, topic).start()
    b = BackgroundRegistry(kafka_broker.connection, topic).start()
    try:
        def register(i: int) -> tuple[int, int]:
            url = (a if i % 2 else b).url
            return i, httpx.post(f"{url}/subjects/race-{i}/versions", json={"schema": schema(100 + i)},
                                 timeout=60).json()["id"]

        with ThreadPoolExecutor(8) as pool:
            results = dict(pool.map(register, range(16)))
        assert len(set(results.values())) == 16  # distinct schemas, distinct ids
        for registry in (a, b):  # each serves from what it has read: the other's last writes, once read
            registry.server.store.catch_up()
        for url in (a.url, b.url):
            for i, schema_id in results.items():
                got = httpx.get(f"{url}/schemas/ids/{schema_id}").json()["schema"]
                assert json.loads(got) == json.loads(schema(100 + i))
    finally:
        a.stop()
        b.stop()


def committed_records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes | None]]:
    """Every committed record of the topic, as a read_committed consumer (and the log cleaner) sees them."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex[:6]}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    try:
        _, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        records: list[tuple[bytes, bytes | None]] = []
        while consumer.position([TopicPartition(topic, 0)])[0].offset < end:
            for message in consumer.consume(100, 1.0):
                if message.error() is None:
                    records.append((message.key(), message.value()))
        return records
    finally:
        consumer.close()


def test_two_writers_on_one_subject_agree_and_leave_no_losing_record(kafka_broker: KafkaBroker) -> None:
    """Both instances register into the same subject at once: one writer at a time, by Kafka's fencing.

    A losing record under the same key would win after log compaction (the last value of a key is kept),
    so the property checked is stronger than "they agree now": the topic holds one value per key.
    """
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    a = BackgroundRegistry(kafka_broker.connection, topic).start()
    b = BackgroundRegistry(kafka_broker.connection, topic).start()
    third = None
    try:
        httpx.put(f"{a.url}/config/shared", json={"compatibility": "NONE"}).raise_for_status()

        def register(i: int) -> tuple[int, int]:
            url = (a if i % 2 else b).url
            response = httpx.post(f"{url}/subjects/shared/versions", json={"schema": schema(200 + i)}, timeout=60)
            response.raise_for_status()
            return i, response.json()["id"]

        with ThreadPoolExecutor(6) as pool:
            ids = dict(pool.map(register, range(12)))
        assert len(set(ids.values())) == 12
        third = BackgroundRegistry(kafka_broker.connection, topic).start()  # read to the end on start
        for registry in (a, b):  # each serves from what it has read: the other's last writes, once read
            registry.server.store.catch_up()
        views = [httpx.get(f"{r.url}/subjects/shared/versions").json() for r in (a, b, third)]
        assert views[0] == views[1] == views[2] == list(range(1, 13))
        for version in range(1, 13):
            answers = {json.dumps(httpx.get(f"{r.url}/subjects/shared/versions/{version}").json(), sort_keys=True)
                       for r in (a, b, third)}
            assert len(answers) == 1
        values_by_key: dict[bytes, set[bytes | None]] = {}
        for key, value in committed_records(kafka_broker.bootstrap_servers, topic):
            values_by_key.setdefault(key, set()).add(value)
        assert all(len(values) == 1 for values in values_by_key.values()), values_by_key
    finally:
        for registry in (a, b, third):
            if registry is not None:
                registry.stop()
