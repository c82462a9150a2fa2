"""Restoring a changelog that ends in records a ``read_committed`` consumer never sees.

Faust restores a table partition until it has applied the record at the changelog's
highwater, which it takes as the last stable offset minus one.  A changelog written in
transactions (``STREAMS_PROCESSING_GUARANTEE=exactly_once``) ends with a commit marker,
or with records of a transaction that was aborted (a worker killed before its commit):
the last offset below the stable one is not a record the consumer delivers, and Faust
would wait for it for ever (its own check for this runs only in its exactly-once mode,
``Recovery._slurp_changelogs``' ``detect_aborted_tx``, gated on ``app.in_transaction``).

``MarkerAwareRecovery.need_recovery`` settles such a partition: once the consumer's
position is past the highwater, Faust's changelog queue is empty and no changelog record
has arrived for ``QUIET_S`` (so none fetched is still on its way to the queue), the
partition is taken as restored to its highwater.  Faust asks on every record and on
each 5-second timeout of its queue, so a partition ending in a marker is done within
about five seconds of its last record.  It is installed in both guarantees: an
at-least-once worker may restore a changelog an exactly-once one wrote.

``_seek_offsets`` also reads an offset Faust's seek cannot take (below -1, or None: both
left by a rebalance in the middle of a recovery) as the start of the changelog, where
Faust's seek raised and crashed the worker.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from aiokafka import TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery

__all__ = ["QUIET_S", "MarkerAwareRecovery", "MarkerAwareTableManager", "seekable"]

QUIET_S = 2.0
"""How long no changelog record may have arrived before the consumer's position is trusted over the records."""


class MarkerAwareRecovery(Recovery):
    def need_recovery(self) -> bool:
        if not super().need_recovery():
            return False
        if not self.tables.changelog_queue.empty():
            return True
        last = max(self._active_events_received_at.values(), default=self._recovery_started_at or 0.0)
        if monotonic() - last < QUIET_S:
            return True
        for tp, highwater in self.active_highwaters.items():
            offset = self.active_offsets[tp]
            if highwater is not None and offset is not None and offset < highwater:
                position = _position(self.app.consumer, tp)
                if position is not None and position > highwater:
                    self.active_offsets[tp] = highwater  # the rest are markers or aborted records
        return bool(super().need_recovery())

    async def _seek_offsets(self, consumer: Any, tps: Any, offsets: Any, title: str) -> None:
        """Faust's seek, with an offset it cannot seek to read as the start of the changelog (``seekable``)."""
        seekable(tps, offsets)
        await super()._seek_offsets(consumer, tps, offsets, title)


def seekable(tps: Any, offsets: Any) -> None:
    """Make ``offsets[tp]`` of each of ``tps`` one Faust's seek takes: -1 (the start) for None or below -1.

    Both made the seek raise ``ValueError`` and crash the worker, each while the group rebalanced again in the
    middle of a recovery:

    * below -1: ``_build_offsets`` takes the earliest offset minus one, and an earliest offset of -1 (asked while
      the group rebalances again) gave -2 (seen with two workers, the second rebalance three seconds after the
      first);
    * None: Faust sets it for a partition added to the recovery with no offset in its store, and
      ``_build_offsets`` replaces it; a rebalance that adds standby partitions after that step of a recovery
      under way, and before its standby seek, left None there (seen when a frozen worker came back and rejoined
      as it stopped: the other worker crashed and nobody processed their partitions).

    The start is always safe: the recovery that the new rebalance starts seeks again from where it decides."""
    for tp in tps:
        offset = offsets[tp]
        if offset is None or offset < -1:
            offsets[tp] = -1


class MarkerAwareTableManager(TableManager):
    """Faust's table manager, with ``MarkerAwareRecovery`` (the app's ``TableManager`` setting)."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = MarkerAwareRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


def _position(consumer: Any, tp: Any) -> int | None:
    """The next offset the aiokafka consumer under Faust's will return for ``tp`` (read from its own thread's
    state: an int, read whole), or None while it has none."""
    try:
        aio = consumer._thread._ensure_consumer()
        state = aio._fetcher._subscriptions.subscription.assignment.state_value(TopicPartition(tp.topic, tp.partition))
    except (AttributeError, KeyError):
        return None
    if state is None or not state.has_valid_position:
        return None
    return int(state.position)
