"""Where a record sits in Kafka: what read models record with the state they applied."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from aiokafka.partitioner import murmur2

from streams.errors import BadRequestError

__all__ = ["Position", "key_partition", "parse_after"]


class Position(NamedTuple):
    topic: str
    partition: int
    offset: int

    @property
    def token(self) -> str:
        """``partition:offset``, what POST /events returns and ``?after=`` accepts."""
        return f"{self.partition}:{self.offset}"


_AFTER = re.compile(r"([0-9]{1,10}):([0-9]{1,19})")  # ASCII digits only; Kafka offsets are signed 64-bit
MAX_OFFSET = 2**63 - 1


def parse_after(value: str, partitions: int) -> tuple[int, int]:
    """Parse ``?after=<partition>:<offset>`` for a topic of ``partitions`` partitions.

    Anything that cannot be a position in that topic (not two whole numbers, a
    partition the topic does not have, an offset past what Kafka can number) is
    a ``BadRequestError`` (400) at once, rather than a wait that can only time out.
    """
    example = "for example after=2:1041"
    match = _AFTER.fullmatch(value)
    if match is None:
        shown = value if len(value) <= 40 else f"{value[:40]}... ({len(value)} characters)"
        raise BadRequestError(f"after={shown!r} is not <partition>:<offset> ({example})")
    partition, offset = int(match[1]), int(match[2])
    if partition >= partitions:
        raise BadRequestError(f"after={value}: the topic has no partition {partition} "
                              f"(its partitions are 0 to {partitions - 1})")
    if offset > MAX_OFFSET:
        raise BadRequestError(f"after={value}: offset {offset} is past the largest Kafka offset ({MAX_OFFSET})")
    return partition, offset


@lru_cache(maxsize=1 << 16)  # murmur2 is pure Python; the same keys come back (customers, SKUs, stats)
def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's standard partitioner (Java's default, murmur2) gives a non-null ``key``."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions
