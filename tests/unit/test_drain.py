"""``streams.drain.deliver``: a record is delivered, or abandoned, at the same points as in Faust's own drain loop.

Faust's loop runs ``wait_first(callback(message), suspend_flow.wait())``; ours runs
the callback inline up to its first wait and only then falls back to that.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from mode import Service
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams.app import build_app
from streams.drain import LeanConsumer, LeanTransport, deliver
from streams.settings import Settings


class Door:
    """A conductor callback in miniature: wait for flow control, then queue the message."""

    def __init__(self) -> None:
        self.flow = FlowControlEvent(initially_suspended=False)
        self.queue: FlowControlQueue[Any] = FlowControlQueue(maxsize=2, flow_control=self.flow)
        self.cleaned_up: list[Any] = []

    async def __call__(self, message: Any) -> str:
        try:
            await self.flow.acquire()
            await self.queue.put(message)
            return f"queued {message}"
        finally:
            self.cleaned_up.append(message)


def tasks_now() -> int:
    return len(asyncio.all_tasks())


async def test_a_callback_that_does_not_wait_runs_inline_without_tasks() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    before = tasks_now()
    made: list[int] = []

    async def counting(message: Any) -> str:
        made.append(tasks_now())
        return await door(message)

    await deliver(service, counting, "a", suspended)

    assert door.queue.get_nowait() == "a"
    assert made == [before]  # no task was made for it


async def test_a_callback_that_waits_is_finished_once_it_can_go_on() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    door.flow.suspend()

    delivering = asyncio.ensure_future(deliver(service, door, "a", suspended))
    await asyncio.sleep(0.01)
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
    await asyncio.sleep(0.01)
    suspended.set()
    await asyncio.wait_for(delivering, 1)
    await asyncio.sleep(0)  # the abandoned callback's cancellation runs

    door.flow.resume()
    await asyncio.sleep(0.01)
    assert door.queue.empty()  # not delivered after all, as in Faust's loop
    assert door.cleaned_up == ["a"]  # and the callback was cancelled, not left hanging


async def test_a_callback_waiting_on_a_full_queue_goes_on_when_there_is_room() -> None:
    door, service, suspended = Door(), Service(), asyncio.Event()
    for message in ("a", "b"):
        await deliver(service, door, message, suspended)

    delivering = asyncio.ensure_future(deliver(service, door, "c", suspended))
    await asyncio.sleep(0.01)
    assert not delivering.done()
    assert door.queue.get_nowait() == "a"
    await asyncio.wait_for(delivering, 1)
    assert [door.queue.get_nowait(), door.queue.get_nowait()] == ["b", "c"]


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
    assert LeanTransport.Consumer is LeanConsumer
