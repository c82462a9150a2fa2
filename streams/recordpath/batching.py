"""Repartition records that carry many items: one Kafka record per target partition per flush.

A read model keyed differently from its source (customers from orders) is
fed through a repartition topic.  One record per item costs a produce, a
consume and a table write each; here the items bound for one partition of the
topic travel together (``{"items": [...]}``, sent to that partition, where
every item's key belongs), and the reading agent folds a whole record into
each key's view with one table write.  Each item carries its id: the source
partition, offset and rank of the event that made it (``[source, offset, rank,
item]``; one event may make several items for one key), so the reader applies
each once (``streams.recordpath.inbox``), whatever is sent again after a crash.
With tracing on, an item made in a recorded trace has a fifth element, the
``traceparent`` of the event's span: the reader applies it in that trace.

Every item counts on the ticket of the event that made it (``streams.recordpath.outbox``):
that event is acknowledged once the record carrying its item is durable.
Batches go out when ``max_items`` are waiting for a partition, and every
``max_delay_s`` (the ``run`` task; ``STREAMS_REPARTITION_LINGER_MS``, 50 ms by
default).  The linger is what makes batching pay: at 5 ms, a record carried
two or three deltas and the read-model agents fell behind the orders under
load; at 50 ms it carries dozens, and the whole pipeline ran about 40% faster
(``bench.pipeline``).  The price is that the customer, inventory and stats
read models trail the orders by up to the linger.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from functools import partial
from typing import Any

import orjson

from streams.position import key_partition
from streams.recordpath.outbox import CURRENT, Outbox, Ticket
from streams.tracing.spans import RecordSpans

__all__ = ["ITEMS", "RepartitionBatcher"]

ITEMS = "items"


class RepartitionBatcher:
    def __init__(self, outbox: Outbox, partitions: int, *, max_delay_s: float, max_items: int = 500,
                 spans: RecordSpans | None = None) -> None:
        """``max_delay_s``: the linger (``Settings.repartition_linger_ms``, the one place it is defaulted).
        ``spans``: with tracing on, an item made in a recorded trace carries its ``traceparent`` (fifth)."""
        self.spans = spans
        self.outbox = outbox
        self.partitions = partitions
        self.max_items = max_items
        self.max_delay_s = max_delay_s
        self._items: dict[tuple[str, int], list[Any]] = defaultdict(list)
        self._tickets: dict[tuple[str, int], list[Ticket]] = defaultdict(list)

    def add(self, topic: str, key: str, item: Any) -> None:
        """Send ``item`` to the partition of ``topic`` that ``key`` belongs to, with the current event's id."""
        ticket = CURRENT.get()
        if ticket is not None and ticket.rebuild:
            return  # a rebuild judging the record again: its items went out the first time
        where = (topic, key_partition(key.encode(), self.partitions))
        if ticket is not None and ticket.source is not None:
            ticket.made += 1
            entry = [ticket.origin, ticket.source.offset, ticket.made, item]
            if self.spans is not None and (traceparent := self.spans.item_traceparent()) is not None:
                entry.append(traceparent)
        else:
            entry = [None, 0, 0, item]  # outside an event: no id, applied as it comes
        if ticket is not None and self.outbox.holds(ticket):  # exactly-once: batched once its event is whole
            self.outbox.hold(ticket, partial(self._place, where, entry, ticket))
        else:
            self._place(where, entry, ticket)

    def _place(self, where: tuple[str, int], entry: list[Any], ticket: Ticket | None) -> None:
        self._items[where].append(entry)
        if ticket is not None:
            ticket.pending += 1  # released when the record carrying the item is durable
            self._tickets[where].append(ticket)
        if len(self._items[where]) >= self.max_items:
            self._send(where)

    def flush(self) -> None:
        for where in list(self._items):
            self._send(where)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.max_delay_s)
            self.flush()

    def _send(self, where: tuple[str, int]) -> None:
        items = self._items.pop(where, [])
        tickets = self._tickets.pop(where, [])
        if not items:
            return
        for ticket in tickets:
            ticket.pending -= 1  # the record's own count takes over
        topic, partition = where
        self.outbox.send(topic, None, orjson.dumps({ITEMS: items}), partition=partition, tickets=tickets)
