"""The order saga's step function: ``advance(state, input, now, policy) -> Decision``.  Pure: no Faust, no Kafka.

One saga per order, orchestrated: the saga alone sends commands, one step at a time, and waits for the step's
reply (an event on ``orders``)::

    payment ──ok──▶ inventory ──ok──▶ shipment ──ok──▶ OrderCompleted
       │fail            │fail             │fail
       ▼                ▼                 ▼
    OrderFailed ◀── refund ◀────────── release

The rules, each tested on its own (tests/unit/saga):

* **Timeouts.** Each command is sent with a deadline; the timer loop turns a deadline that passed into a ``Timer``
  input.  The command is sent again (the same command id: the service answers it once) with twice the wait, jittered,
  up to ``max_attempts`` sends; then a forward step counts as failed, and a compensation that never answers leaves
  the saga ``stuck`` (an operator's ``Retry`` sends it again).  A timer of another step or attempt is stale: ignored.
* **Compensations** undo the forward steps that succeeded, last first, one at a time, each with its own timeout.
  A saga that compensated something, or was cancelled, ends ``compensated``; one with nothing to undo ends
  ``failed``.  Unless the order was cancelled, the saga then writes OrderFailed (once).  A saga counts as ended once,
  at its first end, even if a late success opens it again.
* **Cancellation** (OrderCancelled) while the saga runs abandons the step in flight and compensates what was done;
  after the saga ended it changes nothing (counted as too late).
* **Duplicates.** An event id the saga has handled, or a reply it has already taken under another id (a success it
  recorded, a failure it acted on), changes nothing (counted).
* **Late replies.** A success for a step the saga stopped waiting for (it timed out, or the order was cancelled
  while the command was in flight) happened all the same: the saga undoes it (a late payment is refunded, a late
  reservation released).  A late failure changes nothing.  A late shipment cannot be undone (the goods left, and
  no command cancels a shipment): the saga drops the compensations it has not sent yet and stops ``stuck``, its
  reason saying so, for a person to act on.  A reply to a command the saga never sent is recorded as unexpected and
  changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.saga.state import (
    COMMANDS,
    COMPENSATION,
    FORWARD,
    INPUTS,
    REPLIES,
    Command,
    Decision,
    Emitted,
    HistoryEntry,
    Reply,
    Retry,
    SagaInput,
    SagaState,
    Step,
    Timer,
    iso,
    record_id,
)

__all__ = ["SagaPolicy", "advance"]

_MAX_REASON = 1000  # what OrderFailed's reason may hold


@dataclass(frozen=True)
class SagaPolicy:
    step_timeout_s: float
    max_attempts: int
    warehouse: str

    def wait(self, order_id: str, step: str, attempt: int) -> float:
        """Seconds the ``attempt``-th send of a step waits: the timeout doubled per attempt, times 0.8 to 1.2 (a
        jitter fixed by the order, step and attempt, so sagas timed out together do not retry together)."""
        digest = hashlib.sha256(f"{order_id}/{step}/{attempt}".encode()).digest()
        jitter = 0.8 + 0.4 * int.from_bytes(digest[:4], "big") / 2**32
        return float(self.step_timeout_s * 2 ** (attempt - 1) * jitter)


def advance(state: SagaState | None, message: SagaInput, now: datetime, policy: SagaPolicy) -> Decision:
    """What ``message`` does to the saga ``state`` (None: no saga yet) at ``now``."""
    if isinstance(message, Timer):
        return _on_timer(state, message, now, policy)
    if isinstance(message, Retry):
        return _on_retry(state, message, now, policy)
    if message.event_type not in INPUTS:  # an event the saga has no part in (its own OrderCompleted, OrderShipped...)
        return Decision(None)
    if state is None:
        if message.event_type == "OrderPlaced":
            return _start(message, now, policy)
        return Decision(None, notes=[("orphan", message.event_type)])
    if any(entry["id"] == message.event_id for entry in state["history"]):
        return Decision(None, notes=[("duplicate", message.event_type)])
    if message.event_type == "OrderPlaced":  # the same order placed again under another event id
        return Decision(None, notes=[("duplicate", message.event_type)])
    if message.event_type == "OrderCancelled":
        return _on_cancel(state, message, now, policy)
    return _on_reply(state, message, now, policy)


class _Run:
    """One input's work on a copy of the state: the records it sends and what it counts."""

    def __init__(self, state: SagaState, now: datetime, policy: SagaPolicy, cause: str) -> None:
        self.state = state
        # a saga is counted as ended once, at its first end: one a late success opened again is not counted again
        self.ended = (state["status"] in ("completed", "failed", "compensated")
                      or any(entry["kind"] == "reopened" for entry in state["history"]))
        self.now = now
        self.policy = policy
        self.cause = cause
        self.commands: list[Command] = []
        self.events: list[Emitted] = []
        self.notes: list[tuple[str, str]] = []

    @classmethod
    def on(cls, state: SagaState, now: datetime, policy: SagaPolicy, cause: str) -> _Run:
        return cls(copy.deepcopy(state), now, policy, cause)

    def decision(self) -> Decision:
        return Decision(self.state, self.commands, self.events, self.notes)

    def log(self, kind: str, type_: str, id_: str, *, step: str | None = None, attempt: int | None = None) -> None:
        self.state["history"].append(HistoryEntry(at=iso(self.now), kind=kind, type=type_, id=id_,
                                                  causation_id=self.cause, step=step, attempt=attempt))

    def send(self, step: Step, attempt: int) -> None:
        service, name = COMMANDS[step]
        state = self.state
        ident = record_id(state["order_id"], name)
        self.commands.append(Command(service, name, ident, self.cause, _command_fields(state, step, self.policy)))
        state["step"], state["attempt"] = step, attempt
        wait = self.policy.wait(state["order_id"], step, attempt)
        state["deadline"] = iso(self.now + timedelta(seconds=wait))
        self.log("command", name, ident, step=step, attempt=attempt)

    def succeeded(self, step: Step, fields: Mapping[str, Any]) -> None:
        self.state["done"][step] = _effect(step, fields)
        following = FORWARD.index(step) + 1
        if following < len(FORWARD):
            self.send(FORWARD[following], 1)
        else:
            self.end("completed")
            self.emit("OrderCompleted", {"completed_at": self.now})

    def fail(self, step: Step, reason: str) -> None:
        """A forward step failed (its service said so, or it never answered): undo what was done."""
        state = self.state
        state["reason"], state["failed_step"] = reason, step
        state["compensating"] = True
        state["undo"] = [COMPENSATION[done] for done in reversed(FORWARD)
                         if done in state["done"] and done in COMPENSATION]
        self.compensate_next()

    def compensate_next(self) -> None:
        state = self.state
        if state["undo"]:
            self.send(state["undo"].pop(0), 1)
            return
        self.end("compensated" if state["compensations"] or state["cancelled"] else "failed")
        if not state["cancelled"]:
            reason = (state["reason"] or "the order saga failed")[:_MAX_REASON]
            self.emit("OrderFailed", {"reason": reason, "failed_at": self.now})

    def end(self, status: str) -> None:
        state = self.state
        state["status"] = status  # type: ignore[typeddict-item]  # one of Status, by the callers
        state["step"], state["deadline"] = None, None
        state["ended_at"] = iso(self.now)
        if not self.ended:
            self.ended = True
            self.notes.append((status, state["failed_step"] or "shipment"))

    def emit(self, name: str, fields: dict[str, Any]) -> None:
        state = self.state
        if name in state["emitted"]:
            return
        state["emitted"].append(name)
        ident = record_id(state["order_id"], name)
        self.events.append(Emitted(name, ident, self.cause, {"order_id": state["order_id"], **fields}))
        self.log("event", name, ident)


def _start(placed: Reply, now: datetime, policy: SagaPolicy) -> Decision:
    fields = placed.fields
    lines = [{"sku": item["sku"], "quantity": int(item["quantity"])} for item in fields["items"]]
    state = SagaState(
        order_id=fields["order_id"], correlation_id=placed.correlation_id, status="running", step=None, attempt=0,
        deadline=None, compensating=False, cancelled=False, reason=None, failed_step=None,
        order={"customer_id": fields["customer_id"], "total_minor": int(fields["total_minor"]),
               "currency": fields["currency"], "lines": lines, "warehouse": policy.warehouse},
        done={}, undo=[], compensations=[], emitted=[], started_at=iso(now), ended_at=None, history=[],
    )
    run = _Run(state, now, policy, placed.event_id)
    run.log("reply", placed.event_type, placed.event_id)
    run.notes.append(("started", "payment"))
    run.send("payment", 1)
    return run.decision()


def _on_reply(state: SagaState, reply: Reply, now: datetime, policy: SagaPolicy) -> Decision:
    step, ok = REPLIES[reply.event_type]
    run = _Run.on(state, now, policy, reply.event_id)
    awaited = state["step"] == step and state["status"] in ("running", "stuck")
    if awaited:
        run.log("reply", reply.event_type, reply.event_id, step=step, attempt=state["attempt"])
        run.state["status"] = "running"
        if step not in FORWARD:
            run.state["compensations"].append(step)
            run.compensate_next()
        elif ok:
            run.succeeded(step, reply.fields)
        else:
            run.fail(step, f"{reply.event_type}: {reply.fields.get('reason', 'no reason given')}")
        return run.decision()
    if step in state["done"] or step in state["compensations"] or _taken(state, reply.event_type):
        return Decision(None, notes=[("duplicate", reply.event_type)])  # the same outcome under another event id
    if not _sent(state, step):  # nobody was asked: not this saga's to act on
        run.log("unexpected", reply.event_type, reply.event_id, step=step)
        run.notes.append(("unexpected", reply.event_type))
        return run.decision()
    run.log("late", reply.event_type, reply.event_id, step=step)
    run.notes.append(("late", reply.event_type))
    undo = COMPENSATION.get(step)
    if not ok or step not in FORWARD:
        return run.decision()
    run.state["done"][step] = _effect(step, reply.fields)  # it happened after all
    if undo is None:  # the shipment: the goods left, nothing undoes that, and what is still to undo waits for a person
        run.state["undo"], run.state["compensating"] = [], False
        run.state["status"], run.state["step"], run.state["deadline"] = "stuck", None, None
        run.state["reason"] = (f"{reply.event_type} came after the saga gave up on the shipment ({state['reason']}); "
                               "no command cancels a shipment: a person decides what the customer gets")[:_MAX_REASON]
        run.notes.append(("stuck", step))
    else:  # undo it, before the compensations still to run
        run.state["compensating"] = True
        run.state["undo"].insert(0, undo)
        if state["status"] in ("failed", "compensated"):
            run.state["status"], run.state["ended_at"] = "running", None
            run.log("reopened", reply.event_type, reply.event_id, step=step)
            run.compensate_next()
    return run.decision()


def _on_cancel(state: SagaState, cancel: Reply, now: datetime, policy: SagaPolicy) -> Decision:
    run = _Run.on(state, now, policy, cancel.event_id)
    run.log("cancel", cancel.event_type, cancel.event_id, step=state["step"])
    status = state["status"]
    if status in ("completed", "failed", "compensated"):
        run.notes.append(("cancel_too_late", status))
        return run.decision()
    run.state["cancelled"] = True
    if status == "running" and not state["compensating"]:
        assert state["step"] is not None
        run.notes.append(("cancelled", state["step"]))
        run.state["reason"] = f"cancelled: {cancel.fields.get('reason', 'no reason given')}"
        run.state["failed_step"] = state["step"]
        run.state["compensating"] = True
        run.state["undo"] = [COMPENSATION[done] for done in reversed(FORWARD)
                             if done in state["done"] and done in COMPENSATION]
        run.compensate_next()
    return run.decision()


def _on_timer(state: SagaState | None, timer: Timer, now: datetime, policy: SagaPolicy) -> Decision:
    if (state is None or state["status"] != "running" or state["step"] != timer.step
            or state["attempt"] != timer.attempt):
        return Decision(None, notes=[("stale_timer", timer.step)])
    run = _Run.on(state, now, policy, timer.event_id)
    run.log("timeout", "SagaTimer", timer.event_id, step=timer.step, attempt=timer.attempt)
    run.notes.append(("timed_out", timer.step))
    if timer.attempt < policy.max_attempts:
        run.notes.append(("retried", timer.step))
        run.send(timer.step, timer.attempt + 1)
    elif timer.step in FORWARD:
        run.fail(timer.step, f"{timer.step} did not answer after {timer.attempt} attempts")
    else:
        run.state["status"], run.state["deadline"] = "stuck", None
        run.state["reason"] = f"{COMMANDS[timer.step][1]} did not answer after {timer.attempt} attempts"
        run.notes.append(("stuck", timer.step))
    return run.decision()


def _on_retry(state: SagaState | None, retry: Retry, now: datetime, policy: SagaPolicy) -> Decision:
    if state is None or state["status"] != "stuck" or state["step"] is None:
        return Decision(None, notes=[("retry_ignored", "")])
    run = _Run.on(state, now, policy, retry.event_id)
    run.log("retry", "SagaRetry", retry.event_id, step=state["step"])
    run.state["status"] = "running"
    run.notes.append(("retried", state["step"]))
    run.send(state["step"], 1)
    return run.decision()


def _taken(state: SagaState, event_type: str) -> bool:
    """Whether the saga already acted on a reply of this type (another event id: the same outcome told twice)."""
    return any(entry["kind"] == "reply" and entry["type"] == event_type for entry in state["history"])


def _sent(state: SagaState, step: Step) -> bool:
    return any(entry["kind"] == "command" and entry["step"] == step for entry in state["history"])


def _effect(step: Step, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What a forward step's success leaves that its compensation needs."""
    if step == "payment":
        return {"payment_id": fields["payment_id"], "amount_minor": int(fields["amount_minor"]),
                "currency": fields["currency"]}
    if step == "inventory":
        return {"reservation_id": fields["reservation_id"]}
    return {"shipment_id": fields.get("shipment_id"), "tracking_number": fields.get("tracking_number")}


def _command_fields(state: SagaState, step: Step, policy: SagaPolicy) -> dict[str, Any]:
    order, done, order_id = state["order"], state["done"], state["order_id"]
    if step == "payment":
        return {"order_id": order_id, "customer_id": order["customer_id"], "amount_minor": order["total_minor"],
                "currency": order["currency"]}
    if step == "inventory":
        return {"order_id": order_id, "lines": order["lines"], "warehouse": _warehouse(state, policy)}
    if step == "shipment":
        return {"order_id": order_id, "customer_id": order["customer_id"], "lines": order["lines"]}
    if step == "refund":
        paid = done["payment"]
        return {"order_id": order_id, "payment_id": paid["payment_id"], "amount_minor": paid["amount_minor"],
                "currency": paid["currency"], "reason": state["reason"] or "compensation"}
    return {"order_id": order_id, "reservation_id": done["inventory"]["reservation_id"], "lines": order["lines"],
            "warehouse": _warehouse(state, policy)}


def _warehouse(state: SagaState, policy: SagaPolicy) -> str:
    """The warehouse the saga chose when it started: a resend or a release goes where the reservation was made,
    whatever the setting says now (a saga started before the setting was kept has none: the setting's)."""
    return str(state["order"].get("warehouse") or policy.warehouse)
