"""The worker's consumer reads committed records only (``read_committed``).

faust-streaming builds its aiokafka consumer in ``AIOKafkaConsumerThread._create_worker_consumer``
with ``isolation_level="read_uncommitted"`` unless the app runs Faust's exactly-once mode, and has
no setting for it.  Read uncommitted, an agent would apply records of a transaction that is later
aborted (any transactional producer writing to a source topic: another service, a replay tool), and
a table would restore them from a changelog.  aiokafka keeps the level it is given until ``start``
builds its fetcher, so the consumer Faust builds is set to ``read_committed`` before it starts
(both pinned in ``pins``).  With no transaction on a topic the two levels read the same records.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["READ_COMMITTED", "CommittedConsumerThread"]

READ_COMMITTED = "read_committed"


class CommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = READ_COMMITTED  # read by AIOKafkaConsumer.start, when it builds the fetcher
        return consumer
