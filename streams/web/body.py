"""Reading a JSON request body so that no body, however hostile, gets more than a 4xx.

aiohttp's ``request.json()`` lets through what a client can provoke: a
``LookupError`` for an unknown charset (a ``ValueError`` for one with a NUL, a
``UnicodeError`` from codecs such as ``punycode``), a decoding error for a body
that is not what its ``Content-Encoding`` says, a ``RecursionError`` for deeply
nested arrays.  ``read_json`` reads the bytes itself and answers each as a JSON
error: 415 for a charset JSON is not written in (RFC 8259: UTF-8; UTF-16 and
UTF-32 are read too), 400 for a body that cannot be read.
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

__all__ = ["JSON_CHARSETS", "UnsupportedMediaTypeError", "read_json"]

JSON_CHARSETS = frozenset({"utf-8", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be", "utf-32-le"})
"""The charsets a JSON body may name, as ``codecs.lookup(charset).name`` spells them."""


class UnsupportedMediaTypeError(StreamsError):
    dead_letter = False
    http_status = 415
    code = "unsupported_media_type"


async def read_json(request: web.BaseRequest) -> Any:
    """The request's body parsed as JSON, or a ``StreamsError`` with a 4xx status saying what is wrong."""
    charset = _json_charset(request.charset or "utf-8")
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
    except (UnicodeError, LookupError) as exc:
        raise BadRequestError(f"the body is not {charset[:40]} text: {_short(exc)}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"the body cannot be read as JSON: {_short(exc)}") from None


def _json_charset(charset: str) -> str:
    """The codec's name when ``charset`` is one JSON may be written in; a 415 naming those otherwise."""
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):  # unknown; a NUL in the name
        name = ""
    if name not in JSON_CHARSETS:
        raise UnsupportedMediaTypeError(f"charset={charset[:40]!r} is not one JSON is read in; "
                                        "supported: utf-8, utf-16, utf-32",
                                        hint="send UTF-8 JSON: Content-Type: application/json")
    return name


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."
