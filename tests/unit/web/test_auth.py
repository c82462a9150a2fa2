"""The bearer token of mutating calls: only the exact token passes; anything else, however malformed, is a 401."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from streams.web.auth import UnauthorizedError, check_bearer

TOKEN = SecretStr("s3cret-token")


@pytest.mark.parametrize("header", ["Bearer s3cret-token", "bearer s3cret-token", "  Bearer   s3cret-token  "])
def test_the_token_passes(header: str) -> None:
    check_bearer(header, TOKEN)


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "s3cret-token", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token2",
    "Bearer \udcff\udcfe",  # bytes that are not UTF-8, as aiohttp keeps them (surrogates)
    "Bearer " + "x" * 100_000, "Bearer s3cret-token\x00",
])
def test_anything_else_is_unauthorized_never_another_error(header: str | None) -> None:
    with pytest.raises(UnauthorizedError) as raised:
        check_bearer(header, TOKEN)
    assert raised.value.http_status == 401
    assert "s3cret" not in raised.value.one_line()


def test_without_a_token_configured_every_call_passes() -> None:
    check_bearer("Bearer \udcff", None)
    check_bearer(None, None)
