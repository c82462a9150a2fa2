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

``delta_agent`` is the whole agent of such a read model: the domain gives a pure
fold ``(view or None, item) -> view`` and the key of an item.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streams.app import StreamsApp
from streams.freshness import Watermarks
from streams.recordpath.agent import admit, ticket_for
from streams.recordpath.batching import ITEMS
from streams.recordpath.faust_internals import events
from streams.replay.generations import Generational
from streams.tracing.spans import RecordSpans

__all__ = ["DeltaInbox", "delta_agent"]


class DeltaInbox:
    def __init__(self, app: Any, agent: str, topic: str) -> None:
        """Declares the marks table of ``agent`` reading repartition topic ``topic``."""
        self.topic = topic
        self.table = app.Table(f"{agent}-marks", default=None, key_type=str,
                               partitions=app.streams_settings.topic_partitions,
                               help=f"the last item applied per source partition, per partition of {topic}")

    def fresh(self, partition: int, generation: int, items: list[Any]) -> list[Any]:
        """The entries (``[source, offset, rank, item, traceparent?]``) of one record not applied before, in
        order; marks them applied (in the current event)."""
        key = _key(generation, partition)
        marks: dict[str, list[int]] = self.table.get(key) or {}
        out = []
        for entry in items:
            source, offset, rank = entry[0], entry[1], entry[2]
            if source is not None:
                last = marks.get(source)
                if last is not None and (offset, rank) <= (last[0], last[1]):
                    continue
                marks[source] = [offset, rank]
            out.append(entry)
        if out:
            self.table[key] = marks
        return out

    def applied(self, partition: int, generation: int) -> dict[str, int]:
        """``{"<source topic>:<partition>": last offset applied}`` in ``partition`` of the repartition topic."""
        marks = self.table.get(_key(generation, partition)) or {}
        return {source: mark[0] for source, mark in marks.items()}


def _key(generation: int, partition: int) -> str:
    return f"g{generation}:{partition}"


def delta_agent(app: StreamsApp, *, name: str, topic: Any, model: Generational, fold: Callable[[Any, Any], Any],
                key_of: Callable[[Any], str], marks: Watermarks) -> DeltaInbox:
    """Register agent ``name`` over repartition ``topic``: each new item folded into its key's view of ``model``,
    each changed view written once per record; returns its inbox (what ``?after=`` reads wait on)."""
    inbox = DeltaInbox(app, name, topic.get_topic_name())
    applied = app.metrics.events.labels(name, "delta", "applied")  # label lookups once, not per item
    again = app.metrics.events.labels(name, "delta", "already_processed")
    processing = app.metrics.processing_seconds.labels(name)
    positions = app.positions
    turn_after_s = app.streams_settings.agent_turn_ms / 1000

    def folded(fresh: list[Any], spans: RecordSpans | None, message: Any) -> dict[str, Any]:
        """Each key's view with the record's fresh entries folded in.  With tracing on, the record's span links
        every recorded trace it joins, and each item of one is applied in a span of that trace."""
        batch = None
        if spans is not None:
            batch = spans.batch(name, message.topic, message.partition, message.offset,
                                [entry[4] for entry in fresh if len(entry) > 4])
        views: dict[str, Any] = {}
        table = model.table
        for entry in fresh:
            item = entry[3]
            key = key_of(item)
            span = spans.apply(name, entry[4], batch, key) if spans and batch and len(entry) > 4 else None
            views[key] = fold(views[key] if key in views else table.get(key), item)
            if span is not None:
                span.end()
        if batch is not None:
            batch.end()
        return views

    async def project(stream: Any) -> None:
        spans = app.spans
        async for event in events(stream, turn_after_s=turn_after_s):
            started = time.perf_counter()
            message = event.message
            with ticket_for(app, event):  # acked once its table writes are durable
                if admit(app, event):
                    items = event.value[ITEMS]
                    fresh = inbox.fresh(message.partition, model.generation, items)
                    views = folded(fresh, spans, message)
                    table = model.table
                    for key, view in views.items():  # one table write per key per record
                        table[key] = view
                    applied.inc(len(fresh))  # counted once per record, not per item
                    again.inc(len(items) - len(fresh))
                    positions.done(message.topic, message.partition, message.offset)
                model.applied(message.partition, message.offset)
            marks.notify()  # wakes ?after= readers, who re-check the marks of the key's partition
            processing.observe(time.perf_counter() - started)

    app.agent(topic, name=name)(project)
    return inbox
