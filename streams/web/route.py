"""A request forwarded to the worker owning a key's partition, bounded, its failures named.

Faust's ``App.topic_route`` finds the owner with ``Router.external_topic_key_store``
(a ``KeyError`` while no owner is known) and forwards with ``Router._route_req``:
an aiohttp request on ``app.http_client`` with no bound of its own, whose errors
escape the view (500s) and whose answer loses its headers.  ``owner_of`` is
that lookup; ``forward`` is ``_route_req`` with a timeout, the owner's
``Retry-After`` kept, and an owner that cannot be reached (killed, hung,
connection refused or reset) raised as ``OwnerUnreachableError``.

A key this worker owns is not always one it can answer: from the moment a
rebalance starts until Faust has restored the read models' tables from their
changelogs, the stores are being emptied and refilled (every rebalance revokes
every partition: aiokafka's protocol is eager, and ``StateRecovery`` empties the
stores of every partition given up), so a key that exists would read as absent.
``decide`` answers such a read with ``RestoringError`` (503, ``Retry-After``)
instead of a 404; ``wait_restored`` lets a read that waits for a write
(``?after=``) wait across the restore instead.  Faust's public ``app.rebalancing``
says when: it is set as the consumer's rebalance listener is told partitions are
revoked and cleared by ``on_rebalance_end``, after recovery has applied every
active changelog partition and the streams are resumed.

Only Faust's public ``app.router``, ``app.http_client``, ``app.conf`` and
``app.rebalancing`` are used; the functions whose behaviour this replaces are
pinned in ``streams.recordpath.faust_internals.pins``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import aiohttp
from faust.web import Request, Response
from yarl import URL

from streams.errors import TransientError

__all__ = ["Decision", "NoOwnerError", "OwnerUnreachableError", "RestoringError", "decide", "forward", "owner_of",
           "restoring", "wait_restored"]

Decision = Literal["serve", "forward", "restoring"]

RESTORE_POLL_S = 0.05
"""How often a read waiting across a restore looks at ``app.rebalancing`` (Faust signals nothing when it clears it)."""


class NoOwnerError(TransientError):
    """No worker is known to own the key's partition: the group is rebalancing."""

    code = "rebalancing"


class OwnerUnreachableError(TransientError):
    """The worker owning the key's partition did not answer the forwarded request."""

    code = "owner_unreachable"

    def __init__(self, owner: str, reason: str, *, retry_after_s: int) -> None:
        super().__init__(f"the worker owning this key's partition, {owner}, cannot be reached ({reason}); "
                         "if it is gone, the group moves the partition to another worker after its session timeout",
                         hint="retry after the Retry-After delay")
        self.owner = owner
        self.retry_after_s = retry_after_s


class RestoringError(TransientError):
    """This worker owns the key's partition but is still restoring its read models from their changelogs."""

    code = "restoring"


def decide(owner: URL | None, restoring: bool) -> Decision:
    """What a read of a key does: ``owner`` is ``owner_of``'s answer (None: this worker owns the key's partition),
    ``restoring`` whether this worker's tables are being restored (``restoring(app)``).

    A key owned here is served only once restored: before, its store may be empty or half-filled, and a key that
    exists would answer 404.  A key owned elsewhere is forwarded whatever this worker is doing.
    """
    if owner is not None:
        return "forward"
    return "restoring" if restoring else "serve"


def restoring(app: Any) -> bool:
    """Whether a rebalance is under way on this worker: its tables are not all restored yet (see above)."""
    return bool(getattr(app, "rebalancing", False))


async def wait_restored(app: Any, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for the restore under way to end; whether it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while restoring(app):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(RESTORE_POLL_S, remaining))
    return True


def owner_of(app: Any, topic: Any, key: str) -> URL | None:
    """The web URL of the worker consuming ``key``'s partition of ``topic``; None when it is this worker."""
    try:
        owner: URL = app.router.external_topic_key_store(topic, key)
    except KeyError:
        raise NoOwnerError(f"no worker owns the partition of {key!r} of {topic.get_topic_name()!r} yet "
                      "(the consumer group is rebalancing)", hint="retry in a moment") from None
    if _ident(owner) == _ident(URL(str(app.conf.canonical_url))):
        return None
    return owner


async def forward(app: Any, web: Any, request: Request, owner: URL, *, timeout_s: float,
                  retry_after_s: int, wait_s: float | None = None) -> Response:
    """``request`` sent to ``owner`` and its answer, within ``timeout_s``; ``OwnerUnreachableError`` (saying
    ``retry_after_s``) if none came.  ``wait_s``: what is left of a read's ``?wait=``, which the owner is asked
    to wait instead of the whole of it."""
    host, port = _ident(owner)
    url = request.url.with_host(host).with_port(port)
    if wait_s is not None:
        url = url.update_query(wait=f"{wait_s:.3f}")
    try:
        async with app.http_client.request(method=request.method, headers=request.headers, url=url,
                                           timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            text = await response.text()
            kept = {"Retry-After": response.headers["Retry-After"]} if "Retry-After" in response.headers else None
            return web.text(text, content_type=response.content_type, status=response.status,  # type: ignore[no-any-return]
                            headers=kept)
    except TimeoutError:
        raise OwnerUnreachableError(f"{host}:{port}", f"no answer within {timeout_s:g} s",
                               retry_after_s=retry_after_s) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise OwnerUnreachableError(f"{host}:{port}", str(exc) or type(exc).__name__,
                               retry_after_s=retry_after_s) from exc


def _ident(url: URL) -> tuple[str, int]:
    """(host, port) as Faust's ``Router._urlident`` compares them."""
    return (url.host if url.scheme else url.path) or "", int(url.port or 80)
