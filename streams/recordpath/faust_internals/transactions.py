"""Faust's commit, in exactly-once mode: the consumed offsets committed inside the outbox's transaction.

faust-streaming commits acknowledged offsets with its aiokafka consumer
(``Consumer.force_commit``, every ``broker_commit_interval`` or ``broker_commit_every``
acknowledgements, at a revocation and at the stop).  In exactly-once mode
``TransactionalCommit.force_commit`` replaces it (steps in
``streams.recordpath.transactions``): close the outbox's gate, send what the batcher
holds, wait for every record of the transaction, take one past the last event
acknowledged in order per partition (``InOrderAcks.acked``), and commit them with the
transaction.  Faust's own bookkeeping follows as after its
commit (``tables.on_commit``, ``_committed_offset``).  At a revocation Faust forgets the
revoked partitions' acknowledgements before it commits (``Consumer.on_partitions_revoked``):
``TransactionalCommit.on_partitions_revoked`` finishes and commits everything first.

The offsets go with the group's metadata, read from the aiokafka consumer Faust
joined the group with (``_coordinator.generation``, ``member_id``,
``_group_instance_id``; pinned in ``pins``): a worker that lost its partitions to a
rebalance is refused by the group coordinator (KIP-447), its transaction aborted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from time import monotonic
from typing import Any

from streams.recordpath.transactions import TransactionError, group_metadata_bytes

__all__ = ["TransactionalCommit", "group_metadata"]

log = logging.getLogger(__name__)


def group_metadata(consumer: Any) -> bytes:
    """The group metadata of Faust's consumer (``faust.transport.drivers.aiokafka.Consumer``), as librdkafka's.

    ``TransactionError`` when the consumer is not a member of the group now: aiokafka resets the generation to
    -1 when the group has dropped it (a worker away past the session timeout), and offsets sent with generation
    -1 are not checked against the group at all."""
    aio = consumer._thread._ensure_consumer()
    coordinator = aio._coordinator
    generation, member = coordinator.generation, coordinator.member_id
    if generation < 0 or not member:
        raise TransactionError("this worker is no longer a member of its group (it did not answer within the "
                               "session timeout): its open transaction was rolled back; the worker stops and the "
                               "partitions' new owner redoes the work")
    return group_metadata_bytes(aio._group_id, generation, member, coordinator._group_instance_id)


class TransactionalCommit:
    """Mixed into the consumer: ``force_commit`` commits inside the outbox's transaction when there is one."""

    app: Any
    _committed_offset: Any

    async def force_commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        outbox = getattr(self.app, "outbox", None)
        if outbox is None or outbox.transactions is None:
            return bool(await super().force_commit(topics, start_new_transaction))  # type: ignore[misc]
        return await self._commit_transaction(outbox)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Faust forgets the revoked partitions' acknowledgements before its revocation commits, so their events'
        records would go out without their offsets: in exactly-once mode the streams are stopped as Faust then
        stops them, every event started is finished, and all of it committed, first."""
        outbox = getattr(self.app, "outbox", None)
        consumer: Any = self
        assignment = consumer.assignment()
        if outbox is not None and outbox.transactions is not None and outbox.transactions.open and assignment \
                and not self.app.should_stop:
            consumer.stop_flow()
            self.app.flow_control.suspend()
            consumer.pause_partitions(assignment)
            self.app.flow_control.clear()
            await consumer.wait_empty()  # commits (``force_commit``) until every event taken is acknowledged
        self.app.acks.forget(revoked)
        await super().on_partitions_revoked(revoked)  # type: ignore[misc]

    async def _commit_transaction(self, outbox: Any) -> bool:
        consumer: Any = self
        transactions = outbox.transactions
        if not transactions.open:
            return False  # a commit failed: the worker is stopping
        self.app.batcher.flush()
        outbox.close_gate()
        try:
            await outbox.delivered()
            offsets = _to_commit(consumer, self.app.acks.acked)
            assignment = consumer.assignment()
            revoked = sorted(f"{tp.topic}:{tp.partition}" for tp in offsets if tp not in assignment)
            if revoked:
                raise TransactionError(f"partitions {', '.join(revoked)} were revoked while their transaction was "
                                       "open: its work was rolled back; the worker stops and it is redone by their "
                                       "owner")
            uncovered = transactions.uncovered({(tp.topic, tp.partition): offset for tp, offset in offsets.items()})
            if uncovered:  # records of events whose offsets cannot go with them: never commit those
                raise TransactionError(f"events of {', '.join(uncovered)} wrote records "
                                       "but cannot be acknowledged (their partition revoked, or an earlier event of "
                                       "it unfinished): the transaction was rolled back; the worker stops and they "
                                       "are processed again")
            if not offsets and not transactions.records:
                outbox.open_gate()
                return False
            metadata = group_metadata(consumer) if offsets else None
            committing = asyncio.get_running_loop().run_in_executor(
                None, transactions.commit, {(tp.topic, tp.partition): offset for tp, offset in offsets.items()},
                metadata)
            try:
                await asyncio.shield(committing)
            except asyncio.CancelledError:  # the worker stops: let the commit call end before anything else
                await asyncio.wait([committing])
                raise
        except TransactionError as exc:
            transactions.failed = True
            transactions.abort()
            log.critical("stopping: %s", exc.one_line())
            self.app.add_future(self.app.crash(exc))
            return False  # the gate stays closed: nothing more goes out
        except BaseException:
            transactions.failed = True  # never a clean stop; the shutdown aborts what is open
            raise
        outbox.open_gate()
        if offsets:  # Faust's bookkeeping after a commit (``_commit_offsets``, ``AIOKafkaConsumerThread.commit``)
            self.app.tables.on_commit(offsets)
            self._committed_offset.update(offsets)
            _forget_acks_below(consumer, offsets)
            consumer._thread.tp_last_committed_at.update(dict.fromkeys(offsets, monotonic()))
            self.app.monitor.on_tp_commit(offsets)
        return bool(offsets)



def _to_commit(consumer: Any, acked: Mapping[Any, int]) -> dict[Any, int]:
    """One past the last event acknowledged in order, per partition (``InOrderAcks.acked``), where that is past
    what is committed.  Not Faust's ``_new_offset``: its runs of acknowledged offsets have to bridge the offsets
    that hold no record (transaction markers) through its gap bookkeeping, and a run that began at a marker was
    never committed (seen at the end of a backlog on repartition topics)."""
    committed = consumer._committed_offset
    return {tp: offset + 1 for tp, offset in acked.items()
            if committed.get(tp) is None or offset + 1 > committed[tp]}


def _forget_acks_below(consumer: Any, offsets: Mapping[Any, int]) -> None:
    """What Faust keeps of acknowledgements below the committed offsets (its own commit would have popped it)."""
    for tp, offset in offsets.items():
        acked = consumer._acked.get(tp)
        if acked:
            acked[:] = [o for o in acked if o >= offset]
        index = consumer._acked_index.get(tp)
        if index:
            index.difference_update({o for o in index if o < offset})
        gap = consumer._gap.get(tp)
        if gap:
            gap.chop(0, offset)
