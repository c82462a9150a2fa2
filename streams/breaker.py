"""A circuit breaker for an agent's dependencies (schema registry, downstream services).

Each record gets its own in-place retries (``streams.retry``).  A record whose
retries run out while the breaker is closed is dead-lettered: the failure may
be its own.  When ``threshold`` records in a row run out of retries, the
failure is the dependency's: the breaker opens, the agent pauses its
partitions and holds the record in hand (neither applied nor dead-lettered, so
its offset is not committed) instead of flooding the dead-letter topic.  After
``open_s`` it half-opens and probes with that record: success closes it and
the partitions resume; failure opens it again for twice as long, up to
``max_open_s``.

Pure state plus a clock; the waiting and pausing are the processor's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["BreakerPolicy", "BreakerState", "CircuitBreaker"]


class BreakerState(enum.IntEnum):
    """The number is the ``streams_breaker_state`` metric value."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass(frozen=True)
class BreakerPolicy:
    threshold: int = 2  # records in a row whose retries ran out before the breaker opens
    open_s: float = 1.0  # first wait before a probe
    max_open_s: float = 30.0  # the wait doubles after each failed probe, up to this


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self.state = BreakerState.CLOSED
        self._exhausted = 0
        self._open_s = self.policy.open_s

    def record_success(self) -> None:
        """A record went through: the dependency answers."""
        self.state = BreakerState.CLOSED
        self._exhausted = 0
        self._open_s = self.policy.open_s

    def record_exhausted(self) -> bool:
        """A record ran out of retries; ``True`` when that opened the breaker (hold the record, don't dead-letter)."""
        self._exhausted += 1
        if self._exhausted >= self.policy.threshold:
            self.state = BreakerState.OPEN
            return True
        return False

    def next_wait(self) -> float:
        """How long to stay open before the next probe."""
        return self._open_s

    def half_open(self) -> None:
        self.state = BreakerState.HALF_OPEN

    def probe_failed(self) -> None:
        self.state = BreakerState.OPEN
        self._open_s = min(self._open_s * 2, self.policy.max_open_s)
