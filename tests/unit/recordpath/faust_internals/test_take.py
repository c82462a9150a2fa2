"""An agent's events taken a batch at a time: what Faust's iterator did per event that the record path relies on
(skip a stale event, track, make current) is done, and the loop gets a turn as often as it is told."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from faust.streams import current_event
from mode.utils.queues import FlowControlEvent, ThrowableQueue

from streams.recordpath.faust_internals import events


@dataclass(eq=False)
class Message:
    topic: str
    offset: int
    generation_id: int = 1
    tracked: bool = False


@dataclass(eq=False)
class Event:
    message: Message
    acked: int = 0

    def ack(self) -> bool:
        self.acked += 1
        return True


@dataclass
class Flow:
    """Faust's flow control, scripted: ``stopped`` answers False, in turn, before it answers True for good."""

    stopped: list[bool] = field(default_factory=list)

    def is_active(self) -> bool:
        return not self.stopped.pop(0) if self.stopped else True


@dataclass
class Consumer:
    tracked: list[int] = field(default_factory=list)

    def track_message(self, message: Message) -> None:
        self.tracked.append(message.offset)


class Topics:
    def acks_enabled_for(self, topic: str) -> bool:
        return topic == "orders"


@dataclass
class App:
    flow_control: Flow = field(default_factory=Flow)
    consumer: Consumer = field(default_factory=Consumer)
    topics: Topics = field(default_factory=Topics)
    consumer_generation_id: int = 1


def queue_of(kind: type[ThrowableQueue[Any]]) -> ThrowableQueue[Any]:
    """A channel's queue as Faust makes it (``put_nowait`` does not wait for the flow)."""
    return kind(flow_control=FlowControlEvent(initially_suspended=False))


class Stream:
    """An agent's stream as ``events`` reads it: its app and its channel's queue, mode's ``ThrowableQueue`` as in
    Faust."""

    def __init__(self, app: App, queued: list[Event], queue: ThrowableQueue | None = None) -> None:
        self.app = app
        self.channel = type("Channel", (), {"queue": queue if queue is not None else queue_of(ThrowableQueue)})()
        for event in queued:
            self.channel.queue.put_nowait(event)


async def take(stream: Stream, count: int, *, turn_after_s: float = 0.0, **kwargs: Any) -> list[Any]:
    """The first ``count`` events ``events`` yields, each with the event current as the agent had it."""
    seen: list[Any] = []
    async for event in events(stream, turn_after_s=turn_after_s, **kwargs):
        seen.append((event, current_event()))
        if len(seen) == count:
            break
    return seen


def test_events_come_in_order_each_tracked_once_and_current_while_the_agent_has_it() -> None:
    queued = [Event(Message("orders", n)) for n in range(4)]
    queued[1].message.tracked = True  # already tracked: not again
    app = App()
    seen = asyncio.run(take(Stream(app, queued), 4))
    assert [event for event, _ in seen] == queued
    assert all(current is event for event, current in seen)
    assert app.consumer.tracked == [0, 2, 3]
    assert all(event.acked == 0 for event in queued)  # acknowledging is the agent's


def test_a_topic_without_acks_is_not_tracked() -> None:
    app = App()
    seen = asyncio.run(take(Stream(app, [Event(Message("replies", 0))]), 1))
    assert len(seen) == 1
    assert app.consumer.tracked == []


def test_an_event_of_an_earlier_generation_is_skipped_and_never_acknowledged() -> None:
    app = App(consumer_generation_id=2)
    stale = Event(Message("orders", 0, generation_id=1))
    fresh = Event(Message("orders", 1, generation_id=2))
    seen = asyncio.run(take(Stream(app, [stale, fresh]), 1))
    assert [event for event, _ in seen] == [fresh]
    assert (stale.acked, fresh.acked) == (0, 0)  # acknowledged, it could be committed unprocessed
    assert app.consumer.tracked == [1]


def test_an_event_come_to_while_the_flow_is_stopped_is_skipped_and_never_acknowledged() -> None:
    """A rebalance stops the flow while ``taken`` waits in the agent's hands: it is skipped, to be fetched again
    after the rebalance's seek; once the flow is back, ``after`` goes through."""
    app = App(flow_control=Flow(stopped=[True]))
    taken, after = Event(Message("orders", 0)), Event(Message("orders", 1))
    seen = asyncio.run(take(Stream(app, [taken, after]), 1))
    assert [event for event, _ in seen] == [after]
    assert (taken.acked, after.acked) == (0, 0)
    assert app.consumer.tracked == [1]


def test_with_no_hold_the_loop_gets_a_turn_after_every_event_and_the_clock_is_never_read() -> None:
    def clock() -> float:
        raise AssertionError("the clock is read with no hold to time")

    async def run() -> list[bool]:
        stream = Stream(App(), [Event(Message("orders", n)) for n in range(3)])
        turned: list[bool] = []
        flag = {"ran": False}
        async for _ in events(stream, turn_after_s=0.0, clock=clock):
            turned.append(flag["ran"])
            flag["ran"] = False
            asyncio.get_running_loop().call_soon(lambda: flag.update(ran=True))
            if len(turned) == 3:
                break
        return turned

    assert asyncio.run(run()) == [False, True, True]


def test_the_loop_gets_a_turn_once_the_agent_has_held_it_long_enough_and_not_before() -> None:
    """A clock the test owns: 0.4 ms per event, a turn after 1 ms, so after every third event."""
    ticks = itertools.count(0.0, 0.0004)

    async def run() -> list[bool]:
        stream = Stream(App(), [Event(Message("orders", n)) for n in range(5)])
        turned: list[bool] = []
        flag = {"ran": False}
        asyncio.get_running_loop().call_soon(lambda: flag.update(ran=True))
        async for _ in events(stream, turn_after_s=0.001, clock=lambda: next(ticks)):
            turned.append(flag["ran"])
            if len(turned) == 5:
                break
        return turned

    assert asyncio.run(run()) == [False, False, False, True, True]


def test_the_loop_gets_a_turn_when_all_that_was_taken_is_given() -> None:
    async def run() -> list[bool]:
        stream = Stream(App(), [Event(Message("orders", 0))])
        flag = {"ran": False}
        seen: list[bool] = []
        async for event in events(stream, turn_after_s=1.0, clock=lambda: 0.0):  # the clock never calls for one
            seen.append(flag["ran"])
            if event.message.offset == 1:
                break
            asyncio.get_running_loop().call_soon(lambda: flag.update(ran=True))
            stream.channel.queue.put_nowait(Event(Message("orders", 1)))  # queued after event 0 was taken
        return seen

    assert asyncio.run(run()) == [False, True]


def test_the_actors_stop_ends_the_events_after_those_taken_before_it() -> None:
    """Faust throws StopAsyncIteration into the channel to stop an actor: the agent's loop ends (it is not an
    error); events taken before it are still given, as Faust's iterator, one at a time, would have."""
    queued = [Event(Message("orders", n)) for n in range(2)]

    class StopAfterFirst(ThrowableQueue[Any]):
        async def get(self) -> Any:
            first = await super().get()
            self._throw(StopAsyncIteration())  # thrown while the batch is taken
            return first

    async def run(queue_type: type[ThrowableQueue[Any]], stop_first: bool) -> list[Any]:
        queue = queue_of(queue_type)
        if stop_first:
            queue._throw(StopAsyncIteration())
        return [event async for event in events(Stream(App(), queued, queue), turn_after_s=0.0)]

    assert asyncio.run(run(ThrowableQueue, stop_first=True)) == []
    assert asyncio.run(run(StopAfterFirst, stop_first=False)) == queued[:1]
