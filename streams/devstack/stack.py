"""``streams dev``: broker (or a cluster of ``brokers`` nodes), schema registry and one worker, in the foreground.

Each component is started in order and waited for; its status is printed as
one line.  Ctrl-C (or SIGTERM) stops them in reverse order.  A worker that exits
unexpectedly is restarted, saying so (a worker is meant to crash and resume:
nothing it had not committed is lost); one that keeps dying (more than
``RESTARTS`` times in ``RESTART_WINDOW_S``) stops the stack, as the broker or the
registry dying does, with a non-zero exit code.  A node of a cluster of several dying
is said and the stack runs on (that is what the cluster is for: trying failover by
hand); it stops once no node runs.

Another process on this machine can ask the stack to hold its worker stopped
for a while and start it again, the broker and registry running on
(``streams replay --restart-dev-worker``: ``streams.devstack.control``).  Each
child's port is checked before it starts, so a port already taken is said in
one line, as for the broker's.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from streams.devstack.cluster import KafkaCluster
from streams.devstack.control import StackControl
from streams.devstack.ports import ensure_free
from streams.devstack.processes import ChildProcess
from streams.errors import DevstackError
from streams.settings import Settings, without_credentials

__all__ = ["DevStack"]

Say = Callable[[str], None]

RESTARTS = 5
RESTART_WINDOW_S = 120.0


@dataclass
class DevStack:
    settings: Settings
    say: Say
    with_registry: bool = True
    with_worker: bool = True
    brokers: int = 1
    cluster: KafkaCluster | None = field(default=None, init=False)
    dead_nodes: set[int] = field(default_factory=set, init=False)  # nodes of the cluster already said to be dead
    children: list[ChildProcess] = field(default_factory=list, init=False)
    restarts: list[float] = field(default_factory=list, init=False)  # when the worker was restarted
    held: bool = field(default=False, init=False)  # the worker is stopped at another process's request

    @property
    def control(self) -> StackControl:
        return StackControl(self.data_dir / "dev")

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def start(self) -> None:
        started = time.monotonic()
        host, port = self.settings.bootstrap_servers.split(",")[0].rsplit(":", 1)
        if host not in ("127.0.0.1", "localhost"):
            raise DevstackError(f"streams dev runs a broker on loopback, but STREAMS_BROKER names {host}",
                                hint="unset STREAMS_BROKER or use 127.0.0.1")
        cluster = KafkaCluster(data_dir=self.data_dir / "kafka", cache_dir=self.settings.kafka_cache_dir,
                               brokers=self.brokers, kafka_home=self.settings.kafka_home, port=int(port))
        if self.brokers == 1:
            self.say(f"kafka     starting on {host}:{port} (data {self.data_dir / 'kafka'})")
        else:
            self.say(f"kafka     starting a cluster of {self.brokers} nodes, the first on {host}:{port} "
                     f"(data {self.data_dir / 'kafka'})")
        self.cluster = cluster.start()
        if self.brokers == 1:
            self.say(f"kafka     ready in {time.monotonic() - started:.1f}s, log {cluster.nodes[0].log_path}")
        else:
            self.say(f"kafka     ready in {time.monotonic() - started:.1f}s: {cluster.bootstrap_servers}")
            for node in cluster.nodes:
                self.say(f"kafka     node {node.node_id} at {node.bootstrap_servers} (pid {node.pid}, "
                         f"log {node.log_path})")
        env = {"STREAMS_BROKER": cluster.url, "STREAMS_DATA_DIR": str(self.data_dir)}
        if self.with_registry:
            reg_host, reg_port = self.settings.registry_host_port
            ensure_free(reg_port, reg_host, setting="STREAMS_SCHEMA_REGISTRY_URL")
            self._start(ChildProcess(
                name="registry", argv=[sys.executable, "-m", "streams.cli", "registry"],
                log_path=self.data_dir / "logs" / "registry.log",
                ready_url=f"http://{reg_host}:{reg_port}/subjects", env=env,
            ), without_credentials(self.settings.schema_registry_url))
        if self.with_worker:
            base = f"http://{self.settings.web_host}:{self.settings.web_port}"
            ensure_free(self.settings.web_port, self.settings.web_host, setting="STREAMS_WEB_PORT")
            self._start(ChildProcess(
                name="worker", argv=[sys.executable, "-m", "streams.cli", "worker"],
                log_path=self.data_dir / "logs" / "worker.log", ready_url=f"{base}/health", env=env,
            ), base)
        self.control.announce(self.settings.bootstrap_servers, "running" if self.with_worker else "none")
        self.say(f"all up in {time.monotonic() - started:.1f}s; Ctrl-C stops everything")

    def _start(self, child: ChildProcess, url: str) -> None:
        t0 = time.monotonic()
        self.say(f"{child.name:<9} starting (log {child.log_path})")
        self.children.append(child)
        child.start()
        self.say(f"{child.name:<9} ready in {time.monotonic() - t0:.1f}s at {url}")

    def wait(self) -> int:
        """Block until Ctrl-C/SIGTERM (exit 0) or until a component dies (exit 1)."""
        stop = False

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _on_signal)
        try:
            while not stop:
                if self.with_worker and not self._honour_hold():
                    return 1
                for child in self.children:
                    code = child.exited()
                    if code is None:
                        continue
                    if child.name == "worker" and self._may_restart():
                        self.say(f"worker exited with code {code}; restarting it ({len(self.restarts)} of "
                                 f"{RESTARTS} restarts in {RESTART_WINDOW_S:.0f}s; log {child.log_path})")
                        # bounded by the session: without a static id (STREAMS_INSTANCE_ID empty) the group waits it out
                        try:
                            child.start(timeout=self.settings.session_timeout_s + 60)
                        except DevstackError as exc:
                            self.say(f"worker did not come back: {exc.one_line()}; stopping the stack")
                            return 1
                        self.say("worker    ready again")
                        continue
                    self.say(f"{child.name} exited with code {code}; stopping the stack "
                             f"(log {child.log_path})")
                    return 1
                if self.cluster is not None and not self._cluster_runs(self.cluster):
                    return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        return 0

    def _honour_hold(self) -> bool:
        """Stop the worker while another process holds it stopped, start it once it lets go.

        False when the worker does not come back (the stack then stops, as for a worker that keeps dying).
        """
        holder = self.control.held_by()
        worker = next(child for child in self.children if child.name == "worker")
        if holder is not None and not self.held:
            self.say(f"worker    stopping: process {holder} holds it stopped (streams replay); "
                     "the broker and registry keep running")
            worker.stop()
            self.held = True
            self.control.announce(self.settings.bootstrap_servers, "stopped")
            self.say("worker    stopped")
        elif holder is None and self.held:
            self.say("worker    starting again")
            try:
                worker.start(timeout=self.settings.session_timeout_s + 60)
            except DevstackError as exc:
                self.say(f"worker did not come back: {exc.one_line()}; stopping the stack")
                return False
            self.held = False
            self.control.announce(self.settings.bootstrap_servers, "running")
            self.say("worker    ready again")
        return True

    def _cluster_runs(self, cluster: KafkaCluster) -> bool:
        """Say each node that exited, once; False (stop the stack) once none runs, or the only broker exited."""
        if cluster.brokers == 1:
            node = cluster.nodes[0]
            if not node.running:
                self.say(f"kafka exited; stopping the stack (log {node.log_path})")
            return node.running
        for node in cluster.nodes:
            if not node.running and node.node_id not in self.dead_nodes:
                self.dead_nodes.add(node.node_id)
                self.say(f"kafka     node {node.node_id} exited; {len(cluster.running)} of {cluster.brokers} "
                         f"run on (log {node.log_path})")
        if not cluster.running:
            self.say("kafka     no node of the cluster runs; stopping the stack")
            return False
        return True

    def _may_restart(self) -> bool:
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S]
        if len(self.restarts) >= RESTARTS:
            return False
        self.restarts.append(now)
        return True

    def stop(self) -> None:
        self.control.withdraw()
        for child in reversed(self.children):
            self.say(f"{child.name:<9} stopping")
            child.stop()
        self.children.clear()
        if self.cluster is not None:
            self.say("kafka     stopping")
            self.cluster.stop()
            self.cluster = None
        self.say("stopped")

