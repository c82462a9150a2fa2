"""Read-your-writes: how far each partition has been applied, and waiting for an offset.

Agents call ``advance`` after a record's effects are in the table; HTTP views
call ``wait_for`` with the ``partition:offset`` a client got from its write and
answer once that offset is applied, or 504 when the bound runs out.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from streams.errors import TimeoutError_

__all__ = ["Watermarks"]


class Watermarks:
    """Per ``(topic, partition)``: the highest offset whose effects are applied in this worker."""

    def __init__(self) -> None:
        self._applied: dict[tuple[str, int], int] = {}
        self._waiters: dict[tuple[str, int], list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)

    def applied(self, topic: str, partition: int) -> int:
        """The last applied offset, -1 when none is known."""
        return self._applied.get((topic, partition), -1)

    def snapshot(self) -> dict[str, int]:
        return {f"{topic}:{partition}": offset for (topic, partition), offset in sorted(self._applied.items())}

    def advance(self, topic: str, partition: int, offset: int) -> None:
        key = (topic, partition)
        if offset <= self._applied.get(key, -1):
            return
        self._applied[key] = offset
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

    async def wait_for(self, topic: str, partition: int, offset: int, timeout: float) -> None:
        """Return once ``offset`` is applied; raise ``TimeoutError_`` (HTTP 504) after ``timeout``."""
        key = (topic, partition)
        if self._applied.get(key, -1) >= offset:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[key].append((offset, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError_(
                f"offset {offset} of {topic}[{partition}] was not applied within {timeout:g}s "
                f"(applied: {self.applied(topic, partition)})",
                hint="retry later, or ask with a larger wait=",
            ) from None
        finally:
            self._waiters[key] = [w for w in self._waiters[key] if w[1] is not future]
