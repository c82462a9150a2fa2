"""The reading end of repartition topics: each item applied once, whatever was sent again.

An item's id is ``(source partition, offset, rank)`` (``streams.recordpath.batching``).
Items of one source partition reach a partition of the repartition topic in
the order they were made, and one sent again after a crash (the source record
processed again from its resume point) carries the same id as the first time.
So, per partition of the repartition topic and per source partition, the id of
the last item applied is enough to know what is new: the *marks*.  They live in
a table of the platform's (``<agent>-marks``), written with the read model in
the same event, stamped and restored with it, so the marks and the read model
always agree (``streams.recordpath.protocol``).  Marks are kept per table
generation: a rebuild applies everything again into the new generation.

The marks are also what a read-your-writes wait checks: a key's partition has
applied the write at ``p:o`` of the source once its mark for ``p`` is at ``o``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DeltaInbox"]


class DeltaInbox:
    def __init__(self, app: Any, agent: str, topic: str) -> None:
        """Declares the marks table of ``agent`` reading repartition topic ``topic``."""
        self.topic = topic
        self.table = app.Table(f"{agent}-marks", default=None, key_type=str,
                               partitions=app.streams_settings.topic_partitions,
                               help=f"the last item applied per source partition, per partition of {topic}")

    def fresh(self, partition: int, generation: int, items: list[Any]) -> list[Any]:
        """The items of one record not applied before, in order; marks them applied (in the current event)."""
        key = _key(generation, partition)
        marks: dict[str, list[int]] = self.table.get(key) or {}
        out = []
        for source, offset, rank, item in items:
            if source is not None:
                last = marks.get(source)
                if last is not None and (offset, rank) <= (last[0], last[1]):
                    continue
                marks[source] = [offset, rank]
            out.append(item)
        if out:
            self.table[key] = marks
        return out

    def applied(self, partition: int, generation: int) -> dict[str, int]:
        """``{"<source topic>:<partition>": last offset applied}`` in ``partition`` of the repartition topic."""
        marks = self.table.get(_key(generation, partition)) or {}
        return {source: mark[0] for source, mark in marks.items()}


def _key(generation: int, partition: int) -> str:
    return f"g{generation}:{partition}"
