"""A Kafka cluster of N combined broker+controller nodes (KRaft) on loopback, from the same jars as one broker.

Each node is a ``KafkaBroker`` with its own ports and data directory; all of them share one cluster id and form
the controller quorum together (a static quorum: ``controller.quorum.voters`` names every node, as the one-node
broker names itself).  Kafka's own topics get ``min(3, N)`` copies, two of which must have each write when N is
3 or more (``internal_topic_config``).  The nodes are launched together and waited for together: none answers
before a majority of the controllers has elected a leader.

With one node it is exactly the one ``KafkaBroker`` (same data directory, ports and settings).  With more, a node
can be stopped, killed (kill -9) and started again on its ports and data, and the node leading a partition
found: what trying failover, by hand or in a test, needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from confluent_kafka import TopicCollection
from confluent_kafka.admin import AdminClient

from streams.connection import KafkaConnection
from streams.devstack.kafka import KafkaBroker, new_cluster_id
from streams.errors import DevstackError

__all__ = ["KafkaCluster", "quorum_voters"]

# The heap of each node of a cluster of two or more: three of them and a worker must fit a CI runner.
CLUSTER_NODE_HEAP = "384m"


def quorum_voters(controller_ports: dict[int, int]) -> str:
    """``controller.quorum.voters`` for nodes listening for controllers on 127.0.0.1: ``{node id: port}``."""
    return ",".join(f"{node}@127.0.0.1:{port}" for node, port in sorted(controller_ports.items()))


def _formatted_cluster_id(data_dirs: list[Path]) -> str:
    """The cluster id a node's storage was formatted with, if any was: a node formatted later (its first start
    failed, its directory was removed) must join the same cluster, not found a new one."""
    for data_dir in data_dirs:
        meta = data_dir / "kraft" / "meta.properties"
        if meta.exists():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
    return ""


@dataclass
class KafkaCluster:
    """``brokers`` KRaft nodes (node ids 1..N), each a broker and a controller, bound to 127.0.0.1.

    ``port`` is the first node's client port (0: a free one); the others get free ports.  With one node its
    data is ``data_dir`` itself, as for a ``KafkaBroker``; with more, node ``i`` keeps it in ``data_dir/node-i``.
    """

    data_dir: Path
    cache_dir: Path
    brokers: int = 1
    kafka_home: Path | None = None
    port: int = 0
    log_level: str = "INFO"
    nodes: list[KafkaBroker] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.brokers < 1:
            raise DevstackError(f"a Kafka cluster needs at least one broker, not {self.brokers}",
                                hint="use --brokers 1 or more")
        if self.brokers == 1:
            self.nodes = [KafkaBroker(data_dir=self.data_dir, cache_dir=self.cache_dir, kafka_home=self.kafka_home,
                                      port=self.port, log_level=self.log_level)]
            return
        dirs = [self.data_dir / f"node-{node}" for node in range(1, self.brokers + 1)]
        cluster_id = _formatted_cluster_id(dirs) or new_cluster_id()
        self.nodes = [
            KafkaBroker(data_dir=data_dir, cache_dir=self.cache_dir, kafka_home=self.kafka_home,
                        port=self.port if node == 1 else 0, log_level=self.log_level, node_id=node,
                        cluster_id=cluster_id, internal_replication=min(3, self.brokers),
                        max_heap=CLUSTER_NODE_HEAP, name=f"Kafka node {node}")
            for node, data_dir in enumerate(dirs, 1)
        ]

    @property
    def bootstrap_servers(self) -> str:
        """Every node's ``host:port``, as Kafka clients want it."""
        return ",".join(node.bootstrap_servers for node in self.nodes)

    @property
    def url(self) -> str:
        """``STREAMS_BROKER`` for this cluster: every node (a client reaches the cluster while any one runs)."""
        return ",".join(node.url for node in self.nodes)

    @property
    def connection(self) -> KafkaConnection:
        """How a client reaches the cluster (every node's plaintext listener)."""
        return KafkaConnection(self.bootstrap_servers)

    def node(self, node_id: int) -> KafkaBroker:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(f"no node {node_id} in a cluster of {self.brokers}")

    def configure(self) -> None:
        """Give every node its ports and the quorum of all of them (each must know every controller's port
        before any starts)."""
        for node in self.nodes:
            node.assign_ports()
        voters = quorum_voters({node.node_id: node.controller_port for node in self.nodes})
        for node in self.nodes:
            node.voters = voters

    def start(self, timeout: float = 60.0) -> KafkaCluster:
        """Launch every node, return once each answers metadata listing all of them; stop them all if not."""
        if self.brokers == 1:
            self.nodes[0].start(timeout)
            return self
        self.configure()
        try:
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_ready(timeout, brokers=self.brokers)  # the first wait covers the others' start too
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every node (controlled shutdown, SIGKILL after ``timeout``); never leaves a process."""
        for node in reversed(self.nodes):
            node.stop(timeout)

    def stop_node(self, node_id: int, timeout: float = 20.0) -> None:
        """Controlled shutdown of one node: its partitions' leadership moves first."""
        self.node(node_id).stop(timeout)

    def kill_node(self, node_id: int) -> None:
        """kill -9 of one node: a crash, the others elect new leaders once its session expires."""
        self.node(node_id).kill()

    def restart_node(self, node_id: int, timeout: float = 60.0) -> None:
        """Start a stopped or killed node again on its ports and data; return once it answers metadata listing
        every node (it has rejoined; its replicas catch up and re-enter the ISR afterwards)."""
        node = self.node(node_id)
        if node.running:
            raise DevstackError(f"{node.name} is running", hint="stop or kill it before restarting it")
        node.start(timeout)
        node.wait_ready(timeout, brokers=self.brokers)

    def leader(self, topic: str, partition: int = 0, timeout: float = 10.0) -> int:
        """The node id leading ``topic``'s ``partition`` now (-1 while it has none)."""
        admin = AdminClient({"bootstrap.servers": self.running_bootstrap_servers})
        description = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)[topic].result(timeout)
        for info in description.partitions:
            if info.id == partition:
                return info.leader.id if info.leader is not None else -1
        raise KeyError(f"{topic} has no partition {partition}")

    @property
    def running_bootstrap_servers(self) -> str:
        """The nodes that run now (a client given only dead ones waits for nothing)."""
        return ",".join(node.bootstrap_servers for node in self.nodes if node.running) or self.bootstrap_servers

    @property
    def running(self) -> list[KafkaBroker]:
        return [node for node in self.nodes if node.running]

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
