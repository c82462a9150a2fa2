"""An aiohttp server on a loopback port, served as a worker serves it (JSON errors at every level).

No broker: the routes are stand-ins that read a JSON body or answer a GET; ``tests.rawhttp`` talks to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from streams.web.body import read_json
from streams.web.errors import error_middleware
from streams.web.protocol import JsonErrorAppRunner
from tests.rawhttp import RawClient


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await read_json(request)})


async def hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": request.match_info["name"]})


@pytest.fixture
async def server() -> AsyncIterator[RawClient]:
    app = web.Application(middlewares=[error_middleware])
    app.router.add_post("/echo", echo)
    app.router.add_get("/hello/{name}", hello)
    runner = JsonErrorAppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield RawClient(runner.addresses[0][1])
    finally:
        await runner.cleanup()
