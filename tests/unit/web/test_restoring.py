"""A read of a key whose partition this worker owns but is still restoring answers 503 ``restoring`` with
``Retry-After``, never a 404 for a key not restored yet; a read with ``?after=`` waits for the restore within its
``?wait=``; a key owned elsewhere is forwarded, one owned and restored is served."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from yarl import URL

from streams.settings import Settings
from streams.web.errors import RETRY_AFTER_S, error_middleware
from streams.web.route import RestoringError, decide, restoring, wait_restored
from streams.web.views import WAITED_S, routed, wait_param

HERE = URL("http://host-a:6066")


def test_a_key_owned_here_is_served_once_restored_and_answers_restoring_before() -> None:
    assert decide(None, restoring=False) == "serve"
    assert decide(None, restoring=True) == "restoring"


def test_a_key_owned_elsewhere_is_forwarded_whatever_this_worker_is_doing() -> None:
    assert decide(URL("http://host-b:6067"), restoring=False) == "forward"
    assert decide(URL("http://host-b:6067"), restoring=True) == "forward"


def test_restoring_is_faust_s_rebalancing_flag() -> None:
    assert restoring(SimpleNamespace(rebalancing=True)) is True
    assert restoring(SimpleNamespace(rebalancing=False)) is False
    assert restoring(SimpleNamespace()) is False  # an app before its first rebalance


async def test_a_wait_for_the_restore_ends_when_the_flag_clears_or_at_its_bound() -> None:
    app = SimpleNamespace(rebalancing=True)
    assert await wait_restored(app, 0.05) is False
    asyncio.get_running_loop().call_later(0.1, setattr, app, "rebalancing", False)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await wait_restored(app, 5.0) is True
    assert loop.time() - started < 1.0


async def test_restoring_answers_503_with_retry_after_and_the_json_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise RestoringError("restoring the partition of 'k'")

    response = await error_middleware(make_mocked_request("GET", "/orders/k"), handler)
    assert isinstance(response, web.Response)
    assert (response.status, response.headers["Retry-After"]) == (503, str(RETRY_AFTER_S))
    assert json.loads(response.text or "")["error"] == {"code": "restoring",
                                                        "message": "restoring the partition of 'k'"}


class Producer:
    """What ``routed`` asks of the producer before routing: to track the topic's metadata."""

    def __init__(self) -> None:
        self.client = self

    def _ensure_producer(self) -> Producer:
        return self

    async def add_topic(self, topic: str) -> None:
        return None

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}


def worker(tmp_path: Path, *, owner: URL, rebalancing: bool) -> Any:
    router = SimpleNamespace(external_topic_key_store=lambda topic, key: owner)
    return SimpleNamespace(router=router, conf=SimpleNamespace(canonical_url=HERE), producer=Producer(),
                           rebalancing=rebalancing, http_client=None,
                           streams_settings=Settings(data_dir=tmp_path, read_wait_timeout_s=5))


def view_of(app: Any, served: list[float]) -> Any:
    """A routed GET that records, when served, what is left of the read's wait."""
    topic = SimpleNamespace(get_topic_name=lambda: "orders")

    @routed(app, topic, match_info="order_id")
    async def get(view: Any, request: Any, order_id: str) -> web.Response:
        served.append(wait_param(request, app.streams_settings.read_wait_timeout_s))
        return web.json_response({"order_id": order_id})

    return get


def read(path: str) -> web.Request:
    return make_mocked_request("GET", path, match_info={"order_id": "k"})


async def test_a_read_owned_here_is_served_when_restored_and_503_restoring_while_restoring(tmp_path: Path) -> None:
    served: list[float] = []
    ready = worker(tmp_path, owner=HERE, rebalancing=False)
    response = await view_of(ready, served)(None, read("/orders/k"), order_id="k")
    assert (response.status, served) == (200, [5.0])
    busy = worker(tmp_path, owner=HERE, rebalancing=True)
    with pytest.raises(RestoringError) as caught:
        await view_of(busy, served)(None, read("/orders/k"), order_id="k")
    assert "'k'" in caught.value.message
    assert "restoring" in caught.value.message
    assert served == [5.0]  # the handler, which would have answered 404, never ran


async def test_a_read_after_a_write_waits_across_the_restore_then_is_served_with_what_is_left_of_its_wait(
        tmp_path: Path) -> None:
    served: list[float] = []
    app = worker(tmp_path, owner=HERE, rebalancing=True)
    asyncio.get_running_loop().call_later(0.3, setattr, app, "rebalancing", False)
    request = read("/orders/k?after=0:3&wait=2")
    response = await view_of(app, served)(None, request, order_id="k")
    assert response.status == 200
    assert 0.3 <= request[WAITED_S] < 1.5
    assert served == [pytest.approx(2 - request[WAITED_S])]


async def test_a_read_after_a_write_answers_restoring_when_the_restore_outlasts_its_wait(tmp_path: Path) -> None:
    served: list[float] = []
    app = worker(tmp_path, owner=HERE, rebalancing=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RestoringError) as caught:
        await view_of(app, served)(None, read("/orders/k?after=0:3&wait=0.2"), order_id="k")
    assert 0.2 <= loop.time() - started < 1.0
    assert "within the read's wait of 0.2s" in caught.value.message
    assert served == []
