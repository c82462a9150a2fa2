"""A worker's start: this tree's against another checkout's, alternating, on one broker.

    python -m bench.startup --before /path/to/a/checkout [--rounds K]

Each round starts one worker of each tree (the read-models workload's settings, ``bench.protocol_cost``; a fresh
app id, its topics created by the worker) and times it from its process's start until ``GET /health`` answers ready,
in wall time and in the process's CPU time (steadier: the wall time also waits on the group's join and the broker);
then stops it.  The trees alternate which goes first.  Printed: each start, and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.pipeline import cpu_seconds, group_env, local_stack
from bench.protocol_cost import read_models_env
from streams.devstack.worker import WorkerProcess as Worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": Path.cwd()}
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    cpu: dict[str, list[float]] = {name: [] for name in trees}
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    with local_stack(root) as (broker, registry):
        base = read_models_env(broker.url, registry.url)
        for r in range(1, args.rounds + 1):
            for name in (["before", "after"] if r % 2 else ["after", "before"]):
                group = f"bench-start-{name}-{r}"
                began = time.perf_counter()
                worker = Worker(env=group_env(base, group), data_dir=root / group, cwd=trees[name])
                try:
                    worker.start(timeout=120)
                    seconds[name].append(time.perf_counter() - began)
                    assert worker.process is not None
                    assert worker.process.pid is not None
                    cpu[name].append(cpu_seconds(worker.process.pid))
                finally:
                    worker.stop()
                print(f"round {r} {name}: ready in {seconds[name][-1]:.2f} s, {cpu[name][-1]:.2f} s of CPU",
                      flush=True)
    for name, values in seconds.items():
        print(f"{name}: median {statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)}); CPU "
              f"median {statistics.median(cpu[name]):.2f} s ({', '.join(f'{v:.2f}' for v in cpu[name])})")


if __name__ == "__main__":
    main()
