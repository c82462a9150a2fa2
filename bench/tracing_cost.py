"""What tracing costs: the worker with tracing off, on at ratio 0.01 and on at 1.0, side by side on one broker.

    python -m bench.tracing_cost [--events N] [--rounds K]

Each round runs the three on the whole workload (decode, the orders read model and its
deltas, fan-out to four topics, commit), in a rotating order, each on its own topics and
group; the spans go to an OTLP/HTTP receiver in this process (``streams.devstack.otlp``,
decoding every request as a collector would).  Each run is checked at its end: the read
models (every order placed, customers, stats) and the spans received -- none when off,
one ``orders process`` span per event at 1.0 (99% at least: the SDK drops what its queue cannot
hold), and at 0.01 about one in a hundred.  The
bench prints events/s, the worker's CPU per event (process time: steadier than wall time
on a shared machine) and peak RSS per run, then each mode's median and its ratio to off.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from bench.pipeline import local_stack, run_worker
from bench.protocol_cost import checker
from streams.devstack.otlp import OtlpReceiver

QUEUE = 65536
"""The worker's span queue (``OTEL_BSP_MAX_QUEUE_SIZE``; the SDK's default, 2,048, drops spans at ratio 1.0 under a
backlog): what is measured is the cost of recording every span, not of dropping some."""

MODES: dict[str, dict[str, str]] = {
    "off": {},
    "ratio 0.01": {"STREAMS_TRACE_SAMPLE_RATIO": "0.01"},
    "ratio 1.0": {"STREAMS_TRACE_SAMPLE_RATIO": "1.0"},
}


def check_spans(mode: str, receiver: OtlpReceiver, topic: str, n: int) -> int:
    """The spans of a run are those a tracing setting should give; returns how many events were traced."""
    deadline = time.monotonic() + 30  # the worker flushes its last batch as it stops; the receiver decodes it
    traced = len(receiver.named(f"{topic} process"))
    while mode == "ratio 1.0" and traced < n and time.monotonic() < deadline:
        time.sleep(0.2)
        traced = len(receiver.named(f"{topic} process"))
    if mode == "off" and traced:
        raise SystemExit(f"wrong answers: tracing off, yet {traced} process spans of {topic}")
    if mode == "ratio 1.0" and traced < n * 0.99:  # the SDK drops spans when its queue is full (OTEL_BSP_*)
        raise SystemExit(f"wrong answers: ratio 1.0 traced {traced} of {n} events of {topic}")
    if mode == "ratio 0.01" and not 0 < traced < n * 0.03:
        raise SystemExit(f"wrong answers: ratio 0.01 traced {traced} of {n} events of {topic}")
    return traced


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-tracing-"))
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    receiver = OtlpReceiver().start()
    try:
        with local_stack(root) as (broker, registry):
            admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
            base = {"STREAMS_BROKER": broker.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
                    "STREAMS_TOPIC_PARTITIONS": "4", "STREAMS_LOG_LEVEL": "warning"}
            names = list(MODES)
            for r in range(1, args.rounds + 1):
                order = names[r % 3:] + names[:r % 3]  # each mode first once in three rounds
                for mode in order:
                    env = {**base, **MODES[mode]}
                    if mode != "off":
                        env["STREAMS_OTLP_ENDPOINT"] = receiver.url
                        env["OTEL_BSP_MAX_QUEUE_SIZE"] = str(QUEUE)
                    group = f"bench-{mode.replace(' ', '-').replace('.', '')}-{r}"
                    run = run_worker(env, root / group, args.events, group, admin, check=checker(args.events))
                    run["traced"] = check_spans(mode, receiver, f"{group}.orders", args.events)
                    results[mode].append(run)
                    print(f"round {r} {mode:>10}: {run['rate']:.0f} events/s, {run['cpu_us']:.0f} us CPU per event, "
                          f"peak RSS {run['peak_mb']:.0f} MB, {run['traced']} events traced (answers checked)",
                          flush=True)
    finally:
        receiver.stop()
    print(f"\nN = {args.events} OrderPlaced, 4 partitions, read models and fan-out, {args.rounds} rounds, "
          f"spans decoded by an OTLP receiver in the bench process")
    off_rate = statistics.median(r["rate"] for r in results["off"])
    off_cpu = statistics.median(r["cpu_us"] for r in results["off"])
    for mode, runs in results.items():
        rate = statistics.median(r["rate"] for r in runs)
        cpu = statistics.median(r["cpu_us"] for r in runs)
        print(f"{mode:>10}: median {rate:.0f} events/s ({rate / off_rate:.2f} of off), {cpu:.0f} us CPU per event "
              f"({cpu / off_cpu:.2f} of off)")


if __name__ == "__main__":
    main()
