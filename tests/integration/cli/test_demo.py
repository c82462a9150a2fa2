"""`streams demo` against a real worker: the stories land in the read models, fan-out and the dead-letter topic."""

from __future__ import annotations

import pytest

from agents.demo import scenario
from streams import headers as h
from streams.devstack.ports import free_port
from streams.recordpath.records import header
from tests.integration.harness import Worker, streams_cli, wait_caught_up
from tests.integration.orders.builders import read

pytestmark = pytest.mark.integration


def test_demo_tells_its_stories_and_every_check_passes(worker: Worker, stack_env: dict[str, str]) -> None:
    result = streams_cli(stack_env, "demo", "--orders", "8", "--seed", "42", "--worker", worker.url)
    assert result.returncode == 0, result.stdout + result.stderr
    told = scenario(orders=8, seed=42)
    checks = len(told.checks) + 1
    assert f"all {checks} checks passed" in result.stderr
    assert f"produced {len(told.steps)} events of 8 orders" in result.stderr
    assert "error class BadMagicByteError" in result.stderr
    assert result.stdout.count(" ok ") == len(told.checks)
    # What the demo did not check itself: the read models agree with the stories, fan-out went out.
    wait_caught_up(stack_env)  # the fan-out of the last events is durable too (a view shows them applied before)
    first = told.checks[0]
    assert worker.get(first.path).json()["status"] == first.expect["status"]
    fraud = [r.key for r in read(stack_env, "fraud-review")]
    assert fraud == [first.path.removeprefix("/orders/").encode()]
    notified = {r.key for r in read(stack_env, "notifications")}
    assert notified == {c.path.removeprefix("/orders/").encode() for c in told.checks if c.path.startswith("/orders/")}
    assert read(stack_env, "payments") == []  # commands come from the order saga alone, off here (the harness's)
    dead = [r for r in read(stack_env, "orders.dlq") if r.key == told.poison_key.encode()]
    assert len(dead) == 1
    assert header(dead[0].headers, h.DLQ_ERROR_CLASS) == b"BadMagicByteError"


def test_demo_without_a_worker_says_so_and_produces_nothing(stack_env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = streams_cli(stack_env, "demo", "--orders", "3", "--worker", url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"streams: error: no worker answers at {url}/health (ConnectError) (start the stack first "
                     "with `make run` (streams dev), or point STREAMS_WEB_HOST/STREAMS_WEB_PORT at a worker)"]
    assert read(stack_env, "orders") == []
