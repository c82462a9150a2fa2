"""A read forwarded to the key's owner: an owner that cannot be reached (refused, reset, hung) or no owner known
answers 503 with ``Retry-After`` and the JSON error, never a 500; the owner's own answer passes through."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from streams.errors import TransientError
from streams.settings import Settings
from streams.web.errors import RETRY_AFTER_S, error_middleware
from streams.web.route import NoOwnerError, OwnerUnreachableError, forward, owner_of
from streams.web.views import forward_timeout_s


class TextWeb:
    """What ``forward`` needs of Faust's web driver: ``text``."""

    def text(self, value: str, *, content_type: str | None = None, status: int = 200,
             headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(text=value, content_type=content_type, status=status, headers=headers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request_to(path: str) -> Any:
    return SimpleNamespace(method="GET", headers={}, url=URL(f"http://127.0.0.1:1{path}"))


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def owner() -> AsyncIterator[tuple[URL, asyncio.Event]]:
    """A stand-in owner: /ok answers, /busy answers 503 with Retry-After, /reset drops the connection,
    /hang waits for the event the test holds."""
    release = asyncio.Event()

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"order_id": "o-1"})

    async def busy(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "unavailable", "message": "m"}}, status=503,
                                 headers={"Retry-After": "7"})

    async def reset(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()
        await release.wait()
        return web.Response()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    app = web.Application()
    for path, handler in {"/ok": ok, "/busy": busy, "/reset": reset, "/hang": hang}.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield URL(f"http://127.0.0.1:{runner.addresses[0][1]}"), release
    finally:
        release.set()
        await runner.cleanup()


async def forwarded(client: aiohttp.ClientSession, owner: URL, path: str) -> web.Response:
    app = SimpleNamespace(http_client=client)
    return await forward(app, TextWeb(), request_to(path), owner, timeout_s=0.5, retry_after_s=60)


async def test_the_owners_answer_passes_through_with_its_retry_after(
        client: aiohttp.ClientSession, owner: tuple[URL, asyncio.Event]) -> None:
    ok = await forwarded(client, owner[0], "/ok")
    assert (ok.status, json.loads(ok.text or "")) == (200, {"order_id": "o-1"})
    busy = await forwarded(client, owner[0], "/busy")
    assert (busy.status, busy.headers["Retry-After"]) == (503, "7")


async def test_an_owner_refusing_connections_is_unreachable_named_by_host_and_port(
        client: aiohttp.ClientSession) -> None:
    port = free_port()
    with pytest.raises(OwnerUnreachableError) as caught:
        await forwarded(client, URL(f"http://127.0.0.1:{port}"), "/ok")
    assert caught.value.owner == f"127.0.0.1:{port}"
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "moves the partition" in caught.value.message
    assert (caught.value.http_status, caught.value.code, caught.value.retry_after_s) == (503, "owner_unreachable", 60)


@pytest.mark.parametrize("path", ["/reset", "/hang"])
async def test_an_owner_resetting_or_not_answering_is_unreachable(
        client: aiohttp.ClientSession, owner: tuple[URL, asyncio.Event], path: str) -> None:
    with pytest.raises(OwnerUnreachableError) as caught:
        await forwarded(client, owner[0], path)
    assert caught.value.owner == f"127.0.0.1:{owner[0].port}"


class Router:
    def __init__(self, owner: URL | None) -> None:
        self.owner = owner

    def external_topic_key_store(self, topic: Any, key: str) -> URL:
        if self.owner is None:
            raise KeyError(key)  # as Faust's assignor while no partition is assigned
        return self.owner


def app_routing_to(owner: URL | None) -> Any:
    return SimpleNamespace(router=Router(owner), conf=SimpleNamespace(canonical_url=URL("http://host-a:6066")))


def test_the_owner_is_another_worker_this_one_or_none_during_a_rebalance() -> None:
    topic = SimpleNamespace(get_topic_name=lambda: "orders")
    assert owner_of(app_routing_to(URL("http://host-b:6067")), topic, "k") == URL("http://host-b:6067")
    assert owner_of(app_routing_to(URL("http://host-a:6066")), topic, "k") is None
    with pytest.raises(NoOwnerError) as caught:
        owner_of(app_routing_to(None), topic, "k")
    assert (caught.value.http_status, caught.value.code) == (503, "rebalancing")


async def answered(exc: Exception) -> web.StreamResponse:
    async def handler(request: web.Request) -> web.Response:
        raise exc

    return await error_middleware(request_to("/orders/k"), handler)


async def test_an_unreachable_owner_answers_503_with_its_retry_after_and_the_json_error() -> None:
    response = await answered(OwnerUnreachableError("host-b:6067", "connection refused", retry_after_s=60))
    assert isinstance(response, web.Response)
    assert (response.status, response.headers["Retry-After"]) == (503, "60")
    body = json.loads(response.text or "")
    assert body["error"]["code"] == "owner_unreachable"
    assert "host-b:6067" in body["error"]["message"]


@pytest.mark.parametrize("exc", [NoOwnerError("rebalancing"), TransientError("no metadata yet")])
async def test_every_503_says_when_to_retry(exc: Exception) -> None:
    response = await answered(exc)
    assert (response.status, response.headers["Retry-After"]) == (503, str(RETRY_AFTER_S))


def test_a_forward_is_bounded_by_the_read_wait_plus_the_reads_own_wait(tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path, read_wait_timeout_s=5)
    assert forward_timeout_s(SimpleNamespace(query={}), settings) == 5
    assert forward_timeout_s(SimpleNamespace(query={"after": "0:1", "wait": "12"}), settings) == 17
    assert forward_timeout_s(SimpleNamespace(query={"after": "0:1"}), settings) == 10
