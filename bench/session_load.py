"""Is a short session timeout safe for a worker under load?  A backlog processed at full CPU, counted rebalances.

    python -m bench.session_load [--events N] [--session-timeout S] [--rounds K]

A worker is evicted from its group when the group hears no heartbeat from it for the session timeout; a worker so
busy that its heartbeats stall would then be evicted while alive, its partitions moved, and it would rejoin: a
rebalance for nothing.  Each round produces N OrderPlaced events first, then starts one worker on the backlog (the
read-models workload, ``bench.pipeline.run_worker``, with reads hammering its HTTP API), so that it
works flat out on two cores shared with the broker until everything is committed, and checks its answers.  Then it
counts, in the worker's log, how often its consumer (re-)joined the group (1: the start only) and any heartbeat
that failed or found the session expired.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from confluent_kafka.admin import AdminClient

from bench.pipeline import local_stack, run_worker
from bench.protocol_cost import checker, read_models_env

JOINED = "(Re-)joining group"
HEARTBEAT_TROUBLE = ("Heartbeat session expired", "Heartbeat failed", "Heartbeat send request failed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--session-timeout", type=float, default=10.0, help="STREAMS_SESSION_TIMEOUT_S of the runs")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-session-"))
    with local_stack(root) as (broker, registry):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        base = read_models_env(broker.url, registry.url, STREAMS_LOG_LEVEL="info",  # its joins are logged at info
                               STREAMS_SESSION_TIMEOUT_S=f"{args.session_timeout:g}")
        for r in range(1, args.rounds + 1):
            data_dir = root / f"worker-{r}"
            run = run_worker(base, data_dir, args.events, f"bench-session-{r}", admin, load_gets=True,
                             check=checker(args.events))
            log = (data_dir / "worker.log").read_text(errors="replace")
            joins = log.count(JOINED)
            trouble = sum(log.count(line) for line in HEARTBEAT_TROUBLE)
            print(f"round {r}: {args.events} events at {run['rate']:.0f} events/s, {run['cpu_us']:.0f} us CPU per "
                  f"event (answers checked), session timeout {args.session_timeout:g} s: joined the group "
                  f"{joins} time(s), {trouble} heartbeat failure(s) ({'no rebalance' if joins == 1 else 'REBALANCED'})",
                  flush=True)


if __name__ == "__main__":
    main()
