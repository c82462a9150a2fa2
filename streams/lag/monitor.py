"""The lag monitor a worker runs: sample, evaluate, export, remember.

Every ``interval_s`` (in a thread: the admin calls block) it samples the
app's consumer group and any named in STREAMS_LAG_GROUPS, evaluates Burrow's
rules over the last ``window`` samples, sets the Prometheus gauges, counts
dead letters by reason from the dead-letter topics, and keeps a short history
for the dashboard.  ``snapshot()`` is what GET /api/lag answers; it is
replaced whole after each sample, so a reader never sees half of one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from streams.dlq.tally import DeadLetterTally
from streams.errors import StreamsError
from streams.lag.evaluate import Evaluator
from streams.lag.metrics import LagGauges
from streams.lag.model import GroupLag

__all__ = ["LagMonitor", "Sampler", "throughput"]

log = logging.getLogger(__name__)

HISTORY = 120


class Sampler(Protocol):
    """``LagSampler``, or ``IsolatedSampler`` (the same in a child process: what a worker uses)."""

    def sample(self, groups: Iterable[str], *, seconds: bool = True) -> list[GroupLag]: ...

    def close(self) -> None: ...


def throughput(before: GroupLag | None, after: GroupLag) -> dict[str, float]:
    """Records consumed (committed offsets) and produced (log-end offsets) per second between two samples."""
    if before is None or not after.partitions or not before.partitions:
        return {"consumed_per_s": 0.0, "produced_per_s": 0.0}
    earlier = {(p.topic, p.partition): p for p in before.partitions}
    consumed = produced = 0
    elapsed = after.partitions[0].sampled_at - before.partitions[0].sampled_at
    for p in after.partitions:
        old = earlier.get((p.topic, p.partition))
        if old is None:
            continue
        if p.committed is not None and old.committed is not None:
            consumed += max(p.committed - old.committed, 0)
        produced += max(p.log_end - old.log_end, 0)
    if elapsed <= 0:
        return {"consumed_per_s": 0.0, "produced_per_s": 0.0}
    return {"consumed_per_s": round(consumed / elapsed, 2), "produced_per_s": round(produced / elapsed, 2)}


class LagMonitor:
    def __init__(self, sampler: Sampler, gauges: LagGauges, *, groups: Sequence[str],
                 tally: DeadLetterTally | None = None, interval_s: float = 5.0, window: int = 10) -> None:
        self.sampler = sampler
        self.gauges = gauges
        self.groups = list(dict.fromkeys(groups))
        self.tally = tally
        self.interval_s = interval_s
        self.evaluator = Evaluator(size=window)
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._last: dict[str, GroupLag] = {}
        self._dead_letters: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # one sample at a time; close() waits for the one under way
        self._snapshot: dict[str, Any] = self._body([], None, [], error=None)

    def snapshot(self) -> dict[str, Any]:
        return self._snapshot

    async def run(self) -> None:
        """Sample forever (until cancelled with the worker)."""
        while True:
            try:
                await asyncio.to_thread(self.sample_once)
            except Exception as exc:  # noqa: BLE001 - the monitor must outlive a broker hiccup; it says so
                message = exc.message if isinstance(exc, StreamsError) else f"{type(exc).__name__}: {exc}"
                log.warning("lag sample failed: %s", message)
                self._snapshot = {**self._snapshot, "error": message}
            await asyncio.sleep(self.interval_s)

    def sample_once(self) -> None:
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        groups = self.evaluator.observe(self.sampler.sample(self.groups))
        self.gauges.update(groups)
        error = None
        if self.tally is not None:
            try:
                self._dead_letters = self.tally.refresh()
            except StreamsError as exc:  # the lag is still good: keep it, and the last counts, and say so
                error = f"dead letters not counted: {exc.message}"
        now = time.time()
        point: dict[str, Any] = {"t": round(now, 3), "lag": {}, "lag_seconds": {}}
        for group in groups:
            for p in group.partitions:
                key = f"{p.group}|{p.topic}|{p.partition}"
                point["lag"][key] = p.lag
                point["lag_seconds"][key] = p.lag_seconds
        self._history.append(point)
        rates = {g.group: throughput(self._last.get(g.group), g) for g in groups}
        self._last = {g.group: g for g in groups}
        self._snapshot = self._body(groups, now, self._dead_letters, error=error, rates=rates)

    def _body(self, groups: list[GroupLag], sampled_at: float | None, dead_letters: list[dict[str, Any]], *,
              error: str | None, rates: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
        rates = rates or {}
        return {
            "sampled_at": round(sampled_at, 3) if sampled_at is not None else None,
            "interval_s": self.interval_s,
            "window": self.evaluator.size,
            "error": error,
            "groups": [{**g.to_json(), "throughput": rates.get(g.group, throughput(None, g))} for g in groups],
            "history": list(self._history),
            "dead_letters": dead_letters,
        }

    def close(self) -> None:
        """Close the Kafka clients, once the sample under way (in its thread) is done with them."""
        with self._lock:
            self.sampler.close()
            if self.tally is not None:
                self.tally.close()
