"""Redrive: which dead letters go back, with which headers, and sending them in order to their original partition."""

from concurrent.futures import Future
from typing import Any

import pytest

from streams import headers as h
from streams.dlq import DeadLetter, RedriveMark, dead_letter_headers
from streams.dlq.redrive import Selection, execute, plan
from streams.envelope import position_event_id
from streams.errors import TransientError
from streams.position import Position
from streams.recordpath.records import RawRecord
from tests.support import record

RUN = "2b7d6c1e-0000-4000-8000-000000000001"
ORIGINAL = (("trace", b"\x00\xff"), ("tenant", b"acme"), ("trace", b"second"))


def letter(key: bytes | None, dlq_offset: int, *, sequence: int | None = 1, error_class: str = "ValidationError",
           original_offset: int | None = None, original_partition: int = 2, dlq_partition: int = 0,
           headers: tuple[tuple[str, bytes], ...] = ORIGINAL, topic: str = "orders") -> DeadLetter:
    """A dead letter as the processor writes it, read back from the dead-letter topic."""
    offset = dlq_offset + 100 if original_offset is None else original_offset
    original = record(b"value-%d" % offset, key=key, offset=offset, partition=original_partition, headers=headers,
                      topic=topic)
    added = dead_letter_headers(original, error_class, "boom", agent="orders-projection", attempts=1,
                                sequence=sequence)
    return DeadLetter.from_record(record(original.value, key=key, offset=dlq_offset, partition=dlq_partition,
                                         headers=tuple(added), topic=f"{topic}.dlq"))


def redrive_headers(headers: list[tuple[str, bytes]], original: tuple[tuple[str, bytes], ...]) -> dict[str, bytes]:
    """What redrive added, after checking the original headers come first, byte for byte."""
    assert headers[: len(original)] == list(original)
    rest = headers[len(original):]
    assert len({name for name, _ in rest}) == len(rest)
    return dict(rest)


LETTERS = [
    letter(b"k1", 0, sequence=1, error_class="ValidationError"),
    letter(b"k2", 1, sequence=1, error_class="DecodeError"),
    letter(b"k1", 2, sequence=2, error_class="Parked"),
    letter(b"k2", 3, sequence=2, error_class="Parked", dlq_partition=1),
    letter(b"k1", 4, sequence=3, error_class="Parked", dlq_partition=1),
]


def offsets(selection: Selection) -> list[int]:
    return [move.letter.record.offset for move in plan(LETTERS, selection, RUN).moves]


def test_an_empty_selection_takes_everything_in_order() -> None:
    result = plan(LETTERS, Selection(), RUN)
    assert [m.letter for m in result.moves] == LETTERS
    assert result.skipped == 0
    assert result.redrive_id == RUN
    assert result.counts() == {"DecodeError": 1, "Parked": 3, "ValidationError": 1}


@pytest.mark.parametrize(("selection", "expected"), [
    (Selection(error_classes=frozenset({"Parked"})), [2, 3, 4]),
    (Selection(error_classes=frozenset({"ValidationError", "DecodeError"})), [0, 1]),
    (Selection(keys=frozenset({b"k2"})), [1, 3]),
    (Selection(partition=1), [3, 4]),
    (Selection(from_offset=1, to_offset=3), [1, 2, 3]),
    (Selection(from_offset=3), [3, 4]),
    (Selection(to_offset=0), [0]),
    (Selection(keys=frozenset({b"k1"}), partition=0, error_classes=frozenset({"Parked"})), [2]),
    (Selection(keys=frozenset({b"nobody"})), []),
])
def test_a_selection_picks_by_error_class_key_partition_and_inclusive_offsets(selection: Selection,
                                                                               expected: list[int]) -> None:
    assert offsets(selection) == expected
    assert plan(LETTERS, selection, RUN).skipped == len(LETTERS) - len(expected)


def test_only_the_last_selected_record_of_each_key_is_marked_last() -> None:
    moves = plan(LETTERS, Selection(), RUN).moves
    assert [m.last_of_key for m in moves] == [False, False, False, True, True]
    assert [h.DLQ_REDRIVE_LAST in dict(m.headers) for m in moves] == [False, False, False, True, True]
    # the last of what is selected, not of what is in the topic
    moves = plan(LETTERS, Selection(to_offset=2), RUN).moves
    assert [(m.letter.record.key, m.last_of_key) for m in moves] == [(b"k1", False), (b"k2", True), (b"k1", True)]


def test_the_same_key_from_two_source_topics_has_a_last_record_in_each() -> None:
    letters = [letter(b"k", 0, topic="orders"), letter(b"k", 1, topic="payments"), letter(b"k", 2, topic="orders")]
    assert [m.last_of_key for m in plan(letters, Selection(), RUN).moves] == [False, True, True]


def test_a_keyless_record_is_never_last_and_has_no_sequence() -> None:
    [move] = plan([letter(None, 0, sequence=None)], Selection(), RUN).moves
    assert move.last_of_key is False
    added = redrive_headers(move.headers, ORIGINAL)
    assert h.DLQ_SEQUENCE not in added
    assert h.DLQ_REDRIVE_LAST not in added


def test_a_moved_record_gets_its_original_headers_back_and_the_redrive_marks() -> None:
    dead = letter(b"k1", 5, sequence=4, original_offset=17, original_partition=2, dlq_partition=1)
    [move] = plan([dead], Selection(), RUN).moves
    assert (move.topic, move.partition) == ("orders", 2)
    assert redrive_headers(move.headers, ORIGINAL) == {
        h.EVENT_ID: position_event_id("orders", 2, 17).encode(),  # where it was first written, not the dead letter
        h.DLQ_REDRIVE_ID: RUN.encode(),
        h.DLQ_SEQUENCE: b"4",
        h.DLQ_REDRIVEN_FROM: b"orders.dlq:1:5",
        h.DLQ_REDRIVE_LAST: b"1",
    }
    # what the processor reads back from it
    assert RedriveMark.from_headers(tuple(move.headers)) == RedriveMark(redrive_id=RUN, sequence=4, last=True)


def test_an_event_id_the_record_had_is_kept() -> None:
    original = (("event_id", b"a0d4c5a2-7a3b-4f62-9d55-2f3a8e2e0c11"), ("trace", b"\x00"))
    [move] = plan([letter(b"k1", 0, headers=original)], Selection(), RUN).moves
    added = redrive_headers(move.headers, original)
    assert h.EVENT_ID not in added
    assert [name for name, _ in move.headers].count(h.EVENT_ID) == 1


def test_a_dead_letter_without_its_original_topic_is_skipped() -> None:
    good = letter(b"k1", 0)
    bare = good.record
    stripped = RawRecord(topic=bare.topic, partition=bare.partition, offset=1, timestamp_ms=bare.timestamp_ms,
                         key=b"k1", value=bare.value,
                         headers=tuple((n, v) for n, v in bare.headers if n != h.DLQ_ORIGINAL_TOPIC))
    result = plan([good, DeadLetter.from_record(stripped)], Selection(), RUN)
    assert [m.letter.record.offset for m in result.moves] == [0]
    assert result.skipped == 1
    assert result.moves[0].last_of_key is True  # the skipped one does not count as a later record of the key


class FakeProducer:
    """``DurableProducer.produce`` without a broker: records the call, resolves (or fails) at once."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]], int | None]] = []
        self.fail_at = fail_at

    def produce(self, topic: str, key: bytes | None, value: bytes | None, headers: Any = (), *,
                partition: int | None = None) -> Future[Position]:
        future: Future[Position] = Future()
        if len(self.sent) == self.fail_at:
            future.set_exception(TransientError("broker gone"))
        else:
            future.set_result(Position(topic, partition or 0, len(self.sent)))
        self.sent.append((topic, key, value, list(headers), partition))
        return future


def many(n: int) -> list[DeadLetter]:
    return [letter(b"k%d" % (i % 3), i, sequence=i // 3 + 1, original_partition=i % 4) for i in range(n)]


@pytest.mark.parametrize("rate", [None, 0, 5000.0])
def test_execute_sends_every_move_in_order_to_its_original_partition(rate: float | None) -> None:
    redrive = plan(many(20), Selection(), RUN)
    producer, progress = FakeProducer(), []
    assert execute(redrive, producer, rate=rate, progress=progress.append) == 20
    assert producer.sent == [(m.topic, m.letter.record.key, m.letter.record.value, m.headers, m.partition)
                             for m in redrive.moves]
    assert [s[4] for s in producer.sent] == [i % 4 for i in range(20)]
    assert [s[2] for s in producer.sent] == [b"value-%d" % (i + 100) for i in range(20)]
    assert progress == list(range(1, 21))


def test_execute_fails_when_a_send_is_not_durable() -> None:
    producer = FakeProducer(fail_at=2)
    with pytest.raises(TransientError):
        execute(plan(many(4), Selection(), RUN), producer)


def test_an_empty_plan_sends_nothing() -> None:
    producer = FakeProducer()
    assert execute(plan([], Selection(), RUN), producer) == 0
    assert producer.sent == []
