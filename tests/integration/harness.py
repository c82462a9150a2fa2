"""Workers as real processes (``python -m streams.cli worker``) for integration tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.connection import KafkaConnection
from streams.devstack.ports import free_port
from streams.devstack.worker import WorkerProcess
from streams.errors import TransientError
from streams.lag import LagSampler
from streams.registry import ThreadedRegistry
from streams.settings import Settings

__all__ = ["ROOT", "STARTED", "Restartable", "Worker", "by_status", "caught_up", "metric", "streams_cli",
           "wait_caught_up", "wait_until", "worker_env"]

ROOT = Path(__file__).resolve().parents[2]

STARTED: list[Worker] = []
"""Workers started by the current test; their log tails are shown when it fails (conftest)."""


class Worker(WorkerProcess):
    """A worker process of the current test: its log tail is shown when the test fails (conftest)."""

    def start(self, timeout: float = 90.0, ready_path: str = "/health") -> Worker:
        STARTED.append(self)
        super().start(timeout=timeout, ready_path=ready_path)
        return self


def worker_env(broker_url: str, registry_url: str, **settings: str) -> dict[str, str]:
    """Settings for workers of one test (or module) only: its own topic prefix and app id; ``settings`` on top."""
    tag = uuid.uuid4().hex[:8]
    return {
        "STREAMS_BROKER": broker_url,
        "STREAMS_SCHEMA_REGISTRY_URL": registry_url,
        "STREAMS_TOPIC_PREFIX": f"t{tag}.",
        "STREAMS_APP_ID": f"orders-{tag}",
        "STREAMS_TOPIC_PARTITIONS": "4",
        "STREAMS_LOG_LEVEL": "info",
        # The suites of the read models judge them by the events they produce; an order saga would add its own
        # (OrderFailed when nobody answers its commands).  The saga's suites turn it on.
        "STREAMS_SAGA": "false",
        **settings,
    }


def by_status(worker: WorkerProcess) -> dict[str, int]:
    """``/stats``' orders by status; empty while the worker answers 503 (a rebalance: partitions moving or
    being restored), which a test waiting on the counts waits out."""
    response = worker.get("/stats")
    if response.status_code == 503:
        return {}
    assert response.status_code == 200, response.text
    return dict(response.json()["orders_by_status"])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.2,
               what: str | Callable[[], str] = "condition") -> Any:
    """``predicate()`` once it is truthy; ``what`` (or what it returns, when the wait fails) names the wait."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what if isinstance(what, str) else what()} "
                         f"(last: {last!r})")


def caught_up(env: dict[str, str]) -> bool:
    """Whether the group of ``env``'s app has committed everything there is on every partition it reads, sampled now.

    A committed offset covers only records whose state and outputs are durable, and the committed offsets are read
    before the log ends: if they are equal, every record written before this call was applied, everything it wrote
    is in its topic (deltas, fan-out, dead letters, changelogs), and those outputs were applied in turn. So what
    the read models and topics show then is final until the test writes again: "nothing was double-counted" can
    be asserted at once.  (Sampled by the test itself: a worker's ``/api/lag`` answers with its last sample, which
    may be older than the records the test just wrote.)  The partitions are those the group has committed on and
    those its members are assigned: ask while a worker of the group runs.  A group in a rebalance is not caught up:
    its members hold no assignment then, and a topic nobody has committed on yet would go unseen.
    """
    sampler = LagSampler(Settings(broker=env["STREAMS_BROKER"]).kafka)  # every node of a cluster's URL list
    try:
        groups = sampler.sample([env["STREAMS_APP_ID"]], seconds=False)
    except TransientError:  # the broker busy (a coordinator moving, a broker back from the dead): not yet
        return False
    finally:
        sampler.close()
    if any(g.state not in ("STABLE", "EMPTY") for g in groups):
        return False  # mid-rebalance no member is assigned: topics never committed on would be missed
    partitions = [p for g in groups for p in g.partitions]
    return bool(partitions) and all(p.lag == 0 for p in partitions)


def wait_caught_up(env: dict[str, str], timeout: float = 120.0) -> None:
    """Until ``caught_up(env)``: every record written so far applied, and all it wrote durable."""
    wait_until(lambda: caught_up(env), timeout=timeout, what=f"group {env['STREAMS_APP_ID']} caught up")


def streams_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``streams <args>`` as a user runs it, with ``env`` on top of this process's environment."""
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, in a Prometheus exposition."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total


class Restartable:
    """A registry that can go away and come back, same port, same storage topic (or, ``empty``, a new one:
    a registry that answers, but knows no schema: a permanent error for records written with its ids)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.topic = f"_schemas-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.running: ThreadedRegistry | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, empty: bool = False) -> None:
        topic = f"_schemas-{uuid.uuid4().hex[:8]}" if empty else self.topic
        self.running = ThreadedRegistry(KafkaConnection(self.bootstrap), topic, self.port).start()

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None
