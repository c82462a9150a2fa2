"""Resuming the streams after a rebalance without dropping the records fetched meanwhile.

faust-streaming 0.15.3 ends recovery (``Recovery.on_recovery_completed``, and
``_resume_streams`` for an app without tables) in this order:

1. it sends ``on_rebalance_complete``;
2. it resumes the stream partitions: the fetcher starts putting their records
   in the agents' queues, and counts each as read;
3. it seeks every assigned partition to its committed offset, one request per
   partition (about 400 ms for the 41 partitions of a busy worker here);
4. ``flow_control.resume()`` empties every agent's queue.

What was fetched during 3 is in the queues at 4 and is thrown away.  Faust has
counted those records as read, so it never fetches them again: their events
are not applied until the worker restarts, and the group's commit stops for
good at the first of them, since nothing after the hole is consecutive with it
(faust-streaming issue #596).  Measured here, before this module: a worker
restarted with a backlog skipped offsets 88 to 269 of every partition of
``orders``; the read models missed those events, and a PaymentAuthorized whose
OrderPlaced was in the hole was rejected.

``hold_streams`` runs at 1 and closes the window:

* it suspends flow control, so the first record fetched after 2 waits at the
  queue's door (Faust's ``on_message`` waits for flow control first) and
  nothing is queued until 4 has emptied the queues: nothing is lost.  It
  empties the queues too, as Faust does whenever it suspends: an agent that
  comes to an event while flow is suspended skips it (``take``; Faust's own
  iterator acknowledged it too).  None
  should be queued at 1 (the stream partitions were paused during recovery),
  and one that was is fetched again after the seek below;
* it seeks the stream partitions to their committed offsets itself, before 2,
  so that first record is the one at the committed offset.  Faust's own seek
  in 3 comes too late for it: after a rebalance, a partition this worker kept
  is still positioned past the records its queues held when they were emptied
  at the start of the rebalance.  A partition with nothing committed goes to
  the start of its log (the app's ``auto.offset.reset`` is earliest).
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.errors import KafkaError as AIOKafkaError
from confluent_kafka import KafkaException

__all__ = ["hold_streams"]

log = logging.getLogger(__name__)


async def hold_streams(sender: Any, **kwargs: Any) -> None:
    """``on_rebalance_complete`` receiver: hold the streams until Faust has emptied its queues (see above)."""
    app = sender
    app.flow_control.suspend()
    app.flow_control.clear()  # as Faust does when it suspends: a queued event would be skipped
    changelogs = app.tables.changelog_topics
    streams = {tp for tp in app.consumer.assignment() if tp.topic not in changelogs}
    if not streams:
        return
    try:
        await _seek_to_committed(app, streams)
    except (TimeoutError, KafkaException, AIOKafkaError) as exc:  # still held; Faust's own seek follows
        log.warning("could not seek %d stream partitions before Faust resumes them (%s: %s); a partition kept "
                    "through this rebalance may skip what its queue held until the worker restarts",
                    len(streams), type(exc).__name__, exc)


async def _seek_to_committed(app: Any, streams: set[Any]) -> None:
    committed = await app.committed_offsets(streams)
    at = {tp: committed[(tp.topic, tp.partition)] for tp in streams if (tp.topic, tp.partition) in committed}
    never = [tp for tp in streams if tp not in at]
    log.info("streams held until Faust resumes them: %d partitions at their committed offsets, %d at the log start",
             len(at), len(never))
    if never:
        at.update(await app.consumer.earliest_offsets(*never))
    await app.consumer.seek_wait(at)
