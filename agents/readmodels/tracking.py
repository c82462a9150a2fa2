"""Position tracking for read models fed by deltas: skip what was already applied.

A view keeps ``applied = {"<topic>:<partition>": last source offset}``.  Deltas
from one source partition reach a key in source order, so "offset at or below
the mark" means "already applied" (eventsourcing's tracked projections).
"""

from __future__ import annotations

from agents.orders.deltas import Source

__all__ = ["already_applied", "mark_applied", "source_key"]


def source_key(source: Source) -> str:
    return f"{source['topic']}:{source['partition']}"


def already_applied(applied: dict[str, int], source: Source) -> bool:
    return applied.get(source_key(source), -1) >= source["offset"]


def mark_applied(applied: dict[str, int], source: Source) -> dict[str, int]:
    return {**applied, source_key(source): source["offset"]}
