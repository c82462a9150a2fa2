"""Where a record sits in Kafka: what read models record with the state they applied."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from aiokafka.partitioner import murmur2

from streams.errors import ValidationError

__all__ = ["Position", "key_partition", "parse_after"]


class Position(NamedTuple):
    topic: str
    partition: int
    offset: int

    @property
    def token(self) -> str:
        """``partition:offset``, what POST /events returns and ``?after=`` accepts."""
        return f"{self.partition}:{self.offset}"


def parse_after(value: str) -> tuple[int, int]:
    """Parse ``?after=<partition>:<offset>``; a clear 400-class error otherwise."""
    partition, sep, offset = value.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValidationError(f"after={value!r} is not <partition>:<offset> (for example after=2:1041)")
    return int(partition), int(offset)


@lru_cache(maxsize=1 << 16)  # murmur2 is pure Python; the same keys come back (customers, SKUs, stats)
def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's standard partitioner (Java's default, murmur2) gives a non-null ``key``."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions
