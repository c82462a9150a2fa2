"""The demo runner's watch of stories a worker finishes itself, against a fake worker (httpx's mock transport) and a
fake ingest: it ends when they end, produces a held-back step once its gate opens, and gives up early, in the
scenario's words, when nothing it watches exists or everything open is stalled."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any, cast

import httpx

from streams.connection import KafkaConnection
from streams.demo import DemoGate, DemoRead, DemoRunner, DemoStep, DemoWatch, Scenario
from streams.position import Position


class FakeIngest:
    topic = "orders"
    producer: Any = None

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def prepare(self, body: Any) -> Any:
        return body

    def enqueue(self, prepared: Any) -> Future[Position]:
        self.sent.append(prepared)
        future: Future[Position] = Future()
        future.set_result(Position(self.topic, 0, len(self.sent) - 1))
        return future


class FakeWorker:
    """Answers GETs from ``resources`` (path -> JSON; absent: 404); ``on_get(path, calls)`` may change them."""

    def __init__(self, resources: dict[str, dict[str, Any]]) -> None:
        self.resources = resources
        self.calls: dict[str, int] = {}
        self.on_get = lambda path, calls: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] = self.calls.get(path, 0) + 1
        self.on_get(path, self.calls[path])
        if path not in self.resources:
            return httpx.Response(404, json={"error": {"message": "no such thing"}})
        return httpx.Response(200, json=self.resources[path])


def runner(worker: FakeWorker, ingest: FakeIngest) -> DemoRunner:
    run = DemoRunner(ingest, "http://worker", cast(KafkaConnection, None), wait_s=1.0)
    run._http = httpx.Client(base_url="http://worker", transport=httpx.MockTransport(worker))
    return run


def saga_watch(order: str, expect: Mapping[str, Any], stalled: Any = None) -> DemoWatch:
    return DemoWatch(f"{order}: a story", f"/sagas/{order}", "status", frozenset({"completed", "failed"}), expect,
                     show=("status", "reason"), then=(DemoRead("order", f"/orders/{order}", {"status": "completed"}),),
                     missing="no saga here", stalled=stalled)


def scenario(*watches: DemoWatch, steps: tuple[DemoStep, ...] = (), **bounds: float) -> Scenario:
    return Scenario(steps=steps, checks=(), poison_key="p", watches=watches, **bounds)  # type: ignore[arg-type]


def test_watches_end_when_their_stories_end_and_a_gated_step_goes_once_its_gate_opens() -> None:
    worker = FakeWorker({"/sagas/a": {"status": "running", "step": "payment"}})
    ingest = FakeIngest()

    def move(path: str, calls: int) -> None:
        if path == "/sagas/a" and calls == 3:
            worker.resources["/sagas/a"] = {"status": "running", "step": "shipment"}
        if path == "/sagas/a" and calls == 5:
            worker.resources["/sagas/a"] = {"status": "completed", "step": None, "reason": None}
            worker.resources["/orders/a"] = {"status": "completed"}
        if path == "/sagas/b" and len(ingest.sent) == 2:  # b placed: its story ends at once
            worker.resources["/sagas/b"] = {"status": "failed", "reason": "out of stock"}
            worker.resources["/orders/b"] = {"status": "failed"}

    worker.on_get = move
    gated = DemoStep({"type": "OrderPlaced", "order": "b"}, DemoGate("/sagas/a", "step", frozenset({"shipment"})))
    told = scenario(saga_watch("a", {"status": "completed"}), saga_watch("b", {"status": "failed"}),
                    steps=(DemoStep({"type": "OrderPlaced", "order": "a"}), gated))
    run = runner(worker, ingest)
    positions = run.produce(told)
    assert ingest.sent == [{"type": "OrderPlaced", "order": "a"}]
    assert positions[1] is None
    seen: list[tuple[int, int, str]] = []
    report = run.watch(told, positions, progress=lambda *a: seen.append(a), interval=0.01)
    assert report.stopped == []
    assert ingest.sent[1] == {"type": "OrderPlaced", "order": "b"}
    assert positions[1] == Position("orders", 0, 1)
    a, b = report.outcomes
    assert a.ok
    assert a.got == {"status": "completed", "reason": None}
    assert a.reads == ({"status": "completed"},)
    assert not b.ok
    assert b.got["status"] == "failed"
    assert b.reads == ({"status": "failed"},)
    assert seen[0][:2] == (0, 2)
    assert seen[-1][:2] == (2, 2)
    assert "running 1" in seen[0][2]


def test_every_watched_path_missing_stops_the_watch_in_the_scenario_words() -> None:
    worker = FakeWorker({})
    told = scenario(saga_watch("a", {"status": "completed"}), saga_watch("b", {"status": "completed"}),
                    missing_after_s=0.2, watch_s=30)
    report = runner(worker, FakeIngest()).watch(told, [], interval=0.01)
    assert report.stopped == ["none of 2 stories was found after 0s: no saga here"]
    assert [o.error for o in report.outcomes] == ["not found", "not found"]
    assert not any(o.ok for o in report.outcomes)


def test_everything_open_stalled_stops_the_watch_with_each_reason_once() -> None:
    worker = FakeWorker({"/sagas/a": {"status": "completed"}, "/orders/a": {"status": "completed"},
                         "/sagas/b": {"status": "running", "step": "payment"},
                         "/sagas/c": {"status": "running", "step": "payment"}})

    def stalled(saga: Mapping[str, Any]) -> str | None:
        return f"nobody answers {saga['step']}"

    told = scenario(saga_watch("a", {"status": "completed"}), saga_watch("b", {}, stalled),
                    saga_watch("c", {}, stalled), watch_s=30)
    report = runner(worker, FakeIngest()).watch(told, [], interval=0.01, stall_s=0.1)
    assert report.stopped == ["nobody answers payment"]
    assert [o.ok for o in report.outcomes] == [True, False, False]
    assert report.outcomes[1].error == "not ended: status=running"


def test_a_story_that_does_not_stall_is_waited_for_until_the_bound() -> None:
    worker = FakeWorker({"/sagas/a": {"status": "running", "step": "payment"}})
    told = scenario(saga_watch("a", {"status": "completed"}, lambda saga: None), watch_s=0.2)
    report = runner(worker, FakeIngest()).watch(told, [], interval=0.01, stall_s=0.05)
    assert report.stopped == ["1 of 1 stories had not ended after 0s"]
    assert worker.calls["/sagas/a"] > 3


def test_a_story_held_back_behind_a_stalled_one_does_not_keep_the_watch_waiting() -> None:
    worker = FakeWorker({"/sagas/a": {"status": "running", "step": "payment"}})
    held = DemoStep({"type": "OrderPlaced", "order": "b"}, DemoGate("/sagas/a", "step", frozenset({"shipment"})))
    told = scenario(saga_watch("a", {}, lambda saga: "nobody answers"), saga_watch("b", {}),
                    steps=(DemoStep({"type": "OrderPlaced", "order": "a"}), held), watch_s=30)
    ingest = FakeIngest()
    run = runner(worker, ingest)
    report = run.watch(told, run.produce(told), interval=0.01, stall_s=0.1)
    assert report.stopped == ["nobody answers"]
    assert [o.error for o in report.outcomes] == ["not ended: status=running", "not found"]
    assert len(ingest.sent) == 1  # b never went
