"""Shared pieces for JSON read-model views: error shape, ``?after=`` and ``?wait=`` parsing."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, cast

from faust.web import Request, Response, View
from faust.web.exceptions import WebError

from streams.errors import BadRequestError, TransientError
from streams.position import parse_after
from streams.web.errors import RETRY_AFTER_S, error_body
from streams.web.route import forward, owner_of

__all__ = ["JsonView", "after_param", "forward_timeout_s", "routed", "wait_param"]

Handler = Callable[..., Awaitable[Response]]

MAX_WAIT_S = 30.0


class JsonView(View):
    """A Faust view whose Faust-raised errors (routing, 503 during rebalance) use our JSON shape."""

    async def on_request_error(self, request: Request, exc: WebError) -> Response:
        code = {503: "unavailable", 404: "not_found", 400: "bad_request"}.get(exc.code, "http_error")
        headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.code == 503 else None
        return self.json(error_body(code, str(exc.detail)), status=exc.code, headers=headers)

    def ok(self, body: Any) -> Response:
        return self.json(body)


def after_param(request: Request, partitions: int) -> tuple[int, int] | None:
    """``?after=<partition>:<offset>`` of a topic of ``partitions`` partitions, or None; 400 if impossible."""
    value = request.query.get("after")
    return parse_after(value, partitions) if value is not None else None


def wait_param(request: Request, default: float) -> float:
    value = request.query.get("wait")
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise BadRequestError(f"wait={value[:40]!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_WAIT_S:
        raise BadRequestError(f"wait must be in (0, {MAX_WAIT_S:g}] seconds, got {value[:40]}")
    return seconds


def routed(app: Any, topic: Any, *, match_info: str | None = None,
           exact_key: str | None = None) -> Callable[[Handler], Handler]:
    """Run the view on the worker that consumes the key's partition of ``topic`` (as Faust's ``topic_route``).

    Routing by the source topic rather than by the table's changelog keeps the
    answer with the worker that applies the key's events, active partitions only.
    The forward is bounded by ``forward_timeout_s``; an owner that cannot be
    reached, or none known (a rebalance), answers 503 with ``Retry-After``.
    """
    if (match_info is None) == (exact_key is None):
        raise TypeError("routed() needs exactly one of match_info and exact_key")
    name = topic.get_topic_name()
    settings = app.streams_settings

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def get(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = exact_key if exact_key is not None else request.match_info[cast(str, match_info)]
            await _track_topic(app, name)
            owner = owner_of(app, topic, key)
            if owner is None:
                return await handler(view, request, *args, **kwargs)
            return await forward(app, view.web, request, owner, timeout_s=forward_timeout_s(request, settings),
                                 retry_after_s=math.ceil(settings.session_timeout_s))

        return get

    return decorate


def forward_timeout_s(request: Request, settings: Any) -> float:
    """How long a forwarded read may take: STREAMS_READ_WAIT_TIMEOUT_S, plus the read's own ``?wait=``
    when it waits for a write (``?after=``), so that the owner's 504 comes before the forward's bound."""
    base: float = settings.read_wait_timeout_s
    if "after" not in request.query:
        return base
    return base + wait_param(request, base)


async def _track_topic(app: Any, topic: str) -> None:
    """Make the worker's producer track ``topic``'s metadata before Faust hashes a key onto it.

    Faust finds a key's partition with its producer's metadata, and aiokafka's
    producer only keeps metadata of the topics it sends to: for a source topic
    it never writes, a metadata refresh can drop the topic, and the routing
    then fails with a TypeError (a 500).  ``add_topic`` keeps the topic in the
    tracked set (at once when it already is); ``partitions_for`` waits for its
    metadata when a refresh is under way.
    """
    try:
        producer = app.producer._ensure_producer()  # the aiokafka producer behind Faust's
        await producer.client.add_topic(topic)
        await producer.partitions_for(topic)
    except Exception as exc:  # not started yet, broker away: the client may retry
        raise TransientError(f"cannot route the request yet: no metadata for topic {topic!r} ({exc})",
                             hint="retry in a moment") from exc
