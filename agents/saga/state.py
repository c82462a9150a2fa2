"""The saga's state and what goes in and out of its step function, as plain data.

A saga's state is a JSON-able dict (a Faust table value, and what ``GET /sagas/{order_id}`` shows); inputs and
outputs of ``agents.saga.steps.advance`` are frozen dataclasses.  No Faust, no Kafka here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from streams.envelope import derived_event_id

__all__ = [
    "COMMANDS", "COMPENSATION", "FORWARD", "INPUTS", "REPLIES", "Command", "Decision", "Emitted", "HistoryEntry",
    "Reply", "Retry", "SagaInput", "SagaState", "Status", "Step", "Timer", "iso", "record_id",
]

Status = Literal["running", "completed", "failed", "compensated", "stuck"]
Step = Literal["payment", "inventory", "shipment", "release", "refund"]

FORWARD: tuple[Step, ...] = ("payment", "inventory", "shipment")
"""The steps in order; each one's success starts the next, the last one's completes the order."""

COMPENSATION: Mapping[Step, Step] = {"payment": "refund", "inventory": "release"}
"""What undoes a forward step that succeeded (a shipment created is the last step: nothing comes after it)."""

COMMANDS: Mapping[Step, tuple[str, str]] = {
    "payment": ("payments", "AuthorizePayment"),
    "inventory": ("inventory", "ReserveInventory"),
    "shipment": ("shipping", "CreateShipment"),
    "refund": ("payments", "RefundPayment"),
    "release": ("inventory", "ReleaseInventory"),
}
"""Each step's command: the service (its topic, before any prefix) and the command's type."""

REPLIES: Mapping[str, tuple[Step, bool]] = {
    "PaymentAuthorized": ("payment", True),
    "PaymentFailed": ("payment", False),
    "InventoryReserved": ("inventory", True),
    "InventoryReservationFailed": ("inventory", False),
    "ShipmentCreated": ("shipment", True),
    "ShipmentFailed": ("shipment", False),
    "PaymentRefunded": ("refund", True),
    "InventoryReleased": ("release", True),
}
"""Each reply event: the step it answers, and whether it says the step succeeded."""

INPUTS: tuple[str, ...] = ("OrderPlaced", "OrderCancelled", *REPLIES)
"""The order events the saga acts on: what its inbox takes from ``orders`` (``agents.saga.inbox.INBOX_RULES``)."""


class HistoryEntry(TypedDict):
    at: str  # ISO 8601 UTC, when the saga handled it
    kind: str  # command, reply, timeout, late, reopened, unexpected, cancel, retry, event
    type: str  # the command's, event's or timer's type
    id: str  # the command id, the event id, or the timer's id
    causation_id: str | None
    step: str | None
    attempt: int | None


class SagaState(TypedDict):
    order_id: str
    correlation_id: str
    status: Status
    step: Step | None  # what the saga waits for; None once it ended
    attempt: int  # sends of the current step's command
    deadline: str | None  # ISO 8601 UTC: when the current step times out
    compensating: bool
    cancelled: bool
    reason: str | None  # why the saga failed or compensated
    failed_step: Step | None  # the forward step that failed, timed out or was cancelled
    order: dict[str, Any]  # what the commands need: customer_id, total_minor, currency, lines, warehouse
    done: dict[str, dict[str, Any]]  # forward steps that succeeded, with what undoing them needs
    undo: list[Step]  # compensations still to run, the next first
    compensations: list[Step]  # compensations run
    emitted: list[str]  # events the saga wrote on orders (OrderCompleted, OrderFailed)
    started_at: str
    ended_at: str | None
    history: list[HistoryEntry]


@dataclass(frozen=True)
class Reply:
    """An order event the saga reacts to: a service's reply, OrderPlaced, OrderCancelled."""

    event_type: str
    event_id: str  # the event's own id (a fan-out copy names it as its causation id)
    correlation_id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Timer:
    """A step's deadline passed: written by the timer loop, one per (step, attempt)."""

    step: Step
    attempt: int
    event_id: str


@dataclass(frozen=True)
class Retry:
    """An operator asks a stuck saga to try its step again (``POST /sagas/{order_id}/retry``)."""

    event_id: str


SagaInput = Reply | Timer | Retry


@dataclass(frozen=True)
class Command:
    service: str  # the topic, before any prefix
    name: str
    command_id: str
    causation_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Emitted:
    """An event the saga writes on orders (OrderCompleted, OrderFailed)."""

    name: str
    event_id: str
    causation_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """What one input does: the new state (None: nothing to write), the records to send, and what to count."""

    state: SagaState | None
    commands: list[Command] = field(default_factory=list)
    events: list[Emitted] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (what happened, step or type), for metrics


def record_id(order_id: str, name: str) -> str:
    """The id of the command or event ``name`` the saga of ``order_id`` writes: the same every time, so a service
    that sees a command again (a retry, a re-send after a crash) knows it is the same command, and orders
    deduplicates an event written again."""
    return derived_event_id(f"saga/{order_id}", name)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
