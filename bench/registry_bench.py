"""Registry latency: p50/p99 of GET /schemas/ids/{id} and of re-registering a known schema.

    python -m bench.registry_bench [--calls 1000]

Starts its own broker and registry on loopback; both calls are answered from
memory (the second without writing to Kafka).  Times are per call, measured by
one keep-alive HTTP client, so they include the HTTP round trip on loopback.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from streams.devstack.kafka import KafkaBroker
from streams.registry.threaded import ThreadedRegistry
from streams.settings import Settings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    calls = parser.parse_args().calls
    settings = Settings()
    broker = KafkaBroker(data_dir=Path(tempfile.mkdtemp(prefix="bench-reg-")), cache_dir=settings.kafka_cache_dir,
                         kafka_home=settings.kafka_home).start()
    registry = ThreadedRegistry(broker.connection).start()
    schema = json.dumps({"type": "record", "name": "B", "namespace": "bench",
                         "fields": [{"name": f"f{i}", "type": "string"} for i in range(20)]})
    try:
        with httpx.Client(base_url=registry.url, timeout=30) as client:
            schema_id = client.post("/subjects/bench-value/versions", json={"schema": schema}).json()["id"]
            results = {}
            for name, call in (
                ("GET /schemas/ids/{id}", lambda: client.get(f"/schemas/ids/{schema_id}")),
                ("POST /subjects/{s}/versions (already registered)",
                 lambda: client.post("/subjects/bench-value/versions", json={"schema": schema})),
            ):
                times = []
                for _ in range(calls):
                    t = time.perf_counter()
                    response = call()
                    times.append(time.perf_counter() - t)
                    assert response.status_code == 200
                results[name] = times
        for name, times in results.items():
            p50, p99 = pct(times, 0.5) * 1000, pct(times, 0.99) * 1000
            print(f"{name:<50} {calls} calls: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    finally:
        registry.stop()
        broker.stop()


if __name__ == "__main__":
    main()
