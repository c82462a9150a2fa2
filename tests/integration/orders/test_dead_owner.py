"""A read routed to a worker killed with SIGKILL: 503 with Retry-After until the survivor can answer it, then 200.

Three workers share the orders partitions; reads of keys owned by the last are
sent to the first, which forwards them.  Once the last is killed, the
forward is refused: until the group's session timeout moves the partitions,
every such read answers 503 ``owner_unreachable`` with ``Retry-After`` (never a
500, a hang or a reset).  Then the survivor restores the moved partitions from
their changelogs and, meanwhile, answers 503 ``restoring`` (never a 404 for a
key that exists: every key read here was committed before the kill, so the
restored read model holds it); reads with ``?after=`` wait for the restore
within their ``?wait=`` instead.  Afterwards the survivor answers them itself.
Writes go on all along (202 each), and the final state is exact: every order
written before and after the kill reads back, and the stats count each once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner

from tests.integration.harness import Worker, wait_caught_up, wait_until

pytestmark = pytest.mark.integration
NOW = "2026-11-22T10:00:00Z"
SESSION_TIMEOUT_S = 20  # long enough that the reads right after the kill come before the move


def orders_partitions(worker: Worker, topic: str) -> set[int]:
    assigned = worker.get("/health").json()["assigned_partitions"]
    return {int(tp.rsplit(":", 1)[1]) for tp in assigned if tp.startswith(topic + ":")}


def checked(response: httpx.Response, key: str) -> str:
    """The answer's kind (``200`` or ``503 <code>``); anything but a right 200 or a 503 with Retry-After and
    the JSON error fails (a 404 included: every key read here exists)."""
    if response.status_code == 200:
        assert response.json()["order_id"] == key, response.text
        return "200"
    assert response.status_code == 503, f"{key}: {response.status_code} {response.text}"
    assert int(response.headers["Retry-After"]) > 0, response.headers
    error = response.json()["error"]
    assert error["message"], response.text
    return f"503 {error['code']}"


def test_reads_of_a_killed_owners_keys_answer_503_with_retry_after_until_its_partitions_move(
        stack_env: dict[str, str], tmp_path: Path) -> None:
    workers = 3  # two share the killed one's partitions (two of one: tests/integration/orders/test_crash.py)
    env = {**stack_env, "STREAMS_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S)}
    topic = f"{env['STREAMS_TOPIC_PREFIX']}orders"
    started = [Worker(env=env, data_dir=tmp_path / f"w{i}").start() for i in range(workers)]
    try:
        def split() -> bool:
            healths = [w.get("/health").json() for w in started]
            owned = [orders_partitions(w, topic) for w in started]
            return all(h["ready"] for h in healths) and set().union(*owned) == {0, 1, 2, 3}

        wait_until(split, timeout=90, what=f"{workers} workers ready, the orders partitions assigned")
        # Faust's assignor may leave a worker without an orders partition (a standby of others): the killed one
        # owns some, the survivor the reads go to is any other
        doomed = [w for w in started if orders_partitions(w, topic)][-1]
        survivor = next(w for w in started if w is not doomed)
        theirs = orders_partitions(doomed, topic)
        partitioner = DefaultPartitioner()
        keys: list[str] = []
        receipts: dict[str, str] = {}  # each key's ``after`` from its write
        while len(keys) < 6:  # order ids on the doomed worker's partitions
            key = f"dead-{uuid.uuid4().hex[:8]}"
            if partitioner(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3]) in theirs:
                keys.append(key)
        for key in keys:
            response = place(survivor, key)
            assert response.status_code == 202, response.text
            receipts[key] = response.json()["after"]
            read = survivor.get(f"/orders/{key}", after=response.json()["after"], wait="15")
            assert read.status_code == 200, read.text  # answered by the doomed worker, through the survivor
            assert read.json()["order_id"] == key
        wait_caught_up(env)  # every write committed: the restored read models hold every key, a 404 is a bug

        doomed.kill()
        counts: Counter[str] = Counter()
        first_round = [checked(survivor.get(f"/orders/{key}"), key) for key in keys]
        counts.update(first_round)
        if not theirs & orders_partitions(survivor, topic):  # not moved yet: the owner is dead, not replaced
            assert set(first_round) == {"503 owner_unreachable"}, first_round

        written: list[str] = []  # orders written while the killed worker's partitions move

        def all_answered() -> bool:
            written.append(f"later-{uuid.uuid4().hex[:8]}")
            counts.update([f"{place(survivor, written[-1]).status_code} POST"])
            answers = [checked(survivor.get(f"/orders/{key}"), key) for key in keys]
            counts.update(answers)
            key = keys[sum(counts.values()) % len(keys)]  # one read after its write too: it waits across a restore
            counts.update([f"{checked(survivor.get(f'/orders/{key}', after=receipts[key], wait='5'), key)} after="])
            return set(answers) == {"200"}

        wait_until(all_answered, timeout=SESSION_TIMEOUT_S + 90, interval=0.1,
                   what="the survivor answering every key of the killed worker")
        print(f"{workers} workers, one killed: reads of its keys and writes on the survivor, by answer: "
              f"{dict(counts)}")
        assert counts["202 POST"] == len(written), counts  # every write taken, whoever owned its partition
        wait_caught_up(env)
        for key in [*keys, *written]:  # the final state: every order once, on whichever worker owns it now
            assert checked(survivor.get(f"/orders/{key}"), key) == "200"
        stats = survivor.get("/stats").json()
        assert stats["orders_by_status"]["placed"] == len(keys) + len(written), diagnosis(started, doomed, stats)
    finally:
        for worker in reversed(started):
            worker.stop()


def diagnosis(workers: list[Worker], doomed: Worker, stats: dict[str, Any]) -> str:
    """What a wrong count needs to be explained: the stats' marks and generation as read, and each worker's
    recovery (resume points decided, stats stores emptied) and errors, from its log."""
    notes = [f"/stats: {stats}"]
    for i, worker in enumerate(workers):
        lines = [line for line in worker.log().splitlines()
                 if any(word in line for word in ("resume points", "table stats", "[ERROR]", "[CRITICAL]"))]
        notes.append(f"worker {i}{' (killed)' if worker is doomed else ''}:\n" + "\n".join(lines[-40:]))
    return "\n".join(notes)


def place(worker: Worker, key: str) -> httpx.Response:
    data: dict[str, Any] = {"order_id": key, "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                            "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}], "total_minor": 1}
    return httpx.post(f"{worker.url}/events", json={"type": "OrderPlaced", "data": data}, timeout=30)
