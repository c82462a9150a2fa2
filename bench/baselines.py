"""Our worker against honest baselines, side by side in one run on one broker, every app's answers checked.

    python -m bench.baselines [--events N] [--rounds K] [--only ours,naive,quix,loop]

The read-models workload (decode, four read models, commit) on ``N`` OrderPlaced events (``bench.pipeline.produce``,
the same data for every app, each app on topics of its own), four apps:

- ``ours``: this project's worker, fan-out off and no saga (``bench.protocol_cost.read_models_env``);
- ``naive``: a Faust agent as Faust's documentation would write it (``bench.naive_app``: the deltas repartitioned
  with ``group_by`` on each read model's key, so that it is right on read);
- ``quix``: Quix Streams 3.28.1 doing the same work (``bench.quix_app``), in a venv of its own under /tmp (made on
  first use): Quix Streams 3.28.1 requires confluent-kafka ``>=2.8.2,<2.13`` and this project pins
  ``>=2.16,<2.17`` (constraints.txt: 2.16.0), so it cannot be installed beside the project's dependencies;
- ``loop``: the ceiling, a hand-written confluent-kafka + fastavro + rocksdict loop in batches of 500
  (``bench.handloop``).

Each app runs as a process of its own, started after its records are produced, and is timed from its group's first
commit until its group has committed every record of every topic it consumes (the orders and the repartitioned
deltas that feed the customer, inventory and stats read models).  Per app: events/s, the process's CPU time per
event (user + system over the same span: steadier than wall time on a shared machine), its peak RSS (VmHWM), and
its read models read back and checked (``bench.readmodels_check``): ours over its HTTP API (the read path users
have), the others from their changelog topics (the naive agent's and the loop's as Faust writes them, Quix's by its
own key layout), where a row found in more than one partition of a table also counts as wrong.  With ``--rounds K``
the apps run K times, in a rotated order each round, and the table gives each round and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from confluent_kafka.admin import AdminClient

from bench.pipeline import (
    committed_total,
    cpu_seconds,
    group_env,
    local_stack,
    peak_rss_mb,
    produce,
    run_worker,
    settings_from,
)
from bench.protocol_cost import read_models_env
from bench.readmodels_check import CUSTOMERS, check_read_models, spread_keys
from streams.connection import KafkaConnection
from streams.devstack.worker import WorkerProcess as Worker
from streams.lag import LagSampler
from streams.lag.sampler import faust_internal
from streams.scan import scan
from streams.tables import changelog_topic

APPS = ("ours", "naive", "quix", "loop")
LABELS = {"ours": "this project's worker", "naive": "Faust as documented (group_by)",
          "quix": "Quix Streams 3.28.1, the same work", "loop": "hand-written loop (ceiling)"}
QUIX_VENV = Path("/tmp/bench-quix-venv")
QUIX_REQUIREMENTS = ["quixstreams==3.28.1", "fastavro==1.13.1", "orjson==3.13.0", "aiokafka==0.14.0"]
"""What ``bench.quix_app`` needs in its own venv: Quix Streams, and what ``bench.baseline_domain`` imports (aiokafka
for ``streams.position``'s partitioner), at our pins."""
ROOT = Path(__file__).resolve().parent.parent


def quix_python() -> Path:
    """The Python of the Quix venv, made (``QUIX_REQUIREMENTS``) if it is not there yet."""
    python = QUIX_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {QUIX_VENV} for Quix Streams (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(QUIX_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *QUIX_REQUIREMENTS], check=True)
    return python


def rows(kafka: KafkaConnection, topic: str,
         key_of: Callable[[bytes], str | None] = lambda raw: str(orjson.loads(raw))) -> tuple[dict[str, Any],
                                                                                         dict[str, set[int]]]:
    """Each key of the changelog ``topic`` and its last value, and the keys found in more than one partition.
    ``key_of``: the row's key from the record's key (None: not a row of this table)."""
    found: dict[str, Any] = {}
    where: list[tuple[str, int]] = []
    for record in scan(kafka, topic, missing_ok=True):
        key = key_of(record.key) if record.key is not None else None
        if key is None:
            continue
        where.append((key, record.position.partition))
        if record.value is None:
            found.pop(key, None)
            continue
        try:
            found[key] = orjson.loads(record.value)
        except orjson.JSONDecodeError:  # not a row (Quix keeps more than rows in some changelogs)
            continue
    return found, spread_keys(where)


def verdict(n: int, orders: dict[str, Any], customers: dict[str, Any], stats: Any,
            spread: dict[str, dict[str, set[int]]]) -> list[str]:
    problems = check_read_models(n, orders, customers, stats)
    for table, keys in spread.items():
        if keys:
            some = ", ".join(f"{k} in {sorted(p)}" for k, p in list(keys.items())[:3])
            problems.append(f"{table}: {len(keys)} keys in more than one partition ({some})")
    return problems


def faust_tables(kafka: KafkaConnection, app_id: str, n: int) -> list[str]:
    """The check of a Faust app's (or the loop's) tables, read from their changelogs."""
    tables = {name: rows(kafka, changelog_topic(app_id, name)) for name in ("orders", "customers", "stats")}
    stats = tables["stats"][0].get("all")
    return verdict(n, tables["orders"][0], tables["customers"][0], stats,
                   {name: spread for name, (_, spread) in tables.items()})


def quix_tables(kafka: KafkaConnection, group: str, n: int) -> list[str]:
    """The check of the Quix app's state, read from its changelog topics (``changelog__<group>--...``): a record's
    key is the message key, ``|``, and the state key (JSON); each read model is told by its rows' fields."""
    admin = kafka.admin()
    topics = sorted(t for t in admin.list_topics(timeout=10).topics if t.startswith(f"changelog__{group}--"))

    def key_of(raw: bytes) -> str | None:
        prefix, _, _state_key = raw.rpartition(b"|")
        try:
            key = orjson.loads(prefix)
        except orjson.JSONDecodeError:
            key = prefix.decode()
        return str(key)

    models: dict[str, dict[str, Any]] = {"orders": {}, "customers": {}, "stats": {}}
    spread: dict[str, dict[str, set[int]]] = {}
    for topic in topics:
        found, keys = rows(kafka, topic, key_of)
        sample = next((value for value in found.values() if isinstance(value, dict)), {})
        name = ("orders" if "status" in sample else "customers" if "order_count" in sample
                else "stats" if "orders_by_status" in sample else None)
        if name is not None:
            models[name].update(found)
            spread[name] = keys
    return verdict(n, models["orders"], models["customers"], models["stats"].get("all"), spread)


def http_read_models(worker: Worker, n: int) -> list[str]:
    """The check of our worker, through its HTTP API: every order, every customer, the stats."""
    async def fetch(paths: list[str]) -> dict[str, Any]:
        limit = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=worker.url, timeout=30) as client:
            async def one(path: str) -> tuple[str, Any]:
                async with limit:
                    answer = await client.get(path)
                return path.rsplit("/", 1)[1], answer.json() if answer.status_code == 200 else None
            return {key: view for key, view in await asyncio.gather(*map(one, paths)) if view is not None}
    orders = asyncio.run(fetch([f"/orders/o-{i}" for i in range(n)]))
    customers = asyncio.run(fetch([f"/customers/c-{i}" for i in range(min(n, CUSTOMERS))]))
    return check_read_models(n, orders, customers, worker.get("/stats").json())


def not_committed(topic: str) -> bool:
    """Topics an app is assigned but never commits on: Faust's (``faust_internal``), and Quix's changelogs, which
    its consumer is assigned to restore them."""
    return faust_internal(topic) or topic.startswith("changelog__")


def run_process(command: list[str], env: dict[str, str], n: int, group: str, topic: str, admin: AdminClient,
                log: Path, cwd: Path = ROOT) -> dict[str, Any]:
    """Start ``command`` (an app consuming ``topic`` as the consumer group ``group``) and time it from its group's
    first commit until everything is committed, as ``bench.pipeline.run_worker`` times a worker; then stop it."""
    settings = settings_from(env)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    lag = LagSampler(settings.kafka, ignore_topic=not_committed)
    try:
        t0 = time.perf_counter()
        first = 0
        while first == 0:
            if process.poll() is not None or time.perf_counter() - t0 > 120:
                raise SystemExit(f"{group} did not commit within 120 s (exit {process.returncode}): see {log}")
            first = committed_total(admin, group, topic)
            time.sleep(0.05)
        t0, cpu0 = time.perf_counter(), cpu_seconds(process.pid)
        shown = t0
        while (done := committed_total(admin, group, topic)) < n or (behind := lag.sample([group], seconds=False)[0]
                                                                     ).total_lag:
            now = time.perf_counter()
            if process.poll() is not None or now - t0 > max(900.0, n / 200):
                raise SystemExit(f"{group} stopped or took too long (exit {process.returncode}): see {log}")
            if now - shown >= 30:  # progress on long runs, and what it waits for
                shown = now
                waiting = "" if done < n else ", behind on " + ", ".join(
                    f"{p.topic}:{p.partition} by {p.lag}" for p in behind.partitions if p.lag)
                print(f"  {group}: {done}/{n} committed{waiting}", flush=True)
            time.sleep(0.25)
        elapsed, cpu, rss = time.perf_counter() - t0, cpu_seconds(process.pid) - cpu0, peak_rss_mb(process.pid)
    finally:
        lag.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    done = n - first
    return {"rate": done / elapsed, "seconds": elapsed, "peak_mb": rss, "cpu_us": cpu / max(done, 1) * 1e6}


def run_app(app: str, base: dict[str, str], registry_url: str, bootstrap: str, root: Path, n: int, tag: str,
            admin: AdminClient) -> dict[str, Any]:
    group = f"bench-{app}{tag}"
    kafka = settings_from(base).kafka
    if app in ("ours", "naive"):
        if app == "ours":  # read over HTTP while it runs
            problems: list[str] = []
            result = run_worker(base, root / group, n, group, admin,
                                check=lambda worker: problems.extend(http_read_models(worker, n)))
            return {**result, "problems": problems}
        env = {**base, "STREAMS_APP_FACTORY": "bench.naive_app:create_app_without_fanout"}
        result = run_worker(env, root / group, n, group, admin)
        return {**result, "problems": faust_tables(kafka, group, n)}  # once stopped: its changelogs all written
    env = group_env(base, group)
    topic = f"{group}.orders"
    produce(settings_from(env), n)
    python = str(quix_python()) if app == "quix" else sys.executable
    command = [python, "-m", f"bench.{'quix_app' if app == 'quix' else 'handloop'}", "--bootstrap", bootstrap,
               "--registry", registry_url, "--topic", topic, "--group", group, "--state", str(root / group)]
    result = run_process(command, env, n, group, topic, admin, root / f"{group}.log")
    check_fn = quix_tables if app == "quix" else faust_tables
    return {**result, "problems": check_fn(kafka, group, n)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default=",".join(APPS), help=f"apps to run, of {','.join(APPS)}")
    args = parser.parse_args()
    apps = [app for app in args.only.split(",") if app]
    unknown = set(apps) - set(APPS)
    if unknown:
        raise SystemExit(f"unknown app(s) {', '.join(sorted(unknown))}; known: {', '.join(APPS)}")
    if "quix" in apps:
        quix_python()  # before the clock: the venv is made once
    root = Path(tempfile.mkdtemp(prefix="bench-baselines-"))
    results: dict[str, list[dict[str, Any]]] = {app: [] for app in apps}
    with local_stack(root) as (broker, registry):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        base = read_models_env(broker.url, registry.url)
        for r in range(args.rounds):
            tag = "" if args.rounds == 1 else f"-r{r + 1}"
            for app in apps[r % len(apps):] + apps[:r % len(apps)]:
                result = run_app(app, base, registry.url, broker.bootstrap_servers, root, args.events, tag, admin)
                results[app].append(result)
                answers = "WRONG" if result["problems"] else "right"
                print(f"round {r + 1} {app}: {result['rate']:.0f} events/s, {result['cpu_us']:.0f} us CPU per event, "
                      f"peak RSS {result['peak_mb']:.0f} MB, read models {answers}", flush=True)
                for problem in result["problems"]:
                    print(f"    WRONG: {problem}", flush=True)
    print(f"\nN = {args.events} OrderPlaced, 4 partitions, decode + four read models + commit, one broker on this "
          f"machine, {args.rounds} round(s){' (medians; each round in brackets)' if args.rounds > 1 else ''}")
    print(table(results))
    if any(r["problems"] for runs in results.values() for r in runs):
        print("\n*** AT LEAST ONE APP GAVE WRONG ANSWERS: its figures are not a baseline (see WRONG above) ***")


def table(results: dict[str, list[dict[str, Any]]]) -> str:
    """The side-by-side table (Markdown): per app the median of its rounds, each round in brackets if several."""
    def cell(runs: list[dict[str, Any]], field: str, unit: str) -> str:
        values = [run[field] for run in runs]
        text = f"{statistics.median(values):,.0f}{unit}"
        return text if len(values) == 1 else f"{text} ({', '.join(f'{v:,.0f}' for v in values)})"

    lines = ["| app | events/s | app CPU per event | peak RSS | read models checked |", "|---|---:|---:|---:|---|"]
    for app, runs in results.items():
        wrong = sum(1 for run in runs if run["problems"])
        checked = "right" if not wrong else f"**WRONG** ({wrong} of {len(runs)} runs)"
        lines.append(f"| {LABELS[app]} | {cell(runs, 'rate', '')} | {cell(runs, 'cpu_us', ' us')} | "
                     f"{cell(runs, 'peak_mb', ' MB')} | {checked} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
