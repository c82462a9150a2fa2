import asyncio

import pytest

from streams.errors import DeadlineError
from streams.freshness import Watermarks


async def waiting(marks: Watermarks, offsets: list[int]) -> None:
    """Until the reads waiting on orders[1] are for ``offsets`` (each task's first step registers its wait)."""
    async with asyncio.timeout(5):
        while marks.waiting("orders", 1) != offsets:
            await asyncio.sleep(0)


async def test_wait_returns_once_offset_is_applied_and_an_advance_releases_only_what_it_covers() -> None:
    marks = Watermarks()
    waiter = asyncio.create_task(marks.wait_for("orders", 1, 5, timeout=5))
    marker = asyncio.create_task(marks.wait_for("orders", 1, 4, timeout=5))
    await waiting(marks, [5, 4])
    marks.advance("orders", 1, 4)
    assert marks.waiting("orders", 1) == [5]  # offset 4's read released at once, offset 5's still waits
    await marker
    marks.advance("orders", 1, 5)
    assert marks.waiting("orders", 1) == []
    await asyncio.wait_for(waiter, 1)
    assert marks.applied("orders", 1) == 5


async def test_wait_times_out_with_a_504_error() -> None:
    marks = Watermarks()
    marks.advance("orders", 0, 3)
    with pytest.raises(DeadlineError) as info:
        await marks.wait_for("orders", 0, 10, timeout=0.05)
    assert info.value.http_status == 504
    assert "applied: 3" in info.value.message


async def test_already_applied_returns_at_once_and_marks_never_go_back() -> None:
    marks = Watermarks()
    marks.advance("orders", 2, 9)
    marks.advance("orders", 2, 4)
    assert marks.applied("orders", 2) == 9
    await marks.wait_for("orders", 2, 9, timeout=0.01)
    assert marks.applied("orders", 3) == -1


async def test_until_rechecks_the_predicate_after_each_advance() -> None:
    marks = Watermarks()
    state = {"ready": False}
    checks: asyncio.Queue[bool] = asyncio.Queue()  # what each check of the predicate answered

    def ready() -> bool:
        checks.put_nowait(state["ready"])
        return state["ready"]

    waiter = asyncio.create_task(marks.until(ready, timeout=5, what="x"))
    assert await checks.get() is False  # checked once: it waits
    marks.advance("t", 0, 1)  # wakes it, predicate still false
    assert await checks.get() is False  # checked again
    assert not waiter.done()
    state["ready"] = True
    marks.advance("t", 0, 2)
    await asyncio.wait_for(waiter, 1)
    assert checks.get_nowait() is True


async def test_until_times_out_with_504() -> None:
    with pytest.raises(DeadlineError, match="customer c1"):
        await Watermarks().until(lambda: False, timeout=0.05, what="customer c1")
