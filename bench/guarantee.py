"""What exactly_once costs against at_least_once: side by side in one run on one broker, every run's answers checked.

    python -m bench.guarantee [--events N] [--rate R] [--intervals 0.2,1,2|none] [--latency-seconds S]

The default app (``agents.app:create_app``: decode, four read models, fan-out; the saga off), one worker, in
``at_least_once`` (commit interval 1 s, the default) and in ``exactly_once`` at each commit interval of
``--intervals`` (none: at_least_once only; transaction timeout ``max(10, 3 * interval)``); each configuration with
an app id and topic prefix of its own, so that no two share state.  Per configuration:

1. throughput: ``N`` OrderPlaced events (distinct orders, ``CUSTOMERS`` customers, ``SKUS`` SKUs) produced to
   ``orders`` first, then the worker started and timed from its group's first commit until the group has caught
   up (committed offsets at the log end on every partition it reads, the repartitioned deltas included, a partition
   whose remaining offsets are only transaction markers counting as caught up: ``streams.lag.LagSampler``, as
   ``tests/integration/harness.py``'s ``caught_up``); events/s and the worker process's CPU time (user + system,
   ``/proc/<pid>/stat``) per event over the same span;
2. end-to-end latency at ``--rate`` events/s for ``--latency-seconds`` (after one second's worth to warm up, timed
   apart): each OrderPlaced produced on its own, and timed from its produce acknowledgement to the moment a
   ``read_committed`` consumer of ``notifications`` (assigned at the log end) receives the fan-out record whose
   ``causation_id`` header is the event's id; p50 and p99; and split at the notification's CreateTime (the
   worker's producer sets it, in ms): up to the worker producing it, then up to its read;
3. the answers, once the group has caught up again: ``/stats`` counts every order placed, every customer's order
   count and value is right, nothing dead-lettered, and every event's notification is in ``notifications`` exactly
   once as a ``read_committed`` reader sees it (none missing, none twice, none unknown).  A configuration whose
   answers are wrong is reported WRONG in the table; one that failed to run, FAILED with the reason.

A worker that exits after the throughput phase (a crash) is started again, with its data dir, as a deployment's
supervisor would (at most ``Supervisor.MAX_RESTARTS`` times): the latency then includes the restart, the answers
are checked across it, and the table says so with the crash's reason.  (A crash during the throughput phase fails
the configuration: its figures would mean nothing.)

Why not ``bench.pipeline.run_worker``: this bench needs each event's id (for the notifications check) and the
worker still running after the throughput phase (for the latency phase); the helpers it can share, it imports.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from agents.app import create_ingest
from agents.ingest import OrderIngest
from agents.topics import orders_topic, topic_name, topic_specs
from bench.pipeline import committed_total, cpu_seconds, group_env, local_stack, pct, peak_rss_mb, settings_from
from streams import headers as h
from streams.devstack.worker import WorkerProcess as Worker
from streams.errors import TransientError
from streams.lag import LagSampler
from streams.position import Position
from streams.recordpath.records import header
from streams.scan import scan
from streams.settings import Settings
from streams.topics import dlq_topic, ensure_topics

CUSTOMERS = 300
SKUS = 200
PRICE_MINOR = 500
QUANTITY = 3
START_TIMEOUT_S = 120.0
"""A worker's start (ready on /health), then its group's first commit: each bounded by this."""


@dataclass(frozen=True)
class Config:
    guarantee: str
    interval: float

    @property
    def label(self) -> str:
        return f"{self.guarantee} {self.interval:g}s"

    def env(self) -> dict[str, str]:
        env = {"STREAMS_PROCESSING_GUARANTEE": self.guarantee, "STREAMS_COMMIT_INTERVAL_S": f"{self.interval:g}"}
        if self.guarantee == "exactly_once":
            env["STREAMS_TRANSACTION_TIMEOUT_S"] = f"{max(10.0, 3 * self.interval):g}"
        return env


@dataclass
class Produced:
    """What a configuration's worker was given: each event's id, and per customer its orders."""

    ids: list[str] = field(default_factory=list)
    customers: Counter[str] = field(default_factory=Counter)


@dataclass
class Result:
    config: Config
    rate: float = float("nan")
    cpu_us: float = float("nan")
    seconds: float = float("nan")
    peak_mb: float = float("nan")
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    timed: int = 0
    transactions: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    failed: str | None = None


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def order_body(order_id: str, i: int) -> dict[str, Any]:
    return {"type": "OrderPlaced", "data": {
        "order_id": order_id, "customer_id": f"c-{i % CUSTOMERS}", "currency": "EUR",
        "placed_at": "2026-11-22T10:00:00Z", "total_minor": QUANTITY * PRICE_MINOR,
        "items": [{"sku": f"sku-{i % SKUS}", "quantity": QUANTITY, "unit_price_minor": PRICE_MINOR}]}}


@contextmanager
def ingest_for(settings: Settings) -> Iterator[OrderIngest]:
    # an untraced client, as bench.pipeline.produce's
    ingest = create_ingest(settings.model_copy(update={"otlp_endpoint": None}), "bench")
    try:
        yield ingest
    finally:
        ingest.close()


def produce_backlog(settings: Settings, n: int, produced: Produced) -> None:
    """N OrderPlaced events to ``orders``, written (acknowledged) before this returns."""
    ensure_topics(settings.kafka.admin(), topic_specs(settings),
                  replication_factor=settings.replication_factor, min_insync_replicas=settings.min_insync_replicas)
    t0 = time.perf_counter()
    futures: list[Future[Position]] = []
    with ingest_for(settings) as ingest:
        for i in range(n):
            prepared = ingest.prepare(order_body(f"o-{i}", i))
            futures.append(ingest.enqueue(prepared))
            produced.ids.append(prepared.envelope.event_id)
            produced.customers[f"c-{i % CUSTOMERS}"] += 1
    failed = [f.exception(0) for f in futures if f.exception(0) is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} of {n} events not written: {failed[0]}")
    log(f"  produced {n} OrderPlaced in {time.perf_counter() - t0:.1f}s")


def crash_reason(worker: Worker) -> str:
    """What the worker's log says it stopped for, last: its ``stopping:`` line, else its last critical line."""
    lines = worker.log().splitlines()
    for marks in (("CRITICAL] stopping:",), ("Crashed reason=",), ("CRITICAL",)):
        found = next((line for line in reversed(lines) if any(m in line for m in marks)), None)
        if found is not None:
            return found.split("] ", 3)[-1].strip()[:300]
    return lines[-1].strip()[:300] if lines else "(no log)"


def alive(worker: Worker) -> None:
    """A ``RuntimeError`` naming why, if the worker has exited."""
    code = worker.process.exited() if worker.process is not None else None
    if code is not None:
        raise RuntimeError(f"the worker exited (code {code}): {crash_reason(worker)}")


class Supervisor:
    """After the throughput phase: a worker that exits is started again (as a deployment's supervisor would), at
    most ``MAX_RESTARTS`` times; each crash is reported with the configuration's answers."""

    MAX_RESTARTS = 3

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.crashes: list[str] = []
        self.error: str | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> Supervisor:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            process = self.worker.process
            code = process.exited() if process is not None else None
            if code is None:
                continue
            reason = crash_reason(self.worker)
            self.crashes.append(reason)
            log(f"  worker crashed (exit {code}): {reason}")
            if len(self.crashes) > self.MAX_RESTARTS:
                self.error = f"the worker crashed {len(self.crashes)} times, last: {reason}"
                return
            try:
                self.worker.stop()
                self.worker.start(timeout=START_TIMEOUT_S)
            except Exception as exc:
                self.error = f"the worker did not start again after a crash: {exc}"
                return
            log("  worker started again")

    def check(self) -> None:
        """A ``RuntimeError`` once the worker is beyond restarting."""
        if self.error is not None:
            raise RuntimeError(self.error)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(START_TIMEOUT_S + 30)


def lag_total(sampler: LagSampler, group: str) -> int | None:
    """Records the group has still to commit over every partition it reads; None: not known (no partition yet, or
    the broker busy)."""
    try:
        groups = sampler.sample([group], seconds=False)
    except TransientError:
        return None
    partitions = [p for g in groups for p in g.partitions]
    return sum(p.lag for p in partitions) if partitions else None


def wait_caught_up(supervisor: Supervisor, sampler: LagSampler, group: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while lag_total(sampler, group) != 0 or supervisor.worker.process is None or \
            supervisor.worker.process.exited() is not None:
        supervisor.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: the group {group} did not catch up within {timeout:.0f}s")
        time.sleep(0.25)


def throughput(worker: Worker, admin: AdminClient, sampler: LagSampler, group: str, topic: str, n: int,
               result: Result) -> None:
    """From the group's first commit until it has caught up on everything: events/s, worker CPU per event."""
    assert worker.process is not None
    pid = worker.process.pid
    assert pid is not None
    t0 = time.perf_counter()
    first = 0
    while first == 0:
        alive(worker)
        if time.perf_counter() - t0 > START_TIMEOUT_S:
            raise RuntimeError(f"no commit within {START_TIMEOUT_S:.0f}s of the worker's start")
        first = committed_total(admin, group, topic)
        time.sleep(0.05)
    t0, cpu0 = time.perf_counter(), cpu_seconds(pid)
    deadline, shown = max(600.0, n / 100), t0
    while (done := committed_total(admin, group, topic)) < n or lag_total(sampler, group) != 0:
        now = time.perf_counter()
        alive(worker)
        if now - t0 > deadline:
            raise RuntimeError(f"not caught up within {deadline:.0f}s: {done} of {n} committed on {topic}")
        if now - shown >= 10:
            shown = now
            log(f"  {done}/{n} committed, {(done - first) / (now - t0):.0f} events/s so far")
        time.sleep(0.1)
    result.seconds = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    counted = n - first  # the records committed before the first commit was seen are not timed
    result.rate = counted / result.seconds
    result.cpu_us = cpu / max(counted, 1) * 1e6
    log(f"  caught up: {result.rate:.0f} events/s over {counted} events ({result.seconds:.1f}s), "
        f"{result.cpu_us:.0f} us CPU per event")


class NotificationWatch:
    """A read_committed consumer of ``notifications`` from the log end (its high watermarks when made): when each
    awaited causation id arrives."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.consumer = Consumer(settings.kafka.config({
            "group.id": f"bench-guarantee-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False,
            "isolation.level": "read_committed", "fetch.wait.max.ms": 50, "log_level": 0}))
        partitions = self.consumer.list_topics(topic, timeout=15).topics[topic].partitions
        ends = [self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] for p in partitions]
        self.consumer.assign([TopicPartition(topic, p, end) for p, end in zip(partitions, ends, strict=True)])
        self.awaited: set[str] = set()
        self.received: dict[str, float] = {}
        self.produced: dict[str, float] = {}  # its notification's CreateTime, on the clock of ``received``
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="notifications", daemon=True)

    def start(self) -> NotificationWatch:
        self.thread.start()
        return self

    def expect(self, event_id: str) -> None:
        with self.lock:
            self.awaited.add(event_id)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                # poll returns at the first record; consume(n, timeout) waits for n records or the whole timeout,
                # which added up to its timeout to every figure this bench printed before 2026-12-03
                message = self.consumer.poll(0.1)
                now, wall = time.perf_counter(), time.time()
                if message is None or message.error() is not None:
                    continue
                headers: Any = message.headers() or ()
                cause = header(tuple(headers), h.CAUSATION_ID)
                key = cause.decode() if cause is not None else ""
                with self.lock:
                    if key in self.awaited and key not in self.received:
                        self.received[key] = now
                        self.produced[key] = now - (wall - message.timestamp()[1] / 1000)
        except BaseException as exc:
            self.error = exc

    def missing(self) -> int:
        with self.lock:
            return len(self.awaited - set(self.received))

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self.consumer.close()


def end_to_end(supervisor: Supervisor, settings: Settings, config: Config, rate: float, seconds: float,
               produced: Produced, result: Result) -> None:
    """Events one at a time at ``rate``: produce acknowledgement -> its notification read (read_committed)."""
    warm, count = max(1, round(rate)), max(1, round(rate * seconds))
    watch = NotificationWatch(settings, topic_name(settings, "notifications")).start()
    acked: dict[str, float] = {}
    order: list[str] = []

    def on_ack(event_id: str, future: Future[Position]) -> None:  # on the producer's poll thread
        if future.exception() is None:
            acked[event_id] = time.perf_counter()

    try:
        with ingest_for(settings) as ingest:
            start = time.perf_counter()
            for i in range(warm + count):
                prepared = ingest.prepare(order_body(f"lat-{i}", i))
                event_id = prepared.envelope.event_id
                watch.expect(event_id)
                ingest.enqueue(prepared).add_done_callback(partial(on_ack, event_id))
                order.append(event_id)
                produced.ids.append(event_id)
                produced.customers[f"c-{i % CUSTOMERS}"] += 1
                if i % 50 == 0:
                    supervisor.check()
                time.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
        bound = max(30.0, 10 * config.interval)
        deadline = time.monotonic() + bound
        while watch.missing() and time.monotonic() < deadline and watch.error is None:
            supervisor.check()
            time.sleep(0.1)
    finally:
        watch.close()
    if watch.error is not None:
        raise RuntimeError(f"the notifications consumer failed: {watch.error!r}")
    not_acked = [e for e in order if e not in acked]
    if not_acked:
        result.problems.append(f"{len(not_acked)} latency events not acknowledged by the broker")
    lost = [e for e in order if e not in watch.received]
    if lost:
        result.problems.append(f"{len(lost)} of {len(order)} latency events' notifications not read within "
                               f"{bound:.0f}s of the last produce")
    def answered(ids: list[str]) -> list[str]:
        return [e for e in ids if e in watch.received and e in acked]

    timed_ids = answered(order[warm:])
    timed = [(watch.received[e] - acked[e]) * 1000 for e in timed_ids]
    warmup = [(watch.received[e] - acked[e]) * 1000 for e in answered(order[:warm])]
    result.timed = len(timed)
    if timed:
        result.p50_ms, result.p99_ms, result.max_ms = pct(timed, 0.5), pct(timed, 0.99), max(timed)
    log(f"  end-to-end at {rate:g}/s: {len(timed)} timed after {warm} to warm up: p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms (warm-up max "
        f"{max(warmup, default=float('nan')):.1f} ms)")
    # Where the time went, by the notification's CreateTime (set by the worker's producer, in ms): from the event's
    # acknowledgement to the worker producing its notification (fetch, queue, processing), then to its read.
    if timed_ids:
        upstream = [(watch.produced[e] - acked[e]) * 1000 for e in timed_ids]
        downstream = [(watch.received[e] - watch.produced[e]) * 1000 for e in timed_ids]
        log(f"  of which: acknowledged -> notification produced by the worker p50 {pct(upstream, 0.5):.1f} ms, "
            f"p99 {pct(upstream, 0.99):.1f} ms; produced -> read p50 {pct(downstream, 0.5):.1f} ms, "
            f"p99 {pct(downstream, 0.99):.1f} ms (CreateTime: ms)")


def transactions(worker: Worker) -> dict[str, float]:
    """``streams_transactions_total`` by outcome, from the worker's /metrics."""
    found: Counter[str] = Counter()
    text = worker.get("/metrics").text
    for match in re.finditer(r'^streams_transactions_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)$', text, re.M):
        found[match.group(1)] += int(float(match.group(2)))
    return dict(found)


def check(worker: Worker, settings: Settings, produced: Produced) -> list[str]:
    """The read models and the notifications, once the group has caught up."""
    problems: list[str] = []
    n = len(produced.ids)
    stats: Any = None
    deadline = time.monotonic() + 60
    while stats is None:
        response = worker.get("/stats")
        if response.status_code == 200:
            stats = response.json()
        elif time.monotonic() > deadline:
            raise RuntimeError(f"/stats answered {response.status_code} for 60s: {response.text[:300]}")
        else:
            time.sleep(0.5)
    placed = stats.get("orders_by_status", {}).get("placed")
    if placed != n:
        problems.append(f"/stats: {placed} orders placed, {n} produced")
    wrong = []
    with httpx.Client(base_url=worker.url, timeout=30) as client:
        for customer, count in sorted(produced.customers.items()):
            view = client.get(f"/customers/{customer}").json()
            value = view.get("lifetime_value_minor", {}).get("EUR")
            if view.get("order_count") != count or value != count * QUANTITY * PRICE_MINOR:
                wrong.append(f"{customer}: {view.get('order_count')} orders worth {value}, expected {count}")
    if wrong:
        problems.append(f"{len(wrong)} of {len(produced.customers)} customers wrong, e.g. {wrong[0]}")
    letters = sum(1 for _ in scan(settings.kafka, dlq_topic(orders_topic(settings)), missing_ok=True))
    if letters:
        problems.append(f"{letters} dead letters")
    seen = Counter((header(r.headers, h.CAUSATION_ID) or b"").decode()
                   for r in scan(settings.kafka, topic_name(settings, "notifications")))
    ids = set(produced.ids)
    missing = ids - set(seen)
    twice = {i: c for i, c in seen.items() if i in ids and c > 1}
    unknown = sum(c for i, c in seen.items() if i not in ids)
    if missing:
        problems.append(f"notifications: {len(missing)} of {n} events have none")
    if twice:
        problems.append(f"notifications: {len(twice)} events have more than one ({sum(twice.values())} records)")
    if unknown:
        problems.append(f"notifications: {unknown} records of no event produced")
    log(f"  checked: {placed} placed of {n}, {len(produced.customers)} customers, {sum(seen.values())} "
        f"notifications read_committed ({len(missing)} missing, {len(twice)} twice, {unknown} unknown), "
        f"{letters} dead letters")
    return problems


def run_config(config: Config, base: dict[str, str], root: Path, admin: AdminClient, args: argparse.Namespace
               ) -> Result:
    result = Result(config)
    tag = f"{'eos' if config.guarantee == 'exactly_once' else 'alo'}-{config.interval:g}".replace(".", "p")
    group = f"bg-{tag}-{uuid.uuid4().hex[:6]}"
    env = group_env({**base, **config.env()}, group)
    settings = settings_from(env)
    produced = Produced()
    log(f"{config.label}: app {group}")
    produce_backlog(settings, args.events, produced)
    worker = Worker(env=env, data_dir=root / group)
    sampler = LagSampler(settings.kafka)
    supervisor = Supervisor(worker)
    try:
        worker.start(timeout=START_TIMEOUT_S)
        throughput(worker, admin, sampler, group, orders_topic(settings), args.events, result)
        supervisor.start()
        end_to_end(supervisor, settings, config, args.rate, args.latency_seconds, produced, result)
        wait_caught_up(supervisor, sampler, group, 180, "after the latency run")
        result.problems.extend(check(worker, settings, produced))
        if config.guarantee == "exactly_once":
            result.transactions = transactions(worker)
            log(f"  transactions since the worker's last start: {result.transactions}")
    except Exception as exc:
        result.failed = f"{type(exc).__name__}: {exc}"
        log(f"  FAILED: {result.failed} (worker log: {root / group / 'worker.log'})")
    finally:
        supervisor.close()
        result.crashes = list(supervisor.crashes)
        sampler.close()
        if worker.process is not None and worker.process.pid is not None and worker.process.exited() is None:
            result.peak_mb = peak_rss_mb(worker.process.pid)
        worker.stop()
    for problem in result.problems:
        log(f"  WRONG: {problem}")
    return result


def table(results: list[Result]) -> str:
    lines = ["| configuration | events/s | CPU us/event | e2e p50 ms | e2e p99 ms | read models |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        answers = (f"FAILED: {r.failed}" if r.failed else "**WRONG**: " + "; ".join(r.problems) if r.problems
                   else "right")
        if r.crashes:
            answers += (f"; **worker crashed {len(r.crashes)}x** after the throughput phase, started again "
                        f"(e2e includes the restarts): {r.crashes[0][:160]}")
        lines.append(f"| {r.config.label} | {r.rate:,.0f} | {r.cpu_us:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
                     f"{answers} |")
    return "\n".join(lines)


def intervals(text: str) -> list[float]:
    if text == "none":
        return []
    values = [float(part) for part in text.split(",") if part.strip()]
    if not values or any(not 0 < v <= 60 for v in values):
        raise argparse.ArgumentTypeError("commit intervals in seconds, each more than 0 and at most 60, or none")
    return values


def terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so that every finally (workers, broker) runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000, help="OrderPlaced events of the throughput phase")
    parser.add_argument("--rate", type=float, default=50.0, help="events/s of the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="how long the latency phase is timed")
    parser.add_argument("--intervals", type=intervals, default=[0.2, 1.0, 2.0],
                        help="exactly_once commit intervals in seconds, comma separated; none: at_least_once only")
    parser.add_argument("--log-level", default="warning", help="the workers' log level (their logs stay under the "
                        "run's directory)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)
    configs = [Config("at_least_once", 1.0), *(Config("exactly_once", i) for i in args.intervals)]
    root = Path(tempfile.mkdtemp(prefix="bench-guarantee-"))
    began = time.perf_counter()
    results: list[Result] = []
    log(f"{len(configs)} configurations, {args.events} events each, latency at {args.rate:g}/s for "
        f"{args.latency_seconds:g}s; under {root}")
    with local_stack(root) as (broker, registry):
        log(f"broker {broker.url}, registry {registry.url}")
        base = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
                "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": args.log_level, "STREAMS_SAGA": "false"}
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers, "log_level": 0})
        for config in configs:
            results.append(run_config(config, base, root, admin, args))
    print(f"\nN = {args.events} OrderPlaced ({CUSTOMERS} customers, {SKUS} SKUs), 4 partitions, one worker "
          f"(agents.app:create_app, saga off), one broker on this machine; end-to-end: produce ack -> notification "
          f"read (read_committed) at {args.rate:g}/s, {args.latency_seconds:g}s; took "
          f"{time.perf_counter() - began:.0f}s")
    print(table(results))
    if any(r.crashes for r in results):
        print("\nA worker crashed in: " + ", ".join(f"{r.config.label} ({len(r.crashes)}x)" for r in results
                                                   if r.crashes) + "; the crashes, each:")
        for r in results:
            for crash in r.crashes:
                print(f"  {r.config.label}: {crash}")
    if any(r.problems or r.failed for r in results):
        print("\n*** AT LEAST ONE CONFIGURATION WAS WRONG OR FAILED: see above ***")
        sys.exit(1)


if __name__ == "__main__":
    main()
