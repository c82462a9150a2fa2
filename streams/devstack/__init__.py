"""A local stack on real components: the KRaft broker from Maven jars, the registry, workers."""

from streams.devstack.cluster import KafkaCluster
from streams.devstack.control import DevStackClient, StackControl
from streams.devstack.kafka import KafkaBroker
from streams.devstack.stack import DevStack
from streams.devstack.worker import WorkerProcess

__all__ = ["DevStack", "DevStackClient", "KafkaBroker", "KafkaCluster", "StackControl", "WorkerProcess"]
