"""What three copies of every topic cost: the read-models workload with replication factor 3 and 1, side by side
on one three-node cluster.

    python -m bench.replication_cost [--events N] [--rounds K]

A three-node KRaft cluster (``streams dev --brokers 3``'s, small heaps) and a registry of the bench's own run on
loopback.  Each round runs the workload of ``bench.protocol_cost`` (decode, four read models, commit; no fan-out,
no poison) twice on fresh topics: with ``STREAMS_REPLICATION_FACTOR=3`` and ``STREAMS_MIN_INSYNC_REPLICAS=2`` (what
a worker decides on three brokers) and with 1 and 1, alternating which goes first.  Every run's topics are checked
to have the copies asked for, and its read models are read back and checked (every order placed, customers, the
stats).  Printed per run: events/s, the worker's CPU per event, and the three nodes' CPU per event over the whole
run (the produce included: the brokers replicate the events as well as what the worker writes); then the
factor 3 / factor 1 ratios per round and their median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from bench.pipeline import cpu_seconds, local_stack, run_worker
from bench.protocol_cost import checker, read_models_env
from streams.devstack.cluster import KafkaCluster

FACTORS = {3: {"STREAMS_REPLICATION_FACTOR": "3", "STREAMS_MIN_INSYNC_REPLICAS": "2"},
           1: {"STREAMS_REPLICATION_FACTOR": "1", "STREAMS_MIN_INSYNC_REPLICAS": "1"}}


def cluster_cpu(cluster: KafkaCluster) -> float:
    """CPU seconds of every node so far."""
    return sum(cpu_seconds(node.pid) for node in cluster.nodes if node.pid is not None)


def copies(admin: AdminClient, topic: str) -> set[int]:
    """The replica counts of ``topic``'s partitions."""
    return {len(p.replicas) for p in admin.list_topics(topic, timeout=10).topics[topic].partitions.values()}


def one_run(cluster: KafkaCluster, base: dict[str, str], root: Path, factor: int, name: str, events: int,
            admin: AdminClient) -> dict[str, Any]:
    before = cluster_cpu(cluster)
    run = run_worker({**base, **FACTORS[factor]}, root / name, events, name, admin, check=checker(events))
    run["cluster_us"] = (cluster_cpu(cluster) - before) / events * 1e6
    found = copies(admin, f"{name}.orders")
    if found != {factor}:
        raise SystemExit(f"{name}.orders has {found} copies per partition, not {factor}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-replication-"))
    results: list[dict[int, dict[str, Any]]] = []
    with local_stack(root, brokers=3) as (cluster, registry):
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
        base = read_models_env(cluster.url, registry.url)
        for r in range(1, args.rounds + 1):
            runs = {}
            for factor in ((3, 1) if r % 2 else (1, 3)):
                run = one_run(cluster, base, root, factor, f"bench-rf{factor}-{r}", args.events, admin)
                runs[factor] = run
                print(f"round {r}, factor {factor}: {run['rate']:.0f} events/s, {run['cpu_us']:.0f} us worker CPU "
                      f"per event, {run['cluster_us']:.0f} us of the three nodes' (answers checked)", flush=True)
            results.append(runs)
    print(f"\nN = {args.events} OrderPlaced, 4 partitions, read models only, 3 nodes, {args.rounds} rounds")
    for label, field in (("events/s", "rate"), ("worker CPU per event", "cpu_us"),
                         ("the nodes' CPU per event", "cluster_us")):
        ratios = [runs[3][field] / runs[1][field] for runs in results]
        print(f"factor 3 / factor 1, {label}: {', '.join(f'{x:.2f}' for x in ratios)}; "
              f"median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
