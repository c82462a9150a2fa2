"""The commit protocol's pieces without a broker: positions, the recovery decisions, and its invariant as a property.

The property test drives the real outbox, acknowledgements, stamps and recovery
filter through random interleavings of deliveries and a crash at a random
point: whatever the schedule, nothing is committed that is not durable, and the
state rebuilt from what was durable, with processing resumed at the commit,
equals the state of a run without a crash (nothing lost, nothing applied twice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams import headers as h
from streams.connection import KafkaConnection
from streams.position import Position
from streams.recordpath.acks import InOrderAcks
from streams.recordpath.faust_internals.recovery import StateRecovery
from streams.recordpath.outbox import CURRENT, Outbox
from streams.recordpath.protocol import Positions, format_source, parse_source

SOURCE = ("orders", 0)
CHANGELOG = "app-counts-changelog"


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class Message:
    tp: TP
    offset: int
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def partition(self) -> int:
        return self.tp.partition


@dataclass
class Event:
    message: Message


class Db(dict):  # type: ignore[type-arg]
    def keys(self) -> Any:  # rocksdict's raw keys
        return list(super().keys())

    def delete(self, key: bytes) -> None:
        self.pop(key, None)


@dataclass
class Store:
    dbs: dict[int, Db] = field(default_factory=dict)
    _key_index: dict[bytes, int] = field(default_factory=dict)

    def _db_for_partition(self, partition: int) -> Db:
        return self.dbs.setdefault(partition, Db())


@dataclass
class Table:
    name: str
    data: Store = field(default_factory=Store)


def recovery_for(tmp_path: Path, *, committed: dict[tuple[str, int], int], positions: Positions | None = None,
                 actives: set[Any] | None = None, generation: list[int] | None = None) -> StateRecovery:
    gen = generation or [1]
    return StateRecovery(state_file=tmp_path / "recovery.json", positions=positions or Positions(),
                         committed=lambda tps: {tp: committed[tp] for tp in tps if tp in committed},
                         actives=lambda: actives if actives is not None else {TP(CHANGELOG, 0), TP(*SOURCE)},
                         streams=lambda: {TP(*SOURCE)}, generation=lambda: gen[0])


def changelog(offset: int, source_offset: int | None, key: bytes = b"k", value: bytes = b"v") -> Event:
    headers = [(h.SOURCE, format_source(*SOURCE, source_offset))] if source_offset is not None else []
    return Event(Message(TP(CHANGELOG, 0), offset, key, value, headers))


# -- positions and stamps --------------------------------------------------------------------------


def test_positions_admit_what_is_not_in_the_state_yet() -> None:
    positions = Positions()
    assert positions.admit("orders", 0, 0)
    positions.resume_at({SOURCE: 5})
    assert not positions.admit("orders", 0, 4)
    assert positions.admit("orders", 0, 5)
    positions.done("orders", 0, 7)
    assert positions.next("orders", 0) == 8
    positions.done("orders", 0, 3)  # never backwards
    assert positions.next("orders", 0) == 8
    positions.forget([SOURCE])
    assert positions.next("orders", 0) is None


def test_a_stamp_round_trips_and_a_foreign_header_is_not_one() -> None:
    assert parse_source(format_source("t.orders-x", 3, 1041)) == ("t.orders-x", 3, 1041)
    assert parse_source(b"garbage") is None
    assert parse_source(b"\xff\xfe") is None


# -- recovery ----------------------------------------------------------------------------------------


def test_a_store_left_by_a_crashed_process_is_emptied_and_restores_only_below_the_commit(tmp_path: Path) -> None:
    (tmp_path / "recovery.json").write_text(json.dumps({"clean": False}))
    positions = Positions()
    recovery = recovery_for(tmp_path, committed={SOURCE: 3}, positions=positions)
    table = Table("counts")
    table.data._db_for_partition(0)[b"k"] = b"written locally, maybe never delivered"
    recovery.prepare(table, TP(CHANGELOG, 0))
    assert table.data.dbs[0] == {}  # emptied: Faust restores it from the changelog's start
    assert positions.next(*SOURCE) == 3
    kept, read = recovery.keep(table, [changelog(0, 1), changelog(1, None), changelog(2, 3), changelog(3, 4)])
    assert [e.message.offset for e in kept] == [0, 1]  # stamped below the commit, and unstamped
    assert read == {TP(CHANGELOG, 0): 3}  # the skipped ones are read too
    assert recovery.skipped == 2  # the unfinished records: counted, never restored
    assert json.loads((tmp_path / "recovery.json").read_text()) == {"clean": False}  # unclean until a clean stop


def test_after_a_clean_stop_the_store_is_kept_and_resumes_past_the_commit(tmp_path: Path) -> None:
    first = recovery_for(tmp_path, committed={SOURCE: 3})
    table = Table("counts")
    first.prepare(table, TP(CHANGELOG, 0))
    first.positions.done(*SOURCE, 9)  # processed through 9, committed through 2 only
    first.stopped_cleanly()

    positions = Positions()
    again = recovery_for(tmp_path, committed={SOURCE: 3}, positions=positions)
    table.data._db_for_partition(0)[b"k"] = b"complete through 9"
    again.prepare(table, TP(CHANGELOG, 0))
    assert table.data.dbs[0] == {b"k": b"complete through 9"}
    assert positions.next(*SOURCE) == 10  # 3..9 are in the state: never judged again
    kept, _ = again.keep(table, [changelog(0, 5), changelog(1, 10)])
    assert [e.message.offset for e in kept] == [0]


def stopped_cleanly_through(tmp_path: Path, offset: int) -> None:
    """A worker that processed the source through ``offset``, committed all of it, and stopped cleanly."""
    first = recovery_for(tmp_path, committed={SOURCE: offset + 1})
    first.prepare(Table("counts"), TP(CHANGELOG, 0))
    first.positions.done(*SOURCE, offset)
    first.stopped_cleanly()


def test_a_replay_reset_below_a_clean_store_judges_nothing_again(tmp_path: Path) -> None:
    stopped_cleanly_through(tmp_path, 9)
    positions = Positions()
    recovery_for(tmp_path, committed={SOURCE: 0}, positions=positions).prepare(Table("counts"), TP(CHANGELOG, 0))
    assert positions.next(*SOURCE) == 10


def test_a_replay_onto_an_empty_disk_resumes_at_the_floor_the_replay_recorded(tmp_path: Path) -> None:
    positions = Positions()
    recovery = recovery_for(tmp_path, committed={SOURCE: 0}, positions=positions)
    recovery.floors = {SOURCE: 10}
    table = Table("counts")
    recovery.prepare(table, TP(CHANGELOG, 0))
    assert positions.next(*SOURCE) == 10
    kept, _ = recovery.keep(table, [changelog(0, 4), changelog(1, 9), changelog(2, 10)])
    assert [e.message.offset for e in kept] == [0, 1]  # what the group had done before the replay is restored


def test_a_rebuild_judges_again_from_the_commit(tmp_path: Path) -> None:
    stopped_cleanly_through(tmp_path, 9)
    positions = Positions()
    again = recovery_for(tmp_path, committed={SOURCE: 0}, positions=positions)
    again.rebuilding.add("orders")
    again.floors = {SOURCE: 10}  # a floor from an earlier replay does not hold a rebuild back either
    again.prepare(Table("counts"), TP(CHANGELOG, 0))
    assert positions.next(*SOURCE) == 0


def test_a_standby_promoted_with_records_past_the_resume_point_is_emptied(tmp_path: Path) -> None:
    actives: set[Any] = set()
    generation = [1]
    recovery = recovery_for(tmp_path, committed={SOURCE: 5}, actives=actives, generation=generation)
    table = Table("counts")
    recovery.prepare(table, TP(CHANGELOG, 0))  # a standby
    kept, _ = recovery.keep(table, [changelog(0, 4), changelog(1, 7)])
    assert len(kept) == 2  # a standby applies everything
    table.data._db_for_partition(0)[b"k"] = b"from the owner's unfinished record 7"
    actives.update({TP(CHANGELOG, 0), TP(*SOURCE)})
    generation[0] = 2  # the owner crashed: a rebalance promotes this copy
    recovery.prepare(table, TP(CHANGELOG, 0))
    assert table.data.dbs[0] == {}


def test_a_partition_given_up_and_back_is_emptied(tmp_path: Path) -> None:
    generation = [1]
    positions = Positions()
    recovery = recovery_for(tmp_path, committed={SOURCE: 5}, positions=positions, generation=generation)
    table = Table("counts")
    recovery.prepare(table, TP(CHANGELOG, 0))
    positions.done(*SOURCE, 8)
    positions.done("orders.dlq.control", 0, 2)  # another stream of the same partition number
    positions.done("orders", 1, 4)
    table.data._db_for_partition(0)[b"k"] = b"ours through 8"
    recovery.revoked([TP(CHANGELOG, 0), TP(*SOURCE)], {CHANGELOG})
    # the number is given up whole: every position of partition 0 forgotten with its stores, none other
    assert positions.snapshot() == {("orders", 1): 5}
    generation[0] = 2
    recovery.prepare(table, TP(CHANGELOG, 0))
    assert table.data.dbs[0] == {}


# -- the invariant, as a property -----------------------------------------------------------------------


class Producer:
    """A producer whose deliveries the test schedules: per topic partition in order, as Kafka keeps them."""

    def __init__(self) -> None:
        self.queues: dict[tuple[str, int], list[tuple[Any, Any]]] = {}
        self.delivered: dict[tuple[str, int], list[Any]] = {}
        self._reports: list[Any] = []

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Any = None,
                on_delivery: Any = None, partition: int = 0) -> None:
        self.queues.setdefault((topic, partition), []).append(((topic, partition, key, value, headers),
                                                               on_delivery))

    def deliver_one(self, where: tuple[str, int]) -> None:
        record, callback = self.queues[where].pop(0)
        delivered = self.delivered.setdefault(where, [])
        delivered.append(record)
        self._reports.append((callback, Msg(where[1], len(delivered) - 1)))

    def poll(self, timeout: float = 0) -> int:
        reports, self._reports = self._reports, []
        for callback, msg in reports:
            callback(None, msg)
        return len(reports)

    def flush(self, timeout: float = 0) -> int:
        return sum(len(q) for q in self.queues.values())

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues.values())


@dataclass
class Msg:
    _partition: int
    _offset: int

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


def run(values: list[int], state: dict[bytes, int], start: int, box: Outbox, acks: InOrderAcks,
        acked: list[int]) -> None:
    """Process records ``start``.. of the source: add each value to its key, write the table, send an output."""
    for offset in range(start, len(values)):
        key = b"k%d" % (offset % 3)
        with box.open(acks.track(SOURCE, lambda offset=offset: acked.append(offset)), Position(*SOURCE, offset)):
            state[key] = state.get(key, 0) + values[offset]
            stamp = CURRENT.get().stamp  # type: ignore[union-attr]
            box.send(CHANGELOG, key, str(state[key]).encode(), [(h.SOURCE, stamp)])
            box.send("outputs", key, b"%d" % offset)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.integers(1, 9), min_size=1, max_size=25), schedule=st.lists(st.booleans(), max_size=80),
       commit_share=st.floats(0, 1))
def test_a_crash_anywhere_loses_nothing_and_applies_nothing_twice(
        tmp_path_factory: Any, values: list[int], schedule: list[bool], commit_share: float) -> None:
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        producer = Producer()
        box = Outbox(KafkaConnection("unused"), client_id="t", loop=loop, producer=producer)
        acks, acked = InOrderAcks(), []
        state: dict[bytes, int] = {}
        run(values, state, 0, box, acks, acked)
        for changelog_first in schedule:  # deliveries in any order across partitions, in order within each
            where = (CHANGELOG, 0) if changelog_first else ("outputs", 0)
            if not producer.queues.get(where):
                where = ("outputs", 0) if changelog_first else (CHANGELOG, 0)
            if producer.queues.get(where):
                producer.deliver_one(where)
                box._tick()
        # the crash: Faust had committed some prefix of what was acknowledged
        committed = int(len(acked) * commit_share)
        assert acked == list(range(len(acked)))  # acknowledged in offset order
        for offset in range(committed):  # nothing committed that is not durable
            assert any(r[4] == [(h.SOURCE, format_source(*SOURCE, offset))]
                       for r in producer.delivered.get((CHANGELOG, 0), []))
            assert any(r[3] == b"%d" % offset for r in producer.delivered.get(("outputs", 0), []))

        tmp = tmp_path_factory.mktemp("crash")
        (tmp / "recovery.json").write_text(json.dumps({"clean": False}))
        recovery = recovery_for(tmp, committed={SOURCE: committed})
        table = Table("counts")
        recovery.prepare(table, TP(CHANGELOG, 0))
        events = [changelog(i, parse_source(r[4][0][1])[2], r[2], r[3])  # type: ignore[index]
                  for i, r in enumerate(producer.delivered.get((CHANGELOG, 0), []))]
        kept, _ = recovery.keep(table, events)
        restored = {e.message.key: int(e.message.value) for e in kept}
        resume = recovery.positions.next(*SOURCE)
        assert resume == committed
        after = Producer()
        run(values, restored, resume, Outbox(KafkaConnection("unused"), client_id="t2", loop=loop, producer=after),
            InOrderAcks(), [])
        expected: dict[bytes, int] = {}
        for offset, value in enumerate(values):
            expected[b"k%d" % (offset % 3)] = expected.get(b"k%d" % (offset % 3), 0) + value
        assert restored == expected
    finally:
        loop.close()
