"""A consumed Kafka record as plain data: what decoding, dead-lettering and redrive work on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.position import Position

__all__ = ["Headers", "RawRecord", "header"]


Headers = tuple[tuple[str, bytes | None], ...]
"""Kafka headers as a record has them, in order: a value may be null (``None``), which is not empty."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @property
    def position(self) -> Position:
        return Position(self.topic, self.partition, self.offset)

    @classmethod
    def from_faust(cls, message: Any) -> RawRecord:
        """From a ``faust.types.Message`` (raw key/value serializers)."""
        headers = message.headers or ()
        if isinstance(headers, dict):
            headers = headers.items()
        return cls(
            topic=message.topic, partition=message.partition, offset=message.offset,
            timestamp_ms=int(message.timestamp * 1000) if message.timestamp else 0,
            key=message.key, value=message.value,
            headers=tuple((str(k), bytes(v) if v is not None else None) for k, v in headers),
        )


def header(headers: Headers, name: str) -> bytes | None:
    """The last value of header ``name``, or None (absent, or null)."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found
