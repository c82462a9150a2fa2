"""No input gets a 5xx from a worker's HTTP API: hostile raw requests through a socket, then schemathesis
fuzzing every route of the worker's own OpenAPI document (GET /openapi.json), on one worker and the real broker.

Every answer that is not a success is the JSON error shape; 503 (a partition moving) and 504 (a read-your-writes
wait that ran out) are the only 5xx the API has, and only as JSON errors.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.integration.harness import Worker
from tests.rawhttp import RawClient, json_error

pytestmark = pytest.mark.integration

PARTITIONS = 4
EXAMPLES = 300  # per generation mode: about 6 s each on 2 cores
JSON = "Content-Type: application/json"


@pytest.fixture(scope="module")
def worker(kafka_broker: Any, registry: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    tag = uuid.uuid4().hex[:8]
    env = {"STREAMS_BROKER": kafka_broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
           "STREAMS_TOPIC_PREFIX": f"f{tag}.", "STREAMS_APP_ID": f"fuzz-{tag}",
           "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS),
           "STREAMS_READ_WAIT_TIMEOUT_S": "0.05"}  # an ?after= past the end answers its 504 without holding the fuzz
    w = Worker(env=env, data_dir=tmp_path_factory.mktemp("worker")).start()
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def raw(worker: Worker) -> RawClient:
    return RawClient(urlsplit(worker.url).port or 80)


async def test_a_20000_character_path_is_a_json_error(raw: RawClient) -> None:
    error = json_error(await raw.get("/orders/" + "a" * 20_000), 400)
    assert error["limit_bytes"] == 8190


async def test_after_a_partition_the_topic_lacks_is_a_400_at_once_naming_its_partitions(raw: RawClient) -> None:
    error = json_error(await raw.get("/orders/x?after=9:1&wait=30"), 400)  # not a 30 s wait, then a 504
    assert f"0 to {PARTITIONS - 1}" in error["message"]


@pytest.mark.parametrize("after", ["0:" + "9" * 5000, "0:-1", "-1:0", "\u00b2:1", "0:99999999999999999999"])
async def test_after_that_cannot_be_a_position_is_a_400(raw: RawClient, after: str) -> None:
    json_error(await raw.get(f"/customers/c?after={after}"), 400)


async def test_an_event_without_data_says_data_is_missing(raw: RawClient) -> None:
    error = json_error(await raw.post("/events", b'{"type": "OrderPlaced"}', JSON), 422)
    assert '"data" is missing' in error["message"]


async def test_too_large_a_body_says_the_limit(raw: RawClient) -> None:
    error = json_error(await raw.post("/events", b'{"type": "' + b"x" * (1024**2 + 1) + b'"}', JSON), 413)
    assert error["limit_bytes"] == 1024**2


async def test_deep_nesting_is_a_400(raw: RawClient) -> None:
    json_error(await raw.post("/events", b'{"type": ' + b"[" * 100_000, JSON), 400)


async def test_a_body_that_is_not_gzip_but_says_so_is_a_400(raw: RawClient) -> None:
    json_error(await raw.post("/events", b'{"type": "OrderPlaced", "data": {}}', JSON, "Content-Encoding: gzip"), 400)


async def test_a_bogus_charset_is_a_415(raw: RawClient) -> None:
    json_error(await raw.post("/events", b"{}", "Content-Type: application/json; charset=bogus-enc"), 415)


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"HELLO\r\n\r\n", 400),
    (b"GET /stats HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n", 400),
    (b"GET /stats HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /events HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET /stats HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"GET /stats\x00 HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    (b"DELETE /events HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405),
    (b"GET /no/such/route HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404),
    (b"GET /orders/%ff%fe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404),
    (b"GET /customers/%00?after=0:999999999&wait=0.05 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 504),
    (b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Encoding: br\r\nConnection: close\r\n\r\n"
     b"hello", 415),
    (b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Encoding: zstd\r\nConnection: close"
     b"\r\n\r\nhello", 415),
    (b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Encoding: deflate\r\nConnection: close"
     b"\r\n\r\nnope", 400),
    (b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Type: application/json; charset=utf-16"
     b"\r\nConnection: close\r\n\r\n\xff\xd8", 400),
    *[(b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Type: application/json; " + charset
       + b"\r\nConnection: close\r\n\r\n{}", 415)
      for charset in (b"charset=punycode", b"charset=undefined", b"charset*=utf-8''utf%00", b"charset=latin-1")],
    (b"POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Type: application/json; charset=utf\x00"
     b"\r\nConnection: close\r\n\r\n{}", 400),
], ids=["not-http", "long-header", "negative-length", "bad-chunk", "two-lengths", "nul-in-path", "method",
        "no-route", "not-utf8-key", "nul-key-past-the-end", "brotli", "zstd", "not-deflate", "lone-surrogate",
        "punycode", "undefined", "nul-in-charset-2231", "latin-1", "nul-in-charset"])
async def test_hostile_raw_requests_are_json_4xx(raw: RawClient, request_bytes: bytes, status: int) -> None:
    json_error(await raw.send(request_bytes), status)


async def test_gzip_is_read_when_it_is_gzip(raw: RawClient) -> None:
    answer = await raw.post("/events", gzip.compress(b'{"type": "OrderPlaced", "data": {}}'), JSON,
                            "Content-Encoding: gzip")
    assert json_error(answer, 422)["code"] == "validation_error"  # read, then judged on its content


def _a_valid_wait(value: Any) -> bool:
    try:
        return 0 < float(value) <= 30
    except (TypeError, ValueError):
        return False


def _can_be_invalid(operation: Any) -> bool:
    """A body or a constrained parameter can be made invalid; a path segment that may be any string cannot."""
    parameters = operation.definition.raw.get("parameters") or []
    return bool(operation.body) or any(p.get("schema") != {"type": "string"} for p in parameters)


def check_answer(response: Any) -> None:
    """No 5xx but the API's own 503 and 504; every error the JSON shape, without a trace."""
    status = response.status_code
    described = f"{response.request.method} {response.request.url} -> {status} {response.content[:300]!r}"
    assert status < 500 or status in (503, 504), described
    assert b"Traceback" not in response.content, described
    if status >= 400:
        headers = {name.lower(): value for name, value in response.headers.items()}  # values: lists
        content_type = (headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/json"), described
        error = json.loads(response.content)["error"]
        assert isinstance(error["code"], str), described
        assert isinstance(error["message"], str), described


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_fuzzing_every_route_of_the_openapi_document_gets_no_5xx(worker: Worker,
                                                                  mode: schemathesis.GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{worker.url}/openapi.json")
    session = requests.Session()
    seen: dict[str, int] = {}
    statuses: Counter[int] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        if isinstance(case.query, dict) and _a_valid_wait(case.query.get("wait")):
            case.query["wait"] = 0.05  # a valid wait past the end would hold the fuzz for up to 30 s, then 504
        response = case.call(base_url=worker.url, session=session, timeout=30)
        check_answer(response)
        seen[case.operation.label] = seen.get(case.operation.label, 0) + 1
        statuses[response.status_code] += 1

    fuzz()
    operations = [op.ok() for op in schema.get_all_operations()]
    if mode == schemathesis.GenerationMode.NEGATIVE:  # only what takes input can be sent invalid input
        operations = [op for op in operations if _can_be_invalid(op)]
    documented = {op.label for op in operations}
    assert set(seen) == documented, f"routes never fuzzed: {documented - set(seen)}"
    print(f"{mode.value}: {sum(seen.values())} requests, by route {seen}, by status {dict(statuses)}")  # with -s
