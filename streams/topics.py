"""Topic declarations and their creation with confluent-kafka's AdminClient.

Faust creates only its own internal topics; source and output topics are
created here before a worker starts, with the partition count and configs the
app declares, so a table's changelog and its source always agree.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams.errors import ConfigError, TransientError
from streams.replication import cluster_size, decide_replication, default_factor

__all__ = ["DLQ_SUFFIX", "TopicSpec", "dlq_topic", "ensure_topics", "under_replicated"]

log = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of a source topic (``T.dlq``)."""
    return f"{topic}{DLQ_SUFFIX}"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def ensure_topics(admin: AdminClient, specs: Iterable[TopicSpec], timeout: float = 30.0, *,
                  replication_factor: int | None = None, min_insync_replicas: int | None = None) -> list[str]:
    """Create the topics that are missing; refuse one that exists with other partitions.

    Returns the names created.  A topic with *more* partitions than declared is
    refused too: keys would no longer land where tables expect them.  A topic is
    created with the replication ``streams.replication`` decides from the cluster's
    broker count and ``replication_factor`` / ``min_insync_replicas`` (the values of
    STREAMS_REPLICATION_FACTOR and STREAMS_MIN_INSYNC_REPLICAS; ``None``: unset), its
    ``min.insync.replicas`` in its config (a spec's own config wins).
    """
    wanted = {spec.name: spec for spec in specs}
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise TransientError(f"cannot reach Kafka to list topics: {exc.args[0]}",
                             hint="is the broker running? check STREAMS_BROKER") from exc
    for name, spec in wanted.items():
        existing = metadata.topics.get(name)
        if existing is not None and existing.error is None and len(existing.partitions) != spec.partitions:
            raise ConfigError(
                f"topic {name!r} has {len(existing.partitions)} partitions, the app declares {spec.partitions}",
                hint="set STREAMS_TOPIC_PARTITIONS to match, or recreate the topic",
            )
    # Warned of, never refused: with a broker down the live ones are fewer than the factor, and the topics
    # that exist must still open (the registry, the audit log restarting during an outage).
    wanted_factor = replication_factor or default_factor(cluster_size(metadata))
    for line in under_replicated(metadata, wanted, wanted_factor):
        log.warning(line)
    missing = [spec for name, spec in wanted.items() if name not in metadata.topics]
    if not missing:
        return []
    replication = decide_replication(len(metadata.brokers), factor=replication_factor, min_insync=min_insync_replicas)
    futures = admin.create_topics(
        [NewTopic(s.name, s.partitions, replication.factor, config={**replication.topic_config(), **s.config})
         for s in missing]
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TransientError(f"could not create topic {name!r}: {exc.args[0].str()}") from exc
    _wait_listed(admin, {spec.name: spec.partitions for spec in missing}, timeout)
    return created


def _wait_listed(admin: AdminClient, partitions: dict[str, int], timeout: float) -> None:
    """Until the cluster's metadata lists each topic with its partitions: a consumer that subscribes before
    then may not see a topic just created (and aiokafka then ignores it for good)."""
    deadline = time.monotonic() + timeout
    while True:
        topics = admin.list_topics(timeout=timeout).topics
        late = [name for name, count in partitions.items()
                if name not in topics or topics[name].error is not None or len(topics[name].partitions) != count]
        if not late:
            return
        if time.monotonic() > deadline:
            raise TransientError(f"topics created but not yet in the cluster's metadata after {timeout:.0f}s: "
                                 f"{', '.join(sorted(late))}", hint="is the broker overloaded? start again")
        time.sleep(0.1)


def under_replicated(metadata: Any, names: Iterable[str], factor: int) -> list[str]:
    """A warning for each existing topic of ``names`` with fewer copies than ``factor``: created before the
    replication factor was raised (or on a smaller cluster), it is not changed by the app; Kafka's partition
    reassignment does that, and until then the topic is lost with fewer brokers than its siblings."""
    lines = []
    for name in names:
        existing = metadata.topics.get(name)
        if existing is None or existing.error is not None or not existing.partitions:
            continue
        copies = min(len(partition.replicas) for partition in existing.partitions.values())
        if copies < factor:
            lines.append(f"topic {name!r} has {copies} cop{'y' if copies == 1 else 'ies'} of a partition, fewer than "
                         f"the replication factor {factor} of the app's topics (it existed before): raise it with "
                         "kafka-reassign-partitions.sh")
    return lines
