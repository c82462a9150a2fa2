"""An aiohttp server on a loopback port, served as a worker serves it (JSON errors at every level), and a raw client.

No broker: the routes are stand-ins that read a JSON body or answer a GET.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from streams.web.body import read_json
from streams.web.errors import error_middleware
from streams.web.protocol import JsonErrorAppRunner


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RawClient:
    port: int

    async def send(self, request: bytes) -> Answer:
        """Write ``request`` as it is, read the answer until the server closes or the body is complete."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length)
            return Answer(status, headers.get("content-type", ""), body)
        finally:
            writer.close()

    async def post(self, path: str, body: bytes, *headers: str) -> Answer:
        extra = "".join(f"{h}\r\n" for h in headers)
        return await self.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}"
                               "Connection: close\r\n\r\n".encode() + body)

    async def get(self, target: str, *headers: str) -> Answer:
        extra = "".join(f"{h}\r\n" for h in headers)
        return await self.send(f"GET {target} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n".encode())


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
    port = runner.addresses[0][1]
    try:
        yield RawClient(port)
    finally:
        await runner.cleanup()


def json_error(answer: Answer, status: int) -> dict[str, Any]:
    """The answer's ``error`` object, after checking it is the JSON error shape with ``status``."""
    assert (answer.status, answer.content_type.split(";")[0]) == (status, "application/json"), answer
    error: dict[str, Any] = answer.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert "Traceback" not in answer.body.decode(errors="replace")
    return error
