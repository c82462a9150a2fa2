"""Acknowledgements reach Faust in offset order per partition, however their writes complete."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.recordpath.acks import InOrderAcks


def test_a_later_event_ready_first_waits_for_the_earlier_one() -> None:
    acks, told = InOrderAcks(), []
    first = acks.track("p0", lambda: told.append(0))
    second = acks.track("p0", lambda: told.append(1))
    second()
    assert told == []
    first()
    assert told == [0, 1]
    first()  # the queue is empty now: nothing runs twice
    assert told == [0, 1]


def test_partitions_do_not_wait_for_each_other() -> None:
    acks, told = InOrderAcks(), []
    stuck = acks.track("p0", lambda: told.append("p0"))
    acks.track("p1", lambda: told.append("p1"))()
    assert told == ["p1"]
    stuck()
    assert told == ["p1", "p0"]


def test_an_event_never_ready_holds_back_every_later_one_of_its_partition() -> None:
    acks, told = InOrderAcks(), []
    acks.track("p0", lambda: told.append(0))  # its processing raised: never sealed
    for offset in (1, 2, 3):
        acks.track("p0", lambda offset=offset: told.append(offset))()
    assert told == []
    acks.track("p1", lambda: told.append(10))()
    assert told == [10]  # another partition is not held


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40).flatmap(
    lambda parts: st.tuples(st.just(parts), st.permutations(range(len(parts))))))
def test_whatever_order_events_become_ready_in_each_partition_acks_a_prefix_in_order(
        case: tuple[list[int], list[int]]) -> None:
    partitions, readiness = case
    acks = InOrderAcks()
    told: dict[int, list[int]] = {p: [] for p in partitions}
    taken: dict[int, list[int]] = {p: [] for p in partitions}
    ready = []
    for index, partition in enumerate(partitions):
        taken[partition].append(index)
        ready.append(acks.track(partition, lambda p=partition, i=index: told[p].append(i)))
    done: set[int] = set()
    for index in readiness:
        ready[index]()
        done.add(index)
        for partition, indices in taken.items():
            prefix = []
            for i in indices:
                if i not in done:
                    break
                prefix.append(i)
            assert told[partition] == prefix  # exactly the ready prefix, in order, each once
    assert all(told[p] == taken[p] for p in taken)


def test_the_last_offset_acknowledged_in_order_is_kept_per_partition_until_forgotten() -> None:
    acks = InOrderAcks()
    done: list[int] = []
    first = acks.track("p0", lambda: done.append(5), 5)
    second = acks.track("p0", lambda: done.append(7), 7)  # offset 6 holds no record (a transaction marker)
    second()
    assert acks.acked == {}  # 7 waits for 5
    first()
    assert (done, acks.acked) == ([5, 7], {"p0": 7})
    acks.forget(["p0"])
    assert acks.acked == {}
