"""Whether a record processed again after a crash was dead-lettered (or parked) the first time.

A record past its partition's resume point is judged again after a crash
(``streams.recordpath.protocol``), and judged the same: a poison record is
dead-lettered again.  Its first dead letter may have reached the topic before
the crash, so before writing a letter the dead-letter topic is looked at: one
scan per topic after each rebalance, when the first letter is due (dead-letter
topics are small), then a set lookup by the letter's origin (topic, partition,
offset), the letters written since added to the set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from streams import headers as h
from streams.connection import KafkaConnection
from streams.recordpath.records import RawRecord, header
from streams.scan import scan

__all__ = ["DeadLetterIndex"]

Origin = tuple[str, int, int]


class DeadLetterIndex:
    def __init__(self, kafka: KafkaConnection, *, epoch: Callable[[], int]) -> None:
        """``epoch()``: changes with every rebalance (what was scanned before it is scanned again)."""
        self.kafka = kafka
        self.epoch = epoch
        self._origins: dict[str, set[Origin]] = {}
        self._scanned_in: dict[str, int] = {}

    async def written(self, dlq_topic: str, record: RawRecord) -> bool:
        """True if ``dlq_topic`` already holds a letter of ``record``; else it is noted as written now.

        Every letter is looked up, not only those up to the horizon: a crashed worker's letter can reach its
        topic while the changelog record that would have put its offset under the horizon did not."""
        epoch = self.epoch()
        if self._scanned_in.get(dlq_topic) != epoch:
            self._origins[dlq_topic] = await asyncio.to_thread(self._scan, dlq_topic)
            self._scanned_in[dlq_topic] = epoch
        origin = (record.topic, record.partition, record.offset)
        if origin in self._origins[dlq_topic]:
            return True
        self._origins[dlq_topic].add(origin)
        return False

    def _scan(self, dlq_topic: str) -> set[Origin]:
        origins: set[Origin] = set()
        for letter in scan(self.kafka, dlq_topic, missing_ok=True):
            topic, partition, offset = (header(letter.headers, name) for name in (
                h.DLQ_ORIGINAL_TOPIC, h.DLQ_ORIGINAL_PARTITION, h.DLQ_ORIGINAL_OFFSET))
            if topic is not None and partition is not None and offset is not None:
                origins.add((topic.decode(), int(partition), int(offset)))
        return origins
