"""``GET /openapi.json``: the OpenAPI document of the worker's HTTP API, as the domain wrote it."""

from __future__ import annotations

import json
from importlib.resources.abc import Traversable
from typing import Any

from faust.web import Request, Response, View

__all__ = ["load_openapi", "register_openapi"]


def load_openapi(source: Traversable) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return document


def register_openapi(app: Any, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()

    @app.page("/openapi.json")
    class OpenApi(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(body, content_type="application/json")

    del OpenApi
