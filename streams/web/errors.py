"""JSON errors for every HTTP answer that is not a success.

Bodies are ``{"error": {"code": ..., "message": ...}}`` (README.md, "Reading the read models").  The
middleware turns aiohttp's own 404/405/413 (saying the size limit) and any
``StreamsError`` into that shape, and an unexpected exception into a 500 with
no stack trace in the body (the trace goes to the log only).  Requests aiohttp
cannot parse never reach a middleware: ``streams.web.protocol`` answers those.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from streams.errors import StreamsError

__all__ = ["RETRY_AFTER_S", "error_body", "error_middleware", "install_error_middleware", "json_error"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RETRY_AFTER_S = 1
"""``Retry-After`` of a 503 that names no delay of its own (an error with ``retry_after_s`` does)."""

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "payload_too_large", 414: "uri_too_long", 415: "unsupported_media_type",
    431: "header_fields_too_large",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return {"error": error}


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(error_body(code, message, **extra)),
        content_type="application/json",
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StreamsError as exc:
        extra = {"details": exc.details} if exc.details else {}
        response = json_error(exc.http_status, exc.code, exc.message, **extra)
        if exc.http_status == 503:  # worth retrying: say when
            response.headers["Retry-After"] = str(getattr(exc, "retry_after_s", RETRY_AFTER_S))
        return response
    except web.HTTPRequestEntityTooLarge:
        limit = request.client_max_size
        return json_error(413, _HTTP_CODES[413], f"the body is larger than the limit of {limit} bytes",
                          limit_bytes=limit)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return json_error(exc.status, code, exc.reason or code)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal_error", "internal error; see the worker log")


def install_error_middleware(app: Any) -> None:
    """JSON errors for every request that reaches a handler of a Faust app's web server.

    What aiohttp's parser rejects before that is answered by the server's runner, which
    ``streams.app.build_app`` replaces (``streams.web.protocol``).
    """
    web_app: web.Application = app.web.web_app
    web_app.middlewares.append(error_middleware)
