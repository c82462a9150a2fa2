"""Throughput and latency of the order pipeline, side by side in one run on one broker.

    python -m bench.pipeline [--events N] [--rate R] [--rounds K]

(a) our agents on one worker, (b) the naive Faust agent in bench/naive_app.py
doing the same, twice: decode, four read models and commit only (issue 4's
workload), then with fan-out and ``--poison-rate`` garbage records (1% by
default: dead letters); (c) raw confluent-kafka consume (the ceiling); then
end-to-end latency at a fixed moderate rate (POST /events -> GET ?after=
answered), GET latency while a backlog is processed, and the worker's peak
memory (VmHWM).  With ``--rounds K`` the (a)/(b) pairs run K times, alternating,
and the ratios are given per round and as their median: runs on a shared
machine vary by 20% or more, the naive agent's most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

from agents.app import create_ingest
from agents.topics import topic_specs
from streams.devstack.cluster import KafkaCluster
from streams.devstack.worker import WorkerProcess as Worker
from streams.lag import LagSampler
from streams.registry.threaded import ThreadedRegistry
from streams.scan import scan
from streams.settings import Settings
from streams.topics import ensure_topics


@contextmanager
def local_stack(root: Path, brokers: int = 1) -> Iterator[tuple[KafkaCluster, ThreadedRegistry]]:
    """A broker (or a cluster of ``brokers`` nodes) and a registry of the bench's own on loopback, under
    ``root``; stopped at the end."""
    settings = Settings()
    cluster = KafkaCluster(data_dir=root / "kafka", cache_dir=settings.kafka_cache_dir, brokers=brokers,
                           kafka_home=settings.kafka_home).start()
    try:
        registry = ThreadedRegistry(cluster.connection).start()
        try:
            yield cluster, registry
        finally:
            registry.stop()
    finally:
        cluster.stop()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def produce(settings: Settings, n: int, poison_rate: float = 0.0) -> int:
    """N records to ``orders``: OrderPlaced, and about ``poison_rate`` of them garbage (each its own key)."""
    ensure_topics(settings.kafka.admin(), topic_specs(settings),
                  replication_factor=settings.replication_factor, min_insync_replicas=settings.min_insync_replicas)
    # an untraced client: the worker's sampling alone decides (a traced one would make it record every event)
    ingest = create_ingest(settings.model_copy(update={"otlp_endpoint": None}), "bench")
    t0 = time.perf_counter()
    every = round(1 / poison_rate) if poison_rate else 0
    poison = 0
    failed: list[BaseException] = []

    def delivered(future: Future[Any]) -> None:
        error = future.exception()
        if error is not None:
            failed.append(error)

    for i in range(n):
        if every and i % every == every // 2:
            ingest.producer.produce(ingest.topic, f"poison-{i}".encode(), b"\x07not avro").add_done_callback(
                delivered)
            poison += 1
            continue
        ingest.enqueue(ingest.prepare({"type": "OrderPlaced", "data": {
            "order_id": f"o-{i}", "customer_id": f"c-{i % 5000}", "currency": "EUR",
            "placed_at": "2026-11-22T10:00:00Z", "total_minor": 1500,
            "items": [{"sku": f"sku-{i % 300}", "quantity": 3, "unit_price_minor": 500}]}})).add_done_callback(
                delivered)
    ingest.close()
    if failed:  # the run would wait for records that are not there until its deadline
        raise SystemExit(f"bench: {len(failed)} of {n} records were not delivered to {ingest.topic} "
                         f"({failed[0]}); run the bench again")
    print(f"produced {n - poison} OrderPlaced and {poison} poison records in {time.perf_counter() - t0:.1f}s",
          flush=True)
    return poison


def committed_total(admin: AdminClient, group: str, topic: str) -> int:
    try:
        result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
    except Exception:
        return 0
    return sum(tp.offset for tp in result.topic_partitions if tp.topic == topic and tp.offset > 0)


def settings_from(env: dict[str, str]) -> Settings:
    """Settings for the bench process itself, from a worker's STREAMS_* env (os.environ stays untouched)."""
    return Settings(**{key.removeprefix("STREAMS_").lower(): value for key, value in env.items()
                       if key.startswith("STREAMS_")})


WARM_UP = 30
"""Requests sent first and timed apart: on a fresh worker the very first takes about 1.1 s (connections, schema
registration) and the first one or two of each partition about 100 ms (the GET waiting; aiokafka's 100 ms
prefetch backoff, by its look, not traced further), where later ones take 10 to 25 ms."""


def end_to_end(base: dict[str, str], root: Path, rate: float) -> tuple[list[float], list[float]]:
    """POST /events then GET ?after= on a fresh worker at ``rate`` per second: ``WARM_UP`` times, then 300."""
    worker = Worker(env={**base, "STREAMS_APP_ID": "lat-only", "STREAMS_TOPIC_PREFIX": "lat-only."},
                    data_dir=root / "lat-only").start(timeout=120)
    try:
        timed = asyncio.run(latency(worker.url, WARM_UP + 300, rate))
        return timed[:WARM_UP], timed[WARM_UP:]
    finally:
        worker.stop()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (``/proc/<pid>/stat``), steadier than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_env(env: dict[str, str], group: str) -> dict[str, str]:
    """``env`` for the app ``group``: its own app id (the consumer group) and topic prefix (``<group>.``)."""
    return {**env, "STREAMS_TOPIC_PREFIX": f"{group}.", "STREAMS_APP_ID": group}


def run_worker(env: dict[str, str], data_dir: Path, n: int, group: str,
               admin: AdminClient, load_gets: bool = False, poison_rate: float = 0.0,
               check: Callable[[Worker], None] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Produce N events to empty topics (the run's own prefix), start a worker, and time it from its first commit
    until everything is committed: the events and every repartition record the read models apply.
    ``check(worker)`` runs at the end, before the worker stops: a run whose answers are wrong counts for nothing.
    ``cwd``: the source tree the worker runs from (another checkout, to compare with)."""
    env = group_env(env, group)
    topic = f"{group}.orders"
    poison = produce(settings_from(env), n, poison_rate)  # first: the producer does not share the cores with the run
    worker = Worker(env=env, data_dir=data_dir, cwd=cwd).start(timeout=120)
    assert worker.process is not None
    assert worker.process.pid is not None
    pid = worker.process.pid
    gets: list[float] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(timeout=30) as client:
            i = 0
            while not stop.is_set():
                t = time.perf_counter()
                client.get(f"{worker.url}/orders/o-{i % 1000}")
                gets.append(time.perf_counter() - t)
                i += 1
                time.sleep(0.005)

    thread = threading.Thread(target=hammer, daemon=True)
    try:
        timed = time_to_committed(worker, admin, group, topic, n, settings_from(env),
                                  started=thread.start if load_gets else None)
        if check is not None:
            check(worker)
    finally:
        stop.set()
        rss = peak_rss_mb(pid)
        worker.stop()
    dead = sum(1 for _ in scan(settings_from(env).kafka, f"{topic}.dlq", missing_ok=True))
    return {"rate": timed["rate"], "seconds": timed["seconds"], "peak_mb": rss, "gets": gets, "poison": poison,
            "dead_letters": dead, "cpu_us": timed["cpu_us"]}


def time_to_committed(worker: Worker, admin: AdminClient, group: str, topic: str, n: int, settings: Settings,
                      started: Callable[[], None] | None = None) -> dict[str, float]:
    """Time ``worker`` from its group's first commit on ``topic`` until ``n`` records of it are committed and
    nothing is left to commit on any topic the group consumes (the repartition topics that feed the customer,
    inventory and stats read models too): events/s and the process's CPU per event over that span.
    ``started()`` runs at the first commit."""
    assert worker.process is not None
    pid = worker.process.pid
    t0 = time.perf_counter()
    first = 0
    while first == 0 and time.perf_counter() - t0 < 60:  # time from the first commit, not from the produce
        first = committed_total(admin, group, topic)
        time.sleep(0.05)
    t0, base, cpu0 = time.perf_counter(), first, cpu_seconds(pid)
    if started is not None:
        started()
    deadline = max(900.0, n / 200)  # bounded, and long enough for a million events at a few hundred a second
    shown = t0
    lag = LagSampler(settings.kafka)
    try:
        while (done := committed_total(admin, group, topic)) < n or lag.sample([group], seconds=False)[0].total_lag:
            now = time.perf_counter()
            if now - t0 > deadline:
                raise SystemExit(f"worker did not finish within {deadline:.0f}s: {done} of {n} committed, "
                                 f"peak RSS {peak_rss_mb(pid):.0f} MB")
            if now - shown >= 30:  # progress on long runs
                shown = now
                print(f"  {group}: {done}/{n} committed, {(done - base) / (now - t0):.0f} events/s, "
                      f"peak RSS {peak_rss_mb(pid):.0f} MB", flush=True)
            time.sleep(0.25)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
    finally:
        lag.close()
    counted = n - base
    return {"rate": counted / elapsed, "seconds": elapsed, "cpu_us": cpu / max(counted, 1) * 1e6}


def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    got, t0 = 0, None
    while got < n:
        batch = consumer.consume(1000, 1.0)
        if batch and t0 is None:
            t0 = time.perf_counter()
        got += len(batch)
    consumer.close()
    assert t0 is not None
    return n / (time.perf_counter() - t0)


async def latency(url: str, count: int, rate: float) -> list[float]:
    out = []
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(count):
            t = time.perf_counter()
            r = await client.post(f"{url}/events", json={"type": "OrderPlaced", "data": {
                "order_id": f"lat-{i}", "customer_id": "c", "currency": "EUR", "placed_at": "2026-11-22T10:00:00Z",
                "total_minor": 1, "items": [{"sku": "s", "quantity": 1, "unit_price_minor": 1}]}})
            if r.status_code != 202:
                raise SystemExit(f"POST /events answered {r.status_code}: {r.text[:300]}")
            after = r.json()["after"]
            g = await client.get(f"{url}/orders/lat-{i}", params={"after": after})
            assert g.status_code == 200, g.text
            out.append(time.perf_counter() - t)
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - t)))
    return out


def print_latency(rate: float, warm: list[float], lat: list[float]) -> None:
    print(f"end-to-end (POST /events -> GET ?after= answered) at {rate:g}/s, {len(lat)} requests after "
          f"{len(warm)} to warm up: p50 {pct(lat, 0.5) * 1000:.1f} ms, p99 {pct(lat, 0.99) * 1000:.1f} ms, "
          f"max {max(lat) * 1000:.1f} ms; the warm-up's first {warm[0] * 1000:.0f} ms, its slowest after that "
          f"{max(warm[1:]) * 1000:.0f} ms")


def print_median(rounds: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    if len(rounds) > 1:
        ratios = sorted(a["rate"] / b["rate"] for a, b in rounds)
        print(f"median a/b over {len(rounds)} rounds = {statistics.median(ratios):.2f} "
              f"(each: {', '.join(f'{r:.2f}' for r in ratios)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s for the latency run")
    parser.add_argument("--skip-throughput", action="store_true", help="only the latency runs")
    parser.add_argument("--poison-rate", type=float, default=0.01, help="share of garbage records in (a) and (b)")
    parser.add_argument("--rounds", type=int, default=1, help="(a)/(b) pairs per workload; ratios: each and median")
    parser.add_argument("--memory-only", action="store_true",
                        help="only (a), to see its peak memory with --events orders in the read models")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-"))
    with local_stack(root) as (broker, registry):
        # The saga off, as its docstring's workloads say (on by default since the saga came: its inbox traffic, timers
        # included, kept --memory-only from ever seeing the group caught up; bench.saga measures the saga)
        base = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
                "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning", "STREAMS_SAGA": "false"}
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        if args.memory_only:
            ours = run_worker(base, root / "ours", args.events, "bench-mem", admin, poison_rate=0.0)
            print(f"(a) {args.events} orders in the read models: peak RSS {ours['peak_mb']:.0f} MB, "
                  f"{ours['rate']:.0f} events/s")
            return
        if args.skip_throughput:
            print_latency(args.rate, *end_to_end(base, root, args.rate))
            return
        # Issue 4's workload: decode, four read models, commit; then issue 5's: the same with fan-out and poison.
        plain_rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        fanout_rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for r in range(1, args.rounds + 1):
            tag = "" if args.rounds == 1 else f"-r{r}"
            rnd = "" if args.rounds == 1 else f"round {r}: "
            plain_ours = run_worker({**base, "STREAMS_APP_FACTORY": "bench.ours_without_fanout:create_app"},
                                    root / f"plain-ours{tag}", args.events, f"bench-plain-ours{tag}", admin)
            print(f"{rnd}(a) read models only: {plain_ours['rate']:.0f} events/s", flush=True)
            plain_naive = run_worker({**base, "STREAMS_APP_FACTORY": "bench.naive_app:create_app_without_fanout"},
                                     root / f"plain-naive{tag}", args.events, f"bench-plain-naive{tag}", admin)
            print(f"{rnd}(b) read models only: {plain_naive['rate']:.0f} events/s", flush=True)
            plain_rounds.append((plain_ours, plain_naive))
            ours = run_worker(base, root / f"ours{tag}", args.events, f"bench-ours{tag}", admin,
                              poison_rate=args.poison_rate)
            print(f"{rnd}(a) done: {ours['rate']:.0f} events/s, {ours['dead_letters']} dead letters", flush=True)
            naive_env = {**base, "STREAMS_APP_FACTORY": "bench.naive_app:create_app"}
            naive = run_worker(naive_env, root / f"naive{tag}", args.events, f"bench-naive{tag}", admin,
                               poison_rate=args.poison_rate)
            print(f"{rnd}(b) done: {naive['rate']:.0f} events/s, {naive['dead_letters']} dead letters", flush=True)
            fanout_rounds.append((ours, naive))
        ceiling = raw_consume(broker.bootstrap_servers, f"bench-ours{tag}.orders", args.events)
        # GET latency while a worker works through the backlog, then end-to-end latency at a fixed rate
        loaded = run_worker(base, root / "lat", args.events, "bench-lat", admin, load_gets=True)
        gets = loaded["gets"]
        print(f"GET /orders/<id> while applying {args.events} events ({len(gets)} calls): "
              f"p50 {pct(gets, 0.5) * 1000:.1f} ms, p99 {pct(gets, 0.99) * 1000:.1f} ms", flush=True)
        print(f"(c) raw consume: {ceiling:.0f} events/s; peak RSS (a) {ours['peak_mb']:.0f} MB, "
              f"(b) {naive['peak_mb']:.0f} MB", flush=True)
        warm, lat = end_to_end(base, root, args.rate)
        print(f"\nN = {args.events} OrderPlaced records, 4 partitions, one worker, Kafka {broker.url}")
        print("decode, four read models, commit (no fan-out, no poison):")
        for plain_ours, plain_naive in plain_rounds:
            for label, run in (("(a) our agents: ", plain_ours), ("(b) naive Faust:", plain_naive)):
                print(f"{label}  {run['rate']:8.0f} events/s  ({run['seconds']:.1f}s, "
                      f"peak RSS {run['peak_mb']:.0f} MB)")
            print(f"ratio: a/b = {plain_ours['rate'] / plain_naive['rate']:.2f}")
        print_median(plain_rounds)
        print(f"the same with fan-out to 4 topics and {args.poison_rate:.1%} poison:")
        for ours, naive in fanout_rounds:
            for label, run in (("(a) our agents: ", ours), ("(b) naive Faust:", naive)):
                print(f"{label}  {run['rate']:8.0f} events/s  ({run['seconds']:.1f}s, peak RSS "
                      f"{run['peak_mb']:.0f} MB, {run['dead_letters']} dead letters of {run['poison']} poison: "
                      f"{run['dead_letters'] / run['seconds']:.0f}/s)")
            print(f"ratio: a/b = {ours['rate'] / naive['rate']:.2f}")
        print_median(fanout_rounds)
        print(f"(c) raw consume:  {ceiling:8.0f} events/s")
        print(f"ratio: a/c = {fanout_rounds[-1][0]['rate'] / ceiling:.3f}")
        print_latency(args.rate, warm, lat)


if __name__ == "__main__":
    sys.exit(main())
