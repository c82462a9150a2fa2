"""A JSON body that cannot be read is a 4xx JSON error, whatever makes it unreadable (never a 500)."""

from __future__ import annotations

import gzip

import pytest

from tests.rawhttp import RawClient, json_error

JSON = "Content-Type: application/json"


async def test_deep_nesting_is_a_400_not_a_recursion_error(server: RawClient) -> None:
    error = json_error(await server.post("/echo", b'{"type": ' + b"[" * 100_000, JSON), 400)
    assert error["code"] == "bad_request"
    assert "depth limit" in error["message"]


async def test_a_body_that_is_not_what_its_content_encoding_says_is_a_400(server: RawClient) -> None:
    error = json_error(await server.post("/echo", b'{"a": 1}', JSON, "Content-Encoding: gzip"), 400)
    assert "gzip" in error["message"]


async def test_a_gzipped_body_is_read(server: RawClient) -> None:
    answer = await server.post("/echo", gzip.compress(b'{"a": 1}'), JSON, "Content-Encoding: gzip")
    assert (answer.status, answer.json()) == (200, {"got": {"a": 1}})


@pytest.mark.parametrize("charset", ["bogus-enc", "x" * 300, "punycode", "undefined", "rot13", "base64", "latin-1",
                                     "utf-7"])
async def test_a_charset_json_is_not_written_in_is_a_415_naming_those_it_is(server: RawClient, charset: str) -> None:
    error = json_error(await server.post("/echo", b'{"a": 1}', f"Content-Type: application/json; charset={charset}"),
                       415)
    assert error["code"] == "unsupported_media_type"
    assert "utf-8, utf-16, utf-32" in error["message"]


async def test_a_nul_in_the_charset_is_a_415(server: RawClient) -> None:
    """A raw NUL is refused by the parser (a 400); RFC 2231's percent-encoding gets one through to the charset."""
    answer = await server.post("/echo", b'{"a": 1}', "Content-Type: application/json; charset*=utf-8''utf%00")
    assert json_error(answer, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf-16", "utf-16-le", "utf-32-be"])
async def test_the_utf_charsets_are_read(server: RawClient, charset: str) -> None:
    answer = await server.post("/echo", '{"a": "é"}'.encode(charset),
                               f"Content-Type: application/json; charset={charset}")
    assert (answer.status, answer.json()) == (200, {"got": {"a": "é"}})


async def test_bytes_that_are_not_the_charset_are_a_400(server: RawClient) -> None:
    assert json_error(await server.post("/echo", b'{"a": "\xff"}', JSON), 400)["code"] == "bad_request"


@pytest.mark.parametrize("encoding", ["br", "zstd"])
async def test_a_content_encoding_the_server_cannot_decode_is_a_415_naming_those_it_can(
        server: RawClient, encoding: str, caplog: pytest.LogCaptureFixture) -> None:
    error = json_error(await server.post("/echo", b"hello", JSON, f"Content-Encoding: {encoding}"), 415)
    assert error["code"] == "unsupported_media_type"
    assert "supported: gzip, deflate, identity" in error["message"]
    assert "install" not in error["message"]
    assert not [record for record in caplog.records if record.exc_info], "a client's error logged a traceback"


async def test_too_large_a_body_is_a_413_that_says_the_limit(server: RawClient) -> None:
    error = json_error(await server.post("/echo", b"[" + b"1," * 600_000 + b"1]", JSON), 413)
    assert error["code"] == "payload_too_large"
    assert error["limit_bytes"] == 1024**2
    assert "1048576 bytes" in error["message"]


async def test_not_json_is_a_400(server: RawClient) -> None:
    assert json_error(await server.post("/echo", b"{not json", JSON), 400)["code"] == "bad_request"
