"""Burrow's evaluation rules over a sliding window of samples, per partition and per group.

For a window of samples of one partition, oldest first:

* REWIND: the committed offset went backwards at some point (an offset reset, a replay);
* STOPPED: lag > 0, the committed offset did not move, and the group has no active member;
* STALLED: lag > 0, the committed offset did not move, while members are active;
* WARNING: lag > 0 and it grew from every sample to the next;
* OK: anything else, and a single sample.

Statuses are judged from the second sample on, over what the window holds so
far (Burrow waits for a full window; a worker that just started would then
show nothing for ``window x interval`` seconds).

A group's status is the worst of its partitions'.  Burrow reads commit times
from ``__consumer_offsets``; Kafka's admin API does not give them, so
"stopped" versus "stalled" is told apart by whether the group has members.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Iterable

from streams.lag.model import GroupLag, PartitionLag, Status

__all__ = ["Evaluator", "evaluate_window"]


def evaluate_window(window: list[PartitionLag], *, group_active: bool) -> Status:
    if len(window) < 2:
        return Status.OK
    offsets = [s.committed if s.committed is not None else -1 for s in window]
    if any(later < earlier for earlier, later in itertools.pairwise(offsets)):
        return Status.REWIND
    last = window[-1]
    if last.lag <= 0:
        return Status.OK
    if offsets[0] == offsets[-1]:
        return Status.STALLED if group_active else Status.STOPPED
    lags = [s.lag for s in window]
    if all(later > earlier for earlier, later in itertools.pairwise(lags)):
        return Status.WARNING
    return Status.OK


class Evaluator:
    """Keeps the last ``size`` samples of every (group, topic, partition) and sets their status."""

    def __init__(self, size: int = 10) -> None:
        self.size = size
        self._windows: dict[tuple[str, str, int], deque[PartitionLag]] = defaultdict(
            lambda: deque(maxlen=self.size))

    def observe(self, groups: Iterable[GroupLag]) -> list[GroupLag]:
        seen: set[tuple[str, str, int]] = set()
        result = list(groups)
        for group in result:
            active = bool(group.members)
            for sample in group.partitions:
                key = (sample.group, sample.topic, sample.partition)
                seen.add(key)
                window = self._windows[key]
                window.append(sample)
                sample.status = evaluate_window(list(window), group_active=active)
            group.status = max((p.status for p in group.partitions), default=Status.OK)
        for key in list(self._windows):
            if key not in seen:  # partition left the group (rebalance, deleted topic): forget it
                del self._windows[key]
        return result
