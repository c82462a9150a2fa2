"""Blue/green rebuilds of a read model: the plan the CLI writes and the worker follows.

``streams replay --rebuild <read model>`` resets the group's offsets on the
read model's source topic and records a ``RebuildPlan``: the new generation
and, per partition, the *switch offset* (where the group had got to, so where
the old generation is complete).  A worker that starts with an unfinished plan
keeps two tables for the read model:

* the old generation keeps serving reads, complete up to the switch offsets
  (frozen there: new events are applied once the replay reaches them);
* the new generation gets every replayed event, and, per partition, takes
  over reads once the replay has applied everything below that partition's
  switch offset.  A query never sees a half-built read model.

While a partition replays below its switch offset, the agent only rebuilds:
no fan-out, dead letters or deltas (they were sent the first time).

Plans live in the compacted topic ``_streams_rebuilds`` (behind
STREAMS_TOPIC_PREFIX), keyed ``<group>/<read model>``: the latest plan wins.

The same topic keeps each group's *replay floors* (key ``<group>/@floors``):
for every partition a plain replay moved back, where the group had got before
(the highest such offset over every replay).  What lies below a floor is in the
read models' changelogs, so a worker resumes there, whatever its local disk
holds (``streams.recordpath.protocol``): a replay judges nothing again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.audit import operator
from streams.producer import DurableProducer
from streams.recordpath.protocol import format_tp, parse_tp
from streams.scan import scan
from streams.settings import Settings
from streams.topics import TopicSpec, ensure_topics

__all__ = ["FLOORS", "REBUILDS_TOPIC", "RebuildLog", "RebuildPlan", "table_name"]

REBUILDS_TOPIC = "_streams_rebuilds"
FLOORS = "@floors"


def table_name(read_model: str, generation: int) -> str:
    """The table of a read model's generation: the plain name for the first, ``<name>-g<n>`` after."""
    return read_model if generation == 0 else f"{read_model}-g{generation}"


@dataclass(frozen=True)
class RebuildPlan:
    group: str
    read_model: str
    generation: int
    topic: str
    switch: Mapping[int, int]  # partition -> offset below which the old generation is complete
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    requested_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    by: str = field(default_factory=operator)

    @property
    def key(self) -> str:
        return f"{self.group}/{self.read_model}"

    def pending(self, committed: Mapping[int, int | None]) -> list[int]:
        """Partitions whose replay has not yet reached the switch offset (by the group's committed offsets)."""
        return sorted(p for p, offset in self.switch.items() if offset > 0 and (committed.get(p) or 0) < offset)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "group": self.group, "read_model": self.read_model, "generation": self.generation,
                "topic": self.topic, "switch": {str(p): o for p, o in self.switch.items()},
                "requested_at": self.requested_at, "by": self.by}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RebuildPlan:
        return cls(group=body["group"], read_model=body["read_model"], generation=int(body["generation"]),
                   topic=body["topic"], switch={int(p): int(o) for p, o in body["switch"].items()}, id=body["id"],
                   requested_at=body["requested_at"], by=body["by"])


class RebuildLog:
    def __init__(self, settings: Settings) -> None:
        self.kafka = settings.kafka
        self.topic = f"{settings.topic_prefix}{REBUILDS_TOPIC}"
        self.replication_factor, self.min_insync_replicas = settings.replication_factor, settings.min_insync_replicas

    def latest(self, group: str) -> dict[str, RebuildPlan]:
        """The latest plan of each read model of ``group``."""
        plans: dict[str, RebuildPlan] = {}
        for record in scan(self.kafka, self.topic, missing_ok=True):
            key = (record.key or b"").decode(errors="replace")
            if not key.startswith(f"{group}/"):
                continue
            if record.value is None:  # withdrawn
                plans.pop(key.removeprefix(f"{group}/"), None)
                continue
            try:
                found = RebuildPlan.from_json(json.loads(record.value))
            except (ValueError, KeyError, TypeError):
                continue
            plans[found.read_model] = found
        return plans

    def floors(self, group: str) -> dict[tuple[str, int], int]:
        """Per (topic, partition), where ``group`` had got before the replays that moved it back."""
        found: dict[tuple[str, int], int] = {}
        for record in scan(self.kafka, self.topic, missing_ok=True):
            if record.key == f"{group}/{FLOORS}".encode() and record.value is not None:
                found = {parse_tp(k): int(v) for k, v in json.loads(record.value).items()}
        return found

    def raise_floors(self, group: str, moved_back: dict[tuple[str, int], int]) -> None:
        """Record where ``group`` had got on partitions a replay moves back (never lowering a floor)."""
        floors = self.floors(group)
        for tp, offset in moved_back.items():
            floors[tp] = max(offset, floors.get(tp, 0))
        body = {format_tp(*tp): offset for tp, offset in sorted(floors.items())}
        self._put(f"{group}/{FLOORS}", json.dumps(body).encode())

    def write(self, plan: RebuildPlan) -> None:
        self._put(plan.key, json.dumps(plan.to_json()).encode())

    def withdraw(self, plan: RebuildPlan, previous: RebuildPlan | None) -> None:
        """Undo ``write(plan)``: the previous plan is the latest again (or none, a tombstone)."""
        self._put(plan.key, json.dumps(previous.to_json()).encode() if previous is not None else None)

    def _put(self, key: str, value: bytes | None) -> None:
        ensure_topics(self.kafka.admin(),
                      [TopicSpec(self.topic, 1, {"cleanup.policy": "compact"})],
                      replication_factor=self.replication_factor, min_insync_replicas=self.min_insync_replicas)
        producer = DurableProducer(self.kafka, client_id="streams-rebuild")
        try:
            producer.produce(self.topic, key.encode(), value).result(timeout=30)
        finally:
            producer.close()

