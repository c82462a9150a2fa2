"""Time to resume after kill -9 of one of two workers: restarted with its static instance id, restarted without
static membership, and not restarted.

    python -m bench.failover [--session-timeout S] [--rounds K]

A broker and a registry of the bench's own run on loopback.  Per case, two workers of a fresh group share the
four ``orders`` partitions; one is killed with SIGKILL and, at once, one order per partition it owned is sent
through the survivor (``POST /events``).  The time measured runs from the kill until the survivor answers 200
for every one of those orders (reads of a key another worker owns are forwarded to it): until the dead worker's
partitions are processed again, by it restarted or by the survivor.  Every wait is bounded (the session timeout
plus two minutes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka.partitioner import DefaultPartitioner

from bench.pipeline import local_stack
from streams.devstack.worker import WorkerProcess

CASES = ("restarted, static id", "restarted, no static id", "not restarted")
NOW = "2026-11-22T10:00:00Z"


def orders_partitions(worker: WorkerProcess, topic: str) -> set[int]:
    assigned = worker.get("/health").json()["assigned_partitions"]
    return {int(tp.rsplit(":", 1)[1]) for tp in assigned if tp.startswith(topic + ":")}


def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def one_case(case: str, base_env: dict[str, str], root: Path, session_timeout: float) -> float:
    tag = uuid.uuid4().hex[:8]
    env = {**base_env, "STREAMS_TOPIC_PREFIX": f"f{tag}.", "STREAMS_APP_ID": f"failover-{tag}",
           "STREAMS_SESSION_TIMEOUT_S": f"{session_timeout:g}"}
    if case != "restarted, static id":
        env["STREAMS_INSTANCE_ID"] = ""  # dynamic membership, as before static ids
    topic = f"f{tag}.orders"
    survivor = WorkerProcess(env=env, data_dir=root / f"{tag}-a").start(timeout=120)
    doomed = WorkerProcess(env=env, data_dir=root / f"{tag}-b").start(timeout=120)
    bound = session_timeout + 120
    try:
        until(lambda: all(w.get("/health").json()["ready"] and len(orders_partitions(w, topic)) == 2
                          for w in (survivor, doomed)), bound, "two orders partitions per worker")
        theirs = orders_partitions(doomed, topic)
        partitioner = DefaultPartitioner()
        keys: dict[int, str] = {}
        while len(keys) < len(theirs):
            key = f"fo-{uuid.uuid4().hex[:8]}"
            partition = partitioner(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3])
            if partition in theirs:
                keys.setdefault(partition, key)
        doomed.kill()
        t0 = time.monotonic()
        for key in keys.values():
            data = {"order_id": key, "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                    "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}], "total_minor": 1}
            response = httpx.post(f"{survivor.url}/events", json={"type": "OrderPlaced", "data": data}, timeout=30)
            if response.status_code != 202:
                raise SystemExit(f"POST /events answered {response.status_code}: {response.text}")
        if case != "not restarted":
            doomed.start(timeout=bound)  # same data dir (and so the same kept instance id), same port

        def answered() -> bool:
            return all(survivor.get(f"/orders/{key}").status_code == 200 for key in keys.values())

        until(answered, bound, f"the killed worker's partitions processed again ({case})")
        return time.monotonic() - t0
    finally:
        doomed.stop()
        survivor.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--session-timeout", type=float, default=60.0, help="STREAMS_SESSION_TIMEOUT_S of the runs")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {case: [] for case in CASES}
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp, local_stack(Path(tmp)) as (broker, registry):
        env = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
               "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning"}
        for round_ in range(args.rounds):
            for case in CASES:
                seconds = one_case(case, env, Path(tmp), args.session_timeout)
                figures[case].append(seconds)
                print(f"round {round_ + 1}, {case}: {seconds:.1f} s from kill -9 to its partitions processed again",
                      flush=True)
    print(f"session timeout {args.session_timeout:g} s, heartbeat {min(args.session_timeout / 3, 3):g} s; "
          f"median of {args.rounds} round(s):")
    for case, values in figures.items():
        print(f"  {case:<26} {statistics.median(values):6.1f} s")


if __name__ == "__main__":
    main()
