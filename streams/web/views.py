"""Shared pieces for JSON read-model views: error shape, ``?after=`` and ``?wait=`` parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, cast

from faust.web import Request, Response, View
from faust.web.exceptions import WebError

from streams.errors import BadRequestError, TransientError
from streams.position import parse_after
from streams.web.errors import error_body

__all__ = ["JsonView", "after_param", "routed", "wait_param"]

Handler = Callable[..., Awaitable[Response]]

MAX_WAIT_S = 30.0


class JsonView(View):
    """A Faust view whose Faust-raised errors (routing, 503 during rebalance) use our JSON shape."""

    async def on_request_error(self, request: Request, exc: WebError) -> Response:
        code = {503: "unavailable", 404: "not_found", 400: "bad_request"}.get(exc.code, "http_error")
        return self.json(error_body(code, str(exc.detail)), status=exc.code)

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
    """Run the view on the worker that consumes the key's partition of ``topic`` (Faust's ``topic_route``).

    Routing by the source topic rather than by the table's changelog keeps the
    answer with the worker that applies the key's events, active partitions only.
    """
    faust_route = cast(Callable[[Handler], Handler],
                       app.topic_route(topic=topic, match_info=match_info, exact_key=exact_key))
    name = topic.get_topic_name()

    def decorate(handler: Handler) -> Handler:
        route = faust_route(handler)

        @wraps(handler)
        async def get(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            await _track_topic(app, name)
            return await route(view, request, *args, **kwargs)

        return get

    return decorate


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
