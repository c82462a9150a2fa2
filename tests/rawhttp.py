"""A raw HTTP/1.1 client over a socket, for requests httpx would refuse or fix (both tiers use it).

``json_error`` checks an answer is the project's JSON error shape with a given status.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "RawClient", "json_error"]


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
    host: str = "127.0.0.1"

    async def send(self, request: bytes) -> Answer:
        """Write ``request`` as it is; read the status, headers and a Content-Length body."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            return Answer(status, headers.get("content-type", ""), body)
        finally:
            writer.close()

    async def post(self, path: str, body: bytes, *headers: str) -> Answer:
        extra = "".join(f"{h}\r\n" for h in headers)
        return await self.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}"
                               "Connection: close\r\n\r\n".encode() + body)

    async def get(self, target: str, *headers: str, method: str = "GET") -> Answer:
        extra = "".join(f"{h}\r\n" for h in headers)
        return await self.send(f"{method} {target} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n".encode())


def json_error(answer: Answer, status: int) -> dict[str, Any]:
    """The answer's ``error`` object, after checking it is the JSON error shape with ``status``."""
    assert (answer.status, answer.content_type.split(";")[0]) == (status, "application/json"), answer
    error: dict[str, Any] = answer.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert "Traceback" not in answer.body.decode(errors="replace")
    return error
