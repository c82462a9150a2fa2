import asyncio
import time
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streams.errors import TransientError
from streams.lag import GroupLag, PartitionLag, Status
from streams.lag import monitor as monitor_module
from streams.lag.metrics import LagGauges
from streams.lag.monitor import HISTORY, LagMonitor, throughput

Point = tuple[int, int | None, int]  # (partition, committed, log_end)


def group(at: float, *points: Point, name: str = "app", topic: str = "orders",
          members: Iterable[str] = ("m1",), lag_seconds: float = 0.0) -> GroupLag:
    return GroupLag(group=name, state="STABLE", members=list(members), partitions=[
        PartitionLag(group=name, topic=topic, partition=p, committed=c, log_end=e, lag=e - (c or 0),
                     lag_seconds=lag_seconds, sampled_at=at) for p, c, e in points])


class FakeSampler:
    """Answers each ``sample`` call with the next scripted step: a list of groups, or an exception to raise."""

    def __init__(self, *steps: Callable[[], list[GroupLag]] | BaseException,
                 then: Callable[[], list[GroupLag]] | None = None) -> None:
        self.steps = list(steps)
        self.then = then or list
        self.asked: list[list[str]] = []
        self.closed = False

    def sample(self, groups: Iterable[str]) -> list[GroupLag]:
        self.asked.append(list(groups))
        step = self.steps.pop(0) if self.steps else self.then
        if isinstance(step, BaseException):
            raise step
        return step()

    def close(self) -> None:
        self.closed = True


class FakeTally:
    def __init__(self, *counts: list[dict[str, Any]]) -> None:
        self.counts = list(counts)
        self.closed = False

    def refresh(self) -> list[dict[str, Any]]:
        return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]

    def close(self) -> None:
        self.closed = True


def monitor(sampler: FakeSampler, *, window: int = 10, tally: FakeTally | None = None,
            interval_s: float = 5.0, groups: Iterable[str] = ("app",)) -> tuple[LagMonitor, CollectorRegistry]:
    registry = CollectorRegistry()
    return LagMonitor(sampler, LagGauges(registry), groups=list(groups), tally=tally,
                      interval_s=interval_s, window=window), registry


def gauge(registry: CollectorRegistry, name: str, partition: int, *, group_name: str = "app",
          topic: str = "orders") -> float | None:
    return registry.get_sample_value(name, {"group": group_name, "topic": topic, "partition": str(partition)})


# throughput


def test_throughput_without_a_previous_sample_is_zero() -> None:
    assert throughput(None, group(10.0, (0, 5, 10))) == {"consumed_per_s": 0.0, "produced_per_s": 0.0}


def test_throughput_from_committed_and_log_end_deltas() -> None:
    before = group(100.0, (0, 10, 50), (1, None, 10), (2, 7, 7))
    after = group(102.0, (0, 30, 90), (1, 5, 20), (2, 8, 9), (3, 0, 1000))
    # consumed: p0 20, p1 ignored (committed None before), p2 1 -> 21 / 2s
    # produced: p0 40, p1 10, p2 2 -> 52 / 2s; p3 appeared only now: ignored
    assert throughput(before, after) == {"consumed_per_s": 10.5, "produced_per_s": 26.0}


def test_throughput_ignores_a_committed_offset_that_disappeared() -> None:
    before = group(0.0, (0, 10, 10))
    after = group(1.0, (0, None, 15))
    assert throughput(before, after) == {"consumed_per_s": 0.0, "produced_per_s": 5.0}


def test_throughput_counts_a_rewind_as_zero() -> None:
    before = group(0.0, (0, 100, 100), (1, 10, 20))
    after = group(4.0, (0, 0, 100), (1, 14, 20))  # p0 reset to the start, not -100 records
    assert throughput(before, after) == {"consumed_per_s": 1.0, "produced_per_s": 0.0}


def test_throughput_counts_a_shrinking_log_end_as_zero() -> None:
    before = group(0.0, (0, 5, 100))
    after = group(1.0, (0, 5, 3))  # topic deleted and recreated
    assert throughput(before, after) == {"consumed_per_s": 0.0, "produced_per_s": 0.0}


def test_throughput_rounds_to_two_places() -> None:
    assert throughput(group(0.0, (0, 0, 0)), group(3.0, (0, 1, 2))) == {"consumed_per_s": 0.33,
                                                                        "produced_per_s": 0.67}


@pytest.mark.parametrize(("before", "after"), [
    (group(5.0, (0, 0, 0)), group(5.0, (0, 10, 10))),   # same instant
    (group(6.0, (0, 0, 0)), group(5.0, (0, 10, 10))),   # clock went back
    (group(5.0), group(6.0, (0, 10, 10))),              # no partitions before
    (group(5.0, (0, 0, 0)), group(6.0)),                # none after
])
def test_throughput_without_a_usable_interval_is_zero(before: GroupLag, after: GroupLag) -> None:
    assert throughput(before, after) == {"consumed_per_s": 0.0, "produced_per_s": 0.0}


# LagMonitor.sample_once


SNAPSHOT_KEYS = {"sampled_at", "interval_s", "window", "error", "groups", "history", "dead_letters"}


def test_snapshot_before_any_sample() -> None:
    mon, _ = monitor(FakeSampler(), window=4, interval_s=2.5)
    snap = mon.snapshot()
    assert set(snap) == SNAPSHOT_KEYS
    assert snap == {"sampled_at": None, "interval_s": 2.5, "window": 4, "error": None, "groups": [],
                    "history": [], "dead_letters": []}


def test_sample_once_builds_the_snapshot() -> None:
    sampler = FakeSampler(lambda: [group(100.0, (0, 10, 20), (1, 5, 5), lag_seconds=1.5)],
                          lambda: [group(102.0, (0, 10, 30), (1, 9, 9), lag_seconds=2.5)])
    tally = FakeTally([{"topic": "orders-dlq", "reason": "decode_error", "count": 3}])
    mon, _ = monitor(sampler, window=5, tally=tally, interval_s=1.0, groups=["app", "other", "app"])
    started = time.time()
    mon.sample_once()
    first = mon.snapshot()
    assert set(first) == SNAPSHOT_KEYS
    assert sampler.asked == [["app", "other"]]  # deduplicated, in order
    assert started - 0.001 <= first["sampled_at"] <= time.time() + 0.001  # rounded to the millisecond
    assert (first["error"], first["window"], first["interval_s"]) == (None, 5, 1.0)
    assert first["dead_letters"] == [{"topic": "orders-dlq", "reason": "decode_error", "count": 3}]
    [app] = first["groups"]
    assert (app["group"], app["status"], app["total_lag"]) == ("app", "OK", 10)
    assert app["throughput"] == {"consumed_per_s": 0.0, "produced_per_s": 0.0}
    assert [p["status"] for p in app["partitions"]] == ["OK", "OK"]

    mon.sample_once()
    second = mon.snapshot()
    [app] = second["groups"]
    # committed stuck at 10 with lag and a member: stalled after two samples; the group is its worst partition
    assert app["status"] == "STALLED"
    assert [p["status"] for p in app["partitions"]] == ["STALLED", "OK"]
    assert app["throughput"] == {"consumed_per_s": 2.0, "produced_per_s": 7.0}  # (0+4)/2, (10+4)/2
    assert first["groups"][0]["status"] == "OK"  # the earlier snapshot was not touched


def test_stopped_when_the_group_has_no_members() -> None:
    sampler = FakeSampler(lambda: [group(0.0, (0, 10, 20), members=())],
                          lambda: [group(1.0, (0, 10, 20), members=())])
    mon, registry = monitor(sampler)
    mon.sample_once()
    mon.sample_once()
    assert mon.snapshot()["groups"][0]["status"] == "STOPPED"
    assert registry.get_sample_value("streams_consumer_group_status", {"group": "app"}) == Status.STOPPED
    assert registry.get_sample_value("streams_consumer_group_members", {"group": "app"}) == 0


def test_status_is_evaluated_over_the_configured_window() -> None:
    steps = [(50, 100), (0, 100), (5, 100), (10, 100)]  # a rewind, then steady progress
    scripted = [lambda c=c, e=e, i=i: [group(float(i), (0, c, e))] for i, (c, e) in enumerate(steps)]
    statuses = {}
    for size in (2, 3):
        mon, _ = monitor(FakeSampler(*scripted), window=size)
        seen = []
        for _ in steps:
            mon.sample_once()
            seen.append(mon.snapshot()["groups"][0]["status"])
        statuses[size] = seen
    assert statuses[2] == ["OK", "REWIND", "OK", "OK"]         # the rewind leaves a 2-sample window at once
    assert statuses[3] == ["OK", "REWIND", "REWIND", "OK"]     # and a 3-sample window one sample later


def test_history_records_lag_per_group_topic_partition() -> None:
    sampler = FakeSampler(lambda: [group(0.0, (0, 10, 20), lag_seconds=4.0),
                                   group(0.0, (3, None, 7), name="other", topic="payments", lag_seconds=0.5)])
    mon, _ = monitor(sampler, groups=["app", "other"])
    mon.sample_once()
    [point] = mon.snapshot()["history"]
    assert point["t"] == mon.snapshot()["sampled_at"]
    assert point["lag"] == {"app|orders|0": 10, "other|payments|3": 7}
    assert point["lag_seconds"] == {"app|orders|0": 4.0, "other|payments|3": 0.5}


def test_history_is_bounded() -> None:
    counter = iter(range(10**6))

    def step() -> list[GroupLag]:
        n = next(counter)
        return [group(float(n), (0, n, n + 1))]

    mon, _ = monitor(FakeSampler(then=step))
    for _ in range(HISTORY + 5):
        mon.sample_once()
    history = mon.snapshot()["history"]
    assert len(history) == HISTORY
    assert history[0]["lag"] == {"app|orders|0": 1}
    assert [h["t"] for h in history] == sorted(h["t"] for h in history)
    assert history[-1] is not history[0]


def test_snapshot_history_is_a_copy() -> None:
    mon, _ = monitor(FakeSampler(then=lambda: [group(0.0, (0, 1, 2))]))
    mon.sample_once()
    held = mon.snapshot()
    mon.sample_once()
    assert len(held["history"]) == 1
    assert len(mon.snapshot()["history"]) == 2


def test_gauges_are_exported_and_labels_of_departed_partitions_removed() -> None:
    sampler = FakeSampler(lambda: [group(0.0, (0, 10, 25), (1, None, 4), lag_seconds=3.0)],
                          lambda: [group(1.0, (0, 20, 25))])
    mon, registry = monitor(sampler)
    mon.sample_once()
    assert gauge(registry, "streams_consumer_lag_messages", 0) == 15
    assert gauge(registry, "streams_consumer_lag_messages", 1) == 4
    assert gauge(registry, "streams_consumer_lag_seconds", 0) == 3.0
    assert gauge(registry, "streams_consumer_committed_offset", 0) == 10
    assert gauge(registry, "streams_consumer_committed_offset", 1) == -1
    assert gauge(registry, "streams_consumer_log_end_offset", 0) == 25
    assert gauge(registry, "streams_consumer_partition_status", 0) == Status.OK
    assert registry.get_sample_value("streams_consumer_group_members", {"group": "app"}) == 1
    mon.sample_once()
    assert gauge(registry, "streams_consumer_lag_messages", 0) == 5
    assert gauge(registry, "streams_consumer_committed_offset", 0) == 20
    for name in ("streams_consumer_lag_messages", "streams_consumer_lag_seconds",
                 "streams_consumer_committed_offset", "streams_consumer_log_end_offset",
                 "streams_consumer_partition_status"):
        assert gauge(registry, name, 1) is None, name


def test_group_labels_go_when_the_group_is_gone() -> None:
    sampler = FakeSampler(lambda: [group(0.0, (0, 1, 2)), group(0.0, (0, 1, 2), name="old")],
                          lambda: [group(1.0, (0, 2, 2))])
    mon, registry = monitor(sampler, groups=["app", "old"])
    mon.sample_once()
    assert registry.get_sample_value("streams_consumer_group_status", {"group": "old"}) == 0
    mon.sample_once()
    assert registry.get_sample_value("streams_consumer_group_status", {"group": "old"}) is None
    assert registry.get_sample_value("streams_consumer_group_status", {"group": "app"}) == 0


def test_dead_letters_are_refreshed_every_sample() -> None:
    tally = FakeTally([], [{"topic": "t-dlq", "reason": "r", "count": 1}])
    mon, _ = monitor(FakeSampler(then=list), tally=tally)
    mon.sample_once()
    assert mon.snapshot()["dead_letters"] == []
    mon.sample_once()
    assert mon.snapshot()["dead_letters"] == [{"topic": "t-dlq", "reason": "r", "count": 1}]


def test_a_failed_sample_once_leaves_the_snapshot_alone() -> None:
    sampler = FakeSampler(lambda: [group(0.0, (0, 1, 2))], TransientError("broker down"))
    mon, _ = monitor(sampler)
    mon.sample_once()
    before = mon.snapshot()
    with pytest.raises(TransientError):
        mon.sample_once()
    assert mon.snapshot() is before  # sample_once raised before replacing anything


def test_close_closes_the_sampler_and_the_tally() -> None:
    sampler, tally = FakeSampler(), FakeTally([])
    mon, _ = monitor(sampler, tally=tally)
    mon.close()
    assert sampler.closed
    assert tally.closed
    without, _ = monitor(FakeSampler(), tally=None)
    without.close()  # no tally: nothing to close


# LagMonitor.run


class Pauses:
    """``LagMonitor.run``'s pause between two samples, held until the test lets it go: ``paused()`` gives the gate
    of the next pause (once the monitor is in it); ``asked`` is how long each pause was to last."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[float] = []
        self._gates: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        monkeypatch.setattr(monitor_module, "asyncio", SimpleNamespace(to_thread=asyncio.to_thread, sleep=self._sleep))

    async def _sleep(self, delay: float) -> None:
        self.asked.append(delay)
        gate = asyncio.get_running_loop().create_future()
        self._gates.put_nowait(gate)
        await gate

    async def paused(self) -> asyncio.Future[None]:
        return await self._gates.get()


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_run_survives_a_failing_sampler_and_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = FakeSampler(TransientError("broker down", hint="check it"),
                          lambda: [group(0.0, (0, 1, 2))],
                          RuntimeError("boom"),
                          then=lambda: [group(1.0, (0, 2, 2))])
    mon, _ = monitor(sampler)
    pauses = Pauses(monkeypatch)
    seen: list[dict[str, Any]] = []
    task = asyncio.create_task(mon.run())
    try:
        for _ in range(4):
            gate = await pauses.paused()
            seen.append(mon.snapshot())  # as the sample before this pause left it
            gate.set_result(None)
    finally:
        await stopped(task)
    after_broker_down, after_ok, after_boom, after_recovery = seen
    assert after_broker_down["error"] == "broker down"
    assert after_broker_down["groups"] == []
    assert after_ok["error"] is None
    assert after_ok["groups"][0]["partitions"][0]["committed"] == 1
    assert after_boom["error"] == "RuntimeError: boom"
    assert after_boom["groups"] == after_ok["groups"]  # the last good sample stays, marked with the error
    assert set(after_boom) == SNAPSHOT_KEYS
    assert after_recovery["error"] is None
    assert after_recovery["groups"][0]["partitions"][0]["committed"] == 2
    assert not sampler.closed  # run does not close; its owner does


async def test_run_waits_interval_between_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = FakeSampler(then=list)
    mon, _ = monitor(sampler, interval_s=30.0)
    pauses = Pauses(monkeypatch)
    task = asyncio.create_task(mon.run())
    try:
        gate = await pauses.paused()
        assert (len(sampler.asked), pauses.asked) == (1, [30.0])  # one sample, then a pause of the interval
        gate.set_result(None)
        await pauses.paused()
        assert (len(sampler.asked), pauses.asked) == (2, [30.0, 30.0])  # the next one only once it is over
    finally:
        await stopped(task)
