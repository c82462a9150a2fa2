"""JSON errors for requests aiohttp rejects before any handler or middleware runs.

aiohttp's HTTP parser refuses a request line or header longer than its limit
(8190 bytes), a malformed request line, bad chunked framing and the like; its
``RequestHandler.handle_error`` then answers plain text.  ``JsonErrorAppRunner``
serves an application with a request handler whose ``handle_error`` answers the
project's JSON shape instead, with the same status (400 for what cannot be
parsed) and the limit when a line was too long.  A ``Content-Encoding`` aiohttp
cannot decode (``br``, ``zstd`` without their optional packages) is a 415 naming
those it can.  The connection is closed afterwards, as aiohttp does.  A
client's error is logged on one line, without a traceback; anything else is
logged as aiohttp logs it.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from streams.web.errors import error_body

__all__ = ["JsonErrorAppRunner"]

log = logging.getLogger(__name__)

CONTENT_ENCODINGS = ", ".join(["gzip", "deflate", *(["br"] if HAS_BROTLI else []), *(["zstd"] if HAS_ZSTD else []),
                               "identity"])
"""The request Content-Encodings aiohttp decodes here (``br`` and ``zstd`` need optional packages)."""


def protocol_error(status: int, exc: BaseException | None) -> tuple[int, dict[str, object]]:
    """The status and JSON body for a request aiohttp could not hand to a handler (or whose handler escaped)."""
    if isinstance(exc, ContentEncodingError):
        return 415, error_body("unsupported_media_type", f"the Content-Encoding cannot be decoded; "
                                                         f"supported: {CONTENT_ENCODINGS}")
    return status, _error_body(status, exc)


def _error_body(status: int, exc: BaseException | None) -> dict[str, object]:
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        where = f"the limit of {limit} bytes" if limit is not None else "the limit"
        extra = {"limit_bytes": limit} if limit is not None else {}
        return error_body("line_too_long", f"the request line (method, path and query) or a header is longer "
                                           f"than {where}", **extra)
    if isinstance(exc, HttpProcessingError) and 400 <= status < 500:
        detail = exc.message if len(exc.message) <= 200 else exc.message[:200] + "..."
        return error_body("bad_request", f"the request is not valid HTTP: {detail}")
    if status == 504:
        return error_body("timeout", "the request took too long")
    if 400 <= status < 500:
        return error_body("bad_request", "the request could not be read")
    return error_body("internal_error", "internal error; see the worker log")


class JsonErrorRequestHandler(RequestHandler):
    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        status, body = protocol_error(status, exc)
        if isinstance(exc, HttpProcessingError) and 400 <= status < 500:  # the client's mistake: no traceback
            log.info("refused a request from %s: %s %s", request.remote, status, body["error"])
            if request.writer.output_size > 0:  # as aiohttp's handle_error
                raise ConnectionError("Response is sent already, cannot send another response "
                                      "with the error message")
        else:
            super().handle_error(request, status, exc, message)  # logs it; raises if a response is under way
        response = web.Response(status=status, text=json.dumps(body), content_type="application/json")
        response.force_close()
        return response


class JsonErrorServer(web.Server):
    """aiohttp's low-level server, whose connections use ``JsonErrorRequestHandler``."""

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorAppRunner(web.AppRunner):
    """An ``AppRunner`` whose server answers unparseable requests with JSON errors."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return JsonErrorServer(server.request_handler, request_factory=server.request_factory,
                               handler_cancellation=server.handler_cancellation, loop=server._loop,
                               **server._kwargs)
