"""Acknowledging each partition's events in offset order, whatever order their writes become durable in.

An event is acknowledged once everything it wrote is durable (``streams.recordpath.outbox``),
and that happens out of order: one event's records wait in a repartition batch
while the next one's single dead letter is delivered at once.  Faust then commits
the first run of consecutive acknowledged offsets, but faust-streaming 0.15.3
(``Consumer._new_offset``) does not check that the run starts right after the
committed offset: not at all while nothing is committed yet, and one offset too
far otherwise.  So an early acknowledgement could commit past an event whose
writes are still in flight, and a crash then would lose them.  Handing Faust
each partition's acknowledgements in offset order makes its acknowledged
offsets one run that starts where the commit is: the commit can only ever cover
events that are durable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable

__all__ = ["InOrderAcks"]


class _Pending:
    __slots__ = ("ack", "offset", "ready")

    def __init__(self, ack: Callable[[], None], offset: int | None) -> None:
        self.ack = ack
        self.offset = offset
        self.ready = False


class InOrderAcks:
    """Per partition, runs acknowledgements in the order their events were taken, each once its own is ready.

    ``acked`` keeps, per partition, the offset of the last event acknowledged: in exactly-once mode the
    transaction commits one past it (``faust_internals.transactions``), whatever offsets in between hold no
    record (transaction markers), where Faust's own reckoning stumbled."""

    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[_Pending]] = {}
        self.acked: dict[Hashable, int] = {}

    def track(self, partition: Hashable, ack: Callable[[], None], offset: int | None = None) -> Callable[[], None]:
        """Take the next event of ``partition`` (at ``offset``); call the returned function once it may be
        acknowledged."""
        queue = self._queues.get(partition)
        if queue is None:
            queue = self._queues[partition] = deque()
        pending = _Pending(ack, offset)
        queue.append(pending)
        acked = self.acked

        def ready() -> None:
            pending.ready = True
            while queue and queue[0].ready:
                done = queue.popleft()
                done.ack()
                if done.offset is not None:
                    acked[partition] = done.offset

        return ready

    def forget(self, partitions: Iterable[Hashable]) -> None:
        """Partitions given up: their last acknowledged offsets are no longer this worker's to commit."""
        for partition in partitions:
            self.acked.pop(partition, None)
