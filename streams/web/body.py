"""Reading a JSON request body so that no body, however hostile, gets more than a 4xx.

aiohttp's ``request.json()`` lets through what a client can provoke: a
``LookupError`` for an unknown charset, a decoding error for a body that is not
what its ``Content-Encoding`` says, a ``RecursionError`` for deeply nested
arrays.  ``read_json`` reads the bytes itself and answers each as a JSON error:
400 for a body that cannot be read, 415 for a charset Python does not know.
A body over the size limit stays aiohttp's 413 (the error middleware says the
limit).  JSON is parsed by orjson, which refuses nesting deeper than 1024
levels with an error of its own rather than by exhausting the stack.
"""

from __future__ import annotations

import codecs
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from streams.errors import BadRequestError, StreamsError

__all__ = ["UnsupportedMediaTypeError", "read_json"]


class UnsupportedMediaTypeError(StreamsError):
    dead_letter = False
    http_status = 415
    code = "unsupported_media_type"


async def read_json(request: web.BaseRequest) -> Any:
    """The request's body parsed as JSON, or a ``StreamsError`` with a 4xx status saying what is wrong."""
    charset = request.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise UnsupportedMediaTypeError(f"charset={charset[:40]!r} is not a known character encoding",
                                        hint="send UTF-8 JSON: Content-Type: application/json") from None
    try:
        raw = await request.read()
    except web.HTTPException:
        raise  # 413: the error middleware answers it with the limit
    except (web.RequestPayloadError, HttpProcessingError, ValueError, EOFError) as exc:  # aiohttp's, zlib's
        encoding = request.headers.get("Content-Encoding", "identity")
        raise BadRequestError(f"the body could not be read (Content-Encoding: {encoding[:40]}): "
                              f"{_short(exc)}") from None
    try:
        text = raw.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:  # a codec that is not a text encoding (e.g. base64)
        raise BadRequestError(f"the body is not {charset[:40]} text: {_short(exc)}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"the body cannot be read as JSON: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."
