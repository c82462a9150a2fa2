"""A read that waits for a write (``?after=``) waits across a rebalance within its ``?wait=``: while no worker is
known to own the key's partition, or its owner does not answer (killed: the group moves the partition after the
session timeout), it looks again; any other read answers 503 at once, and so does a waiting one whose wait ran out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from yarl import URL

from streams.settings import Settings
from streams.web.route import NoOwnerError, OwnerUnreachableError
from streams.web.views import routed, wait_param
from tests.unit.web.test_restoring import HERE, Producer

DEAD = URL("http://host-b:6067")


class Group:
    """Who owns the partition, as the test sets it: ``None`` none known (Faust's KeyError), else a worker's URL."""

    def __init__(self, owner: URL | None) -> None:
        self.owner = owner

    def external_topic_key_store(self, topic: Any, key: str) -> URL:
        if self.owner is None:
            raise KeyError(key)
        return self.owner


class DeadWorker:
    """``app.http_client``: every forwarded request is refused, as by a killed worker's port."""

    def request(self, **kwargs: Any) -> Any:
        raise aiohttp.ClientConnectionError("Connection refused")


def app_of(tmp_path: Path, group: Group) -> Any:
    return SimpleNamespace(router=group, conf=SimpleNamespace(canonical_url=HERE), producer=Producer(),
                           rebalancing=False, http_client=DeadWorker(),
                           streams_settings=Settings(data_dir=tmp_path, read_wait_timeout_s=5, session_timeout_s=10))


async def get(app: Any, path: str) -> web.StreamResponse:
    topic = SimpleNamespace(get_topic_name=lambda: "orders")

    @routed(app, topic, match_info="order_id")
    async def view(view: Any, request: Any, order_id: str) -> web.Response:
        return web.json_response({"order_id": order_id, "wait_left": wait_param(request, 5)})

    return await view(SimpleNamespace(web=None), make_mocked_request("GET", path, match_info={"order_id": "k"}),
                      order_id="k")


@pytest.mark.parametrize("before", [None, DEAD], ids=["no owner known", "owner unreachable"])
async def test_a_read_after_a_write_waits_until_the_partition_has_an_owner(tmp_path: Path, before: URL | None) -> None:
    group = Group(before)
    app = app_of(tmp_path, group)
    asyncio.get_running_loop().call_later(0.5, setattr, group, "owner", HERE)  # the rebalance ends: this worker
    response = await get(app, "/orders/k?after=0:3&wait=5")
    assert isinstance(response, web.Response)
    assert response.status == 200
    assert 0 < json.loads(response.text or "")["wait_left"] <= 5 - 0.5  # the time it looked is off its wait


@pytest.mark.parametrize(("before", "error"), [(None, NoOwnerError), (DEAD, OwnerUnreachableError)],
                         ids=["no owner known", "owner unreachable"])
async def test_any_other_read_answers_503_at_once(tmp_path: Path, before: URL | None, error: type[Exception]) -> None:
    group = Group(before)
    app = app_of(tmp_path, group)
    asyncio.get_running_loop().call_later(0.5, setattr, group, "owner", HERE)
    with pytest.raises(error):
        await get(app, "/orders/k")
    assert group.owner == before  # answered before the rebalance ended


async def test_a_read_after_a_write_answers_503_when_its_wait_runs_out(tmp_path: Path) -> None:
    app = app_of(tmp_path, Group(DEAD))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OwnerUnreachableError):
        await get(app, "/orders/k?after=0:3&wait=0.6")
    assert loop.time() - started >= 0.6 - 0.25  # it looked again while its wait lasted


class LiveWorker:
    """``app.http_client`` of an owner that answers: records the URL of each forwarded request."""

    def __init__(self) -> None:
        self.urls: list[URL] = []

    def request(self, *, url: URL, **kwargs: Any) -> Any:
        self.urls.append(url)
        answer = SimpleNamespace(status=200, headers={}, content_type="application/json")

        async def text() -> str:
            return '{"order_id": "k"}'

        answer.text = text

        class Context:
            async def __aenter__(self) -> Any:
                return answer

            async def __aexit__(self, *exc: object) -> None:
                return None

        return Context()


async def test_the_owner_found_at_last_is_asked_to_wait_only_what_is_left(tmp_path: Path) -> None:
    group = Group(None)
    app = app_of(tmp_path, group)
    app.http_client = LiveWorker()
    asyncio.get_running_loop().call_later(0.5, setattr, group, "owner", URL("http://host-c:6068"))
    web_ = SimpleNamespace(text=lambda body, **kw: web.Response(text=body, status=kw["status"]))
    topic = SimpleNamespace(get_topic_name=lambda: "orders")

    @routed(app, topic, match_info="order_id")
    async def view(view: Any, request: Any, order_id: str) -> web.Response:
        raise AssertionError("served here: the key is owned elsewhere")

    request = make_mocked_request("GET", "/orders/k?after=0:3&wait=5", match_info={"order_id": "k"})
    response = await view(SimpleNamespace(web=web_), request, order_id="k")
    assert response.status == 200
    [url] = app.http_client.urls
    assert (url.host, url.port) == ("host-c", 6068)
    assert 0 < float(url.query["wait"]) <= 5 - 0.5  # what it looked for the owner is off its wait
