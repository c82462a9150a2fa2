"""Redrive: dead letters back to the topic they came from, in their original order per key.

``plan`` is pure: from the dead letters (in dead-letter-topic order, which is
each key's order) and a ``Selection`` (error classes, keys, an offset range),
it builds the records to send.  Each gets its original headers back byte for
byte (the ``dlq_*`` headers stripped), plus:

* ``event_id`` when it had none, derived from its *original* position exactly
  as a consumer derives it (``streams.envelope.position_event_id``), so a
  redriven record keeps its identity and redriving twice applies once;
* the redrive marks: run id, the record's sequence number in its key's run of
  dead letters, where it was redriven from, and on the last record of each key
  ``dlq_redrive_last=1``, which frees the key once applied
  (``streams.dlq.parking``).

``execute`` sends the plan with a durable producer to each record's original
partition, at most ``rate`` records per second, reporting progress.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

from streams import headers as h
from streams.dlq.letters import DeadLetter
from streams.envelope import position_event_id
from streams.errors import StreamsError
from streams.position import Position
from streams.producer import DurableProducer
from streams.recordpath.records import header

__all__ = ["Move", "RedrivePlan", "Selection", "execute", "plan"]


@dataclass(frozen=True)
class Selection:
    """Which dead letters to move; empty sets select everything."""

    error_classes: frozenset[str] = frozenset()
    keys: frozenset[bytes] = frozenset()
    partition: int | None = None  # of the dead-letter topic
    from_offset: int | None = None  # dead-letter topic offsets, inclusive
    to_offset: int | None = None

    def picks(self, letter: DeadLetter) -> bool:
        record = letter.record
        return ((not self.error_classes or letter.error_class in self.error_classes)
                and (not self.keys or record.key in self.keys)
                and (self.partition is None or record.partition == self.partition)
                and (self.from_offset is None or record.offset >= self.from_offset)
                and (self.to_offset is None or record.offset <= self.to_offset))

    def to_json(self) -> dict[str, object]:
        return {"error_classes": sorted(self.error_classes), "keys": sorted(k.decode(errors="replace")
                                                                           for k in self.keys),
                "partition": self.partition, "from_offset": self.from_offset, "to_offset": self.to_offset}


@dataclass(frozen=True)
class Move:
    letter: DeadLetter
    headers: list[tuple[str, bytes | None]]
    last_of_key: bool

    @property
    def topic(self) -> str:
        return self.letter.original_topic

    @property
    def partition(self) -> int:
        return self.letter.original_partition


@dataclass
class RedrivePlan:
    redrive_id: str
    moves: list[Move] = field(default_factory=list)
    skipped: int = 0  # dead letters read but not selected (or without a readable origin)

    def counts(self) -> dict[str, int]:
        by_class: dict[str, int] = {}
        for move in self.moves:
            by_class[move.letter.error_class] = by_class.get(move.letter.error_class, 0) + 1
        return dict(sorted(by_class.items()))


def plan(letters: Iterable[DeadLetter], selection: Selection, redrive_id: str) -> RedrivePlan:
    result = RedrivePlan(redrive_id)
    picked: list[DeadLetter] = []
    for letter in letters:
        if selection.picks(letter) and letter.original_topic and letter.original_partition >= 0:
            picked.append(letter)
        else:
            result.skipped += 1
    last_index: dict[tuple[str, bytes], int] = {}
    for index, letter in enumerate(picked):
        if letter.record.key is not None:
            last_index[(letter.original_topic, letter.record.key)] = index
    for index, letter in enumerate(picked):
        key = letter.record.key
        last = key is not None and last_index[(letter.original_topic, key)] == index
        result.moves.append(Move(letter, _headers(letter, redrive_id, last=last), last_of_key=last))
    return result


def _headers(letter: DeadLetter, redrive_id: str, *, last: bool) -> list[tuple[str, bytes | None]]:
    headers = list(letter.original_headers)
    if header(tuple(headers), h.EVENT_ID) is None:
        event_id = position_event_id(letter.original_topic, letter.original_partition, letter.original_offset)
        headers.append((h.EVENT_ID, event_id.encode()))
    headers.append((h.DLQ_REDRIVE_ID, redrive_id.encode()))
    if letter.sequence is not None:
        headers.append((h.DLQ_SEQUENCE, str(letter.sequence).encode()))
    headers.append((h.DLQ_REDRIVEN_FROM, letter.where.encode()))
    if last:
        headers.append((h.DLQ_REDRIVE_LAST, b"1"))
    return headers


def execute(redrive: RedrivePlan, producer: DurableProducer, *, rate: float | None = None,
            progress: Callable[[int], None] = lambda done: None) -> int:
    """Send every move; returns how many are durable.  ``rate``: at most this many records per second.

    ``progress`` gets the number of moves Kafka has acknowledged (acks=all).  If one fails, the error
    says how many went through and where it stopped; running the redrive again is safe (a record
    applied twice is applied once: it keeps its event id).
    """
    interval = 1.0 / rate if rate else 0.0
    started = time.monotonic()
    pending: deque[tuple[Move, Future[Position]]] = deque()
    done = 0

    def settle(block: bool) -> None:
        nonlocal done
        while pending and (block or pending[0][1].done()):
            move, future = pending.popleft()
            try:
                future.result(timeout=60)
            except StreamsError as exc:
                raise type(exc)(f"redrive stopped after {done} record(s) at {move.letter.where}: {exc.message}",
                                hint="fix the cause and run it again; records already applied are applied once"
                                ) from exc
            done += 1
            progress(done)

    for index, move in enumerate(redrive.moves):
        if interval:
            delay = started + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        record = move.letter.record
        pending.append((move, producer.produce(move.topic, record.key, record.value, move.headers,
                                               partition=move.partition)))
        settle(block=False)
    settle(block=True)
    return done
