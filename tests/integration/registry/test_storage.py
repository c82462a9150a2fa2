"""Storage in the `_schemas` topic: restarts keep ids and versions; two instances agree."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from streams.devstack.kafka import KafkaBroker
from tests.integration.registry.conftest import BackgroundRegistry

pytestmark = pytest.mark.integration


def schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "namespace": "t", "fields": [{"name": "a", "type": "int"}]})


def test_restart_serves_every_id_and_version(kafka_broker: KafkaBroker) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    first = BackgroundRegistry(kafka_broker.bootstrap_servers, topic).start()
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
    second = BackgroundRegistry(kafka_broker.bootstrap_servers, topic).start()
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
    a = BackgroundRegistry(kafka_broker.bootstrap_servers, topic).start()
    b = BackgroundRegistry(kafka_broker.bootstrap_servers, topic).start()
    try:
        def register(i: int) -> tuple[int, int]:
            url = (a if i % 2 else b).url
            return i, httpx.post(f"{url}/subjects/race-{i}/versions", json={"schema": schema(100 + i)},
                                 timeout=60).json()["id"]

        with ThreadPoolExecutor(8) as pool:
            results = dict(pool.map(register, range(16)))
        assert len(set(results.values())) == 16  # distinct schemas, distinct ids
        for url in (a.url, b.url):
            for i, schema_id in results.items():
                got = httpx.get(f"{url}/schemas/ids/{schema_id}").json()["schema"]
                assert json.loads(got) == json.loads(schema(100 + i))
    finally:
        a.stop()
        b.stop()
