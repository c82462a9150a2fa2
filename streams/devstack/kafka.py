"""A real Apache Kafka broker (KRaft, combined broker+controller) on loopback.

``KafkaBroker`` formats storage in its own directory, starts ``kafka.Kafka``
with the machine's Java, waits until a metadata request succeeds and stops the
process (and nothing else) on ``stop()``.  It is what ``streams dev`` and the
integration tests run; production uses a real cluster or docker compose.  Alone it is
a cluster of one; ``streams.devstack.cluster.KafkaCluster`` runs several as the nodes
of one cluster (``node_id``, ``voters``, ``cluster_id``, ``internal_replication``).
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from confluent_kafka.admin import AdminClient

from streams.connection import KafkaConnection
from streams.devstack.jars import broker_classpath
from streams.devstack.lifeline import die_with_parent
from streams.devstack.ports import ensure_free, free_port
from streams.errors import DevstackError

__all__ = ["KafkaBroker", "internal_topic_config", "new_cluster_id"]

_LOG4J = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = {level}
logger.state.name = state.change.logger
logger.state.level = WARN
"""

# librdkafka's connection-refused chatter while the broker boots goes nowhere.
_QUIET = logging.getLogger("streams.devstack.kafka.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

# The heap's ceiling is the node's ``max_heap``: one broker may take 768 MB, the nodes of a cluster less each.
_JVM_OPTS = [
    "-Xms256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
]


def new_cluster_id() -> str:
    """A KRaft cluster id (16 random bytes, base64 without padding), as ``kafka-storage.sh random-uuid`` makes."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def internal_topic_config(replication: int) -> dict[str, str]:
    """The broker settings for Kafka's own topics (consumer offsets, transaction state, share state) on a cluster
    whose internal topics get ``replication`` copies.

    With one copy this is what the one-node dev broker always had.  With three or more, a write needs two
    copies (one node may be lost and writes go on, as the app's topics do: ``streams.replication``), and topics
    created without a factor (auto-created ones) get as many copies, so none of them is left with fewer copies
    than its writes require.
    """
    min_isr = "2" if replication >= 3 else "1"
    config = {
        "offsets.topic.replication.factor": str(replication),
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": min_isr,
    }
    if replication > 1:  # the broker-wide defaults, which the offsets topic uses too; one node keeps Kafka's
        config |= {"default.replication.factor": str(replication), "min.insync.replicas": min_isr}
    return config


@dataclass
class KafkaBroker:
    """One KRaft broker+controller process bound to 127.0.0.1."""

    data_dir: Path
    cache_dir: Path
    kafka_home: Path | None = None
    port: int = 0
    controller_port: int = 0
    log_level: str = "INFO"
    extra_config: dict[str, str] = field(default_factory=dict)
    node_id: int = 1
    voters: str = ""  # controller.quorum.voters of the cluster this node is one of; "": this node alone
    cluster_id: str = ""  # the id storage is formatted with (when not formatted yet); "": a new one
    internal_replication: int = 1  # copies of Kafka's own topics: internal_topic_config
    max_heap: str = "768m"
    name: str = "the Kafka broker"  # in error lines: which node of a cluster failed
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap_servers}"

    @property
    def connection(self) -> KafkaConnection:
        """How a client reaches this broker (its plaintext listener)."""
        return KafkaConnection(self.bootstrap_servers)

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise DevstackError(
                "java not found: the Kafka broker needs Java 17 or newer",
                hint="install a JDK (apt-get install openjdk-17-jre-headless) or use docker compose",
            )
        return java

    def properties(self) -> dict[str, str]:
        """``server.properties`` of this node (its ports assigned)."""
        config = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "kraft"),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.num.partitions": "4",
            **internal_topic_config(self.internal_replication),
            "group.initial.rebalance.delay.ms": "0",
            "log.segment.bytes": str(64 * 1024 * 1024),
        }
        config.update(self.extra_config)
        return config

    def assign_ports(self) -> None:
        """Pick free ports for those not given (a cluster needs every node's controller port before any starts)."""
        if not self.port:
            self.port = free_port()
        if not self.controller_port:
            self.controller_port = free_port()

    def _prepare(self) -> tuple[list[str], Path]:
        java = self._java()
        classpath = broker_classpath(self.cache_dir, self.kafka_home)
        self.assign_ports()
        for port in (self.port, self.controller_port):
            ensure_free(port, "127.0.0.1", setting="STREAMS_BROKER")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text("".join(f"{key}={value}\n" for key, value in self.properties().items()))
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_text(_LOG4J.format(log=self.log_path, level=self.log_level))
        base = [java, *_JVM_OPTS, f"-Xmx{self.max_heap}", f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath]
        return base, props

    def start(self, timeout: float = 60.0) -> KafkaBroker:
        """Format storage if new, start the broker, return once it answers metadata."""
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Format storage if new and start the process, without waiting for it (a node of a cluster answers
        only once a majority of the controllers runs: the cluster launches them all, then waits)."""
        base, props = self._prepare()
        if not (self.data_dir / "kraft" / "meta.properties").exists():
            fmt = subprocess.run(
                [*base, "kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id or new_cluster_id()}",
                 "--config", str(props)],
                capture_output=True, text=True, check=False,
            )
            if fmt.returncode != 0:
                (self.data_dir / "logs" / "format.log").write_text(fmt.stdout + fmt.stderr)
                raise DevstackError(
                    "formatting KRaft storage failed",
                    hint=f"see the log; remove {self.data_dir / 'kraft'} if it is left from another Kafka version",
                    log_path=str(self.data_dir / "logs" / "format.log"),
                )
        stdout = (self.data_dir / "logs" / "stdout.log").open("ab")
        self._proc = subprocess.Popen(
            [*base, "kafka.Kafka", str(props)],
            stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent(),
        )
        stdout.close()

    def wait_ready(self, timeout: float, brokers: int = 1) -> None:
        """Return once this node answers metadata listing ``brokers`` brokers; stop it and raise if it does not
        within ``timeout`` or exits."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers, "logger": _QUIET}
        admin = AdminClient(config)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise DevstackError(
                    f"{self.name} exited during start (exit code {self._proc.returncode})",
                    hint="read the broker log; if Java or ports are the problem, fix them or use docker compose",
                    log_path=str(self.log_path),
                )
            try:
                metadata = admin.list_topics(timeout=1.0)
                if len(metadata.brokers) >= brokers:
                    return
                time.sleep(0.2)
            except Exception:  # noqa: BLE001 - KafkaException while the broker boots
                time.sleep(0.2)
        self.stop()
        raise DevstackError(
            f"{self.name} did not answer within {timeout:.0f}s",
            hint="read the broker log", log_path=str(self.log_path),
        )

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (controlled shutdown), then SIGKILL after ``timeout``; never leaves a process."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self) -> None:
        """SIGKILL, no controlled shutdown: what a crash does (``start()`` brings it back on its ports and data)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
