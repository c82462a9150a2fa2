"""``streams.heap.settle``: collectable cycles are freed first, and what survives is frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streams import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_frees_cycles_then_freezes_the_survivors(unfrozen: None) -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = Node()
    heap.settle()
    assert gone() is None
    assert gc.get_freeze_count() > 0
    assert not any(obj is kept for obj in gc.get_objects())  # frozen objects are no longer tracked


def test_settle_spaces_young_and_full_collections_out_and_leaves_the_middle_generation_be(unfrozen: None) -> None:
    gc.set_threshold(700, 7, 10)  # a middle threshold of the operator's own: kept
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG, 7, heap.FULL_AFTER)
    assert heap.YOUNG > 700
    assert heap.FULL_AFTER > 10
