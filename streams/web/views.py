"""Shared pieces for JSON read-model views: error shape, ``?after=`` and ``?wait=`` parsing."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, cast

from aiohttp import web
from faust.web import Request, Response, View
from faust.web.exceptions import WebError

from streams.errors import BadRequestError, TransientError
from streams.position import parse_after
from streams.web.errors import RETRY_AFTER_S, error_body
from streams.web.route import (
    NoOwnerError,
    OwnerUnreachableError,
    RestoringError,
    decide,
    forward,
    owner_of,
    restoring,
    wait_restored,
)

__all__ = ["JsonView", "after_param", "forward_timeout_s", "routed", "wait_param"]

Handler = Callable[..., Awaitable[Response]]

MAX_WAIT_S = 30.0

OWNER_POLL_S = 0.25
"""How often a read waiting for a write (``?after=``) looks again for an owner that is not known or did not answer."""

WAITED_S = web.RequestKey("streams.waited_s", float)
"""Key, in the request's mapping, of the seconds ``routed`` already waited (for a restore) out of its ``?wait=``."""


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
    """``?wait=`` (else ``default``) less what ``routed`` already waited of it: one bound for the whole read."""
    value = request.query.get("wait")
    if value is None:
        seconds = default
    else:
        try:
            seconds = float(value)
        except ValueError:
            raise BadRequestError(f"wait={value[:40]!r} is not a number of seconds") from None
        if not 0 < seconds <= MAX_WAIT_S:
            raise BadRequestError(f"wait must be in (0, {MAX_WAIT_S:g}] seconds, got {value[:40]}")
    waited = request.get(WAITED_S, 0.0) if isinstance(request, web.Request) else 0.0
    return max(seconds - waited, 0.0)


def routed(app: Any, topic: Any, *, match_info: str | None = None,
           exact_key: str | None = None) -> Callable[[Handler], Handler]:
    """Run the view on the worker that consumes the key's partition of ``topic`` (as Faust's ``topic_route``).

    Routing by the source topic rather than by the table's changelog keeps the
    answer with the worker that applies the key's events, active partitions only.
    The forward is bounded by ``forward_timeout_s``; an owner that cannot be
    reached, or none known (a rebalance), answers 503 with ``Retry-After``.  A key
    owned here while the tables are being restored (``streams.web.route.decide``)
    answers 503 ``restoring``, not a 404 for a key not restored yet; a read that
    waits for a write (``?after=``) waits for the restore instead, within its
    ``?wait=`` (what it waited is taken off the wait for the write), and looks
    again for an owner not known or not answering until one answers or its wait
    runs out (``_look_again``).
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
            loop = asyncio.get_running_loop()
            started = loop.time()
            while True:
                try:
                    owner = owner_of(app, topic, key)
                    decision = decide(owner, restoring(app))
                    if decision == "serve":
                        return await handler(view, request, *args, **kwargs)
                    if decision == "forward":
                        assert owner is not None
                        left = (max(wait_param(request, settings.read_wait_timeout_s), 0.001)
                                if "after" in request.query else None)
                        return await forward(app, view.web, request, owner,
                                             timeout_s=forward_timeout_s(request, settings),
                                             retry_after_s=math.ceil(settings.session_timeout_s), wait_s=left)
                except (NoOwnerError, OwnerUnreachableError):
                    if not await _look_again(request, settings, started):
                        raise
                    continue
                what = (f"this worker was just assigned the partition of {key!r} of {name!r} and is restoring "
                        "its read models from their changelogs")
                if "after" not in request.query:
                    raise RestoringError(what, hint="retry after the Retry-After delay")
                wait = wait_param(request, settings.read_wait_timeout_s)
                restored = await wait_restored(app, wait)
                if isinstance(request, web.Request):
                    request[WAITED_S] = loop.time() - started
                if not restored:
                    raise RestoringError(f"{what}; the restore did not end within the read's wait of {wait:g}s",
                                         hint="retry after the Retry-After delay")

        return get

    return decorate


async def _look_again(request: Request, settings: Any, started: float) -> bool:
    """Whether a read that found no owner, or an owner that did not answer, looks for it again: one that waits for
    a write (``?after=``), while its wait lasts (the group moves a dead worker's partitions, a rebalance ends), after
    a pause taken off its wait; any other read answers 503 at once."""
    if "after" not in request.query or not isinstance(request, web.Request):
        return False
    loop = asyncio.get_running_loop()
    request[WAITED_S] = loop.time() - started
    if wait_param(request, settings.read_wait_timeout_s) <= OWNER_POLL_S:
        return False
    await asyncio.sleep(OWNER_POLL_S)
    request[WAITED_S] = loop.time() - started
    return True


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
