"""Requests aiohttp's parser rejects (before any handler or middleware) are answered with JSON errors."""

from __future__ import annotations

from tests.rawhttp import RawClient, json_error


async def test_a_path_longer_than_the_parser_takes_is_a_json_400_saying_the_limit(server: RawClient) -> None:
    error = json_error(await server.get("/hello/" + "a" * 20_000), 400)
    assert error["code"] == "line_too_long"
    assert error["limit_bytes"] == 8190
    assert "8190 bytes" in error["message"]


async def test_a_header_longer_than_the_parser_takes_is_a_json_400(server: RawClient) -> None:
    error = json_error(await server.get("/hello/x", "X-Big: " + "b" * 20_000), 400)
    assert error["code"] == "line_too_long"


async def test_a_request_line_that_is_not_http_is_a_json_400(server: RawClient) -> None:
    error = json_error(await server.send(b"HELLO THERE\r\n\r\n"), 400)
    assert error["code"] == "bad_request"
    assert "not valid HTTP" in error["message"]


async def test_bad_chunked_framing_is_a_json_400(server: RawClient) -> None:
    answer = await server.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert json_error(answer, 400)["code"] == "bad_request"


async def test_a_good_request_is_untouched(server: RawClient) -> None:
    answer = await server.get("/hello/you")
    assert (answer.status, answer.json()) == (200, {"hello": "you"})
