"""``faust_internals.drain.deliver``: a record is delivered, or abandoned, at the same points as in Faust's loop.

Faust's loop runs ``wait_first(callback(message), suspend_flow.wait())``; ours runs
the callback inline up to its first wait and only then falls back to that.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from pathlib import Path
from typing import Any

import pytest
from mode import Service
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams.app import build_app
from streams.recordpath.faust_internals.drain import LeanTransport, deliver
from streams.settings import Settings


class Door:
    """A conductor callback in miniature: wait for flow control, then queue the message.

    ``called`` is set once a call has run its first step (up to its first wait, if it waits): the test then
    knows where the callback is without giving it time; ``left`` once a call is over, however it ended."""

    def __init__(self) -> None:
        self.flow = FlowControlEvent(initially_suspended=False)
        self.queue: FlowControlQueue[Any] = FlowControlQueue(maxsize=2, flow_control=self.flow)
        self.cleaned_up: list[Any] = []
        self.called = asyncio.Event()
        self.left = asyncio.Event()

    async def __call__(self, message: Any) -> str:
        self.called.set()
        try:
            await self.flow.acquire()
            await self.queue.put(message)
            return f"queued {message}"
        finally:
            self.cleaned_up.append(message)
            self.left.set()


async def test_a_callback_that_does_not_wait_is_delivered_without_a_turn_of_the_loop() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    delivering = deliver(service, door, "a", suspended)
    with pytest.raises(StopIteration):
        delivering.send(None)  # done in one step: nothing scheduled, nothing awaited
    assert door.queue.get_nowait() == "a"


async def test_a_callback_that_waits_is_finished_once_it_can_go_on() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    door.flow.suspend()

    delivering = asyncio.ensure_future(deliver(service, door, "a", suspended))
    await door.called.wait()
    assert not delivering.done()  # waiting at the door
    assert door.queue.empty()

    door.flow.resume()
    await asyncio.wait_for(delivering, 1)
    assert door.queue.get_nowait() == "a"
    assert door.cleaned_up == ["a"]


async def test_a_waiting_callback_is_abandoned_when_the_flow_is_suspended() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    door.flow.suspend()

    delivering = asyncio.ensure_future(deliver(service, door, "a", suspended))
    await door.called.wait()  # waiting at the door
    suspended.set()
    await asyncio.wait_for(delivering, 1)
    await asyncio.wait_for(door.left.wait(), 1)  # the abandoned callback was cancelled: it can queue nothing later
    assert door.cleaned_up == ["a"]  # cancelled, not left hanging

    door.flow.resume()
    assert door.queue.empty()  # not delivered after all, as in Faust's loop


async def test_a_callback_waiting_on_a_full_queue_goes_on_when_there_is_room() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    for message in ("a", "b"):
        await deliver(service, door, message, suspended)

    door.called.clear()
    delivering = asyncio.ensure_future(deliver(service, door, "c", suspended))
    await door.called.wait()  # waiting for room
    assert not delivering.done()
    assert door.queue.get_nowait() == "a"
    await asyncio.wait_for(delivering, 1)
    assert [door.queue.get_nowait(), door.queue.get_nowait()] == ["b", "c"]


SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="none")


async def test_what_the_callback_sets_in_its_context_stays_in_it() -> None:
    service, suspended, go_on, waiting = Service(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    inside: list[str] = []

    async def setting(message: Any) -> None:
        token = SEEN.set(message)
        waiting.set()
        await go_on.wait()
        inside.append(SEEN.get())
        SEEN.reset(token)  # a token made before the wait still belongs to this context after it

    delivering = asyncio.ensure_future(deliver(service, setting, "a", suspended))
    await waiting.wait()  # it set its value and waits: the rest runs after a wait
    go_on.set()
    await asyncio.wait_for(delivering, 1)
    assert inside == ["a"]
    assert SEEN.get() == "none"


async def test_a_timeout_inside_the_callback_does_not_cancel_the_loop_that_delivers() -> None:
    service, suspended = Service(), asyncio.Event()

    async def with_timeout(message: Any) -> str:
        with contextlib.suppress(TimeoutError):  # as Faust's producer buffer does (flush_atmost)
            await asyncio.wait_for(asyncio.Event().wait(), timeout=0.01)  # from 3.12 on bound to the task
        return "delivered"

    async def drain() -> str:
        await deliver(service, with_timeout, "a", suspended)
        return "went on"

    assert await asyncio.wait_for(drain(), 1) == "went on"


@pytest.mark.parametrize("waits_first", [False, True])
async def test_an_error_in_the_callback_reaches_the_loop(waits_first: bool) -> None:
    service, suspended = Service(), asyncio.Event()

    async def failing(message: Any) -> None:
        if waits_first:
            await asyncio.sleep(0.001)
        raise ValueError(f"cannot decode {message}")

    with pytest.raises(ValueError, match="cannot decode a"):
        await deliver(service, failing, "a", suspended)


def test_the_app_consumes_through_the_lean_consumer(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, app_id="lean"))
    assert isinstance(app.transport, LeanTransport)
