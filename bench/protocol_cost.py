"""What the commit protocol costs: the worker of another source tree and this one, side by side on one broker.

    python -m bench.protocol_cost --before /path/to/a/checkout [--events N] [--rounds K] [--gets]
                                  [--after-env STREAMS_X=value ...]

``--before`` is a checkout of the code to compare with (``git worktree add /tmp/before <commit>``); its worker
runs from that tree (its working directory: ``python -m`` imports from there first), the bench and everything
else from this one.  Each round runs both on
the read-models workload (decode, four read models, commit; no fan-out, no poison), alternating which goes first;
each run is checked at its end (every order placed, every customer and the stats), and the bench prints events/s,
the worker's CPU per event (process time: steadier than wall time on a shared machine), peak RSS, and the
after/before ratios per round and their median.  ``--gets``: a client also reads ``GET /orders/<id>`` every 5 ms
while each backlog is processed, and the bench prints its p50 and p99 per run.  ``--after-env``: settings of this
tree's worker only (``--before .`` then compares one setting with its default, on one tree).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from bench.pipeline import local_stack, pct, run_worker
from streams.devstack.worker import WorkerProcess as Worker

CUSTOMERS = 5000  # bench.pipeline.produce spreads the orders over this many customers, 300 SKUs, 1500 each


def read_models_env(broker_url: str, registry_url: str, **extra: str) -> dict[str, str]:
    """The settings of a worker on the read-models workload (decode, four read models, commit; no fan-out, no
    saga), on the bench's broker and registry; ``extra``: more STREAMS_* settings of one bench."""
    return {"STREAMS_BROKER": broker_url, "STREAMS_SCHEMA_REGISTRY_URL": registry_url, "STREAMS_TOPIC_PARTITIONS": "4",
            "STREAMS_LOG_LEVEL": "warning", "STREAMS_APP_FACTORY": "bench.ours_without_fanout:create_app",
            "STREAMS_SAGA": "false", **extra}  # the read models alone (bench.saga measures the saga's cost)


def setting(pair: str) -> tuple[str, str]:
    """``--after-env``'s ``STREAMS_X=value``, split."""
    name, sep, value = pair.partition("=")
    if not sep or not name.startswith("STREAMS_"):
        raise argparse.ArgumentTypeError(f"{pair!r} is not STREAMS_<NAME>=<value>")
    return name, value


def checker(n: int) -> Any:
    """The check of a run of ``n`` orders: every order placed, the first and last customer's counts, the stats."""
    def check(worker: Worker) -> None:
        stats = worker.get("/stats").json()
        placed = stats["orders_by_status"].get("placed")
        if placed != n or stats["revenue_minor_total"]:
            raise SystemExit(f"wrong answers: {placed} orders placed of {n}; stats {stats}")
        for customer in ("c-0", f"c-{min(n, CUSTOMERS) - 1}"):  # the last customer with an order
            view = worker.get(f"/customers/{customer}").json()
            want = len(range(int(customer[2:]), n, CUSTOMERS))
            if view.get("order_count") != want or view["lifetime_value_minor"].get("EUR") != 1500 * want:
                raise SystemExit(f"wrong answers: customer {customer} {view}, expected {want} orders")
        for i in (0, n - 1):
            if worker.get(f"/orders/o-{i}").json().get("status") != "placed":
                raise SystemExit(f"wrong answers: order o-{i}")
    return check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gets", action="store_true", help="also time GET /orders/<id> during each backlog")
    parser.add_argument("--after-env", action="append", default=[], metavar="STREAMS_X=value", type=setting,
                        help="a setting of this tree's worker only (repeatable)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-protocol-"))
    trees = {"before": args.before.resolve(), "after": Path.cwd()}
    results: list[dict[str, dict[str, Any]]] = []
    with local_stack(root) as (broker, registry):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        base = read_models_env(broker.url, registry.url)
        envs = {"before": base, "after": {**base, **dict(args.after_env)}}
        for r in range(1, args.rounds + 1):
            order = ["before", "after"] if r % 2 else ["after", "before"]
            runs = {}
            for name in order:
                runs[name] = run_worker(envs[name], root / f"{name}-{r}", args.events, f"bench-{name}-{r}", admin,
                                        check=checker(args.events), cwd=trees[name], load_gets=args.gets)
                gets = runs[name]["gets"]
                reads = (f", GET p50 {pct(gets, 0.5) * 1000:.1f} ms p99 {pct(gets, 0.99) * 1000:.1f} ms "
                         f"({len(gets)} reads)") if args.gets else ""
                print(f"round {r} {name}: {runs[name]['rate']:.0f} events/s, {runs[name]['cpu_us']:.0f} us CPU "
                      f"per event, peak RSS {runs[name]['peak_mb']:.0f} MB{reads} (answers checked)", flush=True)
            results.append(runs)
    rates = [r["after"]["rate"] / r["before"]["rate"] for r in results]
    cpus = [r["after"]["cpu_us"] / r["before"]["cpu_us"] for r in results]
    print(f"\nN = {args.events} OrderPlaced, 4 partitions, read models only, {args.rounds} rounds")
    print(f"after/before events/s: {', '.join(f'{x:.2f}' for x in rates)}; median {statistics.median(rates):.2f}")
    print(f"after/before CPU per event: {', '.join(f'{x:.2f}' for x in cpus)}; median {statistics.median(cpus):.2f}")


if __name__ == "__main__":
    main()
