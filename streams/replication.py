"""How many copies every topic the app creates keeps: the replication factor and ``min.insync.replicas``.

One broker on a laptop can hold one copy; a production cluster should hold three, of which two must have a
write before it is acknowledged (producers use ``acks=all``), so that one lost broker loses nothing and blocks
nothing.  Unset, both are decided from the cluster the worker starts on, so the same configuration runs on
both; set, a value the cluster cannot honour is refused when the worker starts, in one line naming the
setting, instead of topic creation failing (or writes hanging on ``NOT_ENOUGH_REPLICAS``) later.

``decide_replication`` is the decision, pure; ``cluster_replication`` feeds it the cluster's size (``cluster_size``:
its brokers, those down included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from streams.errors import ConfigError, TransientError

__all__ = ["MIN_INSYNC_CONFIG", "Replication", "ReplicationError", "cluster_replication", "cluster_size",
           "decide_replication", "default_factor"]

MIN_INSYNC_CONFIG = "min.insync.replicas"

# A cluster this large gets three copies of everything, two of which must have each write.
_PRODUCTION_BROKERS = 3


class ReplicationError(ConfigError):
    """STREAMS_REPLICATION_FACTOR or STREAMS_MIN_INSYNC_REPLICAS asks more than the cluster can hold."""

    code = "bad_replication"


@dataclass(frozen=True)
class Replication:
    """The replication in force: ``factor`` copies of each partition, ``min_insync`` of them needed for a write."""

    factor: int
    min_insync: int
    brokers: int
    factor_set: bool = False  # True: from STREAMS_REPLICATION_FACTOR, else decided from the cluster
    min_insync_set: bool = False  # True: from STREAMS_MIN_INSYNC_REPLICAS

    def topic_config(self) -> dict[str, str]:
        """What a created topic's config gets (the factor is not a config: it is given to the creation)."""
        return {MIN_INSYNC_CONFIG: str(self.min_insync)}

    def describe(self) -> str:
        """For the worker's startup line: the values and where each came from."""
        cluster = f"the cluster: {_brokers(self.brokers)}"
        factor_from = "STREAMS_REPLICATION_FACTOR" if self.factor_set else cluster
        insync_from = "STREAMS_MIN_INSYNC_REPLICAS" if self.min_insync_set else cluster
        if factor_from == insync_from:
            return f"replication factor {self.factor}, min.insync.replicas {self.min_insync} (from {factor_from})"
        return (f"replication factor {self.factor} (from {factor_from}), "
                f"min.insync.replicas {self.min_insync} (from {insync_from})")


def default_factor(brokers: int) -> int:
    """The replication factor unless set: 3 on three brokers or more, else 1."""
    return _PRODUCTION_BROKERS if brokers >= _PRODUCTION_BROKERS else 1


def decide_replication(brokers: int, *, factor: int | None = None, min_insync: int | None = None) -> Replication:
    """The replication of a cluster of ``brokers``, given the settings (``None``: unset).

    Unset, the factor is 3 on three brokers or more, else 1; ``min.insync.replicas`` is 2 when the factor is
    3 or more (one copy may be lost and writes go on), else 1 (with two copies, requiring both would stop
    writes whenever one broker restarts).  ``ReplicationError`` when a set value cannot be met: more copies
    than brokers, or more in-sync copies than copies (every write would fail with NOT_ENOUGH_REPLICAS).
    """
    if brokers < 1:
        raise TransientError("the Kafka cluster reports no broker", hint="is it still starting? check STREAMS_BROKER")
    chosen = factor if factor is not None else default_factor(brokers)
    if chosen > brokers:
        raise ReplicationError(
            f"STREAMS_REPLICATION_FACTOR={chosen} is more than the {_brokers(brokers)} of the cluster",
            hint=f"set it to {brokers} or less, or unset it to decide from the cluster",
        )
    insync = min_insync if min_insync is not None else (2 if chosen >= 3 else 1)
    if insync > chosen:
        raise ReplicationError(
            f"STREAMS_MIN_INSYNC_REPLICAS={insync} is more than the replication factor {chosen}: "
            f"no write could be acknowledged",
            hint=f"set it to {chosen} or less, or unset it",
        )
    return Replication(chosen, insync, brokers, factor_set=factor is not None, min_insync_set=min_insync is not None)


def cluster_replication(admin: AdminClient, *, factor: int | None = None, min_insync: int | None = None,
                        timeout: float = 10.0) -> Replication:
    """``decide_replication`` for the cluster ``admin`` reaches (its size from the metadata: ``cluster_size``)."""
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise TransientError(f"cannot reach Kafka to count its brokers: {exc.args[0]}",
                             hint="is the broker running? check STREAMS_BROKER") from exc
    return decide_replication(cluster_size(metadata), factor=factor, min_insync=min_insync)


def cluster_size(metadata: Any) -> int:
    """The brokers of the cluster, those down included: the live ones the metadata lists, or more when a
    partition has its copies on more (a topic's replica list keeps a broker that is down).  A worker restarted
    while one of three brokers is down so decides what it decided before (3 and 2), rather than 1, or refusing
    a STREAMS_REPLICATION_FACTOR of 3."""
    copies = (len(partition.replicas) for topic in metadata.topics.values() for partition in topic.partitions.values())
    return max(len(metadata.brokers), *copies, 0)


def _brokers(count: int) -> str:
    return f"{count} broker{'s' if count != 1 else ''}"
