"""The commit protocol: how a record becomes state, outputs and a committed offset, and what survives a crash.

Per source record, in this order (one event loop; nothing here runs in parallel):

1. **Admit.** A record below its partition's *resume point* was processed before,
   into the state this worker holds: it is skipped, never judged again
   (``Positions.admit``).  A record of a rebuild (``streams replay --rebuild``) is the
   exception: it is judged again, into the new generation only.
2. **Process.** The agent decodes it and runs the pure handler
   (``streams.recordpath.processing``): applied, rejected, duplicate, parked or
   dead-lettered, every outcome alike.
3. **Write state, stamped.** Table writes go to the local store at once and to the
   changelog through the outbox; every changelog record carries the source position
   that caused it (header ``streams_source``, ``topic:partition:offset``).
4. **Send outputs.** Deltas, fan-out and dead letters go through the same outbox,
   counted on the record's ticket (``streams.recordpath.outbox``).
5. **Acknowledge.** Once everything of step 3 and 4 is on all in-sync replicas, the
   ticket acknowledges the record, in offset order per partition
   (``streams.recordpath.acks``), and the position advances (``Positions.done``).
6. **Commit.** Faust commits acknowledged offsets (every second or 1,000 records):
   a committed offset covers only records whose state and outputs are durable.

After a crash, the state may be ahead of the commit (steps 3-4 done, 6 not) and the
local store may hold writes whose changelog records never left.  Recovery
(``streams.recordpath.faust_internals.recovery``) therefore restores every table
partition to exactly the records below the resume point ``F`` of its source
partition, and the agents resume at ``F``:

* ``F`` is the group's committed offset; or, where ``streams replay`` moved it back,
  where it had been (the replay floors: what lies below is in the changelogs); or,
  where this worker's own store is known to be complete further (a clean
  shutdown, a partition kept through a rebalance), one past the last record it
  processed.  A rebuild's source resumes at the committed offset: it is judged
  again, into the new generation;
* a store left by a crashed process, or filled as a standby from a changelog that may
  hold a crashed worker's unfinished work, is emptied and restored from the changelog;
* changelog records stamped at or past ``F`` are skipped while restoring: they are
  the unfinished work of a crashed worker, done again from the source.

Invariant: **the state holds exactly the effects of the source records below ``F``,
and processing resumes at ``F``.**  So a record is applied once: before ``F`` it is
in the state and never judged again; from ``F`` on it is judged against the state it
was first judged against, and gives the same outputs with the same derived ids (sent
again after a crash: downstream deduplicates by event id, read models by delta id;
dead letters are looked up before they are written again, ``streams.dlq.seen``).

With ``STREAMS_PROCESSING_GUARANTEE=exactly_once``, steps 3 to 6 of a commit interval
are one Kafka transaction (``streams.recordpath.transactions``): what a crashed worker
wrote after its last commit is rolled back, so nothing is sent again that a
``read_committed`` reader has seen, and no changelog record past ``F`` survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["SOURCE_SEPARATOR", "Positions", "SourceTP", "format_source", "format_tp", "parse_source", "parse_tp"]

SourceTP = tuple[str, int]
"""A source topic partition: ``(topic, partition)``."""

SOURCE_SEPARATOR = ":"


def format_source(topic: str, partition: int, offset: int) -> bytes:
    """The ``streams_source`` stamp of a changelog record (Kafka topic names hold no colon)."""
    return f"{topic}{SOURCE_SEPARATOR}{partition}{SOURCE_SEPARATOR}{offset}".encode()


def format_tp(topic: str, partition: int) -> str:
    """``topic:partition``: how positions, repartition items and replay floors name a topic partition."""
    return f"{topic}{SOURCE_SEPARATOR}{partition}"


def parse_tp(text: str) -> tuple[str, int]:
    """The ``(topic, partition)`` of ``format_tp``'s text (also ``table:partition``)."""
    topic, partition = text.rsplit(SOURCE_SEPARATOR, 1)
    return topic, int(partition)


def parse_source(stamp: bytes) -> tuple[str, int, int] | None:
    """``(topic, partition, offset)`` of a stamp; None for one that is not (written by something else)."""
    try:
        topic, partition, offset = stamp.decode().rsplit(SOURCE_SEPARATOR, 2)
        return topic, int(partition), int(offset)
    except (UnicodeDecodeError, ValueError):
        return None


class Positions:
    """Per source partition: the resume point ``F`` and how far this process has processed past it.

    ``next(tp)`` is the first offset not yet in the state.  Recovery sets it (``resume_at``),
    processing advances it (``done``); a revoked partition is forgotten (``forget``): whoever
    holds it next restores it from the changelog and the commit.
    """

    def __init__(self) -> None:
        self._next: dict[SourceTP, int] = {}

    def admit(self, topic: str, partition: int, offset: int) -> bool:
        """True for a record not yet in the state: process it.  False: it is, skip it."""
        return offset >= self._next.get((topic, partition), 0)

    def done(self, topic: str, partition: int, offset: int) -> None:
        """A record's effects are in the state (whatever its outcome)."""
        tp = (topic, partition)
        if offset >= self._next.get(tp, 0):
            self._next[tp] = offset + 1

    def next(self, topic: str, partition: int) -> int | None:
        """The first offset of ``(topic, partition)`` not in the state, if this process knows it."""
        return self._next.get((topic, partition))

    def resume_at(self, points: Mapping[SourceTP, int]) -> None:
        """Recovery decided where each partition resumes (never behind what this process has done)."""
        for tp, offset in points.items():
            self._next[tp] = offset

    def forget(self, tps: Iterable[SourceTP]) -> None:
        for tp in tps:
            self._next.pop(tp, None)

    def snapshot(self) -> dict[SourceTP, int]:
        return dict(self._next)
