"""A circuit breaker for an agent's dependencies (schema registry, downstream services).

Each record gets its own in-place retries (``streams.retry``).  An error that
says it is transient (``retriable``) is a dependency's, never the record's: when
a record runs out of retries, the breaker opens, the agent pauses its
partitions and holds the record in hand (neither applied nor dead-lettered, so
its offset is not committed).  A transient error never dead-letters a record.
After ``open_s`` it half-opens and probes with that record: success closes it
and the partitions resume; failure opens it again for twice as long, up to
``max_open_s``.  ``waiting_for`` says what it waits for (the last error), for
``/health``.

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
    open_s: float = 1.0  # first wait before a probe
    max_open_s: float = 30.0  # the wait doubles after each failed probe, up to this


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self.state = BreakerState.CLOSED
        self.waiting_for: str | None = None
        self._open_s = self.policy.open_s

    def record_success(self) -> None:
        """A record went through: the dependency answers."""
        self.state = BreakerState.CLOSED
        self.waiting_for = None
        self._open_s = self.policy.open_s

    def open(self, error: str) -> None:
        """A record ran out of retries on a transient error: hold it, pause, probe."""
        self.state = BreakerState.OPEN
        self.waiting_for = error

    def next_wait(self) -> float:
        """How long to stay open before the next probe."""
        return self._open_s

    def half_open(self) -> None:
        self.state = BreakerState.HALF_OPEN

    def probe_failed(self, error: str) -> None:
        self.state = BreakerState.OPEN
        self.waiting_for = error
        self._open_s = min(self._open_s * 2, self.policy.max_open_s)
