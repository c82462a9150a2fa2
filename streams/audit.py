"""The audit log of operator actions (redrives, releases, offset resets, rebuilds), kept in Kafka.

One JSON record per action on the topic ``_streams_audit`` (behind
STREAMS_TOPIC_PREFIX): who (user@host), when, what kind, and the action's
details (from, to, counts).  Kafka rather than a local file, so every operator
on every machine sees the same history; one partition and no retention limit,
so it is complete and in order.  Written durably (acks=all) before the command
reports success.
"""

from __future__ import annotations

import getpass
import json
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams.producer import DurableProducer
from streams.scan import scan
from streams.settings import Settings
from streams.topics import TopicSpec, ensure_topics

__all__ = ["AUDIT_TOPIC", "AuditEntry", "AuditLog", "operator"]

AUDIT_TOPIC = "_streams_audit"


def operator() -> str:
    """Who is acting: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class AuditEntry:
    id: str
    kind: str
    who: str
    when: str
    details: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "who": self.who, "when": self.when, "details": dict(self.details)}


class AuditLog:
    def __init__(self, settings: Settings) -> None:
        self.kafka = settings.kafka
        self.topic = f"{settings.topic_prefix}{AUDIT_TOPIC}"
        self.replication_factor, self.min_insync_replicas = settings.replication_factor, settings.min_insync_replicas

    def write(self, kind: str, details: Mapping[str, Any], *, entry_id: str | None = None) -> AuditEntry:
        entry = AuditEntry(id=entry_id or str(uuid.uuid4()), kind=kind, who=operator(),
                           when=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                           details=details)
        ensure_topics(self.kafka.admin(),
                      [TopicSpec(self.topic, 1, {"retention.ms": "-1"})],
                      replication_factor=self.replication_factor, min_insync_replicas=self.min_insync_replicas)
        producer = DurableProducer(self.kafka, client_id="streams-audit")
        try:
            producer.produce(self.topic, kind.encode(), json.dumps(entry.to_json()).encode()).result(timeout=30)
        finally:
            producer.close()
        return entry

    def read(self, kinds: Iterable[str] | None = None) -> list[AuditEntry]:
        """Every entry, oldest first; only of ``kinds`` when given."""
        wanted = set(kinds) if kinds is not None else None
        entries = []
        for record in scan(self.kafka, self.topic, missing_ok=True):
            try:
                body = json.loads(record.value or b"")
                entry = AuditEntry(id=body["id"], kind=body["kind"], who=body["who"], when=body["when"],
                                   details=body.get("details", {}))
            except (ValueError, KeyError, TypeError):
                continue
            if wanted is None or entry.kind in wanted:
                entries.append(entry)
        return entries
