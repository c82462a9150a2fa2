"""Restoring each table partition to exactly what its source partition's resume point covers.

The protocol is in ``streams.recordpath.protocol``; this module is where it meets
Faust's recovery, which on every rebalance asks each table for its persisted
changelog offset (``persisted_offset``: hook ``prepare``) and then feeds it the
changelog from there (``apply_changelog_batch``: hook ``keep``).

At the first ``prepare`` of a rebalance, the resume point ``F`` of every stream
partition assigned to this worker is decided, once, from the group's committed
offsets (one admin request; it blocks the event loop for its few milliseconds, as
the rebalance does) and what this process or its clean predecessor is known to have
completed.  Then each table partition is checked before Faust reads it:

* a store from a process that did not stop cleanly, or one that process held as a
  standby or had given up, is emptied: it may hold writes that never reached the
  changelog, or a crashed worker's unfinished ones;
* a standby copy promoted to active is emptied if it applied a record at or past
  ``F`` (the previous owner crashed with it unfinished).

An emptied store has no persisted offset, so Faust restores it from the start of
its changelog; ``keep`` drops every record stamped at or past ``F``.  Those records
were processed before the crash, so their dead letters may already be written:
``streams.dlq.seen`` looks every letter up before writing it.

Whether this process stops cleanly is kept in ``recovery.json`` beside the stores:
marked unclean when the first store opens, clean (with the resume points) only after
the last commit and a complete flush of the outbox.

Compaction caveat: restoring drops the unfinished tail of a changelog; if the log
cleaner had already removed a key's older value because of a record in that tail
(possible only when a segment rolled within the last seconds before the crash), that
key restores as absent.  Kafka Streams' at-least-once restores share this edge.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from streams.headers import SOURCE
from streams.recordpath.protocol import Positions, SourceTP, format_tp, parse_source, parse_tp

__all__ = ["StateRecovery"]

log = logging.getLogger(__name__)

TableKey = tuple[str, int]  # (table name, partition)
Committed = Callable[[list[SourceTP]], dict[SourceTP, int]]


class StateRecovery:
    def __init__(self, *, state_file: Path, positions: Positions, committed: Committed,
                 actives: Callable[[], set[Any]], streams: Callable[[], set[Any]],
                 generation: Callable[[], int]) -> None:
        """``committed(tps)``: the group's committed offsets (blocking); ``actives()``: the changelog and stream
        partitions assigned active; ``streams()``: the assigned stream partitions."""
        self.state_file = state_file
        self.positions = positions
        self._committed = committed
        self._actives = actives
        self._streams = streams
        self._generation_of = generation
        self.rebuilding: set[str] = set()  # source topics a rebuild replays: they resume at the committed offset
        self.floors: dict[SourceTP, int] = {}  # where replays found the group (``RebuildLog.floors``)
        self.epoch = 0  # one more at every rebalance
        self.skipped = 0
        self.emptied = 0
        self._loaded = False
        self._previous_clean = False
        self._previous_points: dict[SourceTP, int] = {}
        self._previous_dirty: set[TableKey] = set()
        self._seen_sources: set[SourceTP] = set()
        self._generation: int | None = None
        self._resume: dict[SourceTP, int] = {}
        self._opened: set[TableKey] = set()
        self._dirty: set[TableKey] = set()  # given up (revoked) in this process: emptied if it comes back
        self._standby: dict[TableKey, dict[SourceTP, int]] = {}  # what standby copies applied, per source
        self._active: set[Any] = set()  # changelog partitions restored as active

    # -- Faust's hooks ---------------------------------------------------------------------------------

    def prepare(self, table: Any, tp: Any) -> None:
        """Before Faust reads ``table``'s persisted offset of changelog partition ``tp``: empty it if needed."""
        self._load()
        generation = self._generation_of()
        if generation != self._generation:
            self._begin(generation)
        key = (table.name, tp.partition)
        active = tp in self._actives()
        reason = None
        if key not in self._opened:
            self._opened.add(key)
            if not self._previous_clean:
                reason = "left by a worker that did not stop cleanly"
            elif key in self._previous_dirty:
                reason = "a standby or given-up copy of the last run"
        if reason is None and key in self._dirty:
            reason = "given up earlier by this worker"
        applied = self._standby.get(key)
        if reason is None and active and applied and any(o >= self._resume.get(s, 0) for s, o in applied.items()):
            reason = "a standby copy holding records the previous owner left unfinished"
        if reason is not None:
            _empty(table, tp.partition)
            self.emptied += 1
            log.warning("table %s partition %d emptied, restoring from its changelog: %s", table.name,
                        tp.partition, reason)
        self._dirty.discard(key)
        if active:
            self._active.add(tp)
            self._standby.pop(key, None)
        else:
            self._active.discard(tp)
            self._standby.setdefault(key, {})

    def keep(self, table: Any, events: Iterable[Any]) -> tuple[list[Any], dict[Any, int]]:
        """The changelog events to apply, and the highest offset read per partition (applied or not)."""
        kept: list[Any] = []
        read: dict[Any, int] = {}
        for event in events:
            message = event.message
            tp = message.tp
            if message.offset > read.get(tp, -1):
                read[tp] = message.offset
            stamp = _stamp(message.headers)
            if stamp is None:
                kept.append(event)
                continue
            topic, partition, offset = stamp
            source = (topic, partition)
            if tp not in self._active:  # a standby copy applies everything, and remembers how far
                applied = self._standby.setdefault((table.name, tp.partition), {})
                if offset > applied.get(source, -1):
                    applied[source] = offset
                kept.append(event)
                continue
            resume = self._resume.get(source)
            if resume is None or offset < resume:
                kept.append(event)
            else:
                self.skipped += 1
        return kept, read

    def revoked(self, tps: Iterable[Any], changelogs: set[str]) -> None:
        """Partitions given up: their stores are stale here from now on; their positions are someone else's.

        Faust assigns a partition number of every table and stream together, so a number given up is given up
        whole: every store of that number is emptied if it comes back, and every position of that number is
        forgotten, together (a store emptied while its position was kept would claim what it lost).
        """
        numbers = set()
        for tp in tps:
            if tp.topic in changelogs:
                self._active.discard(tp)
            else:
                numbers.add(tp.partition)
        for key in self._opened:
            if key[1] in numbers:
                self._dirty.add(key)
                self._standby.pop(key, None)
        self.positions.forget([tp for tp in self.positions.snapshot() if tp[1] in numbers])

    def stopped_cleanly(self) -> None:
        """After the last commit and a complete flush: this process's stores are complete up to its positions."""
        points = {format_tp(*tp): offset for tp, offset in self.positions.snapshot().items()}
        dirty = sorted({format_tp(*key) for key in (*self._dirty, *self._standby)})
        self._write({"clean": True, "resume": points, "dirty": dirty})

    # -- internals -------------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            body = json.loads(self.state_file.read_text())
            self._previous_clean = bool(body.get("clean"))
            self._previous_points = {parse_tp(k): int(v) for k, v in body.get("resume", {}).items()}
            self._previous_dirty = {parse_tp(k) for k in body.get("dirty", ())}
        except FileNotFoundError:
            self._previous_clean = True  # nothing was ever stored here: nothing to distrust
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s unreadable (%s): every local store is restored from its changelog", self.state_file, exc)
        self._write({"clean": False})

    def _begin(self, generation: int) -> None:
        """Decide the resume point of every assigned stream partition, once per rebalance."""
        self._generation = generation
        self.epoch += 1
        sources = sorted({(tp.topic, tp.partition) for tp in self._streams()})
        committed = self._committed(sources) if sources else {}
        resume: dict[SourceTP, int] = {}
        for source in sources:
            points = [committed.get(source, 0)]
            mine = self.positions.next(*source)
            if mine is not None:
                points.append(mine)  # kept through the rebalance: this process's store is complete that far
            elif (self._previous_clean and source in self._previous_points and source not in self._seen_sources
                  and source[0] not in self.rebuilding):  # a rebuild judges again what the last run did
                points.append(self._previous_points[source])
            if source[0] not in self.rebuilding:
                points.append(self.floors.get(source, 0))  # a replay judges nothing again
            resume[source] = max(points)
        self._seen_sources.update(sources)
        self._resume = resume
        self.positions.resume_at(resume)
        behind = {s: resume[s] - committed.get(s, 0) for s in sources if resume[s] > committed.get(s, 0)}
        log.info("resume points of %d partitions decided (%d past their committed offsets: %s)", len(sources),
                 len(behind), ", ".join(f"{t}[{p}]+{n}" for (t, p), n in sorted(behind.items())) or "none")

    def _write(self, body: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.state_file)


def _empty(table: Any, partition: int) -> None:
    """Delete every key of one partition's store, the persisted offset with them."""
    store = table.data
    db = store._db_for_partition(partition)
    keys = list(db.keys())
    for key in keys:
        db.delete(key)
    store._key_index.clear()


def _stamp(headers: Any) -> tuple[str, int, int] | None:
    if not headers:
        return None
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == SOURCE and value is not None:
            return parse_source(bytes(value))
    return None

