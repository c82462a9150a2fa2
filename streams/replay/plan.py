"""Where a consumer group's offsets go on a reset: the rules of ``kafka-consumer-groups.sh --reset-offsets``.

Pure: given each partition's committed offset and its log start and end (and,
for ``--to-datetime``, the first offset at or after that time), ``plan``
returns the offset per partition before and after.  Kafka's rules:

* ``--to-earliest`` / ``--to-latest``: the log start / end;
* ``--to-offset N``: N, clamped into [log start, log end];
* ``--shift-by N``: committed + N, clamped; a partition without a committed
  offset cannot be shifted (an error naming it, as Kafka's tool does);
* ``--to-datetime T``: the first offset whose timestamp is at or after T, and
  the log end when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from streams.errors import ConfigError, ValidationError

__all__ = ["Move", "Reset", "ResetKind", "parse_datetime", "parse_topic", "plan"]

TopicPartition = tuple[str, int]


class ResetKind(Enum):
    EARLIEST = "to-earliest"
    LATEST = "to-latest"
    DATETIME = "to-datetime"
    OFFSET = "to-offset"
    SHIFT = "shift-by"


@dataclass(frozen=True)
class Reset:
    kind: ResetKind
    offset: int | None = None  # --to-offset, --shift-by
    at: datetime | None = None  # --to-datetime (aware)

    def describe(self) -> str:
        value = self.at.isoformat() if self.at is not None else self.offset
        return f"--{self.kind.value}" + (f" {value}" if value is not None else "")


@dataclass(frozen=True)
class Move:
    topic: str
    partition: int
    before: int | None  # committed offset, None if the group never committed there
    after: int
    log_start: int
    log_end: int

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def to_json(self) -> dict[str, object]:
        return {"topic": self.topic, "partition": self.partition, "before": self.before, "after": self.after,
                "log_start": self.log_start, "log_end": self.log_end}


def plan(reset: Reset, partitions: list[TopicPartition], *, committed: Mapping[TopicPartition, int | None],
         log_start: Mapping[TopicPartition, int], log_end: Mapping[TopicPartition, int],
         at_time: Mapping[TopicPartition, int | None] | None = None) -> list[Move]:
    moves = []
    for tp in sorted(partitions):
        low, high = log_start[tp], log_end[tp]
        current = committed.get(tp)
        if reset.kind is ResetKind.EARLIEST:
            after = low
        elif reset.kind is ResetKind.LATEST:
            after = high
        elif reset.kind is ResetKind.OFFSET:
            assert reset.offset is not None
            after = min(max(reset.offset, low), high)
        elif reset.kind is ResetKind.SHIFT:
            assert reset.offset is not None
            if current is None:
                raise ConfigError(f"cannot shift {tp[0]}:{tp[1]}: the group has no committed offset there",
                                  hint="use --to-offset, --to-earliest or --to-datetime for it")
            after = min(max(current + reset.offset, low), high)
        else:
            if at_time is None:
                raise ValueError("--to-datetime needs the offsets found for that time")
            found = at_time.get(tp)
            after = high if found is None or found < 0 else min(max(found, low), high)
        moves.append(Move(tp[0], tp[1], current, after, low, high))
    return moves


def parse_topic(spec: str) -> tuple[str, list[int] | None]:
    """``T`` (every partition) or ``T:0,1,2``, as ``kafka-consumer-groups.sh --topic`` takes it."""
    topic, sep, parts = spec.partition(":")
    if not topic:
        raise ValidationError(f"--topic {spec!r}: no topic name (expected T or T:0,1,2)")
    if not sep:
        return topic, None
    try:
        partitions = sorted({int(p) for p in parts.split(",") if p.strip()})
    except ValueError:
        raise ValidationError(f"--topic {spec!r}: partitions must be numbers, like {topic}:0,1,2") from None
    if not partitions or partitions[0] < 0:
        raise ValidationError(f"--topic {spec!r}: name partitions 0 or more, like {topic}:0,1,2")
    return topic, partitions


def parse_datetime(value: str) -> datetime:
    """ISO 8601; a time without a zone is UTC (``kafka-consumer-groups.sh`` takes local time, we do not guess)."""
    from datetime import UTC

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"--to-datetime {value!r} is not an ISO 8601 time (e.g. 2026-11-22T10:00:00Z)"
                              ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
