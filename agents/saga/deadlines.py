"""The deadlines of the sagas this worker runs, in memory and in deadline order: what the timer loop reads each tick.

The ``saga-deadlines`` table is the truth (it survives a restart and moves with its partition); this index is a copy
of its rows for the partitions this worker owns, kept by the saga agent's commit (``set``) and loaded again from
the table after every rebalance (``load``).  A tick then costs what is due, not a decode of every running saga's
row: the rows sit in a heap by deadline, and a row set again leaves its old heap entry behind, dropped once
popped (it no longer matches the row), or when such entries outnumber the rows (``set``: a heap rebuilt from the
rows), so that the heap stays the size of the running sagas, not of the sagas run within a step timeout.

Which deadlines need a timer record now: those that passed, less those whose record is already on its way.  A
record written for a (step, attempt) is not written again while that row stays; a send that failed is tried
again at the next tick (the caller marks only what it wrote); once the row moves on (the saga judged the timer,
or was answered) it is forgotten.  A deadline is ISO 8601 UTC with milliseconds, ordered as text.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable
from typing import Any

__all__ = ["SLACK", "DeadlineIndex"]

SLACK = 1024
"""Heap entries beyond twice the rows before the heap is rebuilt from the rows (``DeadlineIndex.set``)."""

Row = tuple[str, int, str]  # step, attempt, deadline


class DeadlineIndex:
    def __init__(self) -> None:
        self.loaded_for: Hashable = None  # what the rows were loaded for (the assignment); None: never loaded
        self._rows: dict[str, Row] = {}
        self._heap: list[tuple[str, str, str, int]] = []  # (deadline, order id, step, attempt)
        self._passed: dict[str, tuple[str, int]] = {}  # order id -> (step, attempt) of a row whose deadline passed
        self._written: dict[str, tuple[str, int]] = {}  # order id -> the (step, attempt) whose timer is on its way

    def __len__(self) -> int:
        return len(self._rows)

    def heap_size(self) -> int:
        """Entries in the heap, stale ones included (they are dropped as they come up, or by a rebuild)."""
        return len(self._heap)

    def refresh(self, rows: Callable[[], Iterable[tuple[str, Any]]], loaded_for: Hashable) -> bool:
        """``load(rows(), loaded_for)`` unless the index was last loaded for ``loaded_for``; whether it loaded."""
        if self.loaded_for == loaded_for:
            return False
        self.load(rows(), loaded_for)
        return True

    def load(self, rows: Iterable[tuple[str, Any]], loaded_for: Hashable) -> None:
        """Replace the index with the table's ``(order id, {"step", "attempt", "deadline"} or None)`` rows, as they
        are for ``loaded_for`` (the assignment they are the rows of)."""
        self._rows = {order_id: _row(body) for order_id, body in rows if body is not None}
        self._heap_from_rows()
        self._passed.clear()
        self._written = {order_id: written for order_id, written in self._written.items()
                         if order_id in self._rows and self._rows[order_id][:2] == written}
        self.loaded_for = loaded_for

    def set(self, order_id: str, body: dict[str, Any] | None) -> None:
        """The saga of ``order_id`` wrote its deadline row (``None``: deleted it)."""
        row = _row(body) if body is not None else None
        if self._rows.get(order_id) == row:
            return  # written again as it was (a record judged again): its timer, if on its way, still is
        self._passed.pop(order_id, None)
        self._written.pop(order_id, None)
        if row is None:
            self._rows.pop(order_id, None)
        else:
            self._rows[order_id] = row
            step, attempt, deadline = row
            heapq.heappush(self._heap, (deadline, order_id, step, attempt))
        if len(self._heap) > 2 * len(self._rows) + SLACK:  # mostly entries of rows that moved on or went
            self._heap_from_rows()

    def _heap_from_rows(self) -> None:
        self._heap = [(deadline, oid, step, attempt) for oid, (step, attempt, deadline) in self._rows.items()]
        heapq.heapify(self._heap)

    def due(self, now: str) -> list[tuple[str, str, int]]:
        """``(order id, step, attempt)`` of each row whose deadline is at or before ``now`` and whose timer record
        is not on its way."""
        heap, rows = self._heap, self._rows
        while heap and heap[0][0] <= now:
            deadline, order_id, step, attempt = heapq.heappop(heap)
            if rows.get(order_id) == (step, attempt, deadline):
                self._passed[order_id] = (step, attempt)
        return [(order_id, step, attempt) for order_id, (step, attempt) in self._passed.items()
                if self._written.get(order_id) != (step, attempt)]

    def written(self, order_id: str, step: str, attempt: int) -> None:
        """The timer record of ``order_id``'s (step, attempt) is written: not due again while its row stays.  A row
        that was written again (or went) while the record was on its way is not marked: it has a deadline of its own
        now, due when that passes."""
        if self._passed.get(order_id) == (step, attempt):  # ``set`` forgets a row that changed
            self._written[order_id] = (step, attempt)


def _row(body: dict[str, Any]) -> Row:
    return str(body["step"]), int(body["attempt"]), str(body["deadline"])
