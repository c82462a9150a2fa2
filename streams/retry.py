"""Retries with exponential backoff and full jitter, for errors that say they are retriable."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from streams.errors import StreamsError

__all__ = ["RetryPolicy", "retry_async"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, ceiling)


async def retry_async(fn: Callable[[], Awaitable[T]], policy: RetryPolicy,
                      on_retry: Callable[[int, StreamsError], None] | None = None,
                      *, failed: StreamsError | None = None) -> tuple[T, int]:
    """Run ``fn``; retry it while it raises a retriable ``StreamsError``. Returns (result, attempts).

    ``failed``: the retriable error of a first attempt the caller already made itself (so its
    common, successful case pays nothing for this machinery); it counts as attempt 1.
    The last error (retriable or not) propagates with ``attempts`` set on it.
    """
    attempt = 1
    if failed is not None:
        failed.attempts = 1
        if attempt >= policy.max_attempts:
            raise failed
        if on_retry is not None:
            on_retry(attempt, failed)
        await asyncio.sleep(policy.delay(attempt))
        attempt = 2
    while True:
        try:
            return await fn(), attempt
        except StreamsError as exc:
            exc.attempts = attempt
            if not exc.retriable or attempt >= policy.max_attempts:
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            await asyncio.sleep(policy.delay(attempt))
            attempt += 1
