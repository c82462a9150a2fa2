import asyncio

import pytest

from streams.errors import DeadlineError
from streams.freshness import Watermarks


async def test_wait_returns_once_offset_is_applied() -> None:
    marks = Watermarks()
    waiter = asyncio.create_task(marks.wait_for("orders", 1, 5, timeout=5))
    await asyncio.sleep(0)
    marks.advance("orders", 1, 4)
    await asyncio.sleep(0)
    assert not waiter.done()
    marks.advance("orders", 1, 5)
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
    waiter = asyncio.create_task(marks.until(lambda: state["ready"], timeout=5, what="x"))
    await asyncio.sleep(0.01)
    marks.advance("t", 0, 1)  # wakes it, predicate still false
    await asyncio.sleep(0.01)
    assert not waiter.done()
    state["ready"] = True
    marks.advance("t", 0, 2)
    await asyncio.wait_for(waiter, 1)


async def test_until_times_out_with_504() -> None:
    with pytest.raises(DeadlineError, match="customer c1"):
        await Watermarks().until(lambda: False, timeout=0.05, what="customer c1")
