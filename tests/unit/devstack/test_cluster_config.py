"""The configuration of a dev Kafka cluster's nodes: one quorum, one cluster id, replication by size (no broker)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from streams.cli import app
from streams.devstack.cluster import KafkaCluster, quorum_voters
from streams.devstack.kafka import KafkaBroker, internal_topic_config
from streams.errors import DevstackError

# What the one-node dev broker's server.properties held before clusters existed (its ports and data dir aside).
ONE_NODE = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": "1@127.0.0.1:9093",
    "listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
    "advertised.listeners": "PLAINTEXT://127.0.0.1:9092",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "num.partitions": "1",
    "auto.create.topics.enable": "true",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.segment.bytes": str(64 * 1024 * 1024),
}


def _without_data_dir(config: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in config.items() if key != "log.dirs"}


def test_quorum_voters_name_every_node_by_id_in_order() -> None:
    assert quorum_voters({3: 9003, 1: 9001, 2: 9002}) == "1@127.0.0.1:9001,2@127.0.0.1:9002,3@127.0.0.1:9003"
    assert quorum_voters({1: 9001}) == "1@127.0.0.1:9001"


@pytest.mark.parametrize(("replication", "expected"), [
    (1, {"offsets": "1", "min_isr": "1", "defaults": None}),
    (2, {"offsets": "2", "min_isr": "1", "defaults": ("2", "1")}),
    (3, {"offsets": "3", "min_isr": "2", "defaults": ("3", "2")}),
])
def test_internal_topics_get_the_replication_and_two_in_sync_copies_from_three(
        replication: int, expected: dict[str, object]) -> None:
    config = internal_topic_config(replication)
    assert config["offsets.topic.replication.factor"] == expected["offsets"]
    assert config["transaction.state.log.replication.factor"] == expected["offsets"]
    assert config["share.coordinator.state.topic.replication.factor"] == expected["offsets"]
    assert config["transaction.state.log.min.isr"] == expected["min_isr"]
    assert config["share.coordinator.state.topic.min.isr"] == expected["min_isr"]
    defaults = (config.get("default.replication.factor"), config.get("min.insync.replicas"))
    assert defaults == (expected["defaults"] or (None, None))


def test_a_lone_broker_is_configured_as_it_always_was(tmp_path: Path) -> None:
    broker = KafkaBroker(data_dir=tmp_path, cache_dir=tmp_path, port=9092, controller_port=9093)
    assert _without_data_dir(broker.properties()) == ONE_NODE
    assert broker.properties()["log.dirs"] == str(tmp_path / "kraft")


def test_a_cluster_of_one_is_the_lone_broker_in_the_same_directory(tmp_path: Path) -> None:
    cluster = KafkaCluster(data_dir=tmp_path, cache_dir=tmp_path, port=9092)
    [node] = cluster.nodes
    node.controller_port = 9093
    assert _without_data_dir(node.properties()) == ONE_NODE
    assert (node.data_dir, node.max_heap, node.name) == (tmp_path, "768m", "the Kafka broker")
    assert cluster.bootstrap_servers == "127.0.0.1:9092"
    assert cluster.url == "kafka://127.0.0.1:9092"


def test_each_node_of_three_has_its_ports_and_directory_and_all_share_one_quorum(tmp_path: Path) -> None:
    cluster = KafkaCluster(data_dir=tmp_path, cache_dir=tmp_path, brokers=3, port=19092)
    cluster.configure()
    nodes = cluster.nodes
    assert [node.node_id for node in nodes] == [1, 2, 3]
    assert nodes[0].port == 19092
    ports = [port for node in nodes for port in (node.port, node.controller_port)]
    assert len(set(ports)) == 6, ports
    assert [node.data_dir for node in nodes] == [tmp_path / f"node-{i}" for i in (1, 2, 3)]
    assert len({node.cluster_id for node in nodes}) == 1
    assert nodes[0].cluster_id
    voters = ",".join(f"{node.node_id}@127.0.0.1:{node.controller_port}" for node in nodes)
    for node in nodes:
        config = node.properties()
        assert config["node.id"] == str(node.node_id)
        assert config["controller.quorum.voters"] == voters
        assert config["listeners"] == (f"PLAINTEXT://127.0.0.1:{node.port},"
                                       f"CONTROLLER://127.0.0.1:{node.controller_port}")
        assert config["log.dirs"] == str(tmp_path / f"node-{node.node_id}" / "kraft")
        assert (config["offsets.topic.replication.factor"], config["min.insync.replicas"]) == ("3", "2")
        assert node.max_heap == "384m"
    assert cluster.bootstrap_servers == ",".join(f"127.0.0.1:{node.port}" for node in nodes)
    assert cluster.url == ",".join(f"kafka://127.0.0.1:{node.port}" for node in nodes)


def test_a_node_formatted_earlier_gives_the_cluster_its_id(tmp_path: Path) -> None:
    (tmp_path / "node-2" / "kraft").mkdir(parents=True)
    (tmp_path / "node-2" / "kraft" / "meta.properties").write_text("version=1\ncluster.id=Abc123\nnode.id=2\n")
    cluster = KafkaCluster(data_dir=tmp_path, cache_dir=tmp_path, brokers=3)
    assert {node.cluster_id for node in cluster.nodes} == {"Abc123"}


def test_a_cluster_of_none_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevstackError, match="at least one broker"):
        KafkaCluster(data_dir=tmp_path, cache_dir=tmp_path, brokers=0)


def test_streams_dev_takes_a_broker_count_of_one_or_more() -> None:
    runner = CliRunner()
    assert "--brokers" in runner.invoke(app, ["dev", "--help"]).output
    refused = runner.invoke(app, ["dev", "--brokers", "0"])
    assert refused.exit_code == 2
    assert "--brokers" in refused.output
