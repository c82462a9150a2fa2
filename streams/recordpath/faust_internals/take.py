"""An agent's events taken from its channel's queue a batch at a time, around Faust's per-event stream iterator.

``async for event in stream.noack().events()`` costs, per event, a turn of the event
loop (Faust's iterator awaits ``sleep(0)`` before every event), a chain of four
coroutines to take it from the queue (its quick path is off unless the opt-in
``cython_optimizations`` setting is on), the stream's processors and merge step, and
the sensors' calls on the way in and out.  ``events(stream)`` yields the same events
and does, per event, only what Faust's iterator does that the record path relies on
(its ``_prepare_event``), as the agent comes to each:

* an event fetched in an earlier generation of the group, or come to while the flow is
  stopped (a rebalance), is skipped.  Faust's iterator also acknowledges it; here it is
  not.  Faust takes one event at a time and empties the queues when the flow stops, so
  it skips at most the one it holds.  Here up to ``TAKE_MAX`` may be taken before the
  stop: acknowledged, they could be committed unprocessed (the commit takes the
  acknowledged offsets that follow the committed one).  Left unacknowledged, they are
  fetched again: the end of the rebalance seeks every stream partition to its committed
  offset (``faust_internals.resume``);
* the event's message is tracked (``Consumer.track_message``): the revocation's and
  the stop's ``wait_empty`` wait for it until the agent acknowledges it;
* the event is made current (``faust.streams.current_event``): tables find their
  partition through it.

The events are taken from the queue the conductor fills, as many as it holds (up to
``TAKE_MAX``), waiting only when it is empty.  The loop gets a turn once the agent has
held it ``turn_after_s`` since the last (``STREAMS_AGENT_TURN_MS``; and whenever all it
took is given): HTTP reads and the other agents wait at most about that long per agent.
By default (0) that is after every event, as Faust's iterator.  A turn of a busy loop
is not cheap: 1 ms (three or four events) took about a fifth off the CPU per event
of a backlog, and doubled GET's latency while it lasted (``docs/benchmarks.md``).
Acknowledging is the agent's, as with ``noack()``.  Faust's stream sensors
(``on_stream_event_in``/``out``) are not called: the app has none
(``faust_internals.app`` removes the Monitor, the only one).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from faust.streams import _current_event

__all__ = ["TAKE_MAX", "events"]

TAKE_MAX = 100
"""Events taken from the queue at once (the rest wait there, where a rebalance can empty them)."""


async def events(stream: Any, *, turn_after_s: float, most: int = TAKE_MAX,
                 clock: Callable[[], float] = time.perf_counter) -> AsyncIterator[Any]:
    """The events of an agent's ``stream``, unacknowledged (``noack``), as ``stream.noack().events()`` gives them;
    the loop gets a turn once the agent has held it ``turn_after_s`` (``STREAMS_AGENT_TURN_MS``; 0: after every
    event, without reading the clock)."""
    app = stream.app
    queue = stream.channel.queue
    flow = app.flow_control
    consumer = app.consumer
    acking = app.topics.acks_enabled_for
    track = consumer.track_message
    current = _current_event.set
    taken: deque[Any] = deque()
    stopped = False
    while taken or not stopped:
        if not taken:
            try:  # raises what was thrown into the channel, as Faust's iterator does
                taken.append(await queue.get())
                while len(taken) < most and not queue.empty():
                    taken.append(queue.get_nowait())
            except StopAsyncIteration:  # the actor stops (Faust throws it into the channel): the end of the events
                stopped = True  # after those taken before it, as Faust's iterator would have come to it
                continue
        turn_at = clock() + turn_after_s if turn_after_s else 0.0
        while taken:
            event = taken.popleft()
            message = event.message
            if not flow.is_active() or message.generation_id != app.consumer_generation_id:
                continue  # never acknowledged: fetched again after the rebalance's seek
            if not message.tracked and acking(message.topic):
                message.tracked = True
                track(message)
            current(weakref.ref(event))
            yield event
            if not turn_after_s or clock() >= turn_at:
                break
        await asyncio.sleep(0)
