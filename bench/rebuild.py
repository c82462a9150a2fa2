"""A read model's rebuild against the live rate, in one run on one broker.

    python -m bench.rebuild [--events N] [--model orders] [--rounds K]

Per round, on the read-models workload (``bench.protocol_cost.read_models_env``: decode, four read models,
commit; no fan-out, no saga): ``N`` OrderPlaced are produced and one worker applies them live, timed from its
group's first commit until everything is committed (``bench.pipeline.run_worker``).  The worker is stopped,
``streams replay --to-earliest --rebuild <model> --execute`` plans a blue/green rebuild, and the worker is started
again on the same data dir: it judges every event again into the model's new generation (only that: no deltas, no
fan-out), timed the same way, from the group's first commit after the reset until everything is committed again.
Checked at the end of each round: the read models' answers (every order placed, the customers, the stats), and
that ``GET /orders/o-0`` and ``GET /orders/o-<N-1>`` answer from the new generation, no longer rebuilding.
Printed per round: events/s and the worker's CPU per event (process time: steadier than wall time on a shared
machine) of both phases, and the rebuild/live ratios; with ``--rounds K``, their medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from bench.pipeline import group_env, local_stack, run_worker, settings_from, time_to_committed
from bench.protocol_cost import checker, read_models_env
from streams.devstack.worker import WorkerProcess as Worker

MODELS = ("orders", "customers", "inventory", "stats")


def rebuild(env: dict[str, str], model: str) -> None:
    """``streams replay --to-earliest --rebuild <model> --execute`` for the group of ``env``; exits on failure."""
    result = subprocess.run([sys.executable, "-m", "streams.cli", "replay", "--to-earliest", "--rebuild", model,
                             "--execute"], env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"streams replay --rebuild {model} failed ({result.returncode}): {result.stderr.strip()}")


def check_generation(worker: Worker, n: int) -> None:
    """The first and the last order answer from generation 1, its rebuild over."""
    for order in ("o-0", f"o-{n - 1}"):
        meta = worker.get(f"/orders/{order}").json().get("_meta", {})
        if meta.get("generation") != 1 or meta.get("rebuilding"):
            raise SystemExit(f"wrong answers: order {order} served by {meta}, not by the rebuilt generation 1")


def one_round(root: Path, base: dict[str, str], admin: AdminClient, n: int, model: str, r: int) -> dict[str, Any]:
    group = f"bench-rebuild-{r}"
    live = run_worker(base, root / group, n, group, admin, check=checker(n))
    env = group_env(base, group)
    rebuild(env, model)
    worker = Worker(env=env, data_dir=root / group).start(timeout=120)
    try:
        timed = time_to_committed(worker, admin, group, f"{group}.orders", n, settings_from(env))
        checker(n)(worker)
        if model == "orders":
            check_generation(worker, n)
    finally:
        worker.stop()
    print(f"round {r}: live {live['rate']:.0f} events/s, {live['cpu_us']:.0f} us CPU per event; rebuild of {model} "
          f"{timed['rate']:.0f} events/s, {timed['cpu_us']:.0f} us; rebuild/live events/s "
          f"{timed['rate'] / live['rate']:.2f} (answers checked)", flush=True)
    return {"live": live, "rebuild": timed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="OrderPlaced per round")
    parser.add_argument("--model", choices=MODELS, default="orders", help="the read model rebuilt")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    with local_stack(root) as (broker, registry):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        base = read_models_env(broker.url, registry.url)
        rounds = [one_round(root, base, admin, args.events, args.model, r) for r in range(1, args.rounds + 1)]
    rates = [x["rebuild"]["rate"] / x["live"]["rate"] for x in rounds]
    cpus = [x["rebuild"]["cpu_us"] / x["live"]["cpu_us"] for x in rounds]
    print(f"\nN = {args.events} OrderPlaced, 4 partitions, rebuild of {args.model}, {args.rounds} round(s)")
    print(f"rebuild/live events/s: {', '.join(f'{x:.2f}' for x in rates)}; median {statistics.median(rates):.2f}")
    print(f"rebuild/live CPU per event: {', '.join(f'{x:.2f}' for x in cpus)}; "
          f"median {statistics.median(cpus):.2f}")


if __name__ == "__main__":
    main()
