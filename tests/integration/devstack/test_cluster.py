"""``streams dev --brokers 3``: a three-node KRaft cluster from the dev jars under the dev stack, the worker's topics
replicated three times, running on without a node.  (A killed leader losing no acknowledged write, and the cluster's
own topics in three copies: tests/integration/replication/test_cluster_failover.py, on the same KafkaCluster.)"""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import pytest

from tests.integration.devstack.stack import kill_all, start_dev
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def test_streams_dev_with_three_brokers_replicates_three_times_and_runs_on_without_a_node(tmp_path: Path) -> None:
    proc, _, _ = start_dev(tmp_path, args=("--brokers", "3"))
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("all up in" in line for line in printed), timeout=60, what="all up")
        text = " ".join(printed)  # rich wraps long lines
        found = re.findall(r"kafka +node (\d) at 127\.0\.0\.1:\d+ \(pid (\d+)", text)
        nodes = {int(node): int(pid) for node, pid in found}
        assert sorted(nodes) == [1, 2, 3], text
        startup = [line for line in (tmp_path / "logs" / "worker.log").read_text().splitlines()
                   if line.startswith("worker ")]
        assert "replication factor 3, min.insync.replicas 2 (from the cluster: 3 brokers)" in startup[0], startup
        os.kill(nodes[2], signal.SIGKILL)  # a node lost: said, and the stack runs on
        wait_until(lambda: "node 2 exited; 2 of 3 run on" in " ".join(printed), timeout=30,
                   what="the stack saying node 2 exited")
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, printed
    finally:
        kill_all(proc)
