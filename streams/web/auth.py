"""Bearer-token check for mutating HTTP calls (STREAMS_API_TOKEN); the token is never logged."""

from __future__ import annotations

import hmac

from pydantic import SecretStr

from streams.errors import StreamsError

__all__ = ["UnauthorizedError", "check_bearer"]


class UnauthorizedError(StreamsError):
    dead_letter = False
    http_status = 401
    code = "unauthorized"


def check_bearer(authorization: str | None, token: SecretStr | None) -> None:
    """Pass when no token is configured or the header carries it; 401 otherwise."""
    if token is None:
        return
    scheme, _, given = (authorization or "").strip().partition(" ")
    # surrogateescape: a header of bytes that are not UTF-8 (aiohttp keeps them as surrogates) is a wrong token,
    # not an encoding error (a 500)
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"),
                                                             token.get_secret_value().encode()):
        raise UnauthorizedError("missing or wrong bearer token",
                                hint="send Authorization: Bearer <STREAMS_API_TOKEN>")
