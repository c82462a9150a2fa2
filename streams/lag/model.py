"""Lag as data: one sample per partition, the group around it, and the status vocabulary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

__all__ = ["GroupLag", "PartitionLag", "Status"]


class Status(IntEnum):
    """Burrow's evaluation statuses; the number orders them by severity (and is the metric value)."""

    OK = 0
    WARNING = 1
    REWIND = 2
    STALLED = 3
    STOPPED = 4


@dataclass
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed on this partition
    log_end: int
    lag: int
    lag_seconds: float
    sampled_at: float
    status: Status = Status.OK

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["status"] = self.status.name
        return body


@dataclass
class GroupLag:
    group: str
    state: str
    members: list[str]
    partitions: list[PartitionLag] = field(default_factory=list)
    status: Status = Status.OK

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_lag_seconds(self) -> float:
        return max((p.lag_seconds for p in self.partitions), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group, "state": self.state, "members": self.members, "status": self.status.name,
            "total_lag": self.total_lag, "max_lag_seconds": self.max_lag_seconds,
            "partitions": [p.to_json() for p in self.partitions],
        }
