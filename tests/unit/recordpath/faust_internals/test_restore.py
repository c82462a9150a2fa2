"""The recovery's seek takes only offsets Faust's seek accepts: a rebalance in the middle of a recovery leaves
others (None, below -1), and the seek raised ``ValueError`` on them and crashed the worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from faust.tables.recovery import Recovery
from faust.types import TP

from streams.recordpath.faust_internals.restore import MarkerAwareRecovery, seekable

A, B, C, D = (TP("orders-changelog", p) for p in range(4))


def test_none_and_offsets_below_minus_one_become_the_start_and_the_rest_stay() -> None:
    offsets: Counter[TP] = Counter({A: None, B: -2, C: -1, D: 41})  # type: ignore[dict-item]
    seekable({A, B, C, D}, offsets)
    assert dict(offsets) == {A: -1, B: -1, C: -1, D: 41}


def test_partitions_not_asked_for_are_left_alone() -> None:
    offsets: Counter[TP] = Counter({A: None, B: -5})  # type: ignore[dict-item]
    seekable({A}, offsets)
    assert offsets[B] == -5


def test_the_recovery_seeks_what_faust_can_seek_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faust's own step, below ours, turns -1 into 0 and hands everything to the consumer's seek."""
    sought: dict[TP, Any] = {}

    class Consumer:
        async def seek_wait(self, offsets: dict[TP, Any]) -> None:
            for offset in offsets.values():
                if not isinstance(offset, int) or offset < 0:  # what aiokafka's seek checks
                    raise ValueError("Offset must be a positive integer")
            sought.update(offsets)

    recovery = MarkerAwareRecovery.__new__(MarkerAwareRecovery)  # no app: only the seek step runs
    offsets: Counter[TP] = Counter({A: None, B: -2, C: 7})  # type: ignore[dict-item]
    # Faust's seek alone, on what a mid-recovery rebalance left:
    with pytest.raises(ValueError, match="positive integer"):
        asyncio.run(Recovery._seek_offsets(recovery, Consumer(), {A, B, C}, Counter(offsets), "standby"))
    asyncio.run(recovery._seek_offsets(Consumer(), {A, B, C}, offsets, "standby"))
    assert sought == {A: 0, B: 0, C: 7}
