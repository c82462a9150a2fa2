"""What the order saga does and costs on one worker, on one broker of the bench's own.

    python -m bench.saga [--orders N] [--latency-orders M] [--events E] [--step-timeout S] [--skip ab|c]
                         [--before PATH]

(a) Throughput of the whole loop: N orders placed before the worker starts (a backlog; one in ten over the
    simulated payment limit), then one worker with the saga and the simulated services on takes each one through
    the orders agent, the saga agent and the three services (payment, stock, shipment; ``OrderCompleted`` or
    ``OrderFailed`` back on ``orders``), timed from its first commit until every saga ended and nothing is left to
    commit.  Checked at the end: every saga in the state its order says (completed; failed at payment for those
    over the limit), the events on ``orders`` (one of each reply per order, by event id), and the stock: each
    SKU's units held (``GET /inventory/{sku}``) are those of the completed orders.  Printed: sagas/s and the
    worker's CPU per saga (process time: steadier than wall time on a shared machine).
(b) Latency at a moderate, paced rate (a quarter of (a)'s, at most 200/s) on the same worker: ``M`` more orders,
    from the ``OrderPlaced`` record's timestamp to the ``OrderCompleted`` record's (both on ``orders``), p50 and p99;
    the saga's own ``started_at`` to ``ended_at`` beside it.
(c) The saga's cost on the read-models workload (``bench.protocol_cost.read_models_env``: decode, four read models,
    commit, no fan-out rules): ``E`` OrderPlaced with STREAMS_SAGA=false, then true (the services off: each order's
    AuthorizePayment simply goes out, nobody answers; the step timeout is an hour, so no resend falls in the run),
    events/s and CPU per event of each, and their ratio; then each worker's CPU over ``IDLE_S`` with nothing left
    to process and every saga waiting (the timer loop's standing cost).  With ``--before PATH`` the saga-on run is
    also made by that checkout's worker, side by side.  Each run checked (``bench.protocol_cost.checker``).

``--step-timeout`` is the saga's step timeout in (a) and (b) (STREAMS_SAGA_STEP_TIMEOUT_S): a backlog of
thousands of orders keeps commands waiting in the services' topics longer than the default 5 s, and a resent
command is answered twice (the same event id: the second changes nothing, and is counted); the bench prints the
timeouts and duplicates it saw.  Run it alone on the machine (``flock /tmp/kafka-suite.lock``).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka.admin import AdminClient

from agents.app import create_ingest
from agents.topics import topic_specs
from bench.pipeline import committed_total, cpu_seconds, local_stack, pct, peak_rss_mb, run_worker, settings_from
from bench.protocol_cost import checker, read_models_env
from streams import headers as h
from streams.devstack.worker import WorkerProcess as Worker
from streams.lag import LagSampler
from streams.recordpath.records import header
from streams.scan import scan
from streams.topics import ensure_topics

LIMIT = 100_000
"""The simulated payment limit (minor units); every tenth order asks more."""
SKUS = 50
STOCK = 10**6
"""Units per SKU: more than any run asks, so every order within the limit completes and the held units add up."""


def order(i: int, prefix: str = "o") -> dict[str, Any]:
    """Order ``i``: 1 to 3 units of one of ``SKUS`` SKUs at 5.00, or (every tenth) one unit over the limit."""
    over = i % 10 == 7
    quantity, price = (1, LIMIT + 1) if over else (i % 3 + 1, 500)
    return {"order_id": f"{prefix}-{i}", "customer_id": f"c-{i % 500}", "currency": "EUR",
            "placed_at": "2026-11-22T10:00:00Z", "total_minor": quantity * price,
            "items": [{"sku": f"sku-{i % SKUS}", "quantity": quantity, "unit_price_minor": price}]}


def saga_env(broker_url: str, registry_url: str, group: str, step_timeout: float) -> dict[str, str]:
    return {"STREAMS_BROKER": broker_url, "STREAMS_SCHEMA_REGISTRY_URL": registry_url,
            "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning", "STREAMS_TOPIC_PREFIX": f"{group}.",
            "STREAMS_APP_ID": group, "STREAMS_SAGA": "true", "STREAMS_SIMULATED_SERVICES": "true",
            "STREAMS_SIM_PAYMENT_LIMIT_MINOR": str(LIMIT), "STREAMS_SIM_STOCK": str(STOCK),
            "STREAMS_SAGA_STEP_TIMEOUT_S": str(step_timeout)}


def place(env: dict[str, str], n: int, prefix: str = "o", rate: float | None = None) -> None:
    """``n`` OrderPlaced through the ingest (validated, Avro, acks=all); ``rate``: paced, so many per second."""
    settings = settings_from(env)
    ensure_topics(settings.kafka.admin(), topic_specs(settings), replication_factor=settings.replication_factor,
                  min_insync_replicas=settings.min_insync_replicas)
    ingest = create_ingest(settings.model_copy(update={"otlp_endpoint": None}), "bench")
    t0 = time.perf_counter()
    futures = []
    for i in range(n):
        if rate:
            time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        futures.append(ingest.enqueue(ingest.prepare({"type": "OrderPlaced", "data": order(i, prefix)})))
        if rate:
            ingest.producer.flush(0)  # hand it to librdkafka's thread now: its timestamp is the order's
    for future in futures:
        future.result(timeout=60)
    ingest.close()


def ended(worker: Worker) -> int:
    """Orders the saga ended (completed or failed), as the stats read model counts them."""
    response = worker.get("/stats")
    if response.status_code != 200:
        return 0
    by_status = response.json()["orders_by_status"]
    return int(by_status.get("completed", 0)) + int(by_status.get("failed", 0))


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(4))
    return total


def wait_all_ended(worker: Worker, env: dict[str, str], total: int, deadline_s: float) -> None:
    """Until ``total`` orders ended and the group has nothing left to commit on any topic it reads."""
    lag = LagSampler(settings_from(env).kafka)
    started = shown = time.perf_counter()
    try:
        while (done := ended(worker)) < total or lag.sample([env["STREAMS_APP_ID"]], seconds=False)[0].total_lag:
            now = time.perf_counter()
            if now - started > deadline_s:
                raise SystemExit(f"the sagas did not end within {deadline_s:.0f}s: {done} of {total} ended; "
                                 f"metrics: {saga_counts(worker)}")
            if now - shown >= 10:
                shown = now
                print(f"  {done}/{total} sagas ended", flush=True)
            time.sleep(0.25)
    finally:
        lag.close()


def saga_counts(worker: Worker) -> dict[str, float]:
    text = worker.get("/metrics").text
    counts = {event: metric(text, "streams_sagas_total", event=event)
              for event in ("started", "completed", "compensated", "failed", "timed_out", "retried")}
    for line in text.splitlines():  # inputs the sagas took no step on, by kind and type
        match = re.match(r'^streams_saga_replies_total\{kind="(\w+)",type="(\w*)"\} (\S+)$', line)
        if match and float(match.group(3)):
            counts[f"{match.group(1)} {match.group(2)}"] = float(match.group(3))
    return {what: count for what, count in counts.items() if count}


def check_sagas(worker: Worker, env: dict[str, str], n: int) -> dict[str, int]:
    """Every saga ended as its order says, one of each reply per order, the held units those of completed orders."""
    wrong: list[str] = []
    with httpx.Client(base_url=worker.url, timeout=30) as client:
        for i in range(n):
            saga = client.get(f"/sagas/o-{i}").json()
            over = i % 10 == 7
            want = ("failed", "payment") if over else ("completed", None)
            if (saga.get("status"), saga.get("failed_step")) != want:
                wrong.append(f"o-{i}: {saga.get('status')} at {saga.get('failed_step')} ({saga.get('reason')})")
        held: dict[str, int] = defaultdict(int)
        for i in range(n):
            if i % 10 != 7:
                held[f"sku-{i % SKUS}"] += i % 3 + 1
        for sku, units in held.items():
            view = client.get(f"/inventory/{sku}").json()
            if (view.get("held"), view.get("released")) != (units, 0):
                wrong.append(f"{sku}: {view}, expected {units} units held")
    events: dict[str, set[str]] = defaultdict(set)
    records: Counter[str] = Counter()
    for record in scan(settings_from(env).kafka, f"{env['STREAMS_TOPIC_PREFIX']}orders"):
        kind = (header(record.headers, h.EVENT_TYPE) or b"?").decode()
        records[kind] += 1
        events[kind].add((header(record.headers, h.EVENT_ID) or b"?").decode())
    over = len(range(7, n, 10))
    want_events = {"OrderPlaced": n, "PaymentAuthorized": n - over, "PaymentFailed": over, "OrderFailed": over,
                   "InventoryReserved": n - over, "ShipmentCreated": n - over, "OrderCompleted": n - over}
    got_events = {kind: len(ids) for kind, ids in events.items()}
    if got_events != want_events:
        wrong.append(f"events on orders (distinct ids): {got_events}, expected {want_events}")
    if wrong:
        raise SystemExit(f"wrong answers ({len(wrong)}): " + "; ".join(wrong[:10]))
    return {kind: count - len(events[kind]) for kind, count in records.items() if count > len(events[kind])}


def throughput_and_latency(root: Path, broker: Any, registry: Any, args: argparse.Namespace) -> None:
    group = "bench-saga"
    env = saga_env(broker.url, registry.url, group, args.step_timeout)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    n = args.orders
    place(env, n)
    worker = Worker(env=env, data_dir=root / group).start(timeout=120)
    assert worker.process is not None
    assert worker.process.pid is not None
    pid = worker.process.pid
    try:
        t0 = time.perf_counter()
        while committed_total(admin, group, f"{group}.orders") == 0 and time.perf_counter() - t0 < 60:
            time.sleep(0.05)
        t0, cpu0 = time.perf_counter(), cpu_seconds(pid)
        wait_all_ended(worker, env, n, deadline_s=max(600.0, n / 5))
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        counts = saga_counts(worker)
        resent = check_sagas(worker, env, n)
        rate = n / elapsed
        print(f"(a) {n} sagas ({n - len(range(7, n, 10))} completed, {len(range(7, n, 10))} failed at payment) in "
              f"{elapsed:.1f}s: {rate:.0f} sagas/s, {cpu / n * 1e6:.0f} us CPU per saga, peak RSS "
              f"{peak_rss_mb(pid):.0f} MB (answers checked: every saga's end, the events on orders, the held stock)",
              flush=True)
        print(f"    saga metrics: {counts}; records repeated on orders (a resent command's answer): {resent or 'none'}",
              flush=True)

        paced = min(200.0, rate / 4)
        m = args.latency_orders
        print(f"(b) {m} more orders at {paced:.0f}/s ...", flush=True)
        place(env, m, prefix="lat", rate=paced)
        wait_all_ended(worker, env, n + m, deadline_s=120 + m / paced)
        placed: dict[bytes, int] = {}
        completed: dict[bytes, int] = {}
        for record in scan(settings_from(env).kafka, f"{group}.orders"):
            if record.key is None or not record.key.startswith(b"lat-"):
                continue
            kind = header(record.headers, h.EVENT_TYPE)
            if kind == b"OrderPlaced":
                placed.setdefault(record.key, record.timestamp_ms)
            elif kind == b"OrderCompleted":
                completed.setdefault(record.key, record.timestamp_ms)
        latencies = [(completed[k] - placed[k]) / 1000 for k in completed if k in placed]
        expected = m - len(range(7, m, 10))
        if len(latencies) != expected:
            raise SystemExit(f"wrong answers: {len(latencies)} of {expected} paced orders completed")
        own = []
        with httpx.Client(base_url=worker.url, timeout=30) as client:
            for key in completed:
                saga = client.get(f"/sagas/{key.decode()}").json()
                took = datetime.fromisoformat(saga["ended_at"]) - datetime.fromisoformat(saga["started_at"])
                own.append(took.total_seconds())
        print(f"(b) OrderPlaced -> OrderCompleted (record timestamps on orders) at {paced:.0f}/s, {len(latencies)} "
              f"orders: p50 {pct(latencies, 0.5) * 1000:.0f} ms, p99 {pct(latencies, 0.99) * 1000:.0f} ms, max "
              f"{max(latencies) * 1000:.0f} ms; the saga's own started_at -> ended_at: p50 {pct(own, 0.5) * 1000:.0f} "
              f"ms, p99 {pct(own, 0.99) * 1000:.0f} ms", flush=True)
    finally:
        worker.stop()


IDLE_S = 10.0
"""How long (c) watches a worker's CPU once its run is over, every saga waiting: the timer loop's standing cost."""


def idle_cpu(worker: Worker) -> float:
    """The worker's CPU over ``IDLE_S`` of nothing to process, as a share of one core."""
    assert worker.process is not None
    assert worker.process.pid is not None
    before = cpu_seconds(worker.process.pid)
    time.sleep(IDLE_S)
    return (cpu_seconds(worker.process.pid) - before) / IDLE_S


def checked_idle(events: int, idle: list[float], worker: Worker) -> None:
    """(c)'s check of a run, then its idle CPU (into ``idle``)."""
    checker(events)(worker)
    idle.append(idle_cpu(worker))


def read_model_cost(root: Path, broker: Any, registry: Any, events: int, before: Path | None) -> None:
    """(c): saga off, saga on, and with ``before`` (another checkout) saga on in that tree's worker too."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    runs = {}
    cases = [("off", "false", None), ("on", "true", None)] + ([("on, --before", "true", before)] if before else [])
    for label, saga, tree in cases:
        env = read_models_env(broker.url, registry.url, STREAMS_SAGA=saga, STREAMS_SAGA_STEP_TIMEOUT_S="3600")
        group = f"bench-rm-saga-{saga}{'-before' if tree else ''}"
        idle: list[float] = []
        runs[label] = run_worker(env, root / group, events, group, admin, check=partial(checked_idle, events, idle),
                                 cwd=tree)
        print(f"(c) read models, saga {label}: {runs[label]['rate']:.0f} events/s, "
              f"{runs[label]['cpu_us']:.0f} us CPU per event, peak RSS {runs[label]['peak_mb']:.0f} MB (answers "
              f"checked); then idle, every saga waiting: {idle[0]:.1%} of a core over {IDLE_S:g} s", flush=True)
    off = runs["off"]
    for label in [label for label, _, _ in cases[1:]]:
        print(f"(c) saga {label} / off: events/s {runs[label]['rate'] / off['rate']:.2f}, "
              f"CPU per event {runs[label]['cpu_us'] / off['cpu_us']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000, help="orders of (a), placed as a backlog")
    parser.add_argument("--latency-orders", type=int, default=500, help="orders of (b), paced")
    parser.add_argument("--events", type=int, default=20000, help="OrderPlaced of each (c) run")
    parser.add_argument("--step-timeout", type=float, default=60.0, help="the saga's step timeout in (a) and (b)")
    parser.add_argument("--skip", choices=("ab", "c"), help="leave out (a) and (b), or (c)")
    parser.add_argument("--before", type=Path, help="(c) also runs the saga on in this checkout's worker "
                        "(git worktree add /tmp/before <commit>), side by side")
    args = parser.parse_args()
    if not 1 <= args.orders <= 200_000 or not 1 <= args.latency_orders <= 20_000:
        parser.error("--orders within 1..200000, --latency-orders within 1..20000")
    root = Path(tempfile.mkdtemp(prefix="bench-saga-"))
    with local_stack(root) as (broker, registry):
        print(f"one broker {broker.url}, 4 partitions, one worker per run", flush=True)
        if args.skip != "ab":
            throughput_and_latency(root, broker, registry, args)
        if args.skip != "c":
            read_model_cost(root, broker, registry, args.events, args.before.resolve() if args.before else None)


if __name__ == "__main__":
    main()
