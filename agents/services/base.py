"""What the simulated services share: a command, a reply, the memory of replies, and deterministic chance.

Idempotency is by command id (the command's ``event_id`` header; the saga derives it from the order and the
command, so a retry of a step re-sends the same id).  A service keeps, per command id, the reply it gave, and
answers a command seen again with that reply, unchanged: the same event id (derived from the command id), the same
content, the same time; nothing is applied twice.

Failures by rate are decided by a hash of the command id, not by a random draw: a re-sent command gets the same
answer, and a test knows which commands fail.

Times in replies are epoch milliseconds (what Avro ``timestamp-millis`` carries, and what a table's JSON keeps
exactly), so a stored reply encodes to the same record every time it is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from streams.envelope import derived_event_id

__all__ = ["Command", "Replies", "Reply", "chance", "epoch_ms", "reference", "remembered", "reply_row"]


@dataclass(frozen=True, slots=True)
class Command:
    """One decoded command: its id (the idempotency key), its type (short name) and its Avro fields."""

    command_id: str
    name: str
    fields: Mapping[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.fields["order_id"])


@dataclass(frozen=True, slots=True)
class Reply:
    """The event a service answers with: its type, its Avro fields (times in epoch ms) and when it happened.

    ``outcome`` names what the service decided (a metric label: ``authorized``, ``out_of_stock``...);
    ``repeated`` is true when this is the reply remembered for a command seen before (not stored).
    """

    event_type: str
    fields: Mapping[str, Any]
    occurred_ms: int
    outcome: str
    repeated: bool = False

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromtimestamp(self.occurred_ms / 1000, UTC)

    def to_json(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "fields": dict(self.fields), "occurred_ms": self.occurred_ms,
                "outcome": self.outcome}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        return cls(event_type=str(data["event_type"]), fields=dict(data["fields"]),
                   occurred_ms=int(data["occurred_ms"]), outcome=str(data["outcome"]))


@dataclass(frozen=True, slots=True)
class Replies:
    """The replies a service gave, by command id: the whole state of a service that keeps nothing else."""

    replies: Mapping[str, Reply] = field(default_factory=dict)

    def remember(self, command: Command, reply: Reply) -> Replies:
        return Replies({**self.replies, command.command_id: reply})

    def rows(self) -> dict[str, Any]:
        """The table rows of this state: ``reply/<command id>``."""
        return {reply_row(command_id): reply.to_json() for command_id, reply in self.replies.items()}

    @classmethod
    def from_rows(cls, rows: Mapping[str, Any]) -> Replies:
        """The state these rows hold (absent rows, ``None``, are left out)."""
        return cls({key.removeprefix("reply/"): Reply.from_json(value) for key, value in rows.items()
                    if value is not None and key.startswith("reply/")})


def reply_row(command_id: str) -> str:
    """The table row of the reply given to ``command_id``."""
    return f"reply/{command_id}"


def remembered(replies: Mapping[str, Reply], command: Command) -> Reply | None:
    """The reply given to ``command`` before, marked ``repeated``; None for a command not seen yet."""
    reply = replies.get(command.command_id)
    return None if reply is None else replace(reply, repeated=True)


def epoch_ms(moment: datetime) -> int:
    """An aware time as Avro ``timestamp-millis`` carries it."""
    return int(moment.timestamp() * 1000)


def chance(command_id: str, what: str) -> float:
    """A number in [0, 1) fixed by the command id and ``what`` is decided (the rate it is compared with)."""
    digest = hashlib.sha256(f"{what}/{command_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def reference(prefix: str, command_id: str) -> str:
    """A service's reference (payment, reservation, shipment id) for what ``command_id`` made: ``pay-<uuid>``."""
    return f"{prefix}-{derived_event_id(command_id, prefix)}"
