"""``streams replay`` against the stack ``make run`` starts (``streams dev``), its worker a member of the group.

A dry run shows the plan while the group is active; ``--execute`` is refused with the working path named;
``--restart-dev-worker`` has the stack stop its own worker for the reset and start it again, while its broker
runs on, and the rebuilt read models are what they were.
"""

from __future__ import annotations

import json
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from streams.connection import KafkaConnection
from streams.replay import GroupOffsets
from tests.integration.devstack.stack import java_pid, kill_all, start_dev, worker_pid
from tests.integration.harness import streams_cli, wait_caught_up, wait_until

pytestmark = pytest.mark.integration

ORDERS = 30
GROUP = "orders-app"  # the default STREAMS_APP_ID, which `make run` uses
AT = "2026-11-22T10:00:00Z"


def _views(client: httpx.Client, base: str, tag: str) -> dict[str, Any]:
    def strip(path: str) -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"{base}{path}").json()
        body.pop("_meta", None)
        return body

    return {"orders": {i: strip(f"/orders/{tag}-{i}") for i in range(ORDERS)},
            "customers": {c: strip(f"/customers/{tag}-c{c}") for c in range(3)},
            "stats": strip("/stats")}


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines at the terminal's width


def test_a_dev_stack_user_replays_and_rebuilds_without_losing_the_broker(tmp_path: Path) -> None:
    proc, web, registry = start_dev(tmp_path)
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    base, tag = f"http://127.0.0.1:{web}", uuid.uuid4().hex[:6]
    try:
        stack = tmp_path / "dev" / "stack.json"
        wait_until(stack.exists, timeout=120, what="the stack announced itself")  # written once all is up
        broker = json.loads(stack.read_text())["broker"]
        env = {"STREAMS_BROKER": f"kafka://{broker}", "STREAMS_DATA_DIR": str(tmp_path),
               "STREAMS_WEB_PORT": str(web), "STREAMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{registry}",
               "STREAMS_SESSION_TIMEOUT_S": "10",
               "STREAMS_SAGA": "false"}  # the replayed read models come from the test's events only
        with httpx.Client(timeout=30) as client:
            for i in range(ORDERS):
                order = f"{tag}-{i}"
                for event_type, data in (
                    ("OrderPlaced", {"order_id": order, "customer_id": f"{tag}-c{i % 3}", "currency": "EUR",
                                     "placed_at": AT, "total_minor": 100 + i,
                                     "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 100 + i}]}),
                    ("PaymentAuthorized", {"order_id": order, "payment_id": f"p-{i}", "amount_minor": 100 + i,
                                           "currency": "EUR", "authorized_at": AT}),
                ):
                    answer = client.post(f"{base}/events", json={"type": event_type, "data": data})
                    assert answer.status_code == 202, answer.text
            wait_until(lambda: client.get(f"{base}/stats").json()["orders_by_status"].get("paid") == ORDERS,
                       timeout=120, what="every order paid")
            wait_caught_up({**env, "STREAMS_APP_ID": GROUP})  # customers too, not only the stats that count paid
            before = _views(client, base, tag)
            assert GroupOffsets(KafkaConnection(broker)).members(GROUP), "the stack's worker is a member of the group"

            dry = streams_cli(env, "replay", "--to-earliest", "--rebuild", "orders")
            assert dry.returncode == 0, dry.stderr
            said = _flat(dry.stdout)
            assert "Would reset orders-app --to-earliest" in said
            assert "dry run: nothing changed" in said
            assert f"group '{GROUP}' is active (1 member(s)" in said
            assert "--execute needs it inactive" in said
            assert f"the `streams dev` stack's (pid {proc.pid}): add --restart-dev-worker" in said

            refused = streams_cli(env, "replay", "--to-earliest", "--rebuild", "orders", "--execute")
            assert refused.returncode == 1
            assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
            assert f"group '{GROUP}' has 1 active member(s)" in refused.stderr
            assert "stop them first" in refused.stderr
            assert "add --restart-dev-worker" in refused.stderr

            first_worker, java = worker_pid(proc.pid), java_pid(proc.pid)
            assert None not in (first_worker, java)
            done = streams_cli(env, "replay", "--to-earliest", "--rebuild", "orders", "--execute",
                               "--restart-dev-worker", timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "the dev stack's worker rebuilds orders into table orders-g1" in _flat(done.stdout)
            assert "the dev stack's worker is running again" in done.stderr
            assert proc.poll() is None, "the stack runs on"
            assert java_pid(proc.pid) == java, "the same broker throughout"
            assert worker_pid(proc.pid) not in (None, first_worker), "a new worker"
            assert any("worker    stopping: process" in line for line in printed), printed
            # The stack says so once it has announced the worker running (what the client waited for): read on.
            wait_until(lambda: any("worker    ready again" in line for line in printed), timeout=30,
                       what="'worker ready again' printed")

            def rebuilt() -> bool:
                return all(client.get(f"{base}/orders/{tag}-{i}").json()["_meta"]["generation"] == 1
                           for i in range(ORDERS))

            wait_until(rebuilt, timeout=120, what="every order served by the rebuilt generation")
            wait_caught_up({**env, "STREAMS_APP_ID": GROUP})
            assert _views(client, base, tag) == before
            history = [json.loads(line) for line in streams_cli(env, "replay", "--history", "--json")
                       .stdout.splitlines()]
            assert [h["kind"] for h in history] == ["replay-rebuild"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, printed
    finally:
        kill_all(proc)
        reader.join(timeout=30)
