"""``GET /openapi.json``: the OpenAPI document of the worker's HTTP API, as the domain wrote it."""

from __future__ import annotations

import json
from typing import Any

from faust.web import Request, Response, View

__all__ = ["register_openapi"]


def register_openapi(app: Any, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()

    @app.page("/openapi.json")
    class OpenApi(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(body, content_type="application/json")

    del OpenApi
