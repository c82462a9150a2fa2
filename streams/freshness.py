"""Read-your-writes: how far each partition has been applied, and waiting for an offset.

Agents call ``advance`` after a record's effects are in the table; HTTP views
call ``wait_for`` with the ``partition:offset`` a client got from its write and
answer once that offset is applied, or 504 when the bound runs out.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from streams.errors import DeadlineError

log = logging.getLogger(__name__)

__all__ = ["Watermarks", "seed_watermarks"]


class Watermarks:
    """Per ``(topic, partition)``: the highest offset whose effects are applied in this worker."""

    def __init__(self) -> None:
        self._applied: dict[tuple[str, int], int] = {}
        self._waiters: dict[tuple[str, int], list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)
        self._changed: asyncio.Event | None = None

    def applied(self, topic: str, partition: int) -> int:
        """The last applied offset, -1 when none is known."""
        return self._applied.get((topic, partition), -1)

    def waiting(self, topic: str, partition: int) -> list[int]:
        """The offsets reads wait for on ``(topic, partition)`` (``?after=``), in the order they came."""
        return [wanted for wanted, future in self._waiters.get((topic, partition), ()) if not future.done()]

    def notify(self) -> None:
        """Wake every ``until`` waiter to re-check its condition (something was applied)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def advance(self, topic: str, partition: int, offset: int) -> None:
        key = (topic, partition)
        if offset <= self._applied.get(key, -1):
            return
        self._applied[key] = offset
        self.notify()
        waiters = self._waiters.get(key)
        if not waiters:
            return
        still = []
        for wanted, future in waiters:
            if wanted <= offset:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((wanted, future))
        self._waiters[key] = still

    async def until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Return once ``predicate()`` holds, re-checking after every advance; 504 after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DeadlineError(f"{what} was not applied within {timeout:g}s",
                                    hint="retry later, or ask with a larger wait=")
            if self._changed is None:
                self._changed = asyncio.Event()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for(self, topic: str, partition: int, offset: int, timeout: float) -> None:
        """Return once ``offset`` is applied; raise ``DeadlineError`` (HTTP 504) after ``timeout``."""
        key = (topic, partition)
        if self._applied.get(key, -1) >= offset:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[key].append((offset, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DeadlineError(
                f"offset {offset} of {topic}[{partition}] was not applied within {timeout:g}s "
                f"(applied: {self.applied(topic, partition)})",
                hint="retry later, or ask with a larger wait=",
            ) from None
        finally:
            self._waiters[key] = [w for w in self._waiters[key] if w[1] is not future]


def seed_watermarks(app: Any, marks: Watermarks, *more: Callable[[str, int, int], None]) -> None:
    """On every assignment, mark what the group committed as applied.

    Everything below a committed offset was applied before this worker got the
    partition (offsets are committed only after their effects are flushed), so
    a client asking ``after=`` an offset from before a restart is answered at once.
    ``more``: other callbacks ``(topic, partition, committed offset)`` (rebuild switches).
    """

    async def seed(assigned: Any) -> None:
        for attempt in range(5):  # the group may still be settling right after the assignment
            try:
                committed = await app.committed_offsets(assigned)
            except Exception:  # noqa: BLE001 - best effort: waits still resolve as records are applied
                await asyncio.sleep(1.0 + attempt)
                continue
            for (topic, partition), offset in committed.items():
                marks.advance(topic, partition, offset - 1)
                for callback in more:
                    callback(topic, partition, offset)
            return
        log.warning("could not read committed offsets to seed read-your-writes marks")

    async def on_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        # Never block the rebalance on an admin request: seed in the background.
        app.add_future(seed(set(assigned)))

    app.on_partitions_assigned.connect(on_assigned)
