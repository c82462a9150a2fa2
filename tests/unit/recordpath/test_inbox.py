"""``DeltaInbox``: each repartitioned item applied once, whatever is sent again; marks per table generation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streams.recordpath.inbox import DeltaInbox


class Table(dict):  # type: ignore[type-arg]
    pass


def inbox() -> DeltaInbox:
    app = SimpleNamespace(streams_settings=SimpleNamespace(topic_partitions=4),
                          Table=lambda name, **kwargs: Table())
    return DeltaInbox(app, "customers-projection", "customer-deltas")


def item(offset: int, rank: int, what: str, source: str = "orders:0") -> list[Any]:
    return [source, offset, rank, {"what": what}]


def test_two_items_of_one_event_for_one_key_both_apply_and_a_resend_applies_nothing() -> None:
    box = inbox()
    first = [item(7, 1, "line 1"), item(7, 2, "line 2 of the same sku"), item(9, 1, "next event")]
    assert [e[3]["what"] for e in box.fresh(2, 0, first)] == ["line 1", "line 2 of the same sku", "next event"]
    # the source record 7 was processed again after a crash: its items come again, then new ones
    again = [item(7, 1, "line 1"), item(7, 2, "line 2 of the same sku"), item(9, 1, "next event"),
             item(11, 1, "new")]
    assert [e[3]["what"] for e in box.fresh(2, 0, again)] == ["new"]
    assert box.applied(2, 0) == {"orders:0": 11}


def test_sources_and_partitions_and_generations_are_marked_apart() -> None:
    box = inbox()
    assert len(box.fresh(1, 0, [item(5, 1, "a", "orders:0"), item(3, 1, "b", "orders:1")])) == 2
    assert len(box.fresh(1, 0, [item(4, 1, "c", "orders:1")])) == 1  # another source's own order
    assert len(box.fresh(2, 0, [item(5, 1, "a", "orders:0")])) == 1  # another partition of the topic
    assert len(box.fresh(1, 1, [item(5, 1, "a", "orders:0")])) == 1  # a rebuild's new generation
    assert box.applied(1, 0) == {"orders:0": 5, "orders:1": 4}


def test_an_item_without_an_id_is_applied_as_it_comes() -> None:
    box = inbox()
    assert len(box.fresh(0, 0, [[None, 0, 0, {"what": "x"}], [None, 0, 0, {"what": "x"}]])) == 2
