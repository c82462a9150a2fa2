"""An agent's events taken from its channel's queue a batch at a time, around Faust's per-event stream iterator.

``async for event in stream.noack().events()`` costs, per event, a turn of the event
loop (Faust's iterator awaits ``sleep(0)`` before every event), a chain of four
coroutines to take it from the queue (its quick path is off unless the opt-in
``cython_optimizations`` setting is on), the stream's processors and merge step, and
the sensors' calls on the way in and out.  ``events(stream)`` yields the same events
and does, per event, only what Faust's iterator does that the record path relies on
(its ``_prepare_event``):

* an event fetched in an earlier generation of the group, or come to while the flow is
  stopped (a rebalance), is skipped.  Faust's iterator also acknowledges it; here it is
  not.  Faust takes one event at a time and empties the queues when the flow stops, so
  it skips at most the one it holds.  A batch holds up to ``TAKE_MAX`` taken before the
  stop: acknowledged, they could be committed unprocessed (the commit takes the
  acknowledged offsets that follow the committed one).  Left unacknowledged, they are
  fetched again: the end of the rebalance seeks every stream partition to its committed
  offset (``faust_internals.resume``);
* the event's message is tracked (``Consumer.track_message``): the revocation's and
  the stop's ``wait_empty`` wait for it until the agent acknowledges it;
* the event is made current (``faust.streams.current_event``): tables find their
  partition through it.

The events are taken from the queue the conductor fills: up to ``TAKE_MAX`` at once,
waiting only when it is empty; the loop gets a turn between batches, so HTTP reads and
the other agents wait at most a batch's processing.  Acknowledging is the agent's, as
with ``noack()``.  Faust's stream sensors (``on_stream_event_in``/``out``) are not
called: the app has none (``faust_internals.app`` removes the Monitor, the only one).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any

from faust.streams import _current_event

__all__ = ["TAKE_MAX", "events"]

TAKE_MAX = 10
"""Events taken from the queue between two turns of the event loop (the drain loop's ``YIELD_EVERY``)."""


async def events(stream: Any, *, most: int = TAKE_MAX) -> AsyncIterator[Any]:
    """The events of an agent's ``stream``, unacknowledged (``noack``), as ``stream.noack().events()`` gives them."""
    app = stream.app
    queue = stream.channel.queue
    flow = app.flow_control
    consumer = app.consumer
    acking = app.topics.acks_enabled_for
    track = consumer.track_message
    current = _current_event.set
    stopped = False
    while not stopped:
        batch: list[Any] = []
        try:  # raises what was thrown into the channel, as Faust's iterator does
            batch.append(await queue.get())
            while len(batch) < most and not queue.empty():
                batch.append(queue.get_nowait())
        except StopAsyncIteration:  # the actor stops (Faust throws it into the channel): the end of the events
            if not batch:
                return
            stopped = True  # after the events taken before it, as Faust's iterator would have come to it
        for event in batch:
            message = event.message
            if not flow.is_active() or message.generation_id != app.consumer_generation_id:
                continue  # never acknowledged: fetched again after the rebalance's seek
            if not message.tracked and acking(message.topic):
                message.tracked = True
                track(message)
            current(weakref.ref(event))
            yield event
        await asyncio.sleep(0)
